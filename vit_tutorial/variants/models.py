"""Small trainable models built from the variant layers, for 28x28 digits.

* :class:`PEGViT`: ViT without a position table; CPVT's PEG after the first
  block generates positions from the tokens, so it runs at any resolution.
* :class:`HybridViT`: ViT whose patch embedding is a :class:`ConvStem`.
* :class:`PyramidViT`: two stages on a shrinking token grid, with window
  attention (Swin-like, ``attention="window"``) or spatial-reduction
  attention (PVT-like, ``attention="sra"``), and patch merging in between.

All map images (B, C, H, W) to logits (B, classes) and reuse the package's
:class:`~vit_tutorial.encoder.EncoderBlock`, :class:`~vit_tutorial.encoder.MLP`,
:class:`~vit_tutorial.embedding.PatchEmbedding` and ViT's initialisation.
"""
from __future__ import annotations

import torch
from torch import nn

from .._checks import check_choice, check_divisible, check_dtype_like, check_positive_int, check_rank
from ..config import ViTConfig
from ..embedding import PatchEmbedding
from ..encoder import MLP, Encoder
from ..model import ViT, init_trunc_2sigma
from ..position import ClassToken, trunc_normal_init
from .conv_stem import ConvStem
from .peg import PositionEncodingGenerator
from .spatial_reduction import SpatialReductionAttention
from .window_attention import WindowAttention, check_grid

__all__ = ["PEGViT", "HybridViT", "GridBlock", "PatchMerging", "PyramidViT"]


def _check_config(config: object) -> ViTConfig:
    if not isinstance(config, ViTConfig):
        raise ValueError(f"config must be a ViTConfig, got {type(config).__name__}")
    return config


