"""Layout shared by the explorers: pictures at their natural size, a short text fallback.

An ``ipywidgets.Image`` in a ``VBox`` is stretched to the full output width by
default (flex ``align-items: stretch``): a 500 px picture was shown 1000 px
wide in JupyterLab, blurry. :func:`picture` keeps it at its own size (at most
``max_width``), and :data:`DPI` renders it at the resolution of the static
figures (matplotlib's inline figures, 100 dpi), so an explorer looks like the
figure above it.
"""
from __future__ import annotations

import ipywidgets as widgets

__all__: list[str] = []  # private helpers of vit_tutorial.widgets

#: Resolution of the explorers' pictures: the same as the notebooks' static figures.
DPI = 100

#: The text a notebook shows for an explorer where no live widget can be drawn.
HINT = "run this cell to use the explorer"


def picture(max_width: str = "100%") -> widgets.Image:
    """A PNG ``Image`` shown at its natural size, shrunk only to fit ``max_width``."""
    return widgets.Image(format="png", layout=widgets.Layout(
        width="auto", height="auto", max_width=max_width, align_self="flex-start", object_fit="contain"))


class ExplorerBox(widgets.VBox):
    """A ``VBox`` whose text form (what an unrun notebook shows) is one short line."""

    def __init__(self, children, name: str) -> None:  # noqa: ANN001 (a list of widgets)
        super().__init__(children)
        self._explorer_name = name

    def __repr__(self) -> str:
        return f"{self._explorer_name} ({HINT})"
