"""vit_tutorial.variants.models: PEG-ViT, the hybrid and the two pyramid models (shapes,
gradients, new resolutions) and patch merging; bad input."""
import pytest
import torch

import vit_tutorial as vt
from vit_tutorial import variants as V


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


@pytest.mark.parametrize("size", [20, 36, 56])
def test_peg_vit_accepts_a_new_size_and_vit_refuses(size):
    torch.manual_seed(0)
    c = vt.vit_config("ViT-Tiny", depth=1)
    x = torch.randn(1, 1, size, size)
    with torch.no_grad():
        assert V.PEGViT(c).eval()(x).shape == (1, 10)
    with pytest.raises(ValueError):
        vt.ViT(c)(x)


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


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: V.PEGViT(vt.vit_config("ViT-Tiny"), peg_after=4), "peg_after"),
        (lambda: V.PEGViT("ViT-Tiny"), "ViTConfig"),
        (lambda: V.PyramidViT(dims=(32, 48)), "double"),
        (lambda: V.PyramidViT(attention="global"), "attention"),
        (lambda: V.PatchMerging(8)(torch.randn(1, 15, 8), (3, 5)), "even grid"),
    ],
)
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
