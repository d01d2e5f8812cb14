"""vit_tutorial.variants.window_attention: windows and their inverse, window attention
(one window over the grid is global attention, windows do not mix, shifted windows
and their mask), the relative position bias, bad input."""
import pytest
import torch

import vit_tutorial as vt
from vit_tutorial import variants as V


def _global(dim=32, heads=4, seed=0):
    torch.manual_seed(seed)
    return vt.MultiHeadSelfAttention(dim, heads).eval()


def test_window_partition_puts_each_token_in_its_window_and_reverse_undoes_it():
    B, Hg, Wg, w = 2, 4, 6, 2
    rows, cols = torch.meshgrid(torch.arange(Hg), torch.arange(Wg), indexing="ij")  # (Hg, Wg)
    x = torch.stack([rows, cols], dim=-1).float().expand(B, Hg, Wg, 2).clone()  # (B, Hg, Wg, 2) coordinates
    windows = V.window_partition(x, w)
    assert windows.shape == (B * (Hg // w) * (Wg // w), w * w, 2)
    # window k of image 0 holds the tokens of block (k // 3, k % 3), row-major inside the block
    for k in range(6):
        r0, c0 = (k // 3) * w, (k % 3) * w
        expected = torch.tensor([[r0, c0], [r0, c0 + 1], [r0 + 1, c0], [r0 + 1, c0 + 1]]).float()
        assert torch.equal(windows[k], expected)
    assert torch.equal(V.window_reverse(windows, w, (Hg, Wg)), x)


def test_one_window_over_the_whole_grid_is_global_attention():
    glob = _global()
    layer = V.WindowAttention(32, 4, window_size=6, relative_position_bias=False).eval()
    layer.attn.load_state_dict(glob.state_dict())
    x = torch.randn(3, 36, 32)
    with torch.no_grad():
        expected = glob(x, fast=False)
        assert torch.allclose(layer(x, (6, 6)), expected, atol=1e-5)
        assert torch.allclose(layer(x, (6, 6), fast=True), expected, atol=1e-5)


@pytest.mark.parametrize("side,heads", [(4, 2), (6, 4), (7, 1)])
def test_one_window_over_the_grid_is_global_attention(side, heads):
    torch.manual_seed(side)
    glob = vt.MultiHeadSelfAttention(16, heads).eval()
    win = V.WindowAttention(16, heads, window_size=side, relative_position_bias=False).eval()
    win.attn.load_state_dict(glob.state_dict())
    x = torch.randn(2, side * side, 16)
    with torch.no_grad():
        assert torch.allclose(win(x, (side, side)), glob(x), atol=1e-5)


def test_windows_do_not_exchange_information():
    torch.manual_seed(0)
    layer = V.WindowAttention(16, 2, window_size=4).eval()
    x = torch.randn(1, 64, 16)  # an 8x8 grid: four 4x4 windows
    x2 = x.clone()
    x2[0, 0] += 5.0  # token (0, 0), in the top-left window
    with torch.no_grad():
        a, b = layer(x, (8, 8)), layer(x2, (8, 8))
    changed = (a - b).abs().amax(dim=-1)[0].reshape(8, 8) > 1e-6  # (8, 8)
    assert changed[:4, :4].all()  # the whole top-left window reacts
    assert not changed[4:, :].any() and not changed[:, 4:].any()  # nothing else does


def test_shifted_windows_mix_neighbouring_windows_but_respect_the_mask():
    torch.manual_seed(0)
    layer = V.WindowAttention(16, 2, window_size=4, shift=2).eval()
    x = torch.randn(1, 64, 16)
    x2 = x.clone()
    x2[0, 3 * 8 + 3] += 5.0  # token (3, 3): after the shift it shares a window with (2..5, 2..5)
    with torch.no_grad():
        a, b = layer(x, (8, 8)), layer(x2, (8, 8))
        _, weights = layer(x, (8, 8), return_attention=True)
    changed = (a - b).abs().amax(dim=-1)[0].reshape(8, 8) > 1e-6
    expected = torch.zeros(8, 8, dtype=torch.bool)
    expected[2:6, 2:6] = True
    assert torch.equal(changed, expected)
    # masked pairs get exactly zero weight, allowed pairs a positive one
    mask = V.shifted_window_mask((8, 8), 4, 2)  # (nW, 16, 16)
    assert weights.shape == (1, 4, 2, 16, 16)
    assert (weights[0][mask.isinf()[:, None].expand(-1, 2, -1, -1)] == 0).all()
    assert (weights[0][~mask.isinf()[:, None].expand(-1, 2, -1, -1)] > 0).all()
    # the fast path agrees
    with torch.no_grad():
        assert torch.allclose(layer(x, (8, 8), fast=True), a, atol=1e-5)


def test_shift_mask_blocks_tokens_from_opposite_borders():
    mask = V.shifted_window_mask((8, 8), 4, 2)
    assert mask.shape == (4, 16, 16)
    assert (V.shifted_window_mask((8, 8), 4, 0) == 0).all()
    assert (mask[0] == 0).all()  # the top-left window holds one region only
    assert mask[3].isinf().sum() > 0  # the bottom-right one holds four regions
    assert (mask.diagonal(dim1=1, dim2=2) == 0).all()  # a token always sees itself


def test_relative_position_bias_depends_only_on_the_offset():
    torch.manual_seed(0)
    layer = V.WindowAttention(16, 2, window_size=3)
    bias = layer.relative_bias()  # (h, 9, 9)
    assert bias.shape == (2, 9, 9)
    coords = [(r, c) for r in range(3) for c in range(3)]
    for i, (ri, ci) in enumerate(coords):
        for j, (rj, cj) in enumerate(coords):
            for k, (rk, ck) in enumerate(coords):
                for m, (rm, cm) in enumerate(coords):
                    if (ri - rj, ci - cj) == (rk - rm, ck - cm):
                        assert torch.equal(bias[:, i, j], bias[:, k, m])


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: V.window_partition(torch.randn(1, 6, 6, 4), 4), "not divisible by the window size 4"),
        (lambda: V.window_partition(torch.randn(6, 6, 4), 2), "4 dimensions"),
        (lambda: V.WindowAttention(30, 4, 4), "not divisible by heads"),
        (lambda: V.WindowAttention(32, 4, 4, shift=4), "shift"),
        (lambda: V.WindowAttention(32, 4, 4)(torch.randn(1, 36, 32), (6, 6)), "not divisible by the window size"),
        (lambda: V.WindowAttention(32, 4, 4)(torch.randn(1, 36, 32), (4, 8)), "N=36"),
        (lambda: V.WindowAttention(32, 4, 4)(torch.randn(36, 32), (6, 6)), "3 dimensions"),
        (lambda: V.WindowAttention(32, 4, 4)(torch.randn(1, 16, 16), (4, 4)), "width D=16"),
        (lambda: V.window_reverse(torch.randn(5, 16, 4), 4, (8, 8)), "do not fit"),
        (lambda: V.shifted_window_mask((8, 8), 4, -1), "shift"),
    ],
)
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
