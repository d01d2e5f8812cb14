"""The training loop: :func:`train_one_epoch` is the step; :func:`fit` puts a run around it.

:func:`train_one_epoch` is the part chapter 9 shows on the page: for every
batch, the forward pass, the loss, ``zero_grad``, ``backward``, gradient
clipping, the optimizer's step and the schedule's step (the same order as
nanoGPT's ``train.py`` and d2l's ``fit_epoch``).

:func:`fit` composes it with everything a real run needs, each from its own
module: the recipe (:mod:`.recipe`), AdamW's parameter groups (:mod:`.optim`),
the warm-up-cosine schedule (:mod:`.schedule`), the augmentation
(:mod:`.augment`), several processes (:mod:`.distributed`), evaluation
(:mod:`.evaluate`) and the resumable state (:mod:`.checkpoint`).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from ..data import DataSplits, Split
from .augment import augment, augmentation_generator
from .checkpoint import STATE_FILE, load_state, save_state
from .distributed import all_reduce_sum, rank_and_world, rank_batches, resolve_device, sampler, wrap_ddp
from .evaluate import check_model, metric_sums, model_device
from .optim import make_optimizer
from .recipe import TrainConfig
from .schedule import make_scheduler

__all__ = ["train_one_epoch", "fit", "check_fit_data", "TrainingDiverged"]


class TrainingDiverged(RuntimeError):
    """Raised by :func:`fit` when the training loss or a weight becomes NaN/inf.

    The epoch is not recorded and no state is saved for it: ``train_state.pt``
    (if any) still holds the last finite epoch. Lower the learning rate, keep
    gradient clipping on, or check the data for NaN.
    """


def train_one_epoch(
    model: nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor, int]],
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    config: TrainConfig,
    world: int = 1,
    on_step: Callable[[], None] | None = None,
) -> tuple[torch.Tensor, float]:
    """Train ``model`` for one pass over ``batches``: one optimisation step per batch.

    Args:
        model: maps images (b, C, H, W) to logits (b, classes); put in train mode.
        batches: ``(images, labels, n_global)`` triples; ``n_global`` is the
            size of the global batch (= ``len(labels)`` on one process).
        optimizer: e.g. :func:`~vit_tutorial.training.make_optimizer`'s AdamW.
        scheduler: stepped after every optimizer step (the schedule is per step).
        config: supplies ``label_smoothing`` and ``grad_clip``.
        world: the number of processes (1 without torchrun).
        on_step: called after every step (e.g. to move a progress bar).

    Returns:
        ``(sums, lr)``: float64 sums over the epoch's images of [the objective
        (label-smoothed cross-entropy), the plain cross-entropy, the number
        correct, the number of images]; and the learning rate of the last step.
    """
    check_model(model)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    model.train()
    sums = torch.zeros(4, dtype=torch.float64, device=model_device(model))
    lr = optimizer.param_groups[0]["lr"]
    for images, labels, n_global in batches:
        logits = model(images)  # (b, classes)
        objective = F.cross_entropy(logits, labels, reduction="sum", label_smoothing=config.label_smoothing)
        # The mean over the GLOBAL batch: DDP averages the gradients of the `world` processes.
        loss = objective * (world / n_global)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        lr = optimizer.param_groups[0]["lr"]
        optimizer.step()
        scheduler.step()  # the next step's learning rate
        sums += _batch_sums(logits, labels, objective, config.label_smoothing)
        if on_step is not None:
            on_step()
    return sums, lr


@torch.no_grad()
def _batch_sums(logits: torch.Tensor, labels: torch.Tensor, objective: torch.Tensor, smoothing: float) -> torch.Tensor:
    """[objective, cross-entropy, correct, count] of one batch, float64."""
    ce = F.cross_entropy(logits, labels, reduction="sum") if smoothing else objective
    count = torch.tensor(float(labels.shape[0]), device=logits.device, dtype=torch.float64)
    return torch.stack([objective.detach().double(), ce.detach().double(), (logits.argmax(dim=1) == labels).sum().double(), count])


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
    config's device and left there, in eval mode. Under ``torchrun`` the model
    is wrapped in ``DistributedDataParallel`` and every rank takes its share
    of each global batch (:mod:`vit_tutorial.training.distributed`).

    Args:
        model: the classifier to train (its weights are updated in place).
        data: the dataset with its train and test splits.
        config: a :class:`~vit_tutorial.training.TrainConfig`.
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
        included). When ``data.val`` is a split (``load_splits``), every
        record also has ``val_loss`` and ``val_accuracy`` (scored like the
        test split used to be, every ``eval_every`` epochs), and the test
        split is scored only once, after the last epoch: choose epochs and
        settings on ``val_*``, report ``test_*`` of the final model.
    """
    state_path = _check_fit_args(model, data, config, callback, state_dir, resume)
    run = _Run.start(model, data, config, state_path, resume)
    bar = run.progress_bar(progress)
    try:
        for epoch in range(run.start_epoch, config.epochs + 1):
            record = run.train_epoch(epoch, bar)
            if callback is not None:
                callback(record)
    finally:
        bar.close()
        model.eval()
    return run.history


