"""Checkpoint I/O: a trained ViT on disk, and the resumable state of a run.

* :func:`save_checkpoint` / :func:`load_checkpoint`: ``model.safetensors`` with
  ``config.json`` (the :class:`~vit_tutorial.config.ViTConfig`, the whole
  model recipe) and optionally ``metrics.json``;
* :func:`save_state` / :func:`load_state`: ``train_state.pt``, written after
  every epoch so that ``resume`` continues an interrupted run exactly.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import torch
from torch import nn

from ..config import ViTConfig
from ..model import ViT
from .recipe import TrainConfig

__all__ = ["BUNDLED_CHECKPOINT", "STATE_FILE", "CHECKPOINT_FILES", "checkpoint_files", "strict_json", "save_checkpoint", "load_checkpoint", "save_state", "load_state", "read_state"]

#: The chapter's trained ViT-Tiny (MNIST-5k), shipped with the package.
BUNDLED_CHECKPOINT = Path(__file__).resolve().parent.parent / "checkpoints" / "vit-tiny-mnist5k"

#: The resumable training state written after every epoch when ``fit`` has a ``state_dir``.
STATE_FILE = "train_state.pt"


#: The files a checkpoint directory may hold; a directory with any of them is never overwritten silently.
CHECKPOINT_FILES = ("model.safetensors", "config.json", "metrics.json", STATE_FILE)


def _path(value: object, name: str) -> Path:
    """``value`` as a ``Path``; ``ValueError`` unless it is a non-empty str or Path."""
    if not isinstance(value, (str, Path)) or str(value) == "":
        raise ValueError(f"{name} must be a non-empty path (str or Path), got {value!r}"[:200])
    return Path(value)


def strict_json(obj: object, what: str) -> str:
    """``obj`` as strict JSON text (no NaN/Infinity literals); ``ValueError`` naming ``what`` otherwise.

    Numpy and 0-d torch scalars are not converted silently: pass Python numbers
    (``x.item()``).
    """
    try:
        return json.dumps(obj, indent=2, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{what} must be JSON-serialisable with finite numbers (Python int/float/str/list/dict; "
            f"use .item() for tensors and numpy scalars), got: {exc}"
        ) from None


def checkpoint_files(folder: str | Path) -> list[str]:
    """The names in :data:`CHECKPOINT_FILES` that exist in ``folder`` (empty if it does not exist)."""
    folder = _path(folder, "folder")
    return [name for name in CHECKPOINT_FILES if (folder / name).exists()]


def save_checkpoint(model: ViT, out_dir: str | Path, metrics: dict | None = None, overwrite: bool = False) -> Path:
    """Save a ViT as ``model.safetensors`` and ``config.json`` (+ ``metrics.json``).

    Everything is checked and serialised first, then written into a
    temporary folder inside ``out_dir`` and renamed into place, so that a
    failure leaves the old checkpoint as it was (never new weights beside old
    metrics). A ``metrics.json`` of an older save is removed when ``metrics``
    is None, so the folder always describes one run.

    Args:
        model: a :class:`~vit_tutorial.model.ViT` (a DDP wrapper is unwrapped).
        out_dir: the directory to write (created if needed).
        metrics: optional dict written as strict JSON ``metrics.json`` (finite
            Python numbers, strings, lists and dicts).
        overwrite: replace an existing checkpoint in ``out_dir``; without it,
            a directory that holds any of :data:`CHECKPOINT_FILES` is refused.

    Returns:
        The directory, as a ``Path``.
    """
    model, out = _check_save_args(model, out_dir, metrics, overwrite)
    # Serialise (and check) everything before a byte is written.
    config_text = strict_json(model.config.to_dict(), "the model config")
    metrics_text = strict_json(metrics, "metrics") if metrics is not None else None
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    bad = [k for k, v in tensors.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise ValueError(f"refusing to save a model with NaN/inf weights ({len(bad)} tensors, e.g. {bad[0]}): "
                         f"training diverged?")
    _write_checkpoint(out, tensors, config_text, metrics_text)
    return out


def _check_save_args(model: object, out_dir: object, metrics: object, overwrite: object) -> tuple[ViT, Path]:
    """:func:`save_checkpoint`'s checks: the unwrapped ViT and the output directory, or ``ValueError``."""
    model = getattr(model, "module", model)
    if not isinstance(model, ViT):
        raise ValueError(f"model must be a vit_tutorial ViT, got {type(model).__name__}")
    if not isinstance(out_dir, (str, Path)) or str(out_dir) == "":
        raise ValueError(f"out_dir must be a non-empty path (str or Path), got {out_dir!r}")
    if metrics is not None and not isinstance(metrics, dict):
        raise ValueError(f"metrics must be a dict or None, got {type(metrics).__name__}")
    if not isinstance(overwrite, bool):
        raise ValueError(f"overwrite must be True or False, got {overwrite!r}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out_dir must be a directory, got the existing file {out}")
    existing = checkpoint_files(out)
    if existing and not overwrite:
        raise ValueError(
            f"out_dir {out} already holds a checkpoint ({', '.join(existing)}); "
            f"pass overwrite=True to replace it or choose another directory"
        )
    return model, out


