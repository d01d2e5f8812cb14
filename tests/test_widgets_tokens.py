"""Chapters 2-4: the filter, class-token and position-similarity explorers, and the figures behind the first and last."""
import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.figure import Figure

from vit_tutorial import LearnedPositionEmbedding, PatchEmbedding, sincos_2d_position_embedding
from vit_tutorial.viz import plot_filter_response, plot_patch_similarity
from vit_tutorial.widgets import (
    CLASS_TOKEN_STARTS,
    ClassTokenExplorer,
    FilterExplorer,
    PositionSimilarityExplorer,
    class_token_explorer,
    filter_explorer,
    position_similarity_explorer,
)


def test_class_token_explorer_follows_the_controls():
    e = class_token_explorer(photos=("chelsea", "coffee"), patch_size=16, dim=32)
    assert isinstance(e, ClassTokenExplorer) and e.picture.value[:4] == b"\x89PNG"
    assert "(1, 196, 32)" in e.summary.value and "<b>(1, 197, 32)</b>" in e.summary.value
    first = e.picture.value
    e.start.value = "randn, std 1"
    assert e.picture.value != first and CLASS_TOKEN_STARTS["randn, std 1"] in e.summary.value
    assert 0.5 < e.class_token("randn, std 1").std().item() < 1.5
    assert torch.equal(e.class_token("zeros"), torch.zeros(1, 1, 32))
    assert e.class_token("normal, std 0.02, cut at 2 std").abs().max() <= 0.04
    e.patch_size.value = 32
    assert "<b>(1, 50, 32)</b>" in e.summary.value
    e.photo.value = "coffee"
    assert repr(e) == "ClassTokenExplorer(photo='coffee', patch_size=32, start='randn, std 1')"
    assert plt.get_fignums() == []


def test_class_token_explorer_leaves_the_random_numbers_alone():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    ClassTokenExplorer(photos=("coffee",), dim=8)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("kwargs, match", [
    (dict(photos=("nope",)), "photos"), (dict(patch_size=5), "patch_size"), (dict(dim=0), "dim"),
    (dict(start="ones"), "start must be one of"),
])
def test_class_token_explorer_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ClassTokenExplorer(**{"dim": 8, **kwargs})


def tables():
    torch.manual_seed(0)
    return {"sin-cos 6 x 6": sincos_2d_position_embedding(6, 16),
            "random 3 x 3": LearnedPositionEmbedding(10, 16).weight.detach()}


def test_plot_patch_similarity_draws_one_row_of_the_similarity():
    table = sincos_2d_position_embedding(6, 16)  # (37, 16)
    fig = plot_patch_similarity(table, (2, 4))
    assert isinstance(fig, Figure) and len(fig.axes) == 3  # map, colourbar, scatter
    drawn = torch.tensor(fig.axes[0].images[0].get_array()).flatten()
    unit = torch.nn.functional.normalize(table[1:], dim=-1)
    assert torch.allclose(drawn, unit[2 * 6 + 4] @ unit.T, atol=1e-6)
    assert drawn[2 * 6 + 4].item() == pytest.approx(1.0)


@pytest.mark.parametrize("patch, match", [((6, 0), "inside the 6 x 6"), ((1,), "pair"), ((True, 0), "pair")])
def test_plot_patch_similarity_bad_patch(patch, match):
    with pytest.raises(ValueError, match=match):
        plot_patch_similarity(sincos_2d_position_embedding(6, 16), patch)


def test_plot_patch_similarity_bad_table():
    with pytest.raises(ValueError, match="square"):
        plot_patch_similarity(torch.randn(1, 7, 8), (0, 0))
    with pytest.raises(ValueError, match="vmin"):
        plot_patch_similarity(torch.randn(1, 5, 8), (0, 0), vmin=1.0)


def test_position_explorer_follows_the_controls():
    e = position_similarity_explorer(tables(), patch=(4, 5))
    assert isinstance(e, PositionSimilarityExplorer) and e.row.max == 5
    first = e.picture.value
    e.col.value = 1
    second = e.picture.value
    assert second != first
    e.table.value = "random 3 x 3"  # a smaller grid: the sliders shrink and the patch is clipped
    assert (e.row.max, e.row.value, e.col.value) == (2, 2, 1) and e.picture.value != second
    assert repr(e) == "PositionSimilarityExplorer(table='random 3 x 3', patch=(2, 1))"
    assert plt.get_fignums() == []


@pytest.mark.parametrize("tables_, patch, match", [
    ({}, (0, 0), "non-empty dict"), ({"bad": torch.randn(1, 7, 8)}, (0, 0), "square"),
    (None, (6, 0), "6 x 6"),
])
def test_position_explorer_bad_input(tables_, patch, match):
    with pytest.raises(ValueError, match=match):
        PositionSimilarityExplorer(tables() if tables_ is None else tables_, patch)


def test_plot_filter_response_draws_entry_d_of_every_token():
    torch.manual_seed(0)
    embed = PatchEmbedding(3, 6, 8)
    image = torch.rand(3, 32, 48)
    with torch.no_grad():
        tokens = embed(image[None])[0]  # (N, D) = (24, 6)
    fig = plot_filter_response(image, embed.proj.weight, tokens, 4)
    assert isinstance(fig, Figure) and len(fig.axes) == 4  # photo, filter, map, colourbar
    drawn = torch.tensor(fig.axes[2].images[0].get_array())
    assert drawn.shape == (4, 6) and torch.allclose(drawn.flatten(), tokens[:, 4])
    with pytest.raises(ValueError, match=r"filter must be an index in \[0, 6\)"):
        plot_filter_response(image, embed.proj.weight, tokens, 6)
    with pytest.raises(ValueError, match=r"tokens of shape \(24, 6\)"):
        plot_filter_response(image, embed.proj.weight, tokens[:5], 0)


def test_filter_explorer_follows_the_controls():
    torch.manual_seed(0)
    e = filter_explorer({"wide": PatchEmbedding(3, 12, 16), "narrow": PatchEmbedding(3, 4, 32)}, photos=("coffee", "chelsea"),
                        filter=10)
    assert isinstance(e, FilterExplorer) and e.filter.max == 11 and e.picture.value[:4] == b"\x89PNG"
    first = e.picture.value
    e.filter.value = 2
    second = e.picture.value
    e.photo.value = "chelsea"
    assert len({first, second, e.picture.value}) == 3
    e.filter.value = 9
    e.embedding.value = "narrow"  # D = 4: the slider shrinks and the filter is clipped
    assert (e.filter.max, e.filter.value) == (3, 3)
    assert repr(e) == "FilterExplorer(embedding='narrow', photo='chelsea', filter=3)"
    assert plt.get_fignums() == []


@pytest.mark.parametrize("kwargs, match", [
    (dict(embeddings={}), "non-empty dict"), (dict(embeddings={"x": torch.nn.Conv2d(3, 4, 16)}), "PatchEmbedding"),
    (dict(embeddings={"grey": PatchEmbedding(1, 4, 16)}), "3 channels"), (dict(filter=4), r"\[0, 4\)"),
    (dict(photos=("nope",)), "photos"),
])
def test_filter_explorer_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FilterExplorer(**{"embeddings": {"e": PatchEmbedding(3, 4, 16)}, **kwargs})
