"""The benchmark scripts run (in their tiny --quick mode) and write results
the appendix can plot; the timing helpers behave; the fast attention path's
gradients equal the explicit path's and transformers'.

No test here asserts a speed: speeds are measured by the scripts in
benchmarks/, on a quiet machine, not by tests.
"""
import json
import math
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest
import torch
from matplotlib.figure import Figure

import vit_tutorial as vt
from vit_tutorial import results as vt_results
from vit_tutorial.flops import vit_flops
from vit_tutorial.viz import performance as perf

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "benchmarks"
sys.path.insert(0, str(BENCH))
import common  # noqa: E402
import run_all  # noqa: E402


def _finite_positive(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


# ---------------------------------------------------------------- helpers


def test_interleave_alternates_order_and_counts_rounds():
    calls = []
    fns = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    times = common.interleave(fns, rounds=3, warmup=1)
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b"]  # warm-up, then A B, B A, A B
    assert sorted(times) == ["a", "b"] and all(len(t) == 3 and min(t) >= 0 for t in times.values())


@pytest.mark.parametrize("kwargs", [dict(fns={}, rounds=2), dict(fns={"a": int}, rounds=0),
                                    dict(fns={"a": int}, rounds=2, warmup=-1)])
def test_interleave_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="fns|rounds|warmup"):
        common.interleave(**kwargs)


def test_statistics():
    assert common.quartiles([3.0, 1.0, 2.0]) == (1.5, 2.0, 2.5)
    r = common.ratio_stats([2.0, 4.0, 9.0], [1.0, 2.0, 3.0])  # per-round ratios 2, 2, 3
    assert r["median"] == 2.0 and r["q1"] == 2.0 and r["q3"] == 2.5
    s = common.summarize_times([1.0, 2.0, 4.0], work=8)
    assert s["median_s"] == 2.0 and s["rate"] == 4.0 and s["rate_q1"] < 4.0 < s["rate_q3"]
    with pytest.raises(ValueError, match="equally long"):
        common.ratio_stats([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="at least one"):
        common.quartiles([])


def test_format_table_aligns_columns():
    text = common.format_table([{"a": 1.234, "b": "x"}, {"a": 10.0, "b": "long"}],
                               [("a", "A", ".1f"), ("b", "B", "")])
    lines = text.splitlines()
    assert lines[0].split() == ["A", "B"] and lines[2].split() == ["1.2", "x"] and lines[3].split() == ["10.0", "long"]
    assert len({len(line) for line in lines}) == 1


def test_write_result_envelope(tmp_path):
    path = common.write_result("demo", {"rows": [{"x": 1}]}, tmp_path, quick=True, device="cpu")
    doc = json.loads(path.read_text())
    assert doc["benchmark"] == "demo" and doc["quick"] is True and doc["rows"] == [{"x": 1}]
    assert doc["timestamp"].endswith("Z") and doc["machine"]["torch"] == torch.__version__
    assert doc["machine"]["torch_threads"] == torch.get_num_threads() and doc["machine"]["cpu"]


def test_run_all_passes_only_supported_options(tmp_path):
    args = run_all.argparse.Namespace(device="cpu", threads=2, quick=True)
    cmd = run_all.command(BENCH / "attention_paths.py", True, args, tmp_path)
    assert cmd[1:] == [str(BENCH / "attention_paths.py"), "--device", "cpu", "--threads", "2", "--out",
                       str(tmp_path), "--quick"]
    script = tmp_path / "other.py"
    script.write_text("import argparse\np = argparse.ArgumentParser()\np.add_argument('--quick')\np.parse_args()\n")
    assert run_all.command(script, False, args, tmp_path)[2:] == ["--quick"]


# ---------------------------------------------------------------- the scripts, quick


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory):
    """Run every benchmark in --quick mode through run_all (training skipped)."""
    out = tmp_path_factory.mktemp("results")
    proc = subprocess.run([sys.executable, str(BENCH / "run_all.py"), "--quick", "--skip-book", "--skip-train",
                           "--threads", "1", "--out", str(out)], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}


@pytest.mark.slow
def test_quick_runs_write_every_result(quick_results):
    assert sorted(quick_results) == ["attention_paths", "machine_limit", "throughput_vs_hf"]
    for doc in quick_results.values():
        assert doc["quick"] is True and doc["machine"]["torch_threads"] == 1


