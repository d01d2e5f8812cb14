"""`vit_tutorial.training`: train any image classifier, one concern per module.

* :mod:`~vit_tutorial.training.recipe` - :class:`TrainConfig`, the whole training recipe;
* :mod:`~vit_tutorial.training.loop` - :func:`train_one_epoch` (the step, shown in
  chapter 9) and :func:`fit`, which composes everything below around it;
* :mod:`~vit_tutorial.training.optim` - AdamW and which parameters decay;
* :mod:`~vit_tutorial.training.schedule` - the warm-up and cosine learning rate;
* :mod:`~vit_tutorial.training.augment` - reproducible augmentation per epoch;
* :mod:`~vit_tutorial.training.distributed` - ranks, shards and DDP under torchrun;
* :mod:`~vit_tutorial.training.evaluate` - loss, accuracy, logits, confusion matrix;
* :mod:`~vit_tutorial.training.checkpoint` - checkpoints and the resumable state;
* :mod:`~vit_tutorial.training.cli` - ``python -m vit_tutorial.train``.
"""
from .augment import SEED_STRIDE, augment, augmentation_generator
from .checkpoint import (
    BUNDLED_CHECKPOINT,
    CHECKPOINT_FILES,
    STATE_FILE,
    checkpoint_files,
    load_checkpoint,
    load_state,
    read_state,
    save_checkpoint,
    save_state,
    strict_json,
)
from .cli import DATASET_MODEL_DEFAULTS, build_parser, main
from .distributed import (
    all_reduce_sum,
    init_process_group_from_env,
    rank_and_world,
    rank_batches,
    resolve_device,
    sampler,
    wrap_ddp,
)
from .evaluate import check_model, confusion_matrix, evaluate, metric_sums, model_device, predict
from .loop import TrainingDiverged, check_fit_data, fit, train_one_epoch
from .optim import decays, make_optimizer, param_groups
from .recipe import TrainConfig, field_help
from .schedule import learning_rate_schedule, lr_factor, make_scheduler, warmup_steps

__all__ = [
    # recipe
    "TrainConfig", "field_help",
    # the loop
    "train_one_epoch", "fit", "check_fit_data", "TrainingDiverged",
    # its parts
    "make_optimizer", "param_groups", "decays",
    "lr_factor", "warmup_steps", "learning_rate_schedule", "make_scheduler",
    "augment", "augmentation_generator", "SEED_STRIDE",
    "rank_and_world", "resolve_device", "init_process_group_from_env", "sampler", "rank_batches",
    "all_reduce_sum", "wrap_ddp",
    "evaluate", "predict", "confusion_matrix", "metric_sums", "model_device", "check_model",
    "BUNDLED_CHECKPOINT", "STATE_FILE", "save_checkpoint", "load_checkpoint", "save_state", "load_state",
    "CHECKPOINT_FILES", "checkpoint_files", "strict_json", "read_state",
    "build_parser", "main", "DATASET_MODEL_DEFAULTS",
]
