"""Figures and tables for the appendix "How fast is it?".

Every function takes the parsed JSON that one script in ``benchmarks/``
wrote to the package's results, ``vit_tutorial/results/`` (read it with
:func:`load_result`; see :mod:`vit_tutorial.results` for the common
envelope: ``benchmark``, ``timestamp``, ``machine``, ``settings``, ``rows``)
and draws it; nothing here measures anything. Plots return a matplotlib
``Figure`` and never call ``plt.show()``; :func:`results_table` returns a
:class:`ResultsTable` that a notebook displays as an HTML table (and whose
plain text nbval compares).
"""
from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .. import results as _results

__all__ = [
    "RESULTS_DIR",
    "load_result",
    "ResultsTable",
    "results_table",
    "plot_throughput",
    "plot_machine_limit",
    "plot_time_breakdown",
    "plot_attention_paths",
    "plot_book_time",
    "plot_training_time",
]

OURS, THEIRS, NEUTRAL = "#1f77b4", "#ff7f0e", "#7f7f7f"


# ---------------------------------------------------------------- input


def _check_doc(doc: object, benchmark: str, keys: Sequence[str] = ("rows",)) -> Mapping:
    """Raise unless ``doc`` is the result of the benchmark ``benchmark``."""
    if not isinstance(doc, Mapping):
        raise ValueError(f"expected the parsed result {benchmark!r} (a dict, from load_result), "
                         f"got {type(doc).__name__}")
    if doc.get("benchmark") != benchmark:
        raise ValueError(f"expected the result of the {benchmark!r} benchmark, got "
                         f"benchmark={doc.get('benchmark')!r}")
    missing = [k for k in keys if k not in doc]
    if missing:
        raise ValueError(f"the {benchmark!r} result lacks the keys {missing}; re-run benchmarks/{benchmark}.py")
    if "rows" in keys and (not isinstance(doc["rows"], Sequence) or not doc["rows"]):
        raise ValueError(f"the {benchmark!r} result has no rows; re-run benchmarks/{benchmark}.py")
    return doc


def _check_row_keys(rows: Sequence[Mapping], keys: Sequence[str], benchmark: str) -> None:
    for i, row in enumerate(rows):
        missing = [k for k in keys if k not in row]
        if missing:
            raise ValueError(f"row {i} of the {benchmark!r} result lacks {missing}; expected the keys {list(keys)}")


#: The folder of the shipped results (package data, ``vit_tutorial/results``;
#: written there by the scripts in ``benchmarks/``). Kept for old code: read a
#: result with :func:`load_result` or :func:`vit_tutorial.results.load`.
RESULTS_DIR = _results.results_folder()


def load_result(name: str, folder: str | Path | None = None) -> dict:
    """Read one benchmark result.

    Args:
        name: the benchmark, e.g. ``"throughput_vs_hf"`` (no folder, no ``.json``).
        folder: read ``<folder>/<name>.json`` instead (e.g. your own re-run
            written with ``--out``); default: the result shipped with the
            package, through :func:`vit_tutorial.results.load` (validated
            against its schema).

    Returns:
        The parsed dict; it has at least ``benchmark`` (the results of this
        appendix's scripts also have ``timestamp`` and ``machine`` at the top;
        ``train_mnist`` keeps them per set of runs).
    """
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.endswith(".json"):
        raise ValueError(f"name must be a benchmark name such as 'throughput_vs_hf' (no folder, no .json), "
                         f"got {name!r}")
    if folder is not None and not isinstance(folder, (str, Path)):
        raise ValueError(f"folder must be a str or pathlib.Path, got {type(folder).__name__}")
    if folder is None:
        benchmarks = sorted(n for n, s in _results.SCHEMAS.items() if s.kind == "benchmark")
        if name not in benchmarks:
            raise ValueError(f"unknown benchmark {name!r}; expected one of {benchmarks}")
        return _results.load(name)
    p = Path(folder) / f"{name}.json"
    if not p.is_file():
        raise ValueError(f"no benchmark result at {p}; run `python benchmarks/run_all.py --out {folder}` to create it")
    try:
        doc = json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{p} is not valid JSON: {e}") from None
    if not isinstance(doc, dict) or "benchmark" not in doc:
        raise ValueError(f"{p} is not a benchmark result: it has no 'benchmark' key")
    return doc


