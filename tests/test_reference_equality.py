"""Our modules against PyTorch's built-ins and transformers' ViT.

Every comparison randomises *every* parameter first (``randomise_parameters_``):
a freshly built reference has zero biases and identity LayerNorms, and then a
conversion that swaps LayerNorms or scrambles biases would still match
(``test_fresh_reference_cannot_see_miswiring`` shows it). LayerNorm epsilons are
set explicitly on both sides: PyTorch's default is 1e-5, ViT's 1e-6.
"""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import vit_tutorial as vt
from vit_tutorial.interop import layer_norm_eps, randomise_parameters_


def _assert_randomised(module: nn.Module) -> None:
    for name, p in module.named_parameters():
        assert torch.count_nonzero(p) == p.numel() and not torch.all(p == 1), f"{name} kept a trivial value"


@pytest.mark.parametrize("shape", [(2, 4, 10, 8), (1, 1, 197, 64), (3, 2, 5, 16)])
def test_explicit_attention_equals_torch(shape):
    torch.manual_seed(0)
    q, k, v = (torch.randn(shape) for _ in range(3))
    out, w = vt.scaled_dot_product_attention(q, k, v)
    assert (out - F.scaled_dot_product_attention(q, k, v)).abs().max() < 1e-5
    assert torch.allclose(w.sum(-1), torch.ones(shape[:-1]), atol=1e-6)


@pytest.mark.parametrize("D,h,T", [(64, 4, 17), (48, 3, 5), (32, 1, 9)])
def test_mhsa_paths_agree_and_equal_nn_multiheadattention(D, h, T):
    torch.manual_seed(0)
    ours = randomise_parameters_(vt.MultiHeadSelfAttention(D, h).eval(), seed=D)
    _assert_randomised(ours)
    ref = nn.MultiheadAttention(D, h, batch_first=True).eval()
    with torch.no_grad():
        ref.in_proj_weight.copy_(ours.qkv.weight)
        ref.in_proj_bias.copy_(ours.qkv.bias)
        ref.out_proj.weight.copy_(ours.proj.weight)
        ref.out_proj.bias.copy_(ours.proj.bias)
    x = torch.randn(2, T, D)
    fast = ours(x)
    slow, w = ours(x, return_attention=True)
    assert w.shape == (2, h, T, T)
    assert (fast - slow).abs().max() < 1e-5
    assert (ours(x, fast=False) - fast).abs().max() < 1e-5
    y, w_ref = ref(x, x, x, need_weights=True, average_attn_weights=False)
    assert (fast - y).abs().max() < 1e-5
    assert (w - w_ref).abs().max() < 1e-5


def _torch_layer_from_ours(ours: vt.EncoderBlock, D: int, h: int, M: int, eps: float) -> nn.TransformerEncoderLayer:
    ref = nn.TransformerEncoderLayer(
        D, nhead=h, dim_feedforward=M, dropout=0.0, activation="gelu", batch_first=True, norm_first=True,
        layer_norm_eps=eps,
    ).eval()
    with torch.no_grad():
        ref.self_attn.in_proj_weight.copy_(ours.attn.qkv.weight)
        ref.self_attn.in_proj_bias.copy_(ours.attn.qkv.bias)
        ref.self_attn.out_proj.weight.copy_(ours.attn.proj.weight)
        ref.self_attn.out_proj.bias.copy_(ours.attn.proj.bias)
        ref.linear1.load_state_dict(ours.mlp.fc1.state_dict())
        ref.linear2.load_state_dict(ours.mlp.fc2.state_dict())
        ref.norm1.load_state_dict(ours.norm1.state_dict())
        ref.norm2.load_state_dict(ours.norm2.state_dict())
    return ref


@pytest.mark.parametrize("D,h,M", [(64, 4, 128), (96, 6, 384)])
def test_encoder_block_equals_transformer_encoder_layer(D, h, M):
    torch.manual_seed(0)
    ours = randomise_parameters_(vt.EncoderBlock(D, h, M).eval(), seed=D)  # ViT's eps, 1e-6
    _assert_randomised(ours)
    ref = _torch_layer_from_ours(ours, D, h, M, eps=1e-6)
    assert layer_norm_eps(ours) == layer_norm_eps(ref) == {1e-6}
    x = torch.randn(3, 11, D)
    assert (ours(x) - ref(x)).abs().max() < 1e-5
    x_small = 0.03 * x  # tokens at the scale of an initialised ViT (std 0.02-0.03)
    assert (ours(x_small) - ref(x_small)).abs().max() < 1e-5


