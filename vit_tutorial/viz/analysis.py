"""Figures for chapter 10: what a trained ViT attends to and what it learned.

Attention weights come as the model returns them,
``model(images, return_attention=True)[1]``: a list of L tensors of shape
(B, h, T, T) with T = 1 + rows * cols (the class token first). Images are
tensors (C, H, W) or batches (B, C, H, W) with C = 1 or 3; standardised
images are fine (they are min-max scaled for display). The patch grid is
inferred from T (it must be square) and the patch size from H / rows.

Every function returns a matplotlib ``Figure`` and never calls
``plt.show()``, except :func:`animate_attention_sweep`, which returns the
HTML of a kernel-free animation (``FuncAnimation.to_jshtml``).
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
from matplotlib import patheffects
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ._checks import check_image, check_images
from .._checks import check_positive_int, check_rank
from ..analysis import query_attention_map, stack_attentions
from ..images import to_display
from ._animation import offline_jshtml

__all__ = [
    "plot_attention_grid",
    "plot_query_attention",
    "plot_rollout_maps",
    "plot_attention_distance",
    "plot_position_similarity_grid",
    "plot_filter_components",
    "animate_attention_sweep",
    "plot_deletion_curves",
]

#: How panels that are compared share a colour scale.
SCALES = ("panel", "row", "figure")

_MAP_CMAP = "inferno"
_HEAD_COLOURS = plt.get_cmap("tab10").colors


# ---------------------------------------------------------------- helpers


def _square_grid(T: int, num_prefix_tokens: int) -> int:
    """The side of the square patch grid of T tokens."""
    n = T - num_prefix_tokens
    side = math.isqrt(max(n, 0))
    if n <= 0 or side * side != n:
        raise ValueError(
            f"{T} tokens with {num_prefix_tokens} prefix token(s) leave {n} patches, "
            f"which do not form a square grid; expected T = prefix + side**2"
        )
    return side


def _check_image_fits(H: int, W: int, side: int) -> int:
    """The patch size P for a side x side grid over an H x W image."""
    if H != W or H % side != 0:
        raise ValueError(
            f"a {side}x{side} patch grid needs a square image whose side is a multiple of {side}, got {H}x{W}"
        )
    return H // side


def _draw_overlay(
    ax: plt.Axes, image: torch.Tensor, amap: torch.Tensor, alpha: float = 0.6, vmax: float | None = None
) -> matplotlib.image.AxesImage:
    """Draw the (rows, cols) attention map over ``image`` (C, H, W), each
    map cell covering its P x P patch, colour scale from 0 to the map's
    maximum (or ``vmax``). Returns the map's image (for a colour bar).

    A one-channel image (a digit) is drawn as a contour line over the map,
    so that the map's colours stay exact; an RGB photo is drawn in grey
    under the map, which is blended over it with opacity ``alpha``.
    """
    C, H, W = image.shape
    shown = to_display(image)  # (H, W) or (H, W, 3), values in [0, 1]
    a = amap.detach().float().cpu().numpy()  # (rows, cols)
    top = float(a.max()) if vmax is None else vmax
    style = dict(cmap=_MAP_CMAP, extent=(0, W, H, 0), interpolation="nearest", vmin=0.0, vmax=top if top > 0 else 1.0)
    if C == 1:
        im = ax.imshow(a, **style)
        lo, hi = float(shown.min()), float(shown.max())
        if hi > lo:
            ys, xs = np.mgrid[0:H, 0:W] + 0.5  # pixel centres
            cs = ax.contour(xs, ys, shown, levels=[lo + 0.5 * (hi - lo)], colors="#00e5ff", linewidths=1.0)
            cs.set_path_effects([patheffects.withStroke(linewidth=2.2, foreground="black")])
    else:
        ax.imshow(shown.mean(axis=-1), cmap="gray", extent=(0, W, H, 0), interpolation="nearest")
        im = ax.imshow(a, alpha=alpha, **style)
    ax.set_xlim(0, W)
    ax.set_ylim(H, 0)
    ax.set_xticks([])
    ax.set_yticks([])
    return im


def _mark_patch(ax: plt.Axes, patch: int, side: int, P: int, colour: str = "#39ff14") -> None:
    """Outline patch ``patch`` (row-major index) of a side x side grid."""
    r, c = divmod(patch, side)
    ax.add_patch(Rectangle((c * P, r * P), P, P, fill=False, edgecolor=colour, linewidth=2))


def _draw_query_overlay(ax: plt.Axes, image: torch.Tensor, amap: torch.Tensor, query: int, side: int, P: int,
                        num_prefix_tokens: int, alpha: float = 0.6,
                        vmax: float | None = None) -> matplotlib.image.AxesImage:
    """:func:`_draw_overlay`, with the query's own patch outlined when the query is a patch."""
    im = _draw_overlay(ax, image, amap, alpha, vmax=vmax)
    if query >= num_prefix_tokens:
        _mark_patch(ax, query - num_prefix_tokens, side, P)
    return im


