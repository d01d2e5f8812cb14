"""Generated digits: as many 28x28 training images as an experiment needs, offline.

MNIST-5k has 4,000 training images, too few to ask what happens to the ViT
and the CNN when the data grows by ten or a hundred times. This module makes
digit images on the fly, deterministically from a seed:

1. **Glyphs.** Each digit 0-9 is drawn, as a filled outline, in one of the
   21 fonts that matplotlib bundles (DejaVu Sans, Sans Mono and Serif in four
   styles each, STIX General in four, and five Computer Modern faces), scaled
   so that its larger side fills a 20-pixel box of a 28x28 canvas, as MNIST's
   digits are. The 210 glyphs are rendered once, at 2x resolution, and cached.
2. **Distortion.** Every image gets its own random affine map (rotation up to
   +-15 degrees, scale 0.8-1.1, aspect 0.85-1.15, shear up to +-0.3, shift up to
   +-1.5 pixels) and a smooth random **elastic** displacement field (a 5x5 grid
   of random offsets, interpolated; up to about 1.5 pixels), in the spirit of
   Simard et al. (2003), applied with ``grid_sample``.
3. **Stroke width.** The glyph is blurred and re-thresholded at a random
   level, so strokes come out thinner or thicker than the font's; then the
   2x image is averaged down to 28x28 (values in [0, 1], background 0).

What this data **is**: a digit-classification task with the same image size,
classes and rough look as MNIST, whose size can grow without limit, so that
learning curves can be measured far past 4,000 images. What it is **not**:
handwriting. Its variation comes from 21 fonts and a few distortions chosen
by us, not from how people write, so a model's accuracy on it says nothing
direct about MNIST, and conclusions about "more data" hold for this
distribution only. Train, validation and test images come from the same
generator (different random streams), with the same fonts.

Reproducibility: image ``i`` of a stream depends only on ``(seed, stream, i //
1000)`` and its place in that chunk of 1,000, so the first ``n`` images of a
larger set are exactly the set of ``n`` (a smaller training set is a prefix of
a larger one). Labels cycle 0, 1, ..., 9, so every prefix whose length is a
multiple of 10 holds each digit equally often. The pixels are deterministic
for a given matplotlib and torch build; another version can differ in the
last bits of the anti-aliased outlines.
"""
from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .data import DataSplits, Split

__all__ = ["SYNTHETIC_FONTS", "render_glyph", "synthetic_digits", "load_synthetic"]

#: The matplotlib-bundled font files used for the glyphs (in ``mpl-data/fonts/ttf``).
SYNTHETIC_FONTS = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf", "DejaVuSansMono-BoldOblique.ttf",
    "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf",
    "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf", "STIXGeneralBolIta.ttf",
    "cmr10.ttf", "cmb10.ttf", "cmss10.ttf", "cmti10.ttf", "cmtt10.ttf",
)

_SIZE = 28  # output side, as MNIST
_SCALE = 2  # glyphs and distortions are computed at 2x, then averaged down
_BOX = 20  # the glyph's larger side fills a 20-pixel box, as in MNIST
_CHUNK = 1000  # images per independently seeded chunk
_STREAMS = {"train": 0, "val": 1, "test": 2}


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@functools.lru_cache(maxsize=None)
def render_glyph(digit: int, font: int) -> torch.Tensor:
    """The undistorted glyph of ``digit`` in font number ``font`` (an index into
    :data:`SYNTHETIC_FONTS`): a (56, 56) float32 tensor in [0, 1], ink = 1,
    the glyph's larger side 40 pixels (20 at 28x28), centred.

    Raises:
        ValueError: digit not in 0..9, or font not a valid index.
    """
    if isinstance(digit, bool) or not isinstance(digit, int) or not 0 <= digit <= 9:
        raise ValueError(f"digit must be an integer 0..9, got {digit!r}")
    if isinstance(font, bool) or not isinstance(font, int) or not 0 <= font < len(SYNTHETIC_FONTS):
        raise ValueError(f"font must be an integer 0..{len(SYNTHETIC_FONTS) - 1}, got {font!r}")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import PathPatch
    from matplotlib.textpath import TextPath

    side = _SIZE * _SCALE
    path = TextPath((0, 0), str(digit), size=100, prop=FontProperties(fname=str(_font_dir() / SYNTHETIC_FONTS[font])))
    (x0, y0), (x1, y1) = path.get_extents().get_points()
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) / 2
    half_canvas = half * _SIZE / _BOX  # the glyph box is 20 of the canvas' 28 pixels
    fig = Figure(figsize=(1, 1), dpi=side)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(cx - half_canvas, cx + half_canvas)
    ax.set_ylim(cy - half_canvas, cy + half_canvas)
    ax.add_patch(PathPatch(path, facecolor="black", edgecolor="none", linewidth=0))
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())  # (56, 56, 4), white background
    ink = 1.0 - rgba[..., 0].astype(np.float32) / 255.0
    return torch.from_numpy(np.ascontiguousarray(ink))


def _glyph_bank() -> torch.Tensor:
    """All glyphs, (10 * fonts, 1, 56, 56); row ``digit * fonts + font``."""
    return torch.stack([render_glyph(d, f) for d in range(10) for f in range(len(SYNTHETIC_FONTS))])[:, None]


