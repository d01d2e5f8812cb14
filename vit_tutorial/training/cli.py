"""The command line: ``python -m vit_tutorial.train`` (or ``python -m vit_tutorial.training``).

::

    python -m vit_tutorial.train --dataset mnist5k --out runs/tiny
    torchrun --nproc_per_node=2 -m vit_tutorial.train --dataset mnist5k --out runs/tiny2
    python -m vit_tutorial.train --dataset mnist5k --out runs/tiny --epochs 40 --resume

Every :class:`~vit_tutorial.training.TrainConfig` field is a flag (``batch_size``
is ``--batch-size``), with the field's default and its description from the
docstring; every :class:`~vit_tutorial.config.ViTConfig` field can be set with
``--set FIELD=VALUE``. It writes ``model.safetensors``, ``config.json`` and
``metrics.json`` to ``--out``, plus ``train_state.pt`` after every epoch so
that ``--resume`` can continue an interrupted run.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
from pathlib import Path

import torch

from ..config import PRESETS, ViTConfig, vit_config
from ..data import DATASETS, DataSplits, load_dataset
from ..model import ViT, count_parameters
from .checkpoint import STATE_FILE, checkpoint_files, read_state, save_checkpoint
from .distributed import init_process_group_from_env, rank_and_world, resolve_device
from .evaluate import model_device
from .loop import TrainingDiverged, check_fit_data, fit
from .recipe import TrainConfig, field_help

__all__ = ["build_parser", "main", "DATASET_MODEL_DEFAULTS"]

#: The model side of chapter 9's validated recipe, used for the ViT-Tiny preset
#: unless ``--set`` / ``--pos-init-std`` say otherwise (the training side is
#: TrainConfig's defaults). Chosen on the validation split
#: (``experiments/recipe_validation.py``, chapter 9).
DATASET_MODEL_DEFAULTS: dict[str, dict] = {
    "mnist5k": {"patch_size": 7, "pos_init_std": 0.5},
}


def _out_dir(text: str) -> Path:
    """``--out``'s type: a non-empty path (``''`` would silently mean the current directory)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a directory name, got an empty string (use . for the current directory)")
    return Path(text)