# ---------------------------------------------------------------- tables


class ResultsTable:
    """A small table that shows as HTML in a notebook and as aligned text
    elsewhere (the text is what nbval compares).

    Args:
        header: the column titles.
        rows: the rows, each a sequence of already formatted strings.
        caption: optional title.
    """

    def __init__(self, header: Sequence[str], rows: Sequence[Sequence[str]], caption: str = "") -> None:
        self.header = [str(h) for h in header]
        self.rows = [[str(c) for c in r] for r in rows]
        self.caption = caption
        bad = [i for i, r in enumerate(self.rows) if len(r) != len(self.header)]
        if bad:
            raise ValueError(f"rows {bad} do not have {len(self.header)} cells like the header {self.header}")

    def __repr__(self) -> str:
        cells = [self.header, *self.rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.header))]
        lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(([self.caption] if self.caption else []) + lines)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in self.rows)
        cap = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return (f'<table class="table" style="font-size: 0.88em">{cap}<thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")


def results_table(
    rows: Sequence[Mapping], columns: Sequence[tuple[str, str, str]], caption: str = ""
) -> ResultsTable:
    """Pick and format columns of benchmark rows.

    Args:
        rows: the ``rows`` of a result (dicts).
        columns: ``(key, title, format)`` triples; ``format`` is a format
            spec such as ``".1f"`` or ``".0%"``, or ``""`` for ``str``.
        caption: optional title.

    Example::

        results_table(doc["rows"], [("T", "tokens", "d"), ("fused_ms", "fused (ms)", ".2f")])
    """
    if isinstance(rows, Mapping) or not isinstance(rows, Sequence):
        raise ValueError(f"rows must be a list of dicts (a result's 'rows'), got {type(rows).__name__}")
    if not columns or any(not (isinstance(c, tuple) and len(c) == 3) for c in columns):
        raise ValueError(f"columns must be a non-empty list of (key, title, format) triples, got {columns!r}")
    _check_row_keys(rows, [k for k, _, _ in columns], "table")
    out = []
    for row in rows:
        out.append(["" if row[k] is None else format(row[k], spec) if spec else str(row[k]) for k, _, spec in columns])
    return ResultsTable([t for _, t, _ in columns], out, caption)


# ---------------------------------------------------------------- plots


def _label_bars(ax, bars, labels: Sequence[str], horizontal: bool = False, fontsize: float = 8.5) -> None:
    for bar, text in zip(bars, labels):
        if horizontal:
            ax.annotate(text, (bar.get_width(), bar.get_y() + bar.get_height() / 2), xytext=(4, 0),
                        textcoords="offset points", va="center", ha="left", fontsize=fontsize)
        else:
            ax.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()), xytext=(0, 3),
                        textcoords="offset points", ha="center", va="bottom", fontsize=fontsize)


