"""Figures for chapters 11 (ViT's problems, measured) and 12 (after ViT).

Most functions draw the rows of a results file written by a script in
``experiments/`` (read it with :func:`vit_tutorial.results.load_experiment`,
summarised with :func:`vit_tutorial.results.summarise_runs`; both are
re-exported here for old imports); nothing here trains
or times anything. The two grid diagrams (:func:`plot_attention_reach`,
:func:`plot_shifted_windows`) are computed with the package's own window
functions, so they show what the code does.

Every function returns a matplotlib ``Figure`` and never calls ``plt.show()``.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .. import results as _results
from ..results import load_experiment, summarise_runs  # their home; kept importable from viz
from .._checks import check_positive_int
from ._animation import offline_jshtml
from ..variants.cost import fit_power_law
from ..variants.window_attention import shifted_window_mask, window_partition

__all__ = [
    "EXPERIMENTS_DIR",
    "load_experiment",
    "summarise_runs",
    "plot_data_hunger",
    "plot_locality",
    "plot_power_laws",
    "plot_layer_similarity",
    "plot_resolution_transfer",
    "plot_patch_shuffle",
    "plot_attention_entropy",
    "plot_resolution_samples",
    "animate_resolution_sweep",
    "plot_attention_reach",
    "plot_shifted_windows",
    "animate_window_reach",
    "plot_variants",
    "plot_error_curves",
    "plot_shuffle_arms",
    "plot_depth_collapse",
]

#: Where the experiment scripts write their results: the package's shipped
#: results (``vit_tutorial/results``); read them with :func:`load_experiment`.
EXPERIMENTS_DIR = _results.results_folder()

_COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563")


def _check_rows(rows: object, keys: Sequence[str], what: str) -> list[Mapping]:
    if not isinstance(rows, Sequence) or isinstance(rows, (str, bytes)) or not rows:
        raise ValueError(f"{what} must be a non-empty list of dicts, got {type(rows).__name__}")
    for r in rows:
        if not isinstance(r, Mapping) or not set(keys) <= set(r):
            raise ValueError(f"each row of {what} needs the keys {sorted(keys)}, got {r!r}")
    return list(rows)


def plot_data_hunger(rows: Sequence[Mapping], title: str | None = None) -> Figure:
    """Test accuracy against the number of training images, one line per model,
    with the mean over seeds and error bars of one standard deviation.

    Args:
        rows: rows of ``data_hunger.json`` (keys ``model``, ``train_images``,
            ``test_accuracy``; several seeds per point are averaged).
        title: optional title.
    """
    rows = _check_rows(rows, ["model", "train_images", "test_accuracy"], "rows")
    stats = summarise_runs(rows, ["model", "train_images"])
    models = list(dict.fromkeys(s["model"] for s in stats))
    best = {}  # the highest mean at each size: its label goes above the point, the others' below
    for s in stats:
        best[s["train_images"]] = max(best.get(s["train_images"], -1.0), s["mean"])
    fig, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
    for i, m in enumerate(models):
        pts = sorted((s["train_images"], 100 * s["mean"], 100 * s["std"], s["runs"]) for s in stats if s["model"] == m)
        x, y, e, n = (np.array(v) for v in zip(*pts))
        colour = _COLOURS[i % len(_COLOURS)]
        runs = f" (mean of {n.min()} seeds)" if n.min() > 1 else ""
        ax.errorbar(x, y, yerr=e if n.max() > 1 else None, fmt="o-", color=colour, capsize=4, label=m + runs)
        for xi, yi, ei in zip(x, y, e):
            above = yi >= 100 * best[xi] - 1e-9
            dy = 6 if above else -14
            ax.annotate(f"{yi:.1f}", (xi, yi + (ei if above else -ei)), textcoords="offset points", xytext=(0, dy),
                        ha="center", fontsize=8.5, color=colour)
    xs = sorted({s["train_images"] for s in stats})
    ax.set_xscale("log")
    ax.set_xticks(xs, [str(v) for v in xs])
    ax.minorticks_off()
    ax.set_xlabel("training images (log scale); every run sees the same number of images in total")
    ax.set_ylabel("test accuracy (%)")
    lo = min(100 * (s["mean"] - s["std"]) for s in stats)
    ax.set_ylim(max(0, lo - 8), 101)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=9)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def plot_locality(rows: Sequence[Mapping]) -> Figure:
    """Test **error** (%, axis from zero) against the patch size P, for the
    plain patch embedding and the conv stem, with the number of tokens N
    under each P: the mean over seeds, an error bar of one standard deviation
    where there are several, and every seed as a small dot.

    Args:
        rows: rows of ``locality.json`` (keys ``patch_size``, ``kind``,
            ``tokens``, ``test_accuracy``).
    """
    rows = _check_rows(rows, ["patch_size", "kind", "tokens", "test_accuracy"], "rows")
    stats = summarise_runs(rows, ["kind", "patch_size", "tokens"])
    kinds = list(dict.fromkeys(s["kind"] for s in stats))
    sizes = sorted({s["patch_size"] for s in stats})
    tokens = {s["patch_size"]: s["tokens"] for s in stats}
    pos = {P: i for i, P in enumerate(sizes)}
    worst = {}  # the highest error at each P: its label goes above the point, the others' below
    for s in stats:
        worst[s["patch_size"]] = max(worst.get(s["patch_size"], -1.0), 1 - s["mean"])
    fig, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
    for i, k in enumerate(kinds):
        pts = sorted((s["patch_size"], 100 * (1 - s["mean"]), 100 * s["std"], s["runs"]) for s in stats
                     if s["kind"] == k)
        P, y, e, n = (np.array(v) for v in zip(*pts))
        x = np.array([pos[p] for p in P]) + (i - (len(kinds) - 1) / 2) * 0.06  # side by side, not on top
        colour = _COLOURS[i % len(_COLOURS)]
        seeds = f" (mean ± sd of {n.min()} seeds)" if n.min() > 1 else " (one run)"
        ax.errorbar(x, y, yerr=e if e.max() > 0 else None, fmt="o-", color=colour, capsize=4, label=k + seeds)
        dots = [(pos[r["patch_size"]] + (i - (len(kinds) - 1) / 2) * 0.06, 100 * (1 - r["test_accuracy"]))
                for r in rows if r["kind"] == k]
        ax.scatter(*zip(*dots), s=9, color=colour, alpha=0.45, zorder=2)
        for p, xi, yi, ei in zip(P, x, y, e):
            above = yi >= 100 * worst[p] - 1e-9
            ax.annotate(f"{yi:.1f}", (xi, yi + (ei if above else -ei)), textcoords="offset points",
                        xytext=(0, 6 if above else -14), ha="center", fontsize=8.5, color=colour)
    ax.set_xticks(range(len(sizes)), [f"P = {P}\nN = {tokens[P]}" for P in sizes])
    ax.set_xlabel("patch size (and number of patch tokens) on 28x28 digits")
    ax.set_ylabel("test error (%), from zero")
    hi = max(100 * (1 - r["test_accuracy"]) for r in rows)
    ax.set_ylim(0, hi * 1.4 + 0.5)  # room above the highest point for its label and the legend
    ax.set_xlim(-0.4, len(sizes) - 0.6)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=9)
    return fig


def _plain_log_ticks(axis, limits: tuple[float, float]) -> None:
    """On a log axis spanning less than two decades, label 1, 2 and 5 times the
    powers of ten as plain numbers (the default labels of the minor ticks
    crowd into each other there)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    lo, hi = (max(float(v), 1e-300) for v in limits)
    if math.log10(hi / lo) >= 2:
        return
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def plot_power_laws(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    xlabel: str,
    ylabel: str,
    fit_min: float | None = None,
    title: str | None = None,
) -> Figure:
    """Log-log plot of several measured curves, each with its fitted exponent.

    For each curve, y = c * x^k is fitted (:func:`~vit_tutorial.variants.fit_power_law`)
    to the points with x >= ``fit_min`` (all points if None) and drawn as a
    dashed line over that range; the legend gives k.

    Args:
        series: ``{label: (x values, y values)}``, all positive.
        xlabel, ylabel: axis labels.
        fit_min: the smallest x used in the fits.
        title: optional title.
    """
    if not isinstance(series, Mapping) or not series:
        raise ValueError("series must be a non-empty dict {label: (x values, y values)}")
    fig, ax = plt.subplots(figsize=(6.6, 4.0), layout="constrained")
    for i, (label, xy) in enumerate(series.items()):
        if not isinstance(xy, (tuple, list)) or len(xy) != 2 or len(xy[0]) != len(xy[1]) or len(xy[0]) == 0:
            raise ValueError(f"series[{label!r}] must be a pair (x values, y values) of equal, non-zero length")
        x, y = np.asarray(xy[0], float), np.asarray(xy[1], float)
        colour = _COLOURS[i % len(_COLOURS)]
        sel = x >= (fit_min if fit_min is not None else -np.inf)
        text = label
        if sel.sum() >= 2:
            k, c = fit_power_law(x[sel], y[sel])
            xf = np.geomspace(x[sel].min(), x[sel].max(), 20)
            ax.plot(xf, c * xf**k, "--", color=colour, alpha=0.6, lw=1.5)
            text = f"{label}: slope {k:.2f}"
        ax.plot(x, y, "o-", color=colour, label=text, lw=1.2, ms=4.5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    _plain_log_ticks(ax.xaxis, ax.get_xlim())
    if fit_min is not None:
        ax.axvline(fit_min, color="grey", lw=0.8, ls=":")
        ax.annotate("fit range ->", (fit_min, 0.02), xycoords=("data", "axes fraction"), xytext=(4, 0),
                    textcoords="offset points", fontsize=8, color="grey")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8.5, loc="upper left")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def plot_layer_similarity(curves: Mapping[str, Mapping], matrix: str | None = None) -> Figure:
    """Attention collapse: how alike the attention maps of the blocks are.

    Left: for each model, the similarity of each block with the next (mean
    over heads as a line, each head as a faint dot). Right: the full
    block-by-block similarity matrix of one model.

    Args:
        curves: ``{label: measures}``, each a dict with
            ``consecutive_per_head`` ((L-1) lists of h values) and
            ``cross_layer`` (L lists of L values), as in
            ``attention_collapse.json``. Labels containing "untrained" are
            drawn in grey.
        matrix: the label whose matrix is drawn (default: the first).
    """
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("curves must be a non-empty dict {label: measures}")
    for name, d in curves.items():
        if not isinstance(d, Mapping) or not {"consecutive_per_head", "cross_layer"} <= set(d):
            raise ValueError(f"curves[{name!r}] must be a dict with 'consecutive_per_head' and 'cross_layer'")
    matrix = next(iter(curves)) if matrix is None else matrix
    if matrix not in curves:
        raise ValueError(f"matrix must be one of the labels {list(curves)}, got {matrix!r}")
    fig, (ax, axm) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained",
                                  gridspec_kw={"width_ratios": [1.5, 1]})
    longest = 0
    colours = iter(_COLOURS)
    for label, d in curves.items():
        colour = "#9ca3af" if "untrained" in label else next(colours)
        per_head = np.asarray(d["consecutive_per_head"], float)  # (L-1, h)
        x = np.arange(1, per_head.shape[0] + 1)
        longest = max(longest, len(x))
        ax.plot(x, per_head.mean(1), "o-", color=colour, label=label, lw=1.8, ms=4)
        for j in range(per_head.shape[1]):
            ax.scatter(x, per_head[:, j], s=9, color=colour, alpha=0.3)
    step = 1 if longest <= 12 else 2
    ax.set_xticks(range(1, longest + 1, step))
    ax.set_xlabel("l: block l compared with block l+1 (faint dots: single heads)")
    ax.set_ylabel("cosine similarity of attention maps")
    ax.set_ylim(0, 1.03)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8.5, loc="lower right")
    M = np.asarray(curves[matrix]["cross_layer"], float)
    im = axm.imshow(M, vmin=0, vmax=1, cmap="viridis")
    L = M.shape[0]
    ticks = range(0, L, 1 if L <= 12 else 3)
    axm.set_xticks(ticks, [t + 1 for t in ticks], fontsize=7.5)
    axm.set_yticks(ticks, [t + 1 for t in ticks], fontsize=7.5)
    axm.set_xlabel("block")
    axm.set_ylabel("block")
    axm.set_title(f"{matrix}: every pair of blocks", fontsize=10)
    fig.colorbar(im, ax=axm, shrink=0.85, label="cosine similarity")
    return fig


