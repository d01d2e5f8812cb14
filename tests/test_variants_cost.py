"""vit_tutorial.variants.cost: the attention FLOP formulas (against PyTorch's counter, linear
for windows, quadratic for global attention), the power-law fit, the timer; bad input."""
import pytest
import torch

import vit_tutorial as vt
from vit_tutorial import variants as V


def test_flop_formulas_match_pytorchs_counter():
    x = torch.randn(1, 64, 32)
    assert V.count_flops(vt.MultiHeadSelfAttention(32, 4), x) == V.global_attention_flops(64, 32)
    assert V.count_flops(vt.MultiHeadSelfAttention(32, 4), x, fast=False) == V.global_attention_flops(64, 32)
    assert V.count_flops(V.WindowAttention(32, 4, 4), x, grid=(8, 8)) == V.window_attention_flops(64, 32, 4)
    for R in (1, 2, 4):
        sra = V.SpatialReductionAttention(32, 4, R)
        assert V.count_flops(sra, x, grid=(8, 8)) == V.spatial_reduction_attention_flops(64, 32, R)
    assert V.spatial_reduction_attention_flops(64, 32, 1) == V.global_attention_flops(64, 32)
    # windows as big as the grid cost what global attention costs
    assert V.window_attention_flops(64, 32, 8) == V.global_attention_flops(64, 32)


def test_window_attention_flops_are_linear_and_global_quadratic():
    D, w = 64, 8
    N1, N2 = 64 * 64, 128 * 128
    assert V.window_attention_flops(N2, D, w) == 4 * V.window_attention_flops(N1, D, w)
    assert V.global_attention_flops(N2, D) > 10 * V.global_attention_flops(N1, D)


def test_fit_power_law_recovers_the_exponent():
    n = [100, 200, 400, 800, 1600]
    k, c = V.fit_power_law(n, [3e-6 * v**2 for v in n])
    assert abs(k - 2) < 1e-9 and abs(c - 3e-6) < 1e-12
    k, _ = V.fit_power_law(n, [5 * v + 1e-4 * v**2 for v in n])
    assert 1 < k < 2


def test_time_call_returns_the_fastest_call():
    calls = []
    seconds = V.time_call(lambda: calls.append(1), repeats=3, warmup=2, clock="cpu")
    assert len(calls) == 5 and 0.0 <= seconds < 1.0
    assert V.time_call(lambda: torch.ones(10).sum(), repeats=1, warmup=0) >= 0.0


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: V.global_attention_flops(0, 64), "N must be a positive integer"),
        (lambda: V.window_attention_flops(50, 64, 7), "whole 7x7 windows"),
        (lambda: V.fit_power_law([1, 2], [1, -1]), "positive"),
        (lambda: V.fit_power_law([2, 2], [1, 3]), "two distinct"),
        (lambda: V.count_flops(3, torch.randn(1)), "module or a function"),
        (lambda: V.time_call(lambda: None, clock="gpu"), "clock"),
        (lambda: V.time_call(lambda: None, repeats=0), "repeats"),
    ],
)
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