def plot_throughput(doc: Mapping) -> Figure:
    """Images per second of our ViT and transformers', one panel per model.

    Args:
        doc: the result of ``benchmarks/throughput_vs_hf.py``.

    Returns:
        A figure with one panel per (model, batch): for each measurement
        (forward, train step, explicit-vs-eager forward) a pair of bars
        (ours, transformers) with their interquartile range, labelled with
        the median per-round ratio (ours / theirs).
    """
    _check_doc(doc, "throughput_vs_hf")
    keys = ("model", "batch", "mode", "ours_attention", "hf_attention", "ours_img_s", "hf_img_s", "ratio",
            "ours_img_s_q1", "ours_img_s_q3", "hf_img_s_q1", "hf_img_s_q3")
    _check_row_keys(doc["rows"], keys, "throughput_vs_hf")
    groups: dict[tuple, list] = {}
    for row in doc["rows"]:
        groups.setdefault((row["model"], row["batch"]), []).append(row)
    fig, axes = plt.subplots(1, len(groups), figsize=(min(4.0 * len(groups), 8.0), 4.2), layout="constrained",
                             squeeze=False)
    for ax, ((model, batch), rows) in zip(axes[0], groups.items()):
        x = np.arange(len(rows))
        w = 0.38
        for side, (key, colour, label) in enumerate((("ours", OURS, "vit_tutorial"), ("hf", THEIRS, "transformers"))):
            vals = np.array([r[f"{key}_img_s"] for r in rows])
            lo = vals - np.array([r[f"{key}_img_s_q1"] for r in rows])
            hi = np.array([r[f"{key}_img_s_q3"] for r in rows]) - vals
            ax.bar(x + (side - 0.5) * w, vals, w, color=colour, label=label,
                   yerr=np.clip(np.vstack([lo, hi]), 0, None), capsize=3, error_kw={"elinewidth": 0.8})
        top = max(max(r["ours_img_s_q3"], r["hf_img_s_q3"]) for r in rows)
        for i, r in enumerate(rows):
            ax.annotate(f"x{r['ratio']:.2f}", (i, max(r["ours_img_s_q3"], r["hf_img_s_q3"])), xytext=(0, 4),
                        textcoords="offset points", ha="center", fontsize=9, fontweight="bold")
        ax.set_ylim(0, top * 1.18)
        ax.set_xticks(x, [f"{r['mode']}\n{r['ours_attention']}\n/ {r['hf_attention']}" for r in rows], fontsize=8)
        ax.set_ylabel("images per second")
        ax.set_title(f"{model}, batch {batch}", fontsize=11)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=9, frameon=False)
    fig.suptitle("Images per second, ours against transformers\n(label: median per-round ratio ours / theirs; "
                 "bars: median, whiskers: interquartile range)", fontsize=10)
    return fig


_CONTENDER_LABELS = {
    "matmul": "4096x4096 matmul",
    "vit_gemms": "ViT's 4 GEMMs alone",
    "ours": "our ViT forward",
    "transformers": "transformers' ViT forward",
}