#: TrainConfig fields a resumed run may change: the length of the run, where it runs, how often it is scored.
RESUMABLE_CHANGES = ("epochs", "device", "eval_every")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _add_train_config_flags(p: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field: its default, its type and its docstring's description."""
    helps = field_help(TrainConfig)
    for f in dataclasses.fields(TrainConfig):
        default = f.default
        if isinstance(default, bool):  # --fused-adamw / --no-fused-adamw
            p.add_argument(_flag(f.name), action=argparse.BooleanOptionalAction, default=default, help=helps[f.name])
        elif isinstance(default, tuple):
            p.add_argument(_flag(f.name), type=type(default[0]), nargs=len(default), default=default,
                           metavar=f.name.upper(), help=helps[f.name])
        else:
            p.add_argument(_flag(f.name), type=type(default), default=default, help=helps[f.name])


def _parse_set(items: list[str], parser: argparse.ArgumentParser) -> dict:
    """``--set dim=96 --set pool=mean`` -> {"dim": 96, "pool": "mean"}."""
    fields = {f.name: f for f in dataclasses.fields(ViTConfig)}
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in fields:
            parser.error(f"--set expects FIELD=VALUE with FIELD one of {', '.join(fields)}; got {item!r}")
        default = getattr(ViTConfig(), key)
        try:
            if isinstance(default, bool):
                if value.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(value)
                out[key] = value.lower() in ("true", "1")
            else:
                out[key] = type(default)(value)
        except ValueError:
            parser.error(f"--set {key}: expected a {type(default).__name__}, got {value!r}")
    return out


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show defaults, except for required options and switches."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.required or isinstance(action.default, bool) or action.default == []:
            return action.help or ""
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m vit_tutorial.train``."""
    p = argparse.ArgumentParser(
        prog="python -m vit_tutorial.train",
        description="Train a ViT preset on a bundled dataset; writes model.safetensors, config.json, "
        "metrics.json and a resumable train_state.pt to --out. Works the same under "
        "torchrun --nproc_per_node=N (gloo on CPU, nccl on CUDA).",
        formatter_class=_HelpFormatter,
    )
    p.add_argument("--dataset", required=True, help=f"one of: {', '.join(DATASETS)}")
    p.add_argument("--out", required=True, type=_out_dir, help="output directory")
    p.add_argument("--preset", default="ViT-Tiny", help=f"model preset, one of: {', '.join(PRESETS)}")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="override a ViTConfig field, e.g. --set patch_size=7 (repeatable)")
    p.add_argument("--pos-init-std", type=float, default=None,
                   help="ViTConfig.pos_init_std: start the learned position table with this std (None: ViT's "
                   "0.02; 0.5 skips a slow first phase on small data sets); the same as --set pos_init_std=...")
    _add_train_config_flags(p)
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads per process (None: torch's choice; 1 is best on a busy machine)")
    p.add_argument("--train-fraction", type=float, default=1.0, help="train on a stratified share of the training split")
    p.add_argument("--no-validation", action="store_true",
                   help="train on training + validation images (mnist5k: all 4,000) and score only the test "
                   "split, for a final model whose recipe was chosen on validation; by default 500 of them "
                   "are held out as the validation split, scored every epoch, and test is scored once at the end")
    p.add_argument("--resume", action="store_true", help="continue from --out/train_state.pt")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a checkpoint or run already in --out (without it, a directory holding "
                   "model.safetensors, config.json, metrics.json or train_state.pt is refused)")
    p.add_argument("--drop-state", action="store_true",
                   help="delete train_state.pt after the last epoch (keeps only the checkpoint)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _as_flags(message: str) -> str:
    """A config's error message, with the field it starts with written as its flag."""
    name = message.split(" ", 1)[0]
    flagged = {f.name for f in dataclasses.fields(TrainConfig)} | {"pos_init_std"}
    return _flag(name) + message[len(name):] if name in flagged else message


def _check_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> TrainConfig:
    """The checks that need no data: names, ranges, the output directory; returns the TrainConfig."""
    if args.dataset not in DATASETS:
        parser.error(f"unknown dataset {args.dataset!r}; known datasets: {', '.join(DATASETS)}")
    if args.preset not in PRESETS:
        parser.error(f"unknown preset {args.preset!r}; known presets: {', '.join(PRESETS)}")
    if args.threads is not None and args.threads <= 0:
        parser.error(f"--threads must be a positive integer, got {args.threads}")
    if not 0.0 < args.train_fraction <= 1.0:
        parser.error(f"--train-fraction must be in (0, 1], got {args.train_fraction}")
    out: Path = args.out
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out} exists and is not a directory")
    state_path = out / STATE_FILE
    if args.resume and not state_path.is_file():
        parser.error(f"--resume: no training state {state_path}; run once without --resume first")
    existing = checkpoint_files(out)
    if args.resume and args.overwrite:
        parser.error("--resume and --overwrite contradict each other: continue the run in --out, or replace it")
    if not args.resume and existing and not args.overwrite:
        parser.error(f"--out {out} already holds a training run; pass --resume to continue it, --overwrite to "
                     f"replace it ({', '.join(existing)}), or choose another directory")
    try:
        return TrainConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)})
    except ValueError as exc:
        parser.error(_as_flags(str(exc)))


def _model_config(args, parser, data: DataSplits, train_config: TrainConfig) -> ViTConfig:
    """The ViTConfig from the preset, the dataset's shape, ``--set`` and ``--pos-init-std``; checked against a resumed run."""
    saved = _saved_model_config(args, parser)
    overrides = _model_overrides(args, parser, saved)
    C, H, W = data.image_shape
    try:
        config = vit_config(args.preset, **{"image_size": H, "in_channels": C, "num_classes": data.num_classes,
                                            **overrides})  # --set wins; checked against the data before writing
    except ValueError as exc:
        parser.error(f"model config for {args.dataset} ({C}x{H}x{W}): {_as_flags(str(exc))}")
    if args.resume:
        _check_resumable(args, parser, config, train_config, saved)
    _check_writable(args.out, parser)
    return config


