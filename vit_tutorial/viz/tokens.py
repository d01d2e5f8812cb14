"""Figures for chapters 2-4: what the patch embedding computes, the token
sequence with its class token, and position embeddings.

Notation: C channels, P patch size, D width, N patches, T = N + 1 tokens.
Each function returns a matplotlib ``Figure`` and never calls ``plt.show()``.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from .._checks import check_positive_int
from ..images import to_display
from ..patches import patchify
from ..analysis import patch_cosine_similarity, patch_distance_matrix
from ._checks import check_image, check_patch_size

__all__ = [
    "plot_patch_embedding",
    "plot_agreement",
    "plot_token_sequence",
    "plot_position_similarity",
    "plot_position_resize",
    "plot_pooling_comparison",
    "position_similarity",
    "plot_patch_similarity",
    "plot_filter_response",
]


def _tensor(x: object, name: str, layout: str, rank: int | tuple[int, ...]) -> torch.Tensor:
    ranks = (rank,) if isinstance(rank, int) else rank
    if not isinstance(x, torch.Tensor) or x.dim() not in ranks:
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a tensor of shape {layout}, got {got}")
    return x.detach().float().cpu()


def _filter_image(w: torch.Tensor) -> np.ndarray:
    """A (C, P, P) filter as an image: 0 is mid-grey, the largest |weight| black or white."""
    scale = w.abs().max().clamp_min(1e-12)
    return to_display((w / (2 * scale) + 0.5).clamp(0, 1))


def plot_patch_embedding(
    patch: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    filters: Sequence[int] = (0, 1, 2, 3),
) -> Figure:
    """One patch, a few of the D filters, and the D-vector the patch becomes.

    Entry d of the token is the dot product of the patch with filter d (a
    C x P x P array of weights) plus the bias b_d: exactly what a conv with
    kernel = stride = P computes at that patch's position.

    Args:
        patch: the patch, shape (C, P, P), C = 1 or 3.
        weight: the conv kernel, shape (D, C, P, P).
        bias: shape (D,), or None for no bias.
        filters: indices d of the filters to draw (1 to 8 of them).

    Returns:
        A matplotlib Figure.
    """
    patch, weight, bias, filters = _check_patch_embedding(patch, weight, bias, filters)
    D, C, P, _ = weight.shape
    z = weight.reshape(D, -1) @ patch.reshape(-1)  # (D,)
    if bias is not None:
        z = z + bias
    k = len(filters)
    fig = plt.figure(figsize=(max(7.0, 1.5 * (k + 1)), 4.6), layout="constrained")
    grid = fig.add_gridspec(2, k + 1, height_ratios=[1.25, 1])
    ax = fig.add_subplot(grid[0, 0])
    ax.imshow(to_display(patch.clamp(0, 1)), cmap="gray" if C == 1 else None, vmin=0, vmax=1)
    ax.set_title(f"the patch\n{C}x{P}x{P} = {C * P * P} values", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    colours = plt.get_cmap("tab10")
    for j, d in enumerate(filters):
        ax = fig.add_subplot(grid[0, j + 1])
        ax.imshow(_filter_image(weight[d]), cmap="gray" if C == 1 else None, vmin=0, vmax=1)
        ax.set_title(f"filter {d}\nz[{d}] = {z[d].item():+.3f}", fontsize=9, color=colours(j))
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_edgecolor(colours(j))
            spine.set_linewidth(2.5)
    _draw_token_bars(fig.add_subplot(grid[1, :]), z, filters, colours)
    return fig


def _check_patch_embedding(patch, weight, bias, filters) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, list[int]]:
    """:func:`plot_patch_embedding`'s inputs, checked, as float CPU tensors and a list of filter indices."""
    patch = _tensor(patch, "patch", "(C, P, P)", 3)
    weight = _tensor(weight, "weight", "(D, C, P, P)", 4)
    D, C, P, P2 = weight.shape
    if tuple(patch.shape) != (C, P, P2) or P != P2 or C not in (1, 3):
        raise ValueError(
            f"patch must have shape (C, P, P) matching weight (D, C, P, P) = {tuple(weight.shape)} "
            f"with C = 1 or 3, got patch {tuple(patch.shape)}"
        )
    if bias is not None:
        bias = _tensor(bias, "bias", f"({D},)", 1)
        if bias.shape != (D,):
            raise ValueError(f"bias must have shape ({D},), got {tuple(bias.shape)}")
    filters = list(filters) if not isinstance(filters, (str, bytes)) else []
    if not 1 <= len(filters) <= 8 or not all(isinstance(d, int) and 0 <= d < D for d in filters):
        raise ValueError(f"filters must be 1 to 8 indices in [0, {D}), got {filters!r}")
    return patch, weight, bias, filters


