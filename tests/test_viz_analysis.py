"""Chapter 10's figures: they draw what they are given and reject bad input."""


import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from vit_tutorial.analysis import (
    attention_rollout,
    class_token_map,
    embedding_filter_components,
    position_embedding_similarity,
)
from vit_tutorial.viz import (
    animate_attention_sweep,
    plot_attention_distance,
    plot_attention_grid,
    plot_filter_components,
    plot_position_similarity_grid,
    plot_query_attention,
    plot_rollout_maps,
)

L, B, h, SIDE, P = 3, 2, 4, 4, 4
T = 1 + SIDE * SIDE


def attention(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(B, h, T, T, generator=g).softmax(-1) for _ in range(L)]


def digits():
    g = torch.Generator().manual_seed(1)
    return torch.rand(B, 1, SIDE * P, SIDE * P, generator=g)


def map_arrays(fig, shape):
    """The arrays of the images drawn on the figure's axes that have ``shape``."""
    return [im.get_array() for ax in fig.axes for im in ax.get_images() if im.get_array().shape == shape]


def test_attention_grid_draws_one_panel_per_layer_and_head():
    att = attention()
    fig = plot_attention_grid(digits()[1], att, index=1)
    assert isinstance(fig, Figure) and len(fig.axes) == L * (h + 1)
    maps = map_arrays(fig, (SIDE, SIDE))
    assert len(maps) == L * (h + 1)
    # panel (layer 1, head 2) shows the class token's row of image 1
    expected = class_token_map(att[1][1, 2], SIDE).numpy()
    np.testing.assert_allclose(maps[1 * (h + 1) + 2], expected, rtol=1e-6)
    np.testing.assert_allclose(maps[h], class_token_map(att[0][1].mean(0), SIDE).numpy(), rtol=1e-6)
    assert "class token" in fig._suptitle.get_text()
    fig = plot_attention_grid(digits()[0], att, query=1 + 5, include_mean=False)
    assert len(fig.axes) == L * h and "row 1, col 1" in fig._suptitle.get_text()
    rgb = plot_attention_grid(torch.rand(3, 16, 16), att)
    assert len(rgb.axes) == L * (h + 1)


def test_attention_grid_rejects_bad_input():
    att = attention()
    with pytest.raises(ValueError, match="1 or 3 channels"):
        plot_attention_grid(torch.rand(2, 16, 16), att)
    with pytest.raises(ValueError, match="multiple of 4"):
        plot_attention_grid(torch.rand(1, 18, 18), att)
    with pytest.raises(ValueError, match=r"index must be .* \[0, 1\]"):
        plot_attention_grid(digits()[0], att, index=2)
    with pytest.raises(ValueError, match="square grid"):
        plot_attention_grid(digits()[0], [torch.rand(1, 2, 11, 11).softmax(-1)])  # weights, so that only the grid is wrong
    with pytest.raises(ValueError, match="query"):
        plot_attention_grid(digits()[0], att, query=T)


def test_query_attention_shows_the_chosen_weights():
    att = attention()
    fig = plot_query_attention(digits()[0], att, layer=2, head=3, query=7)
    maps = map_arrays(fig, (SIDE, SIDE))
    assert len(maps) == 1
    np.testing.assert_allclose(maps[0], att[2][0, 3, 7, 1:].reshape(SIDE, SIDE).numpy(), rtol=1e-6)
    share = att[2][0, 3, 7, 0].item()
    assert f"{share:.0%} of it goes to the class token" in fig.axes[1].get_title()
    assert "patch (row 1, col 2)" in fig.axes[0].get_title()
    fig = plot_query_attention(digits()[1], att, layer=0, head=None, index=1)
    np.testing.assert_allclose(
        map_arrays(fig, (SIDE, SIDE))[0], att[0][1].mean(0)[0, 1:].reshape(SIDE, SIDE).numpy(), rtol=1e-6
    )
    assert "mean of heads" in fig.axes[1].get_title()
    with pytest.raises(ValueError, match=r"layer must be .* \[0, 2\]"):
        plot_query_attention(digits()[0], att, layer=3)
    with pytest.raises(ValueError, match=r"head must be .* \[0, 3\]"):
        plot_query_attention(digits()[0], att, layer=0, head=4)


def test_rollout_maps_one_row_per_kind():
    att = attention()
    images = digits()
    roll = class_token_map(attention_rollout(att), SIDE)
    last = class_token_map(att[-1].mean(1), SIDE)
    fig = plot_rollout_maps(images, {"rollout": roll, "last layer": last}, titles=["a", "b"])
    assert len(fig.axes) == 3 * B
    maps = map_arrays(fig, (SIDE, SIDE))
    assert len(maps) == 2 * B
    np.testing.assert_allclose(maps[0], roll[0].numpy(), rtol=1e-6)
    assert fig.axes[0].get_title() == "a"
    assert len(plot_rollout_maps(images, roll).axes) == 2 * B
    # five images, two per block: three blocks of (image, map) rows, one empty slot switched off
    five = torch.rand(5, 1, 16, 16)
    fig = plot_rollout_maps(five, torch.rand(5, SIDE, SIDE), max_cols=2)
    assert len(fig.axes) == 3 * 2 * 2
    assert sum(ax.axison for ax in fig.axes) == 10
    assert fig.axes[2 * 2].get_ylabel() == "image"  # first panel of the second block
    with pytest.raises(ValueError, match="one per image"):
        plot_rollout_maps(images, roll[:1])
    with pytest.raises(ValueError, match="titles"):
        plot_rollout_maps(images, roll, titles=["a"])
    with pytest.raises(ValueError, match="non-empty dict"):
        plot_rollout_maps(images, {})
    with pytest.raises(ValueError, match="does not tile"):
        plot_rollout_maps(images, torch.rand(B, 3, 3))


