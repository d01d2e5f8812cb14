"""`vit_tutorial.variants`: small versions of the models that came after ViT.

Each module is one idea that answers one of ViT's problems (chapter 12):

* :mod:`~vit_tutorial.variants.window_attention` - Swin's (shifted) window
  attention, linear in the number of tokens;
* :mod:`~vit_tutorial.variants.spatial_reduction` - PVT's spatial-reduction
  attention, keys and values from a coarser token map;
* :mod:`~vit_tutorial.variants.peg` - CPVT's position encoding generator,
  positions from a conv instead of a table;
* :mod:`~vit_tutorial.variants.conv_stem` - a conv stem before the tokens
  (hybrid models);
* :mod:`~vit_tutorial.variants.models` - trainable models built from them;
* :mod:`~vit_tutorial.variants.cost` - FLOP formulas, FLOP counting and
  power-law fits.
"""
import sys as _sys

from .._subpackages import reexport as _reexport

__all__ = _reexport(_sys.modules[__name__])
