"""vit_tutorial.variants.peg: the position encoding generator; zero weights are the identity,
the class token passes untouched, border tokens differ from inner ones; bad input."""
import pytest
import torch

from vit_tutorial import variants as V


def test_peg_with_zero_weights_is_the_identity_and_passes_the_class_token():
    peg = V.PositionEncodingGenerator(8)
    with torch.no_grad():
        peg.conv.weight.zero_()
        peg.conv.bias.zero_()
    x = torch.randn(2, 1 + 12, 8)
    assert torch.equal(peg(x, (3, 4)), x)
    torch.manual_seed(0)
    peg = V.PositionEncodingGenerator(8)
    y = peg(x, (3, 4))
    assert torch.equal(y[:, 0], x[:, 0])  # the class token is untouched
    assert not torch.allclose(y[:, 1:], x[:, 1:])


def test_peg_tells_border_tokens_from_inner_ones():
    torch.manual_seed(0)
    peg = V.PositionEncodingGenerator(4)
    x = torch.ones(1, 25, 4)  # identical tokens on a 5x5 grid
    y = peg(x, (5, 5), num_prefix_tokens=0).reshape(5, 5, 4)
    assert torch.allclose(y[1, 1], y[2, 2]) and torch.allclose(y[1, 1], y[3, 3])  # inner tokens alike
    assert not torch.allclose(y[0, 0], y[2, 2])  # the corner sees the zero padding


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: V.PositionEncodingGenerator(8, kernel_size=4), "odd"),
        (lambda: V.PositionEncodingGenerator(8)(torch.randn(1, 12, 8), (3, 4)), "prefix"),
        (lambda: V.PositionEncodingGenerator(8)(torch.randn(1, 13, 8), 3), "pair"),
    ],
)
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
