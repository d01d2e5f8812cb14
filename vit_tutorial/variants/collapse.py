"""How alike are the attention maps of different layers? (DeepViT's measure.)

Zhou et al. (2021, "DeepViT") noticed that in deep ViTs the attention maps of
later blocks become nearly the same, so the extra blocks add little:
"attention collapse". We measure it as they do, with the cosine similarity
of two layers' attention maps: for layers p and q, head j, image b and query
token i, compare the rows A^p[b, j, i, :] and A^q[b, j, i, :] (each a
distribution over the T keys), then average over i, j (unless per head) and b.

A similarity of 1 means the two layers route information identically.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from .._checks import check_rank

__all__ = ["cross_layer_similarity", "consecutive_layer_similarity"]


def _stack(attentions: Sequence[torch.Tensor]) -> torch.Tensor:
    if isinstance(attentions, torch.Tensor):
        check_rank(attentions, 5, "attentions", "(L, B, h, T, T)")
        return attentions
    if not isinstance(attentions, (list, tuple)) or len(attentions) < 2:
        raise ValueError(
            f"attentions must be a list of at least 2 tensors (B, h, T, T), one per layer, got {type(attentions).__name__}"
            + (f" of length {len(attentions)}" if isinstance(attentions, (list, tuple)) else "")
        )
    for i, a in enumerate(attentions):
        check_rank(a, 4, f"attentions[{i}]", "(B, h, T, T)")
    shapes = {tuple(a.shape) for a in attentions}
    if len(shapes) != 1:
        raise ValueError(f"every layer's attention must have the same shape (B, h, T, T), got {sorted(shapes)}")
    return torch.stack(list(attentions))  # (L, B, h, T, T)


def cross_layer_similarity(attentions: Sequence[torch.Tensor], per_head: bool = False) -> torch.Tensor:
    """Cosine similarity of every pair of layers' attention maps.

    Args:
        attentions: L tensors of shape (B, h, T, T), as ``ViT(..., return_attention=True)``
            returns (or one tensor (L, B, h, T, T)).
        per_head: keep the heads apart (compares head j of layer p with
            head j of layer q).

    Returns:
        (L, L) symmetric with ones on the diagonal, or (L, L, h) per head.
    """
    A = _stack(attentions).float()  # (L, B, h, T, T)
    A = F.normalize(A, dim=-1)  # unit rows
    sim = torch.einsum("pbjik,qbjik->pqbji", A, A)  # (L, L, B, h, T): cosine per row
    sim = sim.mean(dim=(2, 4))  # (L, L, h)
    return sim if per_head else sim.mean(dim=-1)  # (L, L, h) or (L, L)


def consecutive_layer_similarity(attentions: Sequence[torch.Tensor], per_head: bool = False) -> torch.Tensor:
    """Cosine similarity of layer l's attention maps with layer l+1's.

    Returns:
        (L-1,), or (L-1, h) per head; entry l compares layers l and l+1
        (0-based).
    """
    A = F.normalize(_stack(attentions).float(), dim=-1)  # (L, B, h, T, T)
    sim = (A[:-1] * A[1:]).sum(dim=-1)  # (L-1, B, h, T)
    sim = sim.mean(dim=(1, 3))  # (L-1, h)
    return sim if per_head else sim.mean(dim=-1)  # (L-1, h) or (L-1,)
