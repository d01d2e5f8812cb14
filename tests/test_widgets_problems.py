"""vit_tutorial.widgets.problems: the resolution explorer switches mode and size, starts where
asked; bad input raises ValueError."""
import pytest
import torch

from vit_tutorial.widgets import resolution_explorer

import resolution_data  # tests/resolution_data.py


_samples, _rows = resolution_data.samples, resolution_data.rows


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