def _saved_model_config(args, parser) -> dict | None:
    """The resumed run's ``config.json`` as a dict (``None`` without ``--resume`` or without the file)."""
    out = args.out
    if not (args.resume and (out / "config.json").is_file()):
        return None
    try:
        saved = json.loads((out / "config.json").read_text())
        if not isinstance(saved, dict):
            raise ValueError(f"expected a JSON object, got {type(saved).__name__}")
    except (ValueError, UnicodeDecodeError) as exc:
        parser.error(f"--resume: {out / 'config.json'} is not a valid model config ({exc})")
    return saved


def _model_overrides(args, parser, saved: dict | None) -> dict:
    """The ViTConfig fields to change from the preset: the dataset's defaults, ``--set``, the position std."""
    overrides = _parse_set(args.set, parser)
    if args.preset == "ViT-Tiny":  # the chapter's validated model for this dataset
        defaults = dict(DATASET_MODEL_DEFAULTS.get(args.dataset, {}))
        if args.pos_init_std is not None:
            defaults.pop("pos_init_std", None)
        overrides = {**defaults, **overrides}
    if args.pos_init_std is not None:
        overrides["pos_init_std"] = args.pos_init_std
    elif saved is not None and "pos_init_std" in saved and "pos_init_std" not in overrides:
        overrides["pos_init_std"] = saved["pos_init_std"]  # a resumed run keeps its recipe
    return overrides


def _check_resumable(args, parser, config: ViTConfig, train_config: TrainConfig, saved: dict | None) -> None:
    """``parser.error`` unless the saved run in ``--out`` has this model, this recipe and epochs left."""
    out = args.out
    try:
        state = read_state(out / STATE_FILE)
        saved_config = ViTConfig.from_dict(saved) if saved is not None else None
    except ValueError as exc:
        parser.error(f"--resume: {exc}")
    if saved_config is not None and saved_config != config:
        diff = [f"{k}: saved {v!r}, now {getattr(config, k)!r}" for k, v in saved_config.to_dict().items()
                if getattr(config, k) != v]
        parser.error(f"--resume: the model config differs from the saved run's {out / 'config.json'} "
                     f"({'; '.join(diff)})")
    saved_train = state.get("train_config")
    if isinstance(saved_train, dict):
        now = train_config.to_dict()
        diff = [f"{_flag(k)}: saved {v!r}, now {now[k]!r}" for k, v in saved_train.items()
                if k in now and k not in RESUMABLE_CHANGES and now[k] != v]
        if diff:
            parser.error(f"--resume: the training recipe differs from the saved run's ({'; '.join(diff)}); "
                         f"only {', '.join(_flag(k) for k in RESUMABLE_CHANGES)} may change")
    try:
        ViT(config).load_state_dict(state["model"])
    except RuntimeError as exc:
        parser.error(f"--resume: {out / STATE_FILE} was written for another model "
                     f"({str(exc).strip().splitlines()[0]})")
    if state["epoch"] >= train_config.epochs:
        parser.error(f"--resume: the saved run already finished {state['epoch']} epochs; pass --epochs > {state['epoch']}")


