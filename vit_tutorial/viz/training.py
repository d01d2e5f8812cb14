"""Figures for the training chapter: data, schedule, curves, errors.

Every function returns a matplotlib ``Figure`` and never calls ``plt.show()``.
Histories are the lists of per-epoch dicts that
:func:`vit_tutorial.train.fit` returns (keys ``epoch``, ``train_loss``,
``test_loss``, ``train_accuracy``, ``test_accuracy``, ...).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .._checks import check_positive_int
from ..training import TrainConfig, augment, confusion_matrix, learning_rate_schedule

__all__ = [
    "plot_dataset_samples",
    "plot_augmentation",
    "animate_augmentation",
    "plot_lr_schedule",
    "plot_training_curves",
    "plot_accuracy_runs",
    "plot_seed_bands",
    "plot_arm_errors",
    "plot_confusion_matrix",
    "plot_misclassified",
]

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _check_images(images: object, name: str = "images") -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 1:
        raise ValueError(
            f"{name} must be a tensor of grey images (n, 1, H, W), got "
            f"{tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__}"
        )
    return images.detach().float().cpu()


def _check_labels(labels: object, n: int, name: str) -> torch.Tensor:
    if not isinstance(labels, torch.Tensor) or labels.dim() != 1 or labels.shape[0] != n:
        got = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise ValueError(f"{name} must be a 1-D tensor of {n} class indices, got {got}")
    return labels.detach().cpu().long()


def _grid(n: int, ncols: int, cell: float = 1.1, title_space: float = 0.35) -> tuple[Figure, np.ndarray]:
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(cell * ncols, (cell + title_space) * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    return fig, axes


def plot_dataset_samples(
    images: torch.Tensor, labels: torch.Tensor, per_class: int = 2, num_classes: int = 10
) -> Figure:
    """The first ``per_class`` images of every class, one column per class.

    Args:
        images: (n, 1, H, W), any scale (each image is shown with its own range).
        labels: (n,) class indices.
        per_class: rows of the grid.
        num_classes: columns of the grid (classes 0..num_classes-1).
    """
    images = _check_images(images)
    labels = _check_labels(labels, images.shape[0], "labels")
    check_positive_int(per_class, "per_class")
    check_positive_int(num_classes, "num_classes")
    fig, axes = plt.subplots(per_class, num_classes, figsize=(0.9 * num_classes, 0.95 * per_class + 0.3), squeeze=False)
    for c in range(num_classes):
        idx = torch.nonzero(labels == c).flatten()[:per_class].tolist()
        for r in range(per_class):
            ax = axes[r, c]
            ax.axis("off")
            if r < len(idx):
                ax.imshow(images[idx[r], 0].numpy(), cmap="gray_r")
            if r == 0:
                ax.set_title(str(c), fontsize=10)
    fig.tight_layout(pad=0.3)
    return fig


def _augmented_copies(image: object, max_shift: float, max_rotation: float, max_scale: float,
                      copies: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``image`` (1, H, W) and ``copies`` versions of it augmented exactly as ``fit`` does."""
    if not isinstance(image, torch.Tensor) or image.dim() != 3 or image.shape[0] != 1:
        got = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise ValueError(f"image must be one grey image of shape (1, H, W), got {got}")
    check_positive_int(copies, "copies")
    if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 0:
        raise ValueError(f"max_shift must be a whole number of pixels >= 0 (as in TrainConfig), got {max_shift!r}")
    # TrainConfig checks the rotation and scale ranges and names the field in its message
    config = TrainConfig(augment_shift=max_shift, augment_rotation=float(max_rotation), augment_scale=float(max_scale))
    x = image.detach().float().cpu()
    batch = x[None].expand(copies, -1, -1, -1).contiguous()  # (copies, 1, H, W)
    return x, augment(batch, config, torch.Generator().manual_seed(seed))  # (1, H, W), (copies, 1, H, W)


def _draw_augmented(axes: np.ndarray, x: torch.Tensor, copies: torch.Tensor, patch_size: int | None) -> None:
    """The original and its copies on a row of axes, with the patch borders if asked."""
    H, W = x.shape[-2:]
    for ax, img, title in zip(axes.flat, [x, *copies], ["original"] + [f"copy {i + 1}" for i in range(len(copies))]):
        ax.clear()
        ax.imshow(img[0].numpy(), cmap="gray_r")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        if patch_size:
            for k in range(patch_size, H, patch_size):
                ax.axhline(k - 0.5, color="#1f77b4", lw=0.8, alpha=0.7)
            for k in range(patch_size, W, patch_size):
                ax.axvline(k - 0.5, color="#1f77b4", lw=0.8, alpha=0.7)


