"""Self-checks for chapter 10 (attention maps and what the model learned).

* :func:`check_rollout`: attention rollout through the layers.
* :func:`check_attention_distance`: one layer's mean attention distance per head.
* :func:`check_uniform_distance`: the distance a uniformly attending head scores.
* :func:`check_position_only_share`: the ink share a head that attends by
  position alone would score (the baseline chapter 10 reads its shares against).

Each check runs the learner's function on small random inputs, compares it
with :mod:`vit_tutorial.analysis`, and when it disagrees, tries the usual
slips (no residual identity, rows not renormalised, layers multiplied in the
wrong order, distances in patches instead of pixels, ...) to say which one
it was.
"""
from __future__ import annotations

import itertools
from typing import Callable

import torch

from ..analysis import (
    attention_rollout,
    ink_share_nulls,
    mean_attention_distance,
    patch_distance_matrix,
    share_on_mask,
    uniform_attention_distance,
)
from ._core import CheckResult, call_learner, compare_tensors, failed, is_close, passed

__all__ = ["check_rollout", "check_attention_distance", "check_uniform_distance", "check_position_only_share"]


def _random_attention(L: int, B: int, h: int, T: int, seed: int, sharpness: float = 2.0) -> list[torch.Tensor]:
    """L softmax-normalised attention tensors (B, h, T, T)."""
    g = torch.Generator().manual_seed(seed)
    return [(sharpness * torch.randn(B, h, T, T, generator=g)).softmax(dim=-1) for _ in range(L)]


def _close(got: object, expected: torch.Tensor, atol: float = 1e-4) -> bool:
    return is_close(got, expected, atol, rtol=1e-5)  # torch.allclose's tolerance


# ---------------------------------------------------------------- rollout


def _rollout_slips(att: list[torch.Tensor], fusion: str) -> dict[str, torch.Tensor]:
    """What the common mistakes compute, each (B, T, T)."""
    A = torch.stack(att)  # (L, B, h, T, T)
    fused = {"mean": A.mean(2), "max": A.amax(2), "min": A.amin(2)}[fusion]  # (L, B, T, T)
    T = A.shape[-1]
    eye = torch.eye(T)
    with_res = 0.5 * fused + 0.5 * eye  # (L, B, T, T)
    renorm = with_res / with_res.sum(-1, keepdim=True)  # (L, B, T, T)
    slips = {}
    out = eye.expand_as(fused[0]).clone()  # (B, T, T)
    for m in renorm:
        out = out @ m  # first layer on the left
    slips["order"] = out
    out = eye.expand_as(fused[0]).clone()
    for m in with_res:
        out = m @ out
    slips["renorm"] = out
    slips["residual"] = attention_rollout(att, head_fusion=fusion, residual=False)
    out = eye.expand_as(fused[0]).clone()
    for m in fused:
        out = m @ out
    slips["residual_and_renorm"] = out
    return slips


_ROLLOUT_HINTS = {
    "order": "you multiplied the layers in the wrong order. Each new layer acts on the result so far: "
    "R = A_l @ R, so the LAST layer ends up on the LEFT (A_L ... A_2 A_1).",
    "renorm": "the rows of your rollout do not sum to 1. After fusing the heads with max (or min) the rows "
    "no longer sum to 1: divide each row of 0.5*A + 0.5*I by its sum before multiplying.",
    "residual": "you left out the residual path. Each block adds its input back (x + attention(x)), so "
    "use 0.5*A + 0.5*I instead of A before multiplying.",
    "residual_and_renorm": "you left out the residual path (use 0.5*A + 0.5*I) and did not renormalise the "
    "rows to sum to 1.",
}


