"""vit_tutorial.viz.after_vit: the window partition figure numbers the tokens as the code does,
the FLOP figure draws the formulas, the cost figure fits the exponents, the PEG figure counts
the distinct values; bad input raises ValueError."""
import math
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from vit_tutorial import variants as V
from vit_tutorial import viz
from vit_tutorial.viz import after_vit as av


def test_reexported():
    for name in av.__all__:
        assert getattr(viz, name) is getattr(av, name)


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
    ],
)
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
