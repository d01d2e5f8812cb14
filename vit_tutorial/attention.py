"""Scaled dot-product attention and multi-head self-attention.

Notation: B batch, T tokens (N+1 with the class token), D width, h heads,
d = D/h the width of one head.

:func:`scaled_dot_product_attention` writes softmax(Q K^T / sqrt(d)) V out
for teaching. :class:`MultiHeadSelfAttention` uses it when the attention
weights are asked for, and otherwise takes the fused fast path
``torch.nn.functional.scaled_dot_product_attention``; the tests show the two
paths agree.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_dtype_like, check_heads, check_rank

__all__ = ["scaled_dot_product_attention", "MultiHeadSelfAttention"]


def scaled_dot_product_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, dropout_p: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Explicit attention: softmax(Q K^T / sqrt(d)) V.

    Args:
        q: queries, shape (..., T, d).
        k: keys, shape (..., S, d).
        v: values, shape (..., S, d_v).
        dropout_p: dropout on the attention weights (training only).

    Returns:
        ``(out, weights)``: out of shape (..., T, d_v) and the attention
        weights of shape (..., T, S), each row summing to 1.
    """
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, torch.Tensor) or t.dim() < 2:
            raise ValueError(f"{name} must be a tensor of shape (..., tokens, d), got {getattr(t, 'shape', type(t))}")
    if not q.is_floating_point():
        raise TypeError(f"q, k and v must be floating point, got q of {q.dtype}; convert with q.float()")
    for name, t in (("k", k), ("v", v)):
        check_dtype_like(t, name, dtype=q.dtype)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must have the same last dimension d, got {q.shape[-1]} and {k.shape[-1]}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v must have the same number of tokens, got {k.shape[-2]} and {v.shape[-2]}")
    d = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)  # (..., T, S)
    weights = scores.softmax(dim=-1)  # (..., T, S)
    if dropout_p > 0.0:
        weights = F.dropout(weights, p=dropout_p)
    return weights @ v, weights  # (..., T, d_v), (..., T, S)


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention as in ViT (one fused qkv projection).

    Args:
        dim: D.
        heads: h; D must be a multiple of h.
        qkv_bias: whether the q, k, v projections have a bias (ViT: yes).
        attention_dropout: dropout on the attention weights.
        dropout: dropout after the output projection.
    """

    def __init__(
        self, dim: int, heads: int, *, qkv_bias: bool = True, attention_dropout: float = 0.0, dropout: float = 0.0
    ) -> None:
        super().__init__()
        check_heads(dim, heads)
        self.dim, self.heads, self.head_dim = dim, heads, dim // heads
        self.attention_dropout = attention_dropout
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(dropout)

    def split_heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Project tokens (B, T, D) to q, k, v, each of shape (B, h, T, d)."""
        B, T, D = x.shape
        qkv = self.qkv(x)  # (B, T, 3D)
        qkv = qkv.reshape(B, T, 3, self.heads, self.head_dim)  # (B, T, 3, h, d)
        # unbind (not qkv[:, :, 0] ...): its backward stacks the three
        # gradients straight back into the (B, T, 3, h, d) layout, where
        # indexing would zero-fill a full-size gradient once per index.
        q, k, v = qkv.unbind(dim=2)  # each (B, T, h, d), views of qkv
        return q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # each (B, h, T, d)

    def merge_heads(self, x: torch.Tensor) -> torch.Tensor:
        """Merge per-head outputs (B, h, T, d) back to (B, T, D)."""
        B, h, T, d = x.shape
        return x.transpose(1, 2).reshape(B, T, h * d)  # (B, T, D)

    def forward(
        self, x: torch.Tensor, return_attention: bool = False, fast: bool = True
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Self-attention over the T tokens of each image.

        Args:
            x: tokens of shape (B, T, D).
            return_attention: also return the weights (B, h, T, T); this
                uses the explicit path.
            fast: use ``F.scaled_dot_product_attention`` when weights are
                not needed; ``False`` forces the explicit path.

        Returns:
            The output (B, T, D), or ``(output, weights)`` when asked.
        """
        check_rank(x, 3, "x", "(B, T, D)")
        B, T, D = x.shape
        if D != self.dim:
            raise ValueError(f"x has width D={D}, but the attention layer expects dim={self.dim}")
        check_dtype_like(x, "x", self)
        q, k, v = self.split_heads(x)  # each (B, h, T, d)
        p = self.attention_dropout if self.training else 0.0
        if fast and not return_attention:
            out, weights = F.scaled_dot_product_attention(q, k, v, dropout_p=p), None  # (B, h, T, d)
        else:
            out, weights = scaled_dot_product_attention(q, k, v, dropout_p=p)  # (B, h, T, d), (B, h, T, T)
        out = self.proj_drop(self.proj(self.merge_heads(out)))  # (B, T, D)
        return (out, weights) if return_attention else out