def _draw_token_bars(ax, z: torch.Tensor, filters: list[int], colours) -> None:
    """The token z as one bar per entry, the drawn filters' entries in their colours."""
    D = z.shape[0]
    ax.bar(np.arange(D), z.numpy(), width=1.0, color="0.65")
    for j, d in enumerate(filters):
        # a band and a dot, so that an entry near zero or at the edge is still visible
        half = max(0.5, D / 300)  # one slot for a short token, a visible band for a long one
        ax.axvspan(d - half, d + half, color=colours(j), alpha=0.25, lw=0)
        ax.bar([d], [z[d].item()], width=max(1.0, D / 150), color=colours(j))
        ax.plot([d], [z[d].item()], "o", color=colours(j), markersize=5, markeredgecolor="black",
                markeredgewidth=0.5)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xlim(-0.5, D - 0.5)
    ax.set_xlabel(f"d (one entry per filter, D = {D})")
    ax.set_ylabel("z[d]")
    ax.set_title("the token: z[d] = (filter d) . (patch) + b[d]", fontsize=10)


def plot_agreement(
    pairs: Mapping[str, tuple[torch.Tensor, torch.Tensor]],
    xlabel: str = "first",
    ylabel: str = "second",
    max_points: int = 4000,
) -> Figure:
    """Scatter two tensors against each other, one panel per pair.

    Points on the diagonal mean equal values. At most ``max_points`` values
    are drawn; each panel's title says how many, and gives the largest
    absolute difference over all of them.

    Args:
        pairs: panel title -> (a, b), two tensors with the same number of elements.
        xlabel: what a is, e.g. "conv embedding".
        ylabel: what b is.
        max_points: at most this many evenly spaced entries are drawn.

    Returns:
        A matplotlib Figure.
    """
    if not isinstance(pairs, Mapping) or not 1 <= len(pairs) <= 4:
        raise ValueError(f"pairs must be a dict of 1 to 4 (a, b) tensor pairs, got {type(pairs).__name__}")
    check_positive_int(max_points, "max_points")
    prepared = []
    for title, pair in pairs.items():
        if not (isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(t, torch.Tensor) for t in pair)):
            raise ValueError(f"pairs[{title!r}] must be a tuple of two tensors, got {type(pair).__name__}")
        a, b = (t.detach().float().cpu().reshape(-1) for t in pair)
        if a.numel() != b.numel() or a.numel() == 0:
            raise ValueError(
                f"pairs[{title!r}] must hold two non-empty tensors with as many elements, got {a.numel()} and {b.numel()}"
            )
        prepared.append((title, a, b))
    fig, axes = plt.subplots(1, len(prepared), figsize=(3.6 * len(prepared), 3.7), layout="constrained",
                             squeeze=False)
    for ax, (title, a, b) in zip(axes[0], prepared):
        idx = torch.linspace(0, a.numel() - 1, min(max_points, a.numel())).long()
        ax.scatter(a[idx].numpy(), b[idx].numpy(), s=3, alpha=0.5, color="tab:blue", rasterized=True)
        lo = min(a[idx].min().item(), b[idx].min().item())  # the diagonal spans the drawn points only
        hi = max(a[idx].max().item(), b[idx].max().item())
        ax.plot([lo, hi], [lo, hi], color="tab:red", lw=1, ls="--")
        diff = (a - b).abs().max().item()
        ax.set_title(f"{title}\n{len(idx):,} of {a.numel():,} values drawn\n"
                     f"max |difference| over all = {diff:.2g}", fontsize=9)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_aspect("equal", adjustable="datalim")
    return fig


