"""The chapter-1 explorer builds and redraws without a kernel."""

import matplotlib.pyplot as plt
import pytest

from vit_tutorial.widgets import PatchExplorer, patch_explorer


def test_explorer_builds_and_updates():
    plt.close("all")
    e = patch_explorer(photos=("chelsea", "coffee"), image_size=32, patch_size=8)
    assert isinstance(e, PatchExplorer)
    assert list(e.patch_size.options) == [2, 4, 8, 16]
    first_grid = e.grid.value
    assert first_grid[:4] == b"\x89PNG" and e.sequence.value[:4] == b"\x89PNG"
    assert "<b>16</b> patches" in e.summary.value and "(16, 192)" in e.summary.value
    e.patch_size.value = 4  # the observer redraws
    assert "<b>64</b> patches" in e.summary.value and e.grid.value != first_grid
    grid_p4 = e.grid.value
    e.photo.value = "coffee"
    assert e.grid.value != grid_p4
    assert repr(e) == "PatchExplorer(photo='coffee', patch_size=4)"
    assert plt.get_fignums() == []  # every figure it drew was closed


@pytest.mark.parametrize(
    "kwargs",
    [dict(photos=("nope",)), dict(photos=()), dict(patch_size=5), dict(image_size=0), dict(patch_size=112, image_size=112)],
)
def test_explorer_bad_input(kwargs):
    with pytest.raises(ValueError):
        PatchExplorer(**{"image_size": 32, "patch_size": 8, **kwargs})