def plot_resolution_transfer(rows: Sequence[Mapping], train_size: int = 28) -> Figure:
    """Test accuracy against the test images' side, one line per model; one
    panel per mode (``resize``: the digits enlarged; ``pad``: the digits on a
    bigger canvas).

    Args:
        rows: dicts with ``model``, ``mode``, ``size``, ``test_accuracy``
            (``variants.json``'s ``resolution``; several seeds per point are
            averaged, with a band of one standard deviation).
        train_size: the training resolution, marked with a vertical line.

    A model with only two sizes in a panel is drawn as points (with error
    bars over seeds), without a line.
    """
    rows = _check_rows(rows, ["model", "mode", "size", "test_accuracy"], "rows")
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    models = list(dict.fromkeys(r["model"] for r in rows))
    fig, axes = plt.subplots(1, len(modes), figsize=(5.2 * len(modes), 3.8), layout="constrained", squeeze=False)
    titles = {"resize": "digits enlarged to the new size", "pad": "same digits on a bigger canvas"}
    for ax, mode in zip(axes[0], modes):
        for i, m in enumerate(models):
            mine = [r for r in rows if r["mode"] == mode and r["model"] == m]
            if mine:
                _draw_resolution_curve(ax, summarise_runs(mine, ["size"]), m, _COLOURS[i % len(_COLOURS)])
        ax.axvline(train_size, color="grey", ls=":", lw=1)
        ax.annotate("training size", (train_size, 0.98), xycoords=("data", "axes fraction"), xytext=(4, 0),
                    textcoords="offset points", fontsize=8, color="grey", va="top")
        ax.set_xlabel("test image side (pixels)")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(titles.get(mode, mode), fontsize=10)
        ax.set_ylim(0, 105)
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()  # under the panels, where it covers no point
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 3), fontsize=8.5, frameon=False)
    return fig


