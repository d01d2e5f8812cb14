"""Explorers for chapters 6-8: the encoder block, the head and loss, the whole model.

* :class:`ResidualExplorer` (chapter 6): how alike the patch tokens are after
  each block, with and without the residual connections; a thin wrapper over
  :func:`vit_tutorial.viz.plot_token_similarity_depth`.
* :class:`LossExplorer` (chapter 7): scale one image's logits, pick its true
  class and a label smoothing, and read the probabilities and the loss; a
  thin wrapper over :func:`vit_tutorial.viz.plot_class_probabilities`.
* :class:`CostExplorer` (chapter 8): a model size, a patch size and an image
  size, and the parameters and FLOPs part by part; a thin wrapper over
  :func:`vit_tutorial.viz.plot_model_cost`.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import ipywidgets as widgets
import torch
import torch.nn.functional as F

from .._checks import check_positive_int
from ..config import PRESETS, ViTConfig, vit_config
from ..flops import parameter_breakdown, vit_flops
from ..viz.model import plot_class_probabilities, plot_model_cost, plot_token_similarity_depth
from ..viz.patches import figure_to_png
from ._layout import DPI, picture

__all__ = ["ResidualExplorer", "residual_explorer", "LossExplorer", "loss_explorer", "CostExplorer", "cost_explorer"]

_WIDE = dict(continuous_update=False, style={"description_width": "initial"}, layout=widgets.Layout(width="360px"))


class ResidualExplorer(widgets.VBox):
    """A block slider and a choice of stream above the patch tokens' similarity
    matrix after that block and the mean similarity after every block.

    Args:
        streams: label -> the L + 1 token states of one image, each (T, D) or
            (1, T, D): the encoder's input, then the state after each block
            (e.g. ``{"with residuals": [...], "without": [...]}``).
        block: the block shown first (default: the last).
        shown: the label shown first (default: the first).
        dpi: resolution of the picture.
    """

    def __init__(self, streams: Mapping[str, Sequence[torch.Tensor]], block: int | None = None,
                 shown: str | None = None, dpi: int = DPI) -> None:
        if (not isinstance(streams, Mapping) or not streams
                or not all(isinstance(v, (list, tuple)) and v for v in streams.values())):
            raise ValueError(f"streams must be a non-empty dict label -> list of (T, D) states, got {streams!r}")
        labels = list(streams)
        L = len(next(iter(streams.values()))) - 1
        block = L if block is None else block
        if isinstance(block, bool) or not isinstance(block, int) or not 0 <= block <= L:
            raise ValueError(f"block must be an integer in [0, {L}], got {block!r}")
        shown = labels[0] if shown is None else shown
        if shown not in labels:
            raise ValueError(f"shown must be one of {labels}, got {shown!r}")
        self.streams, self.dpi = dict(streams), check_positive_int(dpi, "dpi")
        self.block = widgets.IntSlider(value=block, min=0, max=L, description="after block", **_WIDE)
        self.shown = widgets.ToggleButtons(options=labels, value=shown, description="stream")
        self.picture = picture()
        super().__init__([widgets.HBox([self.block, self.shown]), self.picture])
        for w in (self.block, self.shown):
            w.observe(self.update, names="value")
        self.update()

    def __repr__(self) -> str:  # short and stable: the text shown where widgets cannot render
        return f"ResidualExplorer(block={self.block.value}, shown={self.shown.value!r})"

    def update(self, change: object = None) -> None:
        """Redraw the picture for the current block and stream."""
        fig = plot_token_similarity_depth(self.streams, self.block.value, self.shown.value)
        self.picture.value = figure_to_png(fig, self.dpi)


def residual_explorer(streams: Mapping[str, Sequence[torch.Tensor]], block: int | None = None,
                      shown: str | None = None) -> ResidualExplorer:
    """Build a :class:`ResidualExplorer` (display it as a cell's last value)."""
    return ResidualExplorer(streams, block, shown)


class LossExplorer(widgets.VBox):
    """Sliders for the scale of one image's logits, its true class and a
    label smoothing, above its logits and probabilities and its loss.

    Scale 0 makes every logit 0 (the paper's zero head): every class gets
    1/K and the loss is log K. A large scale sharpens the softmax.

    Args:
        logits: (K,) the logits of one image.
        label: the true class shown first, in [0, K).
        class_names: K names for the x axis (default 0 .. K-1).
        dpi: resolution of the picture.
    """

    def __init__(self, logits: torch.Tensor, label: int = 0, class_names: Sequence[str] | None = None,
                 dpi: int = DPI) -> None:
        if not isinstance(logits, torch.Tensor) or logits.dim() != 1 or logits.shape[0] < 2:
            got = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
            raise ValueError(f"logits must be a tensor of shape (K,) with K >= 2 classes, got {got}")
        K = logits.shape[0]
        if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < K:
            raise ValueError(f"label must be a class index in [0, {K}), got {label!r}")
        names = [str(i) for i in range(K)] if class_names is None else list(class_names)
        if len(names) != K:
            raise ValueError(f"class_names must have one name per class ({K}), got {len(names)}")
        self.logits, self.names = logits.detach().float().cpu(), names
        self.dpi = check_positive_int(dpi, "dpi")
        self.scale = widgets.SelectionSlider(options=[0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0], value=1.0,
                                             description="logits x", **_WIDE)
        self.label = widgets.Dropdown(options=[(n, i) for i, n in enumerate(names)], value=label,
                                      description="true class")
        self.smoothing = widgets.SelectionSlider(options=[0.0, 0.05, 0.1, 0.2, 0.3], value=0.0,
                                                 description="label smoothing", **_WIDE)
        self.summary = widgets.HTML()
        self.picture = picture()
        super().__init__([widgets.HBox([self.scale, self.label]), self.smoothing, self.summary, self.picture])
        for w in (self.scale, self.label, self.smoothing):
            w.observe(self.update, names="value")
        self.update()

    def __repr__(self) -> str:  # short and stable: the text shown where widgets cannot render
        return (f"LossExplorer(scale={self.scale.value:g}, label={self.label.value}, "
                f"label_smoothing={self.smoothing.value:g})")

    def update(self, change: object = None) -> None:
        """Redraw the picture and the losses for the current settings."""
        z, y, eps = self.logits * self.scale.value, self.label.value, self.smoothing.value
        K = z.shape[0]
        target = torch.tensor([y])
        plain = F.cross_entropy(z[None], target).item()
        smoothed = F.cross_entropy(z[None], target, label_smoothing=eps).item()
        q = torch.full((K,), eps / K)  # the smoothed target: eps/K everywhere, 1 - eps + eps/K on the label
        q[y] += 1.0 - eps
        floor = max(0.0, -(q * q.clamp_min(1e-30).log()).sum().item())  # its entropy: the least loss it allows
        self.summary.value = (
            f"cross-entropy <b>{plain:.3f}</b> (log K = {math.log(K):.3f}); with label smoothing {eps:g}: "
            f"<b>{smoothed:.3f}</b>, which no logits can bring below the smoothed target's entropy, "
            f"<b>{floor:.3f}</b>.")
        fig = plot_class_probabilities(z, y, self.names, title=f"logits x {self.scale.value:g}, true class "
                                       f"{self.names[y]} (blue)")
        self.picture.value = figure_to_png(fig, self.dpi)


def loss_explorer(logits: torch.Tensor, label: int = 0, class_names: Sequence[str] | None = None) -> LossExplorer:
    """Build a :class:`LossExplorer` (display it as a cell's last value)."""
    return LossExplorer(logits, label, class_names)


def _image_sizes(P: int) -> list[int]:
    """Image sizes from 112 to 640 pixels that P divides."""
    return [P * k for k in range(-(-112 // P), 640 // P + 1)]


class CostExplorer(widgets.VBox):
    """A model size, a patch size P and an image size above the parameters and
    FLOPs per image, part by part, next to the paper's model of that size at
    224 pixels.

    Args:
        size: the preset shown first: "ViT-B/16", "ViT-L/16" or "ViT-H/14" (:data:`vit_tutorial.config.PRESETS`).
        patch_size: P shown first.
        image_size: H = W shown first; P must divide it.
        dpi: resolution of the picture.
    """

    PATCH_SIZES = (8, 14, 16, 32)

    def __init__(self, size: str = "ViT-B/16", patch_size: int = 16, image_size: int = 224, dpi: int = DPI) -> None:
        sizes = [n for n in PRESETS if n != "ViT-Tiny"]  # the paper's three (Table 1)
        if size not in sizes:
            raise ValueError(f"size must be one of {sizes}, got {size!r}")
        if patch_size not in self.PATCH_SIZES:
            raise ValueError(f"patch_size must be one of {list(self.PATCH_SIZES)}, got {patch_size!r}")
        if image_size not in _image_sizes(patch_size):
            raise ValueError(f"image_size must be a multiple of patch_size {patch_size} from 112 to 640, "
                             f"got {image_size!r}")
        self.dpi = check_positive_int(dpi, "dpi")
        self._quiet = False
        self.size = widgets.Dropdown(options=sizes, value=size, description="preset")
        self.patch_size = widgets.SelectionSlider(options=list(self.PATCH_SIZES), value=patch_size,
                                                  description="patch size P", **_WIDE)
        self.image_size = widgets.SelectionSlider(options=_image_sizes(patch_size), value=image_size,
                                                  description="image size", **_WIDE)
        self.summary = widgets.HTML()
        self.picture = picture()
        super().__init__([self.size, widgets.HBox([self.patch_size, self.image_size]), self.summary, self.picture])
        self.patch_size.observe(self._new_patch_size, names="value")
        for w in (self.size, self.image_size):
            w.observe(self.update, names="value")
        self.update()

    def __repr__(self) -> str:  # short and stable: the text shown where widgets cannot render
        return (f"CostExplorer(size={self.size.value!r}, patch_size={self.patch_size.value}, "
                f"image_size={self.image_size.value})")

    def config(self) -> ViTConfig:
        """The :class:`~vit_tutorial.config.ViTConfig` the controls describe."""
        return vit_config(self.size.value, patch_size=self.patch_size.value, image_size=self.image_size.value)

    def _new_patch_size(self, change: object = None) -> None:
        """Offer the image sizes the new P divides, keeping the nearest to the current one; redraw once."""
        P, old = self.patch_size.value, self.image_size.value
        options = _image_sizes(P)
        self._quiet = True
        self.image_size.options = options
        self.image_size.value = min(options, key=lambda s: abs(s - old))
        self._quiet = False
        self.update()

    def update(self, change: object = None) -> None:
        """Redraw the picture and the counts for the current settings."""
        if self._quiet:
            return
        cfg, name = self.config(), self.size.value
        N = (cfg.image_size // cfg.patch_size) ** 2
        params, flops = parameter_breakdown(cfg)["total"], vit_flops(cfg)
        products = flops["attention_scores"] + flops["attention_values"]
        self.summary.value = (
            f"{cfg.image_size} px / P = {cfg.patch_size}: N = <b>{N}</b> patches, T = N + 1 = <b>{N + 1}</b> tokens; "
            f"<b>{params / 1e6:,.1f}M</b> parameters, <b>{flops['total'] / 1e9:,.1f}</b> GFLOPs per image, "
            f"of which the T x T products QK<sup>T</sup> and AV are <b>{products / flops['total']:.0%}</b>.")
        base = f"{name}, its own P at 224 px"
        chosen = f"chosen: P = {cfg.patch_size}, {cfg.image_size} px"
        fig = plot_model_cost({base: vit_config(name), chosen: cfg})
        self.picture.value = figure_to_png(fig, self.dpi)


def cost_explorer(size: str = "ViT-B/16", patch_size: int = 16, image_size: int = 224) -> CostExplorer:
    """Build a :class:`CostExplorer` (display it as a cell's last value)."""
    return CostExplorer(size, patch_size, image_size)
