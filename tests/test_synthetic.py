"""Tests of vit_tutorial.synthetic (generated digits)."""
import pytest
import torch

from vit_tutorial.synthetic import SYNTHETIC_FONTS, load_synthetic, render_glyph, synthetic_digits


def test_shapes_range_labels():
    s = synthetic_digits(30, seed=0)
    assert s.images.shape == (30, 1, 28, 28)
    assert s.images.dtype == torch.float32
    assert float(s.images.min()) >= 0.0 and float(s.images.max()) <= 1.0
    assert s.labels.tolist() == [i % 10 for i in range(30)]
    # every image has ink, and the border rows are (almost) empty as in MNIST
    assert (s.images.flatten(1).max(1).values > 0.5).all()
    assert float(s.images[:, :, 0, :].mean()) < 0.02


def test_deterministic_and_seed_dependent():
    a, b = synthetic_digits(20, seed=3), synthetic_digits(20, seed=3)
    assert torch.equal(a.images, b.images)
    c = synthetic_digits(20, seed=4)
    assert not torch.equal(a.images, c.images)


def test_prefix_property_across_chunks():
    small, large = synthetic_digits(1005, seed=1), synthetic_digits(2500, seed=1)
    assert torch.equal(small.images, large.images[:1005])
    assert torch.equal(small.labels, large.labels[:1005])


def test_streams_differ():
    tr, va, te = (synthetic_digits(50, 0, s).images for s in ("train", "val", "test"))
    assert not torch.equal(tr, va) and not torch.equal(va, te)


def test_distortion_zero_gives_clean_glyphs_and_default_varies():
    clean = synthetic_digits(400, seed=0, distortion=0.0)
    # without distortion, two images of the same digit and font are identical
    # (fonts are random per image, so among 40 images of "3" some share a font)
    imgs = clean.images[clean.labels == 3].flatten(1)
    d = torch.cdist(imgs, imgs)
    assert (d[~torch.eye(len(imgs), dtype=torch.bool)] < 1e-6).any()
    noisy = synthetic_digits(400, seed=0).images[clean.labels == 3].flatten(1)
    dn = torch.cdist(noisy, noisy)
    assert (dn[~torch.eye(len(noisy), dtype=torch.bool)] > 1e-3).all()


def test_glyph_is_centred_and_fills_box():
    g = render_glyph(0, 0)  # (56, 56), 2x resolution
    assert g.shape == (56, 56)
    rows = torch.nonzero(g.max(1).values > 0.5).flatten()
    cols = torch.nonzero(g.max(0).values > 0.5).flatten()
    height, width = int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
    assert 36 <= max(height, width) <= 42  # larger side ~40 px at 2x (20 px at 28x28)
    centre = (float(rows.min() + rows.max()) / 2, float(cols.min() + cols.max()) / 2)
    assert abs(centre[0] - 27.5) < 2 and abs(centre[1] - 27.5) < 2


def test_digits_are_distinguishable_by_nearest_template():
    """A trivial classifier (nearest clean glyph) must beat chance by far on
    mildly distorted images: the labels match the pictures."""
    bank = torch.stack([render_glyph(d, f) for d in range(10) for f in range(len(SYNTHETIC_FONTS))])
    bank = torch.nn.functional.avg_pool2d(bank[:, None], 2).flatten(1)  # (210, 784)
    s = synthetic_digits(200, seed=5, distortion=0.3)
    nearest = torch.cdist(s.images.flatten(1), bank).argmin(1) // len(SYNTHETIC_FONTS)
    assert float((nearest == s.labels).float().mean()) > 0.8


def test_load_synthetic_standardised_and_shared_eval():
    a = load_synthetic(200, n_val=50, n_test=60, seed=0)
    b = load_synthetic(500, n_val=50, n_test=60, seed=0)
    assert a.train.images.shape == (200, 1, 28, 28) and a.val.images.shape[0] == 50 and len(a.test) == 60
    assert abs(float(a.train.images.mean())) < 1e-4 and abs(float(a.train.images.std()) - 1) < 1e-3
    # the same raw validation images whatever the training size
    assert torch.allclose(a.unstandardise(a.val.images), b.unstandardise(b.val.images), atol=1e-5)


@pytest.mark.parametrize("kwargs, match", [
    ({"n": 0}, "n must be"), ({"n": 2.5}, "n must be"), ({"n": 5, "seed": -1}, "seed must be"),
    ({"n": 5, "stream": "dev"}, "stream must be"), ({"n": 5, "distortion": 3}, "distortion must be"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        synthetic_digits(**kwargs)


def test_bad_glyph():
    with pytest.raises(ValueError, match="digit must be"):
        render_glyph(10, 0)
    with pytest.raises(ValueError, match="font must be"):
        render_glyph(1, len(SYNTHETIC_FONTS))
