"""How far does the chapter's ViT get on MNIST-5k, and how does a CNN compare?

    python benchmarks/train_mnist.py --target        # THE 98 % TARGET, measured as chapter 9 measures it
    python benchmarks/train_mnist.py --target --arm vit --seeds 0   # one seed of one arm
    python benchmarks/train_mnist.py                 # timings: the chapter's ViT (via the CLI) and the CNN
    python benchmarks/train_mnist.py --nproc 2 --threads 1 --skip-cnn   # the ViT under torchrun, 2 processes x 1 thread
    python benchmarks/train_mnist.py --threads 2 --skip-cnn --epochs 2  # time 2 epochs, 1 process x 2 threads
    python benchmarks/train_mnist.py --tune          # the old tuning grid (scored on the TEST split; history only)
    python benchmarks/train_mnist.py --quick         # checks that the script works (seconds)

The target (issue 17, chapter 9): at least 98.0 % test accuracy on MNIST-5k's
fixed 1,000 test digits, as the **mean of 3 seeds**, with the recipe **chosen
on the validation split**, within **60 CPU seconds of one thread** spent in
``fit`` (``time.process_time``, the per-epoch validation pass included).

* ``--target`` measures exactly that, with the experiment's own code, so the
  benchmark and chapter 9 agree: it applies chapter 9's selection rule
  (:func:`vit_tutorial.stats.select_on_validation`, incumbent ``vit``) to the
  shipped ``recipe_validation`` result, trains the chosen arm and the CNN with
  ``experiments/recipe_validation.py``'s ``run`` (3,500 training digits, the 500
  validation digits scored every epoch, the test digits once) for seeds 0 1 2
  on one thread, and stores the verdict as ``target_check``. No test times it.
* ``chapter``: the exact command of the README / chapter 9, run in a fresh
  folder (today's CLI holds out the 500 validation digits; the stored runs
  predate that and trained on all 4,000 non-test digits); ``train_seconds`` is
  what the CLI measured. These are timings for the appendix, not the target.
* ``cnn``: :class:`vit_tutorial.baselines.SmallCNN` (width 16) trained by the
  same :func:`~vit_tutorial.train.fit` with exactly the same recipe.
* ``tuning``: what an earlier edition tried on the way to the recipe. Those
  rows were scored on the TEST split (that edition had no validation split),
  so chapter 9 does not quote them; they are kept as history.

Results go to ``vit_tutorial/results/train_mnist.json`` (package data; tuning
rows and runs are merged into the existing file, so the grid can be run in
parts; replacing the file needs ``--overwrite``, else the merged result is
written to ``train_mnist.<UTC time>.json`` next to it). The load average
is recorded with every measurement: above 2, other programs were competing.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

import torch  # noqa: E402

from common import format_table, machine_info, timestamp  # noqa: E402
from vit_tutorial import ViT, count_parameters, vit_config  # noqa: E402
from vit_tutorial.baselines import SmallCNN  # noqa: E402
from vit_tutorial.results import save as save_result  # noqa: E402
from vit_tutorial.data import load_dataset  # noqa: E402
from vit_tutorial.train import BUNDLED_CHECKPOINT, TrainConfig, fit, init_position_embedding  # noqa: E402

RESULT = REPO / "vit_tutorial" / "results" / "train_mnist.json"

#: The target, worded as chapter 9 states it (``--target`` measures it).
TARGET_DEFINITION = ("test accuracy >= 0.98 on MNIST-5k's 1,000 test digits, mean of 3 seeds, recipe chosen on the "
                     "validation split (chapter 9's rule), within 60 CPU seconds of one thread in fit")

#: The chapter's command (README, chapter 9): it produced vit_tutorial/checkpoints/vit-tiny-mnist5k.
CHAPTER_ARGS = ["--dataset", "mnist5k", "--preset", "ViT-Tiny", "--set", "patch_size=7", "--pos-init-std", "0.5",
                "--batch-size", "64", "--augment-shift", "1", "--epochs", "30"]

#: The CNN baseline trains with the chapter's recipe (the same TrainConfig as the ViT run).
#: Width 16 costs about as much CPU time per epoch as the chapter's ViT.
CNN_WIDTH = 16

#: The tuning grid: name -> (ViTConfig overrides of the ViT-Tiny preset, TrainConfig overrides).
#: Everything not named is the default (ViT-Tiny: P=4, D=64, L=4, h=4, MLP 128, cls pooling;
#: TrainConfig: batch 128, lr 3e-3, weight decay 0.05, 2 warm-up epochs, label smoothing 0.1,
#: clipping at 1.0, shifts of up to 2 pixels).
P7 = {"patch_size": 7}
S1 = {"batch_size": 64, "augment_shift": 1}
POS = {**P7, "pos_init_std": 0.5}  # the position table re-drawn with std 0.5 (init_position_embedding)
TUNING: dict[str, tuple[dict, dict]] = {
    "P=7 (defaults)": (P7, {"epochs": 30}),
    "P=7, batch 64": (P7, {"epochs": 30, "batch_size": 64}),
    "P=7, batch 64, lr 1e-3": (P7, {"epochs": 30, "batch_size": 64, "lr": 1e-3}),
    "P=7, batch 64, no shifts": (P7, {"epochs": 30, "batch_size": 64, "augment_shift": 0}),
    "P=7, batch 64, shift 1": (P7, {"epochs": 30, **S1}),
    "P=7, batch 32, shift 1": (P7, {"epochs": 30, "batch_size": 32, "augment_shift": 1}),
    "P=7, D=128, batch 64": ({**P7, "dim": 128, "mlp_dim": 256}, {"epochs": 30, "batch_size": 64}),
    "P=4, batch 64, shift 1": ({}, {"epochs": 15, **S1}),
    "P=7, shift 1, lr 5e-3": (P7, {"epochs": 30, **S1, "lr": 5e-3}),
    "P=7, shift 1, L=6": ({**P7, "depth": 6}, {"epochs": 30, **S1}),
    "P=7, shift 1, MLP 256": ({**P7, "mlp_dim": 256}, {"epochs": 30, **S1}),
    "P=7, shift 1, no smoothing": (P7, {"epochs": 30, **S1, "label_smoothing": 0.0}),
    "P=7, shift 1, 45 epochs": (P7, {"epochs": 45, **S1}),
    "P=7, shift 1, rotate 10, scale 0.1": (P7, {"epochs": 30, **S1, "augment_rotation": 10.0, "augment_scale": 0.1}),
    "P=7, shift 1, pos std 0.5 (chapter)": (POS, {"epochs": 30, **S1}),
    "the same, seed 1": (POS, {"epochs": 30, **S1, "seed": 1}),
    "P=7, shift 1, pos std 1.0": ({**P7, "pos_init_std": 1.0}, {"epochs": 30, **S1}),
    "P=7, shift 1, pos 0.5, L=6": ({**POS, "depth": 6}, {"epochs": 30, **S1}),
    "P=7, shift 1, pos 0.5, D=96": ({**POS, "dim": 96, "mlp_dim": 192}, {"epochs": 30, **S1}),
    "P=7, shift 1, pos 0.5, dropout 0.1": ({**POS, "dropout": 0.1}, {"epochs": 30, **S1}),
    "P=7, shift 1, pos 0.5, rotate 10, scale 0.1": (POS, {"epochs": 30, **S1, "augment_rotation": 10.0, "augment_scale": 0.1}),
    "P=4, shift 1, pos 0.5": ({"pos_init_std": 0.5}, {"epochs": 25, **S1}),
    "P=4, D=32, MLP 128, shift 1, pos 0.5": ({"pos_init_std": 0.5, "dim": 32, "mlp_dim": 128}, {"epochs": 30, **S1}),
    # second round (session 2): pooling, position encodings, heads, width, regularisation, seeds
    "P=7, shift 1, pos 0.5, mean pool": ({**POS, "pool": "mean"}, {"epochs": 30, **S1}),
    "P=7, shift 1, sin-cos, mean pool": ({**P7, "pos_embedding": "sincos", "pool": "mean"}, {"epochs": 30, **S1}),
    "P=7, shift 1, pos 0.5, h=2": ({**POS, "heads": 2}, {"epochs": 30, **S1}),
    "P=7, shift 1, pos 0.5, weight decay 0.1": (POS, {"epochs": 30, **S1, "weight_decay": 0.1}),
    "P=7, shift 1, pos 0.5, batch 32, lr 2e-3": (POS, {"epochs": 30, "batch_size": 32, "augment_shift": 1, "lr": 2e-3}),
    "P=7, shift 1, pos 0.5, L=3, D=96, MLP 384": ({**POS, "depth": 3, "dim": 96, "mlp_dim": 384}, {"epochs": 30, **S1}),
    "P=7, shift 1, pos 0.5, L=4, D=96, MLP 384": ({**POS, "dim": 96, "mlp_dim": 384}, {"epochs": 30, **S1}),
    "P=7, shift 1, pos 0.5, L=3, D=128, MLP 256": ({**POS, "depth": 3, "dim": 128, "mlp_dim": 256}, {"epochs": 30, **S1}),
    "P=7, shift 1, pos 0.5, L=2, MLP 1024": ({**POS, "depth": 2, "mlp_dim": 1024}, {"epochs": 30, **S1}),
    "the same as the chapter, seed 2": (POS, {"epochs": 30, **S1, "seed": 2}),
    "CNN width 16, shift 1": ({"cnn": True, "width": 16}, {"epochs": 30, **S1}),
}


def _load() -> dict:
    return json.loads(RESULT.read_text()) if RESULT.is_file() else {}


def _first_reaching(history: list[dict], target: float) -> tuple[int | None, float | None]:
    """The first epoch whose test accuracy reaches ``target`` and the seconds until then."""
    elapsed = 0.0
    for r in history:
        elapsed += r["seconds"]
        if r["test_accuracy"] is not None and r["test_accuracy"] >= target:
            return r["epoch"], elapsed
    return None, None


def run_chapter(threads: int, nproc: int, quick: bool, device: str, epochs: int | None = None) -> dict:
    """Run the chapter's CLI command in a temporary folder; return its summary."""
    out = Path(tempfile.mkdtemp(prefix="vit-train-bench-")) / "run"
    args = [*CHAPTER_ARGS, "--out", str(out), "--threads", str(threads), "--no-progress", "--device", device]
    if epochs is not None:  # a shorter run, to time the epochs only
        args += ["--epochs", str(epochs)]
    if quick:
        args += ["--epochs", "1", "--train-fraction", "0.05"]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "GLOO_SOCKET_IFNAME": "lo"}
    if nproc > 1:
        cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}",
               "--master_addr=127.0.0.1", "--master_port=29561", "-m", "vit_tutorial.train", *args]
    else:
        cmd = [sys.executable, "-m", "vit_tutorial.train", *args]
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"the training command failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    m = json.loads((out / "metrics.json").read_text())
    epoch98, seconds98 = _first_reaching(m["history"], 0.98)
    return {
        "name": f"chapter ViT ({nproc} proc x {threads} thread{'s' if threads > 1 else ''})",
        "command": "python -m vit_tutorial.train " + " ".join(CHAPTER_ARGS) if nproc == 1 else
        f"torchrun --nproc_per_node={nproc} -m vit_tutorial.train " + " ".join(CHAPTER_ARGS),
        "processes": nproc, "threads_per_process": threads,
        "parameters": m["parameters"], "epochs": m["epochs"],
        "test_accuracy": m["test_accuracy"], "train_seconds": m["train_seconds"],
        "seconds_per_epoch": m["train_seconds"] / m["epochs"],
        "epoch_reaching_98": epoch98, "seconds_to_98": seconds98,
        "process_wall_seconds": wall, "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "model_config": m["model_config"], "train_config": m["train_config"],
        "test_accuracy_per_epoch": [r["test_accuracy"] for r in m["history"]],
    }


