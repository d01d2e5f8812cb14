"""The conditional position encoding generator (PEG) of CPVT (Chu et al., 2021).

ViT adds a learned table with one row per position: the table fixes the
number of tokens, hence the resolution. PEG instead *computes* a position
signal from the tokens themselves: lay the patch tokens back on their grid,
run a depthwise 3x3 conv (zero padding), and add the result to the tokens.
Because the conv sees the zero padding at the border, it can tell where a
token sits; because it is a conv, it works on a grid of any size.

With all conv weights and the bias at zero, PEG is the identity.

Notation: B batch, N = Hg * Wg patch tokens, D width, k the kernel size.
"""
from __future__ import annotations

import torch
from torch import nn

from .._checks import check_dtype_like, check_positive_int, check_rank

__all__ = ["PositionEncodingGenerator"]


class PositionEncodingGenerator(nn.Module):
    """x + DepthwiseConv(x) on the patch tokens; prefix tokens pass through.

    Args:
        dim: D.
        kernel_size: k, odd (CPVT uses 3).
    """

    def __init__(self, dim: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        check_positive_int(kernel_size, "kernel_size")
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd so that the grid keeps its size, got {kernel_size}")
        self.conv = nn.Conv2d(dim, dim, kernel_size, padding=kernel_size // 2, groups=dim)

    def forward(self, x: torch.Tensor, grid: tuple[int, int], num_prefix_tokens: int = 1) -> torch.Tensor:
        """Add the generated position signal to the patch tokens.

        Args:
            x: tokens (B, prefix + N, D): ``num_prefix_tokens`` class-like
                tokens first, then N = Hg * Wg patch tokens in row-major order.
            grid: (Hg, Wg).
            num_prefix_tokens: tokens at the front that are not on the grid.

        Returns:
            (B, prefix + N, D).
        """
        check_rank(x, 3, "x", "(B, T, D)")
        check_dtype_like(x, "x", self)
        if not isinstance(grid, (tuple, list)) or len(grid) != 2:
            raise ValueError(f"grid must be a pair (rows, cols) of the token grid, got {grid!r}")
        Hg, Wg = grid
        check_positive_int(Hg, "grid rows")
        check_positive_int(Wg, "grid cols")
        if isinstance(num_prefix_tokens, bool) or not isinstance(num_prefix_tokens, int) or num_prefix_tokens < 0:
            raise ValueError(f"num_prefix_tokens must be an integer >= 0, got {num_prefix_tokens!r}")
        B, T, D = x.shape
        if D != self.dim:
            raise ValueError(f"x has width D={D}, but the PEG expects dim={self.dim}")
        if T != num_prefix_tokens + Hg * Wg:
            raise ValueError(
                f"x has {T} tokens, but {num_prefix_tokens} prefix token(s) + a {Hg}x{Wg} grid "
                f"make {num_prefix_tokens + Hg * Wg}"
            )
        prefix, patches = x[:, :num_prefix_tokens], x[:, num_prefix_tokens:]  # (B, p, D), (B, N, D)
        fmap = patches.transpose(1, 2).reshape(B, D, Hg, Wg)  # (B, D, Hg, Wg)
        fmap = fmap + self.conv(fmap)  # (B, D, Hg, Wg)
        patches = fmap.flatten(2).transpose(1, 2)  # (B, N, D)
        return torch.cat([prefix, patches], dim=1)  # (B, p + N, D)
