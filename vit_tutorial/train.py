"""Training, under its old name: ``vit_tutorial.train`` is :mod:`vit_tutorial.training`.

The code lives in the :mod:`vit_tutorial.training` package, one concern per
module (recipe, loop, optimiser, schedule, augmentation, distributed,
evaluation, checkpoints, command line). This module keeps the old import path
and the command line working::

    python -m vit_tutorial.train --dataset mnist5k --out runs/tiny
    torchrun --nproc_per_node=2 -m vit_tutorial.train --dataset mnist5k --out runs/tiny2
    python -m vit_tutorial.train --dataset mnist5k --out runs/tiny --epochs 40 --resume
"""
from __future__ import annotations

import sys

from .model import init_position_embedding
from .training import (
    BUNDLED_CHECKPOINT,
    STATE_FILE,
    TrainConfig,
    confusion_matrix,
    evaluate,
    fit,
    learning_rate_schedule,
    load_checkpoint,
    main,
    predict,
    rank_batches,
    sampler,
    save_checkpoint,
    train_one_epoch,
)

__all__ = [
    "TrainConfig",
    "fit",
    "train_one_epoch",
    "evaluate",
    "predict",
    "confusion_matrix",
    "learning_rate_schedule",
    "init_position_embedding",
    "save_checkpoint",
    "load_checkpoint",
    "BUNDLED_CHECKPOINT",
    "STATE_FILE",
    "main",
]

# The old private names, for notebooks written before the split (use the public ones).
_rank_batches, _sampler = rank_batches, sampler

if __name__ == "__main__":
    sys.exit(main())
