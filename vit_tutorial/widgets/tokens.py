"""Explorers for chapters 2-4: from patches to tokens.

* :class:`FilterExplorer` (chapter 2): pick a patch embedding, a photo and a
  filter, see the filter and its entry in every token; a thin wrapper over
  :func:`vit_tutorial.viz.plot_filter_response`.
* :class:`ClassTokenExplorer` (chapter 3): a photo's token sequence with the
  class token prepended, for three ways of starting the token; a thin wrapper
  over :func:`vit_tutorial.viz.plot_token_sequence`.
* :class:`PositionSimilarityExplorer` (chapter 4): pick a position table and
  a patch, see how similar its position embedding is to every other patch's;
  a thin wrapper over :func:`vit_tutorial.viz.plot_patch_similarity`.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import ipywidgets as widgets
import torch

from .._checks import check_positive_int
from ..embedding import PatchEmbedding
from ..images import PHOTOS, load_photo
from ..position import ClassToken
from ..viz.patches import figure_to_png, patch_sizes_dividing
from ..viz.tokens import plot_filter_response, plot_patch_similarity, plot_token_sequence, position_similarity
from ._layout import DPI, picture

__all__ = ["FilterExplorer", "filter_explorer", "ClassTokenExplorer", "class_token_explorer", "PositionSimilarityExplorer", "position_similarity_explorer",
           "CLASS_TOKEN_STARTS"]

#: The class-token starts :class:`ClassTokenExplorer` offers: menu label -> the source it follows.
CLASS_TOKEN_STARTS: dict[str, str] = {
    "zeros": "the official ViT code (vit_jax/models_vit.py)",
    "normal, std 0.02, cut at 2 std": "DeiT's scale; this book's ClassToken",
    "randn, std 1": "the article's torch.randn",
}

_WIDE = dict(continuous_update=False, style={"description_width": "initial"}, layout=widgets.Layout(width="340px"))


def _check_photos(photos: Sequence[str]) -> list[str]:
    photos = list(photos) if not isinstance(photos, str) else [photos]
    unknown = [p for p in photos if p not in PHOTOS]
    if not photos or unknown:
        raise ValueError(f"photos must be names from {', '.join(PHOTOS)}; got {photos!r}")
    return photos


class ClassTokenExplorer(widgets.VBox):
    """A photo, a patch size, a class-token start and a number of tokens
    above the first tokens of the sequence (class token first) and their
    shapes. One colour scale for all tokens drawn, so the start's size next
    to the patch tokens shows.

    Args:
        photos: names of bundled photos (see :data:`vit_tutorial.images.PHOTOS`).
        image_size: H = W of the photos.
        patch_size: the P shown first; must divide ``image_size``.
        dim: D, the width of the tokens.
        start: the class-token start shown first, a key of :data:`CLASS_TOKEN_STARTS`.
        dpi: resolution of the picture.
    """

    def __init__(self, photos: Sequence[str] = ("astronaut", "coffee"), image_size: int = 224, patch_size: int = 16,
                 dim: int = 768, start: str = "normal, std 0.02, cut at 2 std", dpi: int = DPI) -> None:
        photos = _check_photos(photos)
        if start not in CLASS_TOKEN_STARTS:
            raise ValueError(f"start must be one of {list(CLASS_TOKEN_STARTS)}, got {start!r}")
        check_positive_int(image_size, "image_size")
        sizes = [p for p in (8, 14, 16, 28, 32, 56) if p in patch_sizes_dividing(image_size, 2, image_size // 2)]
        if patch_size not in sizes:
            raise ValueError(f"patch_size must be one of {sizes} for image_size {image_size}, got {patch_size!r}")
        self.image_size, self.dim = image_size, check_positive_int(dim, "dim")
        self.dpi = check_positive_int(dpi, "dpi")
        self._photos: dict[str, torch.Tensor] = {}
        self._tokens: dict[tuple[str, int], torch.Tensor] = {}
        self.photo = widgets.Dropdown(options=photos, value=photos[0], description="photo")
        self.patch_size = widgets.SelectionSlider(options=sizes, value=patch_size, description="patch size P", **_WIDE)
        self.start = widgets.Dropdown(options=list(CLASS_TOKEN_STARTS), value=start,
                                      description="class token start", style={"description_width": "initial"},
                                      layout=widgets.Layout(width="360px"))
        self.shown = widgets.IntSlider(value=8, min=2, max=12, description="tokens drawn", **_WIDE)
        self.summary = widgets.HTML()
        self.picture = picture()
        super().__init__([widgets.HBox([self.photo, self.start]), widgets.HBox([self.patch_size, self.shown]),
                          self.summary, self.picture])
        for w in (self.photo, self.patch_size, self.start, self.shown):
            w.observe(self.update, names="value")
        self.update()

    def __repr__(self) -> str:  # short and stable: the text shown where widgets cannot render
        return (f"ClassTokenExplorer(photo={self.photo.value!r}, patch_size={self.patch_size.value}, "
                f"start={self.start.value!r})")

    def class_token(self, start: str) -> torch.Tensor:
        """The (1, 1, D) class token for a start of :data:`CLASS_TOKEN_STARTS` (seed 0)."""
        if start == "zeros":
            return torch.zeros(1, 1, self.dim)
        with torch.random.fork_rng(devices=[]):  # the caller's random numbers are left alone
            torch.manual_seed(0)
            if start == "randn, std 1":
                return torch.randn(1, 1, self.dim)
            return ClassToken(self.dim).token.detach()

    def patch_tokens(self, name: str, P: int) -> torch.Tensor:
        """(1, N, D): the photo through an untrained patch embedding (seed 0; cached)."""
        if name not in self._photos:
            self._photos[name] = load_photo(name, self.image_size)
        if (name, P) not in self._tokens:
            with torch.random.fork_rng(devices=[]), torch.no_grad():
                torch.manual_seed(0)
                self._tokens[name, P] = PatchEmbedding(3, self.dim, P)(self._photos[name][None])  # (1, N, D)
        return self._tokens[name, P]

    def update(self, change: object = None) -> None:
        """Redraw the sequence and the shapes for the current settings."""
        P, start = self.patch_size.value, self.start.value
        patches = self.patch_tokens(self.photo.value, P)  # (1, N, D)
        cls = self.class_token(start)  # (1, 1, D)
        tokens = torch.cat([cls, patches], dim=1)  # (1, N + 1, D)
        _, N, D = patches.shape
        rms = lambda t: t.pow(2).mean().sqrt().item()  # noqa: E731
        self.summary.value = (
            f"patch tokens (1, {N}, {D}) &rarr; with the class token <b>(1, {N + 1}, {D})</b>. "
            f"Start '{start}' ({CLASS_TOKEN_STARTS[start]}): RMS <b>{rms(cls):.3f}</b>, "
            f"patch tokens' RMS <b>{rms(patches):.3f}</b>.")
        fig = plot_token_sequence(self._photos[self.photo.value], P, tokens[0], max_tokens=self.shown.value)
        self.picture.value = figure_to_png(fig, self.dpi)


def class_token_explorer(photos: Sequence[str] = ("astronaut", "coffee"), patch_size: int = 16, dim: int = 768,
                         start: str = "normal, std 0.02, cut at 2 std") -> ClassTokenExplorer:
    """Build a :class:`ClassTokenExplorer` (display it as a cell's last value)."""
    return ClassTokenExplorer(photos, 224, patch_size, dim, start)


class PositionSimilarityExplorer(widgets.VBox):
    """A menu of position tables and a patch (row, column) above that patch's
    similarity map and its similarities against distance.

    Args:
        tables: label -> a table (T, D) or (1, T, D) whose patches lie on a
            square grid, class token first (grids may differ between tables).
        patch: the (row, col) shown first (clipped to each table's grid).
        vmin: the similarity drawn darkest.
        dpi: resolution of the picture.
    """

    def __init__(self, tables: Mapping[str, torch.Tensor], patch: tuple[int, int] = (3, 3), vmin: float = 0.0,
                 dpi: int = DPI) -> None:
        if not isinstance(tables, Mapping) or not tables:
            raise ValueError(f"tables must be a non-empty dict label -> table (T, D), got {type(tables).__name__}")
        self.sides = {k: round(position_similarity(t).shape[0] ** 0.5) for k, t in tables.items()}  # checks each
        self.tables, self.vmin = dict(tables), vmin
        side = self.sides[next(iter(tables))]
        if not (isinstance(patch, (tuple, list)) and len(patch) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < side for v in patch)):
            raise ValueError(f"patch must be a (row, col) pair inside the first table's {side} x {side} grid, "
                             f"got {patch!r}")
        self.dpi = check_positive_int(dpi, "dpi")
        self._quiet = False
        self.table = widgets.Dropdown(options=list(tables), description="table", style={"description_width": "initial"},
                                      layout=widgets.Layout(width="460px"))
        self.row = widgets.IntSlider(value=patch[0], min=0, max=side - 1, description="patch row", **_WIDE)
        self.col = widgets.IntSlider(value=patch[1], min=0, max=side - 1, description="patch column", **_WIDE)
        self.picture = picture()
        super().__init__([self.table, widgets.HBox([self.row, self.col]), self.picture])
        self.table.observe(self._new_grid, names="value")
        for w in (self.row, self.col):
            w.observe(self.update, names="value")
        self.update()

    def __repr__(self) -> str:  # short and stable: the text shown where widgets cannot render
        return f"PositionSimilarityExplorer(table={self.table.value!r}, patch=({self.row.value}, {self.col.value}))"

    def _new_grid(self, change: object = None) -> None:
        """Fit the sliders to the chosen table's grid (keeping the patch where it fits), then redraw."""
        side = self.sides[self.table.value]
        self._quiet = True  # one redraw, not one per slider
        for s in (self.row, self.col):
            s.max = side - 1  # a slider clips its value to a smaller max
        self._quiet = False
        self.update()

    def update(self, change: object = None) -> None:
        """Redraw the picture for the current table and patch."""
        if self._quiet:
            return
        fig = plot_patch_similarity(self.tables[self.table.value], (self.row.value, self.col.value), vmin=self.vmin,
                                    title=self.table.value)
        self.picture.value = figure_to_png(fig, self.dpi)