def _chunk(seed: int, stream: int, index: int, count: int, distortion: float) -> torch.Tensor:
    """``count`` images (count, 1, 28, 28) of chunk ``index`` of a stream; labels are implied (cycle)."""
    g = torch.Generator().manual_seed(((seed * 7919 + stream) * 1_000_003 + index) % (2**63 - 1))
    bank = _glyph_bank()
    nf = len(SYNTHETIC_FONTS)
    start = index * _CHUNK
    labels = torch.arange(start, start + _CHUNK) % 10
    fonts = torch.randint(0, nf, (_CHUNK,), generator=g)
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(_CHUNK, generator=g)  # noqa: E731
    d = distortion
    angle = u(-15, 15) * d * math.pi / 180
    scale = 1 + u(-0.2, 0.1) * d
    aspect = 1 + u(-0.15, 0.15) * d
    shear = u(-0.3, 0.3) * d
    shift = torch.stack([u(-1.5, 1.5), u(-1.5, 1.5)], 1) * d * 2 / _SIZE  # normalised units
    threshold = 0.5 + u(-0.3, 0.25) * d  # lower = thicker strokes
    coarse = (torch.rand(_CHUNK, 2, 5, 5, generator=g) * 2 - 1) * d * (1.5 * 2 / _SIZE)
    # Output -> source map: inverse of (scale, aspect, shear, rotation), as grid_sample wants.
    cos, sin = angle.cos(), angle.sin()
    sx, sy = scale * aspect, scale / aspect
    a = torch.stack([torch.stack([cos, -sin], 1), torch.stack([sin, cos], 1)], 1)  # rotation (n, 2, 2)
    sh = torch.zeros(_CHUNK, 2, 2)
    sh[:, 0, 0], sh[:, 0, 1], sh[:, 1, 1] = 1, shear, 1
    forward = a @ sh @ torch.diag_embed(torch.stack([sx, sy], 1))
    theta = torch.cat([torch.linalg.inv(forward), -shift[:, :, None]], 2)  # (n, 2, 3)
    side = _SIZE * _SCALE
    grid = F.affine_grid(theta, (_CHUNK, 1, side, side), align_corners=False)
    elastic = F.interpolate(coarse, size=(side, side), mode="bicubic", align_corners=True)  # (n, 2, 56, 56)
    grid = grid + elastic.permute(0, 2, 3, 1)
    src = bank[labels * nf + fonts]  # (n, 1, 56, 56)
    warped = F.grid_sample(src, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    blurred = F.avg_pool2d(F.pad(warped, (1, 1, 1, 1)), 3, stride=1)
    stroke = torch.sigmoid((blurred - threshold[:, None, None, None]) / 0.08)
    stroke = torch.where(blurred > 0.02, stroke, torch.zeros_like(stroke))  # keep the background exactly 0
    images = F.avg_pool2d(stroke, _SCALE)  # (n, 1, 28, 28)
    return images[:count].clamp_(0, 1)


def synthetic_digits(n: int, seed: int = 0, stream: str = "train", distortion: float = 1.0) -> Split:
    """``n`` generated digit images with their labels, pixel values in [0, 1].

    Args:
        n: number of images (> 0).
        seed: the seed of the whole set (an int >= 0).
        stream: ``"train"``, ``"val"`` or ``"test"``: three independent
            random streams of the same generator.
        distortion: scales every random distortion (0 = the clean glyphs,
            1 = the default ranges in the module docstring).

    Returns:
        A :class:`~vit_tutorial.data.Split` with images (n, 1, 28, 28) in
        [0, 1] (not standardised) and labels ``i % 10``.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    if stream not in _STREAMS:
        raise ValueError(f"stream must be one of {', '.join(_STREAMS)}, got {stream!r}")
    if isinstance(distortion, bool) or not isinstance(distortion, (int, float)) or not 0 <= distortion <= 2:
        raise ValueError(f"distortion must be a number in [0, 2], got {distortion!r}")
    chunks = [
        _chunk(seed, _STREAMS[stream], i, min(_CHUNK, n - i * _CHUNK), float(distortion))
        for i in range(math.ceil(n / _CHUNK))
    ]
    return Split(torch.cat(chunks), torch.arange(n) % 10)


def load_synthetic(n_train: int, n_val: int = 2000, n_test: int = 2000, seed: int = 0,
                   distortion: float = 1.0) -> DataSplits:
    """Generated train, validation and test splits, standardised like
    :func:`~vit_tutorial.data.load_dataset`: with the mean and standard
    deviation of the training images only.

    The validation and test images do not depend on ``n_train``, so runs on
    different training-set sizes are scored on the same images.

    Returns:
        A :class:`~vit_tutorial.data.DataSplits` named ``"synthetic"`` with
        ``train``, ``val`` and ``test``.
    """
    train = synthetic_digits(n_train, seed, "train", distortion)
    val = synthetic_digits(n_val, seed, "val", distortion)
    test = synthetic_digits(n_test, seed, "test", distortion)
    mean, std = float(train.images.mean()), float(train.images.std())

    def norm(s: Split) -> Split:
        return Split((s.images - mean) / std, s.labels)

    return DataSplits("synthetic", norm(train), norm(test), mean, std, 10, norm(val))
