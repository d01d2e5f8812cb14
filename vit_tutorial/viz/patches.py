"""Figures for chapter 1: an image cut into patches, and the sequence they make.

Every function takes an image tensor of shape (C, H, W) with C = 1 or 3 and
values in [0, 1] (as :func:`vit_tutorial.images.load_photo` returns), and a
patch size P that divides H and W. Patches are numbered in the order of
:func:`vit_tutorial.patches.patchify`: row-major over the (H/P) x (W/P) grid.
Each function returns a matplotlib ``Figure`` and never calls ``plt.show()``.
"""
from __future__ import annotations

import io
from typing import Sequence

import matplotlib
import matplotlib.patheffects
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from ._checks import check_image, check_patch_size
from .._checks import check_positive_int
from ..images import to_display
from ..patches import patchify
from ._animation import offline_jshtml

__all__ = [
    "patch_sizes_dividing",
    "plot_patch_grid",
    "plot_patch_sequence",
    "plot_patch_matrix",
    "plot_shuffled_patches",
    "animate_patch_sizes",
    "figure_to_png",
]

_LABEL_STYLE = dict(color="white", ha="center", va="center", fontweight="bold")
# Two alternating colours mark which grid row a patch of the sequence came from.
_ROW_COLOURS = ("#1f77b4", "#ff7f0e")


def patch_sizes_dividing(size: int, smallest: int = 2, largest: int | None = None) -> list[int]:
    """The patch sizes P that cut a ``size`` x ``size`` image exactly.

    Args:
        size: H = W, the side of the image.
        smallest: the smallest P to list.
        largest: the largest P to list (default ``size // 2``: at least a 2x2 grid).

    Returns:
        The divisors of ``size`` between ``smallest`` and ``largest``, increasing.
    """
    check_positive_int(size, "size")
    check_positive_int(smallest, "smallest")
    largest = size // 2 if largest is None else check_positive_int(largest, "largest")
    if smallest > largest:
        raise ValueError(f"smallest ({smallest}) must not exceed largest ({largest})")
    return [p for p in range(smallest, largest + 1) if size % p == 0]


def _draw_grid(ax: plt.Axes, image: torch.Tensor, P: int, show_index: bool | None, fontsize: float | None) -> None:
    """Draw ``image`` on ``ax`` with the patch grid and (optionally) patch numbers."""
    C, H, W = image.shape
    rows, cols = H // P, W // P
    ax.imshow(to_display(image), cmap="gray" if C == 1 else None, vmin=0, vmax=1, extent=(0, W, H, 0))
    for k in range(1, cols):
        ax.axvline(k * P, color="white", lw=1.2 if cols <= 32 else 0.4)
    for k in range(1, rows):
        ax.axhline(k * P, color="white", lw=1.2 if rows <= 32 else 0.4)
    if show_index is None:
        show_index = max(rows, cols) <= 16
    if show_index:
        size = fontsize or max(5.0, min(14.0, 120.0 / max(rows, cols)))
        for r in range(rows):
            for c in range(cols):
                t = ax.text((c + 0.5) * P, (r + 0.5) * P, str(r * cols + c), fontsize=size, **_LABEL_STYLE)
                t.set_path_effects([matplotlib.patheffects.withStroke(linewidth=2, foreground="black")])
    ax.set_xticks([])
    ax.set_yticks([])


def plot_patch_grid(
    image: torch.Tensor,
    patch_size: int,
    show_index: bool | None = None,
    title: str | None = None,
    size: float = 5.0,
) -> Figure:
    """The image with its patch grid drawn on it, each patch numbered.

    Args:
        image: tensor of shape (C, H, W), C = 1 or 3, values in [0, 1].
        patch_size: P; must divide H and W.
        show_index: write each patch's number on it (default: only when the
            grid has at most 16 patches per side).
        title: the figure's title (default: "P = .., N = rows x cols = ..").
        size: the figure's width in inches.

    Returns:
        A matplotlib Figure.
    """
    image = check_image(image)
    P = check_patch_size(image, patch_size)
    C, H, W = image.shape
    rows, cols = H // P, W // P
    fig, ax = plt.subplots(figsize=(size, size * H / W + 0.5), layout="constrained")
    _draw_grid(ax, image, P, show_index, None)
    ax.set_title(title or f"P = {P}: a {rows} x {cols} grid, N = {rows * cols} patches")
    return fig


