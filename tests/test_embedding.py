"""vit_tutorial.embedding: the conv and the linear patch embedding compute the same; bad input."""
import pytest
import torch

import vit_tutorial as vt


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


def test_bad_input_messages(raises_with):
    with raises_with(ValueError, "1 channels", "in_channels=3"):
        vt.PatchEmbedding(3, 8, 4)(torch.zeros(1, 1, 8, 8))