def check_rollout(fn: Callable) -> CheckResult:
    """Check ``fn(attentions, head_fusion="mean")`` -> rollout (B, T, T).

    ``attentions`` is a list of L tensors (B, h, T, T); the expected answer
    fuses the heads (mean, max or min), adds the residual identity
    (0.5*A + 0.5*I), renormalises the rows and multiplies the layers with
    the last one on the left.
    """
    cases = [("mean", _random_attention(3, 2, 4, 6, seed=10)), ("max", _random_attention(4, 1, 3, 5, seed=11))]
    for fusion, att in cases:
        expected = attention_rollout(att, head_fusion=fusion)  # (B, T, T)
        got, err = call_learner(fn, [a.clone() for a in att], head_fusion=fusion)
        if err is not None:
            return err
        if _close(got, expected):
            continue
        for slip, value in _rollout_slips(att, fusion).items():
            if _close(got, value):
                return failed(f"with head_fusion={fusion!r}, {_ROLLOUT_HINTS[slip]}")
        mismatch = compare_tensors(got, expected, f"your rollout (head_fusion={fusion!r})", atol=1e-4)
        return mismatch if mismatch is not None else failed(f"your rollout (head_fusion={fusion!r}) is not right.")
    return passed(
        "Your rollout fuses the heads, keeps the residual path, renormalises the rows and multiplies the "
        "layers in the right order, for mean and max fusion."
    )


# ---------------------------------------------------------------- attention distance


def _distance_variant(
    attention: torch.Tensor, patch_size: int, grid: int, renormalize: bool = True, metric: str = "euclidean"
) -> torch.Tensor:
    """One layer's (B, h, T, T) mean distance per head (h,), optionally with a slip."""
    a = attention[:, :, 1:, 1:]  # (B, h, N, N)
    if renormalize:
        a = a / a.sum(-1, keepdim=True)
    if metric == "euclidean":
        d = patch_distance_matrix(grid, patch_size)  # (N, N)
    else:
        r, c = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")
        xy = torch.stack([r.flatten(), c.flatten()], 1).float() * patch_size  # (N, 2)
        d = (xy[:, None] - xy[None]).abs().sum(-1)  # (N, N)
    return (a * d).sum(-1).mean(dim=(0, 2))  # (h,)


def check_attention_distance(fn: Callable) -> CheckResult:
    """Check ``fn(attention, patch_size, grid_size)`` -> (h,) distances in pixels.

    ``attention`` is ONE layer's weights (B, h, T, T) with the class token
    first and a square ``grid_size`` x ``grid_size`` patch grid. The class
    token is left out as query and as key, each query's weights over the
    patches are renormalised to sum to 1, and the attention-weighted
    Euclidean distance between patch centres (in pixels) is averaged over
    the query patches and the images.
    """
    cases = [(4, 3, _random_attention(1, 2, 3, 1 + 9, seed=20, sharpness=3.0)[0]),
             (16, 4, _random_attention(1, 3, 2, 1 + 16, seed=21, sharpness=3.0)[0])]
    for P, grid, att in cases:
        expected = mean_attention_distance([att], P, grid)[0]  # (h,)
        got, err = call_learner(fn, att.clone(), P, grid)
        if err is not None:
            return err
        if _close(got, expected, atol=1e-3):
            continue
        if isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(expected.shape):
            if _close(got * P, expected, atol=1e-3):
                return failed(
                    "your distances are in patches, not pixels: multiply the grid distance by the patch size P."
                )
            if _close(got, _distance_variant(att, P, grid, renormalize=False), atol=1e-3):
                return failed(
                    "you did not renormalise: after dropping the class-token key, divide each query's "
                    "weights over the patches by their sum, so they add up to 1 again."
                )
            if _close(got, _distance_variant(att, P, grid, metric="manhattan"), atol=1e-3):
                return failed("you used the Manhattan distance |dr| + |dc|; use the Euclidean one, sqrt(dr^2 + dc^2).")
        mismatch = compare_tensors(got, expected, f"your distances (P={P}, {grid}x{grid} grid)", atol=1e-3)
        return mismatch if mismatch is not None else failed("your distances are not right.")
    return passed(
        "You leave out the class token, renormalise over the patches and measure Euclidean distances in pixels."
    )


# ---------------------------------------------------------------- uniform attention


def _uniform_slips(grid: int, P: int) -> dict[str, float]:
    centres = [(r, c) for r in range(grid) for c in range(grid)]
    pairs = list(itertools.product(centres, repeat=2))
    euclid = [P * ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5 for a, b in pairs]
    return {
        "self": sum(euclid) / (len(pairs) - len(centres)),
        "patches": sum(euclid) / len(pairs) / P,
        "manhattan": sum(P * (abs(a[0] - b[0]) + abs(a[1] - b[1])) for a, b in pairs) / len(pairs),
    }


