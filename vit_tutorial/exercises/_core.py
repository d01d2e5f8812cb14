"""What every self-check shares: running the learner's code safely and
reporting in plain words.

A check function builds a :class:`CheckResult` with :func:`passed` or
:func:`failed`; the result prints itself when it is the last value of a
notebook cell, and is truthy only when the answer is right, so tests can
``assert check_x(correct_fn)`` and ``assert not check_x(wrong_fn)``.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

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


class ForbiddenCall(BaseException):
    """Raised inside the learner's code when it calls a built-in that the
    exercise asks them to write themselves (a ``BaseException``, so a
    learner's ``except Exception`` cannot swallow it)."""


_MISSING = object()


@contextmanager
def forbidding(targets: Sequence[tuple[object, str]], exercise: str) -> Iterator[None]:
    """Make each ``owner.name`` in ``targets`` raise :class:`ForbiddenCall` for a while.

    Args:
        targets: ``(owner, attribute name)`` pairs, e.g. ``(torch.Tensor, "softmax")``
            or ``(torch.nn.functional, "cross_entropy")``; for a module
            instance, ``(block, "forward")`` shadows its forward.
        exercise: what the learner is asked to write, used in the message
            (e.g. ``"the softmax"``).

    Everything is restored on exit, also after an error.
    """
    saved = []
    for owner, name in targets:
        if not hasattr(owner, name):
            continue
        if isinstance(owner, (type, torch.nn.Module)):
            own = owner.__dict__.get(name, _MISSING)  # absent: inherited, restored by deleting ours
        else:
            own = getattr(owner, name)
        if owner is torch.Tensor:
            label = f"Tensor.{name} (x.{name}(...))"
        elif isinstance(owner, torch.nn.Module):
            label = f"the {type(owner).__name__} itself (calling it, or its .{name}, runs the finished module)"
        elif isinstance(owner, type):
            label = f"nn.{owner.__name__}" if owner.__module__.startswith("torch.nn") else f"{owner.__name__}.{name}"
        else:
            label = f"{owner.__name__}.{name}"

        def raiser(*args: Any, _label: str = label, **kwargs: Any) -> Any:
            raise ForbiddenCall(
                f"your code called {_label}, the built-in this exercise replaces; write {exercise} "
                f"yourself from the operations the exercise allows."
            )

        saved.append((owner, name, own))
        setattr(owner, name, raiser)
    try:
        yield
    finally:
        for owner, name, own in reversed(saved):
            if own is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, own)


def call_learner(fn: Callable, *args: Any, **kwargs: Any) -> tuple[Any, CheckResult | None]:
    """Call the learner's ``fn``; turn a crash into a plain-words failure.

    Returns ``(value, None)`` on success and ``(None, failure)`` otherwise;
    inside :func:`forbidding`, a call to a forbidden built-in is such a failure.
    """
    if not callable(fn):
        return None, failed(f"expected a function, got {type(fn).__name__}.")
    try:
        return fn(*args, **kwargs), None
    except ForbiddenCall as exc:
        return None, failed(str(exc))
    except NotImplementedError:
        return None, failed("the function still raises NotImplementedError; replace it with your code.")
    except Exception as exc:  # the learner's bug, reported rather than raised
        return None, failed(f"your function raised {type(exc).__name__}: {exc}")


def is_close(got: object, expected: torch.Tensor, atol: float = 1e-5, rtol: float = 0.0) -> bool:
    """Whether ``got`` is a tensor of ``expected``'s shape with every entry within
    ``atol + rtol * |expected|`` (a NaN is never close). The quiet yes/no of
    :func:`compare_tensors`, for matching an answer against known mistakes."""
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(expected.shape):
        return False
    diff = (got.detach().float() - expected.float()).abs()
    return bool((diff <= atol + rtol * expected.float().abs()).all())


def compare_tensors(
    got: Any, expected: torch.Tensor, what: str, atol: float = 1e-5
) -> CheckResult | None:
    """Compare a learner's tensor with the expected one.

    Returns ``None`` when they agree, else a failure that says whether the
    type, the shape (exactly: a shape that would only broadcast is wrong), the
    dtype, non-finite entries (NaN or inf where the answer is finite) or the
    values differ (and by how much).
    """
    if not isinstance(got, torch.Tensor):
        return failed(f"{what} should be a torch.Tensor, but it is a {type(got).__name__}.")
    if tuple(got.shape) != tuple(expected.shape):
        hint = ""
        if sorted(got.shape) == sorted(expected.shape):
            hint = " The same sizes in another order: check your transpose/permute."
        elif got.numel() != expected.numel():
            hint = " (Shapes that only broadcast together are not the same shape.)"
        return failed(f"{what} has shape {tuple(got.shape)}, expected {tuple(expected.shape)}.{hint}")
    if got.dtype != expected.dtype:
        return failed(f"{what} has dtype {got.dtype}, expected {expected.dtype}.")
    bad = ~torch.isfinite(got.detach()) & torch.isfinite(expected)
    if bool(bad.any()):
        n = int(bad.sum())
        return failed(f"{what} contains {n} NaN or inf value{'s' if n > 1 else ''} where the answer is finite "
                      f"(an overflow, a division by zero or the log of 0?).")
    if got.numel() == 0:
        return None
    gd, ed = got.detach().double(), expected.double()
    same_special = (gd == ed) | (torch.isnan(gd) & torch.isnan(ed))
    diff = torch.where(same_special, torch.zeros_like(gd), (gd - ed).abs()).max().item()
    if not diff <= atol:
        return failed(
            f"{what} has the right shape {tuple(expected.shape)} but different values "
            f"(largest difference {diff:.3g})."
        )
    return None