def _query_label(query: int, side: int, num_prefix_tokens: int) -> str:
    if query < num_prefix_tokens:
        return "class token" if query == 0 else f"prefix token {query}"
    r, c = divmod(query - num_prefix_tokens, side)
    return f"patch (row {r}, col {c})"


def _check_index(index: object, size: int, name: str) -> int:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < size:
        raise ValueError(f"{name} must be an integer in [0, {size - 1}], got {index!r}")
    return index


# ---------------------------------------------------------------- attention maps


def plot_attention_grid(
    image: torch.Tensor,
    attentions: Sequence[torch.Tensor] | torch.Tensor,
    index: int = 0,
    query: int = 0,
    num_prefix_tokens: int = 1,
    include_mean: bool = True,
    alpha: float = 0.6,
    panel_size: float = 1.6,
    scale: str = "panel",
) -> Figure:
    """One query token's attention in every layer (rows) and head (columns),
    overlaid on the image: the class token's view of the image by default.

    With ``scale="panel"`` each panel has its own colour scale (0 to its
    largest weight): it shows *where* a head looks, not how strongly.
    ``"row"`` gives every layer one scale and ``"figure"`` one scale for all
    panels, so that a flat head looks flat; each panel's title then prints
    its largest weight.

    Args:
        image: the image (C, H, W) the attention was computed for.
        attentions: L tensors (B, h, T, T) or a tensor (L, B, h, T, T).
        index: which image of the batch the attention belongs to.
        query: the query token (0 = class token; prefix + i = patch i).
        num_prefix_tokens: tokens before the patches.
        include_mean: add a last column with the mean over the heads.
        alpha: opacity of the map over the image.
        panel_size: inches per panel.
        scale: ``"panel"``, ``"row"`` (one per layer) or ``"figure"``.

    Returns:
        A Figure with L rows and h (+1) columns (and a colour bar per row
        or for the figure when the scale is shared).
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
    image = check_image(image)
    maps, query, side, P = _grid_maps(image, attentions, index, query, num_prefix_tokens)  # (L, h, rows, cols)
    L, h = maps.shape[:2]
    if include_mean:
        maps = torch.cat([maps, maps.mean(dim=1, keepdim=True)], dim=1)  # (L, h+1, rows, cols)
    ncols = maps.shape[1]
    fig, axes = plt.subplots(
        L, ncols, figsize=(panel_size * ncols + 0.5, panel_size * L + 0.5), squeeze=False, layout="constrained"
    )
    for layer in range(L):
        vmax = None if scale == "panel" else float(maps[layer].max() if scale == "row" else maps.max())
        for k in range(ncols):
            ax = axes[layer, k]
            im = _draw_query_overlay(ax, image, maps[layer, k], query, side, P, num_prefix_tokens, alpha, vmax)
            _title_grid_panel(ax, "mean of heads" if k == h else f"head {k + 1}", layer, k, scale,
                              float(maps[layer, k].max()))
        if scale == "row":
            fig.colorbar(im, ax=axes[layer, :].tolist(), shrink=0.8, label="weight" if layer == 0 else None)
    if scale == "figure":
        fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.6, label="attention weight")
    fig.suptitle(f"Attention of the {_query_label(query, side, num_prefix_tokens)}, by layer and head", fontsize=10)
    return fig


def _grid_maps(image: torch.Tensor, attentions, index: object, query: object,
               num_prefix_tokens: int) -> tuple[torch.Tensor, int, int, int]:
    """:func:`plot_attention_grid`'s checks; ``(maps (L, h, rows, cols), query, side, P)`` for image ``index``."""
    A = stack_attentions(attentions)  # (L, B, h, T, T)
    L, B, h, T, _ = A.shape
    index = _check_index(index, B, "index")
    side = _square_grid(T, num_prefix_tokens)
    P = _check_image_fits(image.shape[1], image.shape[2], side)
    query = _check_index(query, T, "query")
    return query_attention_map(A[:, index], side, query, num_prefix_tokens), query, side, P