def _draw_resolution_curve(ax, stats: list[dict], model: str, colour: str) -> None:
    """One model's accuracy at each size: a line with a band of one sd over
    seeds, or, at two sizes only, points with error bars (a line would
    suggest values between them)."""
    pts = sorted((s["size"], 100 * s["mean"], 100 * s["std"], s["runs"]) for s in stats)
    x, y, e, n = (np.array(v) for v in zip(*pts))
    label = model + (f" ({n.min()} seeds)" if n.min() > 1 else "")
    if len(pts) > 2:
        ax.plot(x, y, "o-", color=colour, label=label, ms=5)
        if n.min() > 1:
            ax.fill_between(x, y - e, y + e, color=colour, alpha=0.18, lw=0)
    else:
        ax.errorbar(x, y, yerr=e if n.min() > 1 else None, fmt="o", color=colour, label=label, ms=7, capsize=4)


def _check_image_batch(images: object, name: str) -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] not in (1, 3):
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"{name} must be a tensor (B, C, H, W) with C = 1 or 3, got {shape}")
    return images.detach().float().cpu()


def _show_image(ax, image: torch.Tensor, patch_size: int | None = None) -> None:
    """One (C, H, W) image, scaled to its own range, with the patch grid in thin lines."""
    C, H, W = image.shape
    img = image.permute(1, 2, 0).numpy()  # (H, W, C)
    lo, hi = float(img.min()), float(img.max())
    img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    ax.imshow(img[..., 0] if C == 1 else img, cmap="gray" if C == 1 else None, vmin=0, vmax=1,
              extent=(-0.5, W - 0.5, H - 0.5, -0.5))
    if patch_size:
        for t in range(patch_size, H, patch_size):
            ax.axhline(t - 0.5, color="#f59e0b", lw=0.6, alpha=0.8)
        for t in range(patch_size, W, patch_size):
            ax.axvline(t - 0.5, color="#f59e0b", lw=0.6, alpha=0.8)
    ax.set_xticks([])
    ax.set_yticks([])


def plot_patch_shuffle(
    images: torch.Tensor, shuffled: torch.Tensor, patch_size: int, titles: Sequence[str] | None = None,
    label: str = "shuffled inside\neach patch",
) -> Figure:
    """The same digits before (top row) and after (bottom row) one fixed
    shuffle of the pixels inside every P x P patch; orange lines mark the
    patches. Every patch keeps its pixel values, only their places inside the
    patch change, so each patch's token can carry the same information.

    Args:
        images: (B, C, H, W), at most 12 images.
        shuffled: the same images with their patches' pixels shuffled, same shape.
        patch_size: P (divides H and W).
        titles: optional, one per image (drawn above the top row).
        label: the bottom row's label (e.g. "patches moved" for a shuffle of
            the patch positions).
    """
    images = _check_image_batch(images, "images")
    shuffled = _check_image_batch(shuffled, "shuffled")
    P = check_positive_int(patch_size, "patch_size")
    if images.shape != shuffled.shape:
        raise ValueError(f"shuffled must have the shape of images {tuple(images.shape)}, got {tuple(shuffled.shape)}")
    B, C, H, W = images.shape
    if B > 12:
        raise ValueError(f"images must hold at most 12 images, got {B}")
    if H % P or W % P:
        raise ValueError(f"patch_size {P} must divide the image size {H}x{W}")
    if titles is not None and len(titles) != B:
        raise ValueError(f"titles must have one entry per image ({B}), got {len(titles)}")
    fig, axes = plt.subplots(2, B, figsize=(1.25 * B + 1.2, 3.0), layout="constrained", squeeze=False)
    for b in range(B):
        _show_image(axes[0][b], images[b], P)
        _show_image(axes[1][b], shuffled[b], P)
        if titles is not None:
            axes[0][b].set_title(titles[b], fontsize=8.5)
    axes[0][0].set_ylabel("original", fontsize=9)
    axes[1][0].set_ylabel(label, fontsize=9)
    return fig