def plot_machine_limit(doc: Mapping, target: float = 0.8) -> Figure:
    """Achieved GFLOP/s of each contender, as bars, with the share of the
    large matmul's rate and a line at ``target`` times that rate.

    Args:
        doc: the result of ``benchmarks/machine_limit.py``.
        target: the share of the matmul rate to mark (0.8: 80 %).
    """
    _check_doc(doc, "machine_limit", ("rows", "settings"))
    _check_row_keys(doc["rows"], ("name", "gflops", "gflops_q1", "gflops_q3", "share_of_matmul"), "machine_limit")
    if not isinstance(target, (int, float)) or not 0 < target <= 1:
        raise ValueError(f"target must be a share in (0, 1], got {target!r}")
    rows = list(doc["rows"])
    names = [r["name"] for r in rows]
    if "matmul" not in names:
        raise ValueError(f"the machine_limit result has no 'matmul' row, got rows {names}")
    fig, ax = plt.subplots(figsize=(7.6, 0.62 * len(rows) + 1.3), layout="constrained")
    y = np.arange(len(rows))[::-1]
    vals = np.array([r["gflops"] for r in rows])
    err = np.clip(np.vstack([vals - [r["gflops_q1"] for r in rows], [r["gflops_q3"] for r in rows] - vals]), 0, None)
    colours = [NEUTRAL if r["name"] in ("matmul", "vit_gemms") else OURS if r["name"] == "ours" else THEIRS
               for r in rows]
    ax.barh(y, vals, color=colours, xerr=err, capsize=3, error_kw={"elinewidth": 0.8})
    for yi, v, r in zip(y, vals, rows):
        text = f"{v:.0f} GFLOP/s, {r['share_of_matmul']:.0%} of matmul"
        if v >= 0.45 * vals.max():  # inside the bar, clear of the whiskers and the target line
            ax.text(0.02 * vals.max(), yi, text, va="center", ha="left", fontsize=8.5, color="white",
                    fontweight="bold")
        else:
            ax.annotate(text, (max(v, r["gflops_q3"]), yi), xytext=(6, 0), textcoords="offset points",
                        va="center", fontsize=8.5)
    peak = rows[names.index("matmul")]["gflops"]
    ax.axvline(target * peak, color="black", lw=1, ls="--")
    ax.annotate(f"{target:.0%} of matmul", (target * peak, y.max() + 0.45), ha="center", va="bottom", fontsize=8)
    ax.set_yticks(y, [_CONTENDER_LABELS.get(n, n) for n in names])
    ax.set_xlim(0, max(vals.max(), max(r["gflops_q3"] for r in rows)) * 1.08)
    ax.set_ylim(-0.6, len(rows) - 0.1)
    ax.set_xlabel("GFLOP/s (float32, median; bars: interquartile range)")
    s = doc["settings"]
    ax.set_title(f"{s.get('model', 'ViT')}, batch {s.get('batch', '?')}: achieved against the machine's matmul",
                 fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    return fig


_KIND_COLOURS = {
    "matrix products": OURS,
    "fused attention": "#9467bd",
    "softmax": "#c5b0d5",
    "GELU": "#2ca02c",
    "LayerNorm": "#98df8a",
    "copies": "#d62728",
    "additions": "#ff9896",
    "patch-embedding conv": "#8c564b",
    "class token (cat)": "#c49c94",
    "other": "#c7c7c7",
}


def plot_time_breakdown(doc: Mapping) -> Figure:
    """Where a forward pass spends its time, by kind of operator
    (matrix products, fused attention, GELU, LayerNorm, copies ...), one
    100 % bar per model, from the ``torch.profiler`` run of
    ``benchmarks/machine_limit.py``.
    """
    _check_doc(doc, "machine_limit", ("profiles",))
    profiles = doc["profiles"]
    if not isinstance(profiles, Mapping) or not profiles:
        raise ValueError("the machine_limit result has no profiles; re-run benchmarks/machine_limit.py")
    kinds: list[str] = []
    for prof in profiles.values():
        if "by_kind" not in prof:
            raise ValueError(f"a profile lacks 'by_kind', got keys {sorted(prof)}")
        for k in prof["by_kind"]:
            if k["kind"] not in kinds:
                kinds.append(k["kind"])
    spare = iter(plt.get_cmap("tab20b").colors)
    colours = {k: _KIND_COLOURS.get(k) or next(spare) for k in kinds}
    fig, ax = plt.subplots(figsize=(7.6, 1.0 * len(profiles) + 1.7), layout="constrained")
    names = list(profiles)
    labelled: set[str] = set()
    for i, name in enumerate(names):
        left, y = 0.0, len(names) - 1 - i
        shares = {k["kind"]: k["share"] for k in profiles[name]["by_kind"]}
        for kind in kinds:
            s = shares.get(kind, 0.0)
            if s <= 0:
                continue
            ax.barh(y, s, left=left, color=colours[kind], edgecolor="white", lw=0.6,
                    label=None if kind in labelled else kind)
            labelled.add(kind)
            if s >= 0.05:
                dark = kind in ("matrix products", "fused attention", "copies", "patch-embedding conv")
                ax.text(left + s / 2, y, f"{s:.0%}", ha="center", va="center", fontsize=8.5,
                        color="white" if dark else "black")
            left += s
    ax.set_yticks(range(len(names)), [_CONTENDER_LABELS.get(n, n) for n in names][::-1])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlabel("share of the profiled operator time (torch.profiler, self time)")
    fig.legend(loc="outside lower center", ncol=4, fontsize=8, frameon=False)
    ax.set_title("Where one forward pass spends its time", fontsize=11)
    return fig


def plot_attention_paths(doc: Mapping) -> Figure:
    """Explicit against fused attention as the number of tokens T grows:
    time (left) and peak memory (right), log-log, with the size of one
    (h, T, T) float32 attention matrix for reference.

    Args:
        doc: the result of ``benchmarks/attention_paths.py``.
    """
    _check_doc(doc, "attention_paths")
    _check_row_keys(doc["rows"], ("T", "explicit_ms", "fused_ms", "explicit_peak_mb", "fused_peak_mb",
                                  "attention_matrix_mb"), "attention_paths")
    rows = sorted(doc["rows"], key=lambda r: r["T"])
    T = np.array([r["T"] for r in rows])
    ticks = [int(T[0])]  # label only token counts at least 1.8x apart, so that labels do not collide
    for t in T[1:]:
        if t >= 1.8 * ticks[-1]:
            ticks.append(int(t))
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(8.0, 3.9), layout="constrained")
    a0.plot(T, [r["explicit_ms"] for r in rows], "o-", color=THEIRS, label="explicit softmax(QKᵀ/√d)V")
    a0.plot(T, [r["fused_ms"] for r in rows], "s-", color=OURS, label="fused (SDPA)")
    a0.set_ylabel("time per call (ms, median)")
    a0.set_title("Time", fontsize=11)
    a1.plot(T, [r["explicit_peak_mb"] for r in rows], "o-", color=THEIRS, label="explicit, measured peak")
    a1.plot(T, [r["fused_peak_mb"] for r in rows], "s-", color=OURS, label="fused, measured peak")
    a1.plot(T, [r["attention_matrix_mb"] for r in rows], "k--", lw=1, label="one (h, T, T) matrix")
    a1.set_ylabel("extra memory during the call (MiB)")
    a1.set_title("Peak memory", fontsize=11)
    for ax in (a0, a1):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(ticks, [str(t) for t in ticks], fontsize=8)
        ax.minorticks_off()
        ax.set_xlabel("tokens T")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, frameon=False)
    s = doc.get("settings", {})
    fig.suptitle(f"One attention call, D = {s.get('dim', '?')}, h = {s.get('heads', '?')}, "
                 f"batch {s.get('batch', '?')}", fontsize=11)
    return fig