@pytest.mark.slow
def test_quick_throughput_uses_the_same_weights(quick_results):
    doc = quick_results["throughput_vs_hf"]
    assert [(r["mode"], r["ours_attention"]) for r in doc["rows"]] == [
        ("forward", "fused (SDPA)"), ("train step", "fused (SDPA)"), ("forward", "explicit")]
    assert doc["rows"][0]["hf_attention"] in ("sdpa", "eager", "flash_attention_2")
    for r in doc["rows"]:
        assert r["max_abs_logit_diff"] < 1e-4
        assert all(_finite_positive(r[k]) for k in ("ours_img_s", "hf_img_s", "ratio"))
        assert r["ratio_q1"] <= r["ratio"] <= r["ratio_q3"]


@pytest.mark.slow
def test_quick_machine_limit_counts_flops_and_profiles(quick_results):
    doc = quick_results["machine_limit"]
    assert doc["flops"]["total"] == doc["flops"]["flop_counter_total"]
    assert doc["flops"]["total"] == vit_flops(vt.vit_config(doc["settings"]["model"]), doc["settings"]["batch"])["total"]
    rows = {r["name"]: r for r in doc["rows"]}
    assert {"matmul", "vit_gemms", "ours"} <= set(rows)
    assert all(_finite_positive(r["gflops"]) for r in rows.values())
    prof = doc["profiles"]["ours"]
    assert abs(sum(k["share"] for k in prof["by_kind"]) - 1) < 1e-6
    assert any(o["op"] == "aten::addmm" for o in prof["top_ops"])


@pytest.mark.slow
def test_quick_attention_paths_memory(quick_results):
    rows = quick_results["attention_paths"]["rows"]
    for r in rows:
        assert r["max_abs_diff"] < 1e-4
        # the explicit path holds at least one whole (h, T, T) matrix; the fused one does not
        assert r["explicit_peak_mb"] >= r["attention_matrix_mb"] > 0
        assert r["fused_peak_mb"] < r["attention_matrix_mb"] or r["T"] < 64


@pytest.mark.slow
def test_quick_results_load_and_plot(quick_results, tmp_path):
    for name, doc in quick_results.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(doc))
        assert perf.load_result(name, tmp_path) == doc
    for fig in (perf.plot_throughput(quick_results["throughput_vs_hf"]),
                perf.plot_machine_limit(quick_results["machine_limit"]),
                perf.plot_time_breakdown(quick_results["machine_limit"]),
                perf.plot_attention_paths(quick_results["attention_paths"])):
        assert isinstance(fig, Figure) and fig.axes
        matplotlib.pyplot.close(fig)


