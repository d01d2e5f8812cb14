"""Training: one loop for any image classifier, checkpoints, and the CLI.

:func:`fit` trains any ``nn.Module`` that maps images (B, C, H, W) to logits
(B, classes) on a :class:`~vit_tutorial.data.DataSplits`, with

* AdamW (no weight decay on biases, norms, the class token and the position
  table), a linear warm-up and a cosine decay of the learning rate, step by
  step;
* label smoothing, gradient clipping and random-shift augmentation;
* a fixed seed: the order of the images and the shifts of epoch ``e`` come
  from a generator seeded with ``(seed, e)``, so a run is reproducible on a
  given machine and a resumed run sees the same batches as an uninterrupted
  one;
* a ``tqdm.auto`` progress bar (a widget in notebooks) and one metrics dict
  per epoch.

When ``torch.distributed`` is initialised (e.g. under ``torchrun``), :func:`fit`
wraps the model in ``DistributedDataParallel``; a ``DistributedSampler``
(with ``set_epoch`` every epoch) gives every rank its share of each
**global** batch (``batch_size`` is the global batch, a multiple of the
number of processes), so one process and N processes take the same
optimisation steps; evaluation metrics are summed over the ranks.

Command line (``python -m vit_tutorial.train --help``)::

    python -m vit_tutorial.train --dataset mnist5k --out runs/tiny
    torchrun --nproc_per_node=2 -m vit_tutorial.train --dataset mnist5k --out runs/tiny2
    python -m vit_tutorial.train --dataset mnist5k --out runs/tiny --epochs 40 --resume

It writes ``model.safetensors``, ``config.json`` and ``metrics.json`` to the
output directory, plus ``train_state.pt`` after every epoch so that
``--resume`` can continue an interrupted run.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .config import PRESETS, ViTConfig, vit_config
from .data import DATASETS, DataSplits, Split, load_dataset, random_affine, random_shift
from .model import ViT, count_parameters

__all__ = [
    "TrainConfig",
    "fit",
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

#: The chapter's trained ViT-Tiny (MNIST-5k), shipped with the package.
BUNDLED_CHECKPOINT = Path(__file__).resolve().parent / "checkpoints" / "vit-tiny-mnist5k"

#: The resumable training state written after every epoch when ``fit`` has a ``state_dir``.
STATE_FILE = "train_state.pt"


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
        betas: AdamW's betas.
    """

    epochs: int = 30
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 0.05
    warmup_epochs: float = 2.0
    min_lr: float = 0.0
    label_smoothing: float = 0.1
    grad_clip: float = 1.0
    augment_shift: int = 2
    augment_rotation: float = 0.0
    augment_scale: float = 0.0
    seed: int = 0
    device: str = "auto"
    eval_every: int = 1
    betas: tuple[float, float] = (0.9, 0.999)

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_every"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if isinstance(self.augment_shift, bool) or not isinstance(self.augment_shift, int) or self.augment_shift < 0:
            raise ValueError(f"augment_shift must be an integer >= 0, got {self.augment_shift!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")
        for name in ("lr", "weight_decay", "warmup_epochs", "min_lr", "grad_clip"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        if not 0.0 <= self.augment_rotation <= 180.0:
            raise ValueError(f"augment_rotation must be in [0, 180] degrees, got {self.augment_rotation!r}")
        if not 0.0 <= self.augment_scale < 1.0:
            raise ValueError(f"augment_scale must be in [0, 1), got {self.augment_scale!r}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        if self.min_lr > self.lr:
            raise ValueError(f"min_lr must be <= lr, got min_lr={self.min_lr!r} and lr={self.lr!r}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing!r}")
        if not (isinstance(self.device, str) and (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:"))):
            raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {self.device!r}")
        self.betas = tuple(self.betas)  # JSON round trips give lists
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {self.betas!r}")

    def to_dict(self) -> dict:
        """The config as a plain dict (for JSON)."""
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Build a config from :meth:`to_dict`'s output; unknown keys raise."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig fields {unknown}; expected some of {sorted(known)}")
        return cls(**d)


# ----------------------------------------------------------------------------- helpers


def _dist() -> tuple[int, int]:
    """(rank, world size); (0, 1) when torch.distributed is not initialised."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def _resolve_device(device: str) -> torch.device:
    if device == "auto":
        if torch.cuda.is_available():
            rank, world = _dist()
            local = int(os.environ.get("LOCAL_RANK", 0)) if world > 1 else 0
            return torch.device("cuda", local)
        return torch.device("cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for, but CUDA is not available; use 'cpu' or 'auto'")
    return torch.device(device)


def _check_model(model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _check_split(split: object, name: str = "split") -> Split:
    if not isinstance(split, Split):
        raise ValueError(f"{name} must be a vit_tutorial.data.Split, got {type(split).__name__}")
    return split


def _check_batch_size(batch_size: object) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return batch_size


def _param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Weight decay on weight matrices and conv kernels only: not on biases,
    norm scales, the class token or the position table."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim < 2 or "cls_token" in name or "pos_embed" in name:
            no_decay.append(p)
        else:
            decay.append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def _lr_factor(step: int, warmup_steps: int, total_steps: int, min_ratio: float) -> float:
    """Linear warm-up to 1, then cosine decay to ``min_ratio`` (per step)."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    progress = min(1.0, progress)
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def _augment(images: torch.Tensor, config: TrainConfig, generator: torch.Generator) -> torch.Tensor:
    """The training images of one epoch, augmented as the config says."""
    if config.augment_rotation or config.augment_scale:
        return random_affine(images, float(config.augment_shift), config.augment_rotation, config.augment_scale, generator)
    if config.augment_shift:
        return random_shift(images, config.augment_shift, generator)
    return images


_SEED_STRIDE = 1_000_003  # epoch e of seed s draws from seed s * _SEED_STRIDE + e


def _augmentation_generator(seed: int, epoch: int, n: int) -> torch.Generator:
    """The CPU generator for the augmentation of epoch ``epoch`` (1-based).

    Each epoch has one random stream, seeded with ``seed * _SEED_STRIDE +
    epoch``: first the shuffle of the ``n`` images (which
    ``DistributedSampler`` draws from the same seed, identically on every
    rank), then the augmentation, drawn here after skipping the shuffle. So
    every rank augments alike, and a resumed run sees the same images as an
    uninterrupted one.
    """
    g = torch.Generator().manual_seed(seed * _SEED_STRIDE + epoch)
    torch.randperm(n, generator=g)  # the shuffle's share of the stream
    return g


def _sampler(n: int, seed: int, rank: int, world: int) -> "torch.utils.data.DistributedSampler":
    """PyTorch's ``DistributedSampler`` over ``n`` training images.

    After ``set_epoch(e)`` it shuffles with ``randperm(n)`` seeded with
    ``seed * _SEED_STRIDE + e``, the same on every rank, and gives rank ``r``
    the indices at positions ``r, r + world, r + 2 world, ...`` (padding the
    end with repeats when ``n`` is not a multiple of ``world``). Cut into
    local batches of ``batch_size / world``, the k-th local batches of all
    ranks together are exactly images ``k*batch_size .. (k+1)*batch_size - 1``
    of the permutation: the global batch a single process would take.
    """
    from torch.utils.data import DistributedSampler

    return DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=True, seed=seed * _SEED_STRIDE)


def _rank_batches(sampler, epoch: int, local_batch: int, world: int) -> list[tuple[torch.Tensor, int]]:
    """This rank's batches of ``epoch``: pairs (its indices, size of the global batch)."""
    sampler.set_epoch(epoch)
    mine = torch.tensor(list(sampler), dtype=torch.int64)  # (len(sampler),) this rank's shuffled share
    total = len(sampler) * world  # images in the epoch over all ranks
    global_batch = local_batch * world
    return [(idx, min(global_batch, total - k * global_batch)) for k, idx in enumerate(mine.split(local_batch))]


@torch.no_grad()
def _sums(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int) -> torch.Tensor:
    """[sum of cross-entropy, number correct, count] over ``images``, float64."""
    totals = torch.zeros(3, dtype=torch.float64, device=images.device)
    for start in range(0, images.shape[0], batch_size):
        x = images[start : start + batch_size]  # (b, C, H, W)
        y = labels[start : start + batch_size]  # (b,)
        logits = model(x)  # (b, classes)
        totals[0] += F.cross_entropy(logits.float(), y, reduction="sum").double()
        totals[1] += (logits.argmax(dim=1) == y).sum()
        totals[2] += y.shape[0]
    return totals


def _model_device(model: nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


# ----------------------------------------------------------------------------- evaluation


def evaluate(model: nn.Module, split: Split, batch_size: int = 500) -> dict:
    """Mean cross-entropy (no label smoothing) and accuracy of ``model`` on ``split``.

    The model is put in eval mode for the call and then back in the mode it
    had. Runs on the model's device.

    Args:
        model: maps images (B, C, H, W) to logits (B, classes).
        split: the images (n, C, H, W) and labels (n,).
        batch_size: images per forward pass.

    Returns:
        ``{"loss": float, "accuracy": float}``.
    """
    _check_model(model)
    _check_split(split)
    _check_batch_size(batch_size)
    if len(split) == 0:
        raise ValueError("split must hold at least one image, got an empty split")
    device = _model_device(model)
    was_training = model.training
    model.eval()
    try:
        totals = _sums(model, split.images.to(device), split.labels.to(device), batch_size)
    finally:
        model.train(was_training)
    loss, correct, count = totals.tolist()
    return {"loss": loss / count, "accuracy": correct / count}


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Logits of ``model`` for ``images`` (n, C, H, W), in eval mode.

    Returns:
        A CPU tensor of shape (n, classes).
    """
    _check_model(model)
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        raise ValueError(
            f"images must be a tensor of shape (n, C, H, W), got {getattr(images, 'shape', type(images).__name__)}"
        )
    _check_batch_size(batch_size)
    device = _model_device(model)
    was_training = model.training
    model.eval()
    try:
        out = [model(images[s : s + batch_size].to(device)).float().cpu() for s in range(0, images.shape[0], batch_size)]
    finally:
        model.train(was_training)
    if not out:
        raise ValueError("images must hold at least one image, got 0")
    return torch.cat(out)  # (n, classes)


def confusion_matrix(labels: torch.Tensor, predictions: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Count how often each true class was predicted as each class.

    Args:
        labels: (n,) true classes in 0..K-1.
        predictions: (n,) predicted classes in 0..K-1.
        num_classes: K.

    Returns:
        An int64 tensor (K, K): row = true class, column = predicted class.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes <= 0:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    for name, t in (("labels", labels), ("predictions", predictions)):
        if not isinstance(t, torch.Tensor) or t.dim() != 1:
            got = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
            raise ValueError(f"{name} must be a 1-D tensor of class indices (n,), got {got}")
        if t.numel() and (t.min() < 0 or t.max() >= num_classes):
            raise ValueError(f"{name} must lie in 0..{num_classes - 1}, got values from {t.min().item()} to {t.max().item()}")
    if labels.shape != predictions.shape:
        raise ValueError(f"labels and predictions must have the same length, got {labels.shape[0]} and {predictions.shape[0]}")
    K = num_classes
    flat = labels.long().cpu() * K + predictions.long().cpu()  # (n,) cell index row * K + column
    return torch.bincount(flat, minlength=K * K).reshape(K, K)  # (K, K)


def learning_rate_schedule(config: TrainConfig, steps_per_epoch: int) -> list[float]:
    """The learning rate :func:`fit` uses at each of its steps.

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
    if isinstance(steps_per_epoch, bool) or not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
        raise ValueError(f"steps_per_epoch must be a positive integer, got {steps_per_epoch!r}")
    total = config.epochs * steps_per_epoch
    warmup = _warmup_steps(config, steps_per_epoch)
    return [config.lr * _lr_factor(s, warmup, total, config.min_lr / config.lr) for s in range(total)]


def _warmup_steps(config: TrainConfig, steps_per_epoch: int) -> int:
    return max(1, round(config.warmup_epochs * steps_per_epoch)) if config.warmup_epochs > 0 else 0


def init_position_embedding(model: ViT, std: float) -> ViT:
    """Re-draw a ViT's learned position table from a truncated normal (in place).

    ViT starts its position table with std 0.02 (as the paper and timm do).
    With hundreds of millions of images that hardly matters; with 4,000 the
    table needs several epochs just to grow large enough, compared with the
    patch embeddings, to tell the patches apart, and the model learns little
    meanwhile. Starting it larger (e.g. std 0.5) skips that phase.

    Args:
        model: a :class:`~vit_tutorial.model.ViT` with ``pos_embedding="learned"``.
        std: the standard deviation; values are truncated at +-2 std.

    Returns:
        The same model.
    """
    from .position import LearnedPositionEmbedding, trunc_normal_init

    model = getattr(model, "module", model)
    if not isinstance(model, ViT):
        raise ValueError(f"model must be a vit_tutorial ViT, got {type(model).__name__}")
    if not isinstance(model.pos_embed, LearnedPositionEmbedding):
        raise ValueError(
            f"only a learned position table can be re-initialised; this model has "
            f"pos_embedding={model.config.pos_embedding!r}"
        )
    if isinstance(std, bool) or not isinstance(std, (int, float)) or not math.isfinite(std) or std <= 0:
        raise ValueError(f"std must be a positive number, got {std!r}")
    with torch.no_grad():
        trunc_normal_init(model.pos_embed.weight, std=float(std))
    return model


# ----------------------------------------------------------------------------- training


def fit(
    model: nn.Module,
    data: DataSplits,
    config: TrainConfig,
    progress: bool = True,
    callback: Callable[[dict], None] | None = None,
    state_dir: str | Path | None = None,
    resume: bool = False,
) -> list[dict]:
    """Train ``model`` on ``data.train`` and evaluate on ``data.test``.

    Works for any module mapping images (B, C, H, W) to logits (B, classes):
    the ViT, the CNN baseline, your own variants. The model is moved to the
    config's device and left there, in eval mode.

    Args:
        model: the classifier to train (its weights are updated in place).
        data: the dataset with its train and test splits.
        config: a :class:`TrainConfig`.
        progress: show a ``tqdm.auto`` progress bar (on rank 0 only).
        callback: called as ``callback(record)`` after every epoch (on every
            rank), e.g. to plot live.
        state_dir: if given, rank 0 writes ``train_state.pt`` there after
            every epoch (model, optimizer, step, history, RNG state); with
            several processes, give every rank the same (shared) directory.
        resume: continue from ``state_dir``'s ``train_state.pt``: the model
            and optimizer are restored and training goes on from the epoch
            after the last finished one up to ``config.epochs``. If
            ``config.epochs`` changed, the cosine schedule is recomputed for
            the new length from the current step.

    Returns:
        One dict per epoch (resumed epochs included): ``epoch``,
        ``train_loss`` (cross-entropy on the augmented training batches,
        without label smoothing), ``train_objective`` (the loss that was
        minimised, with label smoothing), ``train_accuracy``, ``test_loss``,
        ``test_accuracy`` (``None`` where not evaluated), ``lr`` (at the
        epoch's last step), ``seconds`` (wall time of the epoch, evaluation
        included).
    """
    from tqdm.auto import tqdm

    _check_model(model)
    if not isinstance(data, DataSplits):
        raise ValueError(f"data must be a vit_tutorial.data.DataSplits, got {type(data).__name__}")
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig, got {type(config).__name__}")
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable or None, got {type(callback).__name__}")
    if resume and state_dir is None:
        raise ValueError("resume=True needs a state_dir holding train_state.pt, got state_dir=None")
    state_path = Path(state_dir) / STATE_FILE if state_dir is not None else None
    if resume and not state_path.is_file():
        raise ValueError(f"cannot resume: no training state at {state_path}; run without resume first")

    rank, world = _dist()
    if config.batch_size % world:
        raise ValueError(
            f"batch_size is the global batch and must be a multiple of the number of processes {world}, "
            f"got {config.batch_size}"
        )
    device = _resolve_device(config.device)
    torch.manual_seed(config.seed)
    model.to(device)
    train_x, train_y = data.train.images.to(device), data.train.labels.to(device)
    test_x, test_y = data.test.images.to(device), data.test.labels.to(device)
    n = train_x.shape[0]
    if n < world:
        raise ValueError(f"the training split has {n} images, fewer than the {world} processes")
    sampler = _sampler(n, config.seed, rank, world)
    local_batch = config.batch_size // world
    steps_per_epoch = math.ceil(len(sampler) / local_batch)
    total_steps = steps_per_epoch * config.epochs
    warmup_steps = _warmup_steps(config, steps_per_epoch)
    min_ratio = config.min_lr / config.lr
    optimizer = torch.optim.AdamW(_param_groups(model, config.weight_decay), lr=config.lr, betas=config.betas)

    history: list[dict] = []
    start_epoch, step = 1, 0
    if resume:  # every rank loads the state (the optimizer's moments live on each rank)
        state = torch.load(state_path, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        history = list(state["history"])
        start_epoch, step = state["epoch"] + 1, state["step"]
        torch.set_rng_state(state["rng_cpu"].cpu())
        if device.type == "cuda" and state.get("rng_cuda") is not None:
            torch.cuda.set_rng_state(state["rng_cuda"].cpu(), device)
        for group in optimizer.param_groups:
            group["initial_lr"] = config.lr
    # Per-step schedule, continued from `step` when resuming (recomputed if epochs changed).
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: _lr_factor(s, warmup_steps, total_steps, min_ratio), last_epoch=step - 1
    )
    net: nn.Module = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    bar = tqdm(
        total=total_steps, initial=min(step, total_steps), desc="training", unit="step",
        disable=not progress or rank != 0, mininterval=0.5, leave=True,
    )
    try:
        for epoch in range(start_epoch, config.epochs + 1):
            t0 = time.perf_counter()
            net.train()
            batches = _rank_batches(sampler, epoch, local_batch, world)  # DistributedSampler.set_epoch inside
            x_epoch = _augment(train_x, config, _augmentation_generator(config.seed, epoch, n))
            sums = torch.zeros(4, dtype=torch.float64, device=device)  # objective, CE, correct, count
            for local, global_size in batches:
                local = local.to(device)
                x, y = x_epoch[local], train_y[local]  # (b, C, H, W), (b,)
                logits = net(x)  # (b, classes)
                objective = F.cross_entropy(logits, y, reduction="sum", label_smoothing=config.label_smoothing)
                # DDP averages gradients over the ranks: scale so that the result is the
                # mean over the GLOBAL batch.
                loss = objective * (world / global_size)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if config.grad_clip > 0:
                    nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                lr_used = optimizer.param_groups[0]["lr"]
                optimizer.step()
                scheduler.step()
                step += 1
                with torch.no_grad():
                    ce = F.cross_entropy(logits, y, reduction="sum") if config.label_smoothing else objective
                    sums += torch.stack([
                        objective.detach().double(), ce.detach().double(),
                        (logits.argmax(dim=1) == y).sum().double(), torch.tensor(float(y.shape[0]), device=device, dtype=torch.float64),
                    ])
                bar.update(1)
            record = {"epoch": epoch}
            do_eval = epoch % config.eval_every == 0 or epoch == config.epochs
            net.eval()
            if do_eval:
                test = _sums(model, test_x[rank::world], test_y[rank::world], 500)
            else:
                test = torch.zeros(3, dtype=torch.float64, device=device)
            if world > 1:
                both = torch.cat([sums, test])
                torch.distributed.all_reduce(both)
                sums, test = both[:4], both[4:]
            objective_sum, ce_sum, correct, count = sums.tolist()
            record.update(
                train_loss=ce_sum / count,
                train_objective=objective_sum / count,
                train_accuracy=correct / count,
                test_loss=test[0].item() / test[2].item() if do_eval else None,
                test_accuracy=test[1].item() / test[2].item() if do_eval else None,
                lr=lr_used,
                seconds=time.perf_counter() - t0,
            )
            history.append(record)
            if rank == 0:
                acc = record["test_accuracy"]
                bar.set_postfix_str(
                    f"epoch {epoch}: loss {record['train_loss']:.3f}"
                    + (f", test acc {acc:.3f}" if acc is not None else ""),
                    refresh=False,
                )
                if state_path is not None:
                    _save_state(state_path, model, optimizer, epoch, step, history, config, device)
            if callback is not None:
                callback(record)
    finally:
        bar.close()
        model.eval()
    return history


def _save_state(path: Path, model, optimizer, epoch, step, history, config, device) -> None:
    """Write the resumable state atomically (a crash mid-write keeps the old one)."""
    state = {
        "epoch": epoch,
        "step": step,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "history": history,
        "train_config": config.to_dict(),
        "rng_cpu": torch.get_rng_state(),
        "rng_cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- checkpoints


def save_checkpoint(model: ViT, out_dir: str | Path, metrics: dict | None = None) -> Path:
    """Save a ViT as ``model.safetensors`` and ``config.json`` (+ ``metrics.json``).

    Args:
        model: a :class:`~vit_tutorial.model.ViT` (a DDP wrapper is unwrapped).
        out_dir: the directory to write (created if needed).
        metrics: optional JSON-serialisable dict written as ``metrics.json``.

    Returns:
        The directory, as a ``Path``.
    """
    from safetensors.torch import save_file

    model = getattr(model, "module", model)
    if not isinstance(model, ViT):
        raise ValueError(f"model must be a vit_tutorial ViT, got {type(model).__name__}")
    if not isinstance(out_dir, (str, Path)):
        raise ValueError(f"out_dir must be a path (str or Path), got {type(out_dir).__name__}")
    if metrics is not None and not isinstance(metrics, dict):
        raise ValueError(f"metrics must be a dict or None, got {type(metrics).__name__}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out_dir must be a directory, got the existing file {out}")
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})  # one key: byte-for-byte reproducible
    (out / "config.json").write_text(json.dumps(model.config.to_dict(), indent=2) + "\n")
    if metrics is not None:
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return out


def load_checkpoint(path: str | Path = BUNDLED_CHECKPOINT) -> ViT:
    """Load a ViT saved by :func:`save_checkpoint`, in eval mode on the CPU.

    Args:
        path: the checkpoint directory (or its ``model.safetensors``);
            defaults to :data:`BUNDLED_CHECKPOINT`.
    """
    from safetensors.torch import load_file

    if not isinstance(path, (str, Path)):
        raise ValueError(f"path must be a checkpoint directory (str or Path), got {type(path).__name__}")
    path = Path(path)
    folder = path.parent if path.suffix == ".safetensors" else path
    weights, config_file = folder / "model.safetensors", folder / "config.json"
    for f in (weights, config_file):
        if not f.is_file():
            raise ValueError(
                f"expected a checkpoint directory with model.safetensors and config.json, "
                f"but {f} does not exist"
            )
    model = ViT(ViTConfig.from_dict(json.loads(config_file.read_text())))
    model.load_state_dict(load_file(str(weights)))
    return model.eval()


# ----------------------------------------------------------------------------- CLI


def _parse_set(items: list[str], parser: argparse.ArgumentParser) -> dict:
    """``--set dim=96 --set pool=mean`` -> {"dim": 96, "pool": "mean"}."""
    fields = {f.name: f for f in dataclasses.fields(ViTConfig)}
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in fields:
            parser.error(f"--set expects FIELD=VALUE with FIELD one of {', '.join(fields)}; got {item!r}")
        default = getattr(ViTConfig(), key)
        try:
            if isinstance(default, bool):
                if value.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(value)
                out[key] = value.lower() in ("true", "1")
            else:
                out[key] = type(default)(value)
        except ValueError:
            parser.error(f"--set {key}: expected a {type(default).__name__}, got {value!r}")
    return out


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show defaults, except for required options and switches."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.required or isinstance(action.default, bool) or action.default == []:
            return action.help or ""
        return super()._get_help_string(action)


def _build_parser() -> argparse.ArgumentParser:
    d = TrainConfig()
    p = argparse.ArgumentParser(
        prog="python -m vit_tutorial.train",
        description="Train a ViT preset on a bundled dataset; writes model.safetensors, config.json, "
        "metrics.json and a resumable train_state.pt to --out. Works the same under "
        "torchrun --nproc_per_node=N (gloo on CPU, nccl on CUDA).",
        formatter_class=_HelpFormatter,
    )
    p.add_argument("--dataset", required=True, help=f"one of: {', '.join(DATASETS)}")
    p.add_argument("--out", required=True, type=Path, help="output directory")
    p.add_argument("--preset", default="ViT-Tiny", help=f"model preset, one of: {', '.join(PRESETS)}")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="override a ViTConfig field, e.g. --set patch_size=7 (repeatable)")
    p.add_argument("--epochs", type=int, default=d.epochs, help="passes over the training split")
    p.add_argument("--batch-size", type=int, default=d.batch_size,
                   help="GLOBAL batch size: summed over all processes under torchrun")
    p.add_argument("--lr", type=float, default=d.lr, help="peak learning rate")
    p.add_argument("--min-lr", type=float, default=d.min_lr, help="learning rate at the end of the cosine")
    p.add_argument("--weight-decay", type=float, default=d.weight_decay, help="AdamW's decoupled weight decay")
    p.add_argument("--warmup-epochs", type=float, default=d.warmup_epochs, help="epochs of linear warm-up")
    p.add_argument("--label-smoothing", type=float, default=d.label_smoothing, help="label smoothing epsilon")
    p.add_argument("--grad-clip", type=float, default=d.grad_clip, help="0 turns clipping off")
    p.add_argument("--augment-shift", type=int, default=d.augment_shift, help="max random shift in pixels (0 = off)")
    p.add_argument("--augment-rotation", type=float, default=d.augment_rotation, help="max random rotation in degrees (0 = off)")
    p.add_argument("--augment-scale", type=float, default=d.augment_scale, help="max random relative rescaling (0 = off)")
    p.add_argument("--eval-every", type=int, default=d.eval_every, help="evaluate every N epochs (and after the last)")
    p.add_argument("--pos-init-std", type=float, default=None,
                   help="start the learned position table with this std (None: ViT's 0.02; "
                   "0.5 skips a slow first phase on small data sets)")
    p.add_argument("--seed", type=int, default=d.seed, help="seed of the weights, batch order and augmentation")
    p.add_argument("--device", default=d.device, help="auto (CUDA if available), cpu, cuda or cuda:N")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads per process (None: torch's choice; 1 is best on a busy machine)")
    p.add_argument("--train-fraction", type=float, default=1.0,
                   help="train on a stratified share of the training split")
    p.add_argument("--resume", action="store_true", help="continue from --out/train_state.pt")
    p.add_argument("--drop-state", action="store_true",
                   help="delete train_state.pt after the last epoch (keeps only the checkpoint)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m vit_tutorial.train``; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.dataset not in DATASETS:
        parser.error(f"unknown dataset {args.dataset!r}; known datasets: {', '.join(DATASETS)}")
    if args.preset not in PRESETS:
        parser.error(f"unknown preset {args.preset!r}; known presets: {', '.join(PRESETS)}")
    if args.threads is not None and args.threads <= 0:
        parser.error(f"--threads must be a positive integer, got {args.threads}")
    if not 0.0 < args.train_fraction <= 1.0:
        parser.error(f"--train-fraction must be in (0, 1], got {args.train_fraction}")
    out: Path = args.out
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out} exists and is not a directory")
    state_path = out / STATE_FILE
    if args.resume and not state_path.is_file():
        parser.error(f"--resume: no training state {state_path}; run once without --resume first")
    if not args.resume and (state_path.is_file() or (out / "metrics.json").is_file()):
        parser.error(f"--out {out} already holds a training run; pass --resume to continue it or choose another directory")
    try:
        train_config = TrainConfig(
            epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, min_lr=args.min_lr,
            weight_decay=args.weight_decay, warmup_epochs=args.warmup_epochs,
            label_smoothing=args.label_smoothing, grad_clip=args.grad_clip, augment_shift=args.augment_shift,
            augment_rotation=args.augment_rotation, augment_scale=args.augment_scale,
            seed=args.seed, device=args.device, eval_every=args.eval_every,
        )
    except ValueError as exc:
        parser.error(str(exc))

    data = load_dataset(args.dataset)
    if args.train_fraction < 1.0:
        data = data.subset(args.train_fraction, seed=args.seed)
    C, H, W = data.image_shape
    try:
        model_config = vit_config(
            args.preset,
            **{"image_size": H, "in_channels": C, "num_classes": data.num_classes, **_parse_set(args.set, parser)},
        )
    except ValueError as exc:
        parser.error(f"model config for {args.dataset} ({C}x{H}x{W}): {exc}")
    if args.pos_init_std is not None:
        if not math.isfinite(args.pos_init_std) or args.pos_init_std <= 0:
            parser.error(f"--pos-init-std must be a positive number, got {args.pos_init_std}")
        if model_config.pos_embedding != "learned":
            parser.error(f"--pos-init-std needs a learned position table, got pos_embedding={model_config.pos_embedding!r}")
    if args.resume:
        saved = torch.load(state_path, map_location="cpu", weights_only=True)
        saved_model = json.loads((out / "config.json").read_text()) if (out / "config.json").is_file() else None
        if saved_model is not None and saved_model != model_config.to_dict():
            parser.error(f"--resume: the model config differs from the saved run's {out / 'config.json'}")
        if saved["epoch"] >= train_config.epochs:
            parser.error(f"--resume: the saved run already finished {saved['epoch']} epochs; pass --epochs > {saved['epoch']}")

    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write_test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        parser.error(f"--out {out} is not writable: {exc}")

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        use_cuda = train_config.device.startswith("cuda") or (train_config.device == "auto" and torch.cuda.is_available())
        if use_cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        torch.distributed.init_process_group(backend="nccl" if use_cuda else "gloo")
    rank, world = _dist()
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    torch.manual_seed(args.seed)
    model = ViT(model_config)
    if args.pos_init_std is not None and not args.resume:  # a resumed run loads its weights
        init_position_embedding(model, args.pos_init_std)
    if rank == 0:
        (out / "config.json").write_text(json.dumps(model_config.to_dict(), indent=2) + "\n")
        print(
            f"{args.preset} on {args.dataset}: {count_parameters(model):,} parameters, "
            f"{len(data.train)} training / {len(data.test)} test images, {world} process(es), "
            f"global batch {train_config.batch_size}",
            flush=True,
        )
    try:
        def log(record: dict) -> None:  # one line per epoch when there is no bar
            if rank == 0 and args.no_progress:
                acc = record["test_accuracy"]
                print(
                    f"epoch {record['epoch']:3d}  train loss {record['train_loss']:.4f}  "
                    f"train acc {record['train_accuracy']:.4f}  "
                    + (f"test acc {acc:.4f}  " if acc is not None else "")
                    + f"{record['seconds']:.1f} s",
                    flush=True,
                )

        history = fit(
            model, data, train_config, progress=not args.no_progress, callback=log, state_dir=out,
            resume=args.resume,
        )
        final = history[-1]
        metrics = {
            "dataset": args.dataset,
            "preset": args.preset,
            "model_config": model_config.to_dict(),
            "train_config": train_config.to_dict(),
            "train_fraction": args.train_fraction,
            "pos_init_std": args.pos_init_std,
            "parameters": count_parameters(model),
            "epochs": final["epoch"],
            "test_accuracy": final["test_accuracy"],
            "test_loss": final["test_loss"],
            "train_loss": final["train_loss"],
            "train_seconds": sum(r["seconds"] for r in history),
            "world_size": world,
            "threads_per_process": torch.get_num_threads(),
            "device": str(_model_device(model)),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "history": history,
        }
        if rank == 0:
            save_checkpoint(model, out, metrics)
            if args.drop_state and state_path.is_file():
                state_path.unlink()
            print(
                f"epoch {final['epoch']}: test accuracy {final['test_accuracy']:.4f}, "
                f"{metrics['train_seconds']:.1f} s of training; wrote {out}",
                flush=True,
            )
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
