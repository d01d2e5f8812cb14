"""A small convolutional network: the baseline the ViT is compared with.

Convolutions build in two assumptions about images that the ViT has to
learn from data: **locality** (a 3x3 kernel only sees neighbouring pixels)
and **translation equivariance** (the same kernel slides over every
position). Pooling adds some translation invariance. These assumptions are
the CNN's *inductive bias*; with few training images they are worth a lot.

The network (``width`` = w)::

    (B, C, H, W)
      conv 3x3 C->w,  ReLU                  (B, w, H, W)
      conv 3x3 w->w,  ReLU, max-pool 2      (B, w, H/2, W/2)
      conv 3x3 w->2w, ReLU, max-pool 2      (B, 2w, H/4, W/4)
      global average pool                   (B, 2w)
      linear 2w -> classes                  (B, classes)

It has no normalisation layers, so it trains the same in one process or
several, and works for any image of at least 4x4 pixels (8x8 digits, 28x28
MNIST).
"""
from __future__ import annotations

import torch
from torch import nn

from ._checks import check_positive_int, check_rank

__all__ = ["SmallCNN"]


class SmallCNN(nn.Module):
    """Three 3x3 convolutions, two max-pools, global average pooling, a linear head.

    Args:
        in_channels: C.
        num_classes: classes of the head.
        width: w, the channels of the first two convolutions (the third has 2w).
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, width: int = 32) -> None:
        super().__init__()
        check_positive_int(in_channels, "in_channels")
        check_positive_int(num_classes, "num_classes")
        check_positive_int(width, "width")
        self.in_channels, self.num_classes, self.width = in_channels, num_classes, width
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, w, 3, padding=1), nn.ReLU(),
            nn.Conv2d(w, w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.head = nn.Linear(2 * w, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Classify ``images`` (B, C, H, W); returns logits (B, classes)."""
        check_rank(images, 4, "images", "(B, C, H, W)")
        B, C, H, W = images.shape
        if C != self.in_channels:
            raise ValueError(f"images have {C} channels, but the network expects in_channels={self.in_channels}")
        if H < 4 or W < 4:
            raise ValueError(f"images must be at least 4x4 (two 2x2 poolings), got {H}x{W}")
        x = self.features(images)  # (B, 2w, H/4, W/4)
        x = x.mean(dim=(2, 3))  # (B, 2w)
        return self.head(x)  # (B, classes)