def plot_augmentation(
    image: torch.Tensor,
    max_shift: int = 1,
    max_rotation: float = 0.0,
    max_scale: float = 0.0,
    copies: int = 5,
    seed: int = 0,
    patch_size: int | None = None,
) -> Figure:
    """One image and ``copies`` versions augmented as ``fit`` augments them.

    With only a shift, the copies move by whole pixels
    (:func:`~vit_tutorial.data.random_shift`); with a rotation or a scale,
    all three are continuous (:func:`~vit_tutorial.data.random_affine`).

    Args:
        image: (1, H, W) one grey image.
        max_shift: largest shift in whole pixels (``TrainConfig.augment_shift``).
        max_rotation: largest rotation in degrees (``augment_rotation``).
        max_scale: largest relative change of size (``augment_scale``).
        copies: how many augmented versions to draw.
        seed: seed of the random draws.
        patch_size: if given, draw the borders of the P x P patches, to show
            how much of each patch's content moves into its neighbours.
    """
    if patch_size is not None:
        check_positive_int(patch_size, "patch_size")
    x, out = _augmented_copies(image, max_shift, max_rotation, max_scale, copies, seed)
    fig, axes = _grid(copies + 1, copies + 1, cell=1.3)
    _draw_augmented(axes, x, out, patch_size)
    parts = [f"shift \u2264 {max_shift} px"] + ([f"rotation \u2264 {max_rotation:g}\u00b0"] if max_rotation else []) \
        + ([f"scale \u00b1 {max_scale:.0%}"] if max_scale else [])
    fig.suptitle(", ".join(parts), fontsize=10)
    fig.tight_layout(pad=0.3, rect=(0, 0, 1, 0.86))  # room for the title above the panel titles
    return fig


def animate_augmentation(
    image: torch.Tensor,
    shifts: Sequence[int] = (0, 1, 2, 3),
    copies: int = 5,
    patch_size: int | None = 7,
    seed: int = 0,
    dpi: int = 70,
    interval: int = 1200,
) -> str:
    """A kernel-free animation: one frame per maximum shift, each showing the
    image and ``copies`` shifted versions with the patch borders.

    Args:
        image: (1, H, W) one grey image.
        shifts: the maximum shifts (whole pixels >= 0), one frame each.
        copies: augmented versions per frame.
        patch_size: draw the P x P patch borders (None: no borders).
        seed: seed of the draws (the same in every frame).
        dpi: resolution of the frames.
        interval: milliseconds between frames.

    Returns:
        The animation as an HTML string (for ``IPython.display.HTML``) that
        loads nothing from the web.
    """
    from matplotlib.animation import FuncAnimation

    from ._animation import offline_jshtml

    if isinstance(shifts, (str, bytes)) or not isinstance(shifts, Sequence) or not shifts:
        raise ValueError(f"shifts must be a non-empty sequence of whole numbers >= 0, got {shifts!r}")
    if patch_size is not None:
        check_positive_int(patch_size, "patch_size")
    check_positive_int(dpi, "dpi")
    check_positive_int(interval, "interval")
    frames = [_augmented_copies(image, s, 0.0, 0.0, copies, seed) for s in shifts]  # checks every shift
    fig, axes = _grid(copies + 1, copies + 1, cell=1.3)
    fig.set_dpi(dpi)
    title = fig.suptitle("", fontsize=10)

    def draw(i: int) -> list:
        x, out = frames[i]
        _draw_augmented(axes, x, out, patch_size)
        title.set_text(f"random shifts of at most {shifts[i]} px" + (f" ({patch_size}x{patch_size} patches)" if patch_size else ""))
        return list(axes.flat)

    draw(0)
    fig.tight_layout(pad=0.3, rect=(0, 0, 1, 0.86))
    anim = FuncAnimation(fig, draw, frames=len(shifts), interval=interval, blit=False)
    html = offline_jshtml(anim)
    plt.close(fig)
    return html


