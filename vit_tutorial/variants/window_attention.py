"""Window attention, as in the Swin Transformer (Liu et al., 2021).

ViT lets each of the N tokens attend to all N tokens: N^2 scores per head.
Swin cuts the (H/P) x (W/P) token grid into non-overlapping windows of
w x w tokens and runs attention *inside each window* only. A window holds w^2
tokens, there are N / w^2 windows, so the scores cost (N / w^2) * w^4 = N w^2:
linear in N for a fixed window size w.

Windows alone never exchange information, so every second block shifts the
grid by w/2 tokens before cutting it ("shifted windows"). Tokens that the
cyclic shift brings together from opposite borders of the image are kept
apart by an attention mask (:func:`shifted_window_mask`).

Notation: B batch, N = Hg * Wg tokens on a grid of Hg rows and Wg columns,
D width, h heads, d = D/h, w the window side, nW = N / w^2 windows per image.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_dtype_like, check_pair, check_positive_int, check_rank
from ..attention import MultiHeadSelfAttention
from ..position import trunc_normal_init

__all__ = ["window_partition", "window_reverse", "shifted_window_mask", "WindowAttention", "check_grid"]


def check_grid(tokens: torch.Tensor, grid: tuple[int, int]) -> tuple[int, int]:
    """Raise unless ``tokens`` (B, N, D) hold exactly ``grid`` = (Hg, Wg) tokens.

    Returns the grid as a pair of positive ints.
    """
    check_rank(tokens, 3, "tokens", "(B, N, D)")
    if not isinstance(grid, (tuple, list)) or len(grid) != 2:
        raise ValueError(f"grid must be a pair (rows, cols) of the token grid, got {grid!r}")
    Hg, Wg = (check_positive_int(g, name) for g, name in zip(grid, ("grid rows", "grid cols")))
    B, N, D = tokens.shape
    if N != Hg * Wg:
        raise ValueError(
            f"tokens hold N={N} tokens, but the grid {Hg}x{Wg} has {Hg * Wg}; "
            f"expected N = rows * cols (patch tokens only, no class token)"
        )
    return Hg, Wg


def _check_window(Hg: int, Wg: int, window_size: int) -> None:
    check_positive_int(window_size, "window_size")
    if Hg % window_size or Wg % window_size:
        raise ValueError(
            f"the token grid {Hg}x{Wg} is not divisible by the window size {window_size}; "
            f"expected both sides to be multiples of {window_size}"
        )


def window_partition(x: torch.Tensor, window_size: int) -> torch.Tensor:
    """Cut a token grid into non-overlapping square windows.

    Args:
        x: tokens on their grid, shape (B, Hg, Wg, D); Hg and Wg multiples of w.
        window_size: w, the side of a window in tokens.

    Returns:
        Windows of shape (B * nW, w*w, D), nW = (Hg/w) * (Wg/w); the windows
        of one image are consecutive, in row-major order, and the tokens of a
        window are in row-major order inside it.
    """
    check_rank(x, 4, "x", "(B, Hg, Wg, D)")
    B, Hg, Wg, D = x.shape
    _check_window(Hg, Wg, window_size)
    w = window_size
    x = x.reshape(B, Hg // w, w, Wg // w, w, D)  # (B, Hg/w, w, Wg/w, w, D)
    x = x.permute(0, 1, 3, 2, 4, 5)  # (B, Hg/w, Wg/w, w, w, D)
    return x.reshape(-1, w * w, D)  # (B*nW, w*w, D)


def window_reverse(windows: torch.Tensor, window_size: int, grid: tuple[int, int]) -> torch.Tensor:
    """Undo :func:`window_partition`.

    Args:
        windows: shape (B * nW, w*w, D).
        window_size: w.
        grid: (Hg, Wg), the token grid of one image.

    Returns:
        Tokens on their grid, shape (B, Hg, Wg, D).
    """
    check_rank(windows, 3, "windows", "(B*nW, w*w, D)")
    Hg, Wg = check_pair(grid, "grid")
    _check_window(Hg, Wg, window_size)
    w = window_size
    BnW, ww, D = windows.shape
    nW = (Hg // w) * (Wg // w)
    if ww != w * w or BnW % nW:
        raise ValueError(
            f"windows of shape {tuple(windows.shape)} do not fit a {Hg}x{Wg} grid cut into "
            f"{nW} windows of {w}x{w}; expected shape (B*{nW}, {w * w}, D)"
        )
    B = BnW // nW
    x = windows.reshape(B, Hg // w, Wg // w, w, w, D)  # (B, Hg/w, Wg/w, w, w, D)
    x = x.permute(0, 1, 3, 2, 4, 5)  # (B, Hg/w, w, Wg/w, w, D)
    return x.reshape(B, Hg, Wg, D)  # (B, Hg, Wg, D)


def shifted_window_mask(grid: tuple[int, int], window_size: int, shift: int) -> torch.Tensor:
    """The additive attention mask of shifted-window attention.

    After the grid is rolled by ``-shift`` along both axes, a window at the
    bottom or right border holds tokens from opposite sides of the image.
    Label every token with the region it came from; two tokens of one window
    may attend to each other only when their labels agree.

    Args:
        grid: (Hg, Wg), the token grid.
        window_size: w.
        shift: the roll, 0 <= shift < w (Swin uses w // 2).

    Returns:
        Tensor of shape (nW, w*w, w*w): 0 where attention is allowed, -inf
        where it is not. With ``shift == 0`` it is all zeros.
    """
    Hg, Wg = check_pair(grid, "grid")
    _check_window(Hg, Wg, window_size)
    w = window_size
    if isinstance(shift, bool) or not isinstance(shift, int) or not 0 <= shift < w:
        raise ValueError(f"shift must be an integer in [0, window_size={w}), got {shift!r}")
    labels = torch.zeros(1, Hg, Wg, 1)  # (1, Hg, Wg, 1)
    if shift > 0:
        bands = (slice(0, -w), slice(-w, -shift), slice(-shift, None))
        region = 0
        for rows in bands:
            for cols in bands:
                labels[:, rows, cols, :] = region
                region += 1
    labels = window_partition(labels, w).squeeze(-1)  # (nW, w*w)
    same = labels[:, :, None] == labels[:, None, :]  # (nW, w*w, w*w)
    return torch.zeros(same.shape).masked_fill(~same, float("-inf"))  # (nW, w*w, w*w)


class WindowAttention(nn.Module):
    """Multi-head self-attention inside w x w windows of the token grid.

    The q, k, v and output projections are those of a
    :class:`~vit_tutorial.attention.MultiHeadSelfAttention` (``self.attn``),
    so global attention's weights can be copied in as they are: with one
    window covering the whole grid, no shift and no bias, the two layers
    compute the same function.

    Args:
        dim: D.
        heads: h; D must be a multiple of h.
        window_size: w.
        shift: roll the grid by this many tokens first (0: plain windows;
            Swin alternates 0 and w // 2).
        relative_position_bias: add Swin's learned bias, one number per head
            for each of the (2w-1)^2 relative offsets between two tokens.
        qkv_bias: bias on the q, k, v projections.
    """

    def __init__(
        self,
        dim: int,
        heads: int,
        window_size: int,
        shift: int = 0,
        relative_position_bias: bool = True,
        qkv_bias: bool = True,
    ) -> None:
        super().__init__()
        self.attn = MultiHeadSelfAttention(dim, heads, qkv_bias=qkv_bias)
        self.window_size = w = check_positive_int(window_size, "window_size")
        if isinstance(shift, bool) or not isinstance(shift, int) or not 0 <= shift < w:
            raise ValueError(f"shift must be an integer in [0, window_size={w}), got {shift!r}")
        self.shift = shift
        self.heads = heads
        if relative_position_bias:
            self.bias_table = nn.Parameter(torch.zeros((2 * w - 1) ** 2, heads))  # ((2w-1)^2, h)
            trunc_normal_init(self.bias_table)
            rows, cols = torch.meshgrid(torch.arange(w), torch.arange(w), indexing="ij")  # (w, w)
            coords = torch.stack([rows.flatten(), cols.flatten()])  # (2, w*w)
            offsets = coords[:, :, None] - coords[:, None, :] + (w - 1)  # (2, w*w, w*w), in [0, 2w-2]
            index = offsets[0] * (2 * w - 1) + offsets[1]  # (w*w, w*w)
            self.register_buffer("bias_index", index, persistent=False)
        else:
            self.bias_table = None

    def relative_bias(self) -> torch.Tensor | None:
        """The bias added to the scores, shape (h, w*w, w*w), or None."""
        if self.bias_table is None:
            return None
        ww = self.window_size**2
        bias = self.bias_table[self.bias_index.flatten()]  # (w*w*w*w, h)
        return bias.reshape(ww, ww, self.heads).permute(2, 0, 1)  # (h, w*w, w*w)

    def forward(
        self, x: torch.Tensor, grid: tuple[int, int], return_attention: bool = False, fast: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Attend within windows.

        Args:
            x: patch tokens (B, N, D), row-major on the grid (no class token).
            grid: (Hg, Wg) with Hg * Wg = N, both multiples of w.
            return_attention: also return the weights (B, nW, h, w*w, w*w).
            fast: use ``F.scaled_dot_product_attention`` (ignored when the
                weights are asked for).

        Returns:
            (B, N, D), or ``(output, weights)`` when asked.
        """
        Hg, Wg = check_grid(x, grid)
        B, N, D = x.shape
        if D != self.attn.dim:
            raise ValueError(f"x has width D={D}, but the layer expects dim={self.attn.dim}")
        check_dtype_like(x, "x", self)
        w, s = self.window_size, self.shift
        _check_window(Hg, Wg, w)
        x = x.reshape(B, Hg, Wg, D)  # (B, Hg, Wg, D)
        if s:
            x = torch.roll(x, shifts=(-s, -s), dims=(1, 2))  # (B, Hg, Wg, D)
        windows = window_partition(x, w)  # (B*nW, w*w, D)
        q, k, v = self.attn.split_heads(windows)  # each (B*nW, h, w*w, d)
        nW, h, ww, d = (Hg // w) * (Wg // w), self.heads, w * w, D // self.heads
        mask = None  # additive, broadcast to (B, nW, h, w*w, w*w)
        bias = self.relative_bias()
        if bias is not None:
            mask = bias[None, None]  # (1, 1, h, w*w, w*w)
        if s:
            m = shifted_window_mask((Hg, Wg), w, s).to(x.dtype)[None, :, None]  # (1, nW, 1, w*w, w*w)
            mask = m if mask is None else mask + m
        if fast and not return_attention:
            if mask is not None:
                mask = mask.expand(B, nW, h, ww, ww).reshape(B * nW, h, ww, ww)  # (B*nW, h, w*w, w*w)
            out, weights = F.scaled_dot_product_attention(q, k, v, attn_mask=mask), None  # (B*nW, h, w*w, d)
        else:
            scores = q @ k.transpose(-2, -1) / d**0.5  # (B*nW, h, w*w, w*w)
            if mask is not None:
                scores = (scores.reshape(B, nW, h, ww, ww) + mask).reshape(B * nW, h, ww, ww)  # (B*nW, h, w*w, w*w)
            weights = scores.softmax(dim=-1)  # (B*nW, h, w*w, w*w)
            out = weights @ v  # (B*nW, h, w*w, d)
        out = self.attn.proj_drop(self.attn.proj(self.attn.merge_heads(out)))  # (B*nW, w*w, D)
        x = window_reverse(out, w, (Hg, Wg))  # (B, Hg, Wg, D)
        if s:
            x = torch.roll(x, shifts=(s, s), dims=(1, 2))  # (B, Hg, Wg, D)
        x = x.reshape(B, N, D)  # (B, N, D)
        if return_attention:
            return x, weights.reshape(B, nW, h, ww, ww)  # (B, N, D), (B, nW, h, w*w, w*w)
        return x
