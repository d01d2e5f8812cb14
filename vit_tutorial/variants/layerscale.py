"""LayerScale (CaiT, Touvron et al. 2021): a learned per-channel factor on every residual branch.

A pre-norm block computes ``x + f(x)`` twice (attention, then the MLP).
LayerScale multiplies each branch by a learned vector ``lambda`` (one number
per channel, a diagonal matrix) that starts small::

    x = x + diag(lambda_1) * attention(norm(x))
    x = x + diag(lambda_2) * mlp(norm(x))

so that every block starts close to the identity and a deep stack trains
more easily. CaiT starts ``lambda`` at 0.1 for models of up to 18 blocks and
at smaller values for deeper ones. :func:`add_layer_scale` adds it to the
blocks of a :class:`~vit_tutorial.model.ViT` in place, without changing
anything else; ``lambda`` is 1-D, so the training recipe does not decay it.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["LayerScale", "add_layer_scale"]


class LayerScale(nn.Module):
    """Wrap a branch ``f`` (attention or MLP) as ``lambda * f(x)``, with
    ``lambda`` a learned (D,) vector started at ``init``. Passes
    ``return_attention`` through to an attention branch."""

    def __init__(self, branch: nn.Module, dim: int, init: float = 0.1) -> None:
        super().__init__()
        if not isinstance(branch, nn.Module):
            raise TypeError(f"branch must be an nn.Module, got {type(branch).__name__}")
        if isinstance(dim, bool) or not isinstance(dim, int) or dim <= 0:
            raise ValueError(f"dim must be a positive integer, got {dim!r}")
        if isinstance(init, bool) or not isinstance(init, (int, float)) or not init > 0:
            raise ValueError(f"init must be a positive number, got {init!r}")
        self.branch = branch
        self.gamma = nn.Parameter(torch.full((dim,), float(init)))

    def forward(self, x: torch.Tensor, **kwargs):
        out = self.branch(x, **kwargs)
        if isinstance(out, tuple):  # (output, attention weights)
            return (out[0] * self.gamma, *out[1:])
        return out * self.gamma


def add_layer_scale(model: nn.Module, init: float = 0.1) -> nn.Module:
    """Put LayerScale on both residual branches of every encoder block of a
    ViT (``model.encoder.blocks``), in place; returns the model."""
    blocks = getattr(getattr(model, "encoder", None), "blocks", None)
    if blocks is None:
        raise ValueError(f"model must be a ViT with encoder.blocks, got {type(model).__name__}")
    for block in blocks:
        if isinstance(block.attn, LayerScale):
            raise ValueError("this model already has LayerScale")
        dim = block.norm1.normalized_shape[0]
        block.attn = LayerScale(block.attn, dim, init)
        block.mlp = LayerScale(block.mlp, dim, init)
    return model
