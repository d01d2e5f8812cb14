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
from pathlib import Path

import torch
from torch import nn

from ..config import ViTConfig
from ..model import ViT
from .recipe import TrainConfig

__all__ = ["BUNDLED_CHECKPOINT", "STATE_FILE", "save_checkpoint", "load_checkpoint", "save_state", "load_state"]

#: The chapter's trained ViT-Tiny (MNIST-5k), shipped with the package.
BUNDLED_CHECKPOINT = Path(__file__).resolve().parent.parent / "checkpoints" / "vit-tiny-mnist5k"

#: The resumable training state written after every epoch when ``fit`` has a ``state_dir``.
STATE_FILE = "train_state.pt"


def save_checkpoint(model: ViT, out_dir: str | Path, metrics: dict | None = None) -> Path:
    """Save a ViT as ``model.safetensors`` and ``config.json`` (+ ``metrics.json``).

    Args:
        model: a :class:`~vit_tutorial.model.ViT` (a DDP wrapper is unwrapped).
        out_dir: the directory to write (created if needed).
        metrics: optional JSON-serialisable dict written as ``metrics.json``.

    Returns:
        The directory, as a ``Path``.
    """
    from safetensors.torch import save_file

    model = getattr(model, "module", model)
    if not isinstance(model, ViT):
        raise ValueError(f"model must be a vit_tutorial ViT, got {type(model).__name__}")
    if not isinstance(out_dir, (str, Path)):
        raise ValueError(f"out_dir must be a path (str or Path), got {type(out_dir).__name__}")
    if metrics is not None and not isinstance(metrics, dict):
        raise ValueError(f"metrics must be a dict or None, got {type(metrics).__name__}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out_dir must be a directory, got the existing file {out}")
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})  # one key: byte-for-byte reproducible
    (out / "config.json").write_text(json.dumps(model.config.to_dict(), indent=2) + "\n")
    if metrics is not None:
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return out


def load_checkpoint(path: str | Path = BUNDLED_CHECKPOINT) -> ViT:
    """Load a ViT saved by :func:`save_checkpoint`, in eval mode on the CPU.

    A ``config.json`` written before a :class:`~vit_tutorial.config.ViTConfig`
    field existed loads with that field's default.

    Args:
        path: the checkpoint directory (or its ``model.safetensors``);
            defaults to :data:`BUNDLED_CHECKPOINT`.
    """
    from safetensors.torch import load_file

    if not isinstance(path, (str, Path)):
        raise ValueError(f"path must be a checkpoint directory (str or Path), got {type(path).__name__}")
    path = Path(path)
    folder = path.parent if path.suffix == ".safetensors" else path
    weights, config_file = folder / "model.safetensors", folder / "config.json"
    for f in (weights, config_file):
        if not f.is_file():
            raise ValueError(
                f"expected a checkpoint directory with model.safetensors and config.json, "
                f"but {f} does not exist"
            )
    model = ViT(ViTConfig.from_dict(json.loads(config_file.read_text())))
    model.load_state_dict(load_file(str(weights)))
    return model.eval()


def save_state(
    path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int, step: int,
    history: list[dict], config: TrainConfig, device: torch.device,
) -> None:
    """Write the resumable state atomically (a crash mid-write keeps the old one)."""
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
    state = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["rng_cpu"].cpu())
    if device.type == "cuda" and state.get("rng_cuda") is not None:
        torch.cuda.set_rng_state(state["rng_cuda"].cpu(), device)
    return list(state["history"]), state["epoch"] + 1, state["step"]
