"""vit_tutorial.position: the class token and the learned, sin-cos and resized position
tables; bad input."""
import torch

import vit_tutorial as vt


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


def test_bad_input_messages(raises_with):
    with raises_with(ValueError, "3 dimensions"):
        vt.ClassToken(8)(torch.zeros(2, 8))
    with raises_with(ValueError, "5 tokens", "6 tokens"):
        vt.LearnedPositionEmbedding(5, 8)(torch.zeros(2, 6, 8))
    with raises_with(ValueError, "square"):
        vt.resize_position_embedding(torch.zeros(1, 1 + 10, 4), 4)
