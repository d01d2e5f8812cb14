"""The Transformer encoder: MLP, pre-norm block, and the stack of L blocks.

A block is ``x + MSA(LN(x))`` then ``x + MLP(LN(x))`` (equations 2 and 3 of
the paper): LayerNorm comes *before* each sub-layer (pre-norm) and each
sub-layer is wrapped in a residual connection. The stack ends with one more
LayerNorm (equation 4).
"""
from __future__ import annotations

import torch
from torch import nn

from ._checks import check_dtype_like, check_finite_number, check_heads, check_positive_int, check_rank
from .attention import MultiHeadSelfAttention

__all__ = ["MLP", "EncoderBlock", "Encoder"]


class MLP(nn.Module):
    """Two linear layers with a GELU between: (B, T, D) -> (B, T, D).

    Args:
        dim: D.
        hidden_dim: the MLP size (4D in ViT: 3072 for ViT-B).
        dropout: dropout after each linear layer.
    """

    def __init__(self, dim: int, hidden_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        check_positive_int(dim, "dim")
        check_positive_int(hidden_dim, "hidden_dim")
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the MLP to each token of ``x`` (B, T, D) independently."""
        check_dtype_like(x, "x", self)
        if x.dim() == 0 or x.shape[-1] != self.fc1.in_features:
            raise ValueError(f"x must have width D={self.fc1.in_features} in its last dimension, got shape {tuple(x.shape)}")
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))  # (B, T, D)


class EncoderBlock(nn.Module):
    """One pre-norm Transformer encoder block: (B, T, D) -> (B, T, D).

    Args:
        dim: D.
        heads: h.
        mlp_dim: the MLP's hidden size.
        dropout: dropout after attention and inside the MLP (keyword only, like
            the three below: two neighbouring floats must not be swapped silently).
        attention_dropout: dropout on the attention weights.
        layer_norm_eps: LayerNorm's epsilon (1e-6 in ViT).
        qkv_bias: whether q, k, v have a bias.
    """

    def __init__(
        self,
        dim: int,
        heads: int,
        mlp_dim: int,
        *,
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
        layer_norm_eps: float = 1e-6,
        qkv_bias: bool = True,
    ) -> None:
        super().__init__()
        check_heads(dim, heads)
        check_finite_number(layer_norm_eps, "layer_norm_eps", low=0.0, low_open=True)
        self.norm1 = nn.LayerNorm(dim, eps=layer_norm_eps)
        self.attn = MultiHeadSelfAttention(
            dim, heads, qkv_bias=qkv_bias, attention_dropout=attention_dropout, dropout=dropout
        )
        self.norm2 = nn.LayerNorm(dim, eps=layer_norm_eps)
        self.mlp = MLP(dim, mlp_dim, dropout=dropout)

    def forward(
        self, x: torch.Tensor, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Apply the block to ``x`` (B, T, D).

        Returns:
            (B, T, D), or ``(output, weights)`` with weights (B, h, T, T).
        """
        check_rank(x, 3, "x", "(B, T, D)")
        check_dtype_like(x, "x", self)
        if return_attention:
            a, weights = self.attn(self.norm1(x), return_attention=True)  # (B, T, D), (B, h, T, T)
        else:
            a, weights = self.attn(self.norm1(x)), None  # (B, T, D)
        x = x + a  # residual around attention
        x = x + self.mlp(self.norm2(x))  # residual around the MLP
        return (x, weights) if return_attention else x


class Encoder(nn.Module):
    """L encoder blocks and a final LayerNorm: (B, T, D) -> (B, T, D).

    Args:
        depth: L, the number of blocks.
        dim, heads, mlp_dim: as for :class:`EncoderBlock`.
        dropout, attention_dropout, layer_norm_eps, qkv_bias: as for
            :class:`EncoderBlock`, keyword only.
    """

    def __init__(
        self,
        depth: int,
        dim: int,
        heads: int,
        mlp_dim: int,
        *,
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
        layer_norm_eps: float = 1e-6,
        qkv_bias: bool = True,
    ) -> None:
        super().__init__()
        check_positive_int(depth, "depth")
        self.blocks = nn.ModuleList(
            EncoderBlock(
                dim, heads, mlp_dim, dropout=dropout, attention_dropout=attention_dropout,
                layer_norm_eps=layer_norm_eps, qkv_bias=qkv_bias,
            )
            for _ in range(depth)
        )
        self.norm = nn.LayerNorm(dim, eps=layer_norm_eps)

    def forward(
        self, x: torch.Tensor, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Run every block, then the final LayerNorm.

        Returns:
            (B, T, D), or ``(output, attentions)`` with a list of L tensors
            of shape (B, h, T, T).
        """
        attentions = []
        for block in self.blocks:
            if return_attention:
                x, weights = block(x, return_attention=True)
                attentions.append(weights)
            else:
                x = block(x)
        x = self.norm(x)  # (B, T, D)
        return (x, attentions) if return_attention else x
