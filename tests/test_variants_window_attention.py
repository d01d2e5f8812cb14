"""The variants of chapter 12: window attention, spatial reduction, PEG, conv
stem, the small models, the cost formulas and the collapse measure."""
import math

import pytest
import torch

import vit_tutorial as vt
from vit_tutorial import variants as V


def _global(dim=32, heads=4, seed=0):
    torch.manual_seed(seed)
    return vt.MultiHeadSelfAttention(dim, heads).eval()


# ------------------------------------------------------------------ windows


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


# ------------------------------------------------------------------ spatial reduction


def _sra_from_global(glob, D):
    sra = V.SpatialReductionAttention(D, glob.heads, reduction=1).eval()
    with torch.no_grad():
        sra.q.weight.copy_(glob.qkv.weight[:D])
        sra.q.bias.copy_(glob.qkv.bias[:D])
        sra.kv.weight.copy_(glob.qkv.weight[D:])  # rows: keys then values
        sra.kv.bias.copy_(glob.qkv.bias[D:])
        sra.proj.load_state_dict(glob.proj.state_dict())
    return sra


def test_spatial_reduction_with_ratio_one_is_global_attention():
    glob = _global()
    sra = _sra_from_global(glob, 32)
    x = torch.randn(2, 20, 32)
    with torch.no_grad():
        assert torch.allclose(sra(x, (4, 5)), glob(x, fast=False), atol=1e-5)
        assert torch.allclose(sra(x, (4, 5), fast=True), glob(x, fast=False), atol=1e-5)


def test_spatial_reduction_attends_to_n_over_r_squared_keys():
    torch.manual_seed(0)
    sra = V.SpatialReductionAttention(32, 4, reduction=2).eval()
    x = torch.randn(2, 64, 32)
    with torch.no_grad():
        out, weights = sra(x, (8, 8), return_attention=True)
        assert torch.allclose(sra(x, (8, 8), fast=True), out, atol=1e-5)
    assert out.shape == (2, 64, 32)
    assert weights.shape == (2, 4, 64, 16)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 4, 64), atol=1e-5)
    assert sra.reduce(x, (8, 8)).shape == (2, 16, 32)


# ------------------------------------------------------------------ PEG and conv stem


def test_peg_with_zero_weights_is_the_identity_and_passes_the_class_token():
    peg = V.PositionEncodingGenerator(8)
    with torch.no_grad():
        peg.conv.weight.zero_()
        peg.conv.bias.zero_()
    x = torch.randn(2, 1 + 12, 8)
    assert torch.equal(peg(x, (3, 4)), x)
    torch.manual_seed(0)
    peg = V.PositionEncodingGenerator(8)
    y = peg(x, (3, 4))
    assert torch.equal(y[:, 0], x[:, 0])  # the class token is untouched
    assert not torch.allclose(y[:, 1:], x[:, 1:])


def test_peg_tells_border_tokens_from_inner_ones():
    torch.manual_seed(0)
    peg = V.PositionEncodingGenerator(4)
    x = torch.ones(1, 25, 4)  # identical tokens on a 5x5 grid
    y = peg(x, (5, 5), num_prefix_tokens=0).reshape(5, 5, 4)
    assert torch.allclose(y[1, 1], y[2, 2]) and torch.allclose(y[1, 1], y[3, 3])  # inner tokens alike
    assert not torch.allclose(y[0, 0], y[2, 2])  # the corner sees the zero padding


