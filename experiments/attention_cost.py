"""Chapters 11 and 12: what one attention layer costs as the token count N grows.

Times one layer (D=64, h=4, batch 1, forward, no autograd) on a square token
grid of side s (N = s^2) for

* global attention, explicit (softmax(QK^T/sqrt(d))V written out, the (N, N)
  weights in memory),
* global attention, fused (``F.scaled_dot_product_attention``),
* Swin-style window attention, 8x8 windows (explicit, with relative bias),
* PVT-style spatial-reduction attention, R = 4 (explicit),

and measures the peak resident memory that the forward adds (in a fresh
child process, from Linux's VmHWM), plus the analytic FLOPs. Each time is the
CPU time of the process (one thread), which leaves out waiting for a core on
a busy machine, and the fastest of several rounds; a round times every (layer, size) once, so a busy
spell of the machine is spread over all of them instead of spoiling one.

    python experiments/attention_cost.py      # 3-5 min on 2 free cores

Writes vit_tutorial/results/attention_cost.json.
"""
from __future__ import annotations

import multiprocessing as mp
import os

import torch
from _common import base_parser, setup, write_result

import vit_tutorial as vt
from vit_tutorial.variants import (
    SpatialReductionAttention,
    WindowAttention,
    global_attention_flops,
    spatial_reduction_attention_flops,
    time_call,
    window_attention_flops,
)

D, HEADS, WINDOW, R = 64, 4, 8, 4
SIDES = (8, 16, 24, 32, 48, 64, 80, 96)
MAX_EXPLICIT_SIDE = 64  # (4096 x 4096) x 4 heads x 4 bytes = 268 MB of weights; more would crowd a shared machine
KINDS = ("global, explicit", "global, fused", f"window {WINDOW}x{WINDOW}", f"spatial reduction R={R}")


def make(kind: str, side: int):
    """A callable running one forward of the layer on a (1, side^2, D) input."""
    torch.manual_seed(0)
    x = torch.randn(1, side * side, D)
    grid = (side, side)
    if kind.startswith("global"):
        layer = vt.MultiHeadSelfAttention(D, HEADS).eval()
        fast = kind.endswith("fused")
        return lambda: layer(x, fast=fast)
    if kind.startswith("window"):
        layer = WindowAttention(D, HEADS, WINDOW).eval()
        return lambda: layer(x, grid)
    layer = SpatialReductionAttention(D, HEADS, R).eval()
    return lambda: layer(x, grid)


def flops(kind: str, N: int) -> int:
    if kind.startswith("global"):
        return global_attention_flops(N, D)
    if kind.startswith("window"):
        return window_attention_flops(N, D, WINDOW)
    return spatial_reduction_attention_flops(N, D, R)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss_bytes() -> int:
    """VmHWM, the peak resident set of this process image (since the last reset)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    raise OSError("no VmHWM in /proc/self/status (Linux only)")


def _memory_child(kind: str, side: int, queue) -> None:
    torch.set_num_threads(1)
    fn = make(kind, side)
    with torch.no_grad():
        make(kind, 8)()  # load the code paths and thread pools on a tiny input first
        try:  # reset the peak to the current resident size (Linux >= 4.0)
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass
        before = _rss_bytes()
        fn()
    queue.put(max(0, _peak_rss_bytes() - before))


def peak_memory(kind: str, side: int) -> int:
    """Bytes the forward adds to the resident set at its peak, in a fresh process.

    The child is spawned (not forked), so memory the parent freed but kept
    cannot be reused unseen, and malloc is told to map every block above
    128 KiB on its own, so that freed blocks leave the resident set.
    """
    os.environ["MALLOC_MMAP_THRESHOLD_"] = "131072"
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    proc = ctx.Process(target=_memory_child, args=(kind, side, q))
    proc.start()
    value = q.get(timeout=600)
    proc.join()
    return int(value)


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--sides", type=int, nargs="+", default=list(SIDES), help="grid sides (multiples of 8)")
    p.add_argument("--repeats", type=int, default=7, help="rounds; each time is the fastest round (default 7)")
    args = p.parse_args()
    setup(args)
    sides = [8, 16] if args.quick else args.sides
    repeats = 1 if args.quick else args.repeats
    cases = [(side, kind) for side in sides for kind in KINDS
             if not (kind == "global, explicit" and side > MAX_EXPLICIT_SIDE)]
    fns = {case: make(case[1], case[0]) for case in cases}
    best = {case: float("inf") for case in cases}
    for case in cases:  # warm-up
        time_call(fns[case], repeats=1, warmup=0, clock="cpu")
    for r in range(repeats):
        for case in cases:
            best[case] = min(best[case], time_call(fns[case], repeats=1, warmup=0, clock="cpu"))
        print(f"  round {r + 1}/{repeats} done", flush=True)
    rows = []
    for side, kind in cases:
        N = side * side
        memory = peak_memory(kind, side)
        seconds = best[(side, kind)]
        rows.append({"kind": kind, "side": side, "tokens": N, "seconds": seconds,
                     "peak_memory_bytes": memory, "flops": flops(kind, N)})
        print(f"  {kind:>24s}  N={N:>5d}: {seconds * 1e3:9.2f} ms  {memory / 2**20:8.1f} MiB", flush=True)
    settings = {"dim": D, "heads": HEADS, "batch": 1, "window": WINDOW, "reduction": R, "sides": sides,
                "repeats": repeats, "threads": torch.get_num_threads(),
                "timing": "CPU seconds (time.process_time, one thread) of one forward without autograd, the fastest "
                          "of `repeats` rounds (each round times every layer and size once), after a warm-up round",
                "memory": "peak resident set size added by one forward, measured in a spawned child process "
                          "(1 thread, after a warm-up call on an 8x8 grid) as the peak resident size (VmHWM, reset before "
                          "the call) minus the resident size just before the call",
                "flops": "analytic, multiply-add = 2 (vit_tutorial.variants.cost)"}
    write_result("attention_cost", args, settings, rows)


if __name__ == "__main__":
    main()
