"""How alike are the attention maps of different layers? (DeepViT's measure.)

Zhou et al. (2021, "DeepViT") noticed that in deep ViTs the attention maps of
later blocks become nearly the same, so the extra blocks add little:
"attention collapse". Their cross-layer similarity compares, for layers p and
q, head h and **input token t**, the two *columns* A^p[h, :, t] and
A^q[h, :, t]: each a T-vector saying how much token t contributes to every
output token (every query). M^{p,q}_{h,t} is the cosine of the two columns,
1 when token t plays the same role in both layers. (The formula as two
independent summaries of the paper transcribe it; the paper's PDF was not
available to us.) DeepViT then reports shares of tokens or blocks above a
similarity threshold; we report the mean over tokens, heads and images, and
the functions can also compare *rows* (``orientation="rows"``: one query's
distribution over the keys), an analogue that earlier versions of this book
used.

A similarity of 1 means the two layers route information identically.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from ..analysis import stack_attentions

__all__ = ["cross_layer_similarity", "consecutive_layer_similarity"]


def _stack(attentions: Sequence[torch.Tensor]) -> torch.Tensor:
    """:func:`~vit_tutorial.analysis.stack_attentions`, for at least two layers (a similarity needs a pair)."""
    if isinstance(attentions, (list, tuple)) and len(attentions) < 2:
        raise ValueError(
            f"attentions must be a list of at least 2 tensors (B, h, T, T), one per layer, "
            f"got {type(attentions).__name__} of length {len(attentions)}"
        )
    stacked = stack_attentions(attentions)  # (L, B, h, T, T)
    if stacked.shape[0] < 2:
        raise ValueError(f"attentions must hold at least 2 layers (L, B, h, T, T), got shape {tuple(stacked.shape)}")
    return stacked


_ORIENTATIONS = ("columns", "rows")


def _unit(attentions: Sequence[torch.Tensor], orientation: str) -> torch.Tensor:
    """(L, B, h, T, T) with unit columns (DeepViT) or unit rows, columns moved last."""
    if orientation not in _ORIENTATIONS:
        raise ValueError(f"orientation must be one of {', '.join(_ORIENTATIONS)}, got {orientation!r}")
    A = _stack(attentions).float()  # (L, B, h, T queries, T keys)
    if orientation == "columns":
        A = A.transpose(-1, -2)  # (L, B, h, T keys, T queries): row t is column t of the map
    return F.normalize(A, dim=-1)


def cross_layer_similarity(attentions: Sequence[torch.Tensor], per_head: bool = False,
                           orientation: str = "columns") -> torch.Tensor:
    """Cosine similarity of every pair of layers' attention maps.

    Args:
        attentions: L tensors of shape (B, h, T, T), as ``ViT(..., return_attention=True)``
            returns (or one tensor (L, B, h, T, T)).
        per_head: keep the heads apart (compares head j of layer p with
            head j of layer q).
        orientation: ``"columns"`` (DeepViT: the column of input token t,
            its contribution to every output token) or ``"rows"`` (the row
            of query i, its distribution over the keys).

    Returns:
        (L, L) symmetric with ones on the diagonal, or (L, L, h) per head;
        the mean over images and tokens.
    """
    A = _unit(attentions, orientation)  # (L, B, h, T, T), unit vectors in the last dim
    sim = torch.einsum("pbjik,qbjik->pqbji", A, A)  # (L, L, B, h, T): one cosine per token
    sim = sim.mean(dim=(2, 4))  # (L, L, h)
    return sim if per_head else sim.mean(dim=-1)  # (L, L, h) or (L, L)


def consecutive_layer_similarity(attentions: Sequence[torch.Tensor], per_head: bool = False,
                                 orientation: str = "columns") -> torch.Tensor:
    """Cosine similarity of layer l's attention maps with layer l+1's
    (columns as DeepViT, or rows; see :func:`cross_layer_similarity`).

    Returns:
        (L-1,), or (L-1, h) per head; entry l compares layers l and l+1
        (0-based).
    """
    A = _unit(attentions, orientation)  # (L, B, h, T, T)
    sim = (A[:-1] * A[1:]).sum(dim=-1)  # (L-1, B, h, T)
    sim = sim.mean(dim=(1, 3))  # (L-1, h)
    return sim if per_head else sim.mean(dim=-1)  # (L-1, h) or (L-1,)
