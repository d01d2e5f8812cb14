"""What every self-check shares: running the learner's code safely and
reporting in plain words.

A check function builds a :class:`CheckResult` with :func:`passed` or
:func:`failed`; the result prints itself when it is the last value of a
notebook cell, and is truthy only when the answer is right, so tests can
``assert check_x(correct_fn)`` and ``assert not check_x(wrong_fn)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

__all__: list[str] = []  # helpers for the check modules, not for learners


@dataclass
class CheckResult:
    """The verdict of a self-check.

    Attributes:
        ok: whether the answer is right.
        message: one or two plain sentences for the learner.
    """

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return self.message

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython display
        p.text(self.message)


def passed(message: str) -> CheckResult:
    """A right answer: prints ``Correct! <message>``."""
    return CheckResult(True, f"Correct! {message}")


def failed(message: str) -> CheckResult:
    """A wrong answer: prints ``Not yet: <message>``."""
    return CheckResult(False, f"Not yet: {message}")


def call_learner(fn: Callable, *args: Any, **kwargs: Any) -> tuple[Any, CheckResult | None]:
    """Call the learner's ``fn``; turn a crash into a plain-words failure.

    Returns ``(value, None)`` on success and ``(None, failure)`` otherwise.
    """
    if not callable(fn):
        return None, failed(f"expected a function, got {type(fn).__name__}.")
    try:
        return fn(*args, **kwargs), None
    except NotImplementedError:
        return None, failed("the function still raises NotImplementedError; replace it with your code.")
    except Exception as exc:  # the learner's bug, reported rather than raised
        return None, failed(f"your function raised {type(exc).__name__}: {exc}")


def compare_tensors(
    got: Any, expected: torch.Tensor, what: str, atol: float = 1e-5
) -> CheckResult | None:
    """Compare a learner's tensor with the expected one.

    Returns ``None`` when they agree, else a failure that says whether the
    type, the shape or the values differ (and by how much).
    """
    if not isinstance(got, torch.Tensor):
        return failed(f"{what} should be a torch.Tensor, but it is a {type(got).__name__}.")
    if tuple(got.shape) != tuple(expected.shape):
        hint = ""
        if sorted(got.shape) == sorted(expected.shape):
            hint = " The same sizes in another order: check your transpose/permute."
        return failed(f"{what} has shape {tuple(got.shape)}, expected {tuple(expected.shape)}.{hint}")
    diff = (got.detach().float() - expected.float()).abs().max().item()
    if diff > atol:
        return failed(
            f"{what} has the right shape {tuple(expected.shape)} but different values "
            f"(largest difference {diff:.3g})."
        )
    return None