def _title_grid_panel(ax: plt.Axes, name: str, layer: int, k: int, scale: str, peak: float) -> None:
    """A panel's title (its head on the first row; its largest weight when panels share a scale) and row label."""
    if scale != "panel":
        ax.set_title((name + "\n" if layer == 0 else "") + f"max {peak:.2f}", fontsize=8)
    elif layer == 0:
        ax.set_title(name, fontsize=9)
    if k == 0:
        ax.set_ylabel(f"layer {layer + 1}", fontsize=9)


def plot_query_attention(
    image: torch.Tensor,
    attentions: Sequence[torch.Tensor] | torch.Tensor,
    layer: int,
    head: int | None = None,
    query: int = 0,
    index: int = 0,
    num_prefix_tokens: int = 1,
    alpha: float = 0.6,
) -> Figure:
    """One layer, one head (or their mean), one query: the image with the
    query marked, and the query's attention over the patches with its scale.

    Args:
        image: the image (C, H, W).
        attentions: L tensors (B, h, T, T) or a tensor (L, B, h, T, T).
        layer: the layer, 0-based.
        head: the head, 0-based, or None for the mean over the heads.
        query: the query token (0 = class token; prefix + i = patch i).
        index: which image of the batch.
        num_prefix_tokens: tokens before the patches.
        alpha: opacity of the map over the image.

    Returns:
        A Figure with two panels; the second has a colour bar of the weights
        (the share of the query's attention that goes to the class token is
        given in the title, since the map shows the patches only).
    """
    image = check_image(image)
    A = stack_attentions(attentions)  # (L, B, h, T, T)
    L, B, h, T, _ = A.shape
    layer = _check_index(layer, L, "layer")
    if head is not None:
        head = _check_index(head, h, "head")
    index = _check_index(index, B, "index")
    query = _check_index(query, T, "query")
    side = _square_grid(T, num_prefix_tokens)
    P = _check_image_fits(image.shape[1], image.shape[2], side)
    a = A[layer, index]  # (h, T, T)
    a = a.mean(dim=0) if head is None else a[head]  # (T, T)
    amap = query_attention_map(a, side, query, num_prefix_tokens)  # (rows, cols)
    to_prefix = a[query, :num_prefix_tokens].sum().item()
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(7.0, 3.4), layout="constrained")
    ax0.imshow(to_display(image), cmap="gray" if image.shape[0] == 1 else None, interpolation="nearest")
    ax0.set_xticks([])
    ax0.set_yticks([])
    label = _query_label(query, side, num_prefix_tokens)
    if query >= num_prefix_tokens:
        _mark_patch(ax0, query - num_prefix_tokens, side, P)
    ax0.set_title(f"query: {label}", fontsize=10)
    im = _draw_query_overlay(ax1, image, amap, query, side, P, num_prefix_tokens, alpha)
    who = "mean of heads" if head is None else f"head {head + 1}"
    title = f"layer {layer + 1}, {who}"
    if num_prefix_tokens:
        title += f"\n{to_prefix:.0%} of it goes to the class token"
    ax1.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax1, shrink=0.85, label="attention weight")
    return fig