def _check_writable(out: Path, parser) -> None:
    """``parser.error`` unless ``out`` can be created and written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        # One probe per process: under torchrun every rank runs this check at once.
        probe = out / f".write_test.{os.getpid()}"
        probe.write_text("")
        probe.unlink(missing_ok=True)
    except OSError as exc:
        parser.error(f"--out {out} is not writable: {exc}")


def _metrics(args, model: ViT, train_config: TrainConfig, history: list[dict], world: int) -> dict:
    """What ``metrics.json`` records about the run."""
    final = history[-1]
    c = model.config
    return {
        "dataset": args.dataset,
        "preset": args.preset,
        "model_config": c.to_dict(),
        "train_config": train_config.to_dict(),
        "train_fraction": args.train_fraction,
        "pos_init_std": c.pos_init_std if args.pos_init_std is not None or c.pos_init_std != ViTConfig.pos_init_std else None,
        "parameters": count_parameters(model),
        "epochs": final["epoch"],
        "test_accuracy": final["test_accuracy"],
        "test_loss": final["test_loss"],
        "validation": not args.no_validation,
        "val_accuracy": final.get("val_accuracy"),
        "train_loss": final["train_loss"],
        "train_seconds": sum(r["seconds"] for r in history),
        "world_size": world,
        "threads_per_process": torch.get_num_threads(),
        "device": str(model_device(model)),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "history": history,
    }


def _log_epoch(record: dict) -> None:
    """One line per epoch, for runs without a progress bar."""
    acc, val = record["test_accuracy"], record.get("val_accuracy")
    print(
        f"epoch {record['epoch']:3d}  train loss {record['train_loss']:.4f}  "
        f"train acc {record['train_accuracy']:.4f}  "
        + (f"val acc {val:.4f}  " if val is not None else "")
        + (f"test acc {acc:.4f}  " if acc is not None else "")
        + f"{record['seconds']:.1f} s",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m vit_tutorial.train``; returns the exit code."""
    if argv is not None and (not isinstance(argv, (list, tuple)) or not all(isinstance(a, str) for a in argv)):
        raise TypeError(f"argv must be a list of strings (or None for sys.argv), got {argv!r}"[:200])
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args, parser)
    except TrainingDiverged as exc:
        parser.exit(1, f"{parser.prog}: error: {exc}; no checkpoint was written\n")
    except (ValueError, TypeError) as exc:  # bad input found late: a usage error, not a traceback
        parser.error(str(exc))
    except OSError as exc:  # a full disk or a folder that vanished: say so, exit 1
        parser.exit(1, f"{parser.prog}: error: {exc}\n")


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """:func:`main` after parsing: check everything, then train and save."""
    train_config = _check_args(args, parser)
    data = load_dataset(args.dataset, validation=not args.no_validation)
    if args.train_fraction < 1.0:
        data = data.subset(args.train_fraction, seed=args.seed)
    model_config = _model_config(args, parser, data, train_config)
    init_process_group_from_env(train_config.device)
    rank, world = rank_and_world()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = ViT(model_config)  # a resumed run loads its weights in fit
    out = args.out
    try:  # everything that can fail on this data and device, before a file is written
        resolve_device(train_config.device)
        check_fit_data(model, data)
    except (ValueError, RuntimeError) as exc:
        parser.error(_as_flags(str(exc)))
    if rank == 0:
        if args.overwrite:  # asked for explicitly: the old run goes before the new one starts
            for name in checkpoint_files(out):
                (out / name).unlink()
        (out / "config.json").write_text(json.dumps(model_config.to_dict(), indent=2) + "\n")
        print(f"{args.preset} on {args.dataset}: {count_parameters(model):,} parameters, "
              f"{len(data.train)} training / "
              + (f"{len(data.val)} validation / " if data.val is not None else "")
              + f"{len(data.test)} test images, {world} process(es), "
              f"global batch {train_config.batch_size}", flush=True)
    try:
        log = _log_epoch if rank == 0 and args.no_progress else None
        history = fit(model, data, train_config, progress=not args.no_progress, callback=log, state_dir=out,
                      resume=args.resume)
        metrics = _metrics(args, model, train_config, history, world)
        if rank == 0:
            save_checkpoint(model, out, metrics, overwrite=True)  # our own config.json, checked at start
            if args.drop_state and (out / STATE_FILE).is_file():
                (out / STATE_FILE).unlink()
            print(f"epoch {metrics['epochs']}: test accuracy {metrics['test_accuracy']:.4f}, "
                  f"{metrics['train_seconds']:.1f} s of training; wrote {out}", flush=True)
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
    return 0
