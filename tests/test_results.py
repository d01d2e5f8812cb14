"""vit_tutorial.results: the shipped benchmark and experiment results, their
schema, the loader and the atomic, non-overwriting writer."""
from __future__ import annotations

import json
import os

import pytest

from vit_tutorial import results
from vit_tutorial.viz import performance as perf
from vit_tutorial.viz import problems as vp


def test_every_shipped_file_has_a_schema_and_is_valid():
    shipped = sorted(f.stem for f in results.results_folder().glob("*.json") if "." not in f.stem)
    assert shipped and results.available() == shipped, "a result file without a schema (add it to SCHEMAS)"
    for name in results.available():
        doc = results.load(name)
        schema = results.SCHEMAS[name]
        assert doc[schema.kind] == name
        assert set(schema.keys) <= set(doc)


def test_shipped_results_are_full_runs():
    for name in results.available():
        doc = results.load(name)
        if "quick" in doc:
            assert doc["quick"] is False, f"{name}: a --quick smoke run is shipped"


def test_old_loaders_read_the_package_data():
    assert perf.load_result("throughput_vs_hf") == results.load("throughput_vs_hf")
    assert vp.load_experiment("data_hunger") == results.load("data_hunger")
    with pytest.raises(ValueError, match="unknown benchmark 'data_hunger'"):
        perf.load_result("data_hunger")


def test_unknown_name_and_wrong_types():
    with pytest.raises(ValueError, match=r"unknown result 'nope'; expected one of \['attention_collapse'"):
        results.load("nope")
    with pytest.raises(TypeError, match="name must be a str"):
        results.load(3)
    with pytest.raises(TypeError, match="folder must be"):
        results.load("data_hunger", folder=3)


def test_validate_names_what_is_missing():
    doc = results.load("attention_cost")
    with pytest.raises(ValueError, match="must have 'experiment': 'locality'"):
        results.validate("locality", doc)
    bad = {k: v for k, v in doc.items() if k != "machine"}
    with pytest.raises(ValueError, match=r"lacks the keys \['machine'\]"):
        results.validate("attention_cost", bad)
    rows = [dict(doc["rows"][0])]
    del rows[0]["tokens"]
    with pytest.raises(ValueError, match=r"row 0 lacks \['tokens'\]"):
        results.validate("attention_cost", {**doc, "rows": rows})
    with pytest.raises(ValueError, match="non-empty list"):
        results.validate("attention_cost", {**doc, "rows": []})
    with pytest.raises(ValueError, match="JSON object"):
        results.validate("attention_cost", [doc])


def test_load_from_a_folder(tmp_path):
    doc = results.load("locality")
    (tmp_path / "locality.json").write_text(json.dumps(doc))
    assert results.load("locality", tmp_path) == doc
    (tmp_path / "data_hunger.json").write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        results.load("data_hunger", tmp_path)
    with pytest.raises(ValueError, match="no result file"):
        results.load("variants", tmp_path)


def test_save_is_atomic_and_never_silently_overwrites(tmp_path):
    target = tmp_path / "sub" / "attention_cost.json"
    doc = results.load("attention_cost")
    assert results.save(doc, target, check="attention_cost") == target
    assert json.loads(target.read_text()) == doc
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)
    changed = {**doc, "command": "another run"}
    new = results.save(changed, target)
    assert new != target and new.parent == target.parent and new.name.startswith("attention_cost.")
    assert json.loads(target.read_text()) == doc, "the existing result was replaced without overwrite"
    assert json.loads(new.read_text()) == changed
    assert results.save(changed, target, overwrite=True) == target
    assert json.loads(target.read_text()) == changed
    assert not [p for p in os.listdir(target.parent) if p.endswith(".tmp")]
    with pytest.raises(ValueError, match="lacks the keys"):
        results.save({"experiment": "attention_cost"}, tmp_path / "x.json", check="attention_cost")
    assert not (tmp_path / "x.json").exists()
    with pytest.raises(TypeError, match="doc must be a dict"):
        results.save([1], tmp_path / "y.json")


def test_save_leaves_no_partial_file_when_serialising_fails(tmp_path):
    target = tmp_path / "r.json"
    with pytest.raises(TypeError):
        results.save({"benchmark": object()}, target)
    assert not target.exists() and not list(tmp_path.iterdir())
