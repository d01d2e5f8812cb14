"""The model map of chapter 1 (vit_tutorial.viz.overview)."""

import matplotlib.pyplot as plt
import pytest
import torch

import vit_tutorial as vt
from vit_tutorial.viz import model_map_steps, plot_model_map


def test_steps_match_a_real_forward_pass():
    """The shapes in the map are the shapes the package's ViT produces."""
    torch.manual_seed(0)
    cfg = vt.vit_config("ViT-Tiny")  # 28x28, C=1
    model = vt.ViT(cfg).eval()
    steps = model_map_steps(cfg.image_size, cfg.patch_size, cfg.in_channels, cfg.dim, cfg.depth,
                            cfg.num_classes, batch=2)
    images = torch.rand(2, cfg.in_channels, cfg.image_size, cfg.image_size)
    with torch.no_grad():
        patches = vt.patchify(images, cfg.patch_size)
        tokens = model.embed(images)
        features = model.forward_features(images)
        logits = model(images)
    assert steps[0].shape == tuple(images.shape)
    assert steps[1].shape == tuple(patches.shape)
    assert steps[4].shape == tuple(tokens.shape) == steps[3].shape
    assert steps[5].shape == tuple(features.shape)
    assert steps[7].shape == tuple(logits.shape)
    assert [s.chapter for s in steps] == ["1", "1", "2", "3", "4", "5–6", "7", "7"]


def test_article_shapes_for_vit_b16():
    steps = model_map_steps()
    assert [s.shape for s in steps] == [(1, 3, 224, 224), (1, 196, 768), (1, 196, 768), (1, 197, 768),
                                        (1, 197, 768), (1, 197, 768), (1, 768), (1, 1000)]
    assert steps[0].article == "224×224×3"
    assert steps[2].article == "14×14×768 → 196×768"
    assert steps[4].article == "+ 1×197×768"


def test_plot_model_map_draws_every_step():
    fig = plot_model_map()
    texts = [t.get_text() for t in fig.axes[0].texts]
    for s in model_map_steps():
        assert s.symbolic in texts
        assert "(" + ", ".join(map(str, s.shape)) + ")" in texts
    assert "N = HW/P² = 196" in fig._suptitle.get_text()
    plt.close(fig)


@pytest.mark.parametrize("bad", [dict(image_size=225), dict(patch_size=0), dict(dim=2.5), dict(batch=True)])
def test_bad_sizes_raise(bad):
    with pytest.raises(ValueError):
        model_map_steps(**bad)
