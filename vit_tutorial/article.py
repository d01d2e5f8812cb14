"""The reference article's pipeline and its traps, rebuilt in our own code.

The article assembles a ViT from PyTorch's built-ins. Its script runs and
prints plausible shapes, but several of its choices are wrong or differ from
the paper. The functions here reproduce those choices on purpose, so that
the chapters can *show* each trap next to its fix:

* :func:`article_style_encoder`: ``nn.TransformerEncoder`` with PyTorch's
  defaults (``batch_first=False``, post-norm, ReLU, feed-forward 2048,
  dropout 0.1, 8 heads, no final LayerNorm);
* :func:`article_style_patch_tokens`: a patch embedding whose ``Conv2d`` is
  created anew on every call (so it can never be trained), with width
  D = P·P·C;
* :func:`article_style_pipeline`: the five steps end to end, with loose
  tensors for the class token and a 1000-row position table, returning every
  intermediate tensor, including the one the article prints as "logits";
* :func:`cross_image_influence`: measures how much image ``watched``'s
  output moves when only image ``changed`` of the batch is changed (zero for
  a correct encoder);
* :func:`encoder_settings`: reads the settings that matter off a module;
* :func:`torch_attention_like` and :func:`torch_encoder_layer_like`: build
  PyTorch's ``nn.MultiheadAttention`` / ``nn.TransformerEncoderLayer`` with
  ViT's settings and our module's weights, to show they compute the same.
"""
from __future__ import annotations

import warnings
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_positive_int, check_rank
from .attention import MultiHeadSelfAttention
from .encoder import Encoder, EncoderBlock

__all__ = [
    "article_style_encoder",
    "article_style_patch_tokens",
    "article_style_pipeline",
    "cross_image_influence",
    "encoder_settings",
    "torch_attention_like",
    "torch_encoder_layer_like",
]


def article_style_encoder(dim: int = 768, depth: int = 12, heads: int = 8) -> nn.TransformerEncoder:
    """``nn.TransformerEncoder`` built the way the article builds it.

    Only ``d_model``, ``nhead`` and ``num_layers`` are given; everything
    else keeps PyTorch's defaults, which are *not* ViT's: ``batch_first=False``
    (inputs are read as (T, B, D)), post-norm, ReLU, ``dim_feedforward=2048``,
    ``dropout=0.1``, and no final LayerNorm.

    Args:
        dim: D (``d_model``).
        depth: L (``num_layers``).
        heads: h (``nhead``); the article uses 8, ViT-B uses 12.

    Returns:
        The encoder, in training mode as PyTorch creates it (dropout active).
    """
    check_positive_int(dim, "dim")
    check_positive_int(depth, "depth")
    check_positive_int(heads, "heads")
    if dim % heads != 0:
        raise ValueError(f"dim {dim} is not divisible by heads {heads} (remainder {dim % heads})")
    layer = nn.TransformerEncoderLayer(d_model=dim, nhead=heads)
    with warnings.catch_warnings():
        # PyTorch notes that its nested-tensor fast path is off because
        # batch_first is False; that path only concerns padded batches and
        # does not change any number here.
        warnings.filterwarnings("ignore", message="enable_nested_tensor is True")
        return nn.TransformerEncoder(layer, num_layers=depth)


