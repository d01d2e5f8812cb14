"""Chapter 12 (after ViT): the figures of `vit_tutorial.viz.after_vit`, the
explorers of `vit_tutorial.widgets.after_vit`, and the facts the chapter
shows live (window attention with one window is global attention, PEG-ViT
runs at a new resolution). Behaviour only, no timings."""
import math

import matplotlib
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

matplotlib.use("Agg")

import vit_tutorial as vt  # noqa: E402
from vit_tutorial import variants as V  # noqa: E402
from vit_tutorial import viz, widgets  # noqa: E402
from vit_tutorial.viz import after_vit as av  # noqa: E402
from vit_tutorial.widgets import after_vit as aw  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    matplotlib.pyplot.close("all")


def test_reexported():
    for name in av.__all__:
        assert getattr(viz, name) is getattr(av, name)
    for name in aw.__all__:
        assert getattr(widgets, name) is getattr(aw, name)


# ------------------------------------------------------------------ window partition figure


@pytest.mark.parametrize("grid,window", [((4, 6), 2), ((6, 6), 3), ((2, 8), 2), ((4, 4), 4)])
def test_window_partition_figure_numbers_the_tokens_as_the_code_does(grid, window):
    fig = av.plot_window_partition(grid, window)
    assert isinstance(fig, Figure)
    axg, axw = fig.axes
    Hg, Wg = grid
    nW = (Hg // window) * (Wg // window)
    assert [t.get_text() for t in axg.texts] == [str(i) for i in range(Hg * Wg)]
    expected = V.window_partition(torch.arange(Hg * Wg).reshape(1, Hg, Wg, 1).float(), window)
    assert [int(t.get_text()) for t in axw.texts] == expected.flatten().long().tolist()
    assert f"({nW}, {window * window})" in axw.get_title()


# ------------------------------------------------------------------ FLOPs figure


@pytest.mark.parametrize("dim,window,reduction", [(64, 8, 4), (32, 7, 2), (768, 14, 1), (96, 4, 8)])
def test_flops_figure_draws_the_formulas_and_their_slopes(dim, window, reduction):
    fig = av.plot_attention_flops(dim, window, reduction, max_side=224, marks={"ViT-B/16": 196})
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}
    glob = next(v for k, v in lines.items() if k.startswith("global"))
    win = next(v for k, v in lines.items() if k.startswith("window"))
    N = glob.get_xdata()
    assert all(math.isqrt(int(n)) % window == 0 and math.isqrt(int(n)) % reduction == 0 for n in N)
    assert np.allclose(glob.get_ydata(), [V.global_attention_flops(int(n), dim) for n in N])
    assert np.allclose(win.get_ydata(), [V.window_attention_flops(int(n), dim, window) for n in N])
    slope = float(next(k for k in lines if k.startswith("window")).split("slope ")[1].split()[0])
    assert slope == pytest.approx(1.0, abs=0.1)  # linear in N


def test_window_attention_flops_are_linear_and_global_quadratic():
    D, w = 64, 8
    N1, N2 = 64 * 64, 128 * 128
    assert V.window_attention_flops(N2, D, w) == 4 * V.window_attention_flops(N1, D, w)
    assert V.global_attention_flops(N2, D) > 10 * V.global_attention_flops(N1, D)


# ------------------------------------------------------------------ measured-cost figure


def _cost_rows():
    rows = []
    for kind, k in (("global", 2.0), ("window", 1.0)):
        for side in (8, 16, 32, 64):
            N = side * side
            rows.append({"kind": kind, "tokens": N, "seconds": 1e-8 * N**k, "peak_memory_bytes": 100 * N**k})
    rows[0]["peak_memory_bytes"] = 0  # unresolved: left out, not a crash
    return rows


def test_cost_figure_fits_the_exponents():
    fig = av.plot_attention_cost(_cost_rows(), fit_min=256)
    for ax in fig.axes:
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels == ["global: N^2.00", "window: N^1.00"]


# ------------------------------------------------------------------ PEG figure


@pytest.mark.parametrize("grids", [((4, 4),), ((3, 5), (7, 7)), ((4, 4), (7, 7), (10, 10))])
def test_peg_signal_has_at_most_nine_values(grids):
    torch.manual_seed(0)
    peg = V.PositionEncodingGenerator(6)
    fig = av.plot_peg_signal(peg, grids, channel=2)
    titles = [ax.get_title() for ax in fig.axes[: len(grids)]]
    for (Hg, Wg), title in zip(grids, titles):
        assert title.startswith(f"{Hg}x{Wg} grid")
        distinct = int(title.split(": ")[1].split()[0])
        assert distinct == min(Hg, 3) * min(Wg, 3)  # corners, edges, inside: one value each


def test_zero_peg_gives_no_signal():
    peg = V.PositionEncodingGenerator(4)
    with torch.no_grad():
        peg.conv.weight.zero_()
        peg.conv.bias.zero_()
    fig = av.plot_peg_signal(peg, ((5, 5),))
    assert fig.axes[0].get_title() == "5x5 grid: 1 distinct values"


# ------------------------------------------------------------------ the chapter's live checks


