"""Input checks shared by every public function.

Each helper raises :class:`ValueError` with a sentence that names what was
expected and what was given, so that a learner who passes the wrong tensor
sees the problem in words rather than a deep stack trace.
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, Sequence

import torch


def check_tensor(x: object, name: str) -> torch.Tensor:
    """Raise unless ``x`` is a ``torch.Tensor``."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    return x


def check_rank(x: object, rank: int, name: str, layout: str) -> torch.Tensor:
    """Raise unless ``x`` is a tensor with ``rank`` dimensions.

    Args:
        x: the tensor to check.
        rank: the number of dimensions expected.
        name: the argument's name, used in the message.
        layout: the expected layout in words, e.g. ``"(B, C, H, W)"``.
    """
    x = check_tensor(x, name)
    if x.dim() != rank:
        raise ValueError(
            f"{name} must have {rank} dimensions {layout}, "
            f"got {x.dim()} dimensions with shape {tuple(x.shape)}"
        )
    return x


def check_positive_int(value: object, name: str) -> int:
    """Raise unless ``value`` is a positive ``int``."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def check_fields(cls: type, names: Iterable[str]) -> None:
    """Raise unless every name in ``names`` is a field of the dataclass ``cls``; the message lists the fields."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} fields {unknown}; expected some of {sorted(known)}")


def check_divisible(size: int, patch_size: int, what: str) -> None:
    """Raise unless ``size`` is a multiple of ``patch_size``.

    The message names the dimension (``what``) and the remainder.
    """
    if size % patch_size != 0:
        raise ValueError(
            f"image {what} {size} is not divisible by the patch size {patch_size} "
            f"(remainder {size % patch_size}); expected a multiple of {patch_size}"
        )


def check_heads(dim: int, heads: int) -> None:
    """Raise unless the width ``dim`` splits evenly over ``heads`` heads."""
    check_positive_int(dim, "dim")
    check_positive_int(heads, "heads")
    if dim % heads != 0:
        raise ValueError(
            f"dim {dim} is not divisible by heads {heads} (remainder {dim % heads}); "
            f"expected dim to be a multiple of heads"
        )


def check_choice(value: object, choices: Sequence[str], name: str) -> str:
    """Raise unless ``value`` is one of ``choices``; the message lists them."""
    if value not in choices:
        known = ", ".join(repr(c) for c in choices)
        raise ValueError(f"unknown {name} {value!r}; expected one of {known}")
    return value  # type: ignore[return-value]