def article_style_patch_tokens(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Patch embedding as the article writes it (a trap, kept on purpose).

    A new ``nn.Conv2d`` with random weights is created inside the function
    on every call, so two calls on the same images disagree and no optimiser
    can ever reach its weights. Its width is P·P·C, which is 768 for 16x16
    RGB patches only by coincidence with ViT-B's D.

    Args:
        images: (B, C, H, W), H and W multiples of ``patch_size``.
        patch_size: P.

    Returns:
        Tokens of shape (B, N, P·P·C).
    """
    check_rank(images, 4, "images", "(B, C, H, W)")
    check_positive_int(patch_size, "patch_size")
    B, C, H, W = images.shape
    if H % patch_size or W % patch_size:
        raise ValueError(f"image size {H}x{W} is not divisible by patch_size {patch_size}")
    width = patch_size * patch_size * C
    conv = nn.Conv2d(C, width, kernel_size=patch_size, stride=patch_size)  # created on every call
    x = conv(images)  # (B, P·P·C, H/P, W/P)
    x = x.flatten(2)  # (B, P·P·C, N)
    return x.transpose(1, 2)  # (B, N, P·P·C)


def article_style_pipeline(
    images: torch.Tensor,
    labels: torch.Tensor,
    patch_size: int = 16,
    num_classes: int = 10,
    depth: int = 12,
    heads: int = 8,
) -> dict[str, torch.Tensor]:
    """The article's five steps end to end, traps included.

    1. patch tokens from a throw-away conv (:func:`article_style_patch_tokens`);
    2. a loose ``randn`` class token (not an ``nn.Parameter``) concatenated in front;
    3. a loose ``randn`` position table of 1000 rows, sliced to T and copied
       B times with ``torch.tile``;
    4. :func:`article_style_encoder` fed (B, T, D) although it reads (T, B, D);
    5. token 0 through a fresh ``nn.Linear`` and cross-entropy.

    Seed with ``torch.manual_seed`` first for repeatable numbers.

    Args:
        images: (B, C, H, W).
        labels: (B,) class indices in [0, num_classes).
        patch_size: P.
        num_classes: K.
        depth: L of the encoder.
        heads: h of the encoder.

    Returns:
        A dict of tensors: ``patch_tokens`` (B, N, D), ``with_class_token``
        (B, T, D), ``with_position`` (B, T, D), ``encoder_output`` (B, T, D),
        ``class_token_output`` (B, D), ``printed_as_logits`` (the tensor whose
        shape the article prints under the label "logits": the class-token
        output again, (B, D)), ``logits`` (B, K) and ``loss`` (a scalar).
    """
    check_rank(images, 4, "images", "(B, C, H, W)")
    check_positive_int(num_classes, "num_classes")
    B = images.shape[0]
    if not isinstance(labels, torch.Tensor) or labels.shape != (B,):
        raise ValueError(f"labels must be a tensor of shape ({B},), got {getattr(labels, 'shape', type(labels).__name__)}")
    tokens = article_style_patch_tokens(images, patch_size)  # (B, N, D)
    B, N, D = tokens.shape
    with_cls, with_pos = _article_style_class_and_position(tokens)  # (B, T, D) each
    encoder = article_style_encoder(D, depth, heads)
    encoded = encoder(with_pos)  # (B, T, D) read as (T'=B, B'=T, D): attention across images
    cls_out = encoded[:, 0, :]  # (B, D)
    head = nn.Linear(D, num_classes)
    logits = head(cls_out)  # (B, K)
    loss = F.cross_entropy(logits, labels)
    return {
        "patch_tokens": tokens,
        "with_class_token": with_cls,
        "with_position": with_pos,
        "encoder_output": encoded,
        "class_token_output": cls_out,
        "printed_as_logits": cls_out,
        "logits": logits,
        "loss": loss,
    }


def _article_style_class_and_position(tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Steps 2 and 3 of :func:`article_style_pipeline`: the tokens with a loose class token, then plus positions."""
    B, N, D = tokens.shape
    cls = torch.randn(B, 1, D, requires_grad=True)  # a loose tensor, one per image
    with_cls = torch.cat([cls, tokens], dim=1)  # (B, N+1, D)
    table = torch.randn(1000, D, requires_grad=True)  # 1000 rows, only N+1 are used
    T = with_cls.shape[1]
    pos = torch.tile(table[:T], (B, 1, 1))  # (B, T, D): B copies (broadcasting would do)
    return with_cls, with_cls + pos  # (B, T, D) each


@torch.no_grad()
def cross_image_influence(
    fn: Callable[[torch.Tensor], torch.Tensor], tokens: torch.Tensor, watched: int = 0, changed: int = 1, seed: int = 0
) -> float:
    """How much image ``watched``'s output moves when only image ``changed`` changes.

    Runs ``fn(tokens)``, replaces ``tokens[changed]`` by fresh random values
    (from a generator seeded with ``seed``), runs ``fn`` again and returns the
    largest absolute change in ``fn(...)[watched]``. For a model that treats
    the images of a batch independently (in eval mode) this is 0 up to float
    rounding; a large value means the images leak into each other.

    Args:
        fn: a function or module taking and returning (B, T, D) tensors;
            put modules in ``eval()`` mode first so dropout does not move
            the output on its own.
        tokens: (B, T, D), B >= 2.
        watched: the index of the image whose output is compared.
        changed: the index of the image that is replaced; must differ.
        seed: seed of the replacement values.

    Returns:
        max |fn(new)[watched] - fn(old)[watched]|, a float.
    """
    check_rank(tokens, 3, "tokens", "(B, T, D)")
    B, T, D = tokens.shape
    if B < 2:
        raise ValueError(f"tokens must hold at least 2 images to compare, got B={B}")
    for name, i in (("watched", watched), ("changed", changed)):
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < B:
            raise ValueError(f"{name} must be an image index in [0, {B}), got {i!r}")
    if watched == changed:
        raise ValueError(f"watched and changed must be different images, got {watched} for both")
    if isinstance(fn, nn.Module) and fn.training:
        raise ValueError("fn is a module in training mode (dropout is random); call fn.eval() first")
    before = fn(tokens)[watched]  # (T, D)
    other = tokens.clone()
    generator = torch.Generator().manual_seed(seed)
    other[changed] = torch.randn(T, D, generator=generator, dtype=tokens.dtype)  # (T, D)
    after = fn(other)[watched]  # (T, D)
    return (after - before).abs().max().item()


def encoder_settings(module: nn.Module) -> dict[str, object]:
    """The settings that decide what an encoder (or one block) computes.

    Reads them from PyTorch's ``nn.TransformerEncoder`` /
    ``nn.TransformerEncoderLayer`` or from our
    :class:`~vit_tutorial.encoder.Encoder` / :class:`~vit_tutorial.encoder.EncoderBlock`.

    Returns:
        ``{"input layout": "(B, T, D)" or "(T, B, D)", "norm placement":
        "pre-norm" or "post-norm", "activation", "MLP size", "dropout",
        "heads", "layers", "final LayerNorm", "LN epsilon"}``. For PyTorch's
        modules every entry is read from the module; for our
        ``EncoderBlock`` the input layout and the norm placement are fixed by
        its code (``x + attn(norm1(x))``) and stated, the rest is read.
    """
    if isinstance(module, (nn.TransformerEncoder, Encoder)):
        layers = module.layers if isinstance(module, nn.TransformerEncoder) else module.blocks
        settings = encoder_settings(layers[0])
        settings["layers"] = len(layers)
        settings["final LayerNorm"] = module.norm is not None
        return settings
    if isinstance(module, nn.TransformerEncoderLayer):
        act = module.activation
        if act is F.relu or isinstance(act, nn.ReLU):
            act_name = "ReLU"
        elif act is F.gelu or isinstance(act, nn.GELU):
            act_name = "GELU"
        else:
            act_name = getattr(act, "__name__", type(act).__name__)
        return {
            "input layout": "(B, T, D)" if module.self_attn.batch_first else "(T, B, D)",
            "norm placement": "pre-norm" if module.norm_first else "post-norm",
            "activation": act_name,
            "MLP size": module.linear1.out_features,
            "dropout": module.dropout.p,
            "heads": module.self_attn.num_heads,
            "layers": 1,
            "final LayerNorm": False,
            "LN epsilon": module.norm1.eps,
        }
    if isinstance(module, EncoderBlock):
        act = module.mlp.act
        return {
            "input layout": "(B, T, D)",  # fixed by EncoderBlock.forward
            "norm placement": "pre-norm",  # fixed by EncoderBlock.forward
            "activation": "GELU" if isinstance(act, nn.GELU) else type(act).__name__,
            "MLP size": module.mlp.fc1.out_features,
            "dropout": module.mlp.drop.p,
            "heads": module.attn.heads,
            "layers": 1,
            "final LayerNorm": False,
            "LN epsilon": module.norm1.eps,
        }
    raise ValueError(
        "module must be an nn.TransformerEncoder, nn.TransformerEncoderLayer, Encoder or EncoderBlock, "
        f"got {type(module).__name__}"
    )


@torch.no_grad()
def torch_attention_like(attn: MultiHeadSelfAttention) -> nn.MultiheadAttention:
    """``nn.MultiheadAttention`` (batch_first=True) holding ``attn``'s weights.

    Our fused ``qkv`` weight (3D, D) has the same layout as PyTorch's
    ``in_proj_weight``: the rows of q, then k, then v, each split into h
    consecutive blocks of d rows, one per head.

    Args:
        attn: our :class:`~vit_tutorial.attention.MultiHeadSelfAttention`
            (with a qkv bias).

    Returns:
        The PyTorch module, in eval mode; call it as ``mha(x, x, x)``.
    """
    if not isinstance(attn, MultiHeadSelfAttention):
        raise ValueError(f"attn must be a MultiHeadSelfAttention, got {type(attn).__name__}")
    if attn.qkv.bias is None:
        raise ValueError("attn has no qkv bias; nn.MultiheadAttention's bias covers q, k and v together")
    mha = nn.MultiheadAttention(attn.dim, attn.heads, batch_first=True, device=attn.qkv.weight.device)
    mha.in_proj_weight.copy_(attn.qkv.weight)  # (3D, D)
    mha.in_proj_bias.copy_(attn.qkv.bias)  # (3D,)
    mha.out_proj.weight.copy_(attn.proj.weight)  # (D, D)
    mha.out_proj.bias.copy_(attn.proj.bias)  # (D,)
    return mha.eval()


@torch.no_grad()
def torch_encoder_layer_like(block: EncoderBlock, batch_first: bool = True) -> nn.TransformerEncoderLayer:
    """``nn.TransformerEncoderLayer`` with ViT's settings and ``block``'s weights.

    The settings that make PyTorch's layer compute a ViT block:
    ``norm_first=True`` (pre-norm), ``activation="gelu"``,
    ``dim_feedforward`` = the block's MLP size, ``dropout=0``, the block's
    LayerNorm epsilon, and ``batch_first=True`` for (B, T, D) input.

    Args:
        block: our :class:`~vit_tutorial.encoder.EncoderBlock` (with a qkv bias).
        batch_first: keep True; False rebuilds the article's layout trap.

    Returns:
        The PyTorch layer, in eval mode.
    """
    if not isinstance(block, EncoderBlock):
        raise ValueError(f"block must be an EncoderBlock, got {type(block).__name__}")
    D, M = block.attn.dim, block.mlp.fc1.out_features
    layer = nn.TransformerEncoderLayer(
        D, block.attn.heads, dim_feedforward=M, dropout=0.0, activation="gelu",
        layer_norm_eps=block.norm1.eps, batch_first=batch_first, norm_first=True,
        device=block.norm1.weight.device,
    )
    layer.self_attn.load_state_dict(torch_attention_like(block.attn).state_dict())
    layer.linear1.load_state_dict(block.mlp.fc1.state_dict())
    layer.linear2.load_state_dict(block.mlp.fc2.state_dict())
    layer.norm1.load_state_dict(block.norm1.state_dict())
    layer.norm2.load_state_dict(block.norm2.state_dict())
    return layer.eval()
