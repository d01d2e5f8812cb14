"""`vit_tutorial.widgets`: ipywidgets explorers for the live notebooks. Each
is a thin wrapper over a `vit_tutorial.viz` function. One module per part of
the book; every public name is also available from here."""
import sys as _sys

from .._subpackages import reexport as _reexport

__all__ = _reexport(_sys.modules[__name__])
