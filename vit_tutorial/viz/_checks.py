"""Input checks shared by the plotting modules (one home: every ``viz`` and ``widgets`` module imports them here)."""
from __future__ import annotations

import torch

from .._checks import check_divisible, check_positive_int, check_rank

__all__ = ["check_image", "check_images", "check_patch_size"]


def check_image(image: object, name: str = "image") -> torch.Tensor:
    """A (C, H, W) tensor with C = 1 or 3, returned detached, as float, on the CPU."""
    if not isinstance(image, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor of shape (C, H, W), got {type(image).__name__}")
    if image.dim() != 3 or image.shape[0] not in (1, 3):
        raise ValueError(f"{name} must have shape (C, H, W) with C = 1 or 3 channels, got shape {tuple(image.shape)}")
    return image.detach().float().cpu()


def check_images(images: object) -> torch.Tensor:
    """A (B, C, H, W) batch with C = 1 or 3 (a single (C, H, W) image becomes B = 1), detached, float, on the CPU."""
    if isinstance(images, torch.Tensor) and images.dim() == 3:
        images = images[None]
    check_rank(images, 4, "images", "(B, C, H, W)")
    if images.shape[1] not in (1, 3):
        raise ValueError(f"images must have 1 or 3 channels (B, C, H, W), got shape {tuple(images.shape)}")
    return images.detach().float().cpu()


def check_patch_size(image: torch.Tensor, patch_size: object) -> int:
    """``patch_size`` as P, a positive int that divides the height and width of ``image`` (C, H, W)."""
    P = check_positive_int(patch_size, "patch_size")
    C, H, W = image.shape
    check_divisible(H, P, "height")
    check_divisible(W, P, "width")
    return P
