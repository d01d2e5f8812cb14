"""Shared helpers of the experiment scripts of chapters 11 and 12.

Every script trains small models on MNIST-5k (or times layers), then writes
``vit_tutorial/results/<name>.json`` (package data) with one envelope::

    {"experiment": name, "date": "...Z", "command": "python experiments/...",
     "machine": {...}, "settings": {...}, "rows": [...], ...}

which the chapter notebooks read and plot. They never train anything that
takes longer than a few seconds themselves.

The model and the recipe are chapter 9's: the ViT-Tiny configuration, the
:class:`~vit_tutorial.train.TrainConfig` and the initial spread of the
position table (``pos_init_std``) stored with the bundled checkpoint
(``vit_tutorial/checkpoints/vit-tiny-mnist5k/metrics.json``), read at run
time, so the experiments follow chapter 9 if it is retrained. Every model with
a learned absolute position table gets chapter 9's initialisation of it.

The training budget. Every run sees the same number of training images,
``budget_epochs x 4,000`` (the size of the full training split; 30 passes by
default, as in chapter 9), whatever share of the split it trains on: a run
on 10 % of the data makes ten times as many passes over it. So all runs cost
about the same compute, and the learning-rate schedule (warm-up, cosine) is
stretched to the same length in images.

Runs are cached (metrics and weights) in ``$VIT_EXPERIMENT_CACHE`` (default
``/tmp/vit-experiment-cache``), keyed by the model, the data share, the seed,
the recipe and a fingerprint of the package's model and training code, so
that scripts sharing a run train it once; ``--no-cache`` retrains.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import functools
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Callable

import torch
from torch import nn

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as `python experiments/x.py` from a fresh checkout
    sys.path.insert(0, str(REPO))

from vit_tutorial.config import ViTConfig  # noqa: E402
from vit_tutorial.data import DataSplits, Split, load_dataset  # noqa: E402
from vit_tutorial.model import count_parameters  # noqa: E402
from vit_tutorial.model import ViT  # noqa: E402
from vit_tutorial.position import trunc_normal_init  # noqa: E402
from vit_tutorial.train import BUNDLED_CHECKPOINT, TrainConfig, fit, init_position_embedding  # noqa: E402

RESULTS_DIR = REPO / "vit_tutorial" / "results"  # package data, read with vit_tutorial.results.load
FULL_TRAIN = 4000  # images in MNIST-5k's training split
CACHE_DIR = Path(os.environ.get("VIT_EXPERIMENT_CACHE", "/tmp/vit-experiment-cache"))


def base_parser(description: str) -> argparse.ArgumentParser:
    """Options every experiment understands."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--budget-epochs", type=float, default=30.0,
                   help="training budget in passes over the FULL training split (default 30, as in chapter 9)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds (default: 0)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch.set_num_threads (default 1: on a busy machine, 2 threads were 10x slower)")
    p.add_argument("--quick", action="store_true",
                   help="a tiny run (few images, one short epoch) that only checks the script works")
    p.add_argument("--no-cache", action="store_true", help="retrain even if a cached run exists")
    p.add_argument("--out", type=Path, default=RESULTS_DIR, help=f"results folder (default {RESULTS_DIR})")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing result (default: keep it, write <name>.<UTC time>.json next to it)")
    return p


def setup(args: argparse.Namespace) -> None:
    """Apply ``--threads`` and make the quick mode cheap."""
    if args.threads is not None and args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.quick:
        args.budget_epochs = min(args.budget_epochs, 0.05)
        args.no_cache = True


