"""Patch embedding: from an image to N tokens of width D.

Two equal ways to do it:

* :class:`PatchEmbedding`, a ``Conv2d`` with kernel = stride = P (what ViT
  implementations use, and what the reference article uses);
* :class:`LinearPatchEmbedding`, :func:`~vit_tutorial.patches.patchify`
  followed by one ``nn.Linear`` shared by all patches (what the paper's
  equation 1 writes).

:func:`copy_conv_to_linear` and :func:`copy_linear_to_conv` move the weights
between them; with copied weights the outputs agree to float precision.
"""
from __future__ import annotations

import torch
from torch import nn

from ._checks import check_divisible, check_dtype_like, check_positive_int, check_rank
from .patches import patchify

__all__ = [
    "PatchEmbedding",
    "LinearPatchEmbedding",
    "copy_conv_to_linear",
    "copy_linear_to_conv",
]


def _check_images(images: torch.Tensor, in_channels: int, patch_size: int) -> None:
    check_rank(images, 4, "images", "(B, C, H, W)")
    B, C, H, W = images.shape
    if C != in_channels:
        raise ValueError(
            f"images have {C} channels, but the patch embedding expects "
            f"in_channels={in_channels}; got shape {tuple(images.shape)}"
        )
    check_divisible(H, patch_size, "height")
    check_divisible(W, patch_size, "width")


class PatchEmbedding(nn.Module):
    """Conv2d patch embedding: (B, C, H, W) -> (B, N, D).

    Args:
        in_channels: C.
        dim: D, the width of each token (a free choice; 768 for ViT-B).
        patch_size: P; kernel size and stride of the conv.
    """

    def __init__(self, in_channels: int, dim: int, patch_size: int) -> None:
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.dim = check_positive_int(dim, "dim")
        self.patch_size = check_positive_int(patch_size, "patch_size")
        self.proj = nn.Conv2d(in_channels, dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Embed ``images`` (B, C, H, W) into tokens (B, N, D)."""
        _check_images(images, self.in_channels, self.patch_size)
        check_dtype_like(images, "images", self)
        x = self.proj(images)  # (B, D, H/P, W/P)
        x = x.flatten(2)  # (B, D, N)
        return x.transpose(1, 2)  # (B, N, D)


class LinearPatchEmbedding(nn.Module):
    """Patchify then one shared linear map: (B, C, H, W) -> (B, N, D).

    Args:
        in_channels: C.
        dim: D.
        patch_size: P; each patch has P*P*C values.
    """

    def __init__(self, in_channels: int, dim: int, patch_size: int) -> None:
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.dim = check_positive_int(dim, "dim")
        self.patch_size = check_positive_int(patch_size, "patch_size")
        self.proj = nn.Linear(in_channels * patch_size * patch_size, dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Embed ``images`` (B, C, H, W) into tokens (B, N, D)."""
        _check_images(images, self.in_channels, self.patch_size)
        check_dtype_like(images, "images", self)
        return self.proj(patchify(images, self.patch_size))  # (B, N, D)


def _check_pair(conv: PatchEmbedding, linear: LinearPatchEmbedding) -> None:
    if not isinstance(conv, PatchEmbedding) or not isinstance(linear, LinearPatchEmbedding):
        raise ValueError(
            "expected a PatchEmbedding and a LinearPatchEmbedding, got "
            f"{type(conv).__name__} and {type(linear).__name__}"
        )
    a = (conv.in_channels, conv.dim, conv.patch_size)
    b = (linear.in_channels, linear.dim, linear.patch_size)
    if a != b:
        raise ValueError(
            "the two embeddings must have the same (in_channels, dim, patch_size), "
            f"got {a} for the conv and {b} for the linear one"
        )


@torch.no_grad()
def copy_conv_to_linear(conv: PatchEmbedding, linear: LinearPatchEmbedding) -> LinearPatchEmbedding:
    """Copy the conv's kernel into the linear layer; returns ``linear``.

    The conv weight (D, C, P, P) flattens to (D, C*P*P), which is exactly the
    linear weight, because :func:`patchify` orders patch values (C, P, P).
    """
    _check_pair(conv, linear)
    D = conv.dim
    if conv.proj.bias is None or linear.proj.bias is None:
        raise ValueError("both embeddings need a bias to copy (got a conv or linear layer built with bias=False)")
    linear.proj.weight.copy_(conv.proj.weight.reshape(D, -1))  # (D, C*P*P)
    linear.proj.bias.copy_(conv.proj.bias)
    return linear


@torch.no_grad()
def copy_linear_to_conv(linear: LinearPatchEmbedding, conv: PatchEmbedding) -> PatchEmbedding:
    """Copy the linear layer's weight into the conv kernel; returns ``conv``."""
    _check_pair(conv, linear)
    D, C, P = conv.dim, conv.in_channels, conv.patch_size
    conv.proj.weight.copy_(linear.proj.weight.reshape(D, C, P, P))  # (D, C, P, P)
    conv.proj.bias.copy_(linear.proj.bias)
    return conv
