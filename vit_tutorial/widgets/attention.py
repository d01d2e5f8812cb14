"""Explorer for chapter 5: move a query patch over a photo and watch where
each of the four hand-set heads of
:func:`vit_tutorial.viz.handcrafted_attention` looks. A thin wrapper over
:func:`vit_tutorial.viz.plot_head_attention`.
"""
from __future__ import annotations

from typing import Sequence

import ipywidgets as widgets
import torch

from .._checks import check_positive_int
from ..images import PHOTOS, load_photo
from ..viz.attention import DEFAULT_SHARPNESS, handcrafted_attention, plot_head_attention
from ..viz.patches import figure_to_png
from ._layout import DPI, picture

__all__ = ["HeadAttentionExplorer", "head_attention_explorer"]


class HeadAttentionExplorer(widgets.VBox):
    """Photo, query row and column, and a sharpness factor, above the
    picture of every head's attention from the query patch.

    Args:
        photos: names of bundled photos (see :data:`vit_tutorial.images.PHOTOS`).
        query: the (row, col) query patch shown first.
        image_size: H = W of the photos.
        patch_size: P; must divide ``image_size``.
        dpi: resolution of the picture.
    """

    def __init__(
        self,
        photos: Sequence[str] = ("astronaut", "chelsea", "coffee", "rocket"),
        query: tuple[int, int] = (10, 3),
        image_size: int = 224,
        patch_size: int = 16,
        dpi: int = DPI,
    ) -> None:
        photos = list(photos) if not isinstance(photos, str) else [photos]
        unknown = [p for p in photos if p not in PHOTOS]
        if not photos or unknown:
            raise ValueError(f"photos must be names from {', '.join(PHOTOS)}; got {photos!r}")
        check_positive_int(image_size, "image_size")
        check_positive_int(patch_size, "patch_size")
        if image_size % patch_size:
            raise ValueError(f"patch_size {patch_size} must divide image_size {image_size} (remainder {image_size % patch_size})")
        side = image_size // patch_size
        ok = (isinstance(query, (tuple, list)) and len(query) == 2
              and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < side for v in query))
        if not ok:
            raise ValueError(f"query must be a (row, col) patch inside the {side} x {side} grid, got {query!r}")
        self.dpi = check_positive_int(dpi, "dpi")
        self.image_size, self.patch_size = image_size, patch_size
        self._cache: dict[tuple[str, float], tuple[torch.Tensor, torch.Tensor, tuple[str, ...]]] = {}
        slider = dict(continuous_update=False, style={"description_width": "initial"},
                      layout=widgets.Layout(width="300px"))
        self.photo = widgets.Dropdown(options=photos, value=photos[0], description="photo")
        self.row = widgets.IntSlider(value=query[0], min=0, max=side - 1, description="query row", **slider)
        self.col = widgets.IntSlider(value=query[1], min=0, max=side - 1, description="query column", **slider)
        self.sharpness = widgets.SelectionSlider(
            options=[0.25, 0.5, 1.0, 2.0, 4.0], value=1.0, description="sharpness x", **slider
        )
        self.picture = picture()
        super().__init__([widgets.HBox([self.photo, self.sharpness]), widgets.HBox([self.row, self.col]), self.picture])
        for w in (self.photo, self.row, self.col, self.sharpness):
            w.observe(self.update, names="value")
        self.update()

    def __repr__(self) -> str:  # short and stable: the text shown where widgets cannot render
        return (f"HeadAttentionExplorer(photo={self.photo.value!r}, query=({self.row.value}, {self.col.value}), "
                f"sharpness x {self.sharpness.value})")

    def attention(self, name: str, factor: float) -> tuple[torch.Tensor, torch.Tensor, tuple[str, ...]]:
        """(image, weights (h, N, N), head names) for a photo and sharpness factor (cached)."""
        key = (name, factor)
        if key not in self._cache:
            image = load_photo(name, self.image_size)
            demo = handcrafted_attention(image, self.patch_size, [s * factor for s in DEFAULT_SHARPNESS])
            with torch.no_grad():
                _, weights = demo.layer(demo.tokens, return_attention=True)  # (1, h, N, N)
            self._cache[key] = (image, weights[0], demo.head_names)
        return self._cache[key]

    def update(self, change: object = None) -> None:
        """Redraw the picture for the current settings."""
        image, weights, names = self.attention(self.photo.value, self.sharpness.value)
        fig = plot_head_attention(image, weights, (self.row.value, self.col.value), self.patch_size, names, ncols=3)
        self.picture.value = figure_to_png(fig, self.dpi)


def head_attention_explorer(
    photos: Sequence[str] = ("astronaut", "chelsea", "coffee", "rocket"), query: tuple[int, int] = (10, 3)
) -> HeadAttentionExplorer:
    """Build an :class:`HeadAttentionExplorer` (display it as a cell's last value)."""
    return HeadAttentionExplorer(photos, query)
