"""Cutting images into patches and putting them back together.

Notation: B batch, C channels, H x W image, P patch size,
N = HW / P^2 patches, each patch flattened to P*P*C values.

Order conventions (they matter for the proof that a conv is a linear map):

* patches run row-major over the (H/P) x (W/P) grid: left to right, then
  top to bottom, exactly the order in which ``Conv2d(kernel=P, stride=P)``
  visits them and ``flatten(2)`` lays them out;
* inside a patch the P*P*C values are channel first, then row, then column:
  the order of ``conv.weight[d].flatten()`` for a weight of shape (D, C, P, P).
"""
from __future__ import annotations

import torch

from ._checks import check_divisible, check_pair, check_positive_int, check_rank

__all__ = ["patchify", "unpatchify", "num_patches"]


def num_patches(image_size: int | tuple[int, int], patch_size: int) -> int:
    """Return N = HW / P^2 for an image of ``image_size`` (an int means square)."""
    H, W = check_pair(image_size, "image_size")
    check_positive_int(patch_size, "patch_size")
    check_divisible(H, patch_size, "height")
    check_divisible(W, patch_size, "width")
    return (H // patch_size) * (W // patch_size)


def patchify(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Cut a batch of images into a sequence of flattened patches.

    Args:
        images: tensor of shape (B, C, H, W); H and W must be multiples of P.
        patch_size: P, the side of each square patch.

    Returns:
        Tensor of shape (B, N, P*P*C) with N = (H/P)(W/P), patches in
        row-major grid order, values inside a patch ordered (C, P, P).
    """
    check_rank(images, 4, "images", "(B, C, H, W)")
    P = check_positive_int(patch_size, "patch_size")
    B, C, H, W = images.shape
    check_divisible(H, P, "height")
    check_divisible(W, P, "width")
    x = images.reshape(B, C, H // P, P, W // P, P)  # (B, C, H/P, P, W/P, P)
    x = x.permute(0, 2, 4, 1, 3, 5)  # (B, H/P, W/P, C, P, P)
    return x.reshape(B, (H // P) * (W // P), C * P * P)  # (B, N, C*P*P)


def unpatchify(
    patches: torch.Tensor, patch_size: int, image_size: int | tuple[int, int], channels: int = 3
) -> torch.Tensor:
    """Invert :func:`patchify`.

    Args:
        patches: tensor of shape (B, N, P*P*C).
        patch_size: P.
        image_size: H (square) or (H, W) of the original images.
        channels: C.

    Returns:
        Tensor of shape (B, C, H, W).
    """
    check_rank(patches, 3, "patches", "(B, N, P*P*C)")
    P = check_positive_int(patch_size, "patch_size")
    C = check_positive_int(channels, "channels")
    H, W = check_pair(image_size, "image_size")
    check_divisible(H, P, "height")
    check_divisible(W, P, "width")
    B, N, K = patches.shape
    if N != (H // P) * (W // P) or K != C * P * P:
        raise ValueError(
            f"patches must have shape (B, {(H // P) * (W // P)}, {C * P * P}) for a "
            f"{C}x{H}x{W} image with P={P}, got {tuple(patches.shape)}"
        )
    x = patches.reshape(B, H // P, W // P, C, P, P)  # (B, H/P, W/P, C, P, P)
    x = x.permute(0, 3, 1, 4, 2, 5)  # (B, C, H/P, P, W/P, P)
    return x.reshape(B, C, H, W)  # (B, C, H, W)
