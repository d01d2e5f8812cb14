"""Chapter 11's own figures, explorer and self-check: they draw what they are
given, the explorer's controls redraw, the check accepts the right answer and
names the usual mistakes, and bad input raises ValueError."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import vit_tutorial as vt  # noqa: E402
from vit_tutorial.exercises import check_centred_position_table  # noqa: E402
from vit_tutorial.viz import problems as vp  # noqa: E402
from vit_tutorial.widgets import resolution_explorer  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _samples(sizes=(14, 28, 42), modes=("resize", "pad"), k=4):
    g = torch.Generator().manual_seed(0)
    out = {}
    for mode in modes:
        for s in sizes:
            if mode == "pad" and s < 28:
                continue
            out[(mode, s)] = {"images": torch.rand(k, 1, s, s, generator=g), "labels": torch.arange(k),
                              "predictions": torch.tensor([0, 1, 0, 0][:k])}
    return out


def _rows(samples):
    return [{"model": m, "mode": mode, "size": s, "test_accuracy": 0.5 + 0.01 * s}
            for m in ("bicubic", "bilinear") for mode, s in samples]


# ---------------------------------------------------------------- figures


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


# ---------------------------------------------------------------- explorer


def test_explorer_switches_mode_and_size():
    samples = _samples()
    box = resolution_explorer(_rows(samples), samples, dpi=30)
    c = box.controls
    assert c["mode"].value == "resize" and c["size"].value == 28
    assert list(c["size"].options) == [14, 28, 42]
    seen = {box.figure.value}
    assert box.figure.value[:4] == b"\x89PNG"
    c["size"].value = 42
    assert box.figure.value not in seen
    seen.add(box.figure.value)
    c["mode"].value = "pad"
    assert list(c["size"].options) == [28, 42] and c["size"].value == 42
    assert box.figure.value not in seen


@pytest.mark.parametrize("size,mode", [(42, "resize"), (28, "pad")])
def test_explorer_starts_where_asked(size, mode):
    samples = _samples()
    box = resolution_explorer(_rows(samples), samples, size=size, mode=mode, dpi=30)
    assert (box.controls["size"].value, box.controls["mode"].value) == (size, mode)


# ---------------------------------------------------------------- self-check


def _centred(table, m, before=None, fill="replicate"):
    cls, grid = table[:, :1], table[:, 1:]
    _, n2, D = grid.shape
    n = int(n2**0.5)
    lo = (m - n) // 2 if before is None else before
    fmap = grid.reshape(1, n, n, D).permute(0, 3, 1, 2)
    pad = (lo, m - n - lo, lo, m - n - lo)
    fmap = F.pad(fmap, pad, mode="replicate") if fill == "replicate" else F.pad(fmap, pad)
    return torch.cat([cls, fmap.permute(0, 2, 3, 1).reshape(1, m * m, D)], dim=1)


def test_centred_table_accepts_the_right_answer():
    result = check_centred_position_table(_centred)
    assert result, repr(result)
    assert repr(result).startswith("Correct!")


@pytest.mark.parametrize(
    "wrong,words",
    [
        (lambda t, m: vt.resize_position_embedding(t, m), "stretches"),
        (lambda t, m: _centred(t, m, fill="zeros"), "zeros"),
        (lambda t, m: _centred(t, m, before=0), "corner"),
        (lambda t, m: _centred(t, m, before=m - 3 - (m - 3) // 2), "odd extra row"),
        (lambda t, m: _centred(t, m)[:, 1:], "class token"),
        (lambda t, m: _centred(t, m).transpose(1, 2), "shape"),
        (lambda t, m: _centred(t, m) + 1.0, "different values"),
    ],
)
def test_centred_table_names_the_mistake(wrong, words):
    result = check_centred_position_table(wrong)
    assert not result
    assert words in repr(result), repr(result)


def test_centred_table_not_yet():
    def stub(table, m):
        raise NotImplementedError

    assert "NotImplementedError" in repr(check_centred_position_table(stub))


# ---------------------------------------------------------------- bad input

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
        (lambda: resolution_explorer(_rows(_samples()), {}), "non-empty dict"),
        (lambda: resolution_explorer(_rows(_samples()), {28: {}}), r"\(mode, size\) pairs"),
        (lambda: resolution_explorer(_rows(_samples()), _samples(), dpi=-1), "positive integer"),
        (lambda: resolution_explorer(_rows(_samples()), _samples(), size=21, mode="pad"), "sides of mode 'pad'"),
        (lambda: resolution_explorer(_rows(_samples()), _samples(), mode="crop"), "one of the modes"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("x,plain", [((200, 400, 4000), True), ((10, 1000, 100000), False)])
def test_power_law_ticks_are_plain_numbers_on_a_short_axis(x, plain):
    fig = vp.plot_power_laws({"a": (list(x), [v**2 for v in x])}, "N", "y")
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert ("2,000" in labels) == plain