def _write_checkpoint(out: Path, tensors: dict[str, torch.Tensor], config_text: str, metrics_text: str | None) -> None:
    """Write the files into a temporary folder inside ``out``, then rename them into place."""
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".checkpoint-", dir=out))
    try:
        save_file(tensors, str(tmp / "model.safetensors"), metadata={"format": "pt"})  # byte-for-byte reproducible
        (tmp / "config.json").write_text(config_text)
        if metrics_text is not None:
            (tmp / "metrics.json").write_text(metrics_text)
        # Stale metrics first (so a crash never pairs them with new weights), then the new files.
        if metrics_text is None and (out / "metrics.json").exists():
            (out / "metrics.json").unlink()
        for name in ("metrics.json", "config.json", "model.safetensors"):
            if (tmp / name).exists():
                os.replace(tmp / name, out / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_checkpoint(path: str | Path = BUNDLED_CHECKPOINT) -> ViT:
    """Load a ViT saved by :func:`save_checkpoint`, in eval mode on the CPU.

    A ``config.json`` written before a :class:`~vit_tutorial.config.ViTConfig`
    field existed loads with that field's default. A file that is not a
    checkpoint (truncated, garbage, a pickle), a config that does not match
    the weights, or NaN/inf weights raise ``ValueError`` saying which.

    Args:
        path: the checkpoint directory (or its ``model.safetensors``);
            defaults to :data:`BUNDLED_CHECKPOINT`.
    """
    from safetensors.torch import load_file

    if not isinstance(path, (str, Path)) or str(path) == "":
        raise ValueError(f"path must be a checkpoint directory (str or Path), got {path!r}")
    path = Path(path)
    folder = path.parent if path.suffix == ".safetensors" else path
    weights, config_file = folder / "model.safetensors", folder / "config.json"
    for f in (weights, config_file):
        if not f.is_file():
            raise ValueError(
                f"expected a checkpoint directory with model.safetensors and config.json, "
                f"but {f} does not exist"
            )
    try:
        saved = json.loads(config_file.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{config_file} is not valid JSON ({exc}); expected a ViTConfig written by save_checkpoint") from None
    if not isinstance(saved, dict):
        raise ValueError(f"{config_file} must hold a JSON object (a ViTConfig), got {type(saved).__name__}")
    model = ViT(ViTConfig.from_dict(saved))
    try:
        state = load_file(str(weights))
    except Exception as exc:  # safetensors' SafetensorError and OSError: not a safetensors file
        raise ValueError(
            f"{weights} is not a readable safetensors file ({type(exc).__name__}: {exc}); "
            f"it may be truncated or not written by save_checkpoint"
        ) from None
    bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise ValueError(f"{weights} holds NaN/inf weights ({len(bad)} tensors, e.g. {bad[0]}): a diverged run?")
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise ValueError(
            f"the weights in {weights} do not match its config.json ({first[1].strip() if len(first) > 1 else first[0]})"
        ) from None
    return model.eval()


def save_state(
    path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int, step: int,
    history: list[dict], config: TrainConfig, device: torch.device,
) -> None:
    """Write the resumable state atomically (a crash mid-write keeps the old one)."""
    path = _path(path, "path")
    if not isinstance(model, nn.Module) or not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"model and optimizer must be an nn.Module and an Optimizer, got "
                        f"{type(model).__name__} and {type(optimizer).__name__}")
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    state = {
        "epoch": epoch,
        "step": step,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "history": history,
        "train_config": config.to_dict(),
        "rng_cpu": torch.get_rng_state(),
        "rng_cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_state(
    path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, device: torch.device
) -> tuple[list[dict], int, int]:
    """Restore the model, the optimizer and the RNG from :func:`save_state`'s file.

    Returns:
        ``(history, first epoch to run, steps taken so far)``.
    """
    if not isinstance(model, nn.Module) or not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"model and optimizer must be an nn.Module and an Optimizer, got "
                        f"{type(model).__name__} and {type(optimizer).__name__}")
    state = read_state(path, device)
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise ValueError(f"{path} was written for another model or optimizer ({first})") from None
    torch.set_rng_state(state["rng_cpu"].cpu())
    if device.type == "cuda" and state.get("rng_cuda") is not None:
        torch.cuda.set_rng_state(state["rng_cuda"].cpu(), device)
    return list(state["history"]), state["epoch"] + 1, state["step"]


def read_state(path: str | Path, device: torch.device | str = "cpu") -> dict:
    """Read and check :func:`save_state`'s file without applying it.

    Only tensors and plain containers are unpickled (``weights_only=True``);
    any file that is not such a state (random bytes, truncated, empty, a
    pickle of objects, a bare state_dict) raises ``ValueError`` naming the
    problem. Do not load an untrusted file with ``weights_only=False``.
    """
    path = _path(path, "path")
    if not path.is_file():
        raise ValueError(f"no training state at {path}")
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # UnpicklingError, RuntimeError (zip), EOFError, ...
        kind = "empty" if path.is_file() and path.stat().st_size == 0 else "not a training state saved by vit_tutorial"
        raise ValueError(
            f"{path} is {kind} and was not loaded ({type(exc).__name__}); "
            f"delete it to start the run again without --resume"
        ) from None
    expected = {"epoch": int, "step": int, "model": dict, "optimizer": dict, "history": list, "rng_cpu": torch.Tensor}
    if not isinstance(state, dict):
        raise ValueError(f"{path} must hold a dict with keys {sorted(expected)}, got {type(state).__name__}")
    missing = sorted(set(expected) - set(state))
    if missing:
        raise ValueError(f"{path} is not a training state: keys {missing} are missing (a bare state_dict?)")
    for key, kind in expected.items():
        if isinstance(state[key], bool) or not isinstance(state[key], kind):
            raise ValueError(f"{path}: {key!r} must be a {kind.__name__}, got {type(state[key]).__name__}")
    if state["epoch"] < 1 or state["step"] < 0:
        raise ValueError(f"{path}: epoch must be >= 1 and step >= 0, got epoch {state['epoch']}, step {state['step']}")
    return state
