"""Small statistics for comparing trained models honestly.

Four tools, each a few lines, used by chapters 9-12 and their exercises:

* :func:`mean_sd` / :func:`format_mean_sd`: the mean and the sample standard
  deviation (``ddof=1``) of one number measured over several seeds, e.g.
  ``96.8 ± 0.4`` (percent). The sd describes how much a *re-run* moves.
* :func:`binomial_se`: the standard error of an accuracy ``p`` measured on
  ``n`` independent test images, ``sqrt(p (1 - p) / n)``. It describes how
  much a *different test set* of the same size would move the number (about
  0.5 points for 97 % on 1,000 digits).
* :func:`mcnemar`: McNemar's exact test for two models scored on the SAME
  test images. Only the images on which they disagree count: ``b`` (A right,
  B wrong) and ``c`` (A wrong, B right). Under "equally good", each
  disagreement is a fair coin, so the two-sided p-value is
  ``min(1, 2 * P(Binomial(b + c, 1/2) <= min(b, c)))``.
* :func:`paired_bootstrap`: resample the shared test images with replacement
  (the same draw for both models) and read the difference of accuracies'
  percentile interval and a two-sided p-value off the resamples;
  :func:`paired_bootstrap_mean` does the same for any per-image score (e.g.
  the area under each image's deletion curve).

:func:`select_on_validation` applies the book's rule for choosing a recipe: the
best mean validation accuracy replaces the incumbent only when it is ahead by
more than one binomial SE of a single run.

Paired tests use the fact that both models saw the same digits: an easy digit
is easy for both, so the difference is much less noisy than two separate
binomial SEs suggest.
"""
from __future__ import annotations

import math
from typing import Mapping, NamedTuple, Sequence

import numpy as np
import torch

__all__ = [
    "MeanSD",
    "McNemarResult",
    "BootstrapResult",
    "mean_sd",
    "format_mean_sd",
    "binomial_se",
    "mcnemar",
    "paired_bootstrap",
    "paired_bootstrap_mean",
    "Selection",
    "select_on_validation",
]


class MeanSD(NamedTuple):
    """Mean, sample standard deviation (ddof=1) and count of repeated measurements."""

    mean: float
    sd: float
    n: int


class McNemarResult(NamedTuple):
    """McNemar's exact test: ``b`` = A right & B wrong, ``c`` = A wrong & B right."""

    b: int
    c: int
    p_value: float


class BootstrapResult(NamedTuple):
    """Paired bootstrap of accuracy(A) - accuracy(B) on a shared test set.

    Attributes:
        difference: the observed accuracy difference A - B (a fraction).
        low, high: the percentile interval of the resampled differences.
        p_value: two-sided, ``min(1, 2 * min(P(d <= 0), P(d >= 0)))`` over the resamples.
        resamples: how many resamples were drawn.
    """

    difference: float
    low: float
    high: float
    p_value: float
    resamples: int


def _values(values: object, name: str = "values") -> np.ndarray:
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray, torch.Tensor)):
        raise TypeError(f"{name} must be a sequence of numbers, got {type(values).__name__}")
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a sequence of numbers, got {values!r}") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite numbers, got {values!r}")
    return arr


def mean_sd(values: Sequence[float]) -> MeanSD:
    """Mean and sample standard deviation (``ddof=1``) over repeated runs.

    Args:
        values: one number per seed (at least 2, or the sd is undefined).

    Returns:
        :class:`MeanSD` ``(mean, sd, n)``.
    """
    arr = _values(values)
    if arr.size < 2:
        raise ValueError(f"need at least 2 values for a standard deviation, got {arr.size}")
    return MeanSD(float(arr.mean()), float(arr.std(ddof=1)), int(arr.size))