def machine() -> dict:
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    try:
        info["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return info


def load_data(quick: bool) -> DataSplits:
    """MNIST-5k; in quick mode only 200 training and 100 test images (both stratified)."""
    data = load_dataset("mnist5k")
    if quick:
        data = data.subset(0.05, seed=0)
        test = Split(data.test.images[::10].clone(), data.test.labels[::10].clone())  # 10 per class
        data = DataSplits(data.name, data.train, test,
                          data.mean, data.std, data.num_classes)
    return data


def _chapter9_meta() -> dict:
    path = Path(BUNDLED_CHECKPOINT) / "metrics.json"
    if not path.is_file():
        raise ValueError(f"expected chapter 9's checkpoint metrics at {path}; train it first "
                         f"(python -m vit_tutorial.train)")
    return json.loads(path.read_text())


def chapter9() -> tuple[ViTConfig, dict]:
    """Chapter 9's ViT-Tiny configuration and training recipe, as stored in
    the bundled checkpoint's ``metrics.json``."""
    meta = _chapter9_meta()
    return ViTConfig.from_dict(meta["model_config"]), dict(meta["train_config"])


def pos_init_std() -> float | None:
    """Chapter 9's initial standard deviation of the position table (None: ViT's default 0.02)."""
    return _chapter9_meta().get("pos_init_std")


def init_positions(model: nn.Module) -> nn.Module:
    """Give a model's learned absolute position table chapter 9's initialisation.

    ViTs (and the conv-stem hybrid) go through
    :func:`~vit_tutorial.train.init_position_embedding`; the PVT-like model's
    table is redrawn the same way. Models without such a table are unchanged.
    """
    std = pos_init_std()
    if not std:
        return model
    if isinstance(model, ViT) and model.config.pos_embedding == "learned":
        return init_position_embedding(model, std)
    table = getattr(model, "pos_embed", None)
    if isinstance(table, nn.Parameter):
        with torch.no_grad():
            trunc_normal_init(table, std=float(std))
    return model


def code_fingerprint() -> str:
    """A hash of the package's model and training code (not its figures or checks)."""
    pkg = REPO / "vit_tutorial"
    files = sorted(pkg.glob("*.py")) + sorted((pkg / "variants").glob("*.py"))
    h = hashlib.sha1()
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def tiny_config(**overrides) -> ViTConfig:
    """Chapter 9's ViT-Tiny configuration with some fields changed."""
    config, _ = chapter9()
    return dataclasses.replace(config, **overrides)


def train_config(budget_epochs: float, fraction: float, seed: int, n_train: int) -> TrainConfig:
    """Chapter 9's recipe, stretched so that every run sees ``budget_epochs x 4000`` images.

    ``n_train`` is the number of training images of this run; epochs =
    round(budget_epochs * 4000 / n_train), and the warm-up keeps chapter 9's
    share of the schedule (warmup_epochs / epochs).
    """
    _, recipe9 = chapter9()
    epochs = max(1, round(budget_epochs * FULL_TRAIN / n_train))
    warmup_share = recipe9["warmup_epochs"] / recipe9["epochs"]
    fields = {k: v for k, v in recipe9.items() if k not in ("epochs", "warmup_epochs", "seed", "device", "eval_every")}
    return TrainConfig(**fields, epochs=epochs, warmup_epochs=epochs * warmup_share, seed=seed, device="cpu",
                       eval_every=epochs)


def _key(model_name: str, fraction: float, seed: int, config: TrainConfig, quick: bool) -> str:
    blob = json.dumps({"model": model_name, "fraction": fraction, "seed": seed, "quick": quick,
                       "config": config.to_dict(), "pos_init_std": pos_init_std(), "code": code_fingerprint()},
                      sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def train_run(
    model_name: str,
    build: Callable[[], nn.Module],
    data: DataSplits,
    fraction: float,
    seed: int,
    budget_epochs: float,
    quick: bool = False,
    use_cache: bool = True,
) -> tuple[dict, nn.Module]:
    """Train ``build()`` on a stratified ``fraction`` of the training split.

    The model is built after ``torch.manual_seed(seed)``, so its
    initialisation depends on the seed too, and its position table (if it
    has a learned one) is initialised as in chapter 9. Returns ``(row, model)``: the
    row holds the model name, data share, seed, images, epochs, steps,
    parameters, final test accuracy and loss, and the training seconds.
    """
    sub = data.subset(fraction, seed=seed) if fraction < 1.0 else data
    n = len(sub.train)
    config = train_config(budget_epochs, fraction, seed, n)
    key = _key(model_name, fraction, seed, config, quick)
    cache_json, cache_pt = CACHE_DIR / f"{key}.json", CACHE_DIR / f"{key}.pt"
    torch.manual_seed(seed)
    model = init_positions(build())
    if use_cache and cache_json.is_file() and cache_pt.is_file():
        model.load_state_dict(torch.load(cache_pt, weights_only=True))
        model.eval()
        row = json.loads(cache_json.read_text())
        print(f"  {model_name:>22s}  fraction {fraction:<5} seed {seed}: cached, accuracy {row['test_accuracy']:.4f}",
              flush=True)
        return row, model
    t0 = time.perf_counter()
    history = fit(model, sub, config, progress=False)
    seconds = time.perf_counter() - t0
    steps_per_epoch = -(-n // config.batch_size)
    row = {
        "model": model_name,
        "fraction": fraction,
        "seed": seed,
        "train_images": n,
        "epochs": config.epochs,
        "steps": steps_per_epoch * config.epochs,
        "images_seen": n * config.epochs,
        "parameters": count_parameters(model),
        "test_accuracy": round(float(history[-1]["test_accuracy"]), 4),
        "test_loss": round(float(history[-1]["test_loss"]), 4),
        "train_accuracy_last_epoch": round(float(history[-1]["train_accuracy"]), 4),
        "train_seconds": round(seconds, 1),
        "seconds_per_budget_epoch": round(seconds / max(budget_epochs, 1e-9), 2),
    }
    print(f"  {model_name:>22s}  fraction {fraction:<5} seed {seed}: {config.epochs} epochs, "
          f"accuracy {row['test_accuracy']:.4f}, {seconds:.0f} s", flush=True)
    if use_cache:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), cache_pt)
        cache_json.write_text(json.dumps(row))
    return row, model


def write_result(name: str, args: argparse.Namespace, settings: dict, rows: list[dict], **extra) -> Path:
    """Write ``<out>/<name>.json`` (``<name>.quick.json`` in quick mode)."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / (f"{name}.quick.json" if args.quick else f"{name}.json")
    payload = {
        "experiment": name,
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "python " + " ".join([f"experiments/{Path(sys.argv[0]).name}", *sys.argv[1:]]),
        "quick": bool(args.quick),
        "machine": machine(),
        "settings": settings,
        "rows": rows,
        **extra,
    }
    from vit_tutorial.results import save  # atomic; never silently replaces a result
    path = save(payload, path, overwrite=getattr(args, "overwrite", False))
    print(f"wrote {path}")
    return path


def recipe(budget_epochs: float) -> dict:
    """The training recipe in words and numbers, for the results file."""
    _, d = chapter9()
    share = d["warmup_epochs"] / d["epochs"]
    for k in ("epochs", "warmup_epochs", "seed", "device", "eval_every"):
        d.pop(k)
    return {
        "budget": f"every run sees budget_epochs x {FULL_TRAIN} training images "
                  f"(epochs = budget_epochs x {FULL_TRAIN} / training images); warm-up = {share:.4g} x epochs; "
                  "cosine decay; otherwise chapter 9's recipe",
        "budget_epochs": budget_epochs,
        "train_config": d,
        "pos_init_std": pos_init_std(),
        "code_fingerprint": code_fingerprint(),
        "dataset": "mnist5k (4,000 train / 1,000 test, stratified); subsets stratified with the run's seed",
    }


def predictions(model: nn.Module, images: torch.Tensor, batch: int = 1000) -> torch.Tensor:
    """Predicted classes (n,) of ``model`` on ``images``, in eval mode, without gradients."""
    model.eval()
    with torch.no_grad():
        return torch.cat([model(images[i:i + batch]).argmax(1) for i in range(0, len(images), batch)])


def pack_correct(correct: torch.Tensor) -> str:
    """A boolean vector (n,) as hex (numpy.packbits), for paired tests between runs."""
    import numpy as np

    return np.packbits(correct.cpu().numpy().astype(np.uint8)).tobytes().hex()


def fit_select(model: nn.Module, train: Split, val: Split, test: Split, config: TrainConfig,
               evaluations: int = 10) -> dict:
    """Train with ``fit``, score the validation split about ``evaluations`` times,
    keep the weights of the best validation accuracy (the later epoch on a tie),
    and score only those on ``test``.

    Returns a dict: ``chosen_epoch``, ``val_accuracy``, ``test_accuracy``,
    ``final_epoch_test_accuracy``, ``val_curve`` ([epoch, accuracy] pairs),
    ``train_accuracy_last_epoch``, ``train_seconds``, ``test_correct`` (hex bits)
    and ``correct`` (the boolean tensor, not for JSON). The model is left with
    the chosen weights.
    """
    config = dataclasses.replace(config, eval_every=max(1, config.epochs // evaluations))
    data = DataSplits("train-val", train, val, 0.0, 1.0, int(train.labels.max()) + 1)  # fit's "test" = validation
    best: dict = {"val": -1.0}
    curve: list = []

    def on_epoch(record: dict) -> None:
        if record["test_accuracy"] is None:
            return
        curve.append([record["epoch"], round(record["test_accuracy"], 4)])
        if record["test_accuracy"] >= best["val"]:
            best.update(val=record["test_accuracy"], epoch=record["epoch"],
                        state={k: t.detach().clone() for k, t in model.state_dict().items()})

    t0 = time.perf_counter()
    history = fit(model, data, config, progress=False, callback=on_epoch)
    seconds = time.perf_counter() - t0
    final = float((predictions(model, test.images) == test.labels).float().mean())
    model.load_state_dict(best["state"])
    correct = predictions(model, test.images) == test.labels
    return {
        "chosen_epoch": best["epoch"], "val_accuracy": round(best["val"], 4),
        "test_accuracy": round(float(correct.float().mean()), 4),
        "final_epoch_test_accuracy": round(final, 4), "val_curve": curve,
        "train_accuracy_last_epoch": round(float(history[-1]["train_accuracy"]), 4),
        "train_seconds": round(seconds, 1), "test_correct": pack_correct(correct), "correct": correct,
    }


def recipe_config(epochs: int, seed: int, **overrides) -> TrainConfig:
    """Chapter 9's recipe for ``epochs`` epochs (warm-up keeps its share of the schedule)."""
    _, recipe9 = chapter9()
    share = recipe9["warmup_epochs"] / recipe9["epochs"]
    fields = {k: v for k, v in recipe9.items() if k not in ("epochs", "warmup_epochs", "seed", "device", "eval_every")}
    fields.update(overrides)
    return TrainConfig(**fields, epochs=epochs, warmup_epochs=epochs * share, seed=seed, device="cpu")


def save_partial(name: str, doc: dict, out: Path, quick: bool) -> Path:
    """Write a (possibly incomplete) result atomically, replacing the previous write of this run."""
    from vit_tutorial.results import save

    return save(doc, Path(out) / (f"{name}.quick.json" if quick else f"{name}.json"), overwrite=True,
                check=name)


# ---------------------------------------------------------------------------
# The validation protocol of chapters 9-10 for the trained-model scripts
# (variants.py, locality.py, transfer.py): 3,500 / 500 / 1,000 digits, the
# best validation epoch kept, the test digits scored once, runs cached.

#: The files that decide what a trained run computes: the models, the data, the training loop.
RUN_CODE = ("_checks.py", "config.py", "patches.py", "embedding.py", "position.py", "attention.py", "encoder.py",
            "init.py", "model.py", "baselines.py", "data.py", "synthetic.py", "train.py",
            "training/augment.py", "training/evaluate.py", "training/loop.py", "training/optim.py",
            "training/recipe.py", "training/schedule.py",
            "variants/models.py", "variants/conv_stem.py", "variants/peg.py", "variants/spatial_reduction.py",
            "variants/window_attention.py", "variants/layerscale.py", "variants/permutation.py")


@functools.lru_cache(maxsize=None)
def run_code_fingerprint() -> str:
    """A hash of :data:`RUN_CODE` (read once per process, when first asked, so
    edits to the package's figures, checks or prose, or later edits while a run
    goes on, do not change the cache keys of :func:`select_run` and transfer.py)."""
    pkg = REPO / "vit_tutorial"
    h = hashlib.sha1()
    for name in RUN_CODE:
        f = pkg / name
        h.update(name.encode())
        h.update(f.read_bytes() if f.is_file() else b"missing")
    return h.hexdigest()[:12]


#: The protocol's tag in cache keys and result files (change it if the protocol changes).
PROTOCOL = "mnist5k load_splits 3500/500/1000; fit_select (val every epoch, later epoch on ties); test once"


def mnist_splits(quick: bool) -> tuple[Split, Split, Split]:
    """MNIST-5k's (train, val, test) from ``load_splits``; in quick mode every
    20th training, 5th validation and 10th test digit (175 / 100 / 100)."""
    from vit_tutorial.data import load_splits

    data = load_splits("mnist5k")
    train, val, test = data.train, data.val, data.test
    if quick:
        train = Split(train.images[::20].clone(), train.labels[::20].clone())
        val = Split(val.images[::5].clone(), val.labels[::5].clone())
        test = Split(test.images[::10].clone(), test.labels[::10].clone())
    return train, val, test


def split_loss(model: nn.Module, split: Split, batch: int = 1000) -> float:
    """Mean cross-entropy (no label smoothing) of ``model`` on ``split``, in eval mode."""
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(split), batch):
            logits = model(split.images[i:i + batch])
            total += float(nn.functional.cross_entropy(logits, split.labels[i:i + batch], reduction="sum"))
    return total / max(len(split), 1)


