"""Figures for chapter 12 (after ViT) that the results files do not draw.

* :func:`plot_window_partition`: a token grid and the windows
  :func:`~vit_tutorial.variants.window_partition` cuts it into, token by token;
* :func:`plot_attention_flops`: the analytic FLOPs of global, window and
  spatial-reduction attention against the number of tokens;
* :func:`plot_attention_cost`: measured time and memory of one attention
  layer (``attention_cost.json``), log-log, with fitted exponents;
* :func:`plot_peg_signal`: the position signal a PEG gives identical tokens,
  on grids of several sizes.

The figures of chapter 12 that read ``variants.json`` or draw which tokens a
query reaches live in :mod:`vit_tutorial.viz.problems`. Every function returns
a matplotlib ``Figure`` and never calls ``plt.show()``.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from .._checks import check_positive_int
from ..variants.cost import (
    fit_power_law,
    global_attention_flops,
    spatial_reduction_attention_flops,
    window_attention_flops,
)
from ..variants.peg import PositionEncodingGenerator
from ..variants.window_attention import window_partition

__all__ = ["plot_window_partition", "plot_attention_flops", "plot_attention_cost", "plot_peg_signal"]

_COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563")
_PASTELS = ("#93c5fd", "#fca5a5", "#86efac", "#fcd34d", "#c4b5fd", "#fdba74", "#a5f3fc", "#f9a8d4", "#d9f99d",
            "#e5e7eb", "#bfdbfe", "#fecaca")


def _check_grid_pair(grid: object, name: str = "grid") -> tuple[int, int]:
    if not isinstance(grid, (tuple, list)) or len(grid) != 2:
        raise ValueError(f"{name} must be a pair (rows, cols), got {grid!r}")
    return check_positive_int(grid[0], f"{name} rows"), check_positive_int(grid[1], f"{name} cols")


def plot_window_partition(grid: tuple[int, int] = (4, 6), window: int = 2) -> Figure:
    """A token grid and the windows it is cut into, computed with
    :func:`~vit_tutorial.variants.window_partition`.

    Left: the (Hg, Wg) grid, each token numbered by its place in the
    row-major sequence and coloured by its window. Right: the output of
    ``window_partition``, one row per window (nW rows of w*w tokens), with
    the same numbers and colours.

    Args:
        grid: (Hg, Wg), both multiples of ``window``; at most 12 windows.
        window: w.
    """
    Hg, Wg = _check_grid_pair(grid)
    w = check_positive_int(window, "window")
    if Hg % w or Wg % w:
        raise ValueError(f"grid {Hg}x{Wg} must have both sides multiples of the window {w}")
    nW = (Hg // w) * (Wg // w)
    if nW > len(_PASTELS):
        raise ValueError(f"at most {len(_PASTELS)} windows can be told apart by colour, got {nW}")
    ids = torch.arange(Hg * Wg).reshape(1, Hg, Wg, 1).float()  # (1, Hg, Wg, 1): token numbers
    windows = window_partition(ids, w).squeeze(-1).long().numpy()  # (nW, w*w)
    of_window = np.zeros(Hg * Wg, int)
    for k, row in enumerate(windows):
        of_window[row] = k
    cmap = ListedColormap(_PASTELS[:nW])
    fig, (axg, axw) = plt.subplots(1, 2, figsize=(10.5, 3.6), layout="constrained",
                                   gridspec_kw={"width_ratios": [Wg, 1.25 * w * w]})
    axg.imshow(of_window.reshape(Hg, Wg), cmap=cmap, vmin=-0.5, vmax=nW - 0.5)
    for t in range(Hg * Wg):
        axg.text(t % Wg, t // Wg, str(t), ha="center", va="center", fontsize=9)
    for r in range(0, Hg + 1, w):
        axg.axhline(r - 0.5, color="black", lw=2)
    for c in range(0, Wg + 1, w):
        axg.axvline(c - 0.5, color="black", lw=2)
    axg.set_xticks(range(Wg))
    axg.set_yticks(range(Hg))
    axg.set_xlabel("column")
    axg.set_ylabel("row")
    axg.set_title(f"token grid (Hg, Wg) = ({Hg}, {Wg}), windows of {w}x{w}", fontsize=10)
    axw.imshow(np.repeat(np.arange(nW)[:, None], w * w, axis=1), cmap=cmap, vmin=-0.5, vmax=nW - 0.5, aspect="auto")
    for k in range(nW):
        for j in range(w * w):
            axw.text(j, k, str(windows[k, j]), ha="center", va="center", fontsize=9)
    for k in range(nW + 1):
        axw.axhline(k - 0.5, color="white", lw=2)
    axw.set_xticks(range(w * w))
    axw.set_yticks(range(nW))
    axw.set_xlabel("position inside the window (row-major)")
    axw.set_ylabel("window")
    axw.set_title(f"window_partition: (nW, w*w) = ({nW}, {w * w})", fontsize=10)
    return fig


def _sides(window: int, reduction: int, max_side: int) -> list[int]:
    step = window * reduction // math.gcd(window, reduction)  # lcm: every grid splits into both
    return list(range(step, max_side + 1, step))


def plot_attention_flops(
    dim: int = 64,
    window: int = 8,
    reduction: int = 4,
    max_side: int = 128,
    marks: Mapping[str, int] | None = None,
) -> Figure:
    """Analytic FLOPs of one attention layer against the number of tokens N.

    Global attention (8 N D^2 + 4 N^2 D), window attention with w x w
    windows (8 N D^2 + 4 N w^2 D) and spatial-reduction attention with ratio
    R, on square grids whose side is a multiple of both w and R, up to
    ``max_side``. The legend gives each curve's slope between its last two
    points (1: linear, 2: quadratic in N).

    Args:
        dim: D.
        window: w.
        reduction: R.
        max_side: the largest grid side.
        marks: ``{label: N}``, token counts marked by vertical lines.
    """
    D = check_positive_int(dim, "dim")
    w = check_positive_int(window, "window")
    R = check_positive_int(reduction, "reduction")
    check_positive_int(max_side, "max_side")
    sides = _sides(w, R, max_side)
    if len(sides) < 2:
        raise ValueError(f"max_side {max_side} leaves fewer than two grid sides that are multiples of "
                         f"window {w} and reduction {R}; expected max_side >= {2 * sides[0] if sides else 2 * w * R}")
    if marks is not None and not isinstance(marks, Mapping):
        raise ValueError(f"marks must be a dict {{label: N}}, got {type(marks).__name__}")
    marks = dict(marks or {})
    for label, n in marks.items():
        check_positive_int(n, f"marks[{label!r}]")
    N = np.array([s * s for s in sides])
    curves = {
        "global": [global_attention_flops(int(n), D) for n in N],
        f"window {w}x{w}": [window_attention_flops(int(n), D, w) for n in N],
        f"spatial reduction R={R}": [spatial_reduction_attention_flops(int(n), D, R) for n in N],
    }
    fig, ax = plt.subplots(figsize=(6.6, 4.0), layout="constrained")
    for i, (label, y) in enumerate(curves.items()):
        y = np.asarray(y, float)
        slope = math.log(y[-1] / y[-2]) / math.log(N[-1] / N[-2])
        ax.plot(N, y, "o-", color=_COLOURS[i], ms=3.5, lw=1.6, label=f"{label}: slope {slope:.2f} at the right")
    ax.plot(N, 8.0 * N * D * D, ":", color="grey", lw=1.2, label="projections alone (8 N D²)")
    for label, n in marks.items():
        ax.axvline(n, color="#9ca3af", lw=0.8, ls="--")
        ax.annotate(label, (n, 0.97), xycoords=("data", "axes fraction"), rotation=90, va="top", ha="right",
                    fontsize=8, color="#4b5563", xytext=(-2, 0), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"tokens N (square grids, sides {sides[0]} to {sides[-1]})")
    ax.set_ylabel("FLOPs of one layer (multiply-add = 2)")
    ax.set_title(f"one attention layer, D = {D}", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    fig.legend(fontsize=8.5, loc="outside lower center", ncols=2)
    return fig


_ROW_KEYS = ("kind", "tokens", "seconds", "peak_memory_bytes")


def plot_attention_cost(rows: Sequence[Mapping], fit_min: int = 1024) -> Figure:
    """Measured cost of one attention layer against N, log-log: CPU time
    (left) and the peak memory one forward adds (right), one line per kind.

    Each line's exponent k of c * N^k is fitted
    (:func:`~vit_tutorial.variants.fit_power_law`) to its points with
    N >= ``fit_min`` and given in the legend; memory values of 0 (below what
    the measurement resolves) are left out.

    Args:
        rows: rows of ``attention_cost.json`` (keys ``kind``, ``tokens``,
            ``seconds``, ``peak_memory_bytes``).
        fit_min: the smallest N used in the fits.
    """
    if not isinstance(rows, Sequence) or isinstance(rows, (str, bytes)) or not rows:
        raise ValueError(f"rows must be a non-empty list of dicts, got {type(rows).__name__}")
    for r in rows:
        if not isinstance(r, Mapping) or not set(_ROW_KEYS) <= set(r):
            raise ValueError(f"each row needs the keys {sorted(_ROW_KEYS)}, got {r!r}")
    check_positive_int(fit_min, "fit_min")
    kinds = list(dict.fromkeys(r["kind"] for r in rows))
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.0), layout="constrained")
    panels = (("seconds", 1e3, "CPU time of one forward (ms)"),
              ("peak_memory_bytes", 2.0**-20, "memory one forward adds (MiB)"))
    for ax, (key, scale, label) in zip(axes, panels):
        for i, kind in enumerate(kinds):
            pts = sorted((float(r["tokens"]), float(r[key]) * scale) for r in rows if r["kind"] == kind)
            pts = [(n, y) for n, y in pts if y > 0]
            if not pts:
                continue
            n, y = (np.array(v) for v in zip(*pts))
            colour = _COLOURS[i % len(_COLOURS)]
            sel = n >= fit_min
            text = kind
            if sel.sum() >= 2:
                k, c = fit_power_law(n[sel], y[sel])
                ax.plot(n[sel], c * n[sel] ** k, "--", color=colour, alpha=0.6, lw=1.4)
                text = f"{kind}: N^{k:.2f}"
            ax.plot(n, y, "o-", color=colour, ms=4, lw=1.2, label=text)
        ax.axvline(fit_min, color="grey", lw=0.8, ls=":")
        ax.annotate("fit range ->", (fit_min, 0.02), xycoords=("data", "axes fraction"), xytext=(4, 0),
                    textcoords="offset points", fontsize=8, color="grey")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("tokens N")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, loc="upper left")
    return fig


def plot_peg_signal(
    peg: PositionEncodingGenerator,
    grids: Sequence[tuple[int, int]] = ((4, 4), (7, 7), (10, 10)),
    channel: int = 0,
) -> Figure:
    """The position signal a PEG adds to identical tokens, on several grids.

    Every token is the same vector of ones, so any difference between the
    outputs comes from the conv's zero padding: the panel shows, for one
    channel, the PEG's output minus its input, token by token.

    Args:
        peg: a :class:`~vit_tutorial.variants.PositionEncodingGenerator`.
        grids: (rows, cols) of each panel.
        channel: the channel shown.
    """
    if not isinstance(peg, PositionEncodingGenerator):
        raise ValueError(f"peg must be a PositionEncodingGenerator, got {type(peg).__name__}")
    if not isinstance(grids, (tuple, list)) or not grids:
        raise ValueError(f"grids must be a non-empty list of (rows, cols) pairs, got {grids!r}")
    grids = [_check_grid_pair(g, "each grid") for g in grids]
    D = peg.dim
    if isinstance(channel, bool) or not isinstance(channel, int) or not 0 <= channel < D:
        raise ValueError(f"channel must be an integer in [0, {D}), got {channel!r}")
    maps = []
    with torch.no_grad():
        for Hg, Wg in grids:
            x = torch.ones(1, Hg * Wg, D)  # (1, N, D): identical tokens
            y = peg(x, (Hg, Wg), num_prefix_tokens=0)  # (1, N, D)
            maps.append((y - x)[0, :, channel].reshape(Hg, Wg).numpy())  # (Hg, Wg)
    lim = max(float(np.abs(m).max()) for m in maps) or 1.0
    fig, axes = plt.subplots(1, len(grids), figsize=(3.3 * len(grids) + 0.8, 3.5), layout="constrained",
                             squeeze=False)
    for ax, (Hg, Wg), m in zip(axes[0], grids, maps):
        im = ax.imshow(m, cmap="coolwarm", vmin=-lim, vmax=lim)
        if Hg * Wg <= 64:
            for r in range(Hg):
                for c in range(Wg):
                    ax.text(c, r, f"{m[r, c] + 0.0:.2f}".replace("-0.00", "0.00"), ha="center", va="center",
                            fontsize=7 if Hg * Wg > 25 else 8.5,
                            color="white" if abs(m[r, c]) > 0.6 * lim else "black")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{Hg}x{Wg} grid: {len(np.unique(m.round(5)))} distinct values", fontsize=9.5)
    fig.colorbar(im, ax=list(axes[0]), shrink=0.85, label=f"PEG(x) - x, channel {channel}")
    return fig
