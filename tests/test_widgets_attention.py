"""Chapter 5's explorer: a thin wrapper over viz.plot_head_attention."""


import matplotlib.pyplot as plt
import pytest

from vit_tutorial.widgets import HeadAttentionExplorer, head_attention_explorer


def test_explorer_redraws_when_a_control_moves():
    w = HeadAttentionExplorer(photos=("astronaut", "chelsea"), query=(1, 2), image_size=64, patch_size=16, dpi=30)
    assert repr(w) == "HeadAttentionExplorer(photo='astronaut', query=(1, 2), sharpness x 1.0)"
    assert w.row.max == 3 and w.col.max == 3
    first = w.picture.value
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    w.row.value = 3
    assert w.picture.value != first and "query=(3, 2)" in repr(w)
    moved = w.picture.value
    w.sharpness.value = 4.0
    assert w.picture.value != moved
    w.photo.value = "chelsea"
    assert "chelsea" in repr(w) and len(w._cache) == 3
    assert not plt.get_fignums()  # every figure was closed after rendering


def test_default_builder():
    w = head_attention_explorer(photos=("coffee",), query=(0, 13))
    assert repr(w).startswith("HeadAttentionExplorer(photo='coffee', query=(0, 13)")


@pytest.mark.parametrize("kwargs,words", [
    (dict(photos=("moon",)), ["moon", "astronaut"]),
    (dict(photos=()), ["photos"]),
    (dict(query=(14, 0)), ["14 x 14 grid", "(14, 0)"]),
    (dict(query=(1,)), ["(row, col)"]),
    (dict(image_size=64, patch_size=24), ["24", "64"]),
    (dict(dpi=0), ["dpi", "0"]),
])
def test_bad_input(kwargs, words):
    with pytest.raises(ValueError) as info:
        HeadAttentionExplorer(**kwargs)
    for w in words:
        assert w in str(info.value), str(info.value)
