"""Explicit against fused attention: time and peak memory against the number
of tokens T.

One attention call with D = 768 split over h = 12 heads of width d = 64 (as
in ViT-B), batch 1, q, k, v given:

* ``explicit``: ``vit_tutorial.scaled_dot_product_attention``, which writes
  softmax(Q K^T / sqrt(d)) V out and therefore holds the (h, T, T) scores and
  weights in memory;
* ``fused``: ``torch.nn.functional.scaled_dot_product_attention``, which
  works through the keys in blocks and never stores a whole T x T matrix.

T runs over the token counts of ViT-B/16 and ViT-B/8 at several image sizes
(50 = 112 px with P=16 ... 3137 = 448 px with P=8). Times are interleaved
medians. Peak memory is *measured*: on CPU, ``torch.profiler`` with
``profile_memory=True`` records every allocation and release, and the peak is
the largest running total of them during the call, in the order the
operators ran (memory held before the
call, such as q, k and v, is not counted); on CUDA it is
``torch.cuda.max_memory_allocated`` above the memory in use before the call.
The size of one (h, T, T) float32 matrix, 4 h T^2 bytes, is stored next to it
for comparison.

    python benchmarks/attention_paths.py            # full run, ~1 min on 2 cores
    python benchmarks/attention_paths.py --quick    # seconds
"""
from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

import common
import vit_tutorial as vt

TOKENS = [50, 145, 197, 401, 577, 785, 1025, 1601, 2305, 3137]
QUICK_TOKENS = [50, 197]
DIM, HEADS = 768, 12


def peak_memory(fn, device) -> int:
    """Bytes allocated at the worst moment of one ``fn()`` call, above what was
    allocated before it (see the module docstring for how)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        fn()
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device) - before
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    # Each allocation is charged to the operator that made it ("self" memory,
    # so a parent such as aten::matmul does not count its child aten::bmm's
    # again); frees outside any operator appear as "[memory]" events.
    events = sorted(prof.events(), key=lambda e: e.time_range.start)
    running = peak = 0
    for e in events:
        running += e.self_cpu_memory_usage
        peak = max(peak, running)
    return peak


def explicit(q, k, v) -> None:
    with torch.inference_mode():
        vt.scaled_dot_product_attention(q, k, v)


def fused(q, k, v) -> None:
    with torch.inference_mode():
        F.scaled_dot_product_attention(q, k, v)


def rounds_for(T: int, quick: bool) -> int:
    if quick:
        return 2
    return 20 if T <= 600 else 8 if T <= 1700 else 4


def main() -> None:
    args = common.base_parser(__doc__.splitlines()[0]).parse_args()
    device = common.setup(args)
    d = DIM // HEADS
    rows = []
    for T in QUICK_TOKENS if args.quick else TOKENS:
        torch.manual_seed(0)
        q, k, v = (torch.randn(1, HEADS, T, d, device=device) for _ in range(3))  # each (B, h, T, d)
        with torch.inference_mode():
            diff = (vt.scaled_dot_product_attention(q, k, v)[0] - F.scaled_dot_product_attention(q, k, v)).abs().max()
        fns = {"explicit": functools.partial(explicit, q, k, v), "fused": functools.partial(fused, q, k, v)}
        times = common.interleave(fns, rounds_for(T, args.quick), 1, device)
        e, f = common.summarize_times(times["explicit"]), common.summarize_times(times["fused"])
        speedup = common.ratio_stats(times["explicit"], times["fused"])
        rows.append({
            "T": T, "explicit_ms": 1e3 * e["median_s"], "fused_ms": 1e3 * f["median_s"],
            "fused_speedup": speedup["median"], "speedup_q1": speedup["q1"], "speedup_q3": speedup["q3"],
            "explicit_peak_mb": peak_memory(fns["explicit"], device) / 2**20,
            "fused_peak_mb": peak_memory(fns["fused"], device) / 2**20,
            "attention_matrix_mb": 4 * HEADS * T * T / 2**20,
            "max_abs_diff": diff.item(), "rounds": len(times["explicit"]),
        })
        print(f"T = {T}: explicit {rows[-1]['explicit_ms']:.2f} ms, fused {rows[-1]['fused_ms']:.2f} ms", flush=True)
    print()
    print(common.format_table(rows, [
        ("T", "T", "d"), ("explicit_ms", "explicit ms", ".2f"), ("fused_ms", "fused ms", ".2f"),
        ("fused_speedup", "speed-up", ".2f"), ("explicit_peak_mb", "explicit MiB", ".1f"),
        ("fused_peak_mb", "fused MiB", ".1f"), ("attention_matrix_mb", "h*T*T*4 MiB", ".1f"),
        ("max_abs_diff", "max |diff|", ".1e"),
    ]))
    common.write_result("attention_paths", {
        "settings": {"dim": DIM, "heads": HEADS, "head_dim": d, "batch": 1, "dtype": "float32",
                     "threads": torch.get_num_threads(),
                     "peak_memory": ("torch.cuda.max_memory_allocated above the start" if device.type == "cuda" else
                                     "torch.profiler(profile_memory=True): largest running total of the "
                                     "allocations and frees during one call"),
                     "speedup": "median over rounds of explicit time / fused time"},
        "rows": rows,
    }, args.out, args.quick, device, overwrite=args.overwrite)


if __name__ == "__main__":
    main()
