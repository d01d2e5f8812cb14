"""The initialisation schemes of vit_tutorial.init: coverage and statistics.

Each expected number below is derived from the source the scheme cites, not
from our code: Flax's lecun_normal gives std sqrt(1/fan_in) after truncation at
+-2; Xavier uniform on a (D, D) kernel has bound sqrt(6/2D); timm's
trunc_normal_(std=.02) cuts at +-2 absolute; the official head and class token
are zeros.
"""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from vit_tutorial import ViT, ViTConfig
from vit_tutorial.encoder import Encoder
from vit_tutorial.init import INIT_SCHEMES, init_rules, init_weights_

# std of a unit normal truncated to (-2, 2), computed here from its definition
_PHI2 = math.exp(-2.0) / math.sqrt(2 * math.pi)  # density at 2
_MASS = math.erf(2 / math.sqrt(2))  # P(|z| < 2)
TRUNC2_STD = math.sqrt(1 - 2 * 2 * _PHI2 / _MASS)

D, MLP_DIM, C, P = 256, 1024, 3, 8


@pytest.fixture(scope="module")
def models() -> dict[str, ViT]:
    out = {}
    for i, scheme in enumerate(INIT_SCHEMES):
        torch.manual_seed(i)
        cfg = ViTConfig(image_size=64, patch_size=P, in_channels=C, num_classes=10, dim=D, depth=2,
                        heads=4, mlp_dim=MLP_DIM, init=scheme)
        out[scheme] = ViT(cfg)
    return out


def test_truncated_unit_normal_constant_matches_jax():
    assert TRUNC2_STD == pytest.approx(0.87962566103423978, rel=1e-12)


@pytest.mark.parametrize("scheme", INIT_SCHEMES)
def test_every_parameter_has_a_rule(models, scheme):
    model = models[scheme]
    rules = init_rules(model, scheme)
    assert list(rules) == [n for n, _ in model.named_parameters()]
    assert all(r.source for r in rules.values())


def test_uncovered_parameter_is_named():
    model = ViT(ViTConfig(image_size=16, patch_size=4, in_channels=1, num_classes=3, dim=16, depth=1,
                          heads=2, mlp_dim=32))
    model.extra = nn.Parameter(torch.zeros(3))
    with pytest.raises(ValueError, match="extra"):
        init_rules(model, "official")


def test_bad_arguments():
    model = Encoder(depth=1, dim=16, heads=2, mlp_dim=32)
    with pytest.raises(ValueError, match="official"):
        init_weights_(model, "jax")
    with pytest.raises(TypeError, match="nn.Module"):
        init_rules(torch.zeros(3), "timm")
    with pytest.raises(ValueError, match="init"):
        ViTConfig(init="xavier")


def _frac_beyond(t: torch.Tensor, x: float) -> float:
    return (t.abs() > x).float().mean().item()


def test_official_scheme_follows_vit_jax(models):
    m = models["official"]
    # head and class token: zeros (kernel_init=zeros, head_bias_init=0., self.param('cls', zeros))
    assert torch.count_nonzero(m.head.weight) == 0 and torch.count_nonzero(m.head.bias) == 0
    assert torch.count_nonzero(m.cls_token.token) == 0
    # position table: normal(0.02), NOT truncated: about 4.55 % of draws lie beyond 2 std
    pos = m.pos_embed.weight
    assert pos.std().item() == pytest.approx(0.02, rel=0.03)
    assert 0.03 < _frac_beyond(pos, 0.04) < 0.06
    # patch projection: lecun_normal = truncated normal with std sqrt(1/fan_in) after truncation
    w = m.patch_embed.proj.weight
    fan_in = C * P * P
    assert w.std().item() == pytest.approx(math.sqrt(1 / fan_in), rel=0.03)
    assert w.abs().max().item() <= 2 * math.sqrt(1 / fan_in) / TRUNC2_STD + 1e-7
    assert torch.count_nonzero(m.patch_embed.proj.bias) == 0
    for block in m.encoder.blocks:
        # q, k, v each Xavier uniform on its own (D, D) kernel: bound sqrt(6 / 2D)
        bound = math.sqrt(6 / (2 * D))
        for part in block.attn.qkv.weight.chunk(3, dim=0):
            assert part.abs().max().item() <= bound
            assert part.abs().max().item() > 0.99 * bound
            assert part.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.03)
        assert torch.count_nonzero(block.attn.qkv.bias) == 0
        assert block.attn.proj.weight.abs().max().item() <= bound
        assert torch.count_nonzero(block.attn.proj.bias) == 0
        # MLP: Xavier uniform with bound sqrt(6 / (D + MLP)), biases normal(1e-6)
        mlp_bound = math.sqrt(6 / (D + MLP_DIM))
        for fc in (block.mlp.fc1, block.mlp.fc2):
            assert fc.weight.abs().max().item() <= mlp_bound
            assert fc.weight.abs().max().item() > 0.99 * mlp_bound
            assert fc.weight.std().item() == pytest.approx(mlp_bound / math.sqrt(3), rel=0.03)
        assert block.mlp.fc1.bias.std().item() == pytest.approx(1e-6, rel=0.25)
        for ln in (block.norm1, block.norm2):
            assert torch.equal(ln.weight, torch.ones(D)) and torch.equal(ln.bias, torch.zeros(D))