def run_cnn(recipe: dict, threads: int, quick: bool, device: str) -> dict:
    """Train the CNN baseline with the same loop, split and recipe."""
    torch.set_num_threads(threads)
    data = load_dataset("mnist5k")
    recipe = {**recipe, "device": device}
    if quick:
        data = data.subset(0.05)
    torch.manual_seed(0)
    model = SmallCNN(width=CNN_WIDTH)
    config = TrainConfig.from_dict(recipe)
    load_before = os.getloadavg()[0]
    history = fit(model, data, config, progress=False)
    epoch98, seconds98 = _first_reaching(history, 0.98)
    seconds = sum(r["seconds"] for r in history)
    return {
        "name": f"SmallCNN width {CNN_WIDTH} (1 proc x {threads} thread{'s' if threads > 1 else ''})",
        "processes": 1, "threads_per_process": threads,
        "parameters": count_parameters(model), "epochs": config.epochs,
        "test_accuracy": history[-1]["test_accuracy"], "train_seconds": seconds,
        "seconds_per_epoch": seconds / config.epochs,
        "epoch_reaching_98": epoch98, "seconds_to_98": seconds98,
        "load_average_before": round(load_before, 2), "load_average_after": round(os.getloadavg()[0], 2),
        "train_config": config.to_dict(),
        "test_accuracy_per_epoch": [r["test_accuracy"] for r in history],
        "history": history,
    }


