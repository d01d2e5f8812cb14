"""Figures of chapters 11 and 12: they draw what they are given, the grid
diagrams agree with the window code, and bad input raises ValueError."""
import json

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import vit_tutorial as vt
from vit_tutorial.viz import problems as vp

import resolution_data  # tests/resolution_data.py


def _hunger_rows():
    rows = []
    for seed in (0, 1):
        for n, vit, cnn in ((400, 0.5, 0.9), (4000, 0.9, 0.98)):
            rows.append({"model": "ViT", "train_images": n, "test_accuracy": vit + 0.01 * seed, "seed": seed})
            rows.append({"model": "CNN", "train_images": n, "test_accuracy": cnn, "seed": seed})
    return rows


def test_summarise_runs_means_and_stds():
    stats = vp.summarise_runs(_hunger_rows(), ["model", "train_images"])
    vit400 = next(s for s in stats if s["model"] == "ViT" and s["train_images"] == 400)
    assert vit400["runs"] == 2
    assert vit400["mean"] == pytest.approx(0.505)
    assert vit400["std"] == pytest.approx(np.std([0.5, 0.51], ddof=1))
    cnn = next(s for s in stats if s["model"] == "CNN" and s["train_images"] == 4000)
    assert cnn["std"] == 0.0


def test_plot_data_hunger_draws_the_means():
    fig = vp.plot_data_hunger(_hunger_rows(), title="t")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    ys = sorted(tuple(np.round(line.get_ydata(), 3)) for line in ax.get_lines() if len(line.get_ydata()) == 2)
    assert (50.5, 90.5) in ys and (90.0, 98.0) in ys


