"""Figures for chapter 5: self-attention, its heads, and what it costs.

The hand-set attention layer the figures show
(:func:`~vit_tutorial.demos.handcrafted_attention`) is built in
:mod:`vit_tutorial.demos` and re-exported here. The plotting functions accept
any attention weights, hand-set or trained.

Weights are laid out as the model returns them, one image at a time:
(h, T, T) with T = N (patches only) or T = N + 1 (class token first).
Every plotting function returns a matplotlib ``Figure`` (animations: an HTML
string) and never calls ``plt.show()``.
"""
from __future__ import annotations

import math
from typing import Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle

from .._checks import check_divisible, check_positive_int
from ..demos import (  # the hand-set layer lives in vit_tutorial.demos; its names stay importable from here
    DEFAULT_SHARPNESS,
    HEAD_NAMES,
    HandcraftedAttention,
    check_rgb_image,
    handcrafted_attention,
    patch_features,
)
from ..flops import attention_memory
from ..images import to_display
from ._animation import offline_jshtml

__all__ = [
    "HEAD_NAMES",
    "HandcraftedAttention",
    "patch_features",
    "handcrafted_attention",
    "plot_head_attention",
    "plot_attention_matrices",
    "plot_head_split",
    "plot_attention_memory",
    "animate_head_attention",
]

# ---------------------------------------------------------------- helpers


def _check_weights(weights: object) -> torch.Tensor:
    if not isinstance(weights, torch.Tensor):
        raise ValueError(f"weights must be a torch.Tensor of shape (h, T, T), got {type(weights).__name__}")
    if weights.dim() == 4 and weights.shape[0] == 1:
        weights = weights[0]  # (h, T, T): one image
    if weights.dim() != 3 or weights.shape[1] != weights.shape[2]:
        raise ValueError(
            f"weights must have shape (h, T, T) (one image's attention), got shape {tuple(weights.shape)}"
        )
    return weights.detach().float().cpu()


def _grid_layout(image: torch.Tensor, weights: torch.Tensor, patch_size: int) -> tuple[int, int, int]:
    """(rows, cols, offset): offset 1 when T = N + 1 (class token first)."""
    P = check_positive_int(patch_size, "patch_size")
    C, H, W = image.shape
    check_divisible(H, P, "height")
    check_divisible(W, P, "width")
    rows, cols = H // P, W // P
    N, T = rows * cols, weights.shape[-1]
    if T not in (N, N + 1):
        raise ValueError(
            f"weights cover T = {T} tokens, but a {H}x{W} image with P = {P} has N = {N} patches; "
            f"expected T = {N} (patches only) or {N + 1} (with the class token)"
        )
    return rows, cols, T - N


def _check_query(query: object, rows: int, cols: int) -> tuple[int, int]:
    ok = (isinstance(query, (tuple, list)) and len(query) == 2
          and all(isinstance(v, int) and not isinstance(v, bool) for v in query))
    if not ok or not (0 <= query[0] < rows and 0 <= query[1] < cols):
        raise ValueError(f"query must be a (row, col) patch inside the {rows} x {cols} grid, got {query!r}")
    return int(query[0]), int(query[1])


def _head_titles(h: int, head_names: Sequence[str] | None) -> list[str]:
    if head_names is None:
        return [f"head {i}" for i in range(h)]
    names = list(head_names)
    if len(names) != h:
        raise ValueError(f"head_names must have one name per head ({h}), got {len(names)}")
    return [f"head {i}: {n}" for i, n in enumerate(names)]