def position_similarity_explorer(tables: Mapping[str, torch.Tensor], patch: tuple[int, int] = (3, 3),
                                 vmin: float = 0.0) -> PositionSimilarityExplorer:
    """Build a :class:`PositionSimilarityExplorer` (display it as a cell's last value)."""
    return PositionSimilarityExplorer(tables, patch, vmin)


class FilterExplorer(widgets.VBox):
    """A patch embedding, a photo and a filter index above the filter and its
    entry in every token of the photo (chapter 2).

    Args:
        embeddings: label -> a :class:`~vit_tutorial.embedding.PatchEmbedding`
            (a conv with kernel = stride = P) for 3-channel images.
        photos: names of bundled photos (see :data:`vit_tutorial.images.PHOTOS`).
        filter: the index d shown first.
        image_size: H = W of the photos; every embedding's P must divide it.
        dpi: resolution of the picture.
    """

    def __init__(self, embeddings: Mapping[str, PatchEmbedding], photos: Sequence[str] = ("astronaut", "coffee"),
                 filter: int = 0, image_size: int = 224, dpi: int = DPI) -> None:
        if (not isinstance(embeddings, Mapping) or not embeddings
                or not all(isinstance(m, PatchEmbedding) for m in embeddings.values())):
            raise ValueError(f"embeddings must be a non-empty dict label -> PatchEmbedding, got {embeddings!r}")
        photos = _check_photos(photos)
        self.image_size = check_positive_int(image_size, "image_size")
        for label, m in embeddings.items():
            if m.proj.in_channels != 3 or image_size % m.patch_size:
                raise ValueError(f"embeddings[{label!r}] must take 3 channels with a P that divides {image_size}, got "
                                 f"{m.proj.in_channels} channels and P = {m.patch_size}")
        first = next(iter(embeddings.values()))
        if isinstance(filter, bool) or not isinstance(filter, int) or not 0 <= filter < first.proj.out_channels:
            raise ValueError(f"filter must be an index in [0, {first.proj.out_channels}), got {filter!r}")
        self.embeddings, self.dpi = dict(embeddings), check_positive_int(dpi, "dpi")
        self._tokens: dict[tuple[str, str], tuple[torch.Tensor, torch.Tensor]] = {}
        self._quiet = False
        self.embedding = widgets.Dropdown(options=list(embeddings), description="embedding",
                                          style={"description_width": "initial"}, layout=widgets.Layout(width="400px"))
        self.photo = widgets.Dropdown(options=photos, value=photos[0], description="photo")
        self.filter = widgets.IntSlider(value=filter, min=0, max=first.proj.out_channels - 1, description="filter d",
                                        **_WIDE)
        self.picture = picture()
        super().__init__([widgets.HBox([self.embedding, self.photo]), self.filter, self.picture])
        self.embedding.observe(self._new_embedding, names="value")
        for w in (self.photo, self.filter):
            w.observe(self.update, names="value")
        self.update()

    def __repr__(self) -> str:  # short and stable: the text shown where widgets cannot render
        return f"FilterExplorer(embedding={self.embedding.value!r}, photo={self.photo.value!r}, filter={self.filter.value})"

    def tokens(self, label: str, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(photo (C, H, W), its tokens (N, D)) for an embedding and a photo (cached)."""
        if (label, name) not in self._tokens:
            image = load_photo(name, self.image_size)
            with torch.no_grad():
                self._tokens[label, name] = image, self.embeddings[label](image[None])[0]  # (N, D)
        return self._tokens[label, name]

    def _new_embedding(self, change: object = None) -> None:
        """Fit the filter slider to the chosen embedding's D, then redraw once."""
        self._quiet = True
        self.filter.max = self.embeddings[self.embedding.value].proj.out_channels - 1  # clips the value
        self._quiet = False
        self.update()

    def update(self, change: object = None) -> None:
        """Redraw the picture for the current embedding, photo and filter."""
        if self._quiet:
            return
        image, tokens = self.tokens(self.embedding.value, self.photo.value)
        weight = self.embeddings[self.embedding.value].proj.weight
        self.picture.value = figure_to_png(plot_filter_response(image, weight, tokens, self.filter.value), self.dpi)


def filter_explorer(embeddings: Mapping[str, PatchEmbedding], photos: Sequence[str] = ("astronaut", "coffee"),
                    filter: int = 0) -> FilterExplorer:
    """Build a :class:`FilterExplorer` (display it as a cell's last value)."""
    return FilterExplorer(embeddings, photos, filter)