@pytest.mark.parametrize("P,strides", [(2, (2, 1)), (4, (2, 2)), (7, (1, 1)), (14, (2, 1))])
def test_conv_stem_gives_the_patch_embeddings_token_count(P, strides):
    assert V.default_stem_strides(P, 2) == strides
    stem = V.ConvStem(1, 24, P)
    out = stem(torch.randn(2, 1, 28, 28))
    assert out.shape == (2, (28 // P) ** 2, 24)
    assert out.shape == vt.PatchEmbedding(1, 24, P)(torch.randn(2, 1, 28, 28)).shape


# ------------------------------------------------------------------ models


def test_models_shapes_and_gradients():
    torch.manual_seed(0)
    c = vt.vit_config("ViT-Tiny", depth=2)
    x = torch.randn(2, 1, 28, 28)
    for model in (V.PEGViT(c), V.HybridViT(c), V.PyramidViT(attention="window"), V.PyramidViT(attention="sra")):
        logits = model(x)
        assert logits.shape == (2, 10) and torch.isfinite(logits).all()
        logits.logsumexp(-1).sum().backward()
        missing = [n for n, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
        assert not missing, f"{type(model).__name__}: no gradient reached {missing}"


def test_peg_vit_runs_at_two_resolutions_and_vit_does_not():
    torch.manual_seed(0)
    c = vt.vit_config("ViT-Tiny", depth=2)
    peg = V.PEGViT(c).eval()
    with torch.no_grad():
        assert peg(torch.randn(2, 1, 28, 28)).shape == (2, 10)
        logits, attn = peg(torch.randn(2, 1, 56, 56), return_attention=True)
    assert logits.shape == (2, 10) and attn[0].shape == (2, 4, 14 * 14 + 1, 14 * 14 + 1)
    with pytest.raises(ValueError, match="28x28"):
        vt.ViT(c)(torch.randn(2, 1, 56, 56))


def test_swin_like_runs_at_a_new_resolution_and_pvt_like_refuses():
    torch.manual_seed(0)
    x = torch.randn(1, 1, 56, 56)
    assert V.PyramidViT(attention="window")(x).shape == (1, 10)
    with pytest.raises(ValueError, match="position table"):
        V.PyramidViT(attention="sra")(x)


def test_patch_merging_halves_the_grid_and_doubles_the_width():
    merge = V.PatchMerging(8)
    out, grid = merge(torch.randn(2, 36, 8), (6, 6))
    assert out.shape == (2, 9, 16) and grid == (3, 3)


# ------------------------------------------------------------------ cost


def test_flop_formulas_match_pytorchs_counter():
    x = torch.randn(1, 64, 32)
    assert V.count_flops(vt.MultiHeadSelfAttention(32, 4), x) == V.global_attention_flops(64, 32)
    assert V.count_flops(vt.MultiHeadSelfAttention(32, 4), x, fast=False) == V.global_attention_flops(64, 32)
    assert V.count_flops(V.WindowAttention(32, 4, 4), x, grid=(8, 8)) == V.window_attention_flops(64, 32, 4)
    for R in (1, 2, 4):
        sra = V.SpatialReductionAttention(32, 4, R)
        assert V.count_flops(sra, x, grid=(8, 8)) == V.spatial_reduction_attention_flops(64, 32, R)
    assert V.spatial_reduction_attention_flops(64, 32, 1) == V.global_attention_flops(64, 32)
    # windows as big as the grid cost what global attention costs
    assert V.window_attention_flops(64, 32, 8) == V.global_attention_flops(64, 32)


def test_fit_power_law_recovers_the_exponent():
    n = [100, 200, 400, 800, 1600]
    k, c = V.fit_power_law(n, [3e-6 * v**2 for v in n])
    assert abs(k - 2) < 1e-9 and abs(c - 3e-6) < 1e-12
    k, _ = V.fit_power_law(n, [5 * v + 1e-4 * v**2 for v in n])
    assert 1 < k < 2


def test_time_call_returns_the_fastest_call():
    calls = []
    seconds = V.time_call(lambda: calls.append(1), repeats=3, warmup=2, clock="cpu")
    assert len(calls) == 5 and 0.0 <= seconds < 1.0
    assert V.time_call(lambda: torch.ones(10).sum(), repeats=1, warmup=0) >= 0.0


# ------------------------------------------------------------------ collapse


def test_layer_similarity():
    torch.manual_seed(0)
    a = torch.rand(2, 3, 5, 5).softmax(-1)
    b = torch.rand(2, 3, 5, 5).softmax(-1)
    assert torch.allclose(V.cross_layer_similarity([a, a, a]), torch.ones(3, 3), atol=1e-6)
    uniform = torch.full((1, 1, 4, 4), 0.25)
    onehot = torch.eye(4)[None, None]
    # cos(uniform, one-hot) = 0.25 / (0.5 * 1) = 0.5
    assert torch.allclose(V.consecutive_layer_similarity([uniform, onehot]), torch.tensor([0.5]))
    sim = V.cross_layer_similarity([a, b, a], per_head=True)
    assert sim.shape == (3, 3, 3)
    assert torch.allclose(sim[0, 2], torch.ones(3), atol=1e-6)
    cons = V.consecutive_layer_similarity([a, b, a])
    assert cons.shape == (2,) and torch.allclose(cons[0], cons[1])
    assert torch.allclose(V.cross_layer_similarity([a, b])[0, 1], cons[:1].squeeze())


def test_layer_similarity_columns_are_deepvit_and_rows_differ():
    """DeepViT's M^{p,q}_{h,t}: cosine of the columns A[h, :, t], by hand."""
    torch.manual_seed(1)
    a = torch.rand(2, 3, 5, 5).softmax(-1)
    b = (3 * torch.rand(2, 3, 5, 5)).softmax(-1)
    col = torch.nn.functional.cosine_similarity(a, b, dim=-2)  # (B, h, T): one value per input token t
    row = torch.nn.functional.cosine_similarity(a, b, dim=-1)  # (B, h, T): one value per query
    got = V.consecutive_layer_similarity([a, b])
    assert torch.allclose(got, col.mean().reshape(1), atol=1e-6)
    assert torch.allclose(V.consecutive_layer_similarity([a, b], orientation="rows"), row.mean().reshape(1),
                          atol=1e-6)
    assert not torch.allclose(col.mean(), row.mean(), atol=1e-3)  # the two orientations differ here
    per_head = V.cross_layer_similarity([a, b], per_head=True)
    assert torch.allclose(per_head[0, 1], col.mean(dim=(0, 2)), atol=1e-6)
    with pytest.raises(ValueError, match="orientation must be"):
        V.cross_layer_similarity([a, b], orientation="diagonal")


# ------------------------------------------------------------------ bad input


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
        (lambda: V.SpatialReductionAttention(32, 5, 2), "not divisible by heads"),
        (lambda: V.SpatialReductionAttention(32, 4, 0), "reduction"),
        (lambda: V.SpatialReductionAttention(32, 4, 4)(torch.randn(1, 36, 32), (6, 6)), "reduction ratio 4"),
        (lambda: V.PositionEncodingGenerator(8, kernel_size=4), "odd"),
        (lambda: V.PositionEncodingGenerator(8)(torch.randn(1, 12, 8), (3, 4)), "prefix"),
        (lambda: V.PositionEncodingGenerator(8)(torch.randn(1, 13, 8), 3), "pair"),
        (lambda: V.ConvStem(1, 8, 6, strides=(2, 2)), "does not divide"),
        (lambda: V.ConvStem(1, 8, 4)(torch.randn(1, 3, 28, 28)), "channels"),
        (lambda: V.ConvStem(1, 8, 4)(torch.randn(1, 1, 30, 30)), "not divisible by the patch size"),
        (lambda: V.PEGViT(vt.vit_config("ViT-Tiny"), peg_after=4), "peg_after"),
        (lambda: V.PEGViT("ViT-Tiny"), "ViTConfig"),
        (lambda: V.PyramidViT(dims=(32, 48)), "double"),
        (lambda: V.PyramidViT(attention="global"), "attention"),
        (lambda: V.PatchMerging(8)(torch.randn(1, 15, 8), (3, 5)), "even grid"),
        (lambda: V.global_attention_flops(0, 64), "N must be a positive integer"),
        (lambda: V.window_attention_flops(50, 64, 7), "whole 7x7 windows"),
        (lambda: V.fit_power_law([1, 2], [1, -1]), "positive"),
        (lambda: V.fit_power_law([2, 2], [1, 3]), "two distinct"),
        (lambda: V.count_flops(3, torch.randn(1)), "module or a function"),
        (lambda: V.time_call(lambda: None, clock="gpu"), "clock"),
        (lambda: V.time_call(lambda: None, repeats=0), "repeats"),
        (lambda: V.cross_layer_similarity([torch.rand(1, 2, 3, 3)]), "at least 2"),
        (lambda: V.cross_layer_similarity([torch.rand(1, 2, 3, 3), torch.rand(1, 2, 4, 4)]), "same shape"),
        (lambda: V.consecutive_layer_similarity([torch.rand(2, 3, 3), torch.rand(2, 3, 3)]), "4 dimensions"),
    ],
)
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