def test_layer_norm_eps_mismatch_is_caught():
    """PyTorch's default eps (1e-5) against ViT's (1e-6): on small tokens the
    block's output differs by far more than the 1e-5 the tests allow."""
    D, h, M = 64, 4, 128
    ours = randomise_parameters_(vt.EncoderBlock(D, h, M).eval(), seed=1)
    ref = _torch_layer_from_ours(ours, D, h, M, eps=1e-5)
    torch.manual_seed(0)
    x = 0.03 * torch.randn(3, 11, D)
    assert (ours(x) - ref(x)).abs().max() > 1e-3


try:
    import transformers
except ImportError:  # a test-only dependency: without it only the tests marked below skip, not the ones above
    transformers = None
needs_transformers = pytest.mark.skipif(
    transformers is None, reason="transformers is a test-only dependency (requirements-test.txt)"
)

HF_CONFIGS = [
    dict(image_size=32, patch_size=8, dim=64, depth=2, heads=4, mlp_dim=128, num_classes=10, in_channels=3),
    dict(image_size=28, patch_size=7, dim=48, depth=3, heads=3, mlp_dim=96, num_classes=5, in_channels=1),
]


def _hf_model(c: vt.ViTConfig, with_head: bool = True):
    hf_config = transformers.ViTConfig(
        image_size=c.image_size, patch_size=c.patch_size, num_channels=c.in_channels, hidden_size=c.dim,
        num_hidden_layers=c.depth, num_attention_heads=c.heads, intermediate_size=c.mlp_dim,
        num_labels=c.num_classes, layer_norm_eps=c.layer_norm_eps, hidden_act="gelu", qkv_bias=True,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, attn_implementation="eager",
    )
    torch.manual_seed(0)
    cls = transformers.ViTForImageClassification if with_head else transformers.ViTModel
    model = randomise_parameters_(cls(hf_config).eval(), seed=c.dim)
    _assert_randomised(model)
    assert layer_norm_eps(model) == {c.layer_norm_eps}
    return model


def _legacy_hf_names(sd):
    """Rename transformers>=5 keys to the hub's (transformers<5) scheme."""
    table = {"attention.q_proj": "attention.attention.query", "attention.k_proj": "attention.attention.key",
             "attention.v_proj": "attention.attention.value", "attention.o_proj": "attention.output.dense",
             "mlp.fc1": "intermediate.dense", "mlp.fc2": "output.dense"}
    out = {}
    for k, v in sd.items():
        k2 = k.replace("vit.layers.", "vit.encoder.layer.")
        for new, old in table.items():
            k2 = k2.replace(f".{new}.", f".{old}.")
        out[k2] = v
    return out


@needs_transformers
@pytest.mark.parametrize("kw", HF_CONFIGS)
@pytest.mark.parametrize("legacy", [False, True])
def test_whole_model_equals_transformers_vit(kw, legacy):
    config = vt.ViTConfig(**kw)
    hf = _hf_model(config)
    sd = hf.state_dict()
    if legacy:
        sd = _legacy_hf_names(sd)
        assert any(".attention.attention.query." in k for k in sd)
    ours = vt.ViT(config).eval()
    ours.load_state_dict(vt.convert_state_dict(sd, "hf", config), strict=True)
    torch.manual_seed(1)
    x = torch.randn(2, config.in_channels, config.image_size, config.image_size)
    with torch.no_grad():
        ref = hf(pixel_values=x, output_attentions=True)
        logits, attentions = ours(x, return_attention=True)
    assert (logits - ref.logits).abs().max() < 1e-5
    assert len(attentions) == len(ref.attentions) == config.depth
    for a, b in zip(attentions, ref.attentions):
        assert a.shape == b.shape == (2, config.heads, config.num_tokens, config.num_tokens)
        assert (a - b).abs().max() < 1e-5


