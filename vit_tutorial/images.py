"""Real photos for the chapters, from packages already installed.

Nothing is downloaded: scikit-image and scikit-learn ship these files.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["PHOTOS", "load_photo", "to_display"]

#: Photo name -> where it comes from.
PHOTOS = {
    "astronaut": "scikit-image: skimage.data.astronaut()",
    "chelsea": "scikit-image: skimage.data.chelsea() (a cat)",
    "coffee": "scikit-image: skimage.data.coffee()",
    "rocket": "scikit-image: skimage.data.rocket()",
    "china": "scikit-learn: load_sample_image('china.jpg')",
    "flower": "scikit-learn: load_sample_image('flower.jpg')",
}


def _load_uint8(name: str) -> np.ndarray:
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return load_sample_image(f"{name}.jpg")
    import skimage.data

    return getattr(skimage.data, name)()


def load_photo(name: str = "astronaut", size: int | None = 224) -> torch.Tensor:
    """Load a bundled RGB photo as a float tensor in [0, 1].

    The photo is centre-cropped to a square and resized to ``size`` x
    ``size`` (bilinear, antialiased); ``size=None`` keeps the square crop's
    own size.

    Args:
        name: one of ``PHOTOS``.
        size: the side of the output, or None.

    Returns:
        Tensor of shape (3, size, size), values in [0, 1].
    """
    if name not in PHOTOS:
        raise ValueError(f"unknown photo {name!r}; known photos: {', '.join(PHOTOS)}")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size <= 0):
        raise ValueError(f"size must be a positive integer or None, got {size!r}")
    rgb = _load_uint8(name)  # (H, W, 3) uint8
    H, W, _ = rgb.shape
    s = min(H, W)
    top, left = (H - s) // 2, (W - s) // 2
    x = torch.from_numpy(np.ascontiguousarray(rgb[top : top + s, left : left + s])).float() / 255.0  # (s, s, 3)
    x = x.permute(2, 0, 1)  # (3, s, s)
    if size is not None and size != s:
        x = F.interpolate(x[None], size=(size, size), mode="bilinear", antialias=True, align_corners=False)[0]
    return x.clamp(0.0, 1.0)  # (3, size, size)


def to_display(image: torch.Tensor) -> np.ndarray:
    """A (C, H, W) tensor as an (H, W, C) NumPy array for ``imshow``
    (single-channel images become (H, W)); values are min-max scaled to
    [0, 1] if they fall outside it."""
    if not isinstance(image, torch.Tensor) or image.dim() != 3:
        raise ValueError(
            f"image must be a tensor of shape (C, H, W), got {getattr(image, 'shape', type(image).__name__)}"
        )
    x = image.detach().float().cpu()
    if x.min() < 0 or x.max() > 1:
        x = (x - x.min()) / (x.max() - x.min() + 1e-12)
    x = x.permute(1, 2, 0).numpy()  # (H, W, C)
    return x[..., 0] if x.shape[-1] == 1 else x