def plot_book_time(doc: Mapping, target_s: float | None = None) -> Figure:
    """Seconds to execute each notebook from scratch (kernel start included),
    with the total and, if present, the HTML build time in the title.

    Args:
        doc: the result of ``benchmarks/book_time.py``.
        target_s: the total to compare with (default: the result's own
            ``settings["target_total_s"]``).
    """
    _check_doc(doc, "book_time")
    _check_row_keys(doc["rows"], ("notebook", "seconds", "ok"), "book_time")
    if target_s is None:
        target_s = doc.get("settings", {}).get("target_total_s")
    rows = doc["rows"]
    names = [str(r["notebook"]).rsplit("/", 1)[-1].removesuffix(".ipynb") for r in rows]
    secs = np.array([r["seconds"] for r in rows], dtype=float)
    fig, ax = plt.subplots(figsize=(7.6, 0.34 * len(rows) + 1.5), layout="constrained")
    y = np.arange(len(rows))[::-1]
    bars = ax.barh(y, secs, color=[OURS if r["ok"] else "#d62728" for r in rows])
    _label_bars(ax, bars, [f"{s:.0f} s" if r["ok"] else f"{s:.0f} s (failed)" for s, r in zip(secs, rows)],
                horizontal=True, fontsize=8)
    ax.set_yticks(y, names, fontsize=8.5)
    ax.set_xlim(0, secs.max() * 1.2)
    ax.set_xlabel("seconds to execute (fresh kernel, sequential)")
    title = f"Executing the {len(rows)} notebooks: {secs.sum():.0f} s in total"
    if target_s:
        title += f" (target {target_s:.0f} s)"
    build = doc.get("build")
    if build:
        title += f"\nbuilding the HTML from the stored outputs: {build['seconds']:.0f} s"
    ax.set_title(title, fontsize=10.5)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    return fig


