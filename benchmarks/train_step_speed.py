"""Does a faster training step buy chapter 9's ViT more epochs in its 60-second budget?

    python benchmarks/train_step_speed.py --overwrite     # about 5 min on one busy core
    python benchmarks/train_step_speed.py --quick         # checks the script; writes nothing

One thread, the chapter's model (ViT-Tiny, P=7, D=64, L=4, batch 64) on the
3,500 training digits, the chapter's step (label-smoothed cross-entropy,
clipping, AdamW, per-step schedule). Variants, each measured in the same run,
interleaved round by round so that a change of machine load hits all of them:

* ``plain``: ``torch.optim.AdamW`` (for-each implementation), eager model;
* ``fused_adamw``: ``AdamW(fused=True)`` (one kernel for the whole update);
* ``channels_last``: the input batch in ``torch.channels_last`` memory
  format (only the patch-embedding convolution sees it);
* ``compile``: ``torch.compile(model)`` (needs a C++ compiler); its one-off
  compile time is measured separately and counted against the budget.

The measure is CPU seconds per step (``time.process_time`` of this process;
the compiler's child processes are not in it, so the compile's wall time is
reported too). ``epochs_in_60s`` = (60 - one-off cost) / (55 steps x s/step).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from vit_tutorial import ViT, vit_config  # noqa: E402
from vit_tutorial.data import load_splits  # noqa: E402
from vit_tutorial.results import save  # noqa: E402

NAME = "train_step_speed"
BATCH, STEPS_PER_EPOCH, BUDGET = 64, 55, 60.0  # 3,500 images / 64 = 55 steps per epoch


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def make(variant: str):
    torch.manual_seed(0)
    model = ViT(vit_config("ViT-Tiny", patch_size=7))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05, fused=variant == "fused_adamw")
    net = torch.compile(model) if variant == "compile" else model
    return model, net, opt


def steps(model, net, opt, x, y, n: int, channels_last: bool, g: torch.Generator) -> float:
    """CPU seconds per step over n steps."""
    t0 = time.process_time()
    for _ in range(n):
        idx = torch.randint(0, x.shape[0], (BATCH,), generator=g)
        xb = x[idx]
        if channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        loss = F.cross_entropy(net(xb), y[idx], label_smoothing=0.1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return (time.process_time() - t0) / n


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    p.add_argument("--steps", type=int, default=40, help="steps per variant per round (default 40)")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--out", type=Path, default=REPO / "vit_tutorial" / "results")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    if args.quick:
        args.rounds, args.steps = 1, 3
    data = load_splits("mnist5k")
    x, y = data.train.images, data.train.labels
    variants = ["plain", "fused_adamw", "channels_last"]
    compiler = shutil.which(os.environ.get("CXX", "g++")) or shutil.which("c++") or shutil.which("clang++")
    if compiler and not args.quick:
        variants.append("compile")
    built, setup = {}, {}
    for v in variants:
        model, net, opt = make(v)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        steps(model, net, opt, x, y, 3, v == "channels_last", torch.Generator().manual_seed(1))  # warm-up (compiles)
        setup[v] = {"cpu_s": time.process_time() - cpu0, "wall_s": time.perf_counter() - wall0}
        built[v] = (model, net, opt)
    per_round = {v: [] for v in variants}
    for r in range(args.rounds):
        for v in variants:
            model, net, opt = built[v]
            per_round[v].append(steps(model, net, opt, x, y, args.steps, v == "channels_last",
                                      torch.Generator().manual_seed(100 + r)))
        print(f"round {r + 1}: " + ", ".join(f"{v} {1000 * per_round[v][-1]:.1f} ms" for v in variants), flush=True)
    plain = statistics.median(per_round["plain"])
    rows = []
    for v in variants:
        med = statistics.median(per_round[v])
        ratios = [a / b for a, b in zip(per_round["plain"], per_round[v])]
        one_off = setup[v]["cpu_s"] if v == "compile" else 0.0
        rows.append({
            "variant": v, "cpu_ms_per_step": round(1000 * med, 2),
            "cpu_ms_per_step_rounds": [round(1000 * t, 2) for t in per_round[v]],
            "speedup_vs_plain": round(plain / med, 3), "speedup_min": round(min(ratios), 3),
            "speedup_max": round(max(ratios), 3),
            "one_off_cpu_s": round(one_off, 1), "one_off_wall_s": round(setup[v]["wall_s"], 1) if v == "compile" else 0.0,
            "epochs_in_60s": round((BUDGET - one_off) / (STEPS_PER_EPOCH * med), 1),
        })
        print(rows[-1], flush=True)
    if args.quick:
        print("(--quick: nothing written)")
        return 0
    doc = {
        "benchmark": NAME, "timestamp": _now(), "quick": False,
        "command": "python benchmarks/train_step_speed.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": {"cpu": platform.processor() or platform.machine(), "torch": torch.__version__,
                    "torch_threads": 1, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
                    "compiler": compiler, "load_average": [round(v, 2) for v in os.getloadavg()]},
        "settings": {"model": "ViT-Tiny P=7 D=64 L=4 MLP 128", "batch": BATCH, "rounds": args.rounds,
                     "steps_per_round": args.steps, "steps_per_epoch": STEPS_PER_EPOCH, "budget_cpu_s": BUDGET},
        "rows": rows,
    }
    save(doc, args.out / f"{NAME}.json", overwrite=args.overwrite, check=NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
