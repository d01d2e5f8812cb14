"""vit_tutorial.variants.conv_stem: the convolutional stem gives the patch embedding's token
count; bad input."""
import pytest
import torch

import vit_tutorial as vt
from vit_tutorial import variants as V


@pytest.mark.parametrize("P,strides", [(2, (2, 1)), (4, (2, 2)), (7, (1, 1)), (14, (2, 1))])
def test_conv_stem_gives_the_patch_embeddings_token_count(P, strides):
    assert V.default_stem_strides(P, 2) == strides
    stem = V.ConvStem(1, 24, P)
    out = stem(torch.randn(2, 1, 28, 28))
    assert out.shape == (2, (28 // P) ** 2, 24)
    assert out.shape == vt.PatchEmbedding(1, 24, P)(torch.randn(2, 1, 28, 28)).shape


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: V.ConvStem(1, 8, 6, strides=(2, 2)), "does not divide"),
        (lambda: V.ConvStem(1, 8, 4)(torch.randn(1, 3, 28, 28)), "channels"),
        (lambda: V.ConvStem(1, 8, 4)(torch.randn(1, 1, 30, 30)), "not divisible by the patch size"),
    ],
)
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
