"""The class token and position embeddings.

* :class:`ClassToken` prepends one learned D-vector to every sequence
  (B, N, D) -> (B, N+1, D), as BERT's [CLS] token does.
* :class:`LearnedPositionEmbedding` adds a learned table (1, N+1, D).
* :func:`sincos_2d_position_embedding` builds a fixed 2-D sin-cos table.
* :func:`resize_position_embedding` interpolates a learned table to a new
  patch grid (the paper's trick for fine-tuning at a higher resolution),
  keeping the class token's entry unchanged.

Both learned tensors start from a normal distribution with std 0.02
truncated at +-2 std: the book's choice, close to DeiT's
``trunc_normal_(std=.02)`` (timm still draws the position table that way;
its class token now starts at ``normal_(std=1e-6)``). The official ViT code
(``google-research/vision_transformer``, ``vit_jax/models_vit.py``) starts
the class token at zero and the position table from an untruncated
normal(0.02) ("from BERT"); the paper specifies neither.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_finite_number, check_pair, check_positive_int, check_rank

__all__ = [
    "trunc_normal_init",
    "ClassToken",
    "LearnedPositionEmbedding",
    "SinCosPositionEmbedding",
    "sincos_2d_position_embedding",
    "resize_position_embedding",
]


def trunc_normal_init(tensor: torch.Tensor, std: float = 0.02) -> torch.Tensor:
    """Fill ``tensor`` in place from a normal(0, std) truncated at +-2 std."""
    if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
        raise TypeError(f"tensor must be a floating-point torch.Tensor, got "
                        f"{tensor.dtype if isinstance(tensor, torch.Tensor) else type(tensor).__name__}")
    check_finite_number(std, "std", low=0.0, low_open=True)
    return nn.init.trunc_normal_(tensor, std=std, a=-2 * std, b=2 * std)


class ClassToken(nn.Module):
    """Prepend a learned class token: (B, N, D) -> (B, N+1, D).

    Args:
        dim: D.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = check_positive_int(dim, "dim")
        self.token = nn.Parameter(torch.zeros(1, 1, dim))  # (1, 1, D)
        trunc_normal_init(self.token)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Return ``tokens`` (B, N, D) with the class token first: (B, N+1, D)."""
        check_rank(tokens, 3, "tokens", "(B, N, D)")
        B, N, D = tokens.shape
        if D != self.dim:
            raise ValueError(f"tokens have width D={D}, but the class token has dim={self.dim}")
        cls = self.token.expand(B, -1, -1)  # (B, 1, D)
        return torch.cat([cls, tokens], dim=1)  # (B, N+1, D)


class LearnedPositionEmbedding(nn.Module):
    """Add a learned position table (1, T, D) to tokens (B, T, D).

    Args:
        num_tokens: T, usually N+1 (the patches plus the class token).
        dim: D.
    """

    def __init__(self, num_tokens: int, dim: int) -> None:
        super().__init__()
        self.num_tokens = check_positive_int(num_tokens, "num_tokens")
        self.dim = check_positive_int(dim, "dim")
        self.weight = nn.Parameter(torch.zeros(1, num_tokens, dim))  # (1, T, D)
        trunc_normal_init(self.weight)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Return ``tokens + table``, shape (B, T, D); broadcasting covers B."""
        _check_table_fits(tokens, self.num_tokens, self.dim)
        return tokens + self.weight  # (B, T, D)


