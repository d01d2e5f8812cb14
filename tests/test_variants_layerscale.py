"""LayerScale (vit_tutorial.variants.layerscale)."""
import pytest
import torch

import vit_tutorial as vt
from vit_tutorial.variants import LayerScale, add_layer_scale


def _vit():
    torch.manual_seed(0)
    return vt.ViT(vt.ViTConfig(image_size=28, patch_size=7, in_channels=1, num_classes=10, dim=32, depth=3,
                               heads=4, mlp_dim=64)).eval()


def test_layer_scale_one_is_the_plain_model_and_small_scale_is_near_identity():
    x = torch.randn(4, 1, 28, 28)
    plain = _vit()
    with torch.no_grad():
        ref, ref_att = plain(x, return_attention=True)
        one = add_layer_scale(_vit(), init=1.0)
        out, att = one(x, return_attention=True)
    assert torch.allclose(ref, out, atol=1e-6)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(ref_att, att))
    # with a tiny scale every block is almost the identity: the tokens hardly change
    tiny = add_layer_scale(_vit(), init=1e-6)
    tokens = tiny.embed(x)
    with torch.no_grad():
        block_out = tiny.encoder.blocks[0](tokens)
    assert (block_out - tokens).abs().max() < 1e-4


def test_gamma_is_trained_and_counted():
    model = add_layer_scale(_vit(), init=0.1)
    gammas = [p for n, p in model.named_parameters() if n.endswith("gamma")]
    assert len(gammas) == 6 and all(g.shape == (32,) for g in gammas)
    loss = model(torch.randn(2, 1, 28, 28)).sum()
    loss.backward()
    assert all(g.grad is not None and g.grad.abs().sum() > 0 for g in gammas)


def test_bad_input():
    with pytest.raises(ValueError, match="encoder.blocks"):
        add_layer_scale(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="init must be"):
        LayerScale(torch.nn.Identity(), 4, init=0)
    with pytest.raises(TypeError, match="branch must be"):
        LayerScale(lambda x: x, 4)
    model = add_layer_scale(_vit())
    with pytest.raises(ValueError, match="already"):
        add_layer_scale(model)