@pytest.mark.parametrize("side,heads", [(4, 2), (6, 4), (7, 1)])
def test_one_window_over_the_grid_is_global_attention(side, heads):
    torch.manual_seed(side)
    glob = vt.MultiHeadSelfAttention(16, heads).eval()
    win = V.WindowAttention(16, heads, window_size=side, relative_position_bias=False).eval()
    win.attn.load_state_dict(glob.state_dict())
    x = torch.randn(2, side * side, 16)
    with torch.no_grad():
        assert torch.allclose(win(x, (side, side)), glob(x), atol=1e-5)


@pytest.mark.parametrize("size", [20, 36, 56])
def test_peg_vit_accepts_a_new_size_and_vit_refuses(size):
    torch.manual_seed(0)
    c = vt.vit_config("ViT-Tiny", depth=1)
    x = torch.randn(1, 1, size, size)
    with torch.no_grad():
        assert V.PEGViT(c).eval()(x).shape == (1, 10)
    with pytest.raises(ValueError):
        vt.ViT(c)(x)


# ------------------------------------------------------------------ explorers


def test_reach_explorer_follows_the_grid():
    e = aw.window_reach_explorer()
    assert repr(e) == "WindowReachExplorer(grid=14, window=7, reduction=2, query=(5, 6))"
    first = e.picture.value
    assert first[:4] == b"\x89PNG"
    e.grid.value = 8  # 7 does not divide 8: the window drops to the largest divisor below it
    assert (e.window.value, e.reduction.value) == (4, 2)
    assert e.row.max == 7 and e.col.value == 6
    assert e.picture.value != first
    e.window.value, e.row.value = 8, 7  # one window over the whole grid
    assert "64 keys per query" in e.summary.value


@pytest.mark.parametrize("grid", [8, 12, 14])
def test_every_window_the_explorer_offers_gives_a_sensible_reach(grid):
    from vit_tutorial.viz.problems import _reach

    for w in aw._divisors(grid):
        for query in ((0, 0), (grid // 2, grid // 3), (grid - 1, grid - 1)):
            plain = _reach(grid, query, w, 0)
            shifted = _reach(grid, query, w, w // 2)
            assert plain.sum() == w * w and plain[query] and shifted[query]
            assert 1 <= shifted.sum() <= w * w


@pytest.mark.parametrize("window,reduction", [(1, 1), (12, 12), (3, 4)])
def test_reach_explorer_draws_the_extremes(window, reduction):
    e = aw.WindowReachExplorer(grids=(12,), grid=12, window=1, reduction=1, query=(0, 0))
    e.window.value, e.reduction.value = window, reduction
    assert e.picture.value[:4] == b"\x89PNG"
    assert f"{window * window} keys per query" in e.summary.value


def test_flops_explorer_redraws():
    e = aw.attention_flops_explorer(marks={"ViT-B/16": 196})
    assert repr(e) == "AttentionFlopsExplorer(dim=64, window=8, reduction=4)"
    first = e.picture.value
    e.window.value = 14
    e.reduction.value = 8  # lcm 56: still at least two grids
    assert e.picture.value != first and e.picture.value[:4] == b"\x89PNG"


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: av.plot_window_partition((4, 5), 2), "multiples of the window"),
        (lambda: av.plot_window_partition((4,), 2), "pair"),
        (lambda: av.plot_window_partition((16, 16), 2), "at most 12 windows"),
        (lambda: av.plot_attention_flops(0), "dim"),
        (lambda: av.plot_attention_flops(64, 8, 4, max_side=10), "fewer than two"),
        (lambda: av.plot_attention_flops(marks={"x": -1}), "marks"),
        (lambda: av.plot_attention_flops(marks=[196]), "marks must be a dict"),
        (lambda: av.plot_attention_cost([]), "non-empty"),
        (lambda: av.plot_attention_cost([{"kind": "a", "tokens": 4}]), "seconds"),
        (lambda: av.plot_peg_signal(torch.nn.Conv2d(2, 2, 3)), "PositionEncodingGenerator"),
        (lambda: av.plot_peg_signal(V.PositionEncodingGenerator(4), channel=4), r"\[0, 4\)"),
        (lambda: av.plot_peg_signal(V.PositionEncodingGenerator(4), grids=[(3, 0)]), "grid cols"),
        (lambda: aw.WindowReachExplorer(grid=10), "one of grids"),
        (lambda: aw.WindowReachExplorer(window=4), "must divide the grid side 14"),
        (lambda: aw.WindowReachExplorer(query=(14, 0)), "inside the 14x14 grid"),
        (lambda: aw.AttentionFlopsExplorer(dim=100), "dim must be one of"),
        (lambda: aw.AttentionFlopsExplorer(marks=[196]), "marks"),
    ],
)
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------------------------ the variants figure (viz.problems)


@pytest.mark.parametrize("timed", [False, True])
def test_variants_figure_adds_a_time_panel_when_every_row_is_timed(timed):
    rows = [{"model": m, "test_accuracy": 0.9 + 0.01 * i, "parameters": 1000 * (i + 1), "flops": 1e6,
             **({"train_seconds": 60.0 * (i + 1)} if timed else {})} for i, m in enumerate("ABC")]
    fig = viz.plot_variants(rows)
    assert len(fig.axes) == 3 + timed
    if timed:
        assert [p.get_width() for p in fig.axes[3].patches] == [1.0, 2.0, 3.0]  # minutes