def plot_attention_entropy(curves: Mapping[str, Mapping]) -> Figure:
    """How close each block's attention is to uniform: the mean entropy of the
    attention rows divided by log T, the entropy of uniform attention over T
    keys (1 = every key gets the same weight).

    Two nearly uniform rows have a cosine similarity close to 1 whatever the
    model learned, so read this next to :func:`plot_layer_similarity`.

    Args:
        curves: ``{label: measures}``, each with ``entropy`` (one value per
            block, in nats) and ``uniform_entropy`` (log T), as in
            ``attention_collapse.json``. Labels containing "untrained" are grey.
    """
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("curves must be a non-empty dict {label: measures}")
    for name, d in curves.items():
        if not isinstance(d, Mapping) or not {"entropy", "uniform_entropy"} <= set(d):
            raise ValueError(f"curves[{name!r}] must be a dict with 'entropy' and 'uniform_entropy', got {d!r:.80}")
    fig, ax = plt.subplots(figsize=(6.6, 3.4), layout="constrained")
    colours = iter(_COLOURS)
    longest, lowest = 0, 1.0
    for label, d in curves.items():
        colour = "#9ca3af" if "untrained" in label else next(colours)
        share = np.asarray(d["entropy"], float) / float(d["uniform_entropy"])
        x = np.arange(1, len(share) + 1)
        longest, lowest = max(longest, len(x)), min(lowest, float(share.min()))
        ax.plot(x, share, "o-", color=colour, label=label, lw=1.8, ms=4)
    ax.axhline(1.0, color="black", lw=0.8, ls=":")
    ax.annotate("uniform attention", (1, 1.0), xytext=(0, 3), textcoords="offset points", fontsize=8)
    ax.set_xticks(range(1, longest + 1, 1 if longest <= 12 else 2))
    ax.set_xlabel("block")
    ax.set_ylabel("entropy / log T")
    ax.set_ylim(max(0.0, lowest - 0.1), 1.06)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8.5, loc="lower right")
    return fig


def _check_samples(samples: object) -> dict:
    if not isinstance(samples, Mapping) or not samples:
        raise ValueError("samples must be a non-empty dict {(mode, size): {'images', 'labels', 'predictions'}}")
    for key, s in samples.items():
        if not (isinstance(key, tuple) and len(key) == 2):
            raise ValueError(f"the keys of samples must be (mode, size) pairs, got {key!r}")
        if not isinstance(s, Mapping) or not {"images", "labels", "predictions"} <= set(s):
            raise ValueError(f"samples[{key!r}] must be a dict with 'images', 'labels' and 'predictions'")
        images = _check_image_batch(s["images"], f"samples[{key!r}]['images']")
        if images.shape[-1] != key[1] or images.shape[0] > 8:
            raise ValueError(f"samples[{key!r}]['images'] must be at most 8 images of side {key[1]}, "
                             f"got shape {tuple(images.shape)}")
        if len(s["labels"]) != images.shape[0] or len(s["predictions"]) != images.shape[0]:
            raise ValueError(f"samples[{key!r}] needs one label and one prediction per image")
    return dict(samples)