def test_plot_locality_and_variants():
    rows = [{"patch_size": P, "kind": k, "tokens": (28 // P) ** 2, "test_accuracy": a}
            for k in ("patch embedding", "conv stem") for P, a in ((4, 0.9), (7, 0.85), (14, 0.6))]
    fig = vp.plot_locality(rows)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["P = 4\nN = 49", "P = 7\nN = 16", "P = 14\nN = 4"]
    rows = [{"model": m, "test_accuracy": 0.9, "parameters": 1000 * (i + 1), "flops": 1e6} for i, m in enumerate("ABC")]
    fig = vp.plot_variants(rows)
    assert len(fig.axes) == 3
    widths = [p.get_width() for p in fig.axes[1].patches]
    assert widths == [1.0, 2.0, 3.0]


def test_plot_variants_draws_errors_from_zero_with_bars():
    rows = [{"model": m, "test_accuracy": a, "parameters": 1000, "flops": 1e6, "seed": s}
            for m, a in (("A", 0.9), ("B", 0.96)) for s, d in ((0, 0.0), (1, 0.01)) for a in [a + d]]
    fig = vp.plot_variants(rows)
    ax = fig.axes[0]
    widths = [round(p.get_width(), 2) for p in ax.patches]
    assert widths == [9.5, 3.5]  # errors in %, mean of two seeds
    assert ax.get_xlim()[0] == 0
    assert "sd over seeds" in ax.get_xlabel()


def test_plot_error_curves_and_shuffle_arms():
    from vit_tutorial.variants import fit_learning_curve

    rows = [{"model": m, "train_images": n, "seed": s, "test_accuracy": 1 - a * n ** -0.5 * (1 + 0.05 * s)}
            for m, a in (("ViT", 2.0), ("CNN", 1.0)) for n in (500, 5000, 50000) for s in range(3)]
    fits = {m: fit_learning_curve(rows, m, boot=50) for m in ("ViT", "CNN")}
    fig = vp.plot_error_curves(rows, fits, title="t")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    labels = ax.get_legend_handles_labels()[1]
    assert any("n^-0.50" in t for t in labels) and any("3 seeds" in t for t in labels)
    assert ax.get_legend() is None and len(fig.legends) == 1  # under the axes: it covers no point
    legend_box = fig.legends[0].get_window_extent(fig.canvas.get_renderer())
    assert legend_box.y1 <= ax.get_window_extent(fig.canvas.get_renderer()).y0
    arm_rows = [{"model": m, "arm": a, "seed": s, "test_accuracy": acc}
                for m, a, acc in (("ViT", "none", 0.95), ("ViT", "positions", 0.95), ("CNN", "none", 0.98),
                                  ("CNN", "positions", 0.9)) for s in range(3)]
    fig = vp.plot_shuffle_arms(arm_rows)
    heights = sorted(round(p.get_height(), 1) for p in fig.axes[0].patches)
    assert heights == [2.0, 5.0, 5.0, 10.0]
    assert fig.axes[0].get_ylim()[0] == 0
    with pytest.raises(ValueError, match="arm"):
        vp.plot_shuffle_arms([{"model": "a", "test_accuracy": 1.0}])
    with pytest.raises(TypeError, match="fits must be"):
        vp.plot_error_curves(rows, fits=[1])


def test_plot_depth_collapse_averages_seeds():
    rows = [{"model": m, "seed": s, "trained": {"consecutive_columns": [0.5 + 0.1 * s] * (L - 1),
                                                 "entropy_share": [0.8] * L},
             "untrained": {"consecutive_columns": [1.0] * (L - 1), "entropy_share": [1.0] * L}}
            for m, L in (("4 blocks", 4), ("12 blocks", 12)) for s in range(3)]
    fig = vp.plot_depth_collapse(rows)
    ax = fig.axes[0]
    means = [line for line in ax.get_lines() if line.get_linestyle() == "-"]
    assert any(len(line.get_ydata()) == 11 and np.allclose(line.get_ydata(), 0.6) for line in means)
    assert any("3 seeds" in t for t in ax.get_legend_handles_labels()[1])
    with pytest.raises(ValueError, match="trained"):
        vp.plot_depth_collapse([{"model": "a"}])


def test_plot_power_laws_reports_the_fitted_slope():
    n = [100, 1000, 10000]
    fig = vp.plot_power_laws({"square": (n, [v**2 for v in n]), "line": (n, n)}, "N", "t", fit_min=100)
    texts = fig.axes[0].get_legend_handles_labels()[1]
    assert "square: slope 2.00" in texts and "line: slope 1.00" in texts


def test_layer_similarity_and_resolution_figures():
    L, h = 4, 2
    d = {"consecutive_per_head": np.full((L - 1, h), 0.5).tolist(), "cross_layer": np.eye(L).tolist()}
    fig = vp.plot_layer_similarity({"trained": d, "untrained": d}, matrix="untrained")
    assert len(fig.axes) == 3  # line plot, heatmap, colour bar
    assert fig.axes[1].get_title() == "untrained: every pair of blocks"
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["trained", "untrained"]
    rows = [{"model": m, "mode": mode, "size": s, "test_accuracy": 0.5}
            for m in ("a", "b") for mode in ("resize", "pad") for s in (28, 56)]
    fig = vp.plot_resolution_transfer(rows)
    assert len(fig.axes) == 2
    assert len(fig.legends) == 1 and fig.axes[0].get_legend() is None  # under the panels


def test_resolution_transfer_draws_seed_bands_and_two_size_models_as_points():
    from matplotlib.collections import PolyCollection

    rows = [{"model": "a", "mode": "resize", "size": s, "seed": k, "test_accuracy": 0.5 + 0.1 * k}
            for s in (20, 28, 36) for k in range(3)]
    rows += [{"model": "b", "mode": "resize", "size": s, "seed": k, "test_accuracy": 0.4} for s in (28, 56) for k in range(3)]
    ax = vp.plot_resolution_transfer(rows).axes[0]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1  # the three-size model's band of one sd; the two-size model has error bars instead
    line = next(ln for ln in ax.get_lines() if ln.get_label() == "a (3 seeds)")
    assert np.allclose(line.get_ydata(), 60.0) and line.get_linestyle() == "-"
    assert [c.get_label() for c in ax.containers] == ["b (3 seeds)"]  # points with error bars, no line
    assert ax.containers[0].lines[0].get_linestyle() == "None"


def test_plot_locality_draws_errors_from_zero_over_seeds():
    rows = [{"patch_size": P, "kind": k, "tokens": (28 // P) ** 2, "seed": s, "test_accuracy": a - 0.01 * s}
            for k, a in (("patch embedding", 0.96), ("conv stem", 0.98)) for P in (4, 7) for s in range(3)]
    ax = vp.plot_locality(rows).axes[0]
    assert ax.get_ylim()[0] == 0 and "error" in ax.get_ylabel()
    assert any("3 seeds" in t for t in ax.get_legend_handles_labels()[1])
    means = sorted(round(float(y), 6) for ln in ax.get_lines() for y in ln.get_ydata() if ln.get_linestyle() == "-")
    assert means == [3.0, 3.0, 5.0, 5.0]  # 100 * (1 - mean accuracy)


def test_reach_diagrams_agree_with_the_window_code():
    plain = vp._reach(8, (0, 0), 4, 0)
    assert plain.sum() == 16 and plain[:4, :4].all()
    # after a shift of 2 the corner token (7, 7) shares its window with tokens wrapped from other corners,
    # which the mask hides: only its own 2x2 region is left
    corner = vp._reach(8, (7, 7), 4, 2)
    assert corner.sum() == 4 and corner[6:, 6:].all()
    centre = vp._reach(8, (3, 3), 4, 2)
    assert centre.sum() == 16 and centre[2:6, 2:6].all()
    fig = vp.plot_attention_reach(grid=8, query=(3, 3), window=4, reduction=2)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["global: 64 keys", "window 4x4: 16 keys", "shifted window: 16 keys",
                      "spatial reduction R=2: 16 keys"]
    assert isinstance(vp.plot_shifted_windows(8, 4), Figure)


def test_animation_has_one_frame_per_query():
    html = vp.animate_window_reach(grid=8, window=4, dpi=30)
    assert html.count("data:image/jpeg;base64") == 16 + 1  # + frame 0 in the <img>


def test_load_experiment(tmp_path, monkeypatch):
    (tmp_path / "demo.json").write_text(json.dumps({"rows": [1]}))
    assert vp.load_experiment("demo", tmp_path) == {"rows": [1]}
    monkeypatch.setenv("VIT_EXPERIMENTS_RESULTS", str(tmp_path))
    assert vp.load_experiment("demo") == {"rows": [1]}
    with pytest.raises(ValueError, match="experiments/missing.py"):
        vp.load_experiment("missing", tmp_path)


def test_readers_live_in_results_and_stay_importable_from_viz():
    from vit_tutorial import results

    assert vp.load_experiment is results.load_experiment and vp.summarise_runs is results.summarise_runs
    assert results.load_experiment("data_hunger") == results.load("data_hunger")


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: vp.load_experiment(""), "experiment name"),
        (lambda: vp.summarise_runs([], ["model"]), "non-empty list"),
        (lambda: vp.plot_data_hunger([{"model": "a"}]), "train_images"),
        (lambda: vp.plot_locality("rows"), "non-empty list"),
        (lambda: vp.plot_power_laws({}, "x", "y"), "non-empty dict"),
        (lambda: vp.plot_power_laws({"a": ([1, 2], [1])}, "x", "y"), "equal"),
        (lambda: vp.plot_layer_similarity({"a": {"cross_layer": []}}), "consecutive_per_head"),
        (lambda: vp.plot_layer_similarity({}), "non-empty dict"),
        (lambda: vp.plot_resolution_transfer([{"model": "a", "size": 28}]), "mode"),
        (lambda: vp.plot_attention_reach(grid=10, window=4), "multiple of window"),
        (lambda: vp.plot_attention_reach(grid=8, query=(8, 0), window=4), "inside the 8x8 grid"),
        (lambda: vp.plot_shifted_windows(grid=8, window=3), "even window"),
        (lambda: vp.animate_window_reach(grid=9, window=4), "even window"),
        (lambda: vp.plot_variants([{"model": "a", "test_accuracy": 1.0}]), "parameters"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


_samples, _rows = resolution_data.samples, resolution_data.rows


def test_patch_shuffle_figure_has_two_rows_and_the_patch_grid():
    x = torch.rand(3, 1, 28, 28)
    perm = torch.randperm(49)
    shuffled = vt.unpatchify(vt.patchify(x, 7)[..., perm], 7, 28, 1)
    fig = vp.plot_patch_shuffle(x, shuffled, 7, titles=["a", "b", "c"])
    assert isinstance(fig, Figure) and len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes[:3]] == ["a", "b", "c"]
    assert len(fig.axes[0].lines) == 2 * 3  # 3 inner lines each way on a 4x4 grid


@pytest.mark.parametrize("depths", [(4,), (12, 24)])
def test_attention_entropy_is_drawn_as_a_share_of_uniform(depths):
    curves = {f"{L} blocks": {"entropy": [1.0] * L, "uniform_entropy": 2.0} for L in depths}
    fig = vp.plot_attention_entropy(curves)
    lines = [ln for ln in fig.axes[0].get_lines() if ln.get_label() in curves]
    assert [len(ln.get_ydata()) for ln in lines] == list(depths)
    assert all((ln.get_ydata() == 0.5).all() for ln in lines)


@pytest.mark.parametrize("size,mode,grid", [(14, "resize", 2), (42, "resize", 6), (42, "pad", 6)])
def test_resolution_samples_show_the_digits_and_circle_the_size(size, mode, grid):
    samples = _samples()
    fig = vp.plot_resolution_samples(_rows(samples), samples, size, mode, patch_size=7)
    assert f"{grid}x{grid} = {grid * grid} patches" in fig._suptitle.get_text()
    digits, curve = fig.axes[:4], fig.axes[4]
    titles = [ax.get_title() for ax in digits]
    assert titles == ["label 0, pred 0", "label 1, pred 1", "label 2, pred 0", "label 3, pred 0"]
    assert digits[1].title.get_color() == "#15803d" and digits[2].title.get_color() == "#b91c1c"
    assert [t.get_text() for t in curve.get_legend().get_texts()] == ["bicubic", "bilinear"]
    sizes = sorted(s for m, s in samples if m == mode)
    assert list(curve.get_lines()[0].get_xdata()) == sizes


def test_resolution_animation_has_one_frame_per_size():
    samples = _samples()
    html = vp.animate_resolution_sweep(_rows(samples), samples, mode="resize", dpi=20)
    assert html.count("data:image/jpeg;base64") == 3 + 1  # + frame 0 in the <img>
    assert "font-awesome" not in html and "cdn" not in html.lower()


@pytest.mark.parametrize("x,plain", [((200, 400, 4000), True), ((10, 1000, 100000), False)])
def test_power_law_ticks_are_plain_numbers_on_a_short_axis(x, plain):
    fig = vp.plot_power_laws({"a": (list(x), [v**2 for v in x])}, "N", "y")
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert ("2,000" in labels) == plain


@pytest.mark.parametrize("timed", [False, True])
def test_variants_figure_adds_a_time_panel_when_every_row_is_timed(timed):
    rows = [{"model": m, "test_accuracy": 0.9 + 0.01 * i, "parameters": 1000 * (i + 1), "flops": 1e6,
             **({"train_seconds": 60.0 * (i + 1)} if timed else {})} for i, m in enumerate("ABC")]
    fig = vp.plot_variants(rows)
    assert len(fig.axes) == 3 + timed
    if timed:
        assert [p.get_width() for p in fig.axes[3].patches] == [1.0, 2.0, 3.0]  # minutes


_IMG = torch.rand(2, 1, 28, 28)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: vp.plot_patch_shuffle(torch.rand(28, 28), _IMG, 7), r"\(B, C, H, W\)"),
        (lambda: vp.plot_patch_shuffle(_IMG, _IMG[:1], 7), "shape of images"),
        (lambda: vp.plot_patch_shuffle(_IMG, _IMG, 5), "must divide"),
        (lambda: vp.plot_patch_shuffle(_IMG, _IMG, 0), "positive integer"),
        (lambda: vp.plot_patch_shuffle(_IMG, _IMG, 7, titles=["a"]), "one entry per image"),
        (lambda: vp.plot_patch_shuffle(torch.rand(13, 1, 7, 7), torch.rand(13, 1, 7, 7), 7), "at most 12"),
        (lambda: vp.plot_attention_entropy({}), "non-empty dict"),
        (lambda: vp.plot_attention_entropy({"a": {"entropy": [1.0]}}), "uniform_entropy"),
        (lambda: vp.plot_resolution_samples(_rows(_samples()), _samples(), 35), "keys of samples"),
        (lambda: vp.plot_resolution_samples(_rows(_samples()), {}, 28), "non-empty dict"),
        (lambda: vp.plot_resolution_samples(_rows(_samples()), {28: {}}, 28), r"\(mode, size\) pairs"),
        (lambda: vp.plot_resolution_samples(_rows(_samples()), {("resize", 28): {"images": _IMG}}, 28),
         "'predictions'"),
        (lambda: vp.plot_resolution_samples(
            _rows(_samples()), {("resize", 21): _samples()[("resize", 28)]}, 21), "side 21"),
        (lambda: vp.plot_resolution_samples([{"model": "a"}], _samples(), 28), "test_accuracy"),
        (lambda: vp.animate_resolution_sweep(_rows(_samples()), _samples(), mode="crop"), "no entry for mode"),
        (lambda: vp.animate_resolution_sweep(_rows(_samples()), _samples(), dpi=0), "positive integer"),
    ],
)
def test_bad_input_of_the_shuffle_entropy_and_resolution_figures(call, match):
    with pytest.raises(ValueError, match=match):
        call()
