"""Chapter 9's figures of the augmentation, its animation and its two explorers."""
import re

import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.figure import Figure

from vit_tutorial.data import random_shift
from vit_tutorial.train import TrainConfig
from vit_tutorial.viz import animate_augmentation, plot_augmentation
from vit_tutorial.viz.training import _augmented_copies
from vit_tutorial.widgets import AugmentationExplorer, ScheduleExplorer, augmentation_explorer, schedule_explorer


def digit():
    x = torch.zeros(1, 14, 14)
    x[0, 4:10, 6:8] = 1.0  # a vertical bar
    return x


def test_copies_are_what_fit_trains_on():
    x, copies = _augmented_copies(digit(), 1, 0.0, 0.0, copies=4, seed=3)
    expected = random_shift(digit()[None].expand(4, -1, -1, -1).contiguous(), 1, torch.Generator().manual_seed(3))
    assert torch.equal(copies, expected) and torch.equal(x, digit())
    _, none = _augmented_copies(digit(), 0, 0.0, 0.0, copies=3, seed=0)
    assert torch.equal(none, digit()[None].expand(3, -1, -1, -1))  # nothing asked, nothing changed
    _, turned = _augmented_copies(digit(), 0, 30.0, 0.0, copies=3, seed=0)
    assert not torch.equal(turned[0], digit())  # rotation goes through random_affine


@pytest.mark.parametrize("kwargs", [dict(), dict(max_shift=2, patch_size=7), dict(max_rotation=10, max_scale=0.1)])
def test_plot_augmentation(kwargs):
    fig = plot_augmentation(digit(), copies=3, **kwargs)
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    lines = len(fig.axes[0].lines)
    assert lines == (2 if kwargs.get("patch_size") else 0)  # one inner border per axis for 14 px / 7 px patches


def test_animation_is_offline_html():
    html = animate_augmentation(digit(), shifts=(0, 2), copies=2, patch_size=7, dpi=30)
    assert "<script" in html and "font-awesome" not in html
    assert re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html) is None  # nothing fetched from the web
    assert html.count("data:image/png;base64") == 2 + 1  # one frame per shift, + frame 0 in the <img>
    assert plt.get_fignums() == []


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: plot_augmentation(torch.zeros(3, 8, 8)), r"\(1, H, W\)"),
        (lambda: plot_augmentation(digit(), max_shift=1.5), "whole number"),
        (lambda: plot_augmentation(digit(), max_rotation=200), "augment_rotation"),
        (lambda: plot_augmentation(digit(), max_scale=1.0), "augment_scale"),
        (lambda: plot_augmentation(digit(), patch_size=0), "patch_size"),
        (lambda: animate_augmentation(digit(), shifts=()), "non-empty sequence"),
        (lambda: animate_augmentation(digit(), shifts=(1, -1)), "max_shift"),
    ],
)
def test_augmentation_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_schedule_explorer_follows_the_sliders():
    e = schedule_explorer(TrainConfig(epochs=30, batch_size=64, warmup_epochs=2.0), train_images=4000)
    assert isinstance(e, ScheduleExplorer) and e.picture.value[:4] == b"\x89PNG"
    assert "<b>63</b> steps per epoch" in e.summary.value and "<b>1,890</b> steps" in e.summary.value
    first = e.picture.value
    e.batch.value = 128
    assert "<b>32</b> steps per epoch" in e.summary.value and e.picture.value != first
    e.epochs.value, e.warmup.value = 1, 5.0  # a warm-up longer than the run is cut to the run
    assert e.config().warmup_epochs == 1.0
    assert repr(e).startswith("ScheduleExplorer(epochs=1, warmup_epochs=5")
    assert plt.get_fignums() == []
    with pytest.raises(ValueError, match="TrainConfig"):
        ScheduleExplorer(config={"epochs": 3})
    with pytest.raises(ValueError, match="train_images"):
        ScheduleExplorer(train_images=0)


def test_augmentation_explorer_follows_the_sliders():
    images = torch.stack([digit(), digit().flip(-1)])
    e = augmentation_explorer(images, patch_size=7)
    assert isinstance(e, AugmentationExplorer) and e.index.max == 1
    first = e.picture.value
    e.shift.value = 3
    assert e.picture.value != first
    e.rotation.value = 10.0
    assert repr(e) == "AugmentationExplorer(image=0, max_shift=3, max_rotation=10, max_scale=0)"
    assert plt.get_fignums() == []
    with pytest.raises(ValueError, match=r"\(n, 1, H, W\)"):
        AugmentationExplorer(torch.zeros(2, 3, 8, 8))