def run_tuning_row(name: str, quick: bool) -> dict:
    """One row of the tuning grid, one thread, CPU time per epoch."""
    model_over, train_over = TUNING[name]
    torch.set_num_threads(1)
    data = load_dataset("mnist5k")
    if quick:
        data, train_over = data.subset(0.05), {**train_over, "epochs": 1}
    config = TrainConfig(device="cpu", **train_over)
    torch.manual_seed(config.seed)
    if model_over.get("cnn"):
        model = SmallCNN(width=model_over.get("width", CNN_WIDTH))
    else:
        fields = {k: v for k, v in model_over.items() if k != "pos_init_std"}
        model = ViT(vit_config("ViT-Tiny", **fields))
        if "pos_init_std" in model_over:
            init_position_embedding(model, model_over["pos_init_std"])
    cpu = []
    last = [time.process_time()]

    def tick(record: dict) -> None:
        now = time.process_time()
        cpu.append(now - last[0])
        last[0] = now

    load_before = os.getloadavg()[0]
    history = fit(model, data, config, progress=False, callback=tick)
    acc = [round(r["test_accuracy"], 4) for r in history]
    epoch98, _ = _first_reaching(history, 0.98)
    cpu_per_epoch = sum(cpu) / len(cpu)
    return {
        "name": name, "model_overrides": model_over, "train_overrides": train_over,
        "parameters": count_parameters(model), "epochs": config.epochs,
        "test_accuracy": history[-1]["test_accuracy"], "best_test_accuracy": max(acc),
        "epoch_reaching_98": epoch98, "cpu_seconds_per_epoch": round(cpu_per_epoch, 3),
        "cpu_seconds_total": round(sum(cpu), 1),
        "final_train_loss": round(history[-1]["train_loss"], 4),
        "test_accuracy_per_epoch": acc,
        "load_average_before": round(load_before, 2), "load_average_after": round(os.getloadavg()[0], 2),
        "measured": timestamp(),
    }


