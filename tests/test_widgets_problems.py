"""vit_tutorial.widgets.problems: the resolution explorer switches mode and size, starts where
asked; bad input raises ValueError."""
import pytest
import torch

from vit_tutorial.widgets import resolution_explorer


def _samples(sizes=(14, 28, 42), modes=("resize", "pad"), k=4):
    g = torch.Generator().manual_seed(0)
    out = {}
    for mode in modes:
        for s in sizes:
            if mode == "pad" and s < 28:
                continue
            out[(mode, s)] = {"images": torch.rand(k, 1, s, s, generator=g), "labels": torch.arange(k),
                              "predictions": torch.tensor([0, 1, 0, 0][:k])}
    return out


def _rows(samples):
    return [{"model": m, "mode": mode, "size": s, "test_accuracy": 0.5 + 0.01 * s}
            for m in ("bicubic", "bilinear") for mode, s in samples]


def test_explorer_switches_mode_and_size():
    samples = _samples()
    box = resolution_explorer(_rows(samples), samples, dpi=30)
    c = box.controls
    assert c["mode"].value == "resize" and c["size"].value == 28
    assert list(c["size"].options) == [14, 28, 42]
    seen = {box.figure.value}
    assert box.figure.value[:4] == b"\x89PNG"
    c["size"].value = 42
    assert box.figure.value not in seen
    seen.add(box.figure.value)
    c["mode"].value = "pad"
    assert list(c["size"].options) == [28, 42] and c["size"].value == 42
    assert box.figure.value not in seen


@pytest.mark.parametrize("size,mode", [(42, "resize"), (28, "pad")])
def test_explorer_starts_where_asked(size, mode):
    samples = _samples()
    box = resolution_explorer(_rows(samples), samples, size=size, mode=mode, dpi=30)
    assert (box.controls["size"].value, box.controls["mode"].value) == (size, mode)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: resolution_explorer(_rows(_samples()), {}), "non-empty dict"),
        (lambda: resolution_explorer(_rows(_samples()), {28: {}}), r"\(mode, size\) pairs"),
        (lambda: resolution_explorer(_rows(_samples()), _samples(), dpi=-1), "positive integer"),
        (lambda: resolution_explorer(_rows(_samples()), _samples(), size=21, mode="pad"), "sides of mode 'pad'"),
        (lambda: resolution_explorer(_rows(_samples()), _samples(), mode="crop"), "one of the modes"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
