"""Figures of chapters 1-4 (vit_tutorial.viz.patches and vit_tutorial.viz.tokens)."""
import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.figure import Figure

import vit_tutorial as vt
from vit_tutorial.viz import (
    animate_patch_sizes,
    figure_to_png,
    patch_sizes_dividing,
    plot_agreement,
    plot_patch_embedding,
    plot_patch_grid,
    plot_patch_matrix,
    plot_patch_sequence,
    plot_pooling_comparison,
    plot_position_resize,
    plot_position_similarity,
    plot_shuffled_patches,
    plot_token_sequence,
    position_similarity,
)


@pytest.fixture
def image():
    torch.manual_seed(0)
    return torch.rand(3, 32, 48)


def _figure(fig):
    assert isinstance(fig, Figure)
    plt.close(fig)
    return fig


def test_patch_sizes_dividing():
    assert patch_sizes_dividing(224) == [2, 4, 7, 8, 14, 16, 28, 32, 56, 112]
    assert patch_sizes_dividing(28, 4, 14) == [4, 7, 14]
    for bad in [dict(size=0), dict(size=28, smallest=20, largest=10), dict(size=2.5)]:
        with pytest.raises(ValueError):
            patch_sizes_dividing(**bad)


def test_patch_grid_and_sequence(image):
    fig = _figure(plot_patch_grid(image, 8))
    assert "N = 24 patches" in fig.axes[0].get_title()
    # one number per patch, in row-major order
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert labels == [str(n) for n in range(24)]
    assert len(_figure(plot_patch_grid(image[:1], 16, show_index=False)).axes[0].texts) == 0
    fig = _figure(plot_patch_sequence(image, 8))  # N = 24 > 18: first 16, a gap, the last
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:3] == ["0", "1", "2"] and titles[-1] == "23" and titles[-2] == ""
    fig = _figure(plot_patch_sequence(image, 16))  # N = 6: all of them
    assert [ax.get_title() for ax in fig.axes] == [str(n) for n in range(6)]


def test_patch_matrix_and_shuffle(image):
    fig = _figure(plot_patch_matrix(image, 8))
    assert "24 x 192" in fig.axes[1].get_title()
    small = torch.rand(3, 8, 8)
    fig = _figure(plot_patch_matrix(small, 4))
    assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == ["0", "1", "2", "3"]
    _figure(plot_shuffled_patches(image, 16, torch.randperm(6)))
    with pytest.raises(ValueError, match="permutation"):
        plot_shuffled_patches(image, 16, torch.tensor([0, 0, 1, 2, 3, 4]))


@pytest.mark.parametrize(
    "call",
    [
        lambda im: plot_patch_grid(im, 5),  # 5 does not divide 32
        lambda im: plot_patch_grid(im.numpy(), 8),  # not a tensor
        lambda im: plot_patch_grid(im[None], 8),  # (1, C, H, W)
        lambda im: plot_patch_grid(torch.rand(2, 8, 8), 4),  # two channels
        lambda im: plot_patch_grid(im, 0),
        lambda im: plot_patch_sequence(im, 8, max_patches=3),
        lambda im: plot_patch_matrix(im, 7),
        lambda im: animate_patch_sizes(im, []),
        lambda im: animate_patch_sizes(im, [8, 5]),
        lambda im: figure_to_png("not a figure"),
    ],
)
def test_bad_input_raises_value_error(image, call):
    with pytest.raises(ValueError):
        call(image)
    plt.close("all")


def test_animation_is_light_html(image):
    html = animate_patch_sizes(image, [16, 8], dpi=40)
    assert isinstance(html, str) and "<script" in html and html.count("data:image/jpeg") == 3  # 2 frames + frame 0 in the <img>
    assert len(html) < 200_000
    assert plt.get_fignums() == []  # the animation's figure is closed


def test_figure_to_png_closes(image):
    fig = plot_patch_grid(image, 16)
    png = figure_to_png(fig, dpi=30)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and not plt.fignum_exists(fig.number)


def test_patch_embedding_figure():
    torch.manual_seed(0)
    emb = vt.PatchEmbedding(3, 20, 4)
    patch = torch.rand(3, 4, 4)
    fig = _figure(plot_patch_embedding(patch, emb.proj.weight, emb.proj.bias, filters=(0, 7)))
    # the titles quote z[d] = filter d . patch + b[d], the conv's output at that patch
    z = emb(patch[None])[0, 0]
    assert f"{z[7].item():+.3f}" in fig.axes[2].get_title()
    _figure(plot_patch_embedding(torch.rand(1, 4, 4), torch.randn(5, 1, 4, 4), None, filters=[4]))
    with pytest.raises(ValueError, match="filters"):
        plot_patch_embedding(patch, emb.proj.weight, emb.proj.bias, filters=(20,))
    with pytest.raises(ValueError, match="patch"):
        plot_patch_embedding(torch.rand(3, 5, 5), emb.proj.weight)
    with pytest.raises(ValueError, match="bias"):
        plot_patch_embedding(patch, emb.proj.weight, torch.zeros(3))


