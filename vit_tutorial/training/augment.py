"""Augmentation of the training images, reproducible epoch by epoch.

Each epoch has one random stream, seeded with ``seed * SEED_STRIDE + epoch``:
first the shuffle of the images (which ``DistributedSampler`` draws from the
same seed, identically on every rank), then the augmentation. So every rank
augments alike, and a resumed run sees the same images as an uninterrupted one.
"""
from __future__ import annotations

import torch

from ..data import random_affine, random_shift
from .recipe import TrainConfig

__all__ = ["SEED_STRIDE", "augment", "augmentation_generator"]

#: Epoch ``e`` of seed ``s`` draws from the seed ``s * SEED_STRIDE + e``.
SEED_STRIDE = 1_000_003


def augment(images: torch.Tensor, config: TrainConfig, generator: torch.Generator) -> torch.Tensor:
    """The training images (n, C, H, W) of one epoch, augmented as ``config`` says.

    A rotation or a scale sends all three (shift, rotation, scale) through
    :func:`~vit_tutorial.data.random_affine`; a shift alone moves by whole
    pixels (:func:`~vit_tutorial.data.random_shift`); no augmentation returns
    ``images`` itself.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    if config.augment_rotation or config.augment_scale:
        return random_affine(images, float(config.augment_shift), config.augment_rotation, config.augment_scale, generator)
    if config.augment_shift:
        return random_shift(images, config.augment_shift, generator)
    return images


def augmentation_generator(seed: int, epoch: int, n: int) -> torch.Generator:
    """The CPU generator for the augmentation of epoch ``epoch`` (1-based) of ``n`` images.

    It is seeded with ``seed * SEED_STRIDE + epoch`` and has already drawn the
    shuffle's ``randperm(n)``, so what it draws next is the augmentation's share.
    """
    for name, v in (("seed", seed), ("epoch", epoch), ("n", n)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {v!r}")
    g = torch.Generator().manual_seed(seed * SEED_STRIDE + epoch)
    torch.randperm(n, generator=g)  # the shuffle's share of the stream
    return g
