"""Counting the cost of attention: analytic FLOPs, measured FLOPs, power-law fits.

FLOPs count a multiply-add as 2, as the rest of the book does. For one
attention layer with N tokens of width D:

* global attention: the q, k, v and output projections cost 2 N D^2 each
  (8 N D^2), the scores Q K^T and the weighted sum A V cost 2 N^2 D each
  (4 N^2 D). The quadratic term wins once N > 2 D.
* window attention (windows of w x w tokens): the same projections,
  and 4 N w^2 D for the scores and sums: linear in N.
* spatial-reduction attention (ratio R): queries and the output projection
  on all N tokens (4 N D^2), the R x R conv (2 N D^2), keys and values on
  N/R^2 tokens (4 N D^2 / R^2), and 4 N (N/R^2) D for the scores and sums.
"""
from __future__ import annotations

import math
import time
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from .._checks import check_positive_int
from ..flops import flop_counts

__all__ = [
    "global_attention_flops",
    "window_attention_flops",
    "spatial_reduction_attention_flops",
    "count_flops",
    "fit_power_law",
    "time_call",
]


def global_attention_flops(N: int, D: int) -> int:
    """FLOPs of one global multi-head attention layer: 8 N D^2 + 4 N^2 D.

    Args:
        N: tokens.
        D: width (the number of heads does not change the count).
    """
    check_positive_int(N, "N")
    check_positive_int(D, "D")
    return 8 * N * D * D + 4 * N * N * D


def window_attention_flops(N: int, D: int, window_size: int) -> int:
    """FLOPs of window attention: 8 N D^2 + 4 N w^2 D.

    Args:
        N: tokens (a whole number of w x w windows).
        D: width.
        window_size: w.
    """
    check_positive_int(N, "N")
    check_positive_int(D, "D")
    w = check_positive_int(window_size, "window_size")
    if N % (w * w):
        raise ValueError(f"N={N} tokens do not fill whole {w}x{w} windows; expected a multiple of {w * w}")
    return 8 * N * D * D + 4 * N * w * w * D


def spatial_reduction_attention_flops(N: int, D: int, reduction: int) -> int:
    """FLOPs of spatial-reduction attention with ratio R.

    4 N D^2 (q and output projections) + 4 M D^2 (k and v on M = N/R^2
    tokens) + 4 N M D (scores and sums) + 2 N D^2 for the R x R conv when
    R > 1. With R = 1 this is :func:`global_attention_flops`.
    """
    check_positive_int(N, "N")
    check_positive_int(D, "D")
    R = check_positive_int(reduction, "reduction")
    if N % (R * R):
        raise ValueError(f"N={N} tokens do not reduce by R^2={R * R}; expected a multiple of {R * R}")
    M = N // (R * R)
    conv = 2 * N * D * D if R > 1 else 0
    return 4 * N * D * D + 4 * M * D * D + 4 * N * M * D + conv


def count_flops(fn: nn.Module | Callable, *inputs: torch.Tensor, **kwargs) -> int:
    """Forward FLOPs of ``fn(*inputs, **kwargs)``, counted by PyTorch's
    ``FlopCounterMode`` (matrix products and convs; a multiply-add is 2).

    The fused CPU attention kernel is counted too (as 4 N^2 d per head).
    Elementwise operations, softmax and normalisation are not counted.
    """
    if not callable(fn):
        raise ValueError(f"fn must be a module or a function, got {type(fn).__name__}")
    return flop_counts(fn, *inputs, count_fused_attention=True, **kwargs)["total"]


def fit_power_law(n: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Fit y = c * n^k by least squares on log y against log n.

    Args:
        n: sizes, all > 0 (at least two distinct).
        y: measurements, all > 0.

    Returns:
        ``(k, c)``: the exponent (the slope on a log-log plot) and the factor.
    """
    n_arr = np.asarray(n, dtype=float)
    y_arr = np.asarray(y, dtype=float)
    if n_arr.ndim != 1 or n_arr.shape != y_arr.shape or n_arr.size < 2:
        raise ValueError(
            f"n and y must be 1-D sequences of the same length >= 2, got shapes {n_arr.shape} and {y_arr.shape}"
        )
    if (n_arr <= 0).any() or (y_arr <= 0).any():
        raise ValueError("n and y must be positive to take logarithms")
    if np.unique(n_arr).size < 2:
        raise ValueError("n needs at least two distinct values to fit a slope")
    k, log_c = np.polyfit(np.log(n_arr), np.log(y_arr), 1)
    return float(k), float(math.exp(log_c))


def time_call(fn: Callable[[], object], repeats: int = 5, warmup: int = 1, clock: str = "wall") -> float:
    """Fastest time of ``fn()`` over ``repeats`` calls (after ``warmup``
    calls), in seconds, without autograd.

    The minimum, not the mean: other processes only ever make a call slower,
    so the fastest call is the best estimate of the call's own cost.

    Args:
        fn: the call to time.
        repeats: timed calls.
        warmup: untimed calls first.
        clock: ``"wall"`` (``time.perf_counter``) or ``"cpu"``
            (``time.process_time``: the CPU time of this process, which on
            a busy machine leaves out the time spent waiting for a core; with
            one thread it is the call's compute time).

    Run-dependent: for scripts, not tests.
    """
    check_positive_int(repeats, "repeats")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be an integer >= 0, got {warmup!r}")
    if clock not in ("wall", "cpu"):
        raise ValueError(f"clock must be 'wall' or 'cpu', got {clock!r}")
    now = time.perf_counter if clock == "wall" else time.process_time
    times = []
    with torch.no_grad():
        for i in range(warmup + repeats):
            t0 = now()
            fn()
            if i >= warmup:
                times.append(now() - t0)
    return float(min(times))
