"""vit_tutorial.stats against hand-computed values and scipy."""
import math

import numpy as np
import pytest
import torch
from scipy import stats as sps

from vit_tutorial.stats import binomial_se, format_mean_sd, mcnemar, mean_sd, paired_bootstrap, paired_bootstrap_mean


def test_mean_sd_by_hand():
    m = mean_sd([0.972, 0.965, 0.966])  # the chapter-9 seeds of the old recipe
    # mean 0.967667; deviations 0.004333, -0.002667, -0.001667; sum of squares 2.8667e-5 / 2
    assert m.n == 3 and abs(m.mean - 0.9676667) < 1e-7
    assert abs(m.sd - math.sqrt(2.8666667e-5 / 2)) < 1e-8
    assert abs(m.sd - np.std([0.972, 0.965, 0.966], ddof=1)) < 1e-12
    assert format_mean_sd([0.972, 0.965, 0.966]) == "96.8 ± 0.4 % (3 seeds)"
    assert format_mean_sd(torch.tensor([1.0, 3.0]), scale=1, digits=2, unit="") == "2.00 ± 1.41 (2 seeds)"


def test_mean_sd_rejects_bad_input():
    with pytest.raises(ValueError, match="at least 2 values"):
        mean_sd([0.9])
    with pytest.raises(TypeError, match="sequence of numbers"):
        mean_sd("0.9")
    with pytest.raises(ValueError, match="finite"):
        mean_sd([0.9, float("nan")])
    with pytest.raises(ValueError, match="one-dimensional"):
        mean_sd([[0.9, 0.8]])


def test_binomial_se():
    assert abs(binomial_se(0.97, 1000) - math.sqrt(0.97 * 0.03 / 1000)) < 1e-15
    assert abs(binomial_se(0.97, 1000) - 0.0053944) < 1e-6  # about half a point
    assert binomial_se(1.0, 10) == 0.0
    with pytest.raises(ValueError, match=r"fraction in \[0, 1\]"):
        binomial_se(97.0, 1000)
    with pytest.raises(ValueError, match="positive integer"):
        binomial_se(0.9, 0)


def _pairs(b, c, both_right, both_wrong):
    a = [1] * b + [0] * c + [1] * both_right + [0] * both_wrong
    bb = [0] * b + [1] * c + [1] * both_right + [0] * both_wrong
    return np.array(a, bool), np.array(bb, bool)


def test_mcnemar_by_hand_and_against_scipy():
    a, b = _pairs(1, 9, 980, 10)
    r = mcnemar(a, b)
    assert (r.b, r.c) == (1, 9)
    assert abs(r.p_value - 2 * (1 + 10) / 1024) < 1e-12  # P(X <= 1), X ~ Bin(10, 1/2): 11/1024
    assert abs(r.p_value - sps.binomtest(1, 10, 0.5).pvalue) < 1e-12
    for b_, c_ in [(3, 7), (0, 5), (12, 30), (40, 41), (5, 5)]:
        a, b = _pairs(b_, c_, 900, 20)
        r = mcnemar(a, b)
        assert abs(r.p_value - sps.binomtest(min(b_, c_), b_ + c_, 0.5).pvalue) < 1e-10, (b_, c_)
    assert mcnemar(*_pairs(5, 5, 10, 0)).p_value == 1.0
    assert mcnemar([True, False], [True, False]) == (0, 0, 1.0)  # never disagree
    assert mcnemar(torch.tensor([1, 0, 1]), torch.tensor([0, 0, 1])).b == 1  # tensors and 0/1 work
    # symmetric: swapping the models swaps b and c, keeps p
    a, b = _pairs(3, 11, 50, 5)
    assert mcnemar(b, a) == (11, 3, mcnemar(a, b).p_value)


def test_mcnemar_rejects_bad_input():
    with pytest.raises(ValueError, match="same test images"):
        mcnemar([True, False], [True])
    with pytest.raises(ValueError, match="booleans or 0/1"):
        mcnemar([0.5, 1], [1, 1])
    with pytest.raises(TypeError, match="1-D sequence of booleans"):
        mcnemar(3, [1])
    with pytest.raises(ValueError, match="empty"):
        mcnemar([], [])


def test_paired_bootstrap_matches_the_normal_approximation():
    a, b = _pairs(10, 30, 900, 60)  # B is 2 points better on 1,000 images
    r = paired_bootstrap(a, b, resamples=20_000, seed=0)
    assert abs(r.difference - (-0.02)) < 1e-12 and r.resamples == 20_000
    d = a.astype(float) - b.astype(float)
    se = d.std(ddof=0) / math.sqrt(d.size)  # the SE of a mean of n i.i.d. differences
    assert abs((r.high - r.low) - 2 * 1.959964 * se) < 0.1 * (r.high - r.low)
    assert r.low < -0.02 < r.high < 0
    assert r.p_value < 0.01  # 10 vs 30 disagreements: clearly different (McNemar p = 0.0022)
    assert abs(r.p_value - mcnemar(a, b).p_value) < 0.01
    # reproducible, and a different seed moves it a little
    assert paired_bootstrap(a, b, resamples=2000, seed=1) == paired_bootstrap(a, b, resamples=2000, seed=1)
    # identical models: difference 0, interval [0, 0], p = 1
    same = paired_bootstrap(a, a, resamples=500)
    assert same.difference == 0.0 and same.low == same.high == 0.0 and same.p_value == 1.0
    # a difference inside the noise is not significant
    a, b = _pairs(14, 16, 900, 70)
    assert paired_bootstrap(a, b, resamples=5000).p_value > 0.5