class SinCosPositionEmbedding(nn.Module):
    """Add a fixed 2-D sin-cos table (not trained) to tokens (B, T, D).

    Args:
        grid_size: (H/P, W/P), the patch grid.
        dim: D, a multiple of 4.
        class_token: whether the sequence starts with a class token (its
            entry is all zeros).
    """

    def __init__(self, grid_size: tuple[int, int], dim: int, class_token: bool = True) -> None:
        super().__init__()
        table = sincos_2d_position_embedding(grid_size, dim, class_token)  # (T, D)
        self.register_buffer("weight", table.unsqueeze(0), persistent=False)  # (1, T, D)
        self.num_tokens, self.dim = table.shape

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Return ``tokens + table``, shape (B, T, D)."""
        _check_table_fits(tokens, self.num_tokens, self.dim)
        return tokens + self.weight  # (B, T, D)


def _check_table_fits(tokens: torch.Tensor, num_tokens: int, dim: int) -> None:
    check_rank(tokens, 3, "tokens", "(B, T, D)")
    B, T, D = tokens.shape
    if (T, D) != (num_tokens, dim):
        raise ValueError(
            f"the position table has {num_tokens} tokens of width {dim}, but the input "
            f"has {T} tokens of width {D}; to run at another resolution, resize the "
            f"table with resize_position_embedding"
        )


def sincos_2d_position_embedding(
    grid_size: int | tuple[int, int], dim: int, class_token: bool = True, temperature: float = 10000.0
) -> torch.Tensor:
    """Fixed 2-D sin-cos position table.

    A quarter of the D channels encodes the column with sines, a quarter with
    cosines, and the other half does the same for the row, at geometrically
    spaced frequencies (as in MAE and "Better plain ViT baselines").

    Args:
        grid_size: (rows, cols) of the patch grid, or one int for a square grid.
        dim: D, a multiple of 4.
        class_token: prepend an all-zero row for the class token.
        temperature: the base of the frequencies: the slowest channel has
            frequency 1/temperature, i.e. a wavelength of 2*pi*temperature.

    Returns:
        Tensor of shape (rows*cols [+1], D), rows in the patch order of
        :func:`~vit_tutorial.patches.patchify`.
    """
    rows, cols = check_pair(grid_size, "grid")
    check_positive_int(dim, "dim")
    check_finite_number(temperature, "temperature", low=0.0, low_open=True)
    if not isinstance(class_token, bool):
        raise ValueError(f"class_token must be True or False, got {class_token!r}")
    if dim % 4 != 0:
        raise ValueError(f"dim must be a multiple of 4 for a 2-D sin-cos table, got {dim}")
    y, x = torch.meshgrid(torch.arange(rows), torch.arange(cols), indexing="ij")  # (rows, cols)
    omega = torch.arange(dim // 4) / (dim // 4 - 1 if dim > 4 else 1)
    omega = 1.0 / temperature**omega  # (D/4,)
    y = y.flatten()[:, None] * omega[None, :]  # (rows*cols, D/4)
    x = x.flatten()[:, None] * omega[None, :]  # (rows*cols, D/4)
    table = torch.cat([x.sin(), x.cos(), y.sin(), y.cos()], dim=1)  # (rows*cols, D)
    if class_token:
        table = torch.cat([torch.zeros(1, dim), table], dim=0)  # (rows*cols + 1, D)
    return table.float()


def resize_position_embedding(
    table: torch.Tensor,
    new_grid: int | tuple[int, int],
    num_prefix_tokens: int = 1,
    mode: str = "bicubic",
    align_corners: bool = False,
) -> torch.Tensor:
    """Resize a learned position table to a new patch grid by 2-D interpolation.

    The paper (sec. 3.2) says only "2D interpolation". The default,
    ``mode="bicubic", align_corners=False``, is DeiT's choice and the book's
    (timm's ``resample_abs_pos_embed`` is bicubic too, but anti-aliased by
    default, which gives slightly different values). The official ViT code (``vit_jax/checkpoint.py``) uses
    ``scipy.ndimage.zoom(grid, zoom, order=1)``, a linear spline that maps
    corner to corner: ``mode="bilinear", align_corners=True`` gives the same
    values.

    Args:
        table: tensor of shape (1, prefix + rows*cols, D); the old grid must
            be square unless it is given by the square root of the count.
        new_grid: the new (rows, cols), or one int for a square grid.
        num_prefix_tokens: entries at the front that are not patches (1 for
            the class token); they are kept unchanged.
        mode: ``"bicubic"`` (DeiT; timm adds anti-aliasing) or ``"bilinear"`` (the official
            code, with ``align_corners=True``).
        align_corners: passed to :func:`torch.nn.functional.interpolate`.

    Returns:
        Tensor of shape (1, prefix + new_rows*new_cols, D).
    """
    check_rank(table, 3, "table", "(1, T, D)")
    if mode not in ("bicubic", "bilinear"):
        raise ValueError(f"unknown mode {mode!r}; expected 'bicubic' or 'bilinear'")
    new_rows, new_cols = check_pair(new_grid, "new grid")
    if table.shape[0] != 1:
        raise ValueError(f"table must have shape (1, T, D) (one table, not a batch), got {tuple(table.shape)}")
    if not table.is_floating_point():
        raise TypeError(f"table must be a floating-point tensor (interpolation), got {table.dtype}; use table.float()")
    _, T, D = table.shape
    if isinstance(num_prefix_tokens, bool) or not isinstance(num_prefix_tokens, int) or not 0 <= num_prefix_tokens < T:
        raise ValueError(f"num_prefix_tokens must be an integer in [0, {T - 1}] for a table of {T} tokens, "
                         f"got {num_prefix_tokens!r}")
    prefix, grid = table[:, :num_prefix_tokens], table[:, num_prefix_tokens:]  # (1, p, D), (1, n, D)
    n = T - num_prefix_tokens
    side = math.isqrt(n)
    if side * side != n:
        raise ValueError(
            f"the table's {n} patch entries do not form a square grid; expected a square number"
        )
    grid = grid.reshape(1, side, side, D).permute(0, 3, 1, 2)  # (1, D, side, side)
    if not isinstance(align_corners, bool):
        raise TypeError(f"align_corners must be a bool, got {type(align_corners).__name__}")
    grid = F.interpolate(grid, size=(new_rows, new_cols), mode=mode, align_corners=align_corners)  # (1, D, r, c)
    grid = grid.permute(0, 2, 3, 1).reshape(1, new_rows * new_cols, D)  # (1, r*c, D)
    return torch.cat([prefix, grid], dim=1)  # (1, p + r*c, D)
