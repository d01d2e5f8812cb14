"""Self-checks for the training chapter's exercises.

* :func:`check_confusion_matrix`: count (true class, predicted class) pairs;
* :func:`check_label_smoothing`: cross-entropy against smoothed targets;
* :func:`check_warmup_cosine`: the learning-rate schedule, step by step;
* :func:`check_mcnemar`: McNemar's exact test for two models on the same test images.

Each check runs the learner's function on fixed inputs, compares with the
package's own implementation and says in words what differs.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

from ..training import confusion_matrix, lr_factor
from ._core import CheckResult, call_learner, compare_tensors, failed, passed

__all__ = ["check_confusion_matrix", "check_label_smoothing", "check_warmup_cosine", "check_mcnemar"]


def _cm_cases() -> list[tuple[torch.Tensor, torch.Tensor, int]]:
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 4, (50,), generator=g)
    predictions = torch.where(torch.rand(50, generator=g) < 0.6, labels, torch.randint(0, 4, (50,), generator=g))
    # class 4 never appears: the matrix must still be 5 x 5
    return [(labels, predictions, 4), (torch.tensor([0, 1, 1, 2, 3]), torch.tensor([0, 2, 1, 2, 0]), 5)]


def check_confusion_matrix(fn: Callable) -> CheckResult:
    """Check ``fn(labels, predictions, num_classes)`` -> (K, K) integer counts,
    row = true class, column = predicted class."""
    for labels, predictions, K in _cm_cases():
        got, error = call_learner(fn, labels.clone(), predictions.clone(), K)
        if error is not None:
            return error
        expected = confusion_matrix(labels, predictions, K)
        if isinstance(got, torch.Tensor) and got.shape == expected.shape:
            if got.dtype.is_floating_point and torch.allclose(got.double(), expected.double() / expected.sum(), atol=1e-6):
                return failed("your matrix is divided by the number of images; the exercise asks for counts.")
            if torch.equal(got.long(), expected.T) and not torch.equal(expected, expected.T):
                return failed("rows and columns are swapped: rows should be the TRUE class, columns the PREDICTED class.")
        elif isinstance(got, torch.Tensor) and got.dim() == 2 and got.shape[0] < K:
            return failed(
                f"the matrix is {tuple(got.shape)} but should be {K} x {K}: a class that never occurs "
                f"still needs its row and column (use num_classes, not the largest label)."
            )
        problem = compare_tensors(got, expected, "the confusion matrix", atol=0)
        if problem is not None:
            return problem
    return passed("rows are true classes, columns predictions, and the diagonal counts the right answers.")


def _smoothing_cases() -> list[tuple[torch.Tensor, torch.Tensor, float]]:
    g = torch.Generator().manual_seed(1)
    return [
        (3 * torch.randn(8, 10, generator=g), torch.randint(0, 10, (8,), generator=g), 0.1),
        (torch.randn(5, 3, generator=g), torch.randint(0, 3, (5,), generator=g), 0.3),
    ]


def check_label_smoothing(fn: Callable) -> CheckResult:
    """Check ``fn(logits, targets, smoothing)`` -> the mean cross-entropy against
    targets ``(1 - smoothing) * one_hot + smoothing / K``."""
    for logits, targets, eps in _smoothing_cases():
        got, error = call_learner(fn, logits.clone(), targets.clone(), eps)
        if error is not None:
            return error
        expected = F.cross_entropy(logits, targets, label_smoothing=eps)
        if isinstance(got, (int, float)):
            got = torch.tensor(float(got))
        if not isinstance(got, torch.Tensor):
            return failed(f"the loss should be a tensor (one number), got {type(got).__name__}.")
        if got.numel() != 1:
            return failed(f"the loss should be one number (the mean over the batch), got shape {tuple(got.shape)}.")
        got = got.reshape(()).double()
        B, K = logits.shape
        plain = F.cross_entropy(logits, targets).double()
        other = F.log_softmax(logits, 1).double()  # (B, K)
        one_hot = F.one_hot(targets, K).double()  # (B, K)
        km1 = -(((1 - eps) * one_hot + eps / (K - 1) * (1 - one_hot)) * other).sum(1).mean()
        if abs(got - expected.double()) <= 1e-5:
            continue
        if abs(got - plain) <= 1e-5:
            return failed("this is the plain cross-entropy: the smoothing did not change anything.")
        if abs(got - expected.double() * B) <= 1e-4:
            return failed("this is the SUM over the batch; take the mean over the B images.")
        if abs(got - km1) <= 1e-5:
            return failed(
                "you spread the smoothing only over the K-1 wrong classes; here every class, the right "
                "one included, gets smoothing / K (as in torch's label_smoothing)."
            )
        return failed(f"expected {expected.item():.4f}, got {got.item():.4f} (logits {tuple(logits.shape)}, smoothing {eps}).")
    return passed("the targets keep 1 - smoothing on the right class and share smoothing equally over all K classes.")


def _schedule(step: int, warmup_steps: int, total_steps: int, peak_lr: float) -> float:
    return peak_lr * lr_factor(step, warmup_steps, total_steps, 0.0)


def check_warmup_cosine(fn: Callable) -> CheckResult:
    """Check ``fn(step, warmup_steps, total_steps, peak_lr)`` -> the learning rate
    at ``step`` (0-based): ``peak_lr * (step + 1) / warmup_steps`` during the
    warm-up, then ``peak_lr * (1 + cos(pi * t)) / 2`` with
    ``t = (step - warmup_steps) / (total_steps - warmup_steps)``."""
    for warmup, total, peak in ((10, 100, 3e-3), (4, 30, 1.0)):
        got = []
        for step in range(total):
            value, error = call_learner(fn, step, warmup, total, peak)
            if error is not None:
                return error
            try:
                got.append(float(value))
            except (TypeError, ValueError):
                return failed(f"the learning rate should be a number, got {type(value).__name__} at step {step}.")
        expected = [_schedule(s, warmup, total, peak) for s in range(total)]
        if all(math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12) for a, b in zip(got, expected)):
            continue
        if math.isclose(got[0], peak, rel_tol=1e-6):
            return failed("the first step already uses the peak rate: the warm-up is missing.")
        if math.isclose(got[0], 0.0, abs_tol=1e-15) and math.isclose(got[1], peak / warmup, rel_tol=1e-6):
            return failed("the warm-up starts at 0 (step / warmup_steps); use (step + 1) / warmup_steps so no step is wasted.")
        no_shift = [peak * 0.5 * (1 + math.cos(math.pi * s / total)) for s in range(warmup, total)]
        if all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(got[warmup:], no_shift)):
            return failed("the cosine should start at the end of the warm-up: measure t from warmup_steps, over total_steps - warmup_steps.")
        linear = [peak * (1 - (s - warmup) / (total - warmup)) for s in range(warmup, total)]
        if all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(got[warmup:], linear)):
            return failed("after the warm-up the rate falls on a straight line; it should follow a half cosine.")
        bad = next(s for s in range(total) if not math.isclose(got[s], expected[s], rel_tol=1e-6, abs_tol=1e-12))
        return failed(f"at step {bad} (warm-up {warmup}, total {total}) expected {expected[bad]:.6g}, got {got[bad]:.6g}.")
    return passed("a linear warm-up to the peak, then a half cosine down to zero.")


# ---------------------------------------------------------------- McNemar


def _mcnemar_case(b: int, c: int, both_right: int, both_wrong: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    a = torch.tensor([1] * b + [0] * c + [1] * both_right + [0] * both_wrong, dtype=torch.bool)
    bb = torch.tensor([0] * b + [1] * c + [1] * both_right + [0] * both_wrong, dtype=torch.bool)
    order = torch.randperm(len(a), generator=torch.Generator().manual_seed(seed))
    return a[order], bb[order]


def check_mcnemar(fn: Callable) -> CheckResult:
    """Check ``fn(correct_a, correct_b)`` -> the two-sided p-value of McNemar's exact test.

    ``correct_a`` and ``correct_b`` are boolean tensors (n,): whether model A
    and model B got each test image right. The answer counts b (A right, B
    wrong) and c (A wrong, B right) and returns
    ``min(1, 2 * P(X <= min(b, c)))`` for X ~ Binomial(b + c, 1/2).
    """
    from ..stats import mcnemar

    for b, c, rr, ww, seed in ((3, 12, 950, 35, 0), (20, 9, 900, 71, 1), (4, 4, 90, 2, 2)):
        a_, b_ = _mcnemar_case(b, c, rr, ww, seed)
        expected = mcnemar(a_, b_).p_value
        got, err = call_learner(fn, a_.clone(), b_.clone())
        if err is not None:
            return err
        try:
            got = float(got)
        except (TypeError, ValueError):
            return failed(f"return the p-value as a number, got {type(got).__name__}")
        if abs(got - expected) <= 1e-6:
            continue
        n, k = b + c, min(b, c)
        tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0**n
        everyone = sum(math.comb(len(a_), i) for i in range(min(b, c) + 1)) / 2.0 ** len(a_)
        chi2 = math.erfc(math.sqrt((abs(b - c) - 1) ** 2 / n / 2)) if n else 1.0
        if abs(got - tail) <= 1e-6:
            return failed(f"with b={b}, c={c} you returned the one-sided tail P(X <= {k}) = {tail:.4g}; "
                          "the question is whether the models differ in EITHER direction, so double it (at most 1).")
        if abs(got - min(1.0, 2 * everyone)) <= 1e-6 or abs(got - everyone) <= 1e-6:
            return failed("you used all n test images as the coin flips. Images that both models get right (or "
                          "both wrong) say nothing about which is better: only the b + c disagreements count.")
        if abs(got - chi2) <= 1e-3:
            return failed("that is the chi-square approximation (with continuity correction). It is fine for many "
                          f"disagreements, but here b + c = {n}: use the exact binomial tail.")
        return failed(f"with b={b} (A right, B wrong) and c={c} (A wrong, B right) the p-value is "
                      f"{expected:.4g}; you returned {got:.4g}.")
    return passed("Your McNemar test counts only the disagreements and doubles the exact binomial tail: "
                  "the paired test for two models on the same test images.")
