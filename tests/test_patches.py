"""Patches, patch embeddings, class token and position embeddings."""
import pytest
import torch

import vit_tutorial as vt


@pytest.mark.parametrize("B,C,H,W,P", [(1, 3, 8, 8, 4), (2, 3, 224, 224, 16), (3, 1, 28, 28, 7), (2, 2, 12, 20, 4)])
def test_patchify_round_trip_and_shape(B, C, H, W, P):
    x = torch.randn(B, C, H, W)
    p = vt.patchify(x, P)
    assert p.shape == (B, (H // P) * (W // P), C * P * P)
    assert torch.equal(vt.unpatchify(p, P, (H, W), C), x)


def test_patchify_order_is_row_major_and_channel_first():
    # 1x2x4x4 image, P=2: patch 1 is the top-right block; inside it, channel 0 first.
    x = torch.arange(2 * 4 * 4).reshape(1, 2, 4, 4).float()
    p = vt.patchify(x, 2)
    assert torch.equal(p[0, 1], torch.tensor([2.0, 3, 6, 7, 18, 19, 22, 23]))
    assert torch.equal(p[0, 2, :4], torch.tensor([8.0, 9, 12, 13]))


@pytest.mark.parametrize("C,D,P,H", [(3, 48, 4, 8), (3, 768, 16, 224), (1, 64, 7, 28), (3, 100, 8, 32)])
def test_conv_embedding_equals_linear_embedding(C, D, P, H):
    torch.manual_seed(0)
    conv, lin = vt.PatchEmbedding(C, D, P), vt.LinearPatchEmbedding(C, D, P)
    vt.copy_conv_to_linear(conv, lin)
    x = torch.randn(2, C, H, H)
    assert conv(x).shape == (2, (H // P) ** 2, D)
    assert (conv(x) - lin(x)).abs().max() < 1e-5
    conv2 = vt.copy_linear_to_conv(lin, vt.PatchEmbedding(C, D, P))
    assert (conv2(x) - lin(x)).abs().max() < 1e-5


def test_class_token_and_learned_position_are_parameters():
    cls, pos = vt.ClassToken(16), vt.LearnedPositionEmbedding(5, 16)
    x = torch.randn(3, 4, 16)
    y = pos(cls(x))
    assert y.shape == (3, 5, 16)
    assert torch.allclose(y[:, 1:] - pos.weight[:, 1:], x, atol=1e-6)
    assert torch.allclose(y[:, 0] - pos.weight[:, 0], cls.token[:, 0].expand(3, -1), atol=1e-6)
    names = {n for n, _ in cls.named_parameters()} | {n for n, _ in pos.named_parameters()}
    assert names == {"token", "weight"}
    big = vt.LearnedPositionEmbedding(197, 768).weight
    assert 0.015 < vt.ClassToken(4096).token.std().item() < 0.02  # 2-std truncation shrinks std to ~0.0176
    assert 0.015 < big.std().item() < 0.02 and big.abs().max() <= 0.04 + 1e-6  # truncated at 2 std


def test_sincos_table():
    t = vt.sincos_2d_position_embedding((4, 6), 32)
    assert t.shape == (25, 32)
    assert torch.all(t[0] == 0)
    # every patch gets a distinct code, and a patch is most similar to itself
    sim = torch.nn.functional.normalize(t[1:], dim=1) @ torch.nn.functional.normalize(t[1:], dim=1).T
    assert torch.all(sim.argmax(dim=1) == torch.arange(24))
    m = vt.SinCosPositionEmbedding((4, 6), 32)
    assert len(list(m.parameters())) == 0 and m(torch.zeros(2, 25, 32)).shape == (2, 25, 32)


def test_resize_position_embedding_keeps_class_token_and_identity():
    torch.manual_seed(0)
    table = torch.randn(1, 1 + 7 * 7, 8)
    same = vt.resize_position_embedding(table, 7)
    assert (same - table).abs().max() < 1e-5
    big = vt.resize_position_embedding(table, (14, 14))
    assert big.shape == (1, 1 + 196, 8)
    assert torch.equal(big[:, 0], table[:, 0])
    # a constant table stays constant under interpolation
    const = torch.ones(1, 1 + 16, 3)
    assert torch.allclose(vt.resize_position_embedding(const, 6, mode="bilinear"), torch.ones(1, 37, 3))