def _draw_resolution(fig: Figure, rows: list[Mapping], samples: dict, size: int, mode: str,
                     patch_size: int, train_size: int) -> None:
    s = samples[(mode, size)]
    images = s["images"].detach().float().cpu()
    k = images.shape[0]
    ncols = max(1, math.ceil(k / 2))
    gs = fig.add_gridspec(2, ncols + 3)
    for i in range(k):
        ax = fig.add_subplot(gs[i // ncols, i % ncols])
        _show_image(ax, images[i], patch_size)
        y, p = int(s["labels"][i]), int(s["predictions"][i])
        ax.set_title(f"label {y}, pred {p}", fontsize=8, color="#15803d" if y == p else "#b91c1c")
    ax = fig.add_subplot(gs[:, ncols:])
    models = list(dict.fromkeys(r["model"] for r in rows if r["mode"] == mode))
    for i, m in enumerate(models):
        pts = sorted((r["size"], 100 * r["test_accuracy"]) for r in rows if r["mode"] == mode and r["model"] == m)
        x, y = zip(*pts)
        colour = _COLOURS[i % len(_COLOURS)]
        ax.plot(x, y, "o-", color=colour, label=m, ms=4.5)
        here = [v for u, v in pts if u == size]
        if here:
            ax.plot([size], here, "o", ms=11, mfc="none", mec=colour, mew=2)
            ax.annotate(f"{here[0]:.1f} %", (size, here[0]), xytext=(0, 10), textcoords="offset points",
                        ha="center", fontsize=8.5, color=colour,
                        bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.9))
    ax.axvline(train_size, color="grey", ls=":", lw=1)
    ax.annotate("training size", (train_size, 0.99), xycoords=("data", "axes fraction"), xytext=(3, 0),
                textcoords="offset points", fontsize=7.5, color="grey", va="top")
    ax.axvline(size, color="black", lw=0.8, alpha=0.5)
    ax.set_xlabel("test image side (pixels)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 112)
    ax.set_yticks(range(0, 101, 20))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    grid = size // patch_size
    what = {"resize": "digits enlarged", "pad": "digits on a bigger canvas"}.get(mode, mode)
    fig.suptitle(f"{what}: {size}x{size} px, {grid}x{grid} = {grid * grid} patches "
                 f"(trained on {train_size} px, {(train_size // patch_size) ** 2} patches)", fontsize=10)


def check_resolution_args(rows, samples, size, mode, patch_size, train_size):
    """Check the arguments shared by the resolution figures (and their explorer); returns (rows, samples)."""
    rows = _check_rows(rows, ["model", "mode", "size", "test_accuracy"], "rows")
    samples = _check_samples(samples)
    check_positive_int(patch_size, "patch_size")
    check_positive_int(train_size, "train_size")
    if (mode, size) not in samples:
        raise ValueError(f"(mode, size) must be one of the keys of samples {sorted(samples)}, got {(mode, size)!r}")
    return rows, samples


def plot_resolution_samples(
    rows: Sequence[Mapping],
    samples: Mapping[tuple[str, int], Mapping],
    size: int,
    mode: str = "resize",
    patch_size: int = 7,
    train_size: int = 28,
) -> Figure:
    """One test resolution: some test digits at that size with the model's
    predictions (green: right, red: wrong) and the patch grid, next to the
    accuracy against the image side, the chosen size circled.

    Args:
        rows: dicts with ``model``, ``mode``, ``size``, ``test_accuracy`` (as
            for :func:`plot_resolution_transfer`); the lines of ``mode`` are drawn.
        samples: ``{(mode, size): {"images": (k, C, size, size), "labels": (k,),
            "predictions": (k,)}}`` with k <= 8.
        size: the test image side to show (a key of ``samples`` with ``mode``).
        mode: ``"resize"`` or ``"pad"`` (any mode present in the rows).
        patch_size: P, for the grid lines and the patch count.
        train_size: the training resolution, marked by a dotted line.
    """
    rows, samples = check_resolution_args(rows, samples, size, mode, patch_size, train_size)
    fig = plt.figure(figsize=(10.5, 3.9), layout="constrained")
    _draw_resolution(fig, rows, samples, size, mode, patch_size, train_size)
    return fig


def animate_resolution_sweep(
    rows: Sequence[Mapping],
    samples: Mapping[tuple[str, int], Mapping],
    mode: str = "resize",
    patch_size: int = 7,
    train_size: int = 28,
    dpi: int = 60,
    interval: int = 1000,
) -> str:
    """A kernel-free animation of :func:`plot_resolution_samples`: one frame
    per test size of ``mode`` in ``samples``, smallest first.

    Returns:
        The animation as an HTML string (no CDN link), for ``IPython.display.HTML``.
    """
    import matplotlib
    from matplotlib.animation import FuncAnimation

    check_positive_int(dpi, "dpi")
    check_positive_int(interval, "interval")
    sizes = sorted(s for m, s in (samples.keys() if isinstance(samples, Mapping) else []) if m == mode)
    if not sizes:
        raise ValueError(f"samples has no entry for mode {mode!r}; its keys are "
                         f"{sorted(samples) if isinstance(samples, Mapping) else type(samples).__name__}")
    rows, samples = check_resolution_args(rows, samples, sizes[0], mode, patch_size, train_size)
    with matplotlib.rc_context({"animation.frame_format": "jpeg", "savefig.dpi": dpi, "figure.dpi": dpi}):
        fig = plt.figure(figsize=(10.5, 3.9), layout="constrained")

        def draw(f: int) -> list:
            fig.clear()
            _draw_resolution(fig, rows, samples, sizes[f], mode, patch_size, train_size)
            return []

        anim = FuncAnimation(fig, draw, frames=len(sizes), interval=interval, blit=False)
        html = offline_jshtml(anim, default_mode="loop")
    plt.close(fig)
    return html


def _reach(grid: int, query: tuple[int, int], window: int, shift: int) -> np.ndarray:
    """Which tokens the query may attend to under (shifted) window attention."""
    coords = torch.arange(grid * grid).reshape(1, grid, grid, 1).float()  # (1, g, g, 1) token ids
    if shift:
        coords = torch.roll(coords, shifts=(-shift, -shift), dims=(1, 2))
    windows = window_partition(coords, window).squeeze(-1).long()  # (nW, w*w) token ids
    mask = shifted_window_mask((grid, grid), window, shift)  # (nW, w*w, w*w)
    q = query[0] * grid + query[1]
    k, pos = [(k, int(p)) for k in range(windows.shape[0]) for p in (windows[k] == q).nonzero().flatten()][0]
    allowed = windows[k][mask[k, pos] == 0]  # token ids
    out = np.zeros(grid * grid, bool)
    out[allowed.numpy()] = True
    return out.reshape(grid, grid)


def _draw_grid(ax, grid: int, shade: np.ndarray, query: tuple[int, int], colour: str, title: str) -> None:
    ax.imshow(np.where(shade, 1.0, 0.0), cmap=plt.matplotlib.colors.ListedColormap(["#f3f4f6", colour]),
              vmin=0, vmax=1, extent=(-0.5, grid - 0.5, grid - 0.5, -0.5))
    for t in range(grid + 1):
        ax.axhline(t - 0.5, color="white", lw=0.8)
        ax.axvline(t - 0.5, color="white", lw=0.8)
    ax.add_patch(Rectangle((query[1] - 0.5, query[0] - 0.5), 1, 1, facecolor="#dc2626", edgecolor="black", lw=1))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9.5)


def plot_attention_reach(grid: int = 14, query: tuple[int, int] = (5, 6), window: int = 7,
                         reduction: int = 2) -> Figure:
    """Which tokens one query token (red) can attend to, on a grid x grid map.

    Panels: global attention (every token), window attention (its w x w
    window), shifted windows (shift w // 2: its window after the shift; the
    tokens the mask hides are left out), and spatial-reduction attention
    (every R x R block, merged into one key).

    Args:
        grid: the side of the token grid (a multiple of ``window`` and ``reduction``).
        query: (row, col) of the query token.
        window: w.
        reduction: R.
    """
    check_positive_int(grid, "grid")
    check_positive_int(window, "window")
    check_positive_int(reduction, "reduction")
    if grid % window or grid % reduction:
        raise ValueError(f"grid {grid} must be a multiple of window {window} and reduction {reduction}")
    if not (isinstance(query, (tuple, list)) and len(query) == 2 and all(0 <= q < grid for q in query)):
        raise ValueError(f"query must be (row, col) inside the {grid}x{grid} grid, got {query!r}")
    query = (int(query[0]), int(query[1]))
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.5), layout="constrained")
    N = grid * grid
    _draw_grid(axes[0], grid, np.ones((grid, grid), bool), query, "#93c5fd", f"global: {N} keys")
    plain = _reach(grid, query, window, 0)
    _draw_grid(axes[1], grid, plain, query, "#86efac", f"window {window}x{window}: {plain.sum()} keys")
    shifted = _reach(grid, query, window, window // 2)
    _draw_grid(axes[2], grid, shifted, query, "#fcd34d", f"shifted window: {shifted.sum()} keys")
    ax = axes[3]
    _draw_grid(ax, grid, np.ones((grid, grid), bool), query, "#c4b5fd",
               f"spatial reduction R={reduction}: {N // reduction**2} keys")
    for t in range(0, grid + 1, reduction):
        ax.axhline(t - 0.5, color="#4c1d95", lw=1.6)
        ax.axvline(t - 0.5, color="#4c1d95", lw=1.6)
    return fig


def plot_shifted_windows(grid: int = 8, window: int = 4) -> Figure:
    """Plain windows, then the same grid shifted by w/2 with its windows and
    the regions that the mask keeps apart.

    Left: the grid cut into w x w windows (one colour each). Middle: the
    grid rolled by w/2 up and left; each token keeps its original colour, and
    the thick lines are the new windows. Right: inside each new window,
    tokens carry a region label (0-8); only tokens with the same label may
    attend to each other.

    Args:
        grid: the side of the token grid, a multiple of ``window``.
        window: w (even, so that the shift w/2 is whole).
    """
    check_positive_int(grid, "grid")
    check_positive_int(window, "window")
    if grid % window or window % 2:
        raise ValueError(f"grid {grid} must be a multiple of an even window, got window {window}")
    if grid > 64:
        raise ValueError(f"grid must be at most 64 tokens a side for a readable drawing (one label per token), got {grid}")
    s = window // 2
    ids = np.arange(grid * grid).reshape(grid, grid)
    win = (ids // grid // window) * (grid // window) + (ids % grid) // window  # window of each token
    rolled = np.roll(win, shift=(-s, -s), axis=(0, 1))
    labels = np.zeros((grid, grid), int)
    bands = (slice(0, -window), slice(-window, -s), slice(-s, None))
    region = 0
    for r in bands:
        for c in bands:
            labels[r, c] = region
            region += 1
    cmap = plt.matplotlib.colors.ListedColormap(["#93c5fd", "#fca5a5", "#86efac", "#fcd34d", "#c4b5fd", "#fdba74",
                                                 "#a5f3fc", "#f9a8d4", "#d9f99d", "#e5e7eb"])
    fig, axes = plt.subplots(1, 3, figsize=(11.5, 4.0), layout="constrained")
    for ax, data, title in ((axes[0], win, "windows"), (axes[1], rolled, f"rolled by {s}: new windows")):
        ax.imshow(data % 10, cmap=cmap, vmin=0, vmax=9)
        for t in range(grid):
            for u in range(grid):
                ax.text(u, t, str(data[t, u]), ha="center", va="center", fontsize=7)
        ax.set_title(title, fontsize=10)
    axes[2].imshow(labels, cmap="Pastel1", vmin=0, vmax=8)
    for t in range(grid):
        for u in range(grid):
            axes[2].text(u, t, str(labels[t, u]), ha="center", va="center", fontsize=7)
    axes[2].set_title("mask regions (same label: may attend)", fontsize=10)
    for ax in axes:
        for t in range(0, grid + 1, window):
            ax.axhline(t - 0.5, color="black", lw=2)
            ax.axvline(t - 0.5, color="black", lw=2)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0].set_xlabel("numbers: the window a token starts in", fontsize=8.5)
    axes[1].set_xlabel("every new window straddles old ones; the right and bottom ones also hold\n"
                       "tokens wrapped around from the opposite border (never neighbours)", fontsize=8.5)
    return fig


def animate_window_reach(grid: int = 12, window: int = 4, dpi: int = 60, interval: int = 800) -> str:
    """A kernel-free animation: a query token (red) walks along both diagonals
    of the grid; the panels show the keys it reaches in a plain-window block,
    in a shifted-window block, and the tokens whose information reaches it
    after a plain block followed by a shifted one.

    Args:
        grid: the side of the token grid, a multiple of ``window``.
        window: w (even; the shift is w // 2).
        dpi: resolution of the frames.
        interval: milliseconds between frames.

    Returns:
        The animation as an HTML string, for ``IPython.display.HTML``.
    """
    import matplotlib
    from matplotlib.animation import FuncAnimation

    check_positive_int(grid, "grid")
    check_positive_int(window, "window")
    check_positive_int(dpi, "dpi")
    if grid % window or window % 2:
        raise ValueError(f"grid {grid} must be a multiple of an even window, got window {window}")
    if grid > 64:
        raise ValueError(f"grid must be at most 64 tokens a side for a readable drawing (one label per token), got {grid}")
    s = window // 2
    path = [(i, i) for i in range(grid)] + [(i, grid - 1 - i) for i in range(grid)]
    plain = {q: _reach(grid, q, window, 0) for q in path}
    shifted_all = {(r, c): _reach(grid, (r, c), window, s) for r in range(grid) for c in range(grid)}
    with matplotlib.rc_context({"animation.frame_format": "jpeg", "savefig.dpi": dpi, "figure.dpi": dpi}):
        fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.6), layout="constrained")

        def draw(f: int) -> list:
            q = path[f]
            # information reaching q after a plain block then a shifted block:
            # q attends (shifted) to keys k, and each k gathered (plain) from its window
            two = np.zeros((grid, grid), bool)
            for r, c in zip(*np.nonzero(shifted_all[q])):
                two |= _reach(grid, (int(r), int(c)), window, 0)
            for ax in axes:
                ax.clear()
            _draw_grid(axes[0], grid, plain[q], q, "#86efac", f"plain windows: {plain[q].sum()} keys")
            _draw_grid(axes[1], grid, shifted_all[q], q, "#fcd34d", f"shifted windows: {shifted_all[q].sum()} keys")
            _draw_grid(axes[2], grid, two, q, "#93c5fd", f"plain, then shifted: {two.sum()} tokens")
            for ax in axes[:1]:
                for t in range(0, grid + 1, window):
                    ax.axhline(t - 0.5, color="black", lw=1.5)
                    ax.axvline(t - 0.5, color="black", lw=1.5)
            return []

        anim = FuncAnimation(fig, draw, frames=len(path), interval=interval, blit=False)
        html = offline_jshtml(anim, default_mode="loop")
    plt.close(fig)
    return html


