"""The whole ViT: presets, parameter counts, gradients, bad input."""
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


def test_config_round_trip():
    c = vt.vit_config("ViT-Tiny", dropout=0.1)
    assert vt.ViTConfig.from_dict(c.to_dict()) == c


def _raises(fn, *words):
    with pytest.raises(ValueError) as info:
        fn()
    msg = str(info.value)
    for w in words:
        assert w in msg, f"{w!r} not in message: {msg}"
    return msg


def test_bad_input_messages():
    model = vt.ViT(vt.vit_config("ViT-Tiny"))
    _raises(lambda: vt.patchify(torch.zeros(3, 8, 8), 4), "4 dimensions", "(3, 8, 8)")
    _raises(lambda: vt.patchify(torch.zeros(1, 3, 10, 8), 4), "height 10", "remainder 2")
    _raises(lambda: vt.patchify(torch.zeros(1, 3, 8, 9), 4), "width 9", "remainder 1")
    _raises(lambda: vt.unpatchify(torch.zeros(1, 4, 47), 4, 8, 3), "(B, 4, 48)", "(1, 4, 47)")
    _raises(lambda: vt.PatchEmbedding(3, 8, 4)(torch.zeros(1, 1, 8, 8)), "1 channels", "in_channels=3")
    _raises(lambda: model(torch.zeros(2, 3, 28, 28)), "3 channels", "in_channels=1")
    _raises(lambda: model(torch.zeros(1, 28, 28)), "4 dimensions")
    _raises(lambda: model(torch.zeros(1, 1, 32, 32)), "28x28", "32x32")
    _raises(lambda: vt.MultiHeadSelfAttention(64, 6), "dim 64", "heads 6")
    _raises(lambda: vt.vit_config("ViT-Tiny", heads=5), "dim 64", "heads 5")
    _raises(lambda: vt.vit_config("ViT-B/32"), "ViT-B/32", "ViT-B/16", "ViT-L/16", "ViT-H/14")
    _raises(lambda: vt.vit_config("ViT-B/16", image_size=100), "size 100", "patch size 16", "remainder 4")
    _raises(lambda: vt.vit_config("ViT-B/16", colour=1), "colour")
    _raises(lambda: vt.vit_config("ViT-B/16", pool="max"), "'max'", "'cls'")
    _raises(lambda: vt.MultiHeadSelfAttention(64, 4)(torch.zeros(2, 5, 32)), "D=32", "dim=64")
    _raises(lambda: vt.ClassToken(8)(torch.zeros(2, 8)), "3 dimensions")
    _raises(lambda: vt.LearnedPositionEmbedding(5, 8)(torch.zeros(2, 6, 8)), "5 tokens", "6 tokens")
    _raises(lambda: vt.resize_position_embedding(torch.zeros(1, 1 + 10, 4), 4), "square")
    _raises(lambda: vt.scaled_dot_product_attention(torch.zeros(2, 3, 4), torch.zeros(2, 3, 5), torch.zeros(2, 3, 4)), "same last dimension")


def test_bad_state_dicts():
    config = vt.ViTConfig(image_size=16, patch_size=8, dim=16, depth=2, heads=2, mlp_dim=32, num_classes=3)
    sd = vt.ViT(config).state_dict()
    _raises(lambda: vt.convert_state_dict(sd, "keras"), "'keras'", "'hf'", "'timm'")
    _raises(lambda: vt.convert_state_dict({"foo.bar": torch.zeros(1)}, "timm"), "unexpected", "foo.bar")
    timm_sd = {k.replace("encoder.blocks.", "blocks.").replace("encoder.norm.", "norm.")
               .replace("cls_token.token", "cls_token").replace("pos_embed.weight", "pos_embed"): v for k, v in sd.items()}
    del timm_sd["blocks.1.mlp.fc2.weight"]
    _raises(lambda: vt.convert_state_dict(timm_sd, "timm"), "missing", "encoder.blocks.1.mlp.fc2.weight")
    timm_sd["blocks.1.mlp.fc2.weight"] = torch.zeros(16, 32)
    big = vt.ViTConfig(image_size=16, patch_size=8, dim=16, depth=3, heads=2, mlp_dim=32, num_classes=3)
    _raises(lambda: vt.convert_state_dict(timm_sd, "timm", big), "missing", "encoder.blocks.2")
    wide = vt.ViTConfig(image_size=16, patch_size=8, dim=16, depth=2, heads=2, mlp_dim=64, num_classes=3)
    _raises(lambda: vt.convert_state_dict(timm_sd, "timm", wide), "shape mismatch", "mlp.fc1")



def test_at_resolution_moves_a_model_to_a_new_image_size():
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
    _raises(lambda: at_resolution(model, 10), "not divisible by the patch size 4")
    _raises(lambda: at_resolution(torch.nn.Linear(2, 2), 8), "must be a vit_tutorial ViT")