def plot_token_sequence(image: torch.Tensor, patch_size: int, tokens: torch.Tensor, max_tokens: int = 8) -> Figure:
    """The first tokens of a sequence that starts with a class token.

    Top: what each token stands for (the class token has no pixels; token
    n + 1 is patch n). Bottom: each token's D values as a vertical strip.

    Args:
        image: tensor of shape (C, H, W), C = 1 or 3, values in [0, 1].
        patch_size: P; must divide H and W.
        tokens: the sequence with its class token, shape (T, D) with T = N + 1.
        max_tokens: how many tokens to draw (at least 2).

    Returns:
        A matplotlib Figure.
    """
    image = check_image(image)
    P = check_patch_size(image, patch_size)
    tokens = _tensor(tokens, "tokens", "(T, D)", 2)
    C, H, W = image.shape
    N = (H // P) * (W // P)
    T, D = tokens.shape
    if T != N + 1:
        raise ValueError(
            f"tokens must hold N + 1 = {N + 1} tokens (the class token and {N} patches) for a "
            f"{H}x{W} image with P = {P}, got {T}"
        )
    max_tokens = check_positive_int(max_tokens, "max_tokens")
    if max_tokens < 2:
        raise ValueError(f"max_tokens must be at least 2, got {max_tokens}")
    k = min(max_tokens, T)
    seq = patchify(image[None], P)[0].reshape(N, C, P, P)  # (N, C, P, P)
    scale = tokens[:k].abs().max().clamp_min(1e-12).item()
    fig, axes = plt.subplots(2, k, figsize=(1.05 * k + 0.8, 4.2), layout="constrained",
                             gridspec_kw=dict(height_ratios=[1, 2.2]), squeeze=False)
    for j in range(k):
        top, strip = axes[0, j], axes[1, j]
        for ax in (top, strip):
            ax.set_xticks([])
            ax.set_yticks([])
        if j == 0:
            top.set_facecolor("#fde2e2")
            top.text(0.5, 0.5, "[CLS]\nno pixels", ha="center", va="center", fontsize=9,
                     color="#b00020", transform=top.transAxes)
            top.set_title("token 0\nclass token", fontsize=9, color="#b00020")
            for spine in list(top.spines.values()) + list(strip.spines.values()):
                spine.set_edgecolor("#b00020")
                spine.set_linewidth(2)
        else:
            top.imshow(to_display(seq[j - 1]), cmap="gray" if C == 1 else None, vmin=0, vmax=1)
            top.set_title(f"token {j}\npatch {j - 1}", fontsize=9)
        im = strip.imshow(tokens[j][:, None].numpy(), aspect="auto", cmap="RdBu_r", vmin=-scale, vmax=scale,
                          interpolation="nearest")
    axes[1, 0].set_ylabel(f"its D = {D} values")
    fig.colorbar(im, ax=axes[1, :].tolist(), shrink=0.8, pad=0.01)
    fig.suptitle(f"The first {k} of T = N + 1 = {T} tokens", fontsize=10)
    return fig


def position_similarity(table: torch.Tensor, class_token: bool = True) -> torch.Tensor:
    """Cosine similarity between the position embeddings of every two patches.

    Args:
        table: shape (T, D) or (1, T, D).
        class_token: whether row 0 is the class token's (it is left out).

    Returns:
        Tensor of shape (N, N): entry (i, j) is cos(e_i, e_j) for patches i, j.
    """
    table = _tensor(table, "table", "(T, D) or (1, T, D)", (2, 3))
    return patch_cosine_similarity(table, 1 if class_token else 0)  # (N, N), computed in vit_tutorial.analysis


def _grid_side(n: int, what: str) -> int:
    side = math.isqrt(n)
    if side * side != n:
        raise ValueError(f"{what} has {n} patch rows, which is not a square grid; expected a square number")
    return side


def plot_position_similarity(
    table: torch.Tensor,
    class_token: bool = True,
    title: str | None = None,
    step: int = 1,
    vmin: float | None = None,
) -> Figure:
    """A grid of small maps: map (r, c) shows how similar patch (r, c)'s
    position embedding is to every other patch's (the paper's Fig. 7, centre).

    Args:
        table: shape (T, D) or (1, T, D), patches on a square grid.
        class_token: whether row 0 is the class token's (it is left out).
        title: the figure's title.
        step: draw only every ``step``-th row and column of maps (for big grids).
        vmin: the similarity drawn darkest (default: the smallest one in the
            table; the brightest is always 1, a patch with itself).

    Returns:
        A matplotlib Figure.
    """
    sim = position_similarity(table, class_token)  # (N, N)
    N = sim.shape[0]
    side = _grid_side(N, "table")
    step = check_positive_int(step, "step")
    if step > side:
        raise ValueError(f"step must be at most the grid side {side}, got {step}")
    picks = list(range(0, side, step))
    gap = max(1, side // 7)
    cell = side + gap
    canvas = np.full((len(picks) * cell - gap, len(picks) * cell - gap), np.nan)
    for a, r in enumerate(picks):
        for b, c in enumerate(picks):
            canvas[a * cell : a * cell + side, b * cell : b * cell + side] = sim[r * side + c].reshape(side, side).numpy()
    fig, ax = plt.subplots(figsize=(6.4, 5.6), layout="constrained")
    cmap = plt.get_cmap("viridis").with_extremes(bad="white")
    if vmin is None:
        vmin = float(sim.min())
    elif not isinstance(vmin, (int, float)) or not -1.0 <= vmin < 1.0:
        raise ValueError(f"vmin must be a number in [-1, 1), got {vmin!r}")
    im = ax.imshow(canvas, cmap=cmap, vmin=vmin, vmax=1, interpolation="nearest")
    centres = [a * cell + (side - 1) / 2 for a in range(len(picks))]
    ax.set_xticks(centres, [str(c) for c in picks], fontsize=7)  # 0-based, like the patch numbers
    ax.set_yticks(centres, [str(r) for r in picks], fontsize=7)
    ax.set_xlabel("input patch column (from 0)")
    ax.set_ylabel("input patch row (from 0)")
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.colorbar(im, ax=ax, shrink=0.8, label="cosine similarity")
    ax.set_title(title or f"Position embedding similarity ({side} x {side} patches)", fontsize=11)
    return fig


def plot_position_resize(
    table: torch.Tensor,
    resized: torch.Tensor,
    channels: Sequence[int] = (0, 1, 2),
    num_prefix_tokens: int = 1,
    labels: Sequence[str] | None = None,
) -> Figure:
    """A few channels of a position table on its patch grid, before and after
    resizing to a new grid.

    Args:
        table: the original table, shape (1, prefix + n*n, D).
        resized: the resized table, shape (1, prefix + m*m, D).
        channels: the channels d to draw (1 to 6 of them).
        num_prefix_tokens: entries at the front that are not patches.
        labels: one title per column, replacing the default "channel d = ..."
            (e.g. to say what the channel encodes).

    Returns:
        A matplotlib Figure with one column per channel.
    """
    table = _tensor(table, "table", "(1, T, D)", 3)
    resized = _tensor(resized, "resized", "(1, T', D)", 3)
    if table.shape[0] != 1 or resized.shape[0] != 1 or table.shape[2] != resized.shape[2]:
        raise ValueError(
            f"table and resized must have shapes (1, T, D) and (1, T', D) with the same D, "
            f"got {tuple(table.shape)} and {tuple(resized.shape)}"
        )
    if isinstance(num_prefix_tokens, bool) or not isinstance(num_prefix_tokens, int) or num_prefix_tokens < 0:
        raise ValueError(f"num_prefix_tokens must be an integer >= 0, got {num_prefix_tokens!r}")
    D = table.shape[2]
    channels = list(channels) if not isinstance(channels, (str, bytes)) else []
    if not 1 <= len(channels) <= 6 or not all(isinstance(d, int) and 0 <= d < D for d in channels):
        raise ValueError(f"channels must be 1 to 6 indices in [0, {D}), got {channels!r}")
    old = table[0, num_prefix_tokens:]  # (n*n, D)
    new = resized[0, num_prefix_tokens:]  # (m*m, D)
    n, m = _grid_side(old.shape[0], "table"), _grid_side(new.shape[0], "resized")
    k = len(channels)
    if labels is not None and (isinstance(labels, (str, bytes)) or len(labels) != k
                               or not all(isinstance(t, str) for t in labels)):
        raise ValueError(f"labels must be {k} strings, one per channel, got {labels!r}")
    fig, axes = plt.subplots(2, k, figsize=(2.4 * k + 0.9, 5.0), layout="constrained", squeeze=False)
    for j, d in enumerate(channels):
        scale = max(old[:, d].abs().max().item(), new[:, d].abs().max().item(), 1e-12)
        for row, (grid, side) in enumerate(((old, n), (new, m))):
            ax = axes[row, j]
            ax.imshow(grid[:, d].reshape(side, side).numpy(), cmap="RdBu_r", vmin=-scale, vmax=scale,
                           interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(labels[j] if labels is not None else f"channel d = {d}", fontsize=10)
    axes[0, 0].set_ylabel(f"before\n{n} x {n} grid")
    axes[1, 0].set_ylabel(f"after\n{m} x {m} grid")
    fig.suptitle("red: positive, blue: negative (each channel on its own scale, shared by its two maps)",
                 fontsize=9)
    return fig


def plot_pooling_comparison(
    histories: Mapping[str, Sequence[Mapping[str, float]]],
    metric: str = "test_accuracy",
    groups: Mapping[str, str] | None = None,
) -> Figure:
    """Learning curves of models that differ in one choice (e.g. the pooling).

    Args:
        histories: label -> the list of per-epoch metric dicts that
            :func:`vit_tutorial.train.fit` returns (each with "epoch" and ``metric``).
        metric: the key to plot, e.g. "test_accuracy" or "train_loss".
        groups: optional label -> group name (e.g. the pooling choice, when
            each choice was run with several seeds): curves of one group share
            a colour and differ in line style, and a marker with an error bar
            beside the curves gives the group's last-epoch mean +- sd.

    Returns:
        A matplotlib Figure.
    """
    if not isinstance(histories, Mapping) or not histories:
        raise ValueError(f"histories must be a non-empty dict label -> list of epoch dicts, got {histories!r}")
    if groups is not None and (not isinstance(groups, Mapping) or set(groups) != set(histories)):
        raise ValueError(
            f"groups must map every label of histories to a group name; labels {sorted(histories)}, "
            f"got {groups!r}"
        )
    group_names = list(dict.fromkeys(groups.values())) if groups else list(histories)
    styles = ["-", "--", ":", "-."]
    seen: dict[str, int] = {}
    finals: dict[str, list[tuple[float, float]]] = {}
    fig, ax = plt.subplots(figsize=(6.0, 3.8), layout="constrained")
    for label, history in histories.items():
        xs, ys = zip(*_curve_points(label, history, metric))
        group = groups[label] if groups else label
        k = seen.get(group, 0)
        seen[group] = k + 1
        colour = plt.get_cmap("tab10")(group_names.index(group) % 10)
        ax.plot(xs, ys, marker="o", markersize=4, color=colour, ls=styles[k % len(styles)], label=label)
        finals.setdefault(group, []).append((xs[-1], ys[-1]))
    _draw_group_finals(ax, group_names, finals)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("_", " "))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def _curve_points(label: str, history: Sequence[Mapping], metric: str) -> list[tuple[float, float]]:
    """``(epoch, value)`` for every epoch of ``history`` with a ``metric`` value; ``ValueError`` if none or malformed."""
    points = []
    for row in history:
        if not isinstance(row, Mapping) or "epoch" not in row or metric not in row:
            raise ValueError(f"histories[{label!r}] must be dicts with 'epoch' and {metric!r}, got {row!r}")
        if row[metric] is not None:
            points.append((row["epoch"], row[metric]))
    if not points:
        raise ValueError(f"histories[{label!r}] has no value for {metric!r}")
    return points


def _draw_group_finals(ax, group_names: list[str], finals: Mapping[str, list[tuple[float, float]]]) -> None:
    """Mean +- sd of the last value of each group with two or more runs, beside the curves."""
    for j, group in enumerate(group_names):
        runs = finals.get(group, [])
        if len(runs) >= 2:
            last = np.array([y for _, y in runs], dtype=float)
            x = max(x for x, _ in runs) + 0.25 + 0.2 * j
            colour = plt.get_cmap("tab10")(j % 10)
            ax.errorbar([x], [last.mean()], yerr=[last.std(ddof=1)], fmt="D", color=colour, capsize=4,
                        markersize=5, label=f"{group}: last epoch, mean +- sd of {len(runs)}")


def _check_patch(patch: object, side: int) -> tuple[int, int]:
    """``patch`` as a (row, col) inside a side x side grid."""
    ok = (isinstance(patch, (tuple, list)) and len(patch) == 2
          and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < side for v in patch))
    if not ok:
        raise ValueError(f"patch must be a (row, col) pair inside the {side} x {side} grid, got {patch!r}")
    return patch[0], patch[1]


def plot_patch_similarity(
    table: torch.Tensor,
    patch: tuple[int, int],
    class_token: bool = True,
    title: str | None = None,
    vmin: float = 0.0,
) -> Figure:
    """One patch's position embedding against every other patch's: the map on
    the patch grid (one map of :func:`plot_position_similarity`, enlarged) and
    the same similarities against the distance between the patches.

    Args:
        table: shape (T, D) or (1, T, D), patches on a square grid.
        patch: the (row, col) of the patch, counted from 0.
        class_token: whether row 0 is the class token's (it is left out).
        title: the figure's title.
        vmin: the similarity drawn darkest (the brightest is 1).

    Returns:
        A matplotlib Figure with two panels.
    """
    sim = position_similarity(table, class_token)  # (N, N)
    side = _grid_side(sim.shape[0], "table")
    r, c = _check_patch(patch, side)
    if isinstance(vmin, bool) or not isinstance(vmin, (int, float)) or not -1.0 <= vmin < 1.0:
        raise ValueError(f"vmin must be a number in [-1, 1), got {vmin!r}")
    i = r * side + c
    row = sim[i]  # (N,)
    dist = patch_distance_matrix(side, 1)[i]  # (N,), in patches
    fig, (a, b) = plt.subplots(1, 2, figsize=(9.0, 3.8), layout="constrained", gridspec_kw=dict(width_ratios=[1, 1.25]))
    im = a.imshow(row.reshape(side, side).numpy(), cmap="viridis", vmin=vmin, vmax=1, interpolation="nearest")
    a.add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor="#ff2d55", linewidth=2))
    a.set_xticks(range(0, side, max(1, side // 7)))  # whole patch numbers, 0-based
    a.set_yticks(range(0, side, max(1, side // 7)))
    a.set_xlabel("patch column (from 0)")
    a.set_ylabel("patch row (from 0)")
    a.set_title(f"cos(e(patch {r}, {c}), e(every patch))", fontsize=10)
    fig.colorbar(im, ax=a, shrink=0.85)
    others = torch.arange(row.shape[0]) != i
    same_line = (torch.arange(row.shape[0]) // side == r) | (torch.arange(row.shape[0]) % side == c)
    for mask, colour, label in ((others & ~same_line, "#6b7280", "other patches"),
                                (others & same_line, "#f59e0b", f"same row {r} or column {c}")):
        b.scatter(dist[mask].numpy(), row[mask].numpy(), s=12, alpha=0.7, color=colour, label=label)
    levels = torch.unique(dist[others])
    b.plot(levels.numpy(), [row[others & (dist == d)].mean().item() for d in levels], color="black", lw=1.2,
           label="mean at each distance")
    b.axhline(0, color="0.5", lw=0.6)
    b.set_xlabel("distance from the patch (in patches)")
    b.set_ylabel("cosine similarity")
    b.set_ylim(min(vmin, float(row.min())) - 0.05, 1.02)
    b.grid(alpha=0.3)
    b.legend(fontsize=8, loc="best")
    fig.suptitle(title or f"Position embedding similarity of patch ({r}, {c}), {side} x {side} grid", fontsize=11)
    return fig


def plot_filter_response(image: torch.Tensor, weight: torch.Tensor, tokens: torch.Tensor, filter: int) -> Figure:
    """One filter of a patch embedding and its entry in every token, laid on the patch grid.

    Args:
        image: the photo, shape (C, H, W), C = 1 or 3, values in [0, 1].
        weight: the conv kernel, shape (D, C, P, P).
        tokens: the photo's tokens, shape (N, D), N = (H/P)(W/P), in row-major patch order.
        filter: the index d of the filter.

    Returns:
        A matplotlib Figure with three panels: the photo with its patch grid,
        filter d (mid-grey is 0), and z[d] of every patch.
    """
    image = check_image(image)
    weight = _tensor(weight, "weight", "(D, C, P, P)", 4)
    tokens = _tensor(tokens, "tokens", "(N, D)", 2)
    D, C, P, _ = weight.shape
    P = check_patch_size(image, P)
    rows, cols = image.shape[1] // P, image.shape[2] // P
    if C != image.shape[0] or tuple(tokens.shape) != (rows * cols, D):
        raise ValueError(f"expected weight with C = {image.shape[0]} channels and tokens of shape ({rows * cols}, {D}) "
                         f"for a {tuple(image.shape)} image with P = {P}; got weight {tuple(weight.shape)}, "
                         f"tokens {tuple(tokens.shape)}")
    if isinstance(filter, bool) or not isinstance(filter, int) or not 0 <= filter < D:
        raise ValueError(f"filter must be an index in [0, {D}), got {filter!r}")
    grey = "gray" if C == 1 else None
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(10.0, 3.6), layout="constrained",
                                  gridspec_kw=dict(width_ratios=[1, 0.8, 1.2]))
    a.imshow(to_display(image.clamp(0, 1)), cmap=grey, vmin=0, vmax=1)
    for k in range(1, rows):
        a.axhline(k * P - 0.5, color="white", lw=0.4, alpha=0.6)
    for k in range(1, cols):
        a.axvline(k * P - 0.5, color="white", lw=0.4, alpha=0.6)
    a.set_title(f"the photo, {rows} x {cols} patches of {P} x {P}", fontsize=10)
    b.imshow(_filter_image(weight[filter]), cmap=grey, vmin=0, vmax=1, interpolation="nearest")
    b.set_title(f"filter {filter} of D = {D}\n({C}x{P}x{P} weights, grey = 0)", fontsize=10)
    z = tokens[:, filter].reshape(rows, cols)  # (H/P, W/P): entry d of every token
    scale = z.abs().max().clamp_min(1e-12).item()
    im = c.imshow(z.numpy(), cmap="RdBu_r", vmin=-scale, vmax=scale, interpolation="nearest")
    c.set_title(f"z[{filter}] of every token, on the patch grid", fontsize=10)
    fig.colorbar(im, ax=c, shrink=0.85)
    for ax in (a, b, c):
        ax.set_xticks([])
        ax.set_yticks([])
    return fig
