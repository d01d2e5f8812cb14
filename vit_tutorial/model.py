"""The Vision Transformer.

    images (B, C, H, W)
      -> patch embedding            (B, N, D)
      -> prepend class token        (B, N+1, D)
      -> add position embedding     (B, N+1, D)
      -> L encoder blocks + LN      (B, N+1, D)     forward_features
      -> pool (token 0 or mean)     (B, D)
      -> linear head                (B, classes)    forward_head
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ._checks import check_instance, check_rank
from .config import DEFAULT_POS_INIT_STD, ViTConfig
from .embedding import PatchEmbedding
from .encoder import Encoder
from .init import init_weights_
from .position import ClassToken, trunc_normal_init, LearnedPositionEmbedding, SinCosPositionEmbedding

__all__ = ["ViT", "count_parameters", "init_position_embedding", "init_trunc_2sigma", "at_resolution"]


class ViT(nn.Module):
    """Vision Transformer (Dosovitskiy et al., 2020).

    Args:
        config: a :class:`~vit_tutorial.config.ViTConfig`.
    """

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        if not isinstance(config, ViTConfig):
            raise ValueError(f"config must be a ViTConfig, got {type(config).__name__}")
        config.__post_init__()  # a config changed after construction (c.image_size = 30) is checked again
        self.config = c = config
        self.patch_embed = PatchEmbedding(c.in_channels, c.dim, c.patch_size)
        self.cls_token = ClassToken(c.dim)
        if c.pos_embedding == "learned":
            self.pos_embed = LearnedPositionEmbedding(c.num_tokens, c.dim)
        else:
            self.pos_embed = SinCosPositionEmbedding((c.grid_size, c.grid_size), c.dim)
        self.pos_drop = nn.Dropout(c.dropout)
        self.encoder = Encoder(
            depth=c.depth, dim=c.dim, heads=c.heads, mlp_dim=c.mlp_dim, dropout=c.dropout,
            attention_dropout=c.attention_dropout, layer_norm_eps=c.layer_norm_eps, qkv_bias=c.qkv_bias,
        )
        self.head = nn.Linear(c.dim, c.num_classes) if c.num_classes > 0 else nn.Identity()
        if c.init == "trunc_2sigma":
            # The book's original order of draws, kept so that a seeded
            # ViT(config) gives the same numbers as before (see vit_tutorial.init).
            self.apply(init_trunc_2sigma)
        else:
            init_weights_(self, c.init)
        if c.pos_embedding == "learned" and c.pos_init_std != DEFAULT_POS_INIT_STD:
            # Drawn last, after every other weight: a seeded model differs only in its
            # position table from the same model with the default std.
            init_position_embedding(self, c.pos_init_std)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """Images (B, C, H, W) to the encoder's input tokens (B, N+1, D)."""
        c = self.config
        check_rank(images, 4, "images", "(B, C, H, W)")
        B, C, H, W = images.shape
        if (H, W) != (c.image_size, c.image_size):
            raise ValueError(
                f"images must be {c.image_size}x{c.image_size} for this model, got {H}x{W}; "
                f"to run at another size, resize the position embedding "
                f"(vit_tutorial.position.resize_position_embedding) into a new model"
            )
        x = self.patch_embed(images)  # (B, N, D)
        x = self.cls_token(x)  # (B, N+1, D)
        return self.pos_drop(self.pos_embed(x))  # (B, N+1, D)

    def forward_features(
        self, images: torch.Tensor, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Images (B, C, H, W) to normalised tokens (B, N+1, D).

        With ``return_attention=True`` also returns L attention tensors,
        each (B, h, N+1, N+1).
        """
        return self.encoder(self.embed(images), return_attention=return_attention)

    def pool(self, features: torch.Tensor) -> torch.Tensor:
        """Tokens (B, N+1, D) to one vector per image (B, D)."""
        check_rank(features, 3, "features", "(B, N+1, D)")
        if self.config.pool == "cls":
            return features[:, 0]  # (B, D)
        return features[:, 1:].mean(dim=1)  # (B, D)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """Tokens (B, N+1, D) to logits (B, classes)."""
        return self.head(self.pool(features))  # (B, classes)

    def forward(
        self, images: torch.Tensor, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Classify ``images`` (B, C, H, W).

        Returns:
            Logits (B, classes), or ``(logits, attentions)`` with a list of
            L tensors of shape (B, h, N+1, N+1) when ``return_attention``.
        """
        if return_attention:
            features, attentions = self.forward_features(images, return_attention=True)
            return self.forward_head(features), attentions
        return self.forward_head(self.forward_features(images))


def init_trunc_2sigma(module: nn.Module) -> None:
    """The book's ``"trunc_2sigma"`` scheme for one module (not ViT's own: see
    :mod:`vit_tutorial.init`): linear weights from normal(0.02) cut at +-2 std,
    zero biases, LayerNorm at identity. The conv keeps PyTorch's default; the
    class token and position table drew theirs when they were built."""
    if isinstance(module, nn.Linear):
        trunc_normal_init(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


def init_position_embedding(model: ViT, std: float) -> ViT:
    """Re-draw a ViT's learned position table from a truncated normal (in place).

    ``ViT(config)`` already does this with ``config.pos_init_std``; this
    function is the same step for a model that exists.

    ViT starts its position table with std 0.02 (as the paper's code and timm
    do). With hundreds of millions of images that hardly matters; with 4,000
    the table needs several epochs just to grow large enough, compared with
    the patch embeddings, to tell the patches apart, and the model learns
    little meanwhile. Starting it larger (e.g. std 0.5) skips that phase.

    Args:
        model: a :class:`ViT` with ``pos_embedding="learned"`` (a DDP wrapper is unwrapped).
        std: the standard deviation; values are truncated at +-2 std.

    Returns:
        The same model.
    """
    model = getattr(model, "module", model)
    if not isinstance(model, ViT):
        raise ValueError(f"model must be a vit_tutorial ViT, got {type(model).__name__}")
    if not isinstance(model.pos_embed, LearnedPositionEmbedding):
        raise ValueError(
            f"only a learned position table can be re-initialised; this model has "
            f"pos_embedding={model.config.pos_embedding!r}"
        )
    if isinstance(std, bool) or not isinstance(std, (int, float)) or not math.isfinite(std) or std <= 0:
        raise ValueError(f"std must be a positive number, got {std!r}")
    with torch.no_grad():
        trunc_normal_init(model.pos_embed.weight, std=float(std))
    return model


def at_resolution(model: ViT, image_size: int, mode: str = "bicubic") -> ViT:
    """A copy of ``model`` for ``image_size`` x ``image_size`` images, in eval mode.

    The paper's recipe for a new resolution (sec. 3.2): keep the patch size,
    so N changes, and interpolate the learned position table in 2-D to the
    new patch grid (:func:`~vit_tutorial.position.resize_position_embedding`);
    a fixed sin-cos table is rebuilt for the new grid. Every other weight is
    copied unchanged; ``model`` itself is not touched, and no random numbers
    are drawn. Works for subclasses (e.g. the hybrid) too.

    Args:
        model: a :class:`ViT` (a DDP wrapper is unwrapped).
        image_size: the new H = W, a multiple of the patch size.
        mode: the interpolation, ``"bicubic"`` (DeiT; timm adds anti-aliasing) or ``"bilinear"``.
    """
    import copy
    import dataclasses

    from .position import resize_position_embedding

    model = getattr(model, "module", model)
    if not isinstance(model, ViT):
        raise ValueError(f"model must be a vit_tutorial ViT, got {type(model).__name__}")
    config = dataclasses.replace(model.config, image_size=image_size)  # checks the size against P
    new = copy.deepcopy(model)
    new.config = config
    if isinstance(model.pos_embed, LearnedPositionEmbedding):
        table = resize_position_embedding(model.pos_embed.weight.detach(), config.grid_size, mode=mode)  # (1, 1+N', D)
        new.pos_embed.weight = nn.Parameter(table)
        new.pos_embed.num_tokens = config.num_tokens
    else:
        new.pos_embed = SinCosPositionEmbedding((config.grid_size, config.grid_size), config.dim).to(
            model.pos_embed.weight.device
        )
    return new.eval()


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters of ``model``."""
    check_instance(model, nn.Module, "model")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