def plot_lr_schedule(config: TrainConfig, steps_per_epoch: int) -> Figure:
    """The learning rate at every step: linear warm-up, then cosine decay.

    Args:
        config: the :class:`~vit_tutorial.train.TrainConfig` to draw.
        steps_per_epoch: optimisation steps in one epoch.
    """
    lrs = learning_rate_schedule(config, steps_per_epoch)
    epochs = np.arange(1, len(lrs) + 1) / steps_per_epoch
    fig, ax = plt.subplots(figsize=(6, 2.8))
    ax.plot(epochs, lrs, color=_COLOURS[0])
    if config.warmup_epochs > 0:
        ax.axvspan(0, config.warmup_epochs, color="0.9", zorder=0)
        ax.annotate("warm-up", xy=(config.warmup_epochs * 0.6, config.lr * 0.6),
                    xytext=(config.warmup_epochs + 0.06 * config.epochs, config.lr * 0.3), fontsize=9,
                    arrowprops=dict(arrowstyle="->", color="0.4"))
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    ax.set_xlim(0, config.epochs)
    ax.set_ylim(0, config.lr * 1.08)
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    ax.set_title(f"AdamW peak lr {config.lr:g}, {config.epochs} epochs x {steps_per_epoch} steps", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _as_runs(histories: object) -> dict[str, list[dict]]:
    if isinstance(histories, list):
        histories = {"": histories}
    if not isinstance(histories, Mapping) or not histories:
        raise ValueError(
            f"histories must be a list of per-epoch dicts or a non-empty dict name -> list, got {type(histories).__name__}"
        )
    for name, h in histories.items():
        if not isinstance(h, list) or not h or not all(isinstance(r, Mapping) and "epoch" in r for r in h):
            raise ValueError(f"history {name!r} must be a non-empty list of dicts with an 'epoch' key (what fit returns)")
    return dict(histories)


def _plain_log_axis(ax: plt.Axes) -> None:
    """Log scale with tick labels written as plain numbers (0.2, 0.5, 1, 2 ...)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def plot_training_curves(histories: list[dict] | Mapping[str, list[dict]], title: str | None = None) -> Figure:
    """Loss and error rate per epoch, training (solid), validation (dotted) and test (dashed).

    Both panels use log scales: the first epochs (error 50 %) and the last
    ones (error 2 %) are then equally readable. The error rate is
    ``100 - accuracy`` in percent.

    Args:
        histories: one history (a list of per-epoch dicts) or several, as a
            dict ``{"ViT": history, "CNN": history}`` (one colour each).
        title: an optional figure title.
    """
    runs = _as_runs(histories)
    fig, (ax_loss, ax_err) = plt.subplots(1, 2, figsize=(10, 3.6))
    for i, (name, h) in enumerate(runs.items()):
        colour = _COLOURS[i % len(_COLOURS)]
        prefix = f"{name} " if name else ""
        for key, ax, style, what in (
            ("train_loss", ax_loss, "-", "train"), ("val_loss", ax_loss, ":", "val"),
            ("test_loss", ax_loss, "--", "test"),
            ("train_accuracy", ax_err, "-", "train"), ("val_accuracy", ax_err, ":", "val"),
            ("test_accuracy", ax_err, "--", "test"),
        ):
            pts = [(r["epoch"], r[key]) for r in h if r.get(key) is not None]
            if pts:
                x, y = zip(*pts)
                if "accuracy" in key:  # error rate in percent, floored so that 0 % stays on a log axis
                    y = [max(100 * (1 - v), 0.05) for v in y]
                ax.plot(x, y, style, color=colour, label=f"{prefix}{what}", marker="." if len(x) < 25 else None)
    ax_loss.set_ylabel("cross-entropy (log scale)")
    ax_err.set_ylabel("error rate, % (log scale)")
    for ax in (ax_loss, ax_err):
        _finish_epoch_axis(ax)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def _finish_epoch_axis(ax) -> None:
    """A log y axis with plain tick labels, whole epochs on x, a grid and the legend."""
    _plain_log_axis(ax)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)


def plot_accuracy_runs(
    runs: Mapping[str, Sequence[float]], title: str | None = None, target: float | None = None
) -> Figure:
    """Test error rate after every epoch for several runs (log scale).

    Args:
        runs: name -> test accuracies (0..1), one per epoch from epoch 1.
        title: an optional title.
        target: an accuracy to mark with a horizontal line (e.g. 0.98).
    """
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError(f"runs must be a non-empty dict name -> accuracies, got {type(runs).__name__}")
    for name, accs in runs.items():
        if not isinstance(accs, Sequence) or not accs or not all(
            isinstance(a, (int, float)) and 0 <= a <= 1 for a in accs
        ):
            raise ValueError(f"run {name!r} must be a non-empty list of accuracies in [0, 1]")
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for i, (name, accs) in enumerate(runs.items()):
        errors = [max(100 * (1 - a), 0.05) for a in accs]
        ax.plot(range(1, len(errors) + 1), errors, color=_COLOURS[i % len(_COLOURS)], label=name,
                linestyle="-" if i < len(_COLOURS) else "--")
    if target is not None:
        ax.axhline(100 * (1 - target), color="0.3", linestyle=":", linewidth=1)
        ax.text(1, 100 * (1 - target) * 0.9, f"{target:.0%} accuracy", fontsize=8, va="top", color="0.3")
    ax.set_ylabel("test error rate, % (log scale)")
    _finish_epoch_axis(ax)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(
    labels: torch.Tensor, predictions: torch.Tensor, num_classes: int = 10, title: str | None = None
) -> Figure:
    """Counts of (true class, predicted class); the diagonal is what is right.

    Off-diagonal cells are coloured on their own scale so that the few
    mistakes stand out; every non-zero count is written in its cell.

    Args:
        labels: (n,) true classes.
        predictions: (n,) predicted classes.
        num_classes: K, the matrix is K x K.
        title: an optional title (the accuracy is added to it).
    """
    cm = confusion_matrix(labels, predictions, num_classes).numpy()  # (K, K)
    K = num_classes
    off = cm.astype(float).copy()
    np.fill_diagonal(off, np.nan)
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    vmax = max(1.0, np.nanmax(off)) if K > 1 else 1.0
    im = ax.imshow(off, cmap="Reds", vmin=0, vmax=vmax)
    for i in range(K):
        ax.add_patch(plt.Rectangle((i - 0.5, i - 0.5), 1, 1, color="#c7e9c0"))
        for j in range(K):
            if cm[i, j]:
                strong = i != j and cm[i, j] > 0.6 * vmax
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if strong else "black")
    ax.set_xticks(range(K))
    ax.set_yticks(range(K))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    acc = np.trace(cm) / max(1, cm.sum())
    ax.set_title(f"{title + ': ' if title else ''}{acc:.1%} correct ({cm.sum() - np.trace(cm)} errors)", fontsize=10)
    bar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="errors in the cell")
    bar.locator = MaxNLocator(integer=True)
    bar.update_ticks()
    fig.tight_layout()
    return fig


def plot_misclassified(
    images: torch.Tensor,
    labels: torch.Tensor,
    logits: torch.Tensor,
    max_images: int = 12,
    ncols: int = 6,
) -> Figure:
    """The misclassified images, most confident mistakes first.

    Each image is titled ``true -> predicted (probability)``.

    Args:
        images: (n, 1, H, W).
        labels: (n,) true classes.
        logits: (n, classes) the model's outputs.
        max_images: how many mistakes to show at most.
        ncols: images per row.
    """
    images = _check_images(images)
    n = images.shape[0]
    labels = _check_labels(labels, n, "labels")
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2 or logits.shape[0] != n:
        got = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"logits must be a tensor (n, classes) with n = {n}, got {got}")
    check_positive_int(max_images, "max_images")
    check_positive_int(ncols, "ncols")
    probs = logits.detach().float().cpu().softmax(dim=1)  # (n, classes)
    conf, pred = probs.max(dim=1)  # (n,), (n,)
    wrong = torch.nonzero(pred != labels).flatten()
    if len(wrong) == 0:
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, "no mistakes", ha="center", va="center")
        return fig
    wrong = wrong[conf[wrong].argsort(descending=True, stable=True)][:max_images]
    fig, axes = _grid(len(wrong), ncols, cell=1.35, title_space=0.4)
    for ax, i in zip(axes.flat, wrong.tolist()):
        ax.imshow(images[i, 0].numpy(), cmap="gray_r")
        ax.set_title(f"{labels[i].item()} \u2192 {pred[i].item()} ({conf[i].item():.0%})", fontsize=9, color="#b2182b")
    fig.tight_layout(pad=0.3)
    return fig




def _per_seed(values: object, name: str) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[None]
    if v.ndim != 2 or v.size == 0 or not np.all((v >= 0) & (v <= 1)):
        raise ValueError(f"{name} must be accuracies in [0, 1] of shape (seeds, epochs) or (seeds,), got shape {v.shape}")
    return v


def plot_seed_bands(
    runs: Mapping[str, Sequence[Sequence[float]]], ylabel: str = "validation error rate, %",
    target: float | None = None, title: str | None = None,
) -> Figure:
    """Error rate per epoch, mean over seeds with a band of +-1 sd, linear axis from 0.

    Args:
        runs: name -> accuracies of shape (seeds, epochs), in [0, 1].
        ylabel: the y axis label.
        target: an accuracy to mark with a dotted line (e.g. 0.98).
        title: optional title.
    """
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError(f"runs must be a non-empty dict name -> (seeds, epochs) accuracies, got {type(runs).__name__}")
    fig, ax = plt.subplots(figsize=(7, 3.8))
    top = 0.0
    for i, (name, accs) in enumerate(runs.items()):
        err = 100 * (1 - _per_seed(accs, f"runs[{name!r}]"))  # (seeds, epochs)
        mean, sd = err.mean(0), (err.std(0, ddof=1) if err.shape[0] > 1 else np.zeros(err.shape[1]))
        x = np.arange(1, err.shape[1] + 1)
        colour = _COLOURS[i % len(_COLOURS)]
        ax.plot(x, mean, color=colour, label=f"{name} (mean ± sd, {err.shape[0]} seeds)")
        ax.fill_between(x, mean - sd, mean + sd, color=colour, alpha=0.25, lw=0)
        top = max(top, float(np.percentile(mean, 90)))
    if target is not None:
        ax.axhline(100 * (1 - target), color="0.3", linestyle=":", linewidth=1)
        ax.text(1, 100 * (1 - target), f" {target:.0%} accuracy", fontsize=8, va="bottom", color="0.3")
    ax.set_ylim(0, max(top * 1.6, 3.0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.text(0.99, 0.98, "early epochs above the top are cut off", transform=ax.transAxes, ha="right", va="top",
            fontsize=7, color="0.4")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_arm_errors(
    arms: Mapping[str, Sequence[float]], ylabel: str = "validation error rate, %", title: str | None = None,
    se: Mapping[str, float] | None = None,
) -> Figure:
    """One bar per arm: the mean error rate over seeds, +-1 sd, each seed as a dot; y axis from 0.

    Args:
        arms: label -> final accuracies, one per seed, in [0, 1].
        ylabel: the y axis label.
        title: optional title.
        se: optional label -> binomial SE of one run's accuracy (a fraction), drawn
            as a grey bracket beside the bar (how much a new evaluation set would move it).
    """
    if not isinstance(arms, Mapping) or not arms:
        raise ValueError(f"arms must be a non-empty dict label -> accuracies, got {type(arms).__name__}")
    many = len(arms) > 6  # narrower bars and slanted labels, so that a long sweep still fits a page
    fig, ax = plt.subplots(figsize=(min(11.0, max(4.5, (0.7 if many else 1.2) * len(arms) + 1.5)), 3.6))
    for i, (label, accs) in enumerate(arms.items()):
        err = 100 * (1 - _per_seed(accs, f"arms[{label!r}]")[0])
        sd = err.std(ddof=1) if err.size > 1 else 0.0
        ax.bar(i, err.mean(), color=_COLOURS[i % len(_COLOURS)], alpha=0.6, yerr=sd, capsize=4)
        ax.scatter(np.full(err.size, i) + np.linspace(-0.15, 0.15, err.size), err, color="k", s=10, zorder=3)
        if se is not None and label in se:
            ax.errorbar(i + 0.32, err.mean(), yerr=100 * se[label], color="0.5", capsize=3, lw=1)
    ax.set_xticks(range(len(arms)), list(arms), fontsize=8, rotation=35 if many else 0, ha="right" if many else "center")
    ax.set_ylim(0, None)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, axis="y")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
