"""The map of the whole model that opens chapter 1.

:func:`model_map_steps` lists the steps of a ViT forward pass with the shape
after each one, symbolic ((B, N, D) ...) and in numbers for a given setting;
:func:`plot_model_map` draws them as one row of boxes, each labelled with the
chapter that builds it. The figure is a reading aid: it computes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from .._checks import check_divisible, check_positive_int

__all__ = ["ModelMapStep", "model_map_steps", "plot_model_map"]


@dataclass(frozen=True)
class ModelMapStep:
    """One step of the forward pass in the model map.

    Attributes:
        name: what the step does, in a few words.
        symbolic: the shape after the step in the paper's symbols, e.g. ``"(B, N, D)"``.
        shape: the same shape in numbers.
        chapter: the chapter(s) that build the step, e.g. ``"2"`` or ``"5-6"``.
        article: the same shape as the article writes it (channel last, no
            batch axis), or ``""`` where the article gives none.
    """

    name: str
    symbolic: str
    shape: tuple[int, ...]
    chapter: str
    article: str = ""


def model_map_steps(image_size: int = 224, patch_size: int = 16, channels: int = 3, dim: int = 768, depth: int = 12,
                    num_classes: int = 1000, batch: int = 1) -> list[ModelMapStep]:
    """The steps of a ViT forward pass with the shape after each.

    Args:
        image_size: H = W, in pixels.
        patch_size: P; must divide ``image_size``.
        channels: C.
        dim: D, the hidden size.
        depth: L, the number of encoder blocks.
        num_classes: the number of classes of the head.
        batch: B.

    Returns:
        Eight :class:`ModelMapStep`, from the input images to the logits.

    Raises:
        ValueError: a size is not a positive int, or P does not divide the image size.
    """
    H = check_positive_int(image_size, "image_size")
    P = check_positive_int(patch_size, "patch_size")
    C = check_positive_int(channels, "channels")
    D = check_positive_int(dim, "dim")
    L = check_positive_int(depth, "depth")
    K = check_positive_int(num_classes, "num_classes")
    B = check_positive_int(batch, "batch")
    check_divisible(H, P, "size")
    g = H // P
    N = g * g
    return [
        ModelMapStep("images", "(B, C, H, W)", (B, C, H, H), "1", f"{H}×{H}×{C}"),
        ModelMapStep("cut into patches,\nflatten each", "(B, N, P²C)", (B, N, P * P * C), "1"),
        ModelMapStep("patch embedding\n(linear map E)", "(B, N, D)", (B, N, D), "2", f"{g}×{g}×{D} → {N}×{D}"),
        ModelMapStep("prepend the\nclass token", "(B, N+1, D)", (B, N + 1, D), "3", f"{N + 1}×{D}"),
        ModelMapStep("add position\nembeddings", "(B, N+1, D)", (B, N + 1, D), "4", f"+ 1×{N + 1}×{D}"),
        ModelMapStep(f"L = {L} encoder\nblocks", "(B, N+1, D)", (B, N + 1, D), "5–6"),
        ModelMapStep("final LayerNorm,\ntake token 0", "(B, D)", (B, D), "7"),
        ModelMapStep("linear head", "(B, classes)", (B, K), "7"),
    ]


def plot_model_map(image_size: int = 224, patch_size: int = 16, channels: int = 3, dim: int = 768, depth: int = 12,
                   num_classes: int = 1000, batch: int = 1) -> Figure:
    """Draw the whole ViT as one row of boxes with the shape after each step.

    Each box gives the step, its chapter, the shape in the paper's symbols and
    the shape in numbers (PyTorch's channel-first order). Below the first
    boxes, in italics, the shapes as the article writes them (channel last,
    no batch axis: 224 x 224 x 3 for an image).
    Arguments as in :func:`model_map_steps`.

    Returns:
        A matplotlib ``Figure``.
    """
    steps = model_map_steps(image_size, patch_size, channels, dim, depth, num_classes, batch)
    width, gap = 1.55, 0.45
    fig, ax = plt.subplots(figsize=(len(steps) * (width + gap) * 0.78, 2.9))
    ax.set_xlim(-0.1, len(steps) * (width + gap) - gap + 0.1)
    ax.set_ylim(-1.25, 1.35)
    ax.axis("off")
    colours = {"1": "#dbe9f6", "2": "#d9f0d3", "3": "#fde0c5", "4": "#fde0c5", "5–6": "#e5d8f0", "7": "#f6d5d5"}
    for k, step in enumerate(steps):
        x = k * (width + gap)
        box = FancyBboxPatch((x, -0.85), width, 1.9, boxstyle="round,pad=0.02,rounding_size=0.08",
                             facecolor=colours.get(step.chapter, "#eeeeee"), edgecolor="#555555")
        ax.add_patch(box)
        ax.text(x + width / 2, 0.78, f"ch. {step.chapter}", ha="center", va="center", fontsize=8, color="#444444")
        ax.text(x + width / 2, 0.32, step.name, ha="center", va="center", fontsize=9)
        ax.text(x + width / 2, -0.25, step.symbolic, ha="center", va="center", fontsize=9.5, fontweight="bold")
        numbers = "(" + ", ".join(str(s) for s in step.shape) + ")"
        ax.text(x + width / 2, -0.62, numbers, ha="center", va="center", fontsize=8.5, family="monospace")
        if k + 1 < len(steps):
            arrow = FancyArrowPatch((x + width + 0.03, 0.1), (x + width + gap - 0.03, 0.1),
                                    arrowstyle="-|>", mutation_scale=12, color="#333333")
            ax.add_patch(arrow)
        if step.article:
            ax.text(x + width / 2, -1.07, f"article: {step.article}", ha="center", va="center",
                    fontsize=7.5, style="italic")
    H = steps[0].shape[2]
    N, D = steps[2].shape[1], steps[2].shape[2]
    P = patch_size
    fig.suptitle(
        f"ViT at a glance: H = W = {H}, P = {P}, N = HW/P² = {N}, D = {D}, "
        f"L = {depth}, {num_classes} classes, B = {batch}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig
