"""A convolutional stem: a few small convs before the tokens (hybrid models).

ViT's patch embedding is one linear map per P x P patch, so an edge or a
stroke inside a patch is seen only through that one map. A conv stem first
runs a few 3x3 convs (each with BatchNorm and ReLU) over the image, so local
structure is extracted by layers built for it, then turns the feature map
into tokens. This is the recipe of "Early convolutions help transformers see
better" (Xiao et al., 2021): 3x3 convs of stride 2 and a final 1x1 conv,
replacing the 16x16 patchify; CoAtNet (Dai et al., 2021) goes further and
uses whole conv stages before the attention stages.

Here the stem's strides multiply to s, and a last conv with kernel = stride =
P/s maps to D channels (a 1x1 conv when s = P), so the stem gives the same
N = HW/P^2 tokens as a :class:`~vit_tutorial.embedding.PatchEmbedding` with
patch size P and can replace it in a ViT.

Notation: B, C, H, W the images, P the total stride, D the token width.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .._checks import check_divisible, check_dtype_like, check_positive_int, check_rank

__all__ = ["ConvStem", "default_stem_strides"]


def default_stem_strides(patch_size: int, num_convs: int = 2) -> tuple[int, ...]:
    """Strides for ``num_convs`` 3x3 convs: 2 while P still has a factor 2, else 1.

    Examples: P=4 -> (2, 2); P=2 -> (2, 1); P=7 -> (1, 1); P=14 -> (2, 1).
    """
    check_positive_int(patch_size, "patch_size")
    check_positive_int(num_convs, "num_convs")
    strides, rest = [], patch_size
    for _ in range(num_convs):
        s = 2 if rest % 2 == 0 else 1
        strides.append(s)
        rest //= s
    return tuple(strides)


class ConvStem(nn.Module):
    """3x3 conv + BN + ReLU layers, then a conv to D: (B, C, H, W) -> (B, N, D).

    Args:
        in_channels: C.
        dim: D.
        patch_size: P, the total stride; N = (H/P) * (W/P).
        channels: output channels of the 3x3 convs, one per conv.
        strides: their strides (default :func:`default_stem_strides`); their
            product must divide P.
    """

    def __init__(
        self,
        in_channels: int,
        dim: int,
        patch_size: int,
        channels: tuple[int, ...] = (16, 32),
        strides: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.dim = check_positive_int(dim, "dim")
        self.patch_size = P = check_positive_int(patch_size, "patch_size")
        if not isinstance(channels, (tuple, list)) or len(channels) == 0:
            raise ValueError(f"channels must be a non-empty tuple of ints, got {channels!r}")
        for c in channels:
            check_positive_int(c, "stem channels")
        if strides is not None and not isinstance(strides, (tuple, list)):
            raise ValueError(f"strides must be a tuple of ints (one per conv) or None, got {strides!r}")
        strides = default_stem_strides(P, len(channels)) if strides is None else tuple(strides)
        if len(strides) != len(channels):
            raise ValueError(f"expected one stride per conv ({len(channels)}), got {len(strides)} strides {strides}")
        for s in strides:
            check_positive_int(s, "stem stride")
        total = math.prod(strides)
        if P % total:
            raise ValueError(f"the stem strides {strides} multiply to {total}, which does not divide patch_size {P}")
        self.strides = strides
        layers: list[nn.Module] = []
        c_in = in_channels
        for c_out, s in zip(channels, strides):
            layers += [nn.Conv2d(c_in, c_out, 3, stride=s, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
            c_in = c_out
        self.convs = nn.Sequential(*layers)
        k = P // total
        self.proj = nn.Conv2d(c_in, dim, kernel_size=k, stride=k)  # 1x1 when the convs already stride by P

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Tokens (B, N, D) from ``images`` (B, C, H, W); H, W multiples of P."""
        check_rank(images, 4, "images", "(B, C, H, W)")
        B, C, H, W = images.shape
        if C != self.in_channels:
            raise ValueError(f"images have {C} channels, but the stem expects in_channels={self.in_channels}")
        check_dtype_like(images, "images", self)
        check_divisible(H, self.patch_size, "height")
        check_divisible(W, self.patch_size, "width")
        x = self.convs(images)  # (B, c, H/s, W/s)
        x = self.proj(x)  # (B, D, H/P, W/P)
        return x.flatten(2).transpose(1, 2)  # (B, N, D)
