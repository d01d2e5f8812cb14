"""vit_tutorial.variants.spatial_reduction: spatial-reduction attention; ratio 1 is global
attention, ratio R attends to N/R^2 keys; bad input."""
import pytest
import torch

import vit_tutorial as vt
from vit_tutorial import variants as V


def _global(dim=32, heads=4, seed=0):
    torch.manual_seed(seed)
    return vt.MultiHeadSelfAttention(dim, heads).eval()


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


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: V.SpatialReductionAttention(32, 5, 2), "not divisible by heads"),
        (lambda: V.SpatialReductionAttention(32, 4, 0), "reduction"),
        (lambda: V.SpatialReductionAttention(32, 4, 4)(torch.randn(1, 36, 32), (6, 6)), "reduction ratio 4"),
    ],
)
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
