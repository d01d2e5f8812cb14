"""Shared helpers of the benchmark scripts: timing, statistics, machine
description, tables and JSON results.

Every script in ``benchmarks/`` measures something, prints a table and writes
``vit_tutorial/results/<name>.json`` (package data, read with
:func:`vit_tutorial.results.load`) with the same envelope::

    {"benchmark": name, "timestamp": "2026-...Z", "quick": false,
     "machine": {...}, "settings": {...}, "rows": [...], ...}

The appendix "How fast is it?" reads these files; it never times anything
itself.

Timing on a shared or noisy machine: :func:`interleave` runs the contenders
in alternating order (A B, B A, A B, ...) so that a slow spell hits all of
them, and :func:`ratio_stats` takes the median of the per-round ratio rather
than the ratio of two medians.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import sys
from pathlib import Path
from typing import Callable, Mapping, Sequence

import torch

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as `python benchmarks/x.py` from a checkout
    sys.path.insert(0, str(REPO))
#: The package's results folder in this checkout (shipped with the package).
RESULTS_DIR = REPO / "vit_tutorial" / "results"

from vit_tutorial.results import save as _save_result  # noqa: E402
from vit_tutorial.variants import time_call  # noqa: E402  (the one timer; interleave calls it)


# ---------------------------------------------------------------- arguments


def base_parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark understands.

    ``--device`` (cpu or cuda), ``--quick`` (a tiny run that only checks the
    script works, in seconds), ``--threads`` (torch's intra-op threads;
    default: torch's own default), ``--out`` (the results folder) and
    ``--overwrite`` (replace an existing result; without it a new result goes
    next to the old one as ``<name>.<UTC time>.json``).
    """
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--quick", action="store_true", help="tiny sizes and few repeats: checks the script runs")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's default)")
    p.add_argument("--out", type=Path, default=RESULTS_DIR, help=f"folder for the JSON result (default {RESULTS_DIR})")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing <out>/<name>.json (default: keep it, write <name>.<UTC time>.json)")
    return p


def setup(args: argparse.Namespace) -> torch.device:
    """Apply ``--threads``, seed torch, and check ``--device``; returns it."""
    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"--threads must be a positive integer, got {args.threads}")
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was given, but torch.cuda.is_available() is False on this machine")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"--device must be cpu or cuda, got {args.device!r}")
    return device


# ---------------------------------------------------------------- machine


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else platform's."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(device: torch.device | str = "cpu") -> dict:
    """What the numbers were measured on, recorded next to them.

    Includes the CPU model, the cores this process may use, torch's thread
    count, versions, and the 1-minute load average at the time (a load above
    the core count means other programs were competing for the CPU).
    """
    device = torch.device(device)
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count()
    info = {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": str(device),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    try:
        import transformers

        info["transformers"] = transformers.__version__
    except ImportError:
        pass
    return info


def timestamp() -> str:
    """The current UTC time, ISO 8601 to the second (e.g. 2026-11-25T05:10:00Z)."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------- timing


def synchronize(device: torch.device | str) -> None:
    """Wait for queued GPU work (no-op on CPU), so a timer sees all of it."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def synchronised(fn: Callable[[], object], device: torch.device | str = "cpu") -> Callable[[], None]:
    """``fn`` for :func:`~vit_tutorial.variants.time_call`: with autograd on (a training step needs it; the
    timer turns it off) and waiting for queued GPU work at the end, so that the timer sees all of it."""
    def call() -> None:
        with torch.enable_grad():
            fn()
        synchronize(device)
    return call


def interleave(
    fns: Mapping[str, Callable[[], object]],
    rounds: int,
    warmup: int = 1,
    device: torch.device | str = "cpu",
) -> dict[str, list[float]]:
    """Time several contenders in alternating order.

    Each round calls every function once; even rounds go in the given order,
    odd rounds in reverse (A B, B A, ...), so neither side is always first
    after the other. ``warmup`` untimed rounds come first.

    Args:
        fns: name -> zero-argument function.
        rounds: timed rounds (>= 1).
        warmup: untimed rounds before them (>= 0).
        device: where the functions run (GPU work is synchronised).

    Returns:
        name -> list of ``rounds`` times in seconds, in round order.
    """
    if not fns:
        raise ValueError("fns must name at least one function to time, got an empty mapping")
    if not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be a positive integer, got {rounds!r}")
    if not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be an integer >= 0, got {warmup!r}")
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
    synchronize(device)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else reversed(names):
            # one wall-clock call; the previous call (or the warm-up) ended synchronised
            times[name].append(time_call(synchronised(fns[name], device), repeats=1, warmup=0))
    return times


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """(first quartile, median, third quartile) of ``values``."""
    values = sorted(values)
    if not values:
        raise ValueError("need at least one value, got none")
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def ratio_stats(numerator: Sequence[float], denominator: Sequence[float]) -> dict[str, float]:
    """Median and quartiles of the per-round ratio numerator[i] / denominator[i].

    With times from :func:`interleave`, ``ratio_stats(their_times, our_times)``
    is our speed relative to theirs (> 1: we are faster).
    """
    if len(numerator) != len(denominator) or not numerator:
        raise ValueError(
            f"need two equally long, non-empty lists of times, got {len(numerator)} and {len(denominator)}"
        )
    q1, med, q3 = quartiles([a / b for a, b in zip(numerator, denominator)])
    return {"median": med, "q1": q1, "q3": q3}


def summarize_times(times: Sequence[float], work: float = 1.0) -> dict[str, float]:
    """Median seconds and the rate ``work / seconds`` at the median and quartiles.

    ``work`` is what one call does (images, FLOPs ...); the rate's quartiles
    are reported so that a reader sees the spread.
    """
    q1, med, q3 = quartiles(times)
    return {"median_s": med, "rate": work / med, "rate_q1": work / q3, "rate_q3": work / q1}


# ---------------------------------------------------------------- output


def format_table(rows: Sequence[Mapping[str, object]], columns: Sequence[tuple[str, str, str]]) -> str:
    """A plain-text table.

    Args:
        rows: dicts.
        columns: (key, header, format spec) triples, e.g. ("rate", "img/s", ".1f").
    """
    cells = [[h for _, h, _ in columns]]
    for row in rows:
        line = []
        for key, _, spec in columns:
            value = row.get(key, "")
            line.append(format(value, spec) if value is not None and value != "" and spec else str(value))
        cells.append(line)
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    out = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def write_result(name: str, payload: Mapping[str, object], out_dir: Path, quick: bool, device,
                 overwrite: bool = False) -> Path:
    """Write ``out_dir/<name>.json`` with the common envelope; returns the path written.

    The write is atomic (:func:`vit_tutorial.results.save`); an existing file
    is replaced only with ``overwrite=True``, else the result goes to
    ``<name>.<UTC time>.json`` next to it.
    """
    out_dir = Path(out_dir)
    doc = {
        "benchmark": name,
        "timestamp": timestamp(),
        "quick": bool(quick),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "machine": machine_info(device),
        **payload,
    }
    path = _save_result(doc, out_dir / f"{name}.json", overwrite=overwrite)
    print(f"\nwrote {path}")
    return path