def test_official_head_gives_exactly_log_k():
    torch.manual_seed(0)
    m = ViT(ViTConfig(image_size=16, patch_size=4, in_channels=1, num_classes=10, dim=16, depth=1,
                      heads=2, mlp_dim=32, init="official")).eval()
    logits = m(torch.randn(4, 1, 16, 16))
    loss = nn.functional.cross_entropy(logits, torch.tensor([0, 3, 5, 9]))
    assert loss.item() == pytest.approx(math.log(10), abs=1e-6)


def test_timm_scheme_follows_timm(models):
    m = models["timm"]
    # class token normal(1e-6)
    assert m.cls_token.token.std().item() == pytest.approx(1e-6, rel=0.3)
    # trunc_normal_(std=.02) with a=-2, b=2 absolute: effectively untruncated normal(0.02)
    for t in (m.pos_embed.weight, m.encoder.blocks[0].mlp.fc1.weight, m.encoder.blocks[0].attn.qkv.weight):
        assert t.std().item() == pytest.approx(0.02, rel=0.03)
        assert 0.03 < _frac_beyond(t, 0.04) < 0.06
    assert m.head.weight.std().item() == pytest.approx(0.02, rel=0.2)
    assert torch.count_nonzero(m.encoder.blocks[0].mlp.fc1.bias) == 0
    # patch projection: PyTorch's default, U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    bound = 1 / math.sqrt(C * P * P)
    w = m.patch_embed.proj.weight
    assert w.abs().max().item() <= bound and w.abs().max().item() > 0.99 * bound


def test_trunc_2sigma_scheme(models):
    m = models["trunc_2sigma"]
    for t in (m.pos_embed.weight, m.cls_token.token, m.head.weight, m.encoder.blocks[1].attn.proj.weight):
        assert t.abs().max().item() <= 0.04
    w = m.encoder.blocks[0].mlp.fc1.weight
    assert w.std().item() == pytest.approx(0.02 * TRUNC2_STD, rel=0.03)
    assert torch.count_nonzero(m.encoder.blocks[0].mlp.fc1.bias) == 0


def test_default_scheme_is_the_books_own():
    assert ViTConfig().init == "trunc_2sigma"


@pytest.mark.parametrize("scheme", INIT_SCHEMES)
def test_reinit_is_reproducible_with_a_generator(scheme):
    model = ViT(ViTConfig(image_size=16, patch_size=4, in_channels=1, num_classes=3, dim=16, depth=1,
                          heads=2, mlp_dim=32))

    def draw(seed):
        init_weights_(model, scheme, torch.Generator().manual_seed(seed))
        return {k: v.clone() for k, v in model.state_dict().items()}

    a, b, c = draw(3), draw(3), draw(4)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)


def test_encoder_alone_can_be_initialised():
    enc = Encoder(depth=2, dim=32, heads=4, mlp_dim=64)
    init_weights_(enc, "official")
    bound = math.sqrt(6 / 64)
    assert enc.blocks[0].attn.qkv.weight.abs().max().item() <= bound


@pytest.mark.parametrize("scheme", INIT_SCHEMES)
def test_pos_init_std_of_the_config_is_a_rule(scheme):
    torch.manual_seed(0)
    model = ViT(ViTConfig(image_size=64, patch_size=4, in_channels=1, num_classes=3, dim=64, depth=1, heads=2,
                          mlp_dim=64, init=scheme, pos_init_std=0.5))
    rule = init_rules(model, scheme)["pos_embed.weight"]
    assert (rule.kind, rule.std, rule.bound) == ("trunc_normal", 0.5, 1.0)
    pos = model.pos_embed.weight
    assert pos.abs().max().item() <= 1.0
    assert pos.std().item() == pytest.approx(0.5 * TRUNC2_STD, rel=0.05)
