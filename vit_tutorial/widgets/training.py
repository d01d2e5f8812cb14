"""Explorers for chapter 9: the learning-rate schedule and the augmentation.
Thin wrappers over :func:`vit_tutorial.viz.plot_lr_schedule` and
:func:`vit_tutorial.viz.plot_augmentation`.
"""
from __future__ import annotations

import ipywidgets as widgets
import torch

from .._checks import check_positive_int
from ..training import TrainConfig
from ..viz.patches import figure_to_png
from ..viz.training import plot_augmentation, plot_lr_schedule
from ._layout import DPI, picture

__all__ = ["ScheduleExplorer", "schedule_explorer", "AugmentationExplorer", "augmentation_explorer"]

_WIDE = dict(style={"description_width": "initial"}, layout=widgets.Layout(width="360px"))


class ScheduleExplorer(widgets.VBox):
    """Sliders for the epochs, the warm-up, the batch size and the peak
    learning rate above the schedule that ``fit`` would follow.

    Args:
        config: the recipe shown first (e.g. the bundled checkpoint's).
        train_images: images in the training split (sets the steps per epoch).
        dpi: resolution of the picture.
    """

    def __init__(self, config: TrainConfig | None = None, train_images: int = 4000, dpi: int = DPI) -> None:
        config = TrainConfig() if config is None else config
        if not isinstance(config, TrainConfig):
            raise ValueError(f"config must be a TrainConfig or None, got {type(config).__name__}")
        self.train_images = check_positive_int(train_images, "train_images")
        self.dpi = check_positive_int(dpi, "dpi")
        self.base = config
        if not 1e-4 <= config.lr <= 10**-1.5 or config.warmup_epochs > 10.0:
            raise ValueError(
                f"the explorer's sliders span lr 1e-4 to {10**-1.5:.3g} and warm-up 0 to 10 epochs, got lr {config.lr:g} "
                f"and warmup_epochs {config.warmup_epochs:g}; it would not show the recipe it was given"
            )
        batches = sorted({16, 32, 64, 128, 256, 512, config.batch_size})
        self.epochs = widgets.IntSlider(value=config.epochs, min=1, max=max(60, config.epochs), description="epochs",
                                        continuous_update=False, **_WIDE)
        self.warmup = widgets.FloatSlider(value=config.warmup_epochs, min=0.0, max=10.0, step=0.5,
                                          description="warm-up epochs", continuous_update=False, **_WIDE)
        self.batch = widgets.SelectionSlider(options=batches, value=config.batch_size, description="batch size",
                                             continuous_update=False, **_WIDE)
        self.lr = widgets.FloatLogSlider(value=config.lr, base=10, min=-4, max=-1.5, step=0.25,
                                         description="peak learning rate", readout_format=".1e",
                                         continuous_update=False, **_WIDE)
        self.summary = widgets.HTML()
        self.picture = picture("560px")
        controls = widgets.VBox([widgets.HBox([self.epochs, self.warmup]), widgets.HBox([self.batch, self.lr])])
        super().__init__([controls, self.summary, self.picture])
        for w in (self.epochs, self.warmup, self.batch, self.lr):
            w.observe(self.update, names="value")
        self.update()

    def __repr__(self) -> str:
        return (f"ScheduleExplorer(epochs={self.epochs.value}, warmup_epochs={self.warmup.value:g}, "
                f"batch_size={self.batch.value}, lr={self.lr.value:.1e})")

    def config(self) -> TrainConfig:
        """The recipe the sliders describe."""
        warmup = min(self.warmup.value, float(self.epochs.value))
        return TrainConfig.from_dict({**self.base.to_dict(), "epochs": self.epochs.value, "warmup_epochs": warmup,
                                      "batch_size": self.batch.value, "lr": self.lr.value})

    def update(self, change: object = None) -> None:
        """Redraw the schedule for the current sliders."""
        c = self.config()
        steps = -(-self.train_images // c.batch_size)
        self.summary.value = (f"{self.train_images:,} images / batch {c.batch_size} = <b>{steps}</b> steps per epoch; "
                              f"<b>{steps * c.epochs:,}</b> steps in all, of which "
                              f"<b>{round(c.warmup_epochs * steps):,}</b> warm up.")
        self.picture.value = figure_to_png(plot_lr_schedule(c, steps), self.dpi)


def schedule_explorer(config: TrainConfig | None = None, train_images: int = 4000) -> ScheduleExplorer:
    """Build a :class:`ScheduleExplorer` (display it as a cell's last value)."""
    return ScheduleExplorer(config, train_images)


class AugmentationExplorer(widgets.VBox):
    """Pick a training digit and the strength of each augmentation; see the
    copies that ``fit`` would train on, with the patch borders drawn.

    Args:
        images: (n, 1, H, W) the images to choose from.
        patch_size: P, for the patch borders (None: no borders).
        copies: augmented versions shown.
        dpi: resolution of the picture.
    """

    def __init__(self, images: torch.Tensor, patch_size: int | None = 7, copies: int = 5, dpi: int = DPI) -> None:
        if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 1 or images.shape[0] == 0:
            got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            raise ValueError(f"images must be a non-empty tensor of grey images (n, 1, H, W), got {got}")
        if patch_size is not None:
            check_positive_int(patch_size, "patch_size")
        self.images, self.patch_size = images, patch_size
        self.copies = check_positive_int(copies, "copies")
        self.dpi = check_positive_int(dpi, "dpi")
        self.index = widgets.IntSlider(value=0, min=0, max=images.shape[0] - 1, description="image",
                                       continuous_update=False, **_WIDE)
        self.shift = widgets.IntSlider(value=1, min=0, max=4, description="max shift (px)", continuous_update=False, **_WIDE)
        self.rotation = widgets.FloatSlider(value=0.0, min=0.0, max=30.0, step=5.0, description="max rotation (\u00b0)",
                                            continuous_update=False, **_WIDE)
        self.scale = widgets.FloatSlider(value=0.0, min=0.0, max=0.3, step=0.05, description="max scale change",
                                         continuous_update=False, **_WIDE)
        self.seed = widgets.IntSlider(value=0, min=0, max=20, description="seed", continuous_update=False, **_WIDE)
        self.picture = picture()
        controls = widgets.VBox([widgets.HBox([self.index, self.seed]), widgets.HBox([self.shift, self.rotation]),
                                 self.scale])
        super().__init__([controls, self.picture])
        for w in (self.index, self.shift, self.rotation, self.scale, self.seed):
            w.observe(self.update, names="value")
        self.update()

    def __repr__(self) -> str:
        return (f"AugmentationExplorer(image={self.index.value}, max_shift={self.shift.value}, "
                f"max_rotation={self.rotation.value:g}, max_scale={self.scale.value:g})")

    def update(self, change: object = None) -> None:
        """Redraw the copies for the current settings."""
        fig = plot_augmentation(self.images[self.index.value], self.shift.value, self.rotation.value, self.scale.value,
                                self.copies, self.seed.value, self.patch_size)
        self.picture.value = figure_to_png(fig, self.dpi)


def augmentation_explorer(images: torch.Tensor, patch_size: int | None = 7) -> AugmentationExplorer:
    """Build an :class:`AugmentationExplorer` (display it as a cell's last value)."""
    return AugmentationExplorer(images, patch_size)
