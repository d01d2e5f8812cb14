"""`vit_tutorial.viz`: pure plotting functions. Each returns a matplotlib
``Figure`` and never calls ``plt.show()``. One module per part of the book;
every public name is also available from here."""
import sys as _sys

from .._subpackages import reexport as _reexport

__all__ = _reexport(_sys.modules[__name__])
