"""The training recipe: :class:`TrainConfig`, one dataclass holding every knob.

Each field is written once, here, with its default and its one-line
description in the ``Attributes`` section; the command line
(:mod:`vit_tutorial.training.cli`) builds its flags from these fields, and
``fit`` saves :meth:`TrainConfig.to_dict` with every run.
"""
from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass

from .._checks import check_fields, check_positive_int

__all__ = ["TrainConfig", "field_help"]


@dataclass
class TrainConfig:
    """How to train.

    Attributes:
        epochs: passes over the training split.
        batch_size: the GLOBAL batch: images per optimisation step, summed
            over all processes when training with several (torchrun).
        lr: peak learning rate of AdamW, reached at the end of the warm-up.
        weight_decay: AdamW's decoupled weight decay (matrices only).
        warmup_epochs: epochs of linear warm-up from ~0 to ``lr`` (may be a
            fraction); then a cosine decay to ``min_lr``.
        min_lr: learning rate at the very end of the cosine.
        label_smoothing: the share of probability mass spread over all classes
            in the training targets (0 = plain one-hot).
        grad_clip: clip the global gradient norm to this value; 0 = no clipping.
        augment_shift: shift training images by up to this many pixels (0 = off).
        augment_rotation: also rotate them by up to this many degrees (0 = off).
        augment_scale: also scale them by up to this relative amount (0 = off).
            With a rotation or a scale, the shift is continuous and all three go
            through :func:`~vit_tutorial.data.random_affine`; otherwise the shift
            is by whole pixels (:func:`~vit_tutorial.data.random_shift`).
        seed: seeds the batch order, the augmentation and torch's global RNG.
        device: ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda"``
            or ``"cuda:N"``.
        eval_every: evaluate on the test split every this many epochs (and
            always after the last one); other epochs record ``None``.
        betas: AdamW's betas (the decay rates of its two moment estimates).
        fused_adamw: use PyTorch's fused AdamW (``torch.optim.AdamW(fused=True)``:
            one fused operator updates all parameters, where the plain AdamW
            on a CPU loops over them; 1.11x less CPU time per step for
            chapter 9's ViT-Tiny on one thread, median of 3 rounds in
            ``benchmarks/train_step_speed.py``). It computes the same update
            in another order, so the weights differ at rounding level. Off by
            default because the shipped results and checkpoint were trained
            without it; where the device has no fused kernel, training falls
            back to the plain AdamW with a warning.
    """

    epochs: int = 30
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 0.05
    warmup_epochs: float = 2.0
    min_lr: float = 0.0
    label_smoothing: float = 0.1
    grad_clip: float = 1.0
    augment_shift: int = 1
    augment_rotation: float = 0.0
    augment_scale: float = 0.0
    seed: int = 0
    device: str = "auto"
    eval_every: int = 1
    betas: tuple[float, float] = (0.9, 0.999)
    fused_adamw: bool = False

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_every"):
            check_positive_int(getattr(self, name), name)
        if isinstance(self.augment_shift, bool) or not isinstance(self.augment_shift, int) or self.augment_shift < 0:
            raise ValueError(f"augment_shift must be an integer >= 0, got {self.augment_shift!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise ValueError(f"seed must be an integer in [0, 2**32 - 1] (numpy and torch seeds), got {self.seed!r}")
        for name in ("lr", "weight_decay", "warmup_epochs", "min_lr", "grad_clip"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        _check_ranges(self)

    def to_dict(self) -> dict:
        """The config as a plain dict (for JSON)."""
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Build a config from :meth:`to_dict`'s output; unknown keys raise."""
        check_fields(cls, d)
        return cls(**d)


def _check_ranges(c: TrainConfig) -> None:
    """The checks of :class:`TrainConfig` that compare a field with a range or another field."""
    if not 0.0 <= c.augment_rotation <= 180.0:
        raise ValueError(f"augment_rotation must be in [0, 180] degrees, got {c.augment_rotation!r}")
    if not 0.0 <= c.augment_scale < 1.0:
        raise ValueError(f"augment_scale must be in [0, 1), got {c.augment_scale!r}")
    if c.lr <= 0:
        raise ValueError(f"lr must be > 0, got {c.lr!r}")
    if c.min_lr > c.lr:
        raise ValueError(f"min_lr must be <= lr, got min_lr={c.min_lr!r} and lr={c.lr!r}")
    if not 0.0 <= c.label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {c.label_smoothing!r}")
    if not (isinstance(c.device, str) and (c.device in ("auto", "cpu", "cuda") or c.device.startswith("cuda:"))):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {c.device!r}")
    c.betas = tuple(c.betas)  # JSON round trips give lists
    if len(c.betas) != 2 or not all(0.0 <= b < 1.0 for b in c.betas):
        raise ValueError(f"betas must be two numbers in [0, 1), got {c.betas!r}")
    if not isinstance(c.fused_adamw, bool):
        raise ValueError(f"fused_adamw must be True or False, got {c.fused_adamw!r}")


def field_help(cls: type) -> dict[str, str]:
    """Each field's description, read from the ``Attributes:`` section of ``cls``'s docstring.

    The docstring is the one place a field is described; the command line
    shows the same words as its ``--help``.

    Returns:
        ``{field name: description on one line}``; a field the docstring
        does not describe raises ``ValueError``.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"cls must be a dataclass, got {cls!r}")
    text = (cls.__doc__ or "").split("Attributes:", 1)[-1]
    entries = re.findall(r"^ {8}(\w+): (.*?)(?=^ {8}\w+: |\Z)", text, flags=re.M | re.S)
    described = {name: " ".join(body.split()) for name, body in entries}
    missing = [f.name for f in dataclasses.fields(cls) if f.name not in described]
    if missing:
        raise ValueError(f"{cls.__name__}'s docstring must describe every field under Attributes:, missing {missing}")
    return {f.name: described[f.name] for f in dataclasses.fields(cls)}