def test_attention_distance_scatter():
    d = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # (L=2, h=3)
    fig = plot_attention_distance(d, uniform=4.5, image_size=28)
    ax = fig.axes[0]
    points = np.concatenate([c.get_offsets() for c in ax.collections])
    assert points.shape == (6, 2)
    assert sorted(points[:, 1].tolist()) == [1, 2, 3, 4, 5, 6]
    # the dots of layer l sit near x = l
    assert np.all(np.abs(points[:, 0] - np.round(points[:, 0])) < 0.3)
    assert any(np.allclose(line.get_ydata(), 4.5) for line in ax.get_lines())
    assert ax.get_ylim() == (0, 28)
    fig = plot_attention_distance({"trained": d, "untrained": d / 2})
    assert [a.get_title() for a in fig.axes] == ["trained", "untrained"]
    with pytest.raises(ValueError, match=r"\(L, h\)"):
        plot_attention_distance(torch.rand(4))
    with pytest.raises(ValueError, match="uniform"):
        plot_attention_distance(d, uniform=-1.0)
    with pytest.raises(ValueError, match="non-empty dict"):
        plot_attention_distance([1, 2])


def test_position_similarity_grid():
    g = torch.Generator().manual_seed(0)
    sim = position_embedding_similarity(torch.randn(1, 1 + 12, 8, generator=g), (3, 4))
    fig = plot_position_similarity_grid(sim)
    maps = map_arrays(fig, (3, 4))
    assert len(maps) == 12
    np.testing.assert_allclose(maps[1 * 4 + 2], sim[1, 2].numpy(), rtol=1e-6)
    assert len(fig.axes) == 13  # 12 maps and the colour bar
    assert fig.axes[0].get_images()[0].get_clim() == (-1.0, 1.0)
    assert plot_position_similarity_grid(sim, vmin=0.0).axes[0].get_images()[0].get_clim() == (0.0, 1.0)
    with pytest.raises(ValueError, match=r"\(rows, cols, rows, cols\)"):
        plot_position_similarity_grid(sim.reshape(12, 12))
    with pytest.raises(ValueError, match=r"\(rows, cols, rows, cols\)"):
        plot_position_similarity_grid(torch.rand(3, 4, 4, 3))
    with pytest.raises(ValueError, match="vmin"):
        plot_position_similarity_grid(sim, vmin=1.0, vmax=0.0)


def test_filter_components_grid():
    comps, ratio = embedding_filter_components(torch.randn(32, 1, 4, 4), k=10)
    fig = plot_filter_components(comps, ratio, ncols=4)
    assert len(fig.axes) == 12  # 3 rows of 4, two left empty
    assert sum(1 for ax in fig.axes if ax.get_images()) == 10
    assert fig.axes[0].get_title() == f"PC 1\n{ratio[0].item():.1%}"
    np.testing.assert_allclose(fig.axes[3].get_images()[0].get_array(), comps[3, 0].numpy(), rtol=1e-6)
    rgb, _ = embedding_filter_components(torch.randn(64, 3, 4, 4), k=5)
    assert len(plot_filter_components(rgb).axes) == 5
    with pytest.raises(ValueError, match="1 or 3 channels"):
        plot_filter_components(torch.rand(5, 2, 4, 4))
    with pytest.raises(ValueError, match="entries for 10"):
        plot_filter_components(comps, ratio[:3])


def test_animation_has_one_frame_per_layer_and_head():
    html = animate_attention_sweep(digits(), attention(), dpi=30)
    assert html.count("data:image/jpeg;base64") == L * (h + 1) + 1  # + frame 0 in the <img>
    html = animate_attention_sweep(digits(), attention(), include_mean=False, max_images=1, dpi=30)
    assert html.count("data:image/jpeg;base64") == L * h + 1
    with pytest.raises(ValueError, match="B=2"):
        animate_attention_sweep(digits()[:1], attention())


def test_shared_colour_scales_and_deletion_curves():
    import matplotlib.pyplot as plt

    from vit_tutorial.viz.analysis import plot_attention_grid, plot_deletion_curves, plot_rollout_maps

    g = torch.Generator().manual_seed(0)
    image = torch.rand(1, 28, 28, generator=g)
    att = [torch.randn(1, 2, 17, 17, generator=g).softmax(-1) for _ in range(2)]
    for scale in ("row", "figure"):
        fig = plot_attention_grid(image, att, scale=scale)
        titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
        assert any("max " in t for t in titles)  # each panel prints its largest weight
        plt.close(fig)
    with pytest.raises(ValueError, match="scale must be one of"):
        plot_attention_grid(image, att, scale="global")
    maps = torch.rand(3, 4, 4, generator=g)
    fig = plot_rollout_maps(image.expand(3, 1, 28, 28), {"a": maps, "b": maps / 2}, scale="row")
    plt.close(fig)
    fig = plot_deletion_curves({"rollout": torch.linspace(1, 0, 17), "random": torch.rand(5, 17, generator=g)},
                               chance=0.1)
    ax = fig.axes[0]
    assert ax.get_ylim()[0] == 0 and len(ax.collections) == 1  # one band, for the 5 random curves
    plt.close(fig)
    with pytest.raises(ValueError, match="non-empty dict"):
        plot_deletion_curves({})