@pytest.mark.slow
def test_book_time_executes_a_notebook(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1 + 1"),
                                         nbformat.v4.new_code_cell("print(x)")])
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    proc = subprocess.run([sys.executable, str(BENCH / "book_time.py"), "--notebooks", str(path), "--skip-build",
                           "--out", str(tmp_path)], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    doc = json.loads((tmp_path / "book_time.json").read_text())
    assert [r["ok"] for r in doc["rows"]] == [True] and doc["rows"][0]["code_cells"] == 2
    assert doc["build"] is None and _finite_positive(doc["execute_total_s"])
    assert nbformat.read(path, as_version=4).cells[1].outputs == []  # the notebook itself is not modified
    fig = perf.plot_book_time(doc)
    assert isinstance(fig, Figure)
    matplotlib.pyplot.close(fig)


# ---------------------------------------------------------------- committed results


PLOTS = {
    "throughput_vs_hf": [perf.plot_throughput],
    "machine_limit": [perf.plot_machine_limit, perf.plot_time_breakdown],
    "attention_paths": [perf.plot_attention_paths],
    "book_time": [perf.plot_book_time],
}


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_committed_results_load_and_plot(name):
    """The appendix's inputs: full (not --quick) runs that the plots accept."""
    assert name in vt_results.available(), f"{name}.json is not shipped in vit_tutorial/results"
    assert perf.RESULTS_DIR == vt_results.results_folder()
    doc = perf.load_result(name)
    assert doc["benchmark"] == name and doc["quick"] is False and doc["machine"]["cpu"]
    for plot in PLOTS[name]:
        fig = plot(doc)
        assert isinstance(fig, Figure)
        matplotlib.pyplot.close(fig)


def test_committed_training_result_plots():
    """The appendix's training figure: the chapter's ViT and the CNN, one thread each."""
    doc = perf.load_result("train_mnist")
    runs = doc["runs"]
    assert {"vit_1proc_x_1thread", "cnn_1proc_x_1thread"} <= set(runs)
    for key in ("vit_1proc_x_1thread", "cnn_1proc_x_1thread"):
        run = runs[key]
        assert len(run["test_accuracy_per_epoch"]) == run["epochs"] and _finite_positive(run["train_seconds"])
    fig = perf.plot_training_time(doc)
    assert isinstance(fig, Figure) and len(fig.axes[0].lines) >= 3  # two runs and the target line
    matplotlib.pyplot.close(fig)
    with pytest.raises(ValueError, match="no runs"):
        perf.plot_training_time(doc, runs=["vit_9proc"])
    with pytest.raises(ValueError, match="non-empty list"):
        perf.plot_training_time(doc, runs="vit_1proc_x_1thread")
    with pytest.raises(ValueError, match="budget_s"):
        perf.plot_training_time(doc, budget_s=0)


# ---------------------------------------------------------------- bad input


def test_viz_rejects_wrong_results(tmp_path):
    doc = {"benchmark": "attention_paths", "timestamp": "t", "machine": {}, "rows": [{"T": 50}]}
    with pytest.raises(ValueError, match="throughput_vs_hf"):
        perf.plot_throughput(doc)
    with pytest.raises(ValueError, match="lacks"):
        perf.plot_attention_paths(doc)
    with pytest.raises(ValueError, match="no rows"):
        perf.plot_book_time({"benchmark": "book_time", "rows": []})
    with pytest.raises(ValueError, match="dict"):
        perf.plot_machine_limit([1, 2])
    with pytest.raises(ValueError, match="target"):
        perf.plot_machine_limit({"benchmark": "machine_limit", "settings": {}, "rows": [
            {"name": "matmul", "gflops": 1.0, "gflops_q1": 1.0, "gflops_q3": 1.0, "share_of_matmul": 1.0}]},
            target=2.0)
    with pytest.raises(ValueError, match="no benchmark result"):
        perf.load_result("missing", tmp_path)
    (tmp_path / "bad.json").write_text('{"rows": []}')
    with pytest.raises(ValueError, match="not a benchmark result"):
        perf.load_result("bad", tmp_path)
    (tmp_path / "broken.json").write_text('{"rows": ')
    with pytest.raises(ValueError, match="not valid JSON"):
        perf.load_result("broken", tmp_path)
    for bad in (3, "results/x", "x.json", ""):
        with pytest.raises(ValueError, match="benchmark name"):
            perf.load_result(bad)
    with pytest.raises(ValueError, match="folder must be"):
        perf.load_result("x", folder=3)


def test_results_table_text_and_html():
    t = perf.results_table([{"T": 50, "ms": 1.234}, {"T": 197, "ms": None}], [("T", "T", "d"), ("ms", "ms", ".2f")],
                           caption="demo")
    assert repr(t).splitlines() == ["demo", "  T    ms", "---  ----", " 50  1.23", "197      "]
    assert "<th>T</th>" in t._repr_html_() and "<td>1.23</td>" in t._repr_html_()
    with pytest.raises(ValueError, match="lacks"):
        perf.results_table([{"T": 1}], [("x", "X", "")])
    with pytest.raises(ValueError, match="triples"):
        perf.results_table([{"T": 1}], [("T", "T")])
    with pytest.raises(ValueError, match="list of dicts"):
        perf.results_table({"T": 1}, [("T", "T", "")])
    with pytest.raises(ValueError, match="cells"):
        perf.ResultsTable(["a", "b"], [["1"]])


# ---------------------------------------------------------------- the speed-up keeps the maths


def test_fast_path_gradients_equal_explicit_and_transformers():
    """split_heads uses unbind for a cheaper backward; gradients must not change."""
    transformers = pytest.importorskip("transformers")
    from throughput_vs_hf import hf_model

    cfg = vt.ViTConfig(image_size=16, patch_size=4, in_channels=3, num_classes=5, dim=32, depth=2, heads=4,
                       mlp_dim=64)
    torch.manual_seed(0)
    theirs = hf_model(cfg).train()
    ours = vt.ViT(cfg).train()
    ours.load_state_dict(vt.convert_state_dict(theirs.state_dict(), "hf", cfg))
    x, y = torch.randn(3, 3, 16, 16), torch.tensor([0, 3, 4])

    def grads(loss_fn, model):
        model.zero_grad(set_to_none=True)
        loss_fn().backward()
        return {n: p.grad.clone() for n, p in model.named_parameters()}

    fast = grads(lambda: torch.nn.functional.cross_entropy(ours(x), y), ours)
    explicit = grads(lambda: torch.nn.functional.cross_entropy(ours(x, return_attention=True)[0], y), ours)
    hf = vt.convert_state_dict(grads(lambda: torch.nn.functional.cross_entropy(
        theirs(pixel_values=x).logits, y), theirs), "hf", cfg)
    for name, g in fast.items():
        assert (g - explicit[name]).abs().max() < 1e-5, name
        assert (g - hf[name]).abs().max() < 1e-5, name