def select_run(
    model_name: str,
    build: Callable[[], nn.Module],
    train: Split,
    val: Split,
    test: Split,
    seed: int,
    config: TrainConfig,
    quick: bool = False,
    use_cache: bool = True,
    tag: str = PROTOCOL,
) -> tuple[dict, nn.Module]:
    """Train ``build()`` with :func:`fit_select` (validation scored after every
    epoch), cached under the model, its architecture, the seed, the recipe, the
    protocol ``tag``, the data sizes and the code.

    The model is built after ``torch.manual_seed(seed)`` and its position table
    (if learned) gets chapter 9's initialisation. Returns ``(row, model)``; the
    model holds the chosen weights, in eval mode. The row has the keys of
    :func:`fit_select` (without ``correct``), plus ``model``, ``fraction`` (1.0),
    ``seed``, ``train_images``, ``epochs``, ``steps``, ``images_seen``,
    ``parameters``, ``test_loss`` (cross-entropy of the chosen weights),
    ``cpu_seconds`` (process time of the training) and ``cached``.
    """
    torch.manual_seed(seed)
    model = init_positions(build())
    blob = json.dumps({"model": model_name, "arch": repr(model), "parameters": count_parameters(model),
                       "seed": seed, "quick": quick, "config": config.to_dict(), "tag": tag,
                       "sizes": [len(train), len(val), len(test)], "pos_init_std": pos_init_std(),
                       "code": run_code_fingerprint()}, sort_keys=True)
    key = "sel-" + hashlib.sha1(blob.encode()).hexdigest()[:16]
    cache_json, cache_pt = CACHE_DIR / f"{key}.json", CACHE_DIR / f"{key}.pt"
    if use_cache and cache_json.is_file() and cache_pt.is_file():
        model.load_state_dict(torch.load(cache_pt, weights_only=True))
        model.eval()
        row = {**json.loads(cache_json.read_text()), "cached": True}
        print(f"  {model_name:>22s} seed {seed}: cached, val {row['val_accuracy']:.4f}, "
              f"test {row['test_accuracy']:.4f}", flush=True)
        return row, model
    cpu0 = time.process_time()
    res = fit_select(model, train, val, test, config, evaluations=config.epochs)
    cpu = time.process_time() - cpu0
    res.pop("correct")
    n = len(train)
    row = {"model": model_name, "fraction": 1.0, "seed": seed, "train_images": n, "epochs": config.epochs,
           "steps": -(-n // config.batch_size) * config.epochs, "images_seen": n * config.epochs,
           "parameters": count_parameters(model), **res, "test_loss": round(split_loss(model, test), 4),
           "cpu_seconds": round(cpu, 1)}
    print(f"  {model_name:>22s} seed {seed}: {config.epochs} epochs, val {row['val_accuracy']:.4f} "
          f"(epoch {row['chosen_epoch']}), test {row['test_accuracy']:.4f}, {cpu:.0f} CPU s", flush=True)
    if use_cache:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        tmp = cache_pt.with_suffix(f".{os.getpid()}.tmp")
        torch.save(model.state_dict(), tmp)
        os.replace(tmp, cache_pt)  # two processes may share the cache: never a half-written file
        tmp = cache_json.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(row))
        os.replace(tmp, cache_json)
    model.eval()
    return {**row, "cached": False}, model


