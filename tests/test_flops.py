"""FLOPs counted by hand (vit_flops) against PyTorch's FlopCounterMode."""
import dataclasses

import pytest
import torch

import vit_tutorial as vt
from vit_tutorial.flops import FLOP_OPS, FLOP_PARTS, attention_memory, measure_flops, measure_vit_flops, vit_flops

CONFIGS = [
    vt.vit_config("ViT-Tiny"),
    vt.vit_config("ViT-Tiny", pool="mean", num_classes=0),
    vt.vit_config("ViT-Tiny", pos_embedding="sincos", patch_size=7),
    vt.ViTConfig(image_size=32, patch_size=8, in_channels=3, num_classes=7, dim=48, depth=2, heads=6, mlp_dim=64),
    vt.vit_config("ViT-B/16"),
    vt.vit_config("ViT-B/16", image_size=384),
    vt.vit_config("ViT-H/14"),
]


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"D{c.dim}-L{c.depth}-P{c.patch_size}-{c.image_size}px")
def test_analytic_count_equals_flop_counter_per_operator(config, batch):
    ours = vit_flops(config, batch)
    torch_counts = measure_vit_flops(config, batch)
    assert ours["total"] == torch_counts["total"]
    for op, parts in FLOP_OPS.items():
        assert torch_counts.get(op, 0) == sum(ours[p] for p in parts), op
    assert set(torch_counts) - {"total"} <= set(FLOP_OPS)


def test_parts_add_up_and_scale_with_batch():
    cfg = vt.vit_config("ViT-Tiny")
    one, five = vit_flops(cfg), vit_flops(cfg, batch=5)
    assert list(one) == [*FLOP_PARTS, "total"]
    assert one["total"] == sum(one[p] for p in FLOP_PARTS)
    assert all(five[k] == 5 * one[k] for k in one)


def test_vit_b16_at_224_is_about_35_gflops():
    flops = vit_flops(vt.vit_config("ViT-B/16"))
    assert flops["total"] == 35_127_656_448  # 17.56 GMACs
    # attention's two T x T products are a small share at 197 tokens ...
    quad = flops["attention_scores"] + flops["attention_values"]
    assert 0.03 < quad / flops["total"] < 0.05
    # ... and grow as T^2: 4x the side, 16x the patches
    big = vit_flops(dataclasses.replace(vt.vit_config("ViT-B/16"), image_size=896))
    T0, T1 = 197, 56 * 56 + 1
    assert big["attention_scores"] * T0**2 == flops["attention_scores"] * T1**2


def test_measure_flops_on_cpu_misses_fused_attention():
    """The documented blind spot: CPU's fused SDPA kernel is not counted."""
    torch.manual_seed(0)
    cfg = vt.vit_config("ViT-Tiny")
    model = vt.ViT(cfg).eval()
    cpu = measure_flops(model, torch.zeros(2, 1, 28, 28))
    ours = vit_flops(cfg, 2)
    assert cpu["total"] == ours["total"] - ours["attention_scores"] - ours["attention_values"]


def test_attention_memory_table():
    rows = {P: attention_memory(224, P, heads=12) for P in (32, 16, 8, 4)}
    assert [rows[P]["N"] for P in (32, 16, 8, 4)] == [49, 196, 784, 3136]
    assert rows[16]["per_head"] == 197 * 197 * 4
    assert rows[16]["per_layer"] == 12 * 197 * 197 * 4
    assert attention_memory(224, 16, heads=2, batch=3, bytes_per_value=2)["per_layer"] == 6 * 197 * 197 * 2


def test_bad_input(raises_with):
    with raises_with(ValueError, "ViTConfig", "dict"):
        vit_flops({"dim": 768})
    with raises_with(ValueError, "batch", "0"):
        vit_flops(vt.vit_config("ViT-Tiny"), batch=0)
    with raises_with(ValueError, "ViTConfig", "str"):
        measure_vit_flops("ViT-B/16")
    with raises_with(ValueError, "nn.Module", "function"):
        measure_flops(lambda x: x, torch.zeros(1))
    with raises_with(ValueError, "torch.Tensor", "list"):
        measure_flops(torch.nn.Identity(), [1.0])
    with raises_with(ValueError, "224", "15", "remainder 14"):
        attention_memory(224, 15)
    with raises_with(ValueError, "heads", "0"):
        attention_memory(224, 16, heads=0)


def test_flop_counts_is_the_one_counter():
    """measure_flops (chapter 8) and variants.count_flops (chapter 12) are the same counter with and without the fused kernel."""
    from vit_tutorial.flops import flop_counts
    from vit_tutorial.variants import count_flops, global_attention_flops

    layer = vt.MultiHeadSelfAttention(32, 4).eval()
    x = torch.randn(1, 64, 32)
    plain, fused = flop_counts(layer, x), flop_counts(layer, x, count_fused_attention=True)
    assert fused["total"] == count_flops(layer, x) == global_attention_flops(64, 32)
    assert fused["total"] - plain["total"] == 4 * 64 * 64 * 32  # the two attention products, missing by default
