"""Spatial-reduction attention (SRA), as in the Pyramid Vision Transformer
(PVT, Wang et al., 2021).

Every token still asks a question (a query) of the whole image, but the
answers (keys and values) come from a coarser copy of the token map: a conv
with kernel = stride = R merges each R x R block of tokens into one, so there
are N / R^2 keys instead of N. The N x N score matrix becomes N x N/R^2: R^2
times cheaper, still quadratic in N for a fixed R (PVT grows R with the
resolution of a stage to keep it affordable).

With R = 1 there is no conv and SRA is exactly global multi-head attention
(the tests copy the weights of a :class:`~vit_tutorial.attention.MultiHeadSelfAttention`
into one and compare).

Notation: B batch, N = Hg * Wg tokens, D width, h heads, d = D/h, R the
reduction ratio, M = N / R^2 reduced tokens.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_dtype_like, check_heads, check_positive_int
from ..attention import scaled_dot_product_attention
from .window_attention import check_grid

__all__ = ["SpatialReductionAttention"]


class SpatialReductionAttention(nn.Module):
    """Multi-head attention whose keys and values come from an R-times
    coarser token map.

    Args:
        dim: D.
        heads: h; D must be a multiple of h.
        reduction: R; the grid sides must be multiples of R.
        qkv_bias: bias on the q and kv projections.

    Attributes:
        q: Linear D -> D (queries from every token).
        kv: Linear D -> 2D (keys and values, in that order, from the reduced map).
        sr: Conv2d with kernel = stride = R, then ``norm`` (absent when R = 1).
        proj: the output projection.
    """

    def __init__(self, dim: int, heads: int, reduction: int = 1, qkv_bias: bool = True) -> None:
        super().__init__()
        check_heads(dim, heads)
        self.dim, self.heads, self.head_dim = dim, heads, dim // heads
        self.reduction = R = check_positive_int(reduction, "reduction")
        self.q = nn.Linear(dim, dim, bias=qkv_bias)
        self.kv = nn.Linear(dim, 2 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        if R > 1:
            self.sr = nn.Conv2d(dim, dim, kernel_size=R, stride=R)
            self.norm = nn.LayerNorm(dim)
        else:
            self.sr, self.norm = None, None

    def reduce(self, x: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        """The tokens that keys and values are computed from.

        Args:
            x: tokens (B, N, D) on the grid (Hg, Wg).

        Returns:
            (B, M, D) with M = N / R^2 (``x`` itself when R = 1).
        """
        Hg, Wg = check_grid(x, grid)
        R = self.reduction
        if Hg % R or Wg % R:
            raise ValueError(
                f"the token grid {Hg}x{Wg} is not divisible by the reduction ratio {R}; "
                f"expected both sides to be multiples of {R}"
            )
        if self.sr is None:
            return x  # (B, N, D)
        B, N, D = x.shape
        x = x.transpose(1, 2).reshape(B, D, Hg, Wg)  # (B, D, Hg, Wg)
        x = self.sr(x)  # (B, D, Hg/R, Wg/R)
        x = x.flatten(2).transpose(1, 2)  # (B, M, D)
        return self.norm(x)  # (B, M, D)

    def forward(
        self, x: torch.Tensor, grid: tuple[int, int], return_attention: bool = False, fast: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Attend from every token to the reduced map.

        Args:
            x: patch tokens (B, N, D), row-major on the grid (no class token).
            grid: (Hg, Wg) with Hg * Wg = N.
            return_attention: also return the weights (B, h, N, M).
            fast: use ``F.scaled_dot_product_attention`` when the weights are
                not asked for.

        Returns:
            (B, N, D), or ``(output, weights)`` when asked.
        """
        check_grid(x, grid)
        B, N, D = x.shape
        if D != self.dim:
            raise ValueError(f"x has width D={D}, but the layer expects dim={self.dim}")
        check_dtype_like(x, "x", self)
        h, d = self.heads, self.head_dim
        q = self.q(x).reshape(B, N, h, d).transpose(1, 2)  # (B, h, N, d)
        r = self.reduce(x, grid)  # (B, M, D)
        M = r.shape[1]
        kv = self.kv(r).reshape(B, M, 2, h, d).permute(2, 0, 3, 1, 4)  # (2, B, h, M, d)
        k, v = kv[0], kv[1]  # each (B, h, M, d)
        if fast and not return_attention:
            out, weights = F.scaled_dot_product_attention(q, k, v), None  # (B, h, N, d)
        else:
            out, weights = scaled_dot_product_attention(q, k, v)  # (B, h, N, d), (B, h, N, M)
        out = out.transpose(1, 2).reshape(B, N, D)  # (B, N, D)
        out = self.proj(out)  # (B, N, D)
        return (out, weights) if return_attention else out
