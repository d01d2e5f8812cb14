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

The imports below are explicit so that an editor's go-to-definition finds each
name; ``tests/test_contract.py`` checks that ``__all__`` lists every module's
public names and that each has a docstring.
"""

from .collapse import consecutive_layer_similarity, cross_layer_similarity
from .conv_stem import ConvStem, default_stem_strides
from .cost import (
    count_flops,
    fit_power_law,
    global_attention_flops,
    spatial_reduction_attention_flops,
    time_call,
    window_attention_flops,
)
from .curves import crossover, fit_learning_curve, unpack_correct
from .layerscale import add_layer_scale, LayerScale
from .models import GridBlock, HybridViT, PatchMerging, PEGViT, PyramidViT
from .peg import PositionEncodingGenerator
from .permutation import FixedShuffle, permute_position_table, random_shuffle, shuffle_patches
from .spatial_reduction import SpatialReductionAttention
from .window_attention import (
    check_grid,
    shifted_window_mask,
    window_partition,
    window_reverse,
    WindowAttention,
)

__all__ = [
    # collapse
    "cross_layer_similarity", "consecutive_layer_similarity",
    # conv_stem
    "ConvStem", "default_stem_strides",
    # cost
    "global_attention_flops", "window_attention_flops", "spatial_reduction_attention_flops", "count_flops",
    "fit_power_law", "time_call",
    # curves
    "fit_learning_curve", "crossover", "unpack_correct",
    # layerscale
    "LayerScale", "add_layer_scale",
    # models
    "PEGViT", "HybridViT", "GridBlock", "PatchMerging", "PyramidViT",
    # peg
    "PositionEncodingGenerator",
    # permutation
    "shuffle_patches", "random_shuffle", "FixedShuffle", "permute_position_table",
    # spatial_reduction
    "SpatialReductionAttention",
    # window_attention
    "window_partition", "window_reverse", "shifted_window_mask", "WindowAttention", "check_grid",
]
