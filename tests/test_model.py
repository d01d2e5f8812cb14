"""vit_tutorial.model: the whole ViT (shapes, gradients, the paper's presets and their
parameter counts), at_resolution; bad input."""
import pytest
import torch

import vit_tutorial as vt


SMALL_CONFIGS = [
    vt.vit_config("ViT-Tiny"),
    vt.vit_config("ViT-Tiny", pool="mean"),
    vt.vit_config("ViT-Tiny", pos_embedding="sincos", patch_size=7),
    vt.ViTConfig(image_size=32, patch_size=8, in_channels=3, num_classes=7, dim=48, depth=2, heads=6, mlp_dim=64),
]


@pytest.mark.parametrize("config", SMALL_CONFIGS, ids=lambda c: f"P{c.patch_size}-{c.pool}-{c.pos_embedding}")
def test_shapes_no_nan_and_gradients_reach_every_parameter(config):
    torch.manual_seed(0)
    model = vt.ViT(config)
    x = torch.randn(3, config.in_channels, config.image_size, config.image_size)
    logits, attentions = model(x, return_attention=True)
    assert logits.shape == (3, config.num_classes)
    assert len(attentions) == config.depth
    assert all(a.shape == (3, config.heads, config.num_tokens, config.num_tokens) for a in attentions)
    assert model.forward_features(x).shape == (3, config.num_tokens, config.dim)
    assert torch.isfinite(logits).all()
    assert (model(x) - logits).abs().max() < 1e-5  # fast path == explicit path
    logits.logsumexp(-1).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"no gradient reached {name}"


def test_vit_b16_is_built_and_runs():
    torch.manual_seed(0)
    model = vt.ViT(vt.vit_config("ViT-B/16")).eval()
    assert vt.count_parameters(model) == 86_567_656
    with torch.no_grad():
        assert model(torch.randn(1, 3, 224, 224)).shape == (1, 1000)


@pytest.mark.parametrize("name,count", [("ViT-B/16", 86_567_656), ("ViT-L/16", 304_326_632), ("ViT-H/14", 632_045_800)])
def test_paper_presets_parameter_counts(name, count):
    with torch.device("meta"):  # count without allocating memory
        model = vt.ViT(vt.vit_config(name))
    assert vt.count_parameters(model) == count


def test_bad_input_messages(raises_with):
    model = vt.ViT(vt.vit_config("ViT-Tiny"))
    with raises_with(ValueError, "3 channels", "in_channels=1"):
        model(torch.zeros(2, 3, 28, 28))
    with raises_with(ValueError, "4 dimensions"):
        model(torch.zeros(1, 28, 28))
    with raises_with(ValueError, "28x28", "32x32"):
        model(torch.zeros(1, 1, 32, 32))


def test_at_resolution_moves_a_model_to_a_new_image_size(raises_with):
    from vit_tutorial.model import at_resolution
    from vit_tutorial.variants import HybridViT

    torch.manual_seed(0)
    model = vt.ViT(vt.vit_config("ViT-Tiny", image_size=8, patch_size=4, dim=16, depth=1, heads=2, mlp_dim=32))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    big = at_resolution(model, 16)
    assert torch.equal(torch.get_rng_state(), rng)  # no random numbers drawn
    assert big.config.image_size == 16 and not big.training
    assert big.pos_embed.weight.shape == (1, 1 + 16, 16)
    assert torch.equal(big.pos_embed.weight, vt.resize_position_embedding(model.pos_embed.weight, 4))
    assert big(torch.randn(2, 1, 16, 16)).shape == (2, 10)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())  # the original is untouched
    same = at_resolution(model, 8)
    x = torch.randn(2, 1, 8, 8)
    assert torch.equal(same(x), model.eval()(x))
    hybrid = at_resolution(HybridViT(vt.vit_config("ViT-Tiny", image_size=8, patch_size=4, dim=16, depth=1, heads=2,
                                                   mlp_dim=32)), 16)
    assert isinstance(hybrid, HybridViT) and hybrid(torch.randn(1, 1, 16, 16)).shape == (1, 10)
    sincos = at_resolution(vt.ViT(vt.vit_config("ViT-Tiny", image_size=8, patch_size=4, pos_embedding="sincos")), 12)
    assert sincos(torch.randn(1, 1, 12, 12)).shape == (1, 10)
    with raises_with(ValueError, "not divisible by the patch size 4"):
        at_resolution(model, 10)
    with raises_with(ValueError, "must be a vit_tutorial ViT"):
        at_resolution(torch.nn.Linear(2, 2), 8)
