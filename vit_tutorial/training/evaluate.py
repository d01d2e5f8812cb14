"""Evaluation: loss and accuracy on a split, logits, and the confusion matrix."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_positive_int
from ..data import Split

__all__ = ["evaluate", "predict", "confusion_matrix", "metric_sums", "model_device", "check_model"]


def check_model(model: object) -> nn.Module:
    """Raise ``ValueError`` unless ``model`` is an ``nn.Module``; return it."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def model_device(model: nn.Module) -> torch.device:
    """The device of ``model``'s first parameter (the CPU for a model without any)."""
    check_model(model)
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


@torch.no_grad()
def metric_sums(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int) -> torch.Tensor:
    """[sum of cross-entropy, number correct, count] of ``model`` over ``images``, float64.

    Sums rather than means, so that the shares of several processes add up.
    """
    totals = torch.zeros(3, dtype=torch.float64, device=images.device)
    for start in range(0, images.shape[0], batch_size):
        x = images[start : start + batch_size]  # (b, C, H, W)
        y = labels[start : start + batch_size]  # (b,)
        logits = model(x)  # (b, classes)
        if logits.dim() != 2 or logits.shape[0] != y.shape[0]:
            raise ValueError(f"the model must return logits of shape (b, classes), got {tuple(logits.shape)} for {y.shape[0]} images")
        if y.numel() and int(y.max()) >= logits.shape[1]:
            raise ValueError(f"label {int(y.max())} is out of range for a model with {logits.shape[1]} classes "
                             f"(labels 0..{logits.shape[1] - 1})")
        totals[0] += F.cross_entropy(logits.float(), y, reduction="sum").double()
        totals[1] += (logits.argmax(dim=1) == y).sum()
        totals[2] += y.shape[0]
    return totals


def evaluate(model: nn.Module, split: Split, batch_size: int = 500) -> dict:
    """Mean cross-entropy (no label smoothing) and accuracy of ``model`` on ``split``.

    The model is put in eval mode for the call and then back in the mode it
    had. Runs on the model's device.

    Args:
        model: maps images (B, C, H, W) to logits (B, classes).
        split: the images (n, C, H, W) and labels (n,).
        batch_size: images per forward pass.

    Returns:
        ``{"loss": float, "accuracy": float}``.
    """
    check_model(model)
    if not isinstance(split, Split):
        raise ValueError(f"split must be a vit_tutorial.data.Split, got {type(split).__name__}")
    check_positive_int(batch_size, "batch_size")
    if len(split) == 0:
        raise ValueError("split must hold at least one image, got an empty split")
    device = model_device(model)
    was_training = model.training
    model.eval()
    try:
        totals = metric_sums(model, split.images.to(device), split.labels.to(device), batch_size)
    finally:
        model.train(was_training)
    loss, correct, count = totals.tolist()
    return {"loss": loss / count, "accuracy": correct / count}


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Logits of ``model`` for ``images`` (n, C, H, W), in eval mode.

    Returns:
        A CPU tensor of shape (n, classes).
    """
    check_model(model)
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        raise ValueError(
            f"images must be a tensor of shape (n, C, H, W), got {getattr(images, 'shape', type(images).__name__)}"
        )
    check_positive_int(batch_size, "batch_size")
    device = model_device(model)
    was_training = model.training
    model.eval()
    try:
        out = [model(images[s : s + batch_size].to(device)).float().cpu() for s in range(0, images.shape[0], batch_size)]
    finally:
        model.train(was_training)
    if not out:
        raise ValueError("images must hold at least one image, got 0")
    return torch.cat(out)  # (n, classes)


def confusion_matrix(labels: torch.Tensor, predictions: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Count how often each true class was predicted as each class.

    Args:
        labels: (n,) true classes in 0..K-1.
        predictions: (n,) predicted classes in 0..K-1.
        num_classes: K.

    Returns:
        An int64 tensor (K, K): row = true class, column = predicted class.
    """
    check_positive_int(num_classes, "num_classes")
    for name, t in (("labels", labels), ("predictions", predictions)):
        if not isinstance(t, torch.Tensor) or t.dim() != 1:
            got = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
            raise ValueError(f"{name} must be a 1-D tensor of class indices (n,), got {got}")
        if t.numel() and (t.min() < 0 or t.max() >= num_classes):
            raise ValueError(f"{name} must lie in 0..{num_classes - 1}, got values from {t.min().item()} to {t.max().item()}")
    if labels.shape != predictions.shape:
        raise ValueError(f"labels and predictions must have the same length, got {labels.shape[0]} and {predictions.shape[0]}")
    K = num_classes
    flat = labels.long().cpu() * K + predictions.long().cpu()  # (n,) cell index row * K + column
    return torch.bincount(flat, minlength=K * K).reshape(K, K)  # (K, K)