def run_target(arm: str | None, seeds: list[int], quick: bool) -> dict:
    """The 98 % target as chapter 9 measures it, with ``experiments/recipe_validation.py``'s own code.

    Args:
        arm: the ViT arm to train; ``None`` applies chapter 9's selection rule to the
            shipped ``recipe_validation`` result (validation accuracy only).
        seeds: the seeds (the target is the mean of 3).
        quick: tiny runs that only check the code path.

    Returns:
        The ``target_check`` record: the choice, per-seed rows of the ViT and the CNN, the verdict.
    """
    sys.path.insert(0, str(REPO / "experiments"))
    import recipe_validation as rv  # the experiment chapter 9 reads

    from vit_tutorial.results import load
    from vit_tutorial.stats import binomial_se, mean_sd, select_on_validation

    torch.set_num_threads(1)
    shipped = load("recipe_validation")
    choice = None
    if arm is None:
        in_budget = shipped["settings"].get("in_budget_arms", list(rv.IN_BUDGET))
        val: dict[str, list[float]] = {}
        for r in shipped["rows"]:
            if r["arm"] in in_budget:
                val.setdefault(r["arm"], []).append(r["val_accuracy"])
        complete = {a: v for a, v in val.items() if len(v) >= 3}
        n_val = next(r["val_images"] for r in shipped["rows"])
        choice = select_on_validation(complete, "vit", n_val)
        arm = choice.chosen
    if arm not in rv.ARMS:
        raise SystemExit(f"unknown arm {arm!r}; known: {', '.join(rv.ARMS)}")
    rows = {"vit": [], "cnn": []}
    for seed in seeds:
        for key, name in (("vit", arm), ("cnn", "cnn")):
            print(f"target: {name} seed {seed} ...", flush=True)
            row = rv.run(name, seed, quick)
            row.pop("pos_table", None)
            rows[key].append(row)
            print(f"    test {row['test_accuracy']:.3f}, val {row['val_accuracy']:.3f}, {row['cpu_seconds']:.0f} cpu s",
                  flush=True)

    def summary(rs: list[dict]) -> dict:
        test = [r["test_accuracy"] for r in rs]
        cpu = [r["cpu_seconds"] for r in rs]
        out = {"seeds": [r["seed"] for r in rs], "test_accuracy_mean": sum(test) / len(test),
               "cpu_seconds_mean": sum(cpu) / len(cpu),
               "test_binomial_se": binomial_se(sum(test) / len(test), rs[0]["test_images"])}
        if len(rs) > 1:
            out["test_accuracy_sd"] = mean_sd(test).sd
        return out

    vit, cnn = summary(rows["vit"]), summary(rows["cnn"])
    reached = (len(seeds) >= 3 and vit["test_accuracy_mean"] >= rv.TARGET
               and vit["cpu_seconds_mean"] <= rv.BUDGET_CPU_S)
    return {
        "timestamp": timestamp(), "machine": {**machine_info("cpu"), "torch_threads": 1},
        "definition": TARGET_DEFINITION, "target_test_accuracy": rv.TARGET, "budget_cpu_s": rv.BUDGET_CPU_S,
        "selection_rule": rv.SELECTION_RULE,
        "choice": None if choice is None else choice._asdict(), "arm": arm,
        "vit": vit, "cnn": cnn, "reached": reached,
        "rows": rows["vit"] + rows["cnn"],
    }


