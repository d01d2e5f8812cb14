"""Bundled photos load offline with the right shape and range."""
import pytest
import torch

from vit_tutorial.images import PHOTOS, load_photo, to_display


@pytest.mark.parametrize("name", sorted(PHOTOS))
def test_photos_load_square_in_unit_range(name):
    x = load_photo(name, size=64)
    assert x.shape == (3, 64, 64) and x.dtype == torch.float32
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.std() > 0.05


def test_to_display_and_errors():
    assert to_display(torch.rand(3, 8, 8)).shape == (8, 8, 3)
    assert to_display(torch.randn(1, 8, 8)).shape == (8, 8)
    with pytest.raises(ValueError, match="known photos"):
        load_photo("moon")
    with pytest.raises(ValueError, match="positive integer"):
        load_photo("astronaut", size=0)
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        to_display(torch.zeros(8, 8))