def test_paired_bootstrap_rejects_bad_input():
    a, b = _pairs(1, 2, 10, 1)
    with pytest.raises(ValueError, match="resamples must be an integer >= 100"):
        paired_bootstrap(a, b, resamples=10)
    with pytest.raises(ValueError, match=r"level must be a number in \(0, 1\)"):
        paired_bootstrap(a, b, level=95)
    with pytest.raises(ValueError, match="seed must be an integer"):
        paired_bootstrap(a, b, seed=0.5)


def test_paired_bootstrap_mean_on_real_scores():
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 1, 500)  # e.g. each image's area under a deletion curve
    b = a - 0.05 + rng.normal(0, 0.1, 500)  # B is 0.05 lower, with per-image noise
    r = paired_bootstrap_mean(a, b, resamples=20_000, seed=0)
    d = a - b
    assert abs(r.difference - d.mean()) < 1e-12
    se = d.std(ddof=0) / math.sqrt(d.size)
    assert abs((r.high - r.low) - 2 * 1.959964 * se) < 0.1 * (r.high - r.low)
    assert r.low < d.mean() < r.high and r.low > 0 and r.p_value < 0.001
    # on right/wrong vectors it is the same computation as paired_bootstrap (same draws)
    x, y = _pairs(10, 30, 900, 60)
    assert paired_bootstrap_mean(x.astype(float), y.astype(float), resamples=2000, seed=3) == paired_bootstrap(
        x, y, resamples=2000, seed=3)
    # pairing matters: a shared per-image offset cancels
    base = rng.uniform(0, 1, 300)
    assert paired_bootstrap_mean(base + 0.01, base, resamples=500).low > 0.0099
    assert paired_bootstrap_mean(torch.tensor([0.2, 0.4], dtype=torch.float64), [0.2, 0.4], resamples=100).p_value == 1.0


def test_paired_bootstrap_mean_rejects_bad_input():
    with pytest.raises(ValueError, match="same images"):
        paired_bootstrap_mean([0.1, 0.2], [0.1])
    with pytest.raises(ValueError, match="empty"):
        paired_bootstrap_mean([], [])
    with pytest.raises(ValueError, match="finite"):
        paired_bootstrap_mean([0.1, float("nan")], [0.1, 0.2])
    with pytest.raises(ValueError, match="one-dimensional"):
        paired_bootstrap_mean([[0.1]], [[0.1]])
    with pytest.raises(ValueError, match="resamples must be an integer >= 100"):
        paired_bootstrap_mean([0.1, 0.2], [0.1, 0.3], resamples=5)


def test_select_on_validation():
    from vit_tutorial.stats import select_on_validation
    base = [0.954, 0.964, 0.970]  # mean 0.9627; one SE on 500 digits: 0.0084
    se = math.sqrt(0.9627 * (1 - 0.9627) / 500)
    r = select_on_validation({"vit": base, "a": [0.972, 0.964, 0.974]}, "vit", 500)  # +0.0073 < SE: kept
    assert (r.chosen, r.best, r.replaced) == ("vit", "a", False)
    assert abs(r.margin - (0.97 - 0.962667)) < 1e-6 and abs(r.threshold - se) < 1e-5
    r = select_on_validation({"vit": base, "a": [0.972, 0.964, 0.974], "b": [0.974, 0.972, 0.976]}, "vit", 500)
    assert (r.chosen, r.best, r.replaced) == ("b", "b", True) and r.margin > r.threshold  # +0.0113 > SE
    r = select_on_validation({"a": [0.5, 0.6], "vit": base}, "vit", 500)  # the incumbent is best
    assert (r.chosen, r.best, r.margin, r.replaced) == ("vit", "vit", 0.0, False)
    assert select_on_validation({"vit": [0.9], "x": [0.9]}, "vit", 100).chosen == "vit"  # a tie keeps it
    with pytest.raises(ValueError, match="incumbent 'c' is not among"):
        select_on_validation({"vit": base}, "c", 500)
    with pytest.raises(ValueError, match=r"accuracies in \[0, 1\]"):
        select_on_validation({"vit": [96.3]}, "vit", 500)
    with pytest.raises(ValueError, match="non-empty dict"):
        select_on_validation({}, "vit", 500)
    with pytest.raises(ValueError, match="positive integer"):
        select_on_validation({"vit": base}, "vit", 0)
