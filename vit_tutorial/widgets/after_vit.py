"""Explorers for chapter 12 (after ViT).

* :class:`WindowReachExplorer`: grid, window size, reduction ratio and query
  token, above :func:`vit_tutorial.viz.plot_attention_reach` (which keys one
  query sees under global, window, shifted-window and spatial-reduction
  attention);
* :class:`AttentionFlopsExplorer`: width, window size and reduction ratio,
  above :func:`vit_tutorial.viz.plot_attention_flops` (FLOPs against N).

Both are thin wrappers: every picture is drawn by the ``viz`` function.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import ipywidgets as widgets

from .._checks import check_positive_int
from ..viz.after_vit import plot_attention_flops
from ..viz.patches import figure_to_png
from ..viz.problems import plot_attention_reach
from ._layout import DPI, picture

__all__ = ["WindowReachExplorer", "window_reach_explorer", "AttentionFlopsExplorer", "attention_flops_explorer"]

_SLIDER = dict(continuous_update=False, style={"description_width": "initial"}, layout=widgets.Layout(width="300px"))


def _divisors(n: int) -> list[int]:
    return [k for k in range(1, n + 1) if n % k == 0]


class WindowReachExplorer(widgets.VBox):
    """Which tokens one query reaches, for a grid side, a window size w, a
    reduction ratio R and a query token of your choice.

    Args:
        grids: the grid sides to choose from.
        grid: the side shown first (one of ``grids``).
        window: w shown first; must divide ``grid``.
        reduction: R shown first; must divide ``grid``.
        query: (row, col) shown first, inside the grid.
        dpi: resolution of the picture.
    """

    def __init__(
        self,
        grids: Sequence[int] = (8, 12, 14, 16),
        grid: int = 14,
        window: int = 7,
        reduction: int = 2,
        query: tuple[int, int] = (5, 6),
        dpi: int = DPI,
    ) -> None:
        if not isinstance(grids, (tuple, list)) or not grids:
            raise ValueError(f"grids must be a non-empty list of grid sides, got {grids!r}")
        grids = [check_positive_int(g, "grid side") for g in grids]
        check_positive_int(grid, "grid")
        if grid not in grids:
            raise ValueError(f"grid must be one of grids {grids}, got {grid!r}")
        for value, name in ((window, "window"), (reduction, "reduction")):
            check_positive_int(value, name)
            if grid % value:
                raise ValueError(f"{name} must divide the grid side {grid}; expected one of {_divisors(grid)}, "
                                 f"got {value}")
        ok = (isinstance(query, (tuple, list)) and len(query) == 2
              and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < grid for v in query))
        if not ok:
            raise ValueError(f"query must be a (row, col) token inside the {grid}x{grid} grid, got {query!r}")
        self.dpi = check_positive_int(dpi, "dpi")
        self._busy = False
        self.grid = widgets.Dropdown(options=grids, value=grid, description="grid side")
        self.window = widgets.SelectionSlider(options=_divisors(grid), value=window, description="window w",
                                              **_SLIDER)
        self.reduction = widgets.SelectionSlider(options=_divisors(grid), value=reduction,
                                                 description="reduction R", **_SLIDER)
        self.row = widgets.IntSlider(value=query[0], min=0, max=grid - 1, description="query row", **_SLIDER)
        self.col = widgets.IntSlider(value=query[1], min=0, max=grid - 1, description="query column", **_SLIDER)
        self.summary = widgets.HTML()
        self.picture = picture()
        super().__init__([widgets.HBox([self.grid, self.window, self.reduction]),
                          widgets.HBox([self.row, self.col]), self.summary, self.picture])
        self.grid.observe(self._grid_changed, names="value")
        for w in (self.window, self.reduction, self.row, self.col):
            w.observe(self.update, names="value")
        self.update()

    def __repr__(self) -> str:  # short and stable: the text shown where widgets cannot render
        return (f"WindowReachExplorer(grid={self.grid.value}, window={self.window.value}, "
                f"reduction={self.reduction.value}, query=({self.row.value}, {self.col.value}))")

    def _grid_changed(self, change: object = None) -> None:
        g = self.grid.value
        self._busy = True  # set every control first, then draw once
        try:
            divs = _divisors(g)
            for slider in (self.window, self.reduction):
                old = slider.value
                slider.options = divs
                slider.value = max(d for d in divs if d <= old)
            for slider in (self.row, self.col):
                slider.max = g - 1
                slider.value = min(slider.value, g - 1)
        finally:
            self._busy = False
        self.update()

    def update(self, change: object = None) -> None:
        """Redraw the picture for the current settings."""
        if self._busy:
            return
        g, w, R = self.grid.value, self.window.value, self.reduction.value
        N = g * g
        self.summary.value = (
            f"N = {g}x{g} = {N} tokens. Global: {N} keys per query, {N * N:,} scores. "
            f"Windows of {w}x{w}: {w * w} keys per query, {N * w * w:,} scores. "
            f"Spatial reduction R={R}: {N // (R * R)} keys per query, {N * N // (R * R):,} scores."
        )
        fig = plot_attention_reach(grid=g, query=(self.row.value, self.col.value), window=w, reduction=R)
        self.picture.value = figure_to_png(fig, self.dpi)


def window_reach_explorer(grid: int = 14, window: int = 7, reduction: int = 2,
                          query: tuple[int, int] = (5, 6)) -> WindowReachExplorer:
    """Build a :class:`WindowReachExplorer` (display it as a cell's last value)."""
    return WindowReachExplorer(grid=grid, window=window, reduction=reduction, query=query)


class AttentionFlopsExplorer(widgets.VBox):
    """FLOPs of global, window and spatial-reduction attention against N, for
    a width D, a window size w and a reduction ratio R of your choice.

    Args:
        dims: the widths D to choose from.
        windows: the window sides w to choose from.
        reductions: the ratios R to choose from.
        dim, window, reduction: the values shown first.
        max_side: the largest grid side drawn.
        marks: ``{label: N}``, token counts marked on the plot.
        dpi: resolution of the picture.
    """

    def __init__(
        self,
        dims: Sequence[int] = (32, 64, 96, 192, 384, 768),
        windows: Sequence[int] = (2, 4, 7, 8, 12, 14, 16),
        reductions: Sequence[int] = (1, 2, 4, 8),
        dim: int = 64,
        window: int = 8,
        reduction: int = 4,
        max_side: int = 128,
        marks: Mapping[str, int] | None = None,
        dpi: int = DPI,
    ) -> None:
        for options, value, name in ((dims, dim, "dim"), (windows, window, "window"),
                                     (reductions, reduction, "reduction")):
            if not isinstance(options, (tuple, list)) or not options:
                raise ValueError(f"the {name} choices must be a non-empty list of ints, got {options!r}")
            for v in options:
                check_positive_int(v, f"{name} choice")
            check_positive_int(value, name)
            if value not in options:
                raise ValueError(f"{name} must be one of {list(options)}, got {value!r}")
        self.max_side = check_positive_int(max_side, "max_side")
        if marks is not None and not isinstance(marks, Mapping):
            raise ValueError(f"marks must be a dict {{label: N}}, got {type(marks).__name__}")
        self.marks = dict(marks or {})
        for label, n in self.marks.items():
            check_positive_int(n, f"marks[{label!r}]")
        self.dpi = check_positive_int(dpi, "dpi")
        self.dim = widgets.SelectionSlider(options=list(dims), value=dim, description="width D", **_SLIDER)
        self.window = widgets.SelectionSlider(options=list(windows), value=window, description="window w",
                                              **_SLIDER)
        self.reduction = widgets.SelectionSlider(options=list(reductions), value=reduction,
                                                 description="reduction R", **_SLIDER)
        self.picture = picture("640px")
        super().__init__([widgets.HBox([self.dim, self.window, self.reduction]), self.picture])
        for w in (self.dim, self.window, self.reduction):
            w.observe(self.update, names="value")
        self.update()

    def __repr__(self) -> str:  # short and stable: the text shown where widgets cannot render
        return (f"AttentionFlopsExplorer(dim={self.dim.value}, window={self.window.value}, "
                f"reduction={self.reduction.value})")

    def update(self, change: object = None) -> None:
        """Redraw the picture for the current settings."""
        w, R = self.window.value, self.reduction.value
        lcm = w * R // math.gcd(w, R)
        max_side = max(self.max_side, 2 * lcm)  # always at least two grid sizes
        fig = plot_attention_flops(self.dim.value, w, R, max_side=max_side, marks=self.marks)
        self.picture.value = figure_to_png(fig, self.dpi)


def attention_flops_explorer(dim: int = 64, window: int = 8, reduction: int = 4,
                             marks: Mapping[str, int] | None = None) -> AttentionFlopsExplorer:
    """Build an :class:`AttentionFlopsExplorer` (display it as a cell's last value)."""
    return AttentionFlopsExplorer(dim=dim, window=window, reduction=reduction, marks=marks)
