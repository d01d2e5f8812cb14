"""Chapter 9's recipe, chosen on the validation split, with seeds.

    python experiments/recipe_validation.py --overwrite            # every arm, seeds 0 1 2 (about 1 h on 1 busy core)
    python experiments/recipe_validation.py --arms cnn cnn_no_shift --seeds 0 1 2 --overwrite
    python experiments/recipe_validation.py --quick                # checks that the script works; writes nothing

The protocol (chapter 9's "how to compare two models" box):

* data: ``vit_tutorial.data.load_splits("mnist5k")``: 3,500 training, 500
  validation and 1,000 test digits (stratified; the test digits are those the
  book always used);
* every arm is trained with :func:`vit_tutorial.train.fit` (one thread) on
  the 3,500 training digits and scored on the 500 validation digits after
  every epoch; the recipe is chosen by the **final validation accuracy**,
  averaged over the seeds;
* each finished model is also scored once on the 1,000 test digits, and the
  per-image right/wrong vector is stored (``test_correct``, a string of 0/1
  in test order), so two arms can be compared with a paired test
  (:mod:`vit_tutorial.stats`). The choice never reads ``test_*``.

The budget: **CPU seconds of one thread spent in ``fit``** (``time.process_time``
over the epochs, the per-epoch validation pass included), the target being
>= 98.0 % test accuracy (mean of 3 seeds) within 60 s of it. CPU time is used
because wall time on a shared machine mostly measures the other programs.

Arms (columns, not names): ``model`` (ViT or CNN), ``P``, ``D``, ``L``,
``mlp``, ``init`` (the ViT's initialisation scheme), ``pos_std`` (the spread
the learned position table is re-drawn with, ``None`` = the scheme's own),
``batch``, ``lr``, ``shift``, ``warmup``, ``epochs``.

Results: ``vit_tutorial/results/recipe_validation.json`` (rewritten after
every run, atomically, with ``complete: false`` until all runs are in).
Finished runs are cached in ``$VIT_EXPERIMENT_CACHE/recipe_validation``
(default under ``/tmp``), so an interrupted run continues where it stopped.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from vit_tutorial import ViT, count_parameters, vit_config  # noqa: E402
from vit_tutorial.baselines import SmallCNN  # noqa: E402
from vit_tutorial.data import DataSplits, load_splits  # noqa: E402
from vit_tutorial.results import save  # noqa: E402
from vit_tutorial.train import TrainConfig, fit, init_position_embedding, predict  # noqa: E402

NAME = "recipe_validation"
RESULTS_DIR = REPO / "vit_tutorial" / "results"
CACHE = Path(os.environ.get("VIT_EXPERIMENT_CACHE", "/tmp/vit-experiment-cache")) / NAME
BUDGET_CPU_S = 60.0
TARGET = 0.98
CNN_WIDTH = 16

#: The old chapter recipe (chosen on the test set in an earlier edition): it is the first arm.
BASE = dict(model="ViT", P=7, D=64, L=4, heads=4, mlp=128, init="trunc_2sigma", pos_std=0.5,
            batch=64, lr=3e-3, shift=1, warmup=2.0, epochs=30, label_smoothing=0.1, weight_decay=0.05)
CNN = dict(BASE, model="CNN", P=None, D=None, L=None, heads=None, mlp=None, init=None, pos_std=None)

#: arm name -> its columns. The name is only a key; the table shows the columns.
ARMS: dict[str, dict] = {
    "vit": BASE,
    "vit_pos002": dict(BASE, pos_std=None),           # ViT's own std-0.02 table (the trunc_2sigma scheme)
    "vit_timm": dict(BASE, init="timm"),
    "vit_official": dict(BASE, init="official"),
    "cnn": CNN,
    "cnn_no_shift": dict(CNN, shift=0),
    "cnn_no_warmup": dict(CNN, warmup=0.0),
    # one factor at a time around the old recipe, all inside the 30-epoch budget
    "vit_lr1e-3": dict(BASE, lr=1e-3),
    "vit_lr6e-3": dict(BASE, lr=6e-3),
    "vit_shift0": dict(BASE, shift=0),
    "vit_shift2": dict(BASE, shift=2),
    "vit_no_warmup": dict(BASE, warmup=0.0),
    "vit_batch128": dict(BASE, batch=128),
    "vit_ls0": dict(BASE, label_smoothing=0.0),
    "vit_wd0.1": dict(BASE, weight_decay=0.1),
}
# Dropped before any of their runs finished (2026-12-02), for CPU time on the shared machine:
# batch 32 (twice the steps per epoch) and a 60-epoch arm outside the budget.

#: The rule that picks chapter 9's recipe, fixed before the sweep was run (2026-12-02):
#: among the ViT arms above, the one with the highest mean
#: validation accuracy over seeds 0-2 -- but it replaces the incumbent ``vit`` only if
#: its mean is higher by more than one validation binomial SE (about 0.8 points at 96 %
#: on 500 digits). Otherwise the validation digits cannot tell the two apart and the
#: incumbent stays. The test digits play no part in the choice.
SELECTION_RULE = ("among the ViT arms, the highest mean validation accuracy over seeds; "
                  "it replaces the incumbent 'vit' only if higher by more than one validation binomial SE "
                  "(about 0.8 points on 500 digits); the test digits play no part")
IN_BUDGET = tuple(a for a in ARMS if a.startswith("vit"))

#: Arms whose final position table is stored (chapter 10 compares them with their start).
STORE_POS_TABLE = ("vit", "vit_pos002")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def build(arm: dict, seed: int, num_classes: int):
    """The model of ``arm``, seeded exactly as the CLI does (seed, then build, then re-draw the table)."""
    torch.manual_seed(seed)
    if arm["model"] == "CNN":
        return SmallCNN(width=CNN_WIDTH)
    config = vit_config("ViT-Tiny", patch_size=arm["P"], dim=arm["D"], depth=arm["L"], heads=arm["heads"],
                        mlp_dim=arm["mlp"], num_classes=num_classes, init=arm["init"])
    model = ViT(config)
    if arm["pos_std"] is not None:
        init_position_embedding(model, arm["pos_std"])
    return model


def train_config(arm: dict, seed: int) -> TrainConfig:
    return TrainConfig(epochs=arm["epochs"], batch_size=arm["batch"], lr=arm["lr"], augment_shift=arm["shift"],
                       warmup_epochs=arm["warmup"], label_smoothing=arm.get("label_smoothing", 0.1),
                       weight_decay=arm.get("weight_decay", 0.05), seed=seed, device="cpu")


def run(name: str, seed: int, quick: bool) -> dict:
    """Train one arm with one seed; return its row."""
    arm = ARMS[name]
    data = load_splits("mnist5k")
    if quick:
        data = data.subset(0.03, seed=0)
    # fit scores its `test` split after every epoch: hand it the VALIDATION split
    dev = DataSplits(data.name, data.train, data.val, data.mean, data.std, data.num_classes)
    model = build(arm, seed, data.num_classes)
    config = train_config(arm, seed)
    if quick:
        config = dataclasses.replace(config, epochs=1)
    cpu: list[float] = []
    last = [time.process_time()]

    def tick(record: dict) -> None:
        now = time.process_time()
        cpu.append(now - last[0])
        last[0] = now

    load = os.getloadavg()[0]
    wall0 = time.perf_counter()
    history = fit(model, dev, config, progress=False, callback=tick)
    wall = time.perf_counter() - wall0
    logits = predict(model, data.test.images)  # the one look at the test set
    correct = (logits.argmax(dim=1) == data.test.labels).tolist()
    row = {
        "arm": name, **arm, "seed": seed,
        "parameters": count_parameters(model),
        "train_images": len(data.train), "val_images": len(data.val), "test_images": len(data.test),
        "val_accuracy": history[-1]["test_accuracy"],
        "val_loss": history[-1]["test_loss"],
        "val_accuracy_per_epoch": [round(r["test_accuracy"], 4) for r in history],
        "train_loss_per_epoch": [round(r["train_loss"], 4) for r in history],
        "train_accuracy": history[-1]["train_accuracy"],
        "test_accuracy": sum(correct) / len(correct),
        "test_correct": "".join("1" if c else "0" for c in correct),
        "cpu_seconds": round(sum(cpu), 2),
        "cpu_seconds_per_epoch": round(sum(cpu) / len(cpu), 3),
        "wall_seconds": round(wall, 1),
        "load_average_before": round(load, 2),
        "measured": _now(),
    }
    if name in STORE_POS_TABLE:
        row["pos_table"] = [[round(v, 5) for v in r] for r in model.pos_embed.weight[0].tolist()]  # (T, D)
    return row


def _code_fingerprint() -> str:
    h = hashlib.sha256()
    for rel in ("vit_tutorial/train.py", "vit_tutorial/model.py", "vit_tutorial/data.py", "vit_tutorial/baselines.py",
                "vit_tutorial/init.py", "vit_tutorial/encoder.py", "vit_tutorial/attention.py"):
        p = REPO / rel
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": platform.python_version(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arms", nargs="+", default=list(ARMS), help=f"arms to run (default all: {', '.join(ARMS)})")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (default 0 1 2)")
    p.add_argument("--quick", action="store_true", help="tiny runs that only check the script; writes nothing")
    p.add_argument("--out", type=Path, default=RESULTS_DIR, help=f"results folder (default {RESULTS_DIR})")
    p.add_argument("--overwrite", action="store_true", help=f"replace <out>/{NAME}.json (default: write next to it)")
    args = p.parse_args(argv)
    unknown = [a for a in args.arms if a not in ARMS]
    if unknown:
        p.error(f"unknown arms {unknown}; known: {', '.join(ARMS)}")
    torch.set_num_threads(1)
    command = "python experiments/recipe_validation.py " + " ".join(argv if argv is not None else sys.argv[1:])
    fingerprint = _code_fingerprint()
    CACHE.mkdir(parents=True, exist_ok=True)
    # keep what an earlier invocation stored, so arms can be added in parts
    previous = RESULTS_DIR / f"{NAME}.json"
    rows: dict[tuple[str, int], dict] = {}
    if previous.is_file() and not args.quick:
        for r in json.loads(previous.read_text())["rows"]:
            rows[(r["arm"], r["seed"])] = r
    todo = [(a, s) for s in args.seeds for a in args.arms]  # seed-major: every arm gets a seed early
    for i, (arm, seed) in enumerate(todo):
        key = hashlib.sha256(json.dumps([ARMS[arm], seed]).encode()).hexdigest()[:16]
        cached = CACHE / f"{arm}-s{seed}-{key}.json"
        if cached.is_file() and not args.quick:
            row = json.loads(cached.read_text())
        else:
            print(f"[{i + 1}/{len(todo)}] {arm} seed {seed} ...", flush=True)
            row = run(arm, seed, args.quick)
            row["code_fingerprint"] = fingerprint
            if not args.quick:
                tmp = cached.with_suffix(".tmp")
                tmp.write_text(json.dumps(row))
                os.replace(tmp, cached)
        print(f"    {arm} seed {seed}: val {row['val_accuracy']:.3f}, {row['cpu_seconds']:.0f} cpu s "
              f"({row['wall_seconds']:.0f} s wall, load {row['load_average_before']})", flush=True)
        rows[(arm, seed)] = row
        if args.quick:
            continue
        ordered = [rows[k] for k in sorted(rows, key=lambda k: (list(ARMS).index(k[0]) if k[0] in ARMS else 99, k[1]))]
        doc = {
            "experiment": NAME, "date": _now(), "command": command, "quick": False,
            "complete": all((a, s) in rows for a in args.arms for s in args.seeds),
            "machine": machine(), "code_fingerprint": fingerprint,
            "budget": {"definition": "CPU seconds of one thread spent in fit (time.process_time), "
                       "the per-epoch validation pass included", "seconds": BUDGET_CPU_S,
                       "target_test_accuracy": TARGET, "of": "mean of 3 seeds, recipe chosen on validation"},
            "settings": {"dataset": "mnist5k", "split": "load_splits: 3,500 train / 500 val / 1,000 test",
                         "selection": "final val_accuracy, mean over seeds", "selection_rule": SELECTION_RULE,
                         "in_budget_arms": list(IN_BUDGET), "cnn_width": CNN_WIDTH,
                         "arms": ARMS},
            "rows": ordered,
        }
        save(doc, args.out / f"{NAME}.json", overwrite=args.overwrite, check=NAME)
    if args.quick:
        print("(--quick: nothing written)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