def plot_rollout_maps(
    images: torch.Tensor,
    maps: torch.Tensor | Mapping[str, torch.Tensor],
    titles: Sequence[str] | None = None,
    max_cols: int = 5,
    alpha: float = 0.6,
    panel_size: float = 1.6,
    scale: str = "panel",
) -> Figure:
    """Images and one or more attention maps over each of them: a row of
    images, then one row per kind of map, wrapped every ``max_cols`` images.

    ``scale="row"`` gives every kind of map one colour scale (with a colour
    bar), so the maps of a row can be compared in strength; ``"figure"``
    one scale for all; ``"panel"`` (default) each map its own.

    Args:
        images: tensor (B, C, H, W).
        maps: tensor (B, rows, cols), e.g. ``class_token_map(attention_rollout(att), side)``,
            or a dict ``{row label: tensor (B, rows, cols)}`` to compare
            several kinds of map, one row each.
        titles: B column titles (e.g. "label 7, pred 7"), or None.
        max_cols: images per block of rows; more images start a new block below.
        alpha: opacity of the maps over RGB images.
        panel_size: inches per panel.
        scale: ``"panel"``, ``"row"`` or ``"figure"``.

    Returns:
        A Figure with ceil(B / max_cols) blocks of 1 + len(maps) rows.
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
    images = check_images(images)
    B = images.shape[0]
    named = _check_rollout_maps(images, maps, titles)
    cols = min(B, check_positive_int(max_cols, "max_cols"))
    per_block = 1 + len(named)
    blocks = math.ceil(B / cols)
    fig, axes = plt.subplots(
        per_block * blocks, cols, figsize=(panel_size * cols + 0.8, panel_size * per_block * blocks + 0.3 * blocks),
        squeeze=False, layout="constrained",
    )
    for ax in axes.flat:
        ax.axis("off")
    for b in range(B):
        block, col = divmod(b, cols)
        # one colour bar per row of maps, beside its last panel
        bar = scale != "panel" and (col == cols - 1 or b == B - 1)
        _draw_rollout_column(fig, axes, block * per_block, col, images[b], b, named, titles, alpha, scale, bar)
    return fig


def _check_rollout_maps(images: torch.Tensor, maps: object, titles: object) -> dict[str, torch.Tensor]:
    """:func:`plot_rollout_maps`'s checks of ``maps`` and ``titles``; ``{row label: maps (B, rows, cols)}``."""
    B, C, H, W = images.shape
    named = {"attention": maps} if isinstance(maps, torch.Tensor) else dict(maps) if isinstance(maps, Mapping) else None
    if not named:
        raise ValueError(f"maps must be a tensor (B, rows, cols) or a non-empty dict of them, got {type(maps).__name__}")
    for name, m in named.items():
        check_rank(m, 3, f"maps[{name!r}]", "(B, rows, cols)")
        if m.shape[0] != B:
            raise ValueError(f"maps[{name!r}] has {m.shape[0]} maps for {B} images; expected one per image")
        if H % m.shape[1] or W % m.shape[2]:
            raise ValueError(f"maps[{name!r}]'s {m.shape[1]}x{m.shape[2]} grid does not tile a {H}x{W} image")
    if titles is not None and not isinstance(titles, (list, tuple)):
        raise ValueError(f"titles must be a list of {B} strings or None, got {type(titles).__name__}")
    if titles is not None and len(titles) != B:
        raise ValueError(f"titles must have one entry per image ({B}), got {len(titles)}")
    return named