def _draw_query_panels(
    axes: Sequence[plt.Axes], image: torch.Tensor, weights: torch.Tensor, query: tuple[int, int],
    P: int, rows: int, cols: int, offset: int, titles: Sequence[str], heads: Sequence[int],
) -> None:
    shown = to_display(image)  # (H, W, 3)
    gray = shown.mean(axis=-1)  # (H, W): the maps are easier to read over a grey photo
    qr, qc = query
    q = offset + qr * cols + qc  # the query's row in the (T, T) matrices
    ax = axes[0]
    ax.imshow(shown)
    ax.add_patch(Rectangle((qc * P - 0.5, qr * P - 0.5), P, P, fill=False, edgecolor="#00e5ff", linewidth=2.5))
    ax.set_title(f"query patch (row {qr}, col {qc})", fontsize=10)
    for ax, head in zip(axes[1:], heads):
        row = weights[head, q]  # (T,)
        grid = row[offset:].reshape(rows, cols)  # (rows, cols)
        ax.imshow(gray, cmap="gray", vmin=0.0, vmax=1.0)
        ax.imshow(grid.numpy(), cmap="inferno", alpha=0.6, extent=(-0.5, cols * P - 0.5, rows * P - 0.5, -0.5),
                  interpolation="nearest", vmin=0.0)
        ax.add_patch(Rectangle((qc * P - 0.5, qr * P - 0.5), P, P, fill=False, edgecolor="#00e5ff", linewidth=1.5))
        extra = f", class token {row[0].item():.0%}" if offset else ""
        ax.set_title(f"{titles[head]}\nlargest weight {grid.max().item():.1%}{extra}", fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])


# ---------------------------------------------------------------- figures


def plot_head_attention(
    image: torch.Tensor,
    weights: torch.Tensor,
    query: tuple[int, int],
    patch_size: int = 16,
    head_names: Sequence[str] | None = None,
    heads: Sequence[int] | None = None,
    ncols: int = 5,
    size: float = 2.6,
) -> Figure:
    """Where one query patch looks, head by head.

    The first panel marks the query patch on the image; each other panel
    shows one head's attention weights from that patch to every patch
    (one row of that head's (T, T) matrix, laid back on the grid).

    Args:
        image: (3, H, W) in [0, 1].
        weights: one image's attention, (h, T, T) or (1, h, T, T), with
            T = N or N + 1 (class token first: its weight is printed in the
            title and left out of the map).
        query: (row, col) of the query patch in the grid.
        patch_size: P.
        head_names: optional name of each head, for the titles.
        heads: which heads to show (default: all).
        ncols: panels per row.
        size: the side of one panel, in inches.

    Returns:
        A matplotlib Figure.
    """
    image = check_rgb_image(image)
    weights = _check_weights(weights)
    rows, cols, offset = _grid_layout(image, weights, patch_size)
    query = _check_query(query, rows, cols)
    h = weights.shape[0]
    titles = _head_titles(h, head_names)
    heads = list(range(h)) if heads is None else list(heads)
    if not heads or any(isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < h for i in heads):
        raise ValueError(f"heads must be a non-empty list of head indices in [0, {h}), got {heads!r}")
    check_positive_int(ncols, "ncols")
    panels = 1 + len(heads)
    ncols = min(ncols, panels)
    nrows = math.ceil(panels / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size + 0.45) * nrows), layout="constrained",
                             squeeze=False)
    axes = axes.flatten()
    _draw_query_panels(axes[:panels], image, weights, query, patch_size, rows, cols, offset, titles, heads)
    for ax in axes[panels:]:
        ax.axis("off")
    return fig


