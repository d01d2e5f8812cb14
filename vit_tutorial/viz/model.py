"""Figures for chapters 6 to 8: the encoder block, the head and loss, and
the whole model's shapes, size and cost.

Every plotting function returns a matplotlib ``Figure`` and never calls
``plt.show()``. :func:`~vit_tutorial.flops.parameter_breakdown` (re-exported
here) computes what :func:`plot_model_cost` shows: a model's parameters, part
by part; the figures only draw.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ..config import ViTConfig
from ..flops import PARAMETER_PARTS, parameter_breakdown, vit_flops  # re-exported: chapter 8 imports them from viz
from ..analysis import patch_cosine_similarity

__all__ = [
    "plot_norm_placement",
    "plot_activation_functions",
    "plot_class_probabilities",
    "plot_shape_flow",
    "PARAMETER_PARTS",
    "parameter_breakdown",
    "plot_model_cost",
    "plot_weight_sizes",
    "plot_token_similarity_depth",
]

_BOX_COLOURS = {"norm": "#fde68a", "attn": "#93c5fd", "mlp": "#86efac", "io": "#e5e7eb", "add": "#ffffff"}


# ---------------------------------------------------------------- chapter 6: the block


def _box(ax, y: float, text: str, kind: str, x: float = 0.0, w: float = 2.2) -> None:
    ax.add_patch(FancyBboxPatch((x - w / 2, y - 0.28), w, 0.56, boxstyle="round,pad=0.02,rounding_size=0.12",
                                facecolor=_BOX_COLOURS[kind], edgecolor="0.25", linewidth=1.2))
    ax.text(x, y, text, ha="center", va="center", fontsize=10)


def _plus(ax, y: float, x: float = 0.0) -> None:
    ax.add_patch(plt.Circle((x, y), 0.2, facecolor="white", edgecolor="0.25", linewidth=1.2))
    ax.text(x, y, "+", ha="center", va="center", fontsize=13)


def _arrow(ax, y0: float, y1: float, x: float = 0.0) -> None:
    ax.add_patch(FancyArrowPatch((x, y0), (x, y1), arrowstyle="-|>", mutation_scale=12, color="0.25",
                                 shrinkA=0, shrinkB=0))


def _skip(ax, y0: float, y1: float, x: float = 0.0) -> None:
    """A residual path leaving the main line at y0 and joining the + at y1."""
    ax.plot([x, x + 1.6, x + 1.6], [y0, y0, y1], color="#dc2626", linewidth=1.6)
    ax.add_patch(FancyArrowPatch((x + 1.6, y1), (x + 0.2, y1), arrowstyle="-|>", mutation_scale=12,
                                 color="#dc2626", shrinkA=0, shrinkB=0))


def _draw_block(ax, stages: list[tuple[str, str]], skips: list[tuple[float, int]]) -> None:
    """One block, top to bottom: a stage per row (``kind`` "add" draws a +), arrows between
    consecutive rows, and residual paths ``(leaves at y, joins the + of row)``."""
    for y, (label, kind) in enumerate(stages):
        if kind == "add":
            _plus(ax, y)
        else:
            _box(ax, y, label, kind)
    for y in range(len(stages) - 1):
        gap0 = 0.2 if stages[y][1] == "add" else 0.28
        gap1 = 0.2 if stages[y + 1][1] == "add" else 0.28
        _arrow(ax, y + gap0, y + 1 - gap1)
    for y0, row in skips:
        _skip(ax, y0, row)


def plot_norm_placement() -> Figure:
    """Block diagrams of a pre-norm block (ViT) and a post-norm block (the
    original Transformer, and PyTorch's default), side by side.

    Returns:
        A matplotlib Figure.
    """
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 6.2), layout="constrained")
    # Pre-norm: x -> LN -> MSA -> + -> LN -> MLP -> + ; the residual path carries x untouched.
    _draw_block(axes[0], [("x  (B, T, D)", "io"), ("LayerNorm", "norm"), ("multi-head attention", "attn"), ("+", "add"),
                          ("LayerNorm", "norm"), ("MLP (GELU)", "mlp"), ("+", "add"), ("output  (B, T, D)", "io")],
                skips=[(0.5, 3), (3.5, 6)])
    axes[0].set_title("pre-norm (ViT)\nx + MSA(LN(x)), then x + MLP(LN(x))", fontsize=11)
    axes[0].text(1.75, 1.6, "residual path:\nnothing on it", color="#dc2626", fontsize=9, va="center")
    axes[0].text(0.0, 7.45, "a pre-norm stack adds one final LayerNorm\nafter its last block (the paper's eq. 4)",
                 ha="center", va="top", fontsize=8.5, color="0.35")
    # Post-norm: x -> MSA -> + -> LN -> MLP -> + -> LN ; every addition is followed by a LayerNorm.
    _draw_block(axes[1], [("x  (B, T, D)", "io"), ("multi-head attention", "attn"), ("+", "add"),
                          ("LayerNorm", "norm"), ("MLP (ReLU)", "mlp"), ("+", "add"), ("LayerNorm", "norm"),
                          ("output  (B, T, D)", "io")],
                skips=[(0.5, 2), (3.5, 5)])
    axes[1].set_title("post-norm (2017 Transformer, PyTorch's default)\nLN(x + MSA(x)), then LN(x + MLP(x))", fontsize=11)
    axes[1].text(1.75, 3.5, "residual path:\npasses through\nevery LayerNorm", color="#dc2626", fontsize=9, va="center")
    for ax in axes:
        ax.set_xlim(-1.6, 3.2)
        ax.set_ylim(7.6, -0.6)  # data flows downwards
        ax.set_aspect("equal")
        ax.axis("off")
    return fig


def plot_activation_functions(lo: float = -4.0, hi: float = 4.0) -> Figure:
    """GELU (ViT's MLP) against ReLU (PyTorch's default in
    ``nn.TransformerEncoderLayer``), with GELU's gate Φ(x).

    Args:
        lo, hi: the range of x.

    Returns:
        A matplotlib Figure.
    """
    if not (isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and lo < hi):
        raise ValueError(f"expected lo < hi, got lo={lo!r}, hi={hi!r}")
    x = torch.linspace(float(lo), float(hi), 401)
    fig, ax = plt.subplots(figsize=(6.0, 3.6), layout="constrained")
    ax.plot(x, torch.relu(x), label="ReLU(x) = max(0, x)", color="#9ca3af", linewidth=2.5)
    ax.plot(x, torch.nn.functional.gelu(x), label="GELU(x) = x·Φ(x)", color="#2563eb", linewidth=2)
    phi = 0.5 * (1 + torch.erf(x / 2**0.5))
    ax.plot(x, phi, label="Φ(x): the share of x let through", color="#2563eb", linestyle="--", linewidth=1.2)
    ax.axhline(0, color="0.3", linewidth=0.8)
    ax.axvline(0, color="0.3", linewidth=0.8)
    ax.set_xlabel("x")
    ax.set_ylabel("output f(x)  (Φ(x): a share, 0 to 1)")
    ax.set_title("GELU is a smooth ReLU: slightly negative just below 0", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    return fig


# ---------------------------------------------------------------- chapter 7: head and loss


def plot_class_probabilities(
    logits: torch.Tensor, label: int, class_names: Sequence[str] | None = None, title: str | None = None
) -> Figure:
    """One image's logits, their softmax, and the cross-entropy of its label.

    Args:
        logits: (K,) scores of one image.
        label: the true class, in [0, K).
        class_names: K names for the x axis (default: 0 .. K-1).
        title: the figure's title.

    Returns:
        A matplotlib Figure with two panels: the logits, and the
        probabilities with -log p(label) written on the true class.
    """
    if not isinstance(logits, torch.Tensor) or logits.dim() != 1:
        raise ValueError(f"logits must be a tensor of shape (K,) for one image, got {tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__}")
    K = logits.shape[0]
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < K:
        raise ValueError(f"label must be a class index in [0, {K}), got {label!r}")
    names = [str(i) for i in range(K)] if class_names is None else list(class_names)
    if len(names) != K:
        raise ValueError(f"class_names must have one name per class ({K}), got {len(names)}")
    z = logits.detach().float()
    p = z.softmax(-1)
    colours = ["#2563eb" if i == label else "#9ca3af" for i in range(K)]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
    a.bar(names, z.numpy(), color=colours)
    a.axhline(0, color="0.3", linewidth=0.8)
    a.set_title("logits: any real numbers", fontsize=10)
    b.bar(names, p.numpy(), color=colours)
    b.set_ylim(0, max(float(p.max()) * 1.3, 0.05))
    b.set_title(f"softmax: positive, sum to {float(p.sum()):.0f}", fontsize=10)
    loss = -torch.log(p[label]).item()
    b.annotate(f"p = {p[label]:.3f}\n-log p = {loss:.3f}", (label, float(p[label])),
               xytext=(0, 8), textcoords="offset points", va="bottom", fontsize=9, color="#1d4ed8",
               ha="left" if label == 0 else "right" if label == K - 1 else "center")
    for ax in (a, b):
        ax.set_xlabel("class")
        ax.grid(axis="y", alpha=0.3)
        if K > 12:
            ax.tick_params(axis="x", labelrotation=90)
    fig.suptitle(title or f"true class {names[label]} (blue): cross-entropy = -log p(true class)", fontsize=11)
    return fig


# ---------------------------------------------------------------- chapter 8: the whole model


def plot_shape_flow(steps: Sequence[tuple[str, Sequence[int]]], title: str | None = None,
                    per_row: int = 4) -> Figure:
    """A chain of boxes, one per step, each with the tensor shape after it.

    Args:
        steps: ``[(name, shape), ...]`` in order, e.g.
            ``[("images", (3, 3, 224, 224)), ("patch embedding", (3, 196, 768)), ...]``.
        title: the figure's title.
        per_row: boxes per row; longer chains continue on the next row, left
            to right again, so the labels stay readable at book width.

    Returns:
        A matplotlib Figure.
    """
    steps = list(steps) if not isinstance(steps, (str, bytes)) else []
    ok = steps and all(isinstance(s, (tuple, list)) and len(s) == 2 and isinstance(s[0], str) for s in steps)
    if not ok:
        raise ValueError("steps must be a non-empty list of (name, shape) pairs")
    if isinstance(per_row, bool) or not isinstance(per_row, int) or per_row < 1:
        raise ValueError(f"per_row must be a positive int, got {per_row!r}")
    n, cols = len(steps), min(len(steps), per_row)
    rows = -(-n // cols)
    w, gap, row_h = 1.7, 0.35, 1.5
    fig, ax = plt.subplots(figsize=(2.05 * cols, 0.4 + 1.35 * rows), layout="constrained")
    cmap = plt.get_cmap("Blues")
    for i, (name, shape) in enumerate(steps):
        x, y = (i % cols) * (w + gap), -(i // cols) * row_h
        ax.add_patch(FancyBboxPatch((x, y), w, 1.0, boxstyle="round,pad=0.02,rounding_size=0.1",
                                    facecolor=cmap(0.15 + 0.5 * i / max(n - 1, 1)), edgecolor="0.3"))
        ax.text(x + w / 2, y + 0.68, name, ha="center", va="center", fontsize=9, wrap=True)
        shape_text = "[" + ", ".join(str(int(s)) for s in shape) + "]" if len(shape) else "scalar"
        ax.text(x + w / 2, y + 0.3, shape_text, ha="center", va="center", fontsize=9.5, family="monospace",
                fontweight="bold")
        if i == n - 1:
            continue
        if (i + 1) % cols:  # the next box is to the right
            start, end, bend = (x + w, y + 0.5), (x + w + gap, y + 0.5), "arc3"
        else:  # the next box starts the next row: down, left, down
            start, end = (x + w / 2, y), (w / 2, y - row_h + 1.0)
            bend = "arc,angleA=-90,angleB=90,armA=14,armB=14,rad=6"
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, color="0.3",
                                     shrinkA=1, shrinkB=1, connectionstyle=bend))
    ax.set_xlim(-0.1, cols * (w + gap) - gap + 0.1)
    ax.set_ylim(-(rows - 1) * row_h - 0.1, 1.1)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=11)
    return fig


# What plot_model_cost draws: (legend label, colour, parameter parts, FLOP parts).
_COST_GROUPS = (
    ("embeddings (patch, class token, positions)", "#9ca3af",
     ("patch embedding", "class token", "position embedding"), ("patch_embedding",)),
    ("attention: q, k, v and output projections", "#2563eb", ("attention",), ("qkv", "attention_output")),
    ("attention: the T x T products QKᵀ and AV", "#f97316", (), ("attention_scores", "attention_values")),
    ("MLP", "#16a34a", ("MLP",), ("mlp",)),
    ("LayerNorms and head", "#a855f7", ("LayerNorms", "head"), ("head",)),
)


def plot_model_cost(configs: Mapping[str, ViTConfig]) -> Figure:
    """Parameters and FLOPs per image of several ViTs, split by part.

    Args:
        configs: ``{name: config}``, e.g. the paper's three presets.

    Returns:
        A matplotlib Figure with two panels of stacked horizontal bars:
        parameters (millions) and FLOPs per image (billions, multiply-add =
        2), both split into embeddings, attention projections, attention's
        T x T products (FLOPs only: they have no parameters), MLP, and
        LayerNorms with the head.
    """
    if not isinstance(configs, Mapping) or not configs or not all(isinstance(c, ViTConfig) for c in configs.values()):
        raise ValueError("configs must be a non-empty dict {name: ViTConfig}")
    names = list(configs)
    params = [parameter_breakdown(configs[n]) for n in names]
    flops = [vit_flops(configs[n]) for n in names]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 1.9 + 0.6 * len(names)), layout="constrained")
    y = np.arange(len(names))
    for ax, data, which, scale, unit in ((a, params, 2, 1e6, "parameters (millions)"),
                                         (b, flops, 3, 1e9, "GFLOPs per image (multiply-add = 2)")):
        left = np.zeros(len(names))
        for group in _COST_GROUPS:
            label, colour, parts = group[0], group[1], group[which]
            values = np.array([sum(d[p] for p in parts) for d in data], dtype=float) / scale
            ax.barh(y, values, left=left, color=colour, label=label, height=0.6)
            left += values
        for yi, total in zip(y, left):
            ax.text(total + left.max() * 0.01, yi, f"{total:,.0f}" if total >= 10 else f"{total:,.1f}",
                    va="center", fontsize=9)
        ax.set_yticks(y, names)
        ax.invert_yaxis()
        ax.set_xlim(0, left.max() * 1.12)
        ax.set_xlabel(unit)
        ax.grid(axis="x", alpha=0.3)
    a.set_title("where the parameters are", fontsize=10)
    b.set_title("where the arithmetic is", fontsize=10)
    handles, _ = b.get_legend_handles_labels()
    fig.legend(handles, _cost_legend_labels(params[0], flops[0]), loc="outside lower center",
               ncol=2, fontsize=8.5, frameon=False)
    return fig


def _cost_legend_labels(params: Mapping[str, int], flops: Mapping[str, int]) -> list[str]:
    """Legend labels with each part's share of the top bar's parameters and
    FLOPs (the small parts are slivers in the bars, so the shares say how small)."""
    total_p, total_f = params["total"], flops["total"]
    labels = []
    for group in _COST_GROUPS:
        p = 100 * sum(params[k] for k in group[2]) / total_p
        f = 100 * sum(flops[k] for k in group[3]) / total_f
        labels.append(f"{group[0]} (top bar: {p:.1f} % of the parameters, {f:.1f} % of the FLOPs)")
    return labels


def plot_weight_sizes(counts: Mapping[str, int], bytes_per_value: int = 4, quoted: Mapping[str, float] | None = None) -> Figure:
    """Size of each model's weights on disk (float32 by default), as bars.

    Args:
        counts: ``{model name: number of parameters}``.
        bytes_per_value: 4 for float32.
        quoted: optional ``{model name: size in MB}`` that a text claims,
            drawn as a hollow bar beside the computed one.

    Returns:
        A matplotlib Figure.
    """
    if not isinstance(counts, Mapping) or not counts:
        raise ValueError("counts must be a non-empty dict {model name: number of parameters}")
    if isinstance(bytes_per_value, bool) or not isinstance(bytes_per_value, int) or bytes_per_value <= 0:
        raise ValueError(f"bytes_per_value must be a positive integer, got {bytes_per_value!r}")
    quoted = dict(quoted or {})
    names = list(counts)
    mb = [counts[n] * bytes_per_value / 1e6 for n in names]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(6.5, 3.6), layout="constrained")
    width = 0.38 if quoted else 0.6
    bars = ax.bar(x - (width / 2 if quoted else 0), mb, width, color="#2563eb", label="computed: parameters x 4 bytes")
    for bar, v, n in zip(bars, mb, names):
        ax.text(bar.get_x() + bar.get_width() / 2, v, f"{v:,.0f} MB\n({counts[n] / 1e6:,.1f}M)", ha="center",
                va="bottom", fontsize=8.5)
    if quoted:
        qv = [quoted.get(n, np.nan) for n in names]
        qb = ax.bar(x + width / 2, qv, width, facecolor="none", edgecolor="#dc2626", hatch="//", label="the article's figure")
        for bar, v in zip(qb, qv):
            if not np.isnan(v):
                ax.text(bar.get_x() + bar.get_width() / 2, v, f"{v:,.0f} MB", ha="center", va="bottom", fontsize=8.5,
                        color="#dc2626")
    ax.set_xticks(x, names)
    top = max(max(mb), max((v for v in quoted.values()), default=0))
    ax.set_ylim(0, top * 1.25)
    ax.set_ylabel(f"weights on disk (MB, {8 * bytes_per_value}-bit floats)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8.5, loc="upper left")
    return fig


def _check_streams(streams: object, shown: object, block: object) -> dict[str, list[torch.Tensor]]:
    """:func:`plot_token_similarity_depth`'s inputs: label -> list of (T, D) states of equal length."""
    if not isinstance(streams, Mapping) or not streams:
        raise ValueError(f"streams must be a non-empty dict label -> list of (T, D) token states, got {streams!r}")
    out = {}
    for label, states in streams.items():
        states = list(states) if isinstance(states, (list, tuple)) else []
        if not states or not all(isinstance(s, torch.Tensor) and s.dim() in (2, 3) for s in states):
            raise ValueError(f"streams[{label!r}] must be a non-empty list of tensors (T, D) or (1, T, D)")
        out[label] = [s.detach().float().cpu().reshape(-1, s.shape[-1]) for s in states]  # each (T, D)
    depths = {len(s) for s in out.values()}
    if len(depths) != 1:
        raise ValueError(f"every stream must hold as many states, got lengths {sorted(depths)}")
    if shown not in out:
        raise ValueError(f"shown must be one of {list(out)}, got {shown!r}")
    L = depths.pop() - 1
    if isinstance(block, bool) or not isinstance(block, int) or not 0 <= block <= L:
        raise ValueError(f"block must be an integer in [0, {L}], got {block!r}")
    return out


def plot_token_similarity_depth(
    streams: Mapping[str, Sequence[torch.Tensor]], block: int, shown: str, num_prefix_tokens: int = 1,
    vmin: float = 0.0,
) -> Figure:
    """How alike the patch tokens are after each block, for one or more
    versions of an encoder (e.g. with and without residual connections).

    Args:
        streams: label -> the L + 1 token states of one image, each (T, D)
            or (1, T, D): the encoder's input, then the state after each block.
        block: the state shown on the left (0: the input, l: after block l).
        shown: the label whose state is shown on the left.
        num_prefix_tokens: tokens before the patches (1: the class token), left out.
        vmin: the similarity drawn darkest on the left (the brightest is 1).

    Returns:
        A matplotlib Figure: left, the (N, N) cosine similarities of the patch
        tokens of ``streams[shown][block]``; right, their mean (self-pairs
        included) after every block, one curve per label.
    """
    streams = _check_streams(streams, shown, block)
    if isinstance(vmin, bool) or not isinstance(vmin, (int, float)) or not -1.0 <= vmin < 1.0:
        raise ValueError(f"vmin must be a number in [-1, 1), got {vmin!r}")
    sims = {k: [patch_cosine_similarity(s, num_prefix_tokens) for s in v] for k, v in streams.items()}  # (N, N) each
    fig, (a, b) = plt.subplots(1, 2, figsize=(10.0, 3.9), layout="constrained", gridspec_kw=dict(width_ratios=[1, 1.3]))
    im = a.imshow(sims[shown][block].numpy(), cmap="viridis", vmin=vmin, vmax=1, interpolation="nearest")
    where = "the encoder's input" if block == 0 else f"after block {block}"
    a.set_title(f"{shown}: {where}\ncos(token i, token j) of the patch tokens", fontsize=10)
    a.set_xlabel("patch j")
    a.set_ylabel("patch i")
    fig.colorbar(im, ax=a, shrink=0.85)
    colours = plt.get_cmap("tab10")
    for k, (label, per_block) in enumerate(sims.items()):
        means = [m.mean().item() for m in per_block]
        b.plot(range(len(means)), means, marker="o", markersize=4, color=colours(k), label=label,
               lw=2.5 if label == shown else 1.2)
        if label == shown:
            b.plot([block], [means[block]], "o", markersize=11, markerfacecolor="none", markeredgecolor="black")
            b.annotate(f"{means[block]:.3f}", (block, means[block]), xytext=(-8, 9), textcoords="offset points",
                       ha="right", fontsize=9)
    b.set_ylim(min(0.0, *(m.mean().item() for v in sims.values() for m in v)) - 0.02, 1.02)
    b.set_xlabel("block (0: the encoder's input)")
    b.set_ylabel("mean cosine similarity of the patch tokens")
    b.grid(alpha=0.3)
    b.legend(fontsize=8.5, loc="best")
    return fig