def _draw_rollout_column(fig: Figure, axes: np.ndarray, top: int, col: int, image: torch.Tensor, b: int,
                         named: Mapping[str, torch.Tensor], titles: Sequence[str] | None, alpha: float, scale: str,
                         colour_bar: bool) -> None:
    """Image ``b`` in row ``top`` of column ``col``, and each of its maps in the rows below."""
    ax = axes[top, col]
    ax.axis("on")
    ax.imshow(to_display(image), cmap="gray" if image.shape[0] == 1 else None, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if titles is not None:
        ax.set_title(titles[b], fontsize=9)
    for r, (name, m) in enumerate(named.items(), start=1):
        axes[top + r, col].axis("on")
        vmax = None if scale == "panel" else float(
            m.max() if scale == "row" else max(float(v.max()) for v in named.values()))
        im = _draw_overlay(axes[top + r, col], image, m[b], alpha, vmax=vmax)
        if colour_bar:
            fig.colorbar(im, ax=axes[top + r, :].tolist(), shrink=0.9)
    if col == 0:
        ax.set_ylabel("image", fontsize=9)
        for r, name in enumerate(named, start=1):
            axes[top + r, 0].set_ylabel(name, fontsize=9)


def animate_attention_sweep(
    images: torch.Tensor,
    attentions: Sequence[torch.Tensor] | torch.Tensor,
    query: int = 0,
    num_prefix_tokens: int = 1,
    include_mean: bool = True,
    max_images: int = 4,
    panel_size: float = 2.2,
    dpi: int = 60,
    interval: int = 1200,
) -> str:
    """A kernel-free animation that sweeps every (layer, head) pair: each
    frame shows that head's attention for ``query`` over several images.

    Frames run layer by layer, heads in order, and (with ``include_mean``)
    the mean over the heads after each layer's heads. Frames are JPEG at a
    modest dpi so that the page stays light.

    Args:
        images: tensor (B, C, H, W), the images the attention belongs to.
        attentions: L tensors (B, h, T, T) or a tensor (L, B, h, T, T).
        query: the query token (0 = class token).
        num_prefix_tokens: tokens before the patches.
        include_mean: add a "mean of heads" frame per layer.
        max_images: show the first ``min(B, max_images)`` images.
        panel_size: inches per panel.
        dpi: resolution of the frames.
        interval: milliseconds between frames.

    Returns:
        The animation as an HTML string, for ``IPython.display.HTML``.
    """
    from matplotlib.animation import FuncAnimation

    images = check_images(images)
    maps, query, side, P = _sweep_maps(images, attentions, query, num_prefix_tokens, max_images, dpi)
    L, n, h = maps.shape[:3]  # maps: (L, n, h, rows, cols)
    # layer by layer, heads in order, then (with include_mean) the mean over the heads
    frames = [(layer, k) for layer in range(L) for k in [*range(h), *([None] if include_mean else [])]]
    with matplotlib.rc_context({"animation.frame_format": "jpeg", "savefig.dpi": dpi, "figure.dpi": dpi}):
        fig, axes = plt.subplots(1, n, figsize=(panel_size * n, panel_size + 0.45), squeeze=False, layout="constrained")

        def draw(f: int) -> list:
            layer, k = frames[f]
            for b in range(n):
                ax = axes[0, b]
                ax.clear()
                m = maps[layer, b].mean(dim=0) if k is None else maps[layer, b, k]  # (rows, cols)
                _draw_query_overlay(ax, images[b], m, query, side, P, num_prefix_tokens)
            who = "mean of heads" if k is None else f"head {k + 1} of {h}"
            fig.suptitle(f"layer {layer + 1} of {L}, {who}", fontsize=13)
            return []

        anim = FuncAnimation(fig, draw, frames=len(frames), interval=interval, blit=False)
        html = offline_jshtml(anim)
    plt.close(fig)
    return html


def _sweep_maps(images: torch.Tensor, attentions, query: object, num_prefix_tokens: int, max_images: object,
                dpi: object) -> tuple[torch.Tensor, int, int, int]:
    """:func:`animate_attention_sweep`'s checks; ``(maps (L, n, h, rows, cols), query, side, P)``."""
    A = stack_attentions(attentions)  # (L, B, h, T, T)
    L, B, h, T, _ = A.shape
    if images.shape[0] != B:
        raise ValueError(f"images has {images.shape[0]} images but the attention has B={B}; expected the same")
    check_positive_int(max_images, "max_images")
    check_positive_int(dpi, "dpi")
    query = _check_index(query, T, "query")
    side = _square_grid(T, num_prefix_tokens)
    P = _check_image_fits(images.shape[2], images.shape[3], side)
    n = min(B, max_images)
    return query_attention_map(A[:, :n], side, query, num_prefix_tokens), query, side, P


# ---------------------------------------------------------------- distance, embeddings


def plot_attention_distance(
    distances: torch.Tensor | Mapping[str, torch.Tensor],
    uniform: float | None = None,
    image_size: int | None = None,
    panel_size: tuple[float, float] = (4.2, 3.4),
) -> Figure:
    """Mean attention distance by head and depth, as in the paper's Fig. 7:
    one dot per head at each layer (x: layer, y: pixels).

    Args:
        distances: tensor (L, h) from :func:`~vit_tutorial.analysis.mean_attention_distance`,
            or a dict ``{panel title: tensor (L, h)}`` for side-by-side panels
            (e.g. a trained and an untrained model) sharing the y axis.
        uniform: draw a dashed line at this distance (what a head that
            attends uniformly scores, :func:`~vit_tutorial.analysis.uniform_attention_distance`).
        image_size: if given, the y axis runs to the image's side in pixels
            (or further, if a distance is larger).
        panel_size: (width, height) of each panel in inches.

    Returns:
        A Figure with one panel per entry.
    """
    named = _check_distances(distances, uniform, image_size)
    n = len(named)
    fig, axes = plt.subplots(
        1, n, figsize=(panel_size[0] * n, panel_size[1]), sharey=True, squeeze=False, layout="constrained"
    )
    for ax, (name, d) in zip(axes[0], named.items()):
        _draw_distance_panel(ax, name, d.detach().float().cpu().numpy(), uniform)
    axes[0, 0].set_ylabel("mean attention distance (pixels)")
    if image_size is not None:
        largest = max(float(d.max()) for d in named.values())
        axes[0, 0].set_ylim(0, max(float(image_size), 1.1 * largest))
    else:
        axes[0, 0].set_ylim(bottom=0)
    handles, labels = axes[0, -1].get_legend_handles_labels()
    if handles:
        axes[0, -1].legend(handles, labels, fontsize=8, loc="lower right", framealpha=0.9)
    return fig


def _check_distances(distances: object, uniform: object, image_size: object) -> dict[str, torch.Tensor]:
    """:func:`plot_attention_distance`'s checks; ``{panel title: distances (L, h)}``."""
    named = (
        {"": distances} if isinstance(distances, torch.Tensor) else dict(distances) if isinstance(distances, Mapping) else None
    )
    if not named:
        raise ValueError(
            f"distances must be a tensor (L, h) or a non-empty dict of them, got {type(distances).__name__}"
        )
    for name, d in named.items():
        check_rank(d, 2, f"distances[{name!r}]" if name else "distances", "(L, h)")
    if uniform is not None and (not isinstance(uniform, (int, float)) or isinstance(uniform, bool) or uniform < 0):
        raise ValueError(f"uniform must be a distance >= 0 in pixels, or None, got {uniform!r}")
    if image_size is not None:
        check_positive_int(image_size, "image_size")
    return named


def _draw_distance_panel(ax: plt.Axes, name: str, d: np.ndarray, uniform: float | None) -> None:
    """One panel of :func:`plot_attention_distance`: a dot per head (colour) and layer (x) for ``d`` (L, h)."""
    L, h = d.shape
    offsets = (np.arange(h) - (h - 1) / 2) * min(0.08, 0.6 / max(h, 1))  # (h,)
    for k in range(h):
        ax.scatter(
            np.arange(1, L + 1) + offsets[k], d[:, k], s=28, color=_HEAD_COLOURS[k % 10],
            label=f"head {k + 1}" if h <= 10 else None, zorder=3, edgecolor="white", linewidth=0.5,
        )
    if uniform is not None:
        ax.axhline(uniform, color="grey", linestyle="--", linewidth=1, label="uniform attention", zorder=1)
    ax.set_xticks(range(1, L + 1))
    ax.set_xlim(0.5, L + 0.5)
    ax.set_xlabel("network depth (layer)")
    ax.grid(alpha=0.3)
    if name:
        ax.set_title(name, fontsize=10)


def plot_position_similarity_grid(
    sim: torch.Tensor,
    panel_size: float | None = None,
    cmap: str = "viridis",
    vmin: float = -1.0,
    vmax: float = 1.0,
) -> Figure:
    """The paper's Fig. 7 (centre): for every patch (r, c), a small map of the
    cosine similarity between its position embedding and every other one.

    Args:
        sim: tensor (rows, cols, rows, cols) from
            :func:`~vit_tutorial.analysis.position_embedding_similarity`.
        panel_size: inches per small map; by default the maps share about
            5.5 inches of width (at most 1.3 inches each).
        cmap: the colour map (one scale for all maps).
        vmin, vmax: the ends of the colour scale (the paper uses -1 and 1).

    Returns:
        A Figure of rows x cols small maps and one colour bar.
    """
    check_rank(sim, 4, "sim", "(rows, cols, rows, cols)")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (vmin, vmax)) or not vmin < vmax:
        raise ValueError(f"vmin must be smaller than vmax, got vmin={vmin!r}, vmax={vmax!r}")
    rows, cols, r2, c2 = sim.shape
    if (rows, cols) != (r2, c2):
        raise ValueError(f"sim must have shape (rows, cols, rows, cols), got {tuple(sim.shape)}")
    s = sim.detach().float().cpu().numpy()
    if panel_size is None:
        panel_size = min(1.3, 5.5 / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(panel_size * cols + 1.5, panel_size * rows + 0.5), squeeze=False, layout="constrained"
    )
    fig.get_layout_engine().set(w_pad=0.01, h_pad=0.01, wspace=0.0, hspace=0.0)
    im = None
    for r in range(rows):
        for c in range(cols):
            ax = axes[r, c]
            im = ax.imshow(s[r, c], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == rows - 1:
                ax.set_xlabel(str(c + 1), fontsize=8)
            if c == 0:
                ax.set_ylabel(str(r + 1), fontsize=8, rotation=0, labelpad=8, va="center")
    fig.supxlabel("input patch column", fontsize=10)
    fig.supylabel("input patch row", fontsize=10)
    fig.colorbar(im, ax=axes, shrink=0.6, label="cosine similarity")
    return fig


def plot_filter_components(
    components: torch.Tensor,
    explained_variance_ratio: torch.Tensor | None = None,
    ncols: int = 8,
    panel_size: float = 1.0,
) -> Figure:
    """The principal components of the patch-embedding filters (Fig. 7, left).

    One-channel components are drawn with a diverging colour map centred on
    0 (red positive, blue negative); RGB components are min-max scaled to
    colours, as in the paper.

    Args:
        components: tensor (k, C, P, P), C = 1 or 3, from
            :func:`~vit_tutorial.analysis.embedding_filter_components`.
        explained_variance_ratio: tensor (k,), shown above each panel, or None.
        ncols: panels per row.
        panel_size: inches per panel.

    Returns:
        A Figure with ceil(k / ncols) rows of panels.
    """
    check_rank(components, 4, "components", "(k, C, P, P)")
    k, C, P, Q = components.shape
    if C not in (1, 3):
        raise ValueError(f"components must have 1 or 3 channels (k, C, P, P), got shape {tuple(components.shape)}")
    if explained_variance_ratio is not None:
        check_rank(explained_variance_ratio, 1, "explained_variance_ratio", "(k,)")
        if explained_variance_ratio.shape[0] != k:
            raise ValueError(
                f"explained_variance_ratio has {explained_variance_ratio.shape[0]} entries for {k} components"
            )
    check_positive_int(ncols, "ncols")
    ncols = min(ncols, k)
    nrows = math.ceil(k / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(panel_size * ncols, (panel_size + 0.25) * nrows + 0.2), squeeze=False,
        layout="constrained",
    )
    comps = components.detach().float().cpu()
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= k:
            ax.axis("off")
            continue
        c = comps[i]
        if C == 1:
            lim = float(c.abs().max()) or 1.0
            ax.imshow(c[0].numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
        else:
            x = (c - c.min()) / (c.max() - c.min() + 1e-12)
            ax.imshow(x.permute(1, 2, 0).numpy(), interpolation="nearest")
        title = f"PC {i + 1}"
        if explained_variance_ratio is not None:
            title += f"\n{float(explained_variance_ratio[i]):.1%}"
        ax.set_title(title, fontsize=8)
    return fig


def plot_deletion_curves(
    curves: Mapping[str, torch.Tensor | np.ndarray],
    ylabel: str = "accuracy",
    chance: float | None = None,
    title: str | None = None,
) -> Figure:
    """Deletion curves: a score against the number of patches blanked.

    Args:
        curves: ``{label: values}``; values of shape (N+1,) for one curve or
            (seeds, N+1) for several, drawn as their mean with a band of
            +-1 sd (e.g. random rankings with different seeds).
        ylabel: the score's name.
        chance: draw a dotted line at this level (e.g. 0.1 for 10 classes).
        title: optional title.

    Returns:
        A Figure; the y axis starts at 0.
    """
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError(f"curves must be a non-empty dict {{label: values}}, got {type(curves).__name__}")
    fig, ax = plt.subplots(figsize=(5.6, 3.4), layout="constrained")
    for i, (label, values) in enumerate(curves.items()):
        v = torch.as_tensor(values, dtype=torch.float64)
        if v.dim() == 1:
            v = v[None]
        if v.dim() != 2:
            raise ValueError(f"curves[{label!r}] must have shape (N+1,) or (seeds, N+1), got {tuple(v.shape)}")
        k = np.arange(v.shape[1])
        mean = v.mean(0).numpy()
        colour = _HEAD_COLOURS[i % len(_HEAD_COLOURS)]
        name = label if v.shape[0] == 1 else f"{label} (mean ± sd of {v.shape[0]})"
        ax.plot(k, mean, marker="o", ms=3, color=colour, label=name)
        if v.shape[0] > 1:
            sd = v.std(0).numpy()
            ax.fill_between(k, mean - sd, mean + sd, color=colour, alpha=0.25, lw=0)
    if chance is not None:
        ax.axhline(chance, color="grey", ls=":", lw=1, label=f"chance ({chance:g})")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("patches blanked")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return fig