def plot_attention_matrices(
    weights: torch.Tensor, head_names: Sequence[str] | None = None, heads: Sequence[int] | None = None,
    size: float = 3.0, ncols: int = 4,
) -> Figure:
    """Each head's full (T, T) attention matrix as a heat-map.

    Row i is where token i looks; every row sums to 1. The colour scale is
    logarithmic, so both the few large weights and the many small ones show.

    Args:
        weights: (h, T, T) or (1, h, T, T).
        head_names: optional name of each head.
        heads: which heads to show (default: all, at most 6).
        size: the side of one panel, in inches.
        ncols: panels per row.

    Returns:
        A matplotlib Figure.
    """
    weights = _check_weights(weights)
    check_positive_int(ncols, "ncols")
    h, T, _ = weights.shape
    titles = _head_titles(h, head_names)
    heads = list(range(min(h, 6))) if heads is None else list(heads)
    if not heads or any(isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < h for i in heads):
        raise ValueError(f"heads must be a non-empty list of head indices in [0, {h}), got {heads!r}")
    ncols = min(ncols, len(heads))
    nrows = math.ceil(len(heads) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols + 0.8, (size + 0.4) * nrows + 0.3),
                             layout="constrained", squeeze=False)
    axes = axes.flatten()
    for ax in axes[len(heads):]:
        ax.axis("off")
    floor = max(float(weights[heads].min()), 1e-6)
    norm = matplotlib.colors.LogNorm(vmin=floor, vmax=float(weights[heads].max()))
    for ax, head in zip(axes, heads):
        im = ax.imshow(weights[head].clamp_min(floor).numpy(), cmap="viridis", norm=norm, interpolation="nearest")
        ax.set_title(titles[head], fontsize=10)
        ax.set_xlabel("key token j")
        ax.set_ylabel("query token i")
    fig.colorbar(im, ax=axes[: len(heads)].tolist(), shrink=0.8, label="attention weight (log scale)")
    shown = f"all {h} heads" if len(heads) == h else f"{len(heads)} of {h} heads"
    fig.suptitle(f"{shown}, each a {T} x {T} matrix = {T * T:,} weights", fontsize=11)
    return fig


def plot_head_split(tokens: int = 5, dim: int = 12, heads: int = 3) -> Figure:
    """Diagram of splitting D channels into h heads and merging them back.

    Q, K and V, each (T, D), are cut into h slices of d = D/h channels; head k
    gets the k-th slice of all three, forms its own (T, T) matrix of
    token-to-token weights, and returns a (T, d) output; the h outputs are
    concatenated back to (T, D). Channel blocks are filled with the head's
    colour; the (T, T) weight blocks are only outlined in it, since they hold
    weights between tokens, not channels. Drawn for one image (the batch axis B
    rides along unchanged).

    Args:
        tokens: T, rows to draw.
        dim: D, columns to draw.
        heads: h; must divide ``dim``.

    Returns:
        A matplotlib Figure.
    """
    T = check_positive_int(tokens, "tokens")
    D = check_positive_int(dim, "dim")
    h = check_positive_int(heads, "heads")
    if D % h:
        raise ValueError(f"dim {D} is not divisible by heads {h} (remainder {D % h})")
    if T > 12 or D > 24:
        raise ValueError(f"the diagram draws at most 12 tokens and 24 channels, got T={T}, D={D}")
    d = D // h
    colours = plt.get_cmap("tab10")(np.arange(h) % 10)
    u = 0.32  # one cell, in axis units
    y0s = _stack_heights(h, T, u)  # one row per head, centred on 0
    fig, ax = plt.subplots(figsize=(13, 4.2), layout="constrained")
    x = 0.0
    # Q, K and V, each (T, D), their channels coloured by the head they go to
    qkv_y0s = _stack_heights(3, T, u)
    for name, y0 in zip("QKV", qkv_y0s):
        _draw_side_by_side(ax, x, y0, T, d, D, colours, u)
        ax.text(x - 0.15, y0 + T * u / 2, name, ha="right", va="center", fontsize=11, weight="bold")
    ax.text(x + D * u / 2, min(qkv_y0s) - 0.25, f"Q = X W_Q, K = X W_K, V = X W_V\neach (T, D) = ({T}, {D})",
            ha="center", va="top", fontsize=9)
    x += D * u + 0.3
    _arrow(ax, x, x + 1.3, 0, "split each into\nh slices of d")
    x += 1.6
    # per head: its slice of Q, K and V side by side
    sub = 0.15
    for k, y0 in enumerate(y0s):
        for j, name in enumerate("qkv"):
            _block(ax, x + j * (d * u + sub), y0, d, T, colours[k], u)
            if k == 0:
                ax.text(x + j * (d * u + sub) + d * u / 2, y0 + T * u + 0.08, name, ha="center", va="bottom",
                        fontsize=10, weight="bold")
    width = 3 * d * u + 2 * sub
    ax.text(x + width / 2, min(y0s) - 0.25, f"each head's q, k, v:\n3 x (h, T, d) = ({h}, {T}, {d})",
            ha="center", va="top", fontsize=9)
    x += width + 0.3
    _arrow(ax, x + 0.2, x + 1.8, 0, "softmax(q kᵀ/√d)\nper head")
    x += 2.1
    for k, y0 in enumerate(y0s):  # token-to-token weights: outlined, not filled, in the head's colour
        _block(ax, x, y0, T, T, colours[k], u, filled=False)
    ax.text(x + T * u / 2, min(y0s) - 0.25, f"weights between tokens\n(h, T, T) = ({h}, {T}, {T})",
            ha="center", va="top", fontsize=9)
    x += T * u + 0.3
    _arrow(ax, x, x + 1.2, 0, "× v")
    x += 1.5
    _draw_stacked(ax, x, y0s, d, T, colours, u, f"(h, T, d) = ({h}, {T}, {d})")
    x += d * u + 0.3
    _arrow(ax, x, x + 1.4, 0, "merge: heads\nside by side")
    x += 1.7
    _draw_side_by_side(ax, x, -T * u / 2, T, d, D, colours, u, f"(T, D) = ({T}, {D})\nthen W_O mixes the heads")
    x += D * u
    ax.set_xlim(-0.6, x + 0.2)
    ax.set_ylim(min(y0s + qkv_y0s) - 1.0, max(y0s[0], qkv_y0s[0]) + T * u + 0.5)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


