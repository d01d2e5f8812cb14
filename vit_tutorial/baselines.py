"""A small convolutional network: the baseline the ViT is compared with.

Convolutions build in two assumptions about images that the ViT has to
learn from data: **locality** (a 3x3 kernel only sees neighbouring pixels)
and **translation equivariance** (the same kernel slides over every
position). Pooling adds a little translation invariance. These assumptions
are the CNN's *inductive bias*; with few training images they are worth a lot.

The network (``width`` = w, input H x W = ``image_size`` x ``image_size``)::

    (B, C, H, W)
      conv 3x3 C->w,  ReLU                  (B, w, H, W)
      conv 3x3 w->w,  ReLU, max-pool 2      (B, w, H/2, W/2)
      conv 3x3 w->2w, ReLU, max-pool 2      (B, 2w, H/4, W/4)
      flatten                               (B, 2w * H/4 * W/4)
      linear -> classes                     (B, classes)

(H/4 rounds down.) The linear head sees where each feature was found, as the
classic small MNIST networks do. There are no normalisation layers, so it
trains the same in one process or several. With the defaults (w = 16,
28x28 digits) it has 22,810 parameters and costs about as much CPU time
per training epoch as chapter 9's ViT.
"""
from __future__ import annotations

import torch
from torch import nn

from ._checks import check_dtype_like, check_positive_int, check_rank

__all__ = ["SmallCNN"]


class SmallCNN(nn.Module):
    """Three 3x3 convolutions, two max-pools, and a linear head on the flattened map.

    Args:
        in_channels: C.
        num_classes: classes of the head.
        width: w, the channels of the first two convolutions (the third has 2w).
        image_size: H = W of the inputs (28 for MNIST, 8 for scikit-learn's digits), at least 4.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, width: int = 16, image_size: int = 28) -> None:
        super().__init__()
        check_positive_int(in_channels, "in_channels")
        check_positive_int(num_classes, "num_classes")
        check_positive_int(width, "width")
        check_positive_int(image_size, "image_size")
        if image_size < 4:
            raise ValueError(f"image_size must be at least 4 (two 2x2 poolings), got {image_size}")
        self.in_channels, self.num_classes, self.width, self.image_size = in_channels, num_classes, width, image_size
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, w, 3, padding=1), nn.ReLU(),
            nn.Conv2d(w, w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        side = image_size // 2 // 2
        self.head = nn.Linear(2 * w * side * side, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Classify ``images`` (B, C, H, W); returns logits (B, classes)."""
        check_rank(images, 4, "images", "(B, C, H, W)")
        check_dtype_like(images, "images", self)
        B, C, H, W = images.shape
        if C != self.in_channels:
            raise ValueError(f"images have {C} channels, but the network expects in_channels={self.in_channels}")
        if (H, W) != (self.image_size, self.image_size):
            raise ValueError(
                f"images must be {self.image_size}x{self.image_size} for this network (image_size), got {H}x{W}"
            )
        x = self.features(images)  # (B, 2w, H/4, W/4)
        x = x.flatten(1)  # (B, 2w * H/4 * W/4)
        return self.head(x)  # (B, classes)
