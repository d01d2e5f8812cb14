"""The training chapter's figures: they draw what they are given and reject bad input."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from vit_tutorial.train import TrainConfig
from vit_tutorial.viz import (
    plot_accuracy_runs,
    plot_augmentation,
    plot_confusion_matrix,
    plot_dataset_samples,
    plot_lr_schedule,
    plot_misclassified,
    plot_training_curves,
)


def history(n=5, offset=0.0):
    return [
        {"epoch": e, "train_loss": 2.0 / e, "test_loss": 2.1 / e + offset, "train_accuracy": 0.5 + 0.09 * e,
         "test_accuracy": (0.5 + 0.08 * e) if e % 2 or e == n else None}
        for e in range(1, n + 1)
    ]


def test_training_curves_one_and_two_runs():
    fig = plot_training_curves(history())
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    loss_ax, acc_ax = fig.axes
    assert len(loss_ax.lines) == 2 and len(acc_ax.lines) == 2
    test_acc = acc_ax.lines[1]
    assert list(test_acc.get_xdata()) == [1, 3, 5]  # epochs without evaluation are skipped
    assert np.allclose(test_acc.get_ydata(), [42, 26, 10])  # error rate in percent
    fig = plot_training_curves({"ViT": history(), "CNN": history(offset=0.1)}, title="two runs")
    assert len(fig.axes[0].lines) == 4
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert labels == ["ViT train", "ViT test", "CNN train", "CNN test"]


def test_confusion_matrix_figure_counts():
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 2])
    preds = torch.tensor([0, 1, 1, 1, 2, 0, 2])
    fig = plot_confusion_matrix(labels, preds, num_classes=3)
    ax = fig.axes[0]
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == sorted(["1", "1", "2", "1", "2"])  # the non-zero cells
    assert "71.4% correct (2 errors)" in ax.get_title()


def test_misclassified_shows_the_mistakes_most_confident_first():
    images = torch.rand(6, 1, 8, 8)
    labels = torch.tensor([0, 1, 2, 3, 4, 5])
    logits = torch.zeros(6, 6)
    logits[torch.arange(6), labels] = 5.0  # all right ...
    logits[1] = torch.tensor([0.0, 0, 0, 9, 0, 0])  # ... except image 1 (very sure it is a 3)
    logits[4] = torch.tensor([0.0, 2, 0, 0, 0, 0])  # ... and image 4 (less sure it is a 1)
    fig = plot_misclassified(images, labels, logits)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles[0].startswith("1 \u2192 3") and titles[1].startswith("4 \u2192 1") and len(titles) == 2
    logits = torch.eye(6) * 5
    fig = plot_misclassified(images, labels, logits)
    assert fig.axes[0].texts[0].get_text() == "no mistakes"


def test_samples_shift_and_schedule():
    images = torch.rand(40, 1, 8, 8)
    labels = torch.arange(40) % 10
    fig = plot_dataset_samples(images, labels, per_class=3)
    assert len(fig.axes) == 30 and [fig.axes[c].get_title() for c in range(10)] == [str(c) for c in range(10)]
    fig = plot_augmentation(images[0], max_shift=1, copies=4)  # shift only
    assert len(fig.axes) == 5
    fig = plot_lr_schedule(TrainConfig(epochs=4, lr=1e-3, warmup_epochs=1), steps_per_epoch=10)
    y = fig.axes[0].lines[0].get_ydata()
    assert len(y) == 40 and max(y) == pytest.approx(1e-3)


def test_accuracy_runs():
    fig = plot_accuracy_runs({"a": [0.5, 0.9, 0.99], "b": [0.2, 0.6]}, title="t", target=0.98)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines[:2]] == ["a", "b"]
    assert np.allclose(ax.lines[0].get_ydata(), [50, 10, 1])
    assert ax.lines[2].get_ydata()[0] == pytest.approx(2.0)  # the target line
    with pytest.raises(ValueError, match="accuracies in \\[0, 1\\]"):
        plot_accuracy_runs({"a": [95.0]})


def test_bad_input():
    with pytest.raises(ValueError, match="list of per-epoch dicts"):
        plot_training_curves("history")
    with pytest.raises(ValueError, match="'epoch' key"):
        plot_training_curves([{"loss": 1.0}])
    with pytest.raises(ValueError, match=r"\(n, 1, H, W\)"):
        plot_dataset_samples(torch.rand(4, 3, 8, 8), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="1-D tensor of 4 class indices"):
        plot_dataset_samples(torch.rand(4, 1, 8, 8), torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match=r"logits must be a tensor \(n, classes\)"):
        plot_misclassified(torch.rand(4, 1, 8, 8), torch.zeros(4, dtype=torch.long), torch.zeros(3, 10))
    with pytest.raises(ValueError, match="must lie in 0..2"):
        plot_confusion_matrix(torch.tensor([0, 5]), torch.tensor([0, 1]), num_classes=3)
    with pytest.raises(ValueError, match=r"\(1, H, W\)"):
        plot_augmentation(torch.rand(8, 8))
    with pytest.raises(ValueError, match="TrainConfig"):
        plot_lr_schedule({"lr": 1e-3}, 10)


def test_seed_bands_and_arm_errors():
    import matplotlib.pyplot as plt

    from vit_tutorial.viz.training import plot_arm_errors, plot_seed_bands

    accs = [[0.5, 0.9, 0.95], [0.6, 0.92, 0.96], [0.55, 0.91, 0.97]]
    fig = plot_seed_bands({"ViT": accs, "CNN": [[0.9, 0.98, 0.99]] * 3}, target=0.98)
    ax = fig.axes[0]
    assert ax.get_ylim()[0] == 0 and len(ax.collections) == 2  # one band per run
    plt.close(fig)
    fig = plot_arm_errors({"a": [0.95, 0.96, 0.97], "b": [0.99, 0.985, 0.99]}, se={"a": 0.006})
    assert fig.axes[0].get_ylim()[0] == 0
    plt.close(fig)
    with pytest.raises(ValueError, match=r"accuracies in \[0, 1\]"):
        plot_arm_errors({"a": [95.0, 96.0]})
    with pytest.raises(ValueError, match="non-empty dict"):
        plot_seed_bands({})
