"""Explorer for chapter 1: pick a photo and a patch size, see the patch grid
and the sequence it becomes. A thin wrapper over
:func:`vit_tutorial.viz.plot_patch_grid` and
:func:`vit_tutorial.viz.plot_patch_sequence`.
"""
from __future__ import annotations

from typing import Sequence

import ipywidgets as widgets
import torch

from .._checks import check_positive_int
from ..images import PHOTOS, load_photo
from ..viz.patches import figure_to_png, patch_sizes_dividing, plot_patch_grid, plot_patch_sequence
from ._layout import DPI, picture

__all__ = ["PatchExplorer", "patch_explorer"]


class PatchExplorer(widgets.VBox):
    """A photo chooser and a patch-size slider above two pictures: the photo
    cut into its patch grid, and the first patches of the sequence.

    Args:
        photos: names of bundled photos to choose from (see
            :data:`vit_tutorial.images.PHOTOS`).
        image_size: H = W of the photos.
        patch_size: the P shown first; must divide ``image_size``.
        dpi: resolution of the pictures.
    """

    def __init__(
        self,
        photos: Sequence[str] = ("astronaut", "chelsea", "coffee", "rocket"),
        image_size: int = 224,
        patch_size: int = 16,
        dpi: int = DPI,
    ) -> None:
        photos = list(photos) if not isinstance(photos, str) else [photos]
        unknown = [p for p in photos if p not in PHOTOS]
        if not photos or unknown:
            raise ValueError(f"photos must be names from {', '.join(PHOTOS)}; got {photos!r}")
        check_positive_int(image_size, "image_size")
        sizes = patch_sizes_dividing(image_size, 2, image_size // 2)
        if patch_size not in sizes:
            raise ValueError(
                f"patch_size must divide image_size {image_size} and leave at least a 2x2 grid; "
                f"expected one of {sizes}, got {patch_size!r}"
            )
        self.dpi = check_positive_int(dpi, "dpi")
        self.image_size = image_size
        self._cache: dict[str, torch.Tensor] = {}
        self.photo = widgets.Dropdown(options=photos, value=photos[0], description="photo")
        self.patch_size = widgets.SelectionSlider(
            options=sizes, value=patch_size, description="patch size P", continuous_update=False,
            style={"description_width": "initial"}, layout=widgets.Layout(width="420px"),
        )
        self.summary = widgets.HTML()
        self.grid = picture("380px")
        self.sequence = picture()
        super().__init__([widgets.HBox([self.photo, self.patch_size]), self.summary, self.grid, self.sequence])
        self.photo.observe(self.update, names="value")
        self.patch_size.observe(self.update, names="value")
        self.update()

    def __repr__(self) -> str:  # short and stable: the text shown where widgets cannot render
        return f"PatchExplorer(photo={self.photo.value!r}, patch_size={self.patch_size.value})"

    def image(self, name: str) -> torch.Tensor:
        """The photo ``name`` as a (3, image_size, image_size) tensor (cached)."""
        if name not in self._cache:
            self._cache[name] = load_photo(name, self.image_size)
        return self._cache[name]

    def update(self, change: object = None) -> None:
        """Redraw both pictures for the current photo and patch size."""
        image = self.image(self.photo.value)
        P = self.patch_size.value
        C, H, W = image.shape
        N = (H // P) * (W // P)
        self.summary.value = (
            f"{C}x{H}x{W} image, P = {P}: N = ({H}/{P}) x ({W}/{P}) = <b>{N}</b> patches, "
            f"each of C*P*P = <b>{C * P * P}</b> values: a sequence of shape ({N}, {C * P * P})."
        )
        self.grid.value = figure_to_png(plot_patch_grid(image, P, size=4.5), self.dpi)
        self.sequence.value = figure_to_png(plot_patch_sequence(image, P), self.dpi)


def patch_explorer(
    photos: Sequence[str] = ("astronaut", "chelsea", "coffee", "rocket"), image_size: int = 224, patch_size: int = 16
) -> PatchExplorer:
    """Build a :class:`PatchExplorer` (display it as a cell's last value)."""
    return PatchExplorer(photos, image_size, patch_size)
