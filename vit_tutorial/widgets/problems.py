"""Explorer for chapter 11: a trained ViT at other test resolutions. A thin
wrapper over :func:`vit_tutorial.viz.problems.plot_resolution_samples`.

The notebook computes the accuracies and the predictions (they need the
model); the explorer only redraws the figure for the chosen size and mode.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import ipywidgets as widgets

from .._checks import check_positive_int
from ..viz.patches import figure_to_png
from ..viz.problems import check_resolution_args, plot_resolution_samples
from ._layout import DPI, ExplorerBox, picture

__all__ = ["resolution_explorer"]

_MODE_LABELS = {"resize": "digits enlarged", "pad": "bigger canvas"}


def resolution_explorer(
    rows: Sequence[Mapping],
    samples: Mapping[tuple[str, int], Mapping],
    patch_size: int = 7,
    train_size: int = 28,
    size: int | None = None,
    mode: str | None = None,
    dpi: int = DPI,
) -> widgets.VBox:
    """Pick a test mode ("resize": the digits enlarged, "pad": the same digits
    on a bigger canvas) and an image side; see some digits at that size with
    the model's predictions, and the accuracy at every size.

    Args:
        rows: dicts with ``model``, ``mode``, ``size``, ``test_accuracy``.
        samples: ``{(mode, size): {"images", "labels", "predictions"}}``, as for
            :func:`~vit_tutorial.viz.problems.plot_resolution_samples`; the
            sizes of each mode are the keys with that mode.
        patch_size: P.
        train_size: the training resolution.
        size: the side shown first (default: ``train_size`` if the first mode
            has it, else its smallest side).
        mode: the mode shown first (default: the first mode of ``samples``).
        dpi: resolution of the figure.

    Returns:
        A ``VBox`` with the controls on top and the figure below. Its
        ``controls`` attribute maps "mode" and "size" to the control widgets,
        and ``figure`` is the ``ipywidgets.Image``.
    """
    check_positive_int(dpi, "dpi")
    sizes, start, mode, size = _first_view(rows, samples, patch_size, train_size, size, mode)
    modes = list(sizes)

    controls = _controls(modes, sizes, mode, size)
    figure = picture()

    def redraw(_=None) -> None:
        fig = plot_resolution_samples(rows, samples, controls["size"].value, controls["mode"].value,
                                      patch_size=patch_size, train_size=train_size)
        figure.value = figure_to_png(fig, dpi=dpi)

    def change_mode(change) -> None:
        mode, size = change["new"], controls["size"].value
        controls["size"].unobserve(redraw, names="value")  # one redraw, not one per trait
        controls["size"].options = sizes[mode]
        controls["size"].value = size if size in sizes[mode] else start[mode]
        controls["size"].observe(redraw, names="value")
        redraw()

    controls["mode"].observe(change_mode, names="value")
    controls["size"].observe(redraw, names="value")
    redraw()
    box = ExplorerBox([widgets.HBox([controls["mode"], controls["size"]]), figure], "Resolution explorer")
    box.controls = controls
    box.figure = figure
    return box


def _controls(modes: list[str], sizes: dict[str, list[int]], mode: str, size: int) -> dict[str, widgets.Widget]:
    style = {"description_width": "initial"}
    return {
        "mode": widgets.ToggleButtons(options=[(_MODE_LABELS.get(m, m), m) for m in modes], value=mode,
                                      description="test images", style=style),
        "size": widgets.SelectionSlider(options=sizes[mode], value=size,
                                        description="side (px)", style=style, continuous_update=False),
    }


def _first_view(rows: Sequence[Mapping], samples: Mapping, patch_size: int, train_size: int, size: int | None,
                mode: str | None) -> tuple[dict[str, list[int]], dict[str, int], str, int]:
    """Check the arguments of :func:`resolution_explorer` once, up front.

    Returns:
        ``(sizes, start, mode, size)``: the sorted sides of each mode (in the
        order of ``samples``), the side each mode starts at, and the mode and
        side shown first.
    """
    if not isinstance(samples, Mapping) or not samples:
        raise ValueError("samples must be a non-empty dict {(mode, size): {'images', 'labels', 'predictions'}}")
    modes = list(dict.fromkeys(key[0] for key in samples if isinstance(key, tuple) and len(key) == 2))
    if not modes:
        raise ValueError(f"the keys of samples must be (mode, size) pairs, got {list(samples)[:3]!r}")
    sizes = {m: sorted(s for mode, s in samples if mode == m) for m in modes}
    start = {m: (train_size if train_size in sizes[m] else sizes[m][0]) for m in modes}
    for m in modes:  # check everything once, up front
        check_resolution_args(rows, samples, start[m], m, patch_size, train_size)
    mode = modes[0] if mode is None else mode
    if mode not in modes:
        raise ValueError(f"mode must be one of the modes of samples {modes}, got {mode!r}")
    size = start[mode] if size is None else size
    if size not in sizes[mode]:
        raise ValueError(f"size must be one of the sides of mode {mode!r} in samples {sizes[mode]}, got {size!r}")
    return sizes, start, mode, size
