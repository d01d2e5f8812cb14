"""Explorer for chapter 10: any image, layer, head and query token of a
trained ViT. A thin wrapper over :func:`vit_tutorial.viz.analysis.plot_query_attention`.
"""
from __future__ import annotations

import ipywidgets as widgets
import torch
from torch import nn

from .._checks import check_positive_int
from ..analysis import collect_attentions
from ..viz._checks import check_images
from ..viz.analysis import plot_query_attention
from ..viz.patches import figure_to_png
from ._layout import DPI, ExplorerBox, picture

__all__ = ["attention_explorer"]


def attention_explorer(
    model: nn.Module,
    images: torch.Tensor,
    titles: list[str] | None = None,
    num_prefix_tokens: int = 1,
    dpi: int = DPI,
) -> widgets.VBox:
    """Explore a ViT's attention: pick an image, a layer, a head (or the mean
    of the heads) and a query token (the class token or any patch).

    The attention of all images is computed once, when the explorer is built
    (``model(images, return_attention=True)`` without gradients); moving a
    control only redraws the figure.

    Args:
        model: a :class:`~vit_tutorial.model.ViT` (or any module whose
            ``forward(images, return_attention=True)`` returns
            ``(logits, [L tensors (B, h, T, T)])``).
        images: tensor (B, C, H, W), the images to explore.
        titles: one label per image for the image menu (e.g. "label 7"), or None.
        num_prefix_tokens: tokens before the patches (1: the class token).
        dpi: resolution of the figure.

    Returns:
        A ``VBox`` with the controls on top and the figure below. Its
        ``controls`` attribute maps "image", "layer", "head" and "query" to
        the control widgets, and ``figure`` is the ``ipywidgets.Image``.
    """
    images, attentions = _checked_attentions(model, images, titles, dpi)  # L x (B, h, T, T)
    B, L = images.shape[0], len(attentions)
    _, h, T, _ = attentions[0].shape
    side = round((T - num_prefix_tokens) ** 0.5)

    controls = _controls(titles, B, L, h, side, num_prefix_tokens)
    figure = picture()

    def redraw(_=None) -> None:
        head = controls["head"].value
        fig = plot_query_attention(
            images[controls["image"].value], attentions, layer=controls["layer"].value - 1,
            head=None if head < 0 else head, query=controls["query"].value,
            index=controls["image"].value, num_prefix_tokens=num_prefix_tokens,
        )
        figure.value = figure_to_png(fig, dpi=dpi)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    box = ExplorerBox(
        [widgets.HBox([controls["image"], controls["layer"]]), widgets.HBox([controls["head"], controls["query"]]), figure],
        "Attention explorer",
    )
    box.controls = controls
    box.figure = figure
    return box


def _checked_attentions(model: object, images: object, titles: object,
                        dpi: object) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """:func:`attention_explorer`'s checks; the images and their attention, L tensors (B, h, T, T), in eval mode."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch nn.Module (a ViT), got {type(model).__name__}")
    images = check_images(images)
    B = images.shape[0]
    if titles is not None and len(titles) != B:
        raise ValueError(f"titles must have one entry per image ({B}), got {len(titles)}")
    check_positive_int(dpi, "dpi")
    return images, collect_attentions(model, images)


def _controls(titles: list[str] | None, B: int, L: int, h: int, side: int,
              num_prefix_tokens: int) -> dict[str, widgets.Widget]:
    """The image, layer, head and query controls, starting at image 0, layer 1, the mean of the heads, the class token."""
    image_options = [(titles[b] if titles else f"image {b}", b) for b in range(B)]
    query_options = [("class token", 0)] + [
        (f"patch (row {r}, col {c})", num_prefix_tokens + r * side + c) for r in range(side) for c in range(side)
    ]
    head_options = [("mean of heads", -1)] + [(f"head {k + 1}", k) for k in range(h)]
    style = {"description_width": "initial"}
    return {
        "image": widgets.Dropdown(options=image_options, value=0, description="image", style=style),
        "layer": widgets.IntSlider(value=1, min=1, max=L, description="layer", style=style, continuous_update=False),
        "head": widgets.Dropdown(options=head_options, value=-1, description="head", style=style),
        "query": widgets.Dropdown(options=query_options, value=0, description="query", style=style),
    }