def plot_patch_sequence(image: torch.Tensor, patch_size: int, max_patches: int = 18) -> Figure:
    """The patches laid out in sequence order, as a strip.

    Each patch is framed in a colour that alternates with its grid row, so
    the strip shows that the sequence is the first row of the grid, then the
    second, and so on. Long sequences show their first ``max_patches - 2``
    patches, a gap, and the last patch.

    Args:
        image: tensor of shape (C, H, W), C = 1 or 3, values in [0, 1].
        patch_size: P; must divide H and W.
        max_patches: the most patches drawn (at least 4).

    Returns:
        A matplotlib Figure.
    """
    image = check_image(image)
    P = check_patch_size(image, patch_size)
    max_patches = check_positive_int(max_patches, "max_patches")
    if max_patches < 4:
        raise ValueError(f"max_patches must be at least 4, got {max_patches}")
    C, H, W = image.shape
    cols = W // P
    N = (H // P) * cols
    seq = patchify(image[None], P)[0].reshape(N, C, P, P)  # (N, C, P, P)
    if N <= max_patches:
        shown: list[int | None] = list(range(N))
    else:
        shown = list(range(max_patches - 2)) + [None, N - 1]
    strip_width = 0.6 * len(shown) + 0.4
    width = max(strip_width, 6.0)
    margin = (1 - strip_width / width) / 2 + 0.01
    fig, axes = plt.subplots(1, len(shown), figsize=(width, 1.75), squeeze=False)
    fig.subplots_adjust(left=margin, right=1 - margin, bottom=0.22, top=0.66, wspace=0.14)
    for j, i in enumerate(shown):
        ax = axes[0, j]
        ax.set_xticks([])
        ax.set_yticks([])
        if i is None:
            ax.text(0.5, 0.5, "...", ha="center", va="center", fontsize=14, transform=ax.transAxes)
            ax.axis("off")
            continue
        ax.imshow(to_display(seq[i]), cmap="gray" if C == 1 else None, vmin=0, vmax=1)
        ax.set_title(str(i), fontsize=11, pad=3)
        colour = _ROW_COLOURS[(i // cols) % 2]
        for spine in ax.spines.values():
            spine.set_edgecolor(colour)
            spine.set_linewidth(3)
        if i % cols == 0 or (j == len(shown) - 1 and shown[j - 1] is None):
            ax.set_xlabel(f"row {i // cols}", fontsize=11, color=colour, labelpad=3, loc="left")
    fig.suptitle(f"The sequence: {N} patches of {C}x{P}x{P} = {C * P * P} values each, row by row",
                 fontsize=13, y=0.97)
    return fig


def plot_patch_matrix(image: torch.Tensor, patch_size: int) -> Figure:
    """The image's patch grid beside the (N, C*P*P) matrix it becomes.

    Row n of the matrix is patch n flattened channel first (all red values,
    then green, then blue, each row by row); a cell is drawn in its channel's
    colour at its intensity, so the three channel blocks are easy to see.

    Args:
        image: tensor of shape (C, H, W), C = 1 or 3, values in [0, 1].
        patch_size: P; must divide H and W.

    Returns:
        A matplotlib Figure.
    """
    image = check_image(image)
    P = check_patch_size(image, patch_size)
    C, H, W = image.shape
    N = (H // P) * (W // P)
    K = C * P * P
    seq = patchify(image[None].clamp(0, 1), P)[0]  # (N, C*P*P)
    rgb = np.zeros((N, K, 3))
    for c in range(C):
        block = seq[:, c * P * P : (c + 1) * P * P].numpy()  # (N, P*P)
        for k in range(3):
            rgb[:, c * P * P : (c + 1) * P * P, k] = block if (C == 1 or k == c) else 0.0
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(10, 3.4), layout="constrained", gridspec_kw=dict(width_ratios=[1, 2.6])
    )
    _draw_grid(left, image, P, N <= 16, None)
    left.set_title(f"{C}x{H}x{W} image, P = {P}")
    right.imshow(rgb, aspect="auto", interpolation="nearest", extent=(0, K, N, 0))
    for c in range(1, C):
        right.axvline(c * P * P, color="white", lw=2)
    for n in range(1, N if N <= 64 else 0):
        right.axhline(n, color="white", lw=0.8)
    if N <= 64:
        right.set_yticks(np.arange(N) + 0.5, [str(n) for n in range(N)])
    names = ("R", "G", "B") if C == 3 else ("gray",)
    right.set_xticks([(c + 0.5) * P * P for c in range(C)],
                     [f"{names[c]}: {P * P} values" for c in range(C)])
    right.set_ylabel("patch n (sequence position)")
    right.set_title(f"the sequence: N x C*P*P = {N} x {K}")
    return fig


def plot_shuffled_patches(image: torch.Tensor, patch_size: int, perm: torch.Tensor) -> Figure:
    """The image beside the same patches put back in a shuffled order.

    Args:
        image: tensor of shape (C, H, W), C = 1 or 3, values in [0, 1].
        patch_size: P; must divide H and W.
        perm: a permutation of range(N), shape (N,): shuffled patch n is
            original patch ``perm[n]``.

    Returns:
        A matplotlib Figure.
    """
    image = check_image(image)
    P = check_patch_size(image, patch_size)
    C, H, W = image.shape
    N = (H // P) * (W // P)
    if not isinstance(perm, torch.Tensor) or perm.shape != (N,) or not torch.equal(
        perm.sort().values, torch.arange(N)
    ):
        raise ValueError(
            f"perm must be a permutation of range({N}) as a tensor of shape ({N},), "
            f"got {getattr(perm, 'shape', type(perm).__name__)}"
        )
    seq = patchify(image[None], P)  # (1, N, C*P*P)
    shuffled = seq[:, perm]  # (1, N, C*P*P)
    from ..patches import unpatchify

    shuffled_image = unpatchify(shuffled, P, (H, W), C)[0]  # (C, H, W)
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 4.3), layout="constrained")
    _draw_grid(a, image, P, False, None)
    _draw_grid(b, shuffled_image, P, False, None)
    a.set_title("the patches in order")
    b.set_title("the same patches, shuffled")
    return fig


def animate_patch_sizes(
    image: torch.Tensor, patch_sizes: Sequence[int], size: float = 3.6, dpi: int = 70, interval: int = 900
) -> str:
    """A kernel-free animation that sweeps the patch size over ``image``.

    Each frame is :func:`plot_patch_grid`'s picture for one P. Frames are
    stored as JPEG so that the page stays light.

    Args:
        image: tensor of shape (C, H, W), C = 1 or 3, values in [0, 1].
        patch_sizes: the values of P, one frame each; each must divide H and W.
        size: the figure's width in inches.
        dpi: the frames' resolution.
        interval: milliseconds between frames.

    Returns:
        The animation as an HTML string (``FuncAnimation.to_jshtml``), for
        ``IPython.display.HTML``.
    """
    from matplotlib.animation import FuncAnimation

    image = check_image(image)
    sizes = list(patch_sizes) if isinstance(patch_sizes, (list, tuple, range)) else []
    if not sizes:
        raise ValueError(f"patch_sizes must be a non-empty sequence of ints, got {patch_sizes!r}")
    sizes = [check_patch_size(image, p) for p in sizes]
    C, H, W = image.shape
    with matplotlib.rc_context({"animation.frame_format": "jpeg", "savefig.dpi": dpi, "figure.dpi": dpi}):
        fig, ax = plt.subplots(figsize=(size, size * H / W + 0.4), layout="constrained")

        def draw(k: int) -> list:
            ax.clear()
            P = sizes[k]
            _draw_grid(ax, image, P, None, None)
            ax.set_title(f"P = {P}: N = {H // P} x {W // P} = {(H // P) * (W // P)}", fontsize=10)
            return []

        anim = FuncAnimation(fig, draw, frames=len(sizes), interval=interval, blit=False)
        html = offline_jshtml(anim)
    plt.close(fig)
    return html


def figure_to_png(fig: Figure, dpi: int = 80) -> bytes:
    """Render ``fig`` to PNG bytes and close it (for ``ipywidgets.Image``)."""
    if not isinstance(fig, Figure):
        raise ValueError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    check_positive_int(dpi, "dpi")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()