def protocol_settings(epochs: int, seeds: list[int]) -> dict:
    """The validation protocol and recipe in words and numbers, for the results file."""
    return {
        "dataset": "mnist5k via vit_tutorial.data.load_splits: 3,500 train / 500 validation / 1,000 test, "
                   "stratified; every model trains on all 3,500 training digits",
        "protocol": PROTOCOL,
        "budget": f"{epochs} epochs over the 3,500 training digits (--budget-epochs) for every model, "
                  f"chapter 9's recipe otherwise (warm-up keeps its share of the schedule, cosine decay)",
        "budget_epochs": epochs,
        "train_config": recipe_config(epochs, 0).to_dict(),
        "pos_init_std": pos_init_std(),
        "selection": "weights of the best validation accuracy after any epoch (the later epoch on ties); "
                     "those weights scored once on the 1,000 test digits",
        "seeds": list(seeds),
        "test_correct_encoding": "hex of numpy.packbits(correct as uint8), test images in order",
        "code_fingerprint": run_code_fingerprint(),
        "code_fingerprint_files": "vit_tutorial/ " + ", ".join(RUN_CODE),
    }


def result_target(name: str, args: argparse.Namespace) -> Path:
    """Where this invocation writes its result: ``<out>/<name>.json`` (``.quick.json``),
    or, when that exists and ``--overwrite`` was not given, ``<name>.<UTC time>.json`` next to it
    (the committed result is never replaced silently). Decided once, before the first run."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / (f"{name}.quick.json" if args.quick else f"{name}.json")
    if path.exists() and not getattr(args, "overwrite", False):
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        new = path.with_name(f"{path.stem}.{stamp}{path.suffix}")
        print(f"{path} exists and is kept (no --overwrite); this run writes {new}. To adopt it: mv {new} {path}")
        path = new
    return path


def envelope(name: str, args: argparse.Namespace, started: str, mach: dict) -> dict:
    """The top-level keys of a result written run by run (``complete`` is set by the caller)."""
    return {"experiment": name, "date": started,
            "command": "python " + " ".join([f"experiments/{Path(sys.argv[0]).name}", *sys.argv[1:]]),
            "quick": bool(args.quick), "machine": mach}


def write_at(doc: dict, path: Path, name: str) -> Path:
    """Write ``doc`` atomically to ``path`` (chosen by :func:`result_target`), validated as result ``name``."""
    from vit_tutorial.results import save

    return save(doc, path, overwrite=True, check=name)