def plot_training_time(
    doc: Mapping,
    runs: Sequence[str] = ("vit_1proc_x_1thread", "cnn_1proc_x_1thread"),
    target: float = 0.98,
    budget_s: float | None = 60.0,
) -> Figure:
    """Test accuracy against training time for runs of ``benchmarks/train_mnist.py``.

    Each run stores its test accuracy after every epoch and its mean seconds
    per epoch, so the time axis is epochs x mean seconds per epoch; the moment
    a run first reached ``target`` is marked with the exact ``seconds_to_98``
    the script measured.

    Args:
        doc: the result of ``benchmarks/train_mnist.py`` (its JSON, parsed).
        runs: keys of ``doc["runs"]``, e.g. ``"vit_1proc_x_1thread"`` (the
            chapter's ViT, one process with one thread) or
            ``"cnn_1proc_x_1thread"`` (the CNN baseline).
        target: the accuracy to mark (0.98).
        budget_s: draw the time budget as a vertical line (None: no line).
    """
    _check_doc(doc, "train_mnist", ("runs",))
    if isinstance(runs, str) or not isinstance(runs, Sequence) or not runs:
        raise ValueError(f"runs must be a non-empty list of keys of doc['runs'], got {runs!r}")
    unknown = [r for r in runs if r not in doc["runs"]]
    if unknown:
        raise ValueError(f"the train_mnist result has no runs {unknown}; it has {sorted(doc['runs'])}")
    if not isinstance(target, (int, float)) or not 0 < target < 1:
        raise ValueError(f"target must be an accuracy in (0, 1), got {target!r}")
    if budget_s is not None and (not isinstance(budget_s, (int, float)) or budget_s <= 0):
        raise ValueError(f"budget_s must be a positive number of seconds or None, got {budget_s!r}")
    rows = [doc["runs"][r] for r in runs]
    _check_row_keys(rows, ("name", "test_accuracy_per_epoch", "seconds_per_epoch", "seconds_to_98"), "train_mnist")
    fig, ax = plt.subplots(figsize=(7.2, 3.9), layout="constrained")
    for row, colour in zip(rows, [OURS, THEIRS, NEUTRAL, "#2ca02c"]):
        acc = [(i + 1, a) for i, a in enumerate(row["test_accuracy_per_epoch"]) if a is not None]
        t = np.array([e * row["seconds_per_epoch"] for e, _ in acc])
        ax.plot(t, [100 * a for _, a in acc], "o-", ms=3.5, color=colour, label=row["name"])
        if row["seconds_to_98"] is not None:
            ax.axvline(row["seconds_to_98"], color=colour, ls=":", lw=1.2)
            ax.annotate(f"{100 * target:.0f} % after {row['seconds_to_98']:.0f} s", (row["seconds_to_98"], 100 * target),
                        xytext=(4, -14), textcoords="offset points", fontsize=8.5, color=colour)
    ax.axhline(100 * target, color="black", ls="--", lw=1)
    if budget_s is not None:
        ax.axvline(budget_s, color="0.4", ls="-.", lw=1)
        ax.annotate(f"{budget_s:g} s budget", (budget_s, 100 * target), xytext=(-4, 8), textcoords="offset points",
                    ha="right", fontsize=8.5, color="0.3")
    lo = min(a for r in rows for a in r["test_accuracy_per_epoch"] if a is not None)
    ax.set_ylim(max(0.0, 100 * lo - 2), 100.3)
    ax.set_xlabel("training time (s): epochs x mean seconds per epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8.5, frameon=False, loc="lower right")
    ax.set_title("Training on MNIST-5k: test accuracy against time", fontsize=11)
    return fig