def test_agreement_figure():
    a = torch.randn(100)
    fig = _figure(plot_agreement({"same": (a, a.clone()), "other": (a, a + 1)}, "a", "b"))
    assert "= 0" in fig.axes[0].get_title() and "= 1" in fig.axes[1].get_title()
    with pytest.raises(ValueError):
        plot_agreement({"x": (a, torch.randn(5))})
    with pytest.raises(ValueError):
        plot_agreement({})
    with pytest.raises(ValueError):
        plot_agreement({"x": a})


def test_token_sequence_figure(image):
    tokens = torch.randn(7, 12)  # N = 6 patches for P = 16, plus the class token
    fig = _figure(plot_token_sequence(image, 16, tokens, max_tokens=4))
    assert "class token" in fig.axes[0].get_title() and "patch 0" in fig.axes[1].get_title()
    with pytest.raises(ValueError, match="N \\+ 1"):
        plot_token_sequence(image, 16, torch.randn(6, 12))
    with pytest.raises(ValueError):
        plot_token_sequence(image, 16, tokens, max_tokens=1)


def test_position_similarity_values_and_figure():
    table = vt.sincos_2d_position_embedding(4, 16)  # (17, 16), class token row first
    sim = position_similarity(table)
    assert sim.shape == (16, 16)
    assert torch.allclose(sim.diagonal(), torch.ones(16), atol=1e-5)
    assert torch.allclose(sim, sim.T, atol=1e-6)
    # neighbours are more alike than far-apart patches
    assert sim[0, 1] > sim[0, 3] and sim[0, 4] > sim[0, 12]
    assert torch.allclose(position_similarity(table[None]), sim)
    assert position_similarity(table[1:], class_token=False).shape == (16, 16)
    _figure(plot_position_similarity(table))
    _figure(plot_position_similarity(vt.sincos_2d_position_embedding(6, 16), step=2, vmin=-1.0))
    with pytest.raises(ValueError, match="square"):
        plot_position_similarity(torch.randn(7, 8))
    with pytest.raises(ValueError):
        position_similarity(torch.randn(2, 5, 8))
    with pytest.raises(ValueError):
        plot_position_similarity(table, vmin=2.0)


def test_position_resize_figure():
    table = vt.sincos_2d_position_embedding(4, 16)[None]  # (1, 17, 16)
    resized = vt.resize_position_embedding(table, 6)  # (1, 37, 16)
    fig = _figure(plot_position_resize(table, resized, channels=(0, 5)))
    assert len(fig.axes) == 4
    with pytest.raises(ValueError, match="channels"):
        plot_position_resize(table, resized, channels=(16,))
    with pytest.raises(ValueError):
        plot_position_resize(table, torch.randn(1, 37, 8))
    with pytest.raises(ValueError, match="square"):
        plot_position_resize(table, torch.randn(1, 8, 16))


def test_pooling_comparison_figure():
    h = {"cls": [{"epoch": 1, "test_accuracy": 0.5}, {"epoch": 2, "test_accuracy": 0.6}],
         "mean": [{"epoch": 1, "test_accuracy": None}, {"epoch": 2, "test_accuracy": 0.7}]}
    fig = _figure(plot_pooling_comparison(h))
    lines = fig.axes[0].get_lines()
    assert [list(l.get_ydata()) for l in lines] == [[0.5, 0.6], [0.7]]
    with pytest.raises(ValueError):
        plot_pooling_comparison({})
    with pytest.raises(ValueError):
        plot_pooling_comparison({"x": [{"epoch": 1}]})


def test_pooling_comparison_groups_share_colours():
    run = [{"epoch": 1, "test_accuracy": 0.5}, {"epoch": 2, "test_accuracy": 0.6}]
    h = {"cls, seed 0": run, "cls, seed 1": run, "mean, seed 0": run}
    fig = _figure(plot_pooling_comparison(h, groups={"cls, seed 0": "cls", "cls, seed 1": "cls", "mean, seed 0": "mean"}))
    a, b, c = fig.axes[0].get_lines()[:3]
    assert a.get_color() == b.get_color() != c.get_color()
    assert a.get_linestyle() != b.get_linestyle()
    # the group with two runs gets a last-epoch mean +- sd marker; the single run does not
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "cls: last epoch, mean +- sd of 2" in labels and not any(t.startswith("mean: last") for t in labels)
    with pytest.raises(ValueError, match="groups"):
        plot_pooling_comparison(h, groups={"cls, seed 0": "cls"})


def test_position_similarity_ticks_count_from_zero():
    table = torch.randn(1, 1 + 16, 8)
    fig = _figure(plot_position_similarity(table))
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["0", "1", "2", "3"]


def test_position_resize_labels():
    table = torch.randn(1, 1 + 16, 8)
    fig = _figure(plot_position_resize(table, vt.resize_position_embedding(table, 6), channels=(1, 2),
                                       labels=["a", "b"]))
    assert fig.axes[0].get_title().endswith("a")
    with pytest.raises(ValueError, match="labels"):
        plot_position_resize(table, table, channels=(1, 2), labels=["a"])
