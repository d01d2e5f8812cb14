"""vit_tutorial.widgets.after_vit: the window-reach and attention-FLOP explorers follow their
controls and redraw; bad input raises ValueError."""
import pytest

from vit_tutorial import viz, widgets
from vit_tutorial.widgets import after_vit as aw


def test_reexported():
    for name in aw.__all__:
        assert getattr(widgets, name) is getattr(aw, name)


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

    windows = aw._divisors(grid)
    assert windows[0] == 1 and windows[-1] == grid  # the loop covers both extremes, never nothing
    for w in windows:
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


@pytest.mark.parametrize(
    "call,match",
    [
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
