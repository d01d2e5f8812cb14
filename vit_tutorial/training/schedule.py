"""The learning-rate schedule: a linear warm-up, then a half cosine, step by step.

:func:`lr_factor` is the whole rule (the multiplier of the peak learning rate
at one step, like nanoGPT's ``get_lr``); :func:`make_scheduler` hands it to
PyTorch's ``LambdaLR``; :func:`learning_rate_schedule` lists the learning
rates of a whole run.
"""
from __future__ import annotations

import math

import torch

from .._checks import check_instance, check_positive_int
from .recipe import TrainConfig

__all__ = ["lr_factor", "warmup_steps", "learning_rate_schedule", "make_scheduler"]


def lr_factor(step: int, warmup_steps: int, total_steps: int, min_ratio: float) -> float:
    """The learning rate at ``step`` (0-based) as a share of the peak.

    Linear warm-up from ``1 / warmup_steps`` to 1 over ``warmup_steps`` steps,
    then a half cosine from 1 down to ``min_ratio`` at ``total_steps``.
    """
    for name, v in (("step", step), ("warmup_steps", warmup_steps), ("total_steps", total_steps)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {v!r}")
    if isinstance(min_ratio, bool) or not isinstance(min_ratio, (int, float)) or not 0 <= min_ratio <= 1:
        raise ValueError(f"min_ratio must be a number in [0, 1], got {min_ratio!r}")
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    progress = min(1.0, progress)
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def warmup_steps(config: TrainConfig, steps_per_epoch: int) -> int:
    """``config.warmup_epochs`` in steps (at least one step when warm-up is on)."""
    check_instance(config, TrainConfig, "config")
    check_positive_int(steps_per_epoch, "steps_per_epoch")
    return max(1, round(config.warmup_epochs * steps_per_epoch)) if config.warmup_epochs > 0 else 0


def learning_rate_schedule(config: TrainConfig, steps_per_epoch: int) -> list[float]:
    """The learning rate :func:`~vit_tutorial.training.fit` uses at each of its steps.

    A linear warm-up over ``config.warmup_epochs`` epochs from ``lr / warmup_steps``
    to ``lr``, then a half cosine down to ``config.min_lr`` at the last step.

    Args:
        config: the training config.
        steps_per_epoch: optimisation steps per epoch.

    Returns:
        ``config.epochs * steps_per_epoch`` learning rates.
    """
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig, got {type(config).__name__}")
    check_positive_int(steps_per_epoch, "steps_per_epoch")
    if config.epochs * steps_per_epoch > 10**7:
        raise ValueError(f"the schedule would have {config.epochs * steps_per_epoch:,} steps (epochs x steps_per_epoch); "
                         f"expected at most 10,000,000 for a list (use lr_factor for single steps)")
    total = config.epochs * steps_per_epoch
    warmup = warmup_steps(config, steps_per_epoch)
    return [config.lr * lr_factor(s, warmup, total, config.min_lr / config.lr) for s in range(total)]


def make_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int, step: int = 0
) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` that follows :func:`lr_factor`, continued from ``step`` (when resuming).

    If ``config.epochs`` changed since the run started, the cosine is
    recomputed for the new length.
    """
    check_instance(optimizer, torch.optim.Optimizer, "optimizer")
    check_instance(config, TrainConfig, "config")
    total = steps_per_epoch * config.epochs
    warmup = warmup_steps(config, steps_per_epoch)
    min_ratio = config.min_lr / config.lr
    if step > 0:  # LambdaLR continues from last_epoch only if the groups know their peak
        for group in optimizer.param_groups:
            group["initial_lr"] = config.lr
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_factor(s, warmup, total, min_ratio), last_epoch=step - 1
    )