@needs_transformers
def test_vitmodel_features_equal_transformers():
    config = vt.ViTConfig(**{**HF_CONFIGS[0], "num_classes": 0})
    hf = _hf_model(config, with_head=False)
    ours = vt.ViT(config).eval()
    ours.load_state_dict(vt.convert_state_dict(hf.state_dict(), "hf", config), strict=True)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert (ours.forward_features(x) - hf(pixel_values=x).last_hidden_state).abs().max() < 1e-5


# timm's key names are checked against a list recorded from real timm:
# tests/test_contract.py::test_timm_state_dict_from_the_recorded_key_list_loads.


def _miswire(sd: dict, how: str) -> dict:
    """A deliberately wrong conversion of our own state dict."""
    sd = dict(sd)
    blocks = sorted({k.split(".")[2] for k in sd if k.startswith("encoder.blocks.")})
    for i in blocks:
        p = f"encoder.blocks.{i}."
        if how == "swap_norms":
            for kind in ("weight", "bias"):
                sd[p + f"norm1.{kind}"], sd[p + f"norm2.{kind}"] = sd[p + f"norm2.{kind}"], sd[p + f"norm1.{kind}"]
        elif how == "reverse_qkv_bias":
            q, k, v = sd[p + "attn.qkv.bias"].chunk(3)
            sd[p + "attn.qkv.bias"] = torch.cat([v, k, q])
        elif how == "drop_out_proj_bias":
            sd[p + "attn.proj.bias"] = torch.zeros_like(sd[p + "attn.proj.bias"])
        else:
            raise ValueError(how)
    return sd


def _max_logit_gap(hf, config, how):
    sd = vt.convert_state_dict(hf.state_dict(), "hf", config)
    ours = vt.ViT(config).eval()
    ours.load_state_dict(_miswire(sd, how), strict=True)
    torch.manual_seed(1)
    x = torch.randn(2, config.in_channels, config.image_size, config.image_size)
    with torch.no_grad():
        return (ours(x) - hf(pixel_values=x).logits).abs().max().item()


@needs_transformers
@pytest.mark.parametrize("how", ["swap_norms", "reverse_qkv_bias", "drop_out_proj_bias"])
def test_miswired_conversion_is_caught(how):
    config = vt.ViTConfig(**HF_CONFIGS[0])
    assert _max_logit_gap(_hf_model(config), config, how) > 1e-2


@needs_transformers
def test_fresh_reference_cannot_see_miswiring():
    """Why the tests randomise: transformers builds zero biases and identity
    LayerNorms, so all three mis-wirings together still match to 1e-5."""
    config = vt.ViTConfig(**HF_CONFIGS[0])
    hf_config = transformers.ViTConfig(
        image_size=32, patch_size=8, num_channels=3, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=128, num_labels=10, layer_norm_eps=1e-6, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0, attn_implementation="eager",
    )
    torch.manual_seed(0)
    hf = transformers.ViTForImageClassification(hf_config).eval()
    sd = vt.convert_state_dict(hf.state_dict(), "hf", config)
    for how in ("swap_norms", "reverse_qkv_bias", "drop_out_proj_bias"):
        sd = _miswire(sd, how)
    ours = vt.ViT(config).eval()
    ours.load_state_dict(sd, strict=True)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert (ours(x) - hf(pixel_values=x).logits).abs().max() < 1e-5


def test_randomise_parameters_bad_input_and_statistics():
    with pytest.raises(ValueError, match="positive"):
        randomise_parameters_(nn.Linear(2, 2), std=0)
    with pytest.raises(TypeError, match="nn.Module"):
        randomise_parameters_(torch.zeros(2))
    with pytest.raises(TypeError, match="nn.Module"):
        layer_norm_eps([1e-6])
    block = randomise_parameters_(vt.EncoderBlock(64, 4, 128), std=0.2, seed=3)
    assert block.norm1.weight.mean().item() == pytest.approx(1.0, abs=0.1)
    assert block.mlp.fc1.weight.std().item() == pytest.approx(0.2, rel=0.05)
    again = randomise_parameters_(vt.EncoderBlock(64, 4, 128), std=0.2, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(block.parameters(), again.parameters()))
