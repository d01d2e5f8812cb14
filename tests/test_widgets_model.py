"""Chapters 6-8: the residual, loss and cost explorers, and the figure behind the first."""
import math

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

import vit_tutorial as vt
from vit_tutorial.flops import vit_flops
from vit_tutorial.viz import plot_token_similarity_depth
from vit_tutorial.widgets import (
    CostExplorer,
    LossExplorer,
    ResidualExplorer,
    cost_explorer,
    loss_explorer,
    residual_explorer,
)


def streams(L=3, T=10, D=8):
    torch.manual_seed(0)
    x = torch.randn(1, T, D)
    same = x[:, :1].expand(1, T, D)  # every token equal: similarity 1
    return {"kept": [x] * (L + 1), "collapsed": [x] + [same] * L}


def test_plot_token_similarity_depth():
    fig = plot_token_similarity_depth(streams(), block=2, shown="collapsed")
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    drawn = torch.tensor(fig.axes[0].images[0].get_array())
    assert drawn.shape == (9, 9) and torch.allclose(drawn, torch.ones(9, 9), atol=1e-6)
    curves = [line.get_ydata() for line in fig.axes[1].lines if len(line.get_ydata()) == 4]
    assert len(curves) == 2 and curves[1][1:].tolist() == pytest.approx([1.0] * 3)


@pytest.mark.parametrize("kwargs, match", [
    (dict(streams={}), "non-empty dict"),
    (dict(shown="nope"), "shown must be one of"),
    (dict(block=4), r"block must be an integer in \[0, 3\]"),
    (dict(streams={"a": [torch.randn(4, 8)] * 2, "b": [torch.randn(4, 8)] * 3}, shown="a"), "as many states"),
    (dict(streams={"a": [torch.randn(8)]}, shown="a", block=0), r"\(T, D\)"),
    (dict(vmin=1.0), r"vmin must be a number in \[-1, 1\)"),
])
def test_plot_token_similarity_depth_bad_input(kwargs, match):
    args = {"streams": streams(), "block": 1, "shown": "kept", **kwargs}
    with pytest.raises(ValueError, match=match):
        plot_token_similarity_depth(**args)


def test_residual_explorer_follows_the_controls():
    e = residual_explorer(streams())
    assert isinstance(e, ResidualExplorer) and (e.block.value, e.block.max, e.shown.value) == (3, 3, "kept")
    first = e.picture.value
    e.shown.value = "collapsed"
    second = e.picture.value
    e.block.value = 0
    assert len({first, second, e.picture.value}) == 3
    assert repr(e) == "ResidualExplorer(block=0, shown='collapsed')"
    assert plt.get_fignums() == []
    for bad, match in [(dict(block=9), "block"), (dict(shown="x"), "shown"), (dict(streams={"a": 3}), "dict")]:
        with pytest.raises(ValueError, match=match):
            ResidualExplorer(**{"streams": streams(), **bad})


def test_loss_explorer_follows_the_controls():
    logits = torch.tensor([0.5, -1.0, 2.0, 0.0])
    e = loss_explorer(logits, label=2, class_names=["a", "b", "c", "d"])
    assert isinstance(e, LossExplorer)
    plain = F.cross_entropy(logits[None], torch.tensor([2])).item()
    assert f"<b>{plain:.3f}</b>" in e.summary.value
    first = e.picture.value
    e.scale.value = 0.0  # every logit 0: the loss is log K
    assert f"<b>{math.log(4):.3f}</b> (log K = {math.log(4):.3f})" in e.summary.value and e.picture.value != first
    e.scale.value, e.smoothing.value = 16.0, 0.1
    q = torch.tensor([0.025, 0.025, 0.925, 0.025])
    floor = -(q * q.log()).sum().item()
    smoothed = F.cross_entropy(16 * logits[None], torch.tensor([2]), label_smoothing=0.1).item()
    assert f"<b>{smoothed:.3f}</b>" in e.summary.value and f"<b>{floor:.3f}</b>" in e.summary.value
    assert smoothed > floor
    assert repr(e) == "LossExplorer(scale=16, label=2, label_smoothing=0.1)"
    assert plt.get_fignums() == []


@pytest.mark.parametrize("kwargs, match", [
    (dict(logits=torch.zeros(2, 3)), r"\(K,\)"), (dict(label=4), r"\[0, 4\)"), (dict(class_names=["a"]), "one name"),
])
def test_loss_explorer_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LossExplorer(**{"logits": torch.zeros(4), **kwargs})


def test_cost_explorer_follows_the_controls():
    e = cost_explorer("ViT-B/16", patch_size=16, image_size=224)
    assert isinstance(e, CostExplorer) and "N = <b>196</b>" in e.summary.value
    assert "<b>86.6M</b> parameters" in e.summary.value  # 86,567,656 (chapter 8)
    first = e.picture.value
    e.image_size.value = 384
    assert "N = <b>576</b>" in e.summary.value and e.picture.value != first
    total = vit_flops(vt.vit_config("ViT-B/16", image_size=384))["total"]
    assert f"<b>{total / 1e9:,.1f}</b> GFLOPs" in e.summary.value
    e.patch_size.value = 14  # the image sizes follow P; the nearest one to 384 is kept
    assert e.image_size.value == 378 and all(s % 14 == 0 for s in e.image_size.options)
    assert repr(e) == "CostExplorer(size='ViT-B/16', patch_size=14, image_size=378)"
    assert e.config() == vt.vit_config("ViT-B/16", patch_size=14, image_size=378)
    assert plt.get_fignums() == []


@pytest.mark.parametrize("kwargs, match", [
    (dict(size="ViT-Tiny"), "size must be one of"), (dict(patch_size=10), "patch_size"),
    (dict(image_size=230), "multiple of patch_size"),
])
def test_cost_explorer_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CostExplorer(**kwargs)