def _block(ax, x0: float, y0: float, w: int, hgt: int, colour, u: float, filled: bool = True) -> None:
    """A ``hgt`` x ``w`` grid of cells of side ``u``, lower left corner at (x0, y0).

    Filled cells (channels) have the colour inside and white edges; unfilled cells
    (weights between tokens) are white with edges in the colour.
    """
    face, edge = (colour, "white") if filled else ("white", colour)
    for i in range(hgt):
        for j in range(w):
            ax.add_patch(Rectangle((x0 + j * u, y0 + (hgt - 1 - i) * u), u, u, facecolor=face,
                                   edgecolor=edge, linewidth=0.8, alpha=0.9))


def _stack_heights(n: int, T: int, u: float, gap: float = 0.25) -> list[float]:
    """Lower edges of ``n`` blocks of ``T`` rows stacked top to bottom, ``gap`` apart, centred on 0."""
    total = n * T * u + (n - 1) * gap
    return [total / 2 - (k + 1) * T * u - k * gap for k in range(n)]


def _draw_side_by_side(ax, x: float, y0: float, T: int, d: int, D: int, colours, u: float, label: str = "") -> None:
    """A (T, D) block whose h slices of d channels have the heads' colours, with ``label`` below."""
    for k in range(D // d):
        _block(ax, x + k * d * u, y0, d, T, colours[k], u)
    if label:
        ax.text(x + D * u / 2, y0 - 0.25, label, ha="center", va="top", fontsize=9)


def _draw_stacked(ax, x: float, y0s: list[float], w: int, T: int, colours, u: float, label: str) -> None:
    """One (T, w) block per head, stacked at heights ``y0s``, with ``label`` below the lowest."""
    for k, y0 in enumerate(y0s):
        _block(ax, x, y0, w, T, colours[k], u)
    ax.text(x + w * u / 2, min(y0s) - 0.25, label, ha="center", va="top", fontsize=9)


def _arrow(ax, x0: float, x1: float, y: float, text: str) -> None:
    ax.add_patch(FancyArrowPatch((x0, y), (x1, y), arrowstyle="-|>", mutation_scale=14, color="0.3"))
    ax.text((x0 + x1) / 2, y + 0.15, text, ha="center", va="bottom", fontsize=8.5, color="0.2")


def plot_attention_memory(
    image_size: int = 224, patch_sizes: Sequence[int] = (32, 16, 8, 4), heads: int = 12, batch: int = 1,
    bytes_per_value: int = 4,
) -> Figure:
    """Memory of one layer's attention matrices as the patches shrink.

    Bars (log scale) of h·B·T²·bytes for each patch size, labelled with N.

    Args:
        image_size: H = W.
        patch_sizes: the values of P to compare.
        heads: h (12 for ViT-B).
        batch: B.
        bytes_per_value: 4 for float32.

    Returns:
        A matplotlib Figure.
    """
    sizes = list(patch_sizes) if isinstance(patch_sizes, (list, tuple, range)) else []
    if not sizes:
        raise ValueError(f"patch_sizes must be a non-empty sequence of ints, got {patch_sizes!r}")
    rows = [attention_memory(image_size, P, heads, batch, bytes_per_value) for P in sizes]
    mib = [r["per_layer"] / 2**20 for r in rows]
    fig, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
    labels = [f"P = {P}\nN = {r['N']:,}" for P, r in zip(sizes, rows)]
    bars = ax.bar(labels, mib, color=plt.get_cmap("viridis")(np.linspace(0.2, 0.85, len(sizes))))
    ax.set_yscale("log")
    for bar, v in zip(bars, mib):
        text = f"{v:,.1f} MiB" if v >= 1 else f"{v * 1024:,.0f} KiB"
        ax.text(bar.get_x() + bar.get_width() / 2, v * 1.15, text, ha="center", va="bottom", fontsize=9)
    ax.set_ylim(min(mib) / 3, max(mib) * 6)
    ax.set_ylabel("attention weights of one layer (MiB, log)")
    ax.set_title(f"{image_size} px image, {heads} heads x batch {batch}, {8 * bytes_per_value}-bit floats", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    return fig


def animate_head_attention(
    image: torch.Tensor,
    weights: torch.Tensor,
    queries: Sequence[tuple[int, int]],
    patch_size: int = 16,
    head_names: Sequence[str] | None = None,
    heads: Sequence[int] | None = None,
    size: float = 2.0,
    dpi: int = 60,
    interval: int = 900,
) -> str:
    """A kernel-free animation of :func:`plot_head_attention` over queries.

    Each frame moves the query patch; frames are JPEG so the page stays light.

    Args:
        image, weights, patch_size, head_names, heads: as for
            :func:`plot_head_attention`.
        queries: the (row, col) query patches, one frame each.
        size: the side of one panel, in inches.
        dpi: the frames' resolution.
        interval: milliseconds between frames.

    Returns:
        The animation as an HTML string (``FuncAnimation.to_jshtml``), for
        ``IPython.display.HTML``.
    """
    from matplotlib.animation import FuncAnimation

    image = check_rgb_image(image)
    weights = _check_weights(weights)
    rows, cols, offset = _grid_layout(image, weights, patch_size)
    qs = list(queries) if not isinstance(queries, (str, bytes)) else []
    if not qs:
        raise ValueError(f"queries must be a non-empty list of (row, col) patches, got {queries!r}")
    qs = [_check_query(q, rows, cols) for q in qs]
    h = weights.shape[0]
    titles = _head_titles(h, head_names)
    heads = list(range(h)) if heads is None else list(heads)
    if not heads or any(isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < h for i in heads):
        raise ValueError(f"heads must be a non-empty list of head indices in [0, {h}), got {heads!r}")
    with matplotlib.rc_context({"animation.frame_format": "jpeg", "savefig.dpi": dpi, "figure.dpi": dpi}):
        fig, axes = plt.subplots(1, 1 + len(heads), figsize=(size * (1 + len(heads)), size + 0.6),
                                 layout="constrained")

        def draw(k: int) -> list:
            for ax in axes:
                ax.clear()
            _draw_query_panels(axes, image, weights, qs[k], patch_size, rows, cols, offset, titles, heads)
            return []

        anim = FuncAnimation(fig, draw, frames=len(qs), interval=interval, blit=False)
        html = offline_jshtml(anim)
    plt.close(fig)
    return html
