"""vit_tutorial.patches: images to patches and back (shape, round trip, order); bad input."""
import pytest
import torch

import vit_tutorial as vt


@pytest.mark.parametrize("B,C,H,W,P", [(1, 3, 8, 8, 4), (2, 3, 224, 224, 16), (3, 1, 28, 28, 7), (2, 2, 12, 20, 4)])
def test_patchify_round_trip_and_shape(B, C, H, W, P):
    x = torch.randn(B, C, H, W)
    p = vt.patchify(x, P)
    assert p.shape == (B, (H // P) * (W // P), C * P * P)
    assert torch.equal(vt.unpatchify(p, P, (H, W), C), x)


def test_patchify_order_is_row_major_and_channel_first():
    # 1x2x4x4 image, P=2: patch 1 is the top-right block; inside it, channel 0 first.
    x = torch.arange(2 * 4 * 4).reshape(1, 2, 4, 4).float()
    p = vt.patchify(x, 2)
    assert torch.equal(p[0, 1], torch.tensor([2.0, 3, 6, 7, 18, 19, 22, 23]))
    assert torch.equal(p[0, 2, :4], torch.tensor([8.0, 9, 12, 13]))


def test_bad_input_messages(raises_with):
    with raises_with(ValueError, "4 dimensions", "(3, 8, 8)"):
        vt.patchify(torch.zeros(3, 8, 8), 4)
    with raises_with(ValueError, "height 10", "remainder 2"):
        vt.patchify(torch.zeros(1, 3, 10, 8), 4)
    with raises_with(ValueError, "width 9", "remainder 1"):
        vt.patchify(torch.zeros(1, 3, 8, 9), 4)
    with raises_with(ValueError, "(B, 4, 48)", "(1, 4, 47)"):
        vt.unpatchify(torch.zeros(1, 4, 47), 4, 8, 3)