class PEGViT(nn.Module):
    """ViT with CPVT's position encoding generator instead of a position table.

    The patch tokens get no position embedding; after block ``peg_after``
    (0: the first block, as in CPVT) a :class:`PositionEncodingGenerator`
    adds one computed from the token grid. ``config.image_size`` is only the
    training size: any image whose sides are multiples of P is accepted.
    ``config.pos_embedding`` is ignored.

    Args:
        config: a :class:`~vit_tutorial.config.ViTConfig`.
        peg_after: index of the block the PEG follows.
        kernel_size: the PEG's depthwise kernel (3 in CPVT).
    """

    def __init__(self, config: ViTConfig, peg_after: int = 0, kernel_size: int = 3) -> None:
        super().__init__()
        self.config = c = _check_config(config)
        if isinstance(peg_after, bool) or not isinstance(peg_after, int) or not 0 <= peg_after < c.depth:
            raise ValueError(f"peg_after must be a block index in [0, {c.depth}), got {peg_after!r}")
        self.peg_after = peg_after
        self.patch_embed = PatchEmbedding(c.in_channels, c.dim, c.patch_size)
        self.cls_token = ClassToken(c.dim)
        self.encoder = Encoder(
            depth=c.depth, dim=c.dim, heads=c.heads, mlp_dim=c.mlp_dim, dropout=c.dropout,
            attention_dropout=c.attention_dropout, layer_norm_eps=c.layer_norm_eps, qkv_bias=c.qkv_bias,
        )
        self.peg = PositionEncodingGenerator(c.dim, kernel_size)
        self.head = nn.Linear(c.dim, c.num_classes) if c.num_classes > 0 else nn.Identity()
        self.apply(init_trunc_2sigma)

    def forward_features(
        self, images: torch.Tensor, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Images (B, C, H, W), H and W multiples of P, to tokens (B, N+1, D)."""
        check_rank(images, 4, "images", "(B, C, H, W)")
        B, C, H, W = images.shape
        P = self.config.patch_size
        x = self.patch_embed(images)  # (B, N, D), checks C and divisibility
        grid = (H // P, W // P)
        x = self.cls_token(x)  # (B, N+1, D)
        attentions = []
        for i, block in enumerate(self.encoder.blocks):
            if return_attention:
                x, weights = block(x, return_attention=True)  # (B, N+1, D), (B, h, N+1, N+1)
                attentions.append(weights)
            else:
                x = block(x)  # (B, N+1, D)
            if i == self.peg_after:
                x = self.peg(x, grid, num_prefix_tokens=1)  # (B, N+1, D)
        x = self.encoder.norm(x)  # (B, N+1, D)
        return (x, attentions) if return_attention else x

    def forward(
        self, images: torch.Tensor, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits (B, classes), or ``(logits, attentions)``."""
        out = self.forward_features(images, return_attention)
        features, attentions = out if return_attention else (out, None)
        pooled = features[:, 0] if self.config.pool == "cls" else features[:, 1:].mean(dim=1)  # (B, D)
        logits = self.head(pooled)  # (B, classes)
        return (logits, attentions) if return_attention else logits


class HybridViT(ViT):
    """A ViT whose patch embedding is a :class:`ConvStem` (a hybrid model).

    Everything else (class token, learned position table for N+1 tokens,
    encoder, head) is the plain :class:`~vit_tutorial.model.ViT`: the stem
    gives the same N = HW/P^2 tokens as the patch embedding it replaces.

    Args:
        config: a :class:`~vit_tutorial.config.ViTConfig`; P is the stem's total stride.
        stem_channels: output channels of the stem's 3x3 convs.
        stem_strides: their strides (default: stride 2 while P allows).
    """

    def __init__(
        self,
        config: ViTConfig,
        stem_channels: tuple[int, ...] = (16, 32),
        stem_strides: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__(_check_config(config))
        c = self.config
        self.patch_embed = ConvStem(c.in_channels, c.dim, c.patch_size, stem_channels, stem_strides)


class GridBlock(nn.Module):
    """A pre-norm Transformer block whose attention needs the token grid.

    ``x + attn(LN(x), grid)`` then ``x + MLP(LN(x))``, as
    :class:`~vit_tutorial.encoder.EncoderBlock` but with a
    :class:`WindowAttention` or :class:`SpatialReductionAttention`.

    Args:
        dim: D.
        mlp_dim: the MLP's hidden size.
        attention: a module called as ``attention(x, grid)``.
    """

    def __init__(self, dim: int, mlp_dim: int, attention: nn.Module) -> None:
        super().__init__()
        check_positive_int(dim, "dim")
        check_positive_int(mlp_dim, "mlp_dim")
        if not isinstance(attention, nn.Module):
            raise TypeError(f"attention must be an nn.Module (window or spatial-reduction attention), got {type(attention).__name__}")
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = attention
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = MLP(dim, mlp_dim)

    def forward(self, x: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        """Tokens (B, N, D) on ``grid`` to (B, N, D)."""
        x = x + self.attn(self.norm1(x), grid)  # (B, N, D)
        return x + self.mlp(self.norm2(x))  # (B, N, D)


class PatchMerging(nn.Module):
    """Halve the grid, double the width: concatenate each 2x2 block of tokens
    (4D values), LayerNorm, then a linear map to 2D (Swin's patch merging; a
    conv with kernel = stride = 2 is the same linear map, as PVT uses).

    Args:
        dim: D, the input width.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        self.norm = nn.LayerNorm(4 * dim, eps=1e-6)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: torch.Tensor, grid: tuple[int, int]) -> tuple[torch.Tensor, tuple[int, int]]:
        """Tokens (B, N, D) on (Hg, Wg) to ((B, N/4, 2D), (Hg/2, Wg/2))."""
        Hg, Wg = check_grid(x, grid)
        if Hg % 2 or Wg % 2:
            raise ValueError(f"patch merging needs an even grid, got {Hg}x{Wg}")
        B, N, D = x.shape
        x = x.reshape(B, Hg // 2, 2, Wg // 2, 2, D)  # (B, Hg/2, 2, Wg/2, 2, D)
        x = x.permute(0, 1, 3, 2, 4, 5).reshape(B, N // 4, 4 * D)  # (B, N/4, 4D)
        return self.reduction(self.norm(x)), (Hg // 2, Wg // 2)  # (B, N/4, 2D)


class PyramidViT(nn.Module):
    """A two-or-more-stage Transformer on a shrinking token grid.

    Stage s runs ``depths[s]`` :class:`GridBlock` s of width ``dims[s]``;
    between stages a :class:`PatchMerging` halves the grid and doubles D
    (so ``dims[s+1] == 2 * dims[s]``). The final tokens are layer-normed,
    averaged and classified.

    * ``attention="window"`` (Swin-like): :class:`WindowAttention` with
      relative position bias; blocks alternate plain and shifted windows
      (shift w/2). When a grid side is not larger than w, the window is
      the whole grid and there is no shift. No position table, so any
      resolution whose grid divides into windows works.
    * ``attention="sra"`` (PVT-like): :class:`SpatialReductionAttention`
      with ratio ``reductions[s]``; a learned position table is added to the
      first stage's tokens, which fixes the resolution as in ViT.

    Args:
        image_size, in_channels, num_classes, patch_size: as in ViTConfig.
        dims, depths, heads: per stage.
        mlp_ratio: MLP hidden size = mlp_ratio * D.
        attention: ``"window"`` or ``"sra"``.
        window_size: w (window attention).
        reductions: R per stage (spatial-reduction attention).
    """

    def __init__(
        self,
        image_size: int = 28,
        in_channels: int = 1,
        num_classes: int = 10,
        patch_size: int = 2,
        dims: tuple[int, ...] = (32, 64),
        depths: tuple[int, ...] = (2, 2),
        heads: tuple[int, ...] = (2, 4),
        mlp_ratio: int = 2,
        attention: str = "window",
        window_size: int = 7,
        reductions: tuple[int, ...] = (2, 1),
    ) -> None:
        super().__init__()
        self.attention = check_choice(attention, ("window", "sra"), "attention")
        for name, v in (("image_size", image_size), ("in_channels", in_channels), ("patch_size", patch_size),
                        ("mlp_ratio", mlp_ratio), ("window_size", window_size)):
            check_positive_int(v, name)
        check_divisible(image_size, patch_size, "size")
        stages = len(dims)
        if not (len(depths) == len(heads) == stages) or (attention == "sra" and len(reductions) != stages):
            raise ValueError(
                f"dims, depths, heads (and reductions for 'sra') need one entry per stage; got "
                f"{len(dims)}, {len(depths)}, {len(heads)}, {len(reductions)}"
            )
        for a, b in zip(dims, dims[1:]):
            if b != 2 * a:
                raise ValueError(f"each stage must double the width (patch merging), got dims {tuple(dims)}")
        grid = image_size // patch_size
        if grid % (2 ** (stages - 1)):
            raise ValueError(f"the grid {grid}x{grid} cannot be halved {stages - 1} times")
        self.image_size, self.patch_size, self.window_size = image_size, patch_size, window_size
        self.patch_embed = PatchEmbedding(in_channels, dims[0], patch_size)
        self.pos_embed = None
        if attention == "sra":
            self.pos_embed = nn.Parameter(torch.zeros(1, grid * grid, dims[0]))  # (1, N, D)
            trunc_normal_init(self.pos_embed)
        self.stages = nn.ModuleList()
        self.merges = nn.ModuleList()
        for s in range(stages):
            D, side = dims[s], grid // 2**s
            blocks = []
            for i in range(depths[s]):
                if attention == "window":
                    w = min(window_size, side)
                    shift = w // 2 if (i % 2 == 1 and side > w) else 0
                    attn: nn.Module = WindowAttention(D, heads[s], w, shift)
                else:
                    attn = SpatialReductionAttention(D, heads[s], reductions[s])
                blocks.append(GridBlock(D, mlp_ratio * D, attn))
            self.stages.append(nn.ModuleList(blocks))
            if s < stages - 1:
                self.merges.append(PatchMerging(D))
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.head = nn.Linear(dims[-1], num_classes) if num_classes > 0 else nn.Identity()
        self.apply(init_trunc_2sigma)

    def no_weight_decay(self) -> set[str]:
        """The names of this module's own parameters that AdamW must not decay: its position table."""
        return {"pos_embed"} if self.pos_embed is not None else set()

    def forward_features(self, images: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
        """Images (B, C, H, W) to the last stage's tokens (B, N_last, D_last) and grid."""
        check_rank(images, 4, "images", "(B, C, H, W)")
        check_dtype_like(images, "images", self)
        B, C, H, W = images.shape
        if self.pos_embed is not None and (H, W) != (self.image_size, self.image_size):
            raise ValueError(
                f"the PVT-like model has a position table for {self.image_size}x{self.image_size} "
                f"images, got {H}x{W}"
            )
        x = self.patch_embed(images)  # (B, N, D)
        grid = (H // self.patch_size, W // self.patch_size)
        if self.pos_embed is not None:
            x = x + self.pos_embed  # (B, N, D)
        for s, blocks in enumerate(self.stages):
            for block in blocks:
                x = block(x, grid)  # (B, N_s, D_s)
            if s < len(self.merges):
                x, grid = self.merges[s](x, grid)  # (B, N_s/4, 2 D_s)
        return self.norm(x), grid  # (B, N_last, D_last)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits (B, classes) from images (B, C, H, W)."""
        x, _ = self.forward_features(images)  # (B, N_last, D_last)
        return self.head(x.mean(dim=1))  # (B, classes)
