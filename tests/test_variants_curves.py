"""Power-law learning curves and their crossover (vit_tutorial.variants.curves)."""
import math

import numpy as np
import pytest

from vit_tutorial.variants import crossover, fit_learning_curve, unpack_correct


def _rows(model, a, k, sizes=(500, 2000, 8000, 40000), seeds=3, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for n in sizes:
        for s in range(seeds):
            err = a * n ** k * math.exp(noise * rng.standard_normal())
            rows.append({"model": model, "train_images": n, "seed": s, "test_accuracy": 1 - err})
    return rows


def test_exact_power_law_recovered():
    f = fit_learning_curve(_rows("m", 2.0, -0.5), "m", boot=50)
    assert abs(f["slope"] + 0.5) < 1e-6 and abs(f["intercept"] - math.log(2.0)) < 1e-5
    assert f["slope_ci"][0] == pytest.approx(-0.5) and f["slope_ci"][1] == pytest.approx(-0.5)  # no noise, no width
    assert f["sizes"] == [500, 2000, 8000, 40000]


def test_noise_widens_interval():
    tight = fit_learning_curve(_rows("m", 2.0, -0.5, noise=0.01), "m", boot=300)
    wide = fit_learning_curve(_rows("m", 2.0, -0.5, noise=0.3), "m", boot=300)
    assert (wide["slope_ci"][1] - wide["slope_ci"][0]) > 3 * (tight["slope_ci"][1] - tight["slope_ci"][0])


def test_crossover_of_converging_lines():
    # a: 4 n^-0.6, b: 1 n^-0.4 -> meet where 4 n^-0.6 = n^-0.4, n = 4^(1/0.2) = 1024
    rows = _rows("a", 4.0, -0.6, sizes=(100, 200, 400, 800)) + _rows("b", 1.0, -0.4, sizes=(100, 200, 400, 800))
    fa, fb = fit_learning_curve(rows, "a", boot=50), fit_learning_curve(rows, "b", boot=50)
    c = crossover(fa, fb)
    assert abs(c["n"] - 1024) < 1e-3 * 1024 and c["share_converging"] == 1.0
    assert c["n_ci"][0] == pytest.approx(1024, rel=1e-3) and c["n_ci"][1] == pytest.approx(1024, rel=1e-3)


def test_parallel_or_diverging_lines_never_meet_beyond_the_data():
    rows = _rows("a", 2.4, -0.4) + _rows("b", 1.0, -0.4)
    c = crossover(fit_learning_curve(rows, "a", boot=50), fit_learning_curve(rows, "b", boot=50))
    assert c["n"] == math.inf and c["n_ci"] is None
    rows = _rows("a", 2.4, -0.3) + _rows("b", 1.0, -0.5)  # the worse model is also the flatter one
    c = crossover(fit_learning_curve(rows, "a", boot=50), fit_learning_curve(rows, "b", boot=50))
    assert c["n"] == math.inf and c["share_converging"] == 0.0


def test_bad_input():
    with pytest.raises(ValueError, match="2 or more"):
        fit_learning_curve(_rows("m", 1.0, -0.5, sizes=(100,)), "m")
    with pytest.raises(ValueError, match="keys"):
        fit_learning_curve([{"model": "m"}], "m")
    with pytest.raises(TypeError, match="rows must be"):
        fit_learning_curve("rows", "m")
    with pytest.raises(ValueError, match="boot"):
        fit_learning_curve(_rows("m", 1.0, -0.5), "m", boot=3)
    with pytest.raises(ValueError, match="fit_learning_curve"):
        crossover({}, {})


def test_unpack_correct_round_trip():
    v = np.random.default_rng(0).random(13) > 0.5
    bits = np.packbits(v.astype(np.uint8)).tobytes().hex()
    assert np.array_equal(unpack_correct(bits, 13), v)
    with pytest.raises(ValueError, match="hex digits"):
        unpack_correct(bits, 40)
    with pytest.raises(TypeError, match="hex string"):
        unpack_correct(b"00", 1)
