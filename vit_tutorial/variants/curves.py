"""Learning curves in log error: power-law fits, their intervals, and where two curves meet.

A learning curve that follows a power law, error = a * n^k, is a straight line
of slope k on log-log axes. Two models whose lines are parallel keep the same
*ratio* of errors at every data size, however much the gap in accuracy
points shrinks; only different slopes can make them meet. :func:`fit_learning_curve`
fits the line to runs at several sizes and seeds and gives a confidence
interval for the slope by resampling seeds (a bootstrap); :func:`crossover`
says where two fitted lines meet, with the same resampling.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

__all__ = ["fit_learning_curve", "crossover", "unpack_correct"]


def _points(rows: Sequence[Mapping], model: str, value: str) -> dict[int, np.ndarray]:
    if not isinstance(rows, Sequence) or isinstance(rows, (str, bytes)):
        raise TypeError(f"rows must be a list of dicts, got {type(rows).__name__}")
    by_n: dict[int, list[float]] = {}
    for r in rows:
        if not isinstance(r, Mapping) or not {"model", "train_images", value} <= set(r):
            raise ValueError(f"each row needs the keys model, train_images and {value}, got {r!r}")
        if r["model"] == model:
            by_n.setdefault(int(r["train_images"]), []).append(float(r[value]))
    if len(by_n) < 2:
        raise ValueError(f"model {model!r} needs runs at 2 or more training-set sizes, got sizes {sorted(by_n)}")
    return {n: np.asarray(v) for n, v in sorted(by_n.items())}


def _line(by_n: Mapping[int, np.ndarray], pick: Mapping[int, np.ndarray] | None = None) -> tuple[float, float]:
    """Least-squares line of log(mean error) against log n: (slope, intercept)."""
    xs, ys = [], []
    for n, acc in by_n.items():
        a = acc if pick is None else acc[pick[n]]
        err = max(1.0 - float(np.mean(a)), 1e-6)
        xs.append(np.log(n))
        ys.append(np.log(err))
    k, b = np.polyfit(xs, ys, 1)
    return float(k), float(b)


def fit_learning_curve(rows: Sequence[Mapping], model: str, value: str = "test_accuracy",
                       boot: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    """Fit log(error) = log(a) + k log(n) to one model's runs.

    The line goes through the mean error over seeds at each size. The
    interval comes from a bootstrap: the seeds at every size are resampled
    with replacement and the line refitted ``boot`` times.

    Args:
        rows: result rows with ``model``, ``train_images`` and ``value``
            (an accuracy in [0, 1]; error = 1 - accuracy).
        model: which model's rows to fit.
        boot: bootstrap resamples.
        level: the interval's coverage.

    Returns:
        ``{"slope", "intercept", "slope_ci": (lo, hi), "sizes", "mean_error", "sd_error", "samples"}``;
        ``samples`` is (boot, 2) of bootstrap (slope, intercept), for :func:`crossover`.
    """
    if isinstance(boot, bool) or not isinstance(boot, int) or boot < 10:
        raise ValueError(f"boot must be an integer >= 10, got {boot!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    by_n = _points(rows, model, value)
    k, b = _line(by_n)
    rng = np.random.default_rng(seed)
    samples = np.empty((boot, 2))
    for i in range(boot):
        pick = {n: rng.integers(0, len(a), len(a)) for n, a in by_n.items()}
        samples[i] = _line(by_n, pick)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(samples[:, 0], [alpha, 1 - alpha])
    return {
        "slope": k, "intercept": b, "slope_ci": (float(lo), float(hi)),
        "sizes": list(by_n), "mean_error": [float(1 - a.mean()) for a in by_n.values()],
        "sd_error": [float(a.std(ddof=1)) if len(a) > 1 else 0.0 for a in by_n.values()],
        "samples": samples,
    }


def crossover(fit_a: Mapping, fit_b: Mapping, level: float = 0.95) -> dict:
    """Where the fitted lines of two models meet, n* = exp((b_a - b_b) / (k_b - k_a)).

    Uses the bootstrap samples of both fits (paired by index) for an
    interval. Lines that do not approach each other with growing n
    (the model with the higher error does not have the steeper slope) meet
    only at smaller n, or never: those resamples count in ``share_converging``
    as not converging.

    Returns:
        ``{"n": point estimate (inf if the lines diverge or are parallel),
        "share_converging": share of resamples whose lines meet at a larger n
        than the largest measured, "n_ci": (lo, hi) over the converging
        resamples (None if fewer than half converge)}``.
    """
    for f, name in ((fit_a, "fit_a"), (fit_b, "fit_b")):
        if not isinstance(f, Mapping) or not {"slope", "intercept", "samples", "sizes"} <= set(f):
            raise ValueError(f"{name} must be a result of fit_learning_curve, got {type(f).__name__}")
    if len(fit_a["samples"]) != len(fit_b["samples"]):
        raise ValueError("both fits need the same number of bootstrap samples")

    def meet(ka, ba, kb, bb):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.exp((np.asarray(ba) - np.asarray(bb)) / (np.asarray(kb) - np.asarray(ka)))

    largest = max(max(fit_a["sizes"]), max(fit_b["sizes"]))

    def converging(ka, ba, kb, bb):
        # the gap in log error at the largest size, and whether it shrinks with n
        gap = (ba + ka * np.log(largest)) - (bb + kb * np.log(largest))
        return np.sign(gap) * (ka - kb) < 0

    ka, ba, kb, bb = fit_a["slope"], fit_a["intercept"], fit_b["slope"], fit_b["intercept"]
    point = float(meet(ka, ba, kb, bb)) if converging(ka, ba, kb, bb) else float("inf")
    sa, sb = fit_a["samples"], fit_b["samples"]
    conv = converging(sa[:, 0], sa[:, 1], sb[:, 0], sb[:, 1])
    ns = meet(sa[:, 0], sa[:, 1], sb[:, 0], sb[:, 1])[conv]
    ns = ns[np.isfinite(ns)]
    alpha = (1 - level) / 2
    ci = tuple(float(v) for v in np.quantile(ns, [alpha, 1 - alpha])) if conv.mean() >= 0.5 and len(ns) else None
    return {"n": point, "share_converging": float(conv.mean()), "n_ci": ci}


def unpack_correct(bits: str, n: int) -> np.ndarray:
    """Per-image correctness (n,) bool from the hex string the experiment
    scripts store (``numpy.packbits`` of the 0/1 vector, test images in order)."""
    if not isinstance(bits, str):
        raise TypeError(f"bits must be a hex string, got {type(bits).__name__}")
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0 or len(bits) != 2 * ((n + 7) // 8):
        raise ValueError(f"n must be a positive integer matching the {len(bits)} hex digits "
                         f"({4 * len(bits)} bits), got {n!r}")
    return np.unpackbits(np.frombuffer(bytes.fromhex(bits), dtype=np.uint8))[:n].astype(bool)