_UNIFORM_HINTS = {
    "self": "you left out the self-pairs. A uniform head gives 1/N of its attention to the query's own "
    "patch too (distance 0), so average over all N*N pairs.",
    "patches": "your distance is in patches, not pixels: multiply by the patch size P.",
    "manhattan": "you used the Manhattan distance; use the Euclidean one.",
}


def check_uniform_distance(fn: Callable) -> CheckResult:
    """Check ``fn(grid_size, patch_size)`` -> float: the mean attention
    distance (pixels) of a head that attends to all N = grid_size**2 patches
    equally, i.e. the mean Euclidean distance between patch centres over
    all N*N ordered pairs (self-pairs included)."""
    for grid, P in [(3, 4), (7, 4), (14, 16)]:
        expected = uniform_attention_distance(grid, P)
        got, err = call_learner(fn, grid, P)
        if err is not None:
            return err
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            return failed(f"return a number (a Python float), got {type(got).__name__}.")
        if abs(got - expected) <= 1e-3 * max(1.0, expected):
            continue
        for slip, value in _uniform_slips(grid, P).items():
            if abs(got - value) <= 1e-3 * max(1.0, value):
                return failed(_UNIFORM_HINTS[slip])
        return failed(f"for a {grid}x{grid} grid with P={P} you got {got:.3f} pixels, expected {expected:.3f}.")
    return passed(
        "A head that spreads its attention evenly over a 14x14 grid of 16-pixel patches (ViT-B/16 and ViT-L/16 "
        f"at 224x224) has a mean attention distance of {uniform_attention_distance(14, 16):.1f} pixels."
    )


# ---------------------------------------------------------------- position-only null


def _share_case(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights (n, h, N) that favour the centre plus some content, and an ink mask (n, N)."""
    g = torch.Generator().manual_seed(seed)
    n, h, N = 12, 3, 16
    mask = (torch.rand(n, N, generator=g) < 0.3).float()
    mask[:, [5, 6, 9, 10]] = 1.0  # centred digits: the middle is usually ink
    centre = torch.zeros(N)
    centre[[5, 6, 9, 10]] = 2.0
    w = (torch.randn(n, h, N, generator=g) + centre + mask[:, None]).softmax(-1)  # (n, h, N)
    w = w * (1 + torch.rand(n, h, 1, generator=g))  # rows that do not sum to 1
    return w, mask


def check_position_only_share(fn: Callable) -> CheckResult:
    """Check ``fn(weights, mask)`` -> the position-only ink share, shape (h,).

    ``weights`` (n, h, N) are attention weights over N patches (rows need not
    sum to 1), ``mask`` (n, N) marks each image's ink patches. The answer
    replaces every image's weights by their mean over the n images (one map
    for all images: attention by position alone), renormalises each row, and
    averages over the images the share that lands on each image's OWN mask.
    """
    for seed in (0, 1):
        w, mask = _share_case(seed)
        expected = ink_share_nulls(w, mask, permutations=1)["position_only"]  # (h,)
        got, err = call_learner(fn, w.clone(), mask.clone())
        if err is not None:
            return err
        if _close(got, expected):
            continue
        n, N = mask.shape
        mean = w.mean(0, keepdim=True).expand_as(w)
        slips = {
            "observed": (share_on_mask(w, mask), "this is the share of the head's OWN maps. The baseline gives "
                         "every image the same map: first average the weights over the images (dim 0)."),
            "no_renorm": (((mean * mask[:, None]).sum(-1)).mean(0), "you did not divide by each row's total "
                          "weight; the rows need not sum to 1, so the share is (weights on ink) / (all weights)."),
            "mean_mask": (share_on_mask(w, mask.mean(0, keepdim=True).expand_as(mask)),
                          "you averaged the MASK over the images instead of the attention. The null keeps each "
                          "image's own ink and replaces its attention by the average attention."),
            "grid": (mask.mean().expand(w.shape[1]), "this is the share of ink patches in the grid (a uniform "
                     "head); a head that attends by position alone uses the average map, not a flat one."),
        }
        for value, hint in slips.values():
            if _close(got, value):
                return failed(hint)
        mismatch = compare_tensors(got, expected, "your position-only share", atol=1e-4)
        return mismatch if mismatch is not None else failed("your position-only share is not right.")
    return passed(
        "Your baseline gives every image the average attention map and scores it against each image's own "
        "ink: what a head that knows only WHERE digits usually are would score."
    )