@dataclass
class _Run:
    """What :func:`fit` carries from epoch to epoch: the data on the device, the shards, the optimizer."""

    model: nn.Module
    net: nn.Module  # the model, wrapped in DistributedDataParallel under torchrun
    config: TrainConfig
    device: torch.device
    rank: int
    world: int
    train: tuple[torch.Tensor, torch.Tensor]
    test: tuple[torch.Tensor, torch.Tensor]
    val: Split | None
    shards: torch.Tensor
    local_batch: int
    steps_per_epoch: int
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    state_path: Path | None
    history: list[dict]
    start_epoch: int
    step: int

    @classmethod
    def start(cls, model: nn.Module, data: DataSplits, config: TrainConfig, state_path: Path | None,
              resume: bool) -> "_Run":
        """Seed, move model and data to the device, shard, build the optimizer (restored on ``resume``)."""
        rank, world = rank_and_world()
        device = resolve_device(config.device)
        torch.manual_seed(config.seed)
        model.to(device)
        train_x, train_y = data.train.images.to(device), data.train.labels.to(device)
        test_x, test_y = data.test.images.to(device), data.test.labels.to(device)
        # With a validation split (load_splits / validation=True), it is scored every
        # eval epoch and the test split only once, after the last epoch.
        val = data.val.to(device) if data.val is not None else None
        n = train_x.shape[0]
        if n < world:
            raise ValueError(f"the training split has {n} images, fewer than the {world} processes")
        shards, local_batch = sampler(n, config.seed, rank, world), config.batch_size // world
        steps_per_epoch = math.ceil(len(shards) / local_batch)
        optimizer = make_optimizer(model, config)
        history, start_epoch, step = [], 1, 0
        if resume:  # every rank loads the state (the optimizer's moments live on each rank)
            history, start_epoch, step = load_state(state_path, model, optimizer, device)
        scheduler = make_scheduler(optimizer, config, steps_per_epoch, step)
        net = wrap_ddp(model, device)
        return cls(model, net, config, device, rank, world, (train_x, train_y), (test_x, test_y), val, shards,
                   local_batch, steps_per_epoch, optimizer, scheduler, state_path, history, start_epoch, step)

    def progress_bar(self, progress: bool):
        """A ``tqdm.auto`` bar over all the run's steps, shown on rank 0 only."""
        from tqdm.auto import tqdm

        total = self.steps_per_epoch * self.config.epochs
        return tqdm(total=total, initial=min(self.step, total), desc="training", unit="step",
                    disable=not progress or self.rank != 0, mininterval=0.5, leave=True)

    def train_epoch(self, epoch: int, bar) -> dict:
        """Train one epoch, score it, record it (and on rank 0 report it and save the state)."""
        t0 = time.perf_counter()
        train_x, train_y = self.train
        batches = rank_batches(self.shards, epoch, self.local_batch, self.world)  # DistributedSampler.set_epoch inside
        x_epoch = augment(train_x, self.config, augmentation_generator(self.config.seed, epoch, train_x.shape[0]))
        on_device = ((x_epoch[i], train_y[i], size) for i, size in ((i.to(self.device), s) for i, s in batches))
        sums, lr = train_one_epoch(self.net, on_device, self.optimizer, self.scheduler, self.config, self.world,
                                   lambda: bar.update(1))
        self.step += len(batches)
        _check_finite(self.model, sums, epoch, lr)
        self.net.eval()
        record = self._score(epoch, sums, lr, t0)
        self.history.append(record)
        if self.rank == 0:
            _report(bar, record)
            if self.state_path is not None:
                save_state(self.state_path, self.model, self.optimizer, epoch, self.step, self.history,
                           self.config, self.device)
        return record

    def _score(self, epoch: int, sums: torch.Tensor, lr: float, t0: float) -> dict:
        """The epoch's record: training sums and test (and validation) metrics summed over all ranks."""
        config, val = self.config, self.val
        do_eval = epoch % config.eval_every == 0 or epoch == config.epochs
        do_test = do_eval if val is None else epoch == config.epochs
        sums, test = all_reduce_sum(sums, _test_sums(self.model, *self.test, do_test))  # over all ranks
        if val is not None:
            (val_sums,) = all_reduce_sum(_test_sums(self.model, val.images, val.labels, do_eval))
        record = _epoch_record(epoch, sums, test, do_test, lr, time.perf_counter() - t0)
        if val is not None:
            record["val_loss"] = val_sums[0].item() / val_sums[2].item() if do_eval else None
            record["val_accuracy"] = val_sums[1].item() / val_sums[2].item() if do_eval else None
        return record


