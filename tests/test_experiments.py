"""Smoke tests: each experiment script of chapters 11 and 12 runs end to end
on a tiny setting (``--quick``: 200 training digits, one short epoch) and
writes a results file with the fields the notebooks read. The real runs
take many minutes; their results are committed under vit_tutorial/results (package data)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _run(script, tmp_path, *args):
    cmd = [sys.executable, str(REPO / "experiments" / script), "--quick", "--threads", "1", "--out", str(tmp_path), *args]
    subprocess.run(cmd, check=True, cwd=REPO, capture_output=True, text=True, timeout=600)
    name = script.removesuffix(".py")
    doc = json.loads((tmp_path / f"{name}.quick.json").read_text())
    assert doc["experiment"] == name and doc["quick"] is True
    assert {"machine", "settings", "date", "command", "rows"} <= set(doc)
    return doc


def test_data_hunger(tmp_path):
    doc = _run("data_hunger.py", tmp_path, "--fractions", "0.5")
    P = doc["settings"]["models"]
    vit = next(name for name in P if name.startswith("ViT-Tiny P="))
    assert {r["model"] for r in doc["rows"]} == {vit, "SmallCNN"}
    for r in doc["rows"]:
        assert r["train_images"] == 100 and 0.0 <= r["test_accuracy"] <= 1.0


def test_locality(tmp_path):
    doc = _run("locality.py", tmp_path, "--patch-sizes", "14", "--seeds", "0")
    assert [(r["kind"], r["tokens"]) for r in doc["rows"]] == [("patch embedding", 4), ("conv stem", 4)]
    assert all(r["flops"] > 0 for r in doc["rows"])
    assert doc["complete"] is True and doc["settings"]["budget_epochs"] == 1
    for r in doc["rows"]:
        assert r["chosen_epoch"] in [e for e, _ in r["val_curve"]] and len(r["test_correct"]) == 2 * 13


def test_attention_collapse(tmp_path):
    doc = _run("attention_collapse.py", tmp_path, "--images", "16", "--depths", "3", "5")
    assert [r["depth"] for r in doc["rows"]] == [3, 5]
    for run in doc["rows"]:
        for key in ("trained", "untrained"):
            L = run["depth"]
            assert len(run[key]["cross_layer"]) == L and len(run[key]["consecutive_mean"]) == L - 1


def test_variants(tmp_path):
    doc = _run("variants.py", tmp_path, "--models", "PEG-ViT-Tiny P=4", "Swin-like", "PVT-like", "--seeds", "0")
    assert [r["model"] for r in doc["rows"]] == ["PEG-ViT-Tiny P=4", "Swin-like", "PVT-like"]
    sizes = {(r["model"], r["mode"], r["size"]) for r in doc["resolution"]}
    assert ("PEG-ViT-Tiny P=4", "resize", 56) in sizes and ("Swin-like", "pad", 56) in sizes
    assert ("Swin-like", "resize", 36) not in sizes
    assert ("PVT-like", "resize", 36) in sizes and ("PVT-like", "resize", 42) not in sizes  # position table resized
    assert doc["complete"] is True and all(len(r["test_correct"]) == 2 * 13 for r in doc["rows"])
    assert "bicubic" in doc["settings"]["resize_method"]


def test_transfer(tmp_path):
    doc = _run("transfer.py", tmp_path, "--seeds", "0")
    assert doc["complete"] is True
    assert [(r["model"].split()[0], r["arm"]) for r in doc["rows"]] == [
        (m, arm) for m in ("ViT-Tiny", "SmallCNN") for arm in ("zero_shot", "finetuned", "scratch")]
    for r in doc["rows"]:
        assert 0.0 <= r["test_accuracy"] <= 1.0 and len(r["test_correct"]) == 2 * 13
        assert r["train_images"] == (0 if r["arm"] == "zero_shot" else 50)
    assert [p["model"].split()[0] for p in doc["pretraining"]] == ["ViT-Tiny", "SmallCNN"]


def test_attention_cost(tmp_path):
    doc = _run("attention_cost.py", tmp_path)
    kinds = {r["kind"] for r in doc["rows"]}
    assert kinds == {"global, explicit", "global, fused", "window 8x8", "spatial reduction R=4"}
    assert all(r["seconds"] > 0 and r["flops"] > 0 for r in doc["rows"])


def test_data_hunger_synthetic(tmp_path):
    doc = _run("data_hunger_synthetic.py", tmp_path, "--seeds", "0")
    assert doc["complete"] is True
    assert sorted({r["train_images"] for r in doc["rows"]}) == [100, 300]
    n_test = doc["settings"]["n_test"]
    for r in doc["rows"]:
        assert 0.0 <= r["test_accuracy"] <= 1.0 and len(r["test_correct"]) == 2 * ((n_test + 7) // 8)
        assert r["chosen_epoch"] in [e for e, _ in r["val_curve"]]


def test_patch_permutation(tmp_path):
    doc = _run("patch_permutation.py", tmp_path, "--seeds", "0", "--order", "cnn:none", "vit:positions")
    assert [(r["model"].split()[0], r["arm"]) for r in doc["rows"]] == [("SmallCNN", "none"), ("ViT-Tiny", "positions")]
    assert sorted(doc["settings"]["permutations"]["positions"]) == list(range(16))


def test_depth_layerscale(tmp_path):
    doc = _run("depth_layerscale.py", tmp_path, "--seeds", "0", "--lrs", "1e-3")
    assert doc["complete"] is True
    assert [r["model"] for r in doc["rows"]] == ["4 blocks", "12 blocks", "12 blocks + LayerScale"]
    for r in doc["rows"]:
        L = r["depth"]
        for key in ("trained", "untrained"):
            assert len(r[key]["consecutive_columns"]) == L - 1 and len(r[key]["entropy_share"]) == L