COLUMNS = [
    ("name", "run", ""), ("parameters", "params", ","), ("epochs", "epochs", "d"),
    ("test_accuracy", "test acc", ".4f"), ("train_seconds", "train s", ".1f"),
    ("seconds_per_epoch", "s/epoch", ".2f"), ("epoch_reaching_98", "epoch>=98%", ""),
    ("seconds_to_98", "s to 98%", ".1f"), ("load_average_before", "load", ".2f"),
]
TUNE_COLUMNS = [
    ("name", "row", ""), ("parameters", "params", ","), ("epochs", "epochs", "d"),
    ("test_accuracy", "final acc", ".4f"), ("best_test_accuracy", "best acc", ".4f"),
    ("epoch_reaching_98", "epoch>=98%", ""), ("cpu_seconds_per_epoch", "cpu s/epoch", ".2f"),
    ("cpu_seconds_total", "cpu s", ".0f"), ("load_average_before", "load", ".2f"),
]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2, help="threads per process (default 2)")
    p.add_argument("--nproc", type=int, default=1, help="processes for the ViT run (torchrun when > 1)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--skip-cnn", action="store_true", help="only the ViT")
    p.add_argument("--epochs", type=int, default=None,
                   help="train the ViT for this many epochs instead of the chapter's (a timing check; "
                   "stored under its own key)")
    p.add_argument("--skip-vit", action="store_true",
                   help="only the CNN (with the recipe recorded in the bundled checkpoint's metrics.json)")
    p.add_argument("--tune", nargs="*", default=None, metavar="ROW",
                   help=f"run the tuning grid (all rows, or the named ones: {', '.join(TUNING)})")
    p.add_argument("--target", action="store_true",
                   help="measure the 98 %% target as chapter 9 does (recipe chosen on validation, 3 seeds, 1 thread)")
    p.add_argument("--arm", default=None, help="with --target: train this arm instead of the rule's choice")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="with --target: seeds (default 0 1 2)")
    p.add_argument("--quick", action="store_true", help="tiny runs that only check the script works; writes nothing")
    p.add_argument("--out", type=Path, default=RESULT.parent, help=f"results folder (default {RESULT.parent})")
    p.add_argument("--overwrite", action="store_true",
                   help="replace <out>/train_mnist.json with the merged result (default: keep it, "
                   "write train_mnist.<UTC time>.json)")
    args = p.parse_args()
    if args.threads < 1 or args.nproc < 1:
        p.error("--threads and --nproc must be positive integers")
    if args.epochs is not None and (args.epochs < 1 or not args.skip_cnn):
        p.error("--epochs must be a positive integer and goes with --skip-cnn (the CNN keeps the chapter's recipe)")
    result_file = args.out / RESULT.name
    doc = json.loads(result_file.read_text()) if result_file.is_file() else {}
    doc.setdefault("benchmark", "train_mnist")
    doc["target"] = TARGET_DEFINITION

    if args.target:
        check = run_target(args.arm, args.seeds, args.quick)
        v, c = check["vit"], check["cnn"]
        print(f"\nViT ({check['arm']}): test {100 * v['test_accuracy_mean']:.1f} % (mean of {len(v['seeds'])} seeds), "
              f"{v['cpu_seconds_mean']:.0f} cpu s per run; CNN: test {100 * c['test_accuracy_mean']:.1f} %, "
              f"{c['cpu_seconds_mean']:.0f} cpu s")
        print(f"target ({TARGET_DEFINITION}): {'reached' if check['reached'] else 'not reached'}")
        doc["target_check"] = check
    elif args.tune is not None:
        names = args.tune or list(TUNING)
        unknown = [n for n in names if n not in TUNING]
        if unknown:
            p.error(f"unknown tuning rows {unknown}; known: {', '.join(TUNING)}")
        rows = {r["name"]: r for r in doc.get("tuning", [])}
        for name in names:
            print(f"tuning row {name} ...", flush=True)
            rows[name] = run_tuning_row(name, args.quick)
            print(format_table([rows[name]], TUNE_COLUMNS), flush=True)
        ordered = [rows[n] for n in TUNING if n in rows] + [r for n, r in rows.items() if n not in TUNING]
        print("\n" + format_table(ordered, TUNE_COLUMNS))
        doc["tuning"] = ordered
        doc["tuning_machine"] = {**machine_info("cpu"), "torch_threads": 1}
    else:
        torch.set_num_threads(args.threads)
        if args.skip_cnn and args.skip_vit:
            p.error("--skip-cnn and --skip-vit leave nothing to run")
        runs = []
        if not args.skip_vit:
            runs.append(run_chapter(args.threads, args.nproc, args.quick, args.device, args.epochs))
            recipe = runs[0]["train_config"]
        else:
            recipe = json.loads((BUNDLED_CHECKPOINT / "metrics.json").read_text())["train_config"]
        if not args.skip_cnn:
            runs.append(run_cnn(recipe, args.threads, args.quick, args.device))
        print(format_table(runs, COLUMNS))
        for row in runs:
            key = f"{'cnn' if row['name'].startswith('SmallCNN') else 'vit'}_{row['processes']}proc_x_{row['threads_per_process']}thread"
            if args.epochs is not None and not row["name"].startswith("SmallCNN"):
                key += f"_{args.epochs}epochs"
            doc.setdefault("runs", {})[key] = {"timestamp": timestamp(), "machine": machine_info(args.device), **row}
        if not args.skip_cnn:
            doc["cnn"] = runs[-1]  # the latest CNN baseline, read by chapter 9
    if args.quick:
        print("(--quick: nothing written)")
        return
    written = save_result(doc, result_file, overwrite=args.overwrite)
    print(f"\nwrote {written}")


if __name__ == "__main__":
    main()
