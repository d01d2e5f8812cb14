"""Chapter 5's figures and the hand-set attention heads behind them."""


import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from vit_tutorial.images import load_photo
from vit_tutorial.viz import (
    HEAD_NAMES,
    animate_head_attention,
    handcrafted_attention,
    patch_features,
    plot_attention_matrices,
    plot_attention_memory,
    plot_head_attention,
    plot_head_split,
)
from vit_tutorial.viz.attention import DEFAULT_SHARPNESS


@pytest.fixture(scope="module")
def photo():
    return load_photo("astronaut", 64)  # (3, 64, 64): a 4 x 4 grid with P = 16


@pytest.fixture(scope="module")
def weights(photo):
    demo = handcrafted_attention(photo, 16)
    with torch.no_grad():
        out, w = demo.layer(demo.tokens, return_attention=True)
    return out, w[0], demo


def test_handcrafted_heads_score_minus_squared_distance(photo, weights):
    out, w, demo = weights
    assert demo.tokens.shape == (1, 16, 24) and w.shape == (4, 16, 16) and demo.grid == (4, 4)
    assert demo.head_names == HEAD_NAMES
    feats = patch_features(photo, 16)
    for k, name in enumerate(HEAD_NAMES):
        f = feats[name]  # (N, 5)
        expected = (-DEFAULT_SHARPNESS[k] * torch.cdist(f, f).pow(2)).softmax(-1)  # (N, N)
        assert (w[k] - expected).abs().max() < 1e-4, name
        # each patch is closest to itself, so it gives itself the largest weight
        assert torch.equal(w[k].diagonal(), w[k].amax(-1))
    # identity values and output projection: each head returns the mean of the features it attends to
    values = demo.tokens[0].reshape(16, 4, 6).transpose(0, 1)  # (h, N, d)
    assert (out[0].reshape(16, 4, 6).transpose(0, 1) - w @ values).abs().max() < 1e-4


def test_position_head_is_local_and_sharpness_sharpens(photo, weights):
    _, w, _ = weights
    row = w[1, 5].reshape(4, 4)  # query patch (1, 1)
    assert row[1, 1] > row[1, 2] > row[1, 3]  # falls off with distance along the row
    assert row[1, 2] == pytest.approx(row[2, 1].item(), rel=1e-4)  # same distance, same weight
    demo = handcrafted_attention(photo, 16, sharpness=20.0)
    with torch.no_grad():
        _, sharp = demo.layer(demo.tokens, return_attention=True)
    assert sharp[0, 1, 5, 5] > w[1, 5, 5]


def test_features_are_centred_and_scaled(photo):
    feats = patch_features(photo, 16)
    assert list(feats) == list(HEAD_NAMES)
    for name in ("colour", "position", "texture"):
        f = feats[name]
        assert f.shape == (16, 5)
        assert f.mean(0).abs().max() < 1e-5
        assert f.pow(2).sum(1).mean() == pytest.approx(1.0, abs=1e-4)


def test_figures(photo, weights):
    _, w, demo = weights
    fig = plot_head_attention(photo, w, (1, 2), 16, demo.head_names)
    assert isinstance(fig, Figure) and len([a for a in fig.axes if a.axison]) == 5
    assert "head 1: position" in fig.axes[2].get_title()
    plt.close(fig)
    with_cls = torch.full((2, 17, 17), 1 / 17)  # T = N + 1: class token first
    fig = plot_head_attention(photo, with_cls, (0, 0), 16, heads=[1])
    assert "class token 6%" in fig.axes[1].get_title()
    plt.close(fig)
    fig = plot_attention_matrices(w, demo.head_names)
    assert "16 x 16 matrix = 256 weights" in fig._suptitle.get_text()
    plt.close(fig)
    fig = plot_attention_matrices(w, demo.head_names, heads=[0, 1, 2], ncols=2)  # 2 x 2 grid, one slot empty
    assert [a.get_title() for a in fig.axes[:3]] == ["head 0: colour", "head 1: position", "head 2: texture"]
    assert not fig.axes[3].axison
    plt.close(fig)
    fig = plot_head_split(5, 12, 3)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("(3, 5, 4)" in t for t in texts) and {"Q", "K", "V", "q", "k", "v"} <= set(texts)
    white = [p for p in fig.axes[0].patches if isinstance(p, Rectangle) and p.get_facecolor()[:3] == (1.0, 1.0, 1.0)]
    assert len(white) == 3 * 5 * 5  # only the h (T, T) weight blocks are drawn unfilled
    plt.close(fig)
    fig = plot_attention_memory(224, (32, 16), heads=12)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert "1.8 MiB" in labels and "117 KiB" in labels  # 12 x 197^2 x 4 B, 12 x 50^2 x 4 B
    plt.close(fig)
    html = animate_head_attention(photo, w, [(0, 0), (3, 3)], 16, demo.head_names, heads=[0, 1], dpi=30)
    assert isinstance(html, str) and "<script" in html and html.count("data:image/jpeg") == 2 + 1  # + frame 0 in the <img>
    assert not plt.get_fignums()


def test_bad_input(photo, weights, raises_with):
    _, w, _ = weights
    with raises_with(ValueError, "(3, H, W)", "(1, 64, 64)"):
        patch_features(photo[:1], 16)
    with raises_with(ValueError, "height 64", "24"):
        patch_features(photo, 24)
    with raises_with(ValueError, "torch.Tensor", "list"):
        handcrafted_attention([1, 2], 16)
    with raises_with(ValueError, "4 positive numbers", "(1.0, 2.0)"):
        handcrafted_attention(photo, 16, sharpness=(1.0, 2.0))
    with raises_with(ValueError, "positive", "-1.0"):
        handcrafted_attention(photo, 16, sharpness=-1.0)
    with raises_with(ValueError, "4 x 4 grid", "(4, 0)"):
        plot_head_attention(photo, w, (4, 0), 16)
    with raises_with(ValueError, "T = 16", "N = 64"):
        plot_head_attention(photo, w, (0, 0), 8)
    with raises_with(ValueError, "(h, T, T)", "(16, 16)"):
        plot_head_attention(photo, w[0], (0, 0), 16)
    with raises_with(ValueError, "one name per head (4)", "1"):
        plot_head_attention(photo, w, (0, 0), 16, head_names=["a"])
    with raises_with(ValueError, "[0, 4)", "[4]"):
        plot_head_attention(photo, w, (0, 0), 16, heads=[4])
    with raises_with(ValueError, "non-empty", "[]"):
        plot_attention_matrices(w, heads=[])
    with raises_with(ValueError, "ncols", "0"):
        plot_attention_matrices(w, ncols=0)
    with raises_with(ValueError, "dim 12", "heads 5"):
        plot_head_split(5, 12, 5)
    with raises_with(ValueError, "at most 12 tokens", "T=30"):
        plot_head_split(30, 12, 3)
    with raises_with(ValueError, "non-empty", "[]"):
        plot_attention_memory(224, [])
    with raises_with(ValueError, "224", "15"):
        plot_attention_memory(224, (15,))
    with raises_with(ValueError, "non-empty", "[]"):
        animate_head_attention(photo, w, [], 16)