def _check_finite(model: nn.Module, sums: torch.Tensor, epoch: int, lr: float) -> None:
    """Raise :class:`TrainingDiverged` if the epoch's loss or any weight is not finite."""
    loss_ok = bool(torch.isfinite(sums).all())
    bad = [name for name, p in model.named_parameters() if not bool(torch.isfinite(p.detach()).all())]
    if not loss_ok or bad:
        what = "the training loss is not finite" if not loss_ok else "the loss is finite"
        raise TrainingDiverged(
            f"training diverged in epoch {epoch}: {what} and {len(bad)} weight tensor(s) hold NaN/inf "
            f"(last lr {lr:.3g}); the epoch was not saved. Lower the learning rate, keep grad_clip > 0, "
            f"or check the images for NaN"
        )


def check_fit_data(model: nn.Module, data: DataSplits) -> None:
    """Raise ``ValueError`` unless ``model`` can be trained on ``data`` (before any work is done).

    Checks: the train and test splits (and ``val`` when given) are non-empty
    and hold images of one shape; every label is a class index below
    ``data.num_classes``; and the model maps one training image to logits of
    shape (1, ``data.num_classes``) (which also catches a wrong image size or
    channel count). The model's forward runs once in eval mode, without
    gradients, so no weight and no random stream changes.
    """
    check_model(model)
    if not isinstance(data, DataSplits):
        raise ValueError(f"data must be a vit_tutorial.data.DataSplits, got {type(data).__name__}")
    K = data.num_classes
    if isinstance(K, bool) or not isinstance(K, int) or K < 1:
        raise ValueError(f"data.num_classes must be a positive integer, got {K!r}")
    splits = {"train": data.train, "test": data.test}
    if data.val is not None:
        splits["val"] = data.val
    shape = tuple(data.train.images.shape[1:])
    for name, split in splits.items():
        if len(split) == 0:
            raise ValueError(f"the {name} split is empty; expected at least one image")
        if tuple(split.images.shape[1:]) != shape:
            raise ValueError(f"the {name} images have shape {tuple(split.images.shape[1:])}, but the training images {shape}")
        top = int(split.labels.max())
        if top >= K:
            raise ValueError(f"the {name} split has label {top}, but data.num_classes is {K} (labels 0..{K - 1})")
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError("the model has no trainable parameters (all have requires_grad=False); nothing to train")
    head = getattr(getattr(model, "config", None), "num_classes", None)
    if head == 0:
        raise ValueError(f"the model has no classification head (num_classes=0); expected num_classes={K} for {data.name}")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            logits = model(data.train.images[:1].to(model_device(model)))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise ValueError(f"the model cannot run on one training image of shape {(1, *shape)}: {first}") from None
    finally:
        model.train(was_training)
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (1, K):
        got = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"the model must map one image to logits of shape (1, {K}) for {K} classes, got {got}")


def _check_fit_args(model, data, config, callback, state_dir, resume) -> Path | None:
    """Raise ``ValueError`` for bad arguments of :func:`fit`; return the state file's path (or ``None``)."""
    check_model(model)
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
    check_fit_data(model, data)
    world = rank_and_world()[1]
    if config.batch_size % world:
        raise ValueError(
            f"batch_size is the global batch and must be a multiple of the number of processes {world}, "
            f"got {config.batch_size}"
        )
    return state_path


def _test_sums(model: nn.Module, test_x: torch.Tensor, test_y: torch.Tensor, do_eval: bool) -> torch.Tensor:
    """This rank's share of [cross-entropy, correct, count] on the test split (zeros without evaluation)."""
    rank, world = rank_and_world()
    if do_eval:
        return metric_sums(model, test_x[rank::world], test_y[rank::world], 500)
    return torch.zeros(3, dtype=torch.float64, device=test_x.device)


def _epoch_record(epoch: int, sums: torch.Tensor, test: torch.Tensor, do_eval: bool, lr: float, seconds: float) -> dict:
    """One epoch's entry of :func:`fit`'s history, from the (all-rank) metric sums."""
    objective_sum, ce_sum, correct, count = sums.tolist()
    return {
        "epoch": epoch,
        "train_loss": ce_sum / count,
        "train_objective": objective_sum / count,
        "train_accuracy": correct / count,
        "test_loss": test[0].item() / test[2].item() if do_eval else None,
        "test_accuracy": test[1].item() / test[2].item() if do_eval else None,
        "lr": lr,
        "seconds": seconds,
    }


def _report(bar, record: dict) -> None:
    """Show the epoch's loss (and validation or test accuracy) beside the progress bar."""
    which = "val" if record.get("val_accuracy") is not None else "test"
    acc = record[f"{which}_accuracy"]
    bar.set_postfix_str(
        f"epoch {record['epoch']}: loss {record['train_loss']:.3f}" + (f", {which} acc {acc:.3f}" if acc is not None else ""),
        refresh=False,
    )
