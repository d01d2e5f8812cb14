"""Input checks shared by every public function.

Each helper raises :class:`ValueError` (:class:`TypeError` for a wrong dtype)
with a sentence that names what was expected and what was given, so that a
learner who passes the wrong tensor sees the problem in words rather than a
deep stack trace.

Dtype policy (decided once, here): a tensor that meets learned weights (the
input of a module's ``forward``: images, tokens, q/k/v) must be floating point
with the dtype of the module's parameters (float32 unless the model was moved
with ``model.to(dtype)``). Integer images (uint8 in [0, 255], as a PNG loads),
bool and other float dtypes are refused with a message that says how to
convert (``images.float() / 255``, then standardise like the training data);
nothing is converted silently. Pure rearrangements (``patchify``,
``unpatchify``, shifts) keep any dtype. Attention given to the analysis must be
a distribution: finite, non-negative, each row summing to 1.
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


def check_dtype_like(x: torch.Tensor, name: str, module: torch.nn.Module | None = None,
                     dtype: torch.dtype | None = None) -> torch.Tensor:
    """Raise ``TypeError`` unless ``x`` has the floating dtype of ``module``'s parameters (or ``dtype``).

    The dtype policy of the package (see the module docstring): nothing is
    converted silently; uint8 images get a hint on how to convert them.
    """
    x = check_tensor(x, name)
    if dtype is None and module is not None:
        p = next(iter(module.parameters()), None)
        dtype = p.dtype if p is not None else None
    if dtype is None:
        dtype = torch.get_default_dtype() if not x.is_floating_point() else x.dtype
    if x.dtype != dtype:
        hint = ""
        if x.dtype == torch.uint8:
            hint = ("; uint8 images (values 0-255, as a PNG loads) must be converted first: "
                    "images.float() / 255, then standardised like the training data")
        elif x.is_floating_point():
            hint = f"; convert with {name}.to({dtype}) or move the model with model.to({x.dtype})"
        else:
            hint = f"; convert with {name}.to({dtype})"
        raise TypeError(f"{name} must be a {dtype} tensor (the dtype of the weights), got {x.dtype}{hint}")
    return x


def check_finite_number(value: object, name: str, low: float | None = None, high: float | None = None,
                        low_open: bool = False) -> float:
    """Raise unless ``value`` is a finite real number (not bool), optionally in [low, high] ((low, high] if ``low_open``)."""
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value!r}")
    return float(value)


def check_distribution(p: torch.Tensor, name: str, atol: float | None = None) -> torch.Tensor:
    """Raise unless every row (last dimension) of ``p`` is a probability distribution.

    That is: floating point, finite, non-negative (to ``-atol``) and summing to
    1 within ``atol`` (default 1e-3, 1e-2 for 16-bit floats). Attention weights
    after a softmax pass; logits, NaN or rows scaled by 3 do not. An empty
    tensor passes.
    """
    p = check_tensor(p, name)
    if not p.is_floating_point():
        raise TypeError(f"{name} must be floating-point attention weights, got {p.dtype}")
    if p.numel() == 0:
        return p
    if atol is None:
        atol = 1e-2 if p.dtype in (torch.float16, torch.bfloat16) else 1e-3
    q = p.detach()
    if not bool(torch.isfinite(q).all()):
        bad = int((~torch.isfinite(q)).sum())
        raise ValueError(f"{name} must be finite attention weights, got {bad} NaN/inf value(s)")
    low = float(q.min())
    if low < -atol:
        raise ValueError(
            f"{name} must be attention weights (non-negative rows summing to 1, e.g. after a softmax), "
            f"got a minimum of {low:.3g}: raw logits?"
        )
    sums = q.double().sum(dim=-1)
    worst = float((sums - 1).abs().max())
    if worst > atol:
        raise ValueError(
            f"{name} must have rows summing to 1 (attention weights over the keys), got row sums from "
            f"{float(sums.min()):.4g} to {float(sums.max()):.4g}"
        )
    return p


def check_pair(value: object, name: str) -> tuple[int, int]:
    """``value`` as ``(rows, cols)`` of positive ints: an int (square) or a pair; raise otherwise."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        rows, cols = value
    elif isinstance(value, int) and not isinstance(value, bool):
        rows = cols = value
    else:
        raise ValueError(f"{name} must be a positive int or a pair (rows, cols) of them, got {value!r}")
    check_positive_int(rows, f"{name} rows")
    check_positive_int(cols, f"{name} cols")
    return rows, cols


def check_instance(value: object, kind: type | tuple[type, ...], name: str) -> object:
    """Raise ``TypeError`` unless ``value`` is an instance of ``kind``; the message names both types."""
    if not isinstance(value, kind):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise TypeError(f"{name} must be a {names}, got {type(value).__name__}")
    return value