def format_mean_sd(values: Sequence[float], scale: float = 100.0, digits: int = 1, unit: str = " %") -> str:
    """``"96.8 ± 0.4 % (3 seeds)"``: :func:`mean_sd` of ``values * scale``, rounded.

    Args:
        values: one number per seed, e.g. accuracies as fractions.
        scale: multiply by this first (100 turns fractions into percent).
        digits: decimals to print.
        unit: printed after the sd.
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
        raise ValueError(f"digits must be an integer >= 0, got {digits!r}")
    m = mean_sd(values)
    return f"{m.mean * scale:.{digits}f} ± {m.sd * scale:.{digits}f}{unit} ({m.n} seeds)"


def binomial_se(accuracy: float, n: int) -> float:
    """Standard error ``sqrt(p (1 - p) / n)`` of an accuracy on ``n`` test images.

    Args:
        accuracy: the measured accuracy ``p``, a fraction in [0, 1].
        n: the number of test images (> 0).
    """
    if isinstance(accuracy, bool) or not isinstance(accuracy, (int, float)) or not 0.0 <= accuracy <= 1.0:
        raise ValueError(f"accuracy must be a fraction in [0, 1], got {accuracy!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ValueError(f"n must be a positive integer (test images), got {n!r}")
    return math.sqrt(accuracy * (1.0 - accuracy) / n)


def _correct(correct: object, name: str) -> np.ndarray:
    if isinstance(correct, torch.Tensor):
        correct = correct.detach().cpu().numpy()
    if isinstance(correct, (str, bytes)) or not isinstance(correct, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a 1-D sequence of booleans (right/wrong per image), got {type(correct).__name__}")
    arr = np.asarray(correct)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (one entry per test image), got shape {arr.shape}")
    if arr.dtype != bool:
        if arr.size and not np.all(np.isin(arr, (0, 1))):
            raise ValueError(f"{name} must hold booleans or 0/1 (right/wrong per image), got values {np.unique(arr)[:5]}")
        arr = arr.astype(bool)
    return arr


def _pair(correct_a: object, correct_b: object) -> tuple[np.ndarray, np.ndarray]:
    a, b = _correct(correct_a, "correct_a"), _correct(correct_b, "correct_b")
    if a.shape != b.shape:
        raise ValueError(
            f"correct_a and correct_b must score the same test images, got {a.size} and {b.size} entries"
        )
    if a.size == 0:
        raise ValueError("correct_a and correct_b are empty; need at least one test image")
    return a, b


def mcnemar(correct_a: Sequence[bool], correct_b: Sequence[bool]) -> McNemarResult:
    """McNemar's exact (binomial) test for two models on the same test images.

    Args:
        correct_a: per test image, whether model A was right (bools or 0/1).
        correct_b: the same for model B, in the same image order.

    Returns:
        :class:`McNemarResult` ``(b, c, p_value)``; ``p_value`` is 1 when the
        models never disagree.
    """
    a, b_ = _pair(correct_a, correct_b)
    b = int(np.sum(a & ~b_))
    c = int(np.sum(~a & b_))
    n, k = b + c, min(b, c)
    if n == 0:
        return McNemarResult(b, c, 1.0)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0**n  # P(X <= k), X ~ Binomial(n, 1/2)
    return McNemarResult(b, c, min(1.0, 2.0 * tail))


def paired_bootstrap(
    correct_a: Sequence[bool], correct_b: Sequence[bool], resamples: int = 10_000, seed: int = 0, level: float = 0.95
) -> BootstrapResult:
    """Paired bootstrap of the accuracy difference A - B on a shared test set.

    Every resample draws ``n`` test images with replacement (one draw, used
    for both models) and records ``mean(correct_a) - mean(correct_b)`` on it.

    Args:
        correct_a: per test image, whether model A was right.
        correct_b: the same for model B, same order.
        resamples: number of bootstrap resamples (>= 100).
        seed: seed of ``numpy.random.default_rng``, so the result is reproducible.
        level: coverage of the percentile interval, in (0, 1).

    Returns:
        :class:`BootstrapResult`.
    """
    a, b = _pair(correct_a, correct_b)
    d = a.astype(np.float64) - b.astype(np.float64)  # (n,) per-image difference: -1, 0 or 1
    return _bootstrap_mean(d, resamples, seed, level)


def paired_bootstrap_mean(
    scores_a: Sequence[float], scores_b: Sequence[float], resamples: int = 10_000, seed: int = 0, level: float = 0.95
) -> BootstrapResult:
    """Paired bootstrap of mean(scores_a) - mean(scores_b) for any per-image score.

    :func:`paired_bootstrap` for numbers that are not right/wrong: e.g. the
    area under each image's deletion curve (the share of the N+1 deletion
    steps at which the model was still right), for two rankings of the same
    images. Every resample draws ``n`` images with replacement (one draw for
    both) and records the mean difference on it.

    Args:
        scores_a: one finite number per image for method A.
        scores_b: the same for method B, same images in the same order.
        resamples: number of bootstrap resamples (>= 100).
        seed: seed of ``numpy.random.default_rng``, so the result is reproducible.
        level: coverage of the percentile interval, in (0, 1).

    Returns:
        :class:`BootstrapResult` (``difference`` = the observed mean difference A - B).
    """
    a, b = _values(scores_a, "scores_a"), _values(scores_b, "scores_b")
    if a.shape != b.shape:
        raise ValueError(f"scores_a and scores_b must score the same images, got {a.size} and {b.size} entries")
    if a.size == 0:
        raise ValueError("scores_a and scores_b are empty; need at least one image")
    return _bootstrap_mean(a - b, resamples, seed, level)


def _bootstrap_mean(d: np.ndarray, resamples: int, seed: int, level: float) -> BootstrapResult:
    """Percentile interval and two-sided p-value of the mean of the per-image differences ``d``."""
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 100:
        raise ValueError(f"resamples must be an integer >= 100, got {resamples!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0.0 < level < 1.0:
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    n = d.size
    rng = np.random.default_rng(seed)
    diffs = np.empty(resamples)
    for start in range(0, resamples, 1000):  # chunks keep memory small
        stop = min(resamples, start + 1000)
        idx = rng.integers(0, n, size=(stop - start, n))
        diffs[start:stop] = d[idx].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(diffs, [alpha, 1.0 - alpha])
    p = min(1.0, 2.0 * min(np.mean(diffs <= 0.0), np.mean(diffs >= 0.0)))
    return BootstrapResult(float(d.mean()), float(low), float(high), float(p), resamples)


class Selection(NamedTuple):
    """The outcome of :func:`select_on_validation`.

    Attributes:
        chosen: the name kept (``best`` if it replaced the incumbent, else the incumbent).
        best: the name with the highest mean score.
        margin: mean(best) - mean(incumbent), a fraction (0 when the incumbent is best).
        threshold: one binomial SE of a single run at the incumbent's mean, on ``n`` images.
        replaced: whether ``best`` replaced the incumbent (``margin > threshold``).
    """

    chosen: str
    best: str
    margin: float
    threshold: float
    replaced: bool


def select_on_validation(scores: Mapping[str, Sequence[float]], incumbent: str, n: int) -> Selection:
    """The rule chapter 9 fixes before its sweep: keep the incumbent unless clearly beaten.

    Among ``scores`` (name -> validation accuracies, one per seed), take the
    name with the highest mean. It replaces ``incumbent`` only if its mean is
    higher by more than one binomial SE of a single run's accuracy on the ``n``
    validation images, ``sqrt(p (1 - p) / n)`` at the incumbent's mean ``p``
    (about 0.8 points at 96 % on 500 digits); otherwise the validation digits
    cannot tell them apart and the incumbent stays. Ties go to the name listed first.

    Args:
        scores: name -> accuracies in [0, 1], one per seed (the incumbent included).
        incumbent: the name in ``scores`` that is kept unless beaten.
        n: the number of validation images.

    Returns:
        :class:`Selection`.
    """
    if not isinstance(scores, Mapping) or not scores:
        raise ValueError(f"scores must be a non-empty dict name -> accuracies, got {type(scores).__name__}")
    if incumbent not in scores:
        raise ValueError(f"incumbent {incumbent!r} is not among the scores' names {list(scores)}")
    means = {}
    for name, values in scores.items():
        arr = _values(values, f"scores[{name!r}]")
        if arr.size == 0 or np.any(arr < 0.0) or np.any(arr > 1.0):
            raise ValueError(f"scores[{name!r}] must be accuracies in [0, 1], one per seed, got {values!r}")
        means[name] = float(arr.mean())
    best = max(means, key=lambda k: means[k])  # the first of equal means
    threshold = binomial_se(means[incumbent], n)
    margin = means[best] - means[incumbent]
    replaced = best != incumbent and margin > threshold
    return Selection(best if replaced else incumbent, best, margin, threshold, replaced)
