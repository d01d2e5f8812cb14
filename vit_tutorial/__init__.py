"""vit_tutorial: the companion package of the book "ViT, step by step".

Every chapter imports its code from here. Modules, one concept each:

* :mod:`~vit_tutorial.patches` - images to patches and back;
* :mod:`~vit_tutorial.embedding` - conv and linear patch embeddings;
* :mod:`~vit_tutorial.position` - class token and position embeddings;
* :mod:`~vit_tutorial.attention` - scaled dot-product and multi-head attention;
* :mod:`~vit_tutorial.encoder` - MLP, encoder block and stack;
* :mod:`~vit_tutorial.config` - ``ViTConfig`` and the paper's presets;
* :mod:`~vit_tutorial.model` - the ``ViT`` itself;
* :mod:`~vit_tutorial.init` - initialisation schemes (official ViT code, timm, the book's own);
* :mod:`~vit_tutorial.interop` - loading transformers' and timm's weights.
"""
from .attention import MultiHeadSelfAttention, scaled_dot_product_attention
from .config import PRESETS, ViTConfig, vit_config
from .embedding import LinearPatchEmbedding, PatchEmbedding, copy_conv_to_linear, copy_linear_to_conv
from .encoder import MLP, Encoder, EncoderBlock
from .init import INIT_SCHEMES, init_rules, init_weights_
from .interop import convert_state_dict
from .model import ViT, count_parameters
from .patches import num_patches, patchify, unpatchify
from .position import (
    ClassToken,
    LearnedPositionEmbedding,
    SinCosPositionEmbedding,
    resize_position_embedding,
    sincos_2d_position_embedding,
)

__version__ = "0.1.0"

__all__ = [
    "INIT_SCHEMES", "ClassToken", "Encoder", "EncoderBlock", "LearnedPositionEmbedding", "LinearPatchEmbedding", "MLP",
    "MultiHeadSelfAttention", "PRESETS", "PatchEmbedding", "SinCosPositionEmbedding", "ViT", "ViTConfig",
    "convert_state_dict", "copy_conv_to_linear", "copy_linear_to_conv", "count_parameters", "init_rules", "init_weights_", "num_patches",
    "patchify", "resize_position_embedding", "scaled_dot_product_attention", "sincos_2d_position_embedding",
    "unpatchify", "vit_config",
]
