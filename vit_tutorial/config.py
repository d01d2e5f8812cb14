"""The model's configuration and the presets of the paper's Table 1.

``vit_config("ViT-B/16")`` returns the Base model of the paper;
``vit_config("ViT-Tiny", num_classes=10)`` a small model for CPU work on
28x28 MNIST digits. Any field can be overridden by keyword.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from ._checks import check_choice, check_divisible, check_fields, check_finite_number, check_heads, check_positive_int

__all__ = ["ViTConfig", "vit_config", "PRESETS", "DEFAULT_POS_INIT_STD"]

#: ViT's standard deviation for the start of the learned position table.
DEFAULT_POS_INIT_STD = 0.02


@dataclass
class ViTConfig:
    """Everything that defines a ViT, in the paper's symbols.

    Attributes:
        image_size: H = W, the side of the (square) input image.
        patch_size: P.
        in_channels: C.
        num_classes: classes of the head; 0 means no head (features only).
        dim: D, the token width ("Hidden size" in Table 1).
        depth: L, the number of encoder blocks ("Layers").
        heads: h, attention heads per block.
        mlp_dim: hidden size of each block's MLP ("MLP size").
        dropout: dropout after the embeddings, the attention output and in the MLP.
        attention_dropout: dropout on the attention weights.
        pool: ``"cls"`` (the class token's final state) or ``"mean"`` (the
            mean of the patch tokens).
        pos_embedding: ``"learned"`` (ViT) or ``"sincos"`` (fixed 2-D).
        layer_norm_eps: LayerNorm epsilon (1e-6 as in ViT and timm).
        qkv_bias: bias on the q, k, v projections.
        pos_init_std: the standard deviation of the learned position table's
            start (a normal truncated at +-2 std). 0.02 is ViT's; 0.5 skips a
            slow first phase when training on a few thousand images. A value
            other than 0.02 is drawn after every other weight, so the other
            weights of a seeded model do not depend on it.
        init: the initialisation scheme, one of
            :data:`vit_tutorial.init.INIT_SCHEMES`: ``"trunc_2sigma"`` (this
            book's own, the default: std-0.02 normals cut at +-2 std),
            ``"timm"`` (timm's ``init_weights_vit_timm``) or ``"official"``
            (the official ``vit_jax`` code: zero head and class token, LeCun
            normal patch projection, Xavier uniform attention and MLP).
    """

    image_size: int = 224
    patch_size: int = 16
    in_channels: int = 3
    num_classes: int = 1000
    dim: int = 768
    depth: int = 12
    heads: int = 12
    mlp_dim: int = 3072
    dropout: float = 0.0
    attention_dropout: float = 0.0
    pool: str = "cls"
    pos_embedding: str = "learned"
    layer_norm_eps: float = 1e-6
    qkv_bias: bool = True
    pos_init_std: float = DEFAULT_POS_INIT_STD
    init: str = "trunc_2sigma"

    def __post_init__(self) -> None:
        for name in ("image_size", "patch_size", "in_channels", "dim", "depth", "heads", "mlp_dim"):
            check_positive_int(getattr(self, name), name)
        if isinstance(self.num_classes, bool) or not isinstance(self.num_classes, int) or self.num_classes < 0:
            raise ValueError(f"num_classes must be an integer >= 0, got {self.num_classes!r}")
        check_divisible(self.image_size, self.patch_size, "size")
        check_heads(self.dim, self.heads)
        check_choice(self.pool, ("cls", "mean"), "pool")
        check_choice(self.pos_embedding, ("learned", "sincos"), "pos_embedding")
        s = self.pos_init_std
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s) or s <= 0:
            raise ValueError(f"pos_init_std must be a positive number, got {s!r}")
        if self.pos_embedding != "learned" and s != DEFAULT_POS_INIT_STD:
            raise ValueError(f"pos_init_std needs a learned position table, got pos_embedding={self.pos_embedding!r}")
        check_choice(self.init, ("trunc_2sigma", "timm", "official"), "init")
        for name in ("dropout", "attention_dropout"):
            p = getattr(self, name)
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {p!r}")
        check_finite_number(self.layer_norm_eps, "layer_norm_eps", low=0.0, low_open=True)
        if not isinstance(self.qkv_bias, bool):
            raise ValueError(f"qkv_bias must be True or False, got {self.qkv_bias!r}")

    @property
    def grid_size(self) -> int:
        """H/P, the number of patches along one side."""
        return self.image_size // self.patch_size

    @property
    def num_patches(self) -> int:
        """N = HW / P^2."""
        return self.grid_size**2

    @property
    def num_tokens(self) -> int:
        """N + 1: the patches and the class token."""
        return self.num_patches + 1

    def to_dict(self) -> dict:
        """The config as a plain dict (for JSON)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ViTConfig":
        """Build a config from :meth:`to_dict`'s output; unknown keys raise."""
        check_fields(cls, d)
        return cls(**d)


#: The paper's Table 1 (224x224 RGB inputs, 1000 classes) and a CPU preset.
PRESETS: dict[str, dict] = {
    "ViT-B/16": dict(patch_size=16, depth=12, dim=768, mlp_dim=3072, heads=12),
    "ViT-L/16": dict(patch_size=16, depth=24, dim=1024, mlp_dim=4096, heads=16),
    "ViT-H/14": dict(patch_size=14, depth=32, dim=1280, mlp_dim=5120, heads=16),
    # Small enough to train on 28x28 MNIST digits on a laptop CPU in about a minute.
    "ViT-Tiny": dict(
        image_size=28, patch_size=4, in_channels=1, num_classes=10,
        dim=64, depth=4, heads=4, mlp_dim=128,
    ),
}


def vit_config(name: str, **overrides) -> ViTConfig:
    """Return the preset ``name`` as a :class:`ViTConfig`, with overrides.

    Args:
        name: one of ``PRESETS`` ("ViT-B/16", "ViT-L/16", "ViT-H/14", "ViT-Tiny").
        **overrides: any :class:`ViTConfig` field, e.g. ``num_classes=10``.
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}")
    check_fields(ViTConfig, overrides)
    return ViTConfig(**{**PRESETS[name], **overrides})