def plot_variants(rows: Sequence[Mapping]) -> Figure:
    """Test error of each model with its parameters and FLOPs (and training
    time, when every row has ``train_seconds``), as bars that start at zero.

    The error panel shows the mean over seeds, with an error bar of one
    standard deviation where there are several seeds and, for a single run,
    the binomial standard error of its test accuracy (``test_images`` in the
    row, default 1,000), drawn as a thin grey bar and named in the label.

    Args:
        rows: rows of ``variants.json`` (keys ``model``, ``test_accuracy``,
            ``parameters``, ``flops``, optionally ``train_seconds``; seeds
            are averaged).
    """
    rows = _check_rows(rows, ["model", "test_accuracy", "parameters", "flops"], "rows")
    stats = summarise_runs(rows, ["model", "parameters", "flops"])
    timed = all("train_seconds" in r for r in rows)
    fig, axes = plt.subplots(1, 3 + timed, figsize=(12 + 1.6 * timed, 3.4), layout="constrained", sharey=True)
    names = [s["model"] for s in stats]
    y = np.arange(len(names))
    cols = [_COLOURS[i % len(_COLOURS)] for i in range(len(names))]
    single = all(s["runs"] == 1 for s in stats)
    n_test = {r["model"]: int(r.get("test_images", 1000)) for r in rows}
    errs = [100 * (1 - s["mean"]) for s in stats]
    bars = [100 * (math.sqrt(s["mean"] * (1 - s["mean"]) / n_test[s["model"]]) if s["runs"] == 1 else s["std"])
            for s in stats]
    what = "binomial SE, one run each" if single else "± 1 sd over seeds"
    panels = (
        (errs, f"test error (%), from zero ({what})", "{:.1f}"),
        ([s["parameters"] / 1e3 for s in stats], "parameters (thousands)", "{:.0f}k"),
        ([s["flops"] / 1e6 for s in stats], "forward MFLOPs per 28x28 image", "{:.1f}"),
    )
    if timed:
        seconds = {s["model"]: s["mean"] for s in summarise_runs(rows, ["model"], value="train_seconds")}
        panels += (([seconds[m] / 60 for m in names], "training time (minutes, one CPU thread)", "{:.1f}"),)
    for i, (ax, (vals, label, fmt)) in enumerate(zip(axes, panels)):
        ax.barh(y, vals, color=cols, xerr=bars if i == 0 else None,
                error_kw={"ecolor": "#374151", "capsize": 3, "elinewidth": 1})
        for yi, v, b in zip(y, vals, bars if i == 0 else [0] * len(vals)):
            ax.text(v + b, yi, " " + fmt.format(v), va="center", fontsize=8.5)
        ax.set_xlabel(label)
        ax.set_xlim(0, max(v + b for v, b in zip(vals, bars if i == 0 else [0] * len(vals))) * 1.3)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y, names)
    axes[0].invert_yaxis()
    return fig


