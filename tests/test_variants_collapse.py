"""vit_tutorial.variants.collapse: the similarity of consecutive blocks' attention maps
(columns as DeepViT defines it, or rows); bad input."""
import pytest
import torch

from vit_tutorial import variants as V


def test_layer_similarity():
    torch.manual_seed(0)
    a = torch.rand(2, 3, 5, 5).softmax(-1)
    b = torch.rand(2, 3, 5, 5).softmax(-1)
    assert torch.allclose(V.cross_layer_similarity([a, a, a]), torch.ones(3, 3), atol=1e-6)
    uniform = torch.full((1, 1, 4, 4), 0.25)
    onehot = torch.eye(4)[None, None]
    # cos(uniform, one-hot) = 0.25 / (0.5 * 1) = 0.5
    assert torch.allclose(V.consecutive_layer_similarity([uniform, onehot]), torch.tensor([0.5]))
    sim = V.cross_layer_similarity([a, b, a], per_head=True)
    assert sim.shape == (3, 3, 3)
    assert torch.allclose(sim[0, 2], torch.ones(3), atol=1e-6)
    cons = V.consecutive_layer_similarity([a, b, a])
    assert cons.shape == (2,) and torch.allclose(cons[0], cons[1])
    assert torch.allclose(V.cross_layer_similarity([a, b])[0, 1], cons[:1].squeeze())


def test_layer_similarity_columns_are_deepvit_and_rows_differ():
    """DeepViT's M^{p,q}_{h,t}: cosine of the columns A[h, :, t], by hand."""
    torch.manual_seed(1)
    a = torch.rand(2, 3, 5, 5).softmax(-1)
    b = (3 * torch.rand(2, 3, 5, 5)).softmax(-1)
    col = torch.nn.functional.cosine_similarity(a, b, dim=-2)  # (B, h, T): one value per input token t
    row = torch.nn.functional.cosine_similarity(a, b, dim=-1)  # (B, h, T): one value per query
    got = V.consecutive_layer_similarity([a, b])
    assert torch.allclose(got, col.mean().reshape(1), atol=1e-6)
    assert torch.allclose(V.consecutive_layer_similarity([a, b], orientation="rows"), row.mean().reshape(1),
                          atol=1e-6)
    assert not torch.allclose(col.mean(), row.mean(), atol=1e-3)  # the two orientations differ here
    per_head = V.cross_layer_similarity([a, b], per_head=True)
    assert torch.allclose(per_head[0, 1], col.mean(dim=(0, 2)), atol=1e-6)
    with pytest.raises(ValueError, match="orientation must be"):
        V.cross_layer_similarity([a, b], orientation="diagonal")


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: V.cross_layer_similarity([torch.rand(1, 2, 3, 3)]), "at least 2"),
        (lambda: V.cross_layer_similarity([torch.rand(1, 2, 3, 3), torch.rand(1, 2, 4, 4)]), "same shape"),
        (lambda: V.consecutive_layer_similarity([torch.rand(2, 3, 3), torch.rand(2, 3, 3)]), "4 dimensions"),
    ],
)
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