def plot_error_curves(rows: Sequence[Mapping], fits: Mapping[str, Mapping] | None = None,
                      title: str | None = None, xlabel: str | None = None) -> Figure:
    """Test **error** against the number of training images on log-log axes,
    one colour per model: the mean over seeds with error bars of one standard
    deviation, each seed as a small dot, and (if given) the fitted power law
    of :func:`~vit_tutorial.variants.fit_learning_curve` as a line, its slope
    and interval in the legend. Parallel lines mean a constant error ratio.
    The legend sits under the axes (one row per model), where it covers no point.

    Args:
        rows: result rows with ``model``, ``train_images``, ``test_accuracy``.
        fits: model -> fit (``slope``, ``intercept``, ``slope_ci``), optional.
        title, xlabel: optional texts.
    """
    rows = _check_rows(rows, ["model", "train_images", "test_accuracy"], "rows")
    if fits is not None and not isinstance(fits, Mapping):
        raise TypeError(f"fits must be a dict model -> fit or None, got {type(fits).__name__}")
    stats = summarise_runs(rows, ["model", "train_images"])
    models = list(dict.fromkeys(s["model"] for s in stats))
    fig, ax = plt.subplots(figsize=(6.6, 4.5), layout="constrained")
    for i, m in enumerate(models):
        colour = _COLOURS[i % len(_COLOURS)]
        pts = sorted((s["train_images"], 100 * (1 - s["mean"]), 100 * s["std"], s["runs"]) for s in stats
                     if s["model"] == m)
        x, y, e, n = (np.array(v) for v in zip(*pts))
        label = m + (f" (mean ± sd of {n.min()} seeds)" if n.min() > 1 else " (one run)")
        ax.errorbar(x, y, yerr=e if n.max() > 1 else None, fmt="o", color=colour, capsize=4, label=label, zorder=3)
        seeds = [(r["train_images"], 100 * (1 - r["test_accuracy"])) for r in rows if r["model"] == m]
        ax.scatter(*zip(*seeds), s=9, color=colour, alpha=0.45, zorder=2)
        if fits and m in fits:
            f = fits[m]
            xs = np.geomspace(x.min(), x.max(), 50)
            lo, hi = f["slope_ci"]
            ax.plot(xs, 100 * np.exp(f["intercept"]) * xs ** f["slope"], "-", color=colour, alpha=0.8,
                    label=f"fit: error ∝ n^{f['slope']:.2f} (95 % interval {lo:.2f} to {hi:.2f})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    xs = sorted({s["train_images"] for s in stats})
    ax.set_xticks(xs, [f"{v:,}" for v in xs])
    ax.minorticks_off()
    errs = [100 * (1 - r["test_accuracy"]) for r in rows]
    lo, hi = max(min(errs), 1e-3) * 0.7, max(errs) * 1.4
    _plain_log_ticks(ax.yaxis, (lo, hi))
    ax.set_ylim(lo, hi)
    ax.set_xlabel(xlabel or "training images (log scale)")
    ax.set_ylabel("test error (%, log scale)")
    ax.grid(alpha=0.3, which="both")
    _legend_below(fig, ax)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def _legend_below(fig: Figure, ax) -> None:
    """The legend under the axes, outside the data, so that it covers no point:
    one row per model, its points on the left and its fit (if any) on the right."""
    handles, labels = ax.get_legend_handles_labels()
    points = [i for i, l in enumerate(labels) if not l.startswith("fit")]
    fits = [i for i, l in enumerate(labels) if l.startswith("fit")]
    order = points + fits  # filled column by column: points in the first column, fits in the second
    fig.legend([handles[i] for i in order], [labels[i] for i in order], loc="outside lower center",
               ncol=2 if fits else 1, fontsize=7.5, frameon=False)


def plot_shuffle_arms(rows: Sequence[Mapping], title: str | None = None, xlabel: str | None = None) -> Figure:
    """Test error (%) of each model under each fixed shuffle (``arm``), as bars
    from zero: the mean over seeds, an error bar of one standard deviation,
    and every seed as a dot.

    Any result with two factors fits (chapter 11 also draws depth arms and the
    transfer arms with it): ``model`` gives the colour, ``arm`` the group.

    Args:
        rows: rows with ``model``, ``arm`` and ``test_accuracy``.
        title: optional title.
        xlabel: the label under the groups (default: the fixed shuffles').
    """
    rows = _check_rows(rows, ["model", "arm", "test_accuracy"], "rows")
    stats = summarise_runs(rows, ["model", "arm"])
    models = list(dict.fromkeys(s["model"] for s in stats))
    arms = list(dict.fromkeys(s["arm"] for s in stats))
    width = 0.8 / len(models)
    fig, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
    tops = [0.0]
    for i, m in enumerate(models):
        colour = _COLOURS[i % len(_COLOURS)]
        for j, a in enumerate(arms):
            st = [s for s in stats if s["model"] == m and s["arm"] == a]
            if not st:
                continue
            x = j + (i - (len(models) - 1) / 2) * width
            mean, sd = 100 * (1 - st[0]["mean"]), 100 * st[0]["std"]
            ax.bar(x, mean, width * 0.9, color=colour, alpha=0.75, label=m if j == 0 else None,
                   yerr=sd if st[0]["runs"] > 1 else None, capsize=4)
            dots = [100 * (1 - r["test_accuracy"]) for r in rows if r["model"] == m and r["arm"] == a]
            ax.scatter([x] * len(dots), dots, s=12, color="black", zorder=3)
            top = max([mean + sd, *dots])
            tops.append(top)
            ax.annotate(f"{mean:.1f}", (x, top), textcoords="offset points", xytext=(0, 4), ha="center",
                        va="bottom", fontsize=8.5)  # above the bar, its error bar and its seeds
    ax.set_xticks(range(len(arms)), arms)
    ax.set_ylim(0, 1.3 * max(tops))  # room for the labels and the legend above the tallest bar
    ax.set_ylabel("test error (%), from zero")
    ax.set_xlabel(xlabel or "fixed shuffle applied to every image")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=9)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def plot_depth_collapse(rows: Sequence[Mapping]) -> Figure:
    """Attention collapse against undertraining, over seeds: for each model
    (``model``), left the DeepViT similarity of block l with block l+1
    (``consecutive_columns``), right the attention entropy per block divided
    by log T (``entropy_share``); trained models in colour (mean over seeds as
    a line, a band of one standard deviation), their untrained starts as
    dotted grey lines.

    Args:
        rows: rows of ``depth_layerscale.json``, each with ``model`` and
            ``trained`` / ``untrained`` dicts holding the two lists.
    """
    rows = _check_rows(rows, ["model", "trained", "untrained"], "rows")
    models = list(dict.fromkeys(r["model"] for r in rows))
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 3.9), layout="constrained")
    longest = 0
    for i, m in enumerate(models):
        colour = _COLOURS[i % len(_COLOURS)]
        mine = [r for r in rows if r["model"] == m]
        for ax, key in zip(axes, ("consecutive_columns", "entropy_share")):
            for state, style in (("trained", "-"), ("untrained", ":")):
                vals = np.asarray([r[state][key] for r in mine], float)  # (seeds, L-1) or (seeds, L)
                x = np.arange(1, vals.shape[1] + 1)
                longest = max(longest, len(x) + 1)
                mean, sd = vals.mean(0), (vals.std(0, ddof=1) if len(vals) > 1 else np.zeros(vals.shape[1]))
                c = colour if state == "trained" else "#9ca3af"
                label = f"{m} ({len(vals)} seeds)" if state == "trained" else (f"{m}, untrained" if i == 0 or
                                                                                  "LayerScale" in m else None)
                ax.plot(x, mean, style, marker="o" if state == "trained" else None, ms=3.5, color=c, lw=1.6,
                        label=label)
                if state == "trained" and len(vals) > 1:
                    ax.fill_between(x, mean - sd, mean + sd, color=colour, alpha=0.18)
    axes[0].set_xlabel("l: block l against block l+1")
    axes[0].set_ylabel("DeepViT similarity (columns)")
    axes[0].set_ylim(0, 1.03)
    axes[1].axhline(1.0, color="black", lw=0.8, ls=":")
    axes[1].set_xlabel("block")
    axes[1].set_ylabel("entropy / log T (1 = uniform)")
    for ax in axes:
        ax.set_xticks(range(1, longest + 1, 1 if longest <= 13 else 2))
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="lower left")
    return fig
