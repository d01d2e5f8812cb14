"""The measured results the book reads, shipped with the package.

The scripts in ``benchmarks/`` (appendix "How fast is it?", chapter 9) and
``experiments/`` (chapters 11 and 12) train or time things for minutes to
hours; they write one JSON file each, ``vit_tutorial/results/<name>.json``,
and the notebooks only read those files, with::

    from vit_tutorial.results import load, available
    doc = load("data_hunger")        # a dict, validated
    available()                      # the names shipped with this install

The files are package data (``pyproject.toml``), read through
:mod:`importlib.resources`, so they are there after a plain
``pip install <repo>`` (Colab) as well as in a checkout. No path into the
repository is involved.

Schema
------
Every result is one JSON object. Its kind key names the script family and its
value is the result's name (the file's stem):

* ``"benchmark": "<name>"`` for ``benchmarks/<name>.py``, or
* ``"experiment": "<name>"`` for ``experiments/<name>.py``.

The other top-level keys are fixed per name (:data:`SCHEMAS` lists the
required ones; more may be present). The usual envelope is

* ``command`` (str): the command line that wrote the file;
* ``quick`` (bool): True for a smoke-test run whose numbers mean nothing;
* ``machine`` (dict): CPU model, core and thread counts, versions, load average;
* ``timestamp`` (benchmarks) or ``date`` (experiments): ISO 8601 UTC, e.g. ``2026-11-25T05:10:00Z``;
* ``settings`` (dict): the script's parameters;
* ``rows`` (list of dicts): one measurement per row, each with at least the
  row keys of :data:`SCHEMAS`.

Keys are snake_case names (``test_accuracy``, ``ours_img_s``), never display
labels; units are in the name (``_s`` seconds, ``_ms``, ``_mb``, ``_bytes``)
and fractions are in 0..1. ``train_mnist`` is the exception to the envelope:
it keeps ``runs`` (a dict keyed by ``<model>_<P>proc_x_<T>thread``, each run
with its own ``timestamp`` and ``machine``), ``tuning`` (rows) and ``cnn``.

Writing
-------
:func:`save` writes a result atomically (a temporary file in the same folder,
then :func:`os.replace`), so a reader never sees half a file. It never
silently replaces an existing result: without ``overwrite=True`` (the scripts'
``--overwrite``) a result whose file exists is written next to it under a new
name, ``<name>.<UTC time>.json``, which :func:`load` ignores, and the message
says how to adopt it.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
from importlib import resources
from pathlib import Path
from typing import Mapping, NamedTuple, Sequence

import numpy as np

__all__ = ["SCHEMAS", "ResultSchema", "available", "load", "save", "validate", "results_folder", "load_experiment",
           "summarise_runs"]


class ResultSchema(NamedTuple):
    """What one result file must contain.

    Attributes:
        kind: ``"benchmark"`` or ``"experiment"`` (the key holding the name).
        keys: required top-level keys (besides the kind key).
        row_keys: keys every element of ``rows`` must have (empty: no check).
    """

    kind: str
    keys: tuple[str, ...]
    row_keys: tuple[str, ...] = ()


_BENCH = ("timestamp", "quick", "command", "machine", "settings", "rows")
_EXP = ("date", "command", "quick", "machine", "settings", "rows")
_TRAINED = ("model", "fraction", "seed", "train_images", "epochs", "parameters", "test_accuracy", "test_loss")

#: The results the book reads: name -> :class:`ResultSchema`.
SCHEMAS: dict[str, ResultSchema] = {
    "attention_paths": ResultSchema("benchmark", _BENCH, (
        "T", "explicit_ms", "fused_ms", "fused_speedup", "speedup_q1", "speedup_q3", "explicit_peak_mb",
        "fused_peak_mb", "attention_matrix_mb", "max_abs_diff", "rounds")),
    "book_time": ResultSchema("benchmark", (*_BENCH, "execute_total_s", "all_ok", "build"), (
        "notebook", "seconds", "code_cells", "ok", "error")),
    "machine_limit": ResultSchema("benchmark", (*_BENCH, "flops", "profiles"), (
        "name", "gflop", "median_s", "gflops", "gflops_q1", "gflops_q3", "share_of_matmul", "share_q1",
        "share_q3")),
    "throughput_vs_hf": ResultSchema("benchmark", _BENCH, (
        "model", "batch", "image", "max_abs_logit_diff", "mode", "ours_img_s", "ours_img_s_q1", "ours_img_s_q3",
        "hf_img_s", "hf_img_s_q1", "hf_img_s_q3", "ratio")),
    "train_mnist": ResultSchema("benchmark", ("target", "runs", "tuning", "tuning_machine", "cnn")),
    "train_step_speed": ResultSchema("benchmark", _BENCH, (
        "variant", "cpu_ms_per_step", "speedup_vs_plain", "one_off_cpu_s", "epochs_in_60s")),
    "attention_collapse": ResultSchema("experiment", _EXP, (*_TRAINED, "depth")),
    "attention_cost": ResultSchema("experiment", _EXP, (
        "kind", "side", "tokens", "seconds", "peak_memory_bytes", "flops")),
    "data_hunger": ResultSchema("experiment", _EXP, _TRAINED),
    "data_hunger_synthetic": ResultSchema("experiment", (*_EXP, "complete"), (
        "model", "seed", "train_images", "epochs", "parameters", "val_accuracy", "test_accuracy", "test_correct")),
    "patch_permutation": ResultSchema("experiment", (*_EXP, "complete"), (
        "model", "arm", "seed", "epochs", "parameters", "val_accuracy", "test_accuracy", "test_correct")),
    "depth_layerscale": ResultSchema("experiment", (*_EXP, "complete"), (
        "model", "depth", "layer_scale", "seed", "lr", "epochs", "parameters", "val_accuracy", "test_accuracy",
        "test_correct", "trained", "untrained")),
    "locality": ResultSchema("experiment", _EXP, (*_TRAINED, "patch_size")),
    "recipe_validation": ResultSchema("experiment", (*_EXP, "complete", "budget"), (
        "arm", "model", "seed", "epochs", "parameters", "val_accuracy", "test_accuracy", "test_correct",
        "cpu_seconds")),
    "init_comparison": ResultSchema("experiment", (*_EXP, "complete", "budget", "source"), (
        "arm", "model", "init", "seed", "epochs", "parameters", "val_accuracy", "test_accuracy", "test_correct",
        "cpu_seconds")),
    "variants": ResultSchema("experiment", (*_EXP, "resolution"), (*_TRAINED, "flops")),
    "transfer": ResultSchema("experiment", (*_EXP, "complete", "pretraining"), (
        "model", "arm", "seed", "epochs", "train_images", "parameters", "val_accuracy", "test_accuracy",
        "test_correct")),
}


def _check_name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, one of {sorted(SCHEMAS)}; got {type(name).__name__}")
    if name not in SCHEMAS:
        raise ValueError(f"unknown result {name!r}; expected one of {sorted(SCHEMAS)}")
    return name


def _resource(name: str):
    return resources.files(__name__).joinpath(f"{name}.json")


def results_folder() -> Path:
    """The folder this package's result files are in (a real directory for a
    normal or editable install; read it with :func:`load`, not by path)."""
    return Path(str(resources.files(__name__)))


def available() -> list[str]:
    """The names of the results shipped with this install, sorted."""
    return sorted(n for n in SCHEMAS if _resource(n).is_file())


def validate(name: str, doc: object) -> dict:
    """Check that ``doc`` is a result ``name`` as :data:`SCHEMAS` describes;
    returns it. Raises ValueError naming what was expected and what was found."""
    schema = SCHEMAS[_check_name(name)]
    if not isinstance(doc, dict):
        raise ValueError(f"result {name!r} must be a JSON object (dict), got {type(doc).__name__}")
    if doc.get(schema.kind) != name:
        raise ValueError(f"result {name!r} must have {schema.kind!r}: {name!r}, got "
                         f"{schema.kind!r}: {doc.get(schema.kind)!r}")
    missing = [k for k in schema.keys if k not in doc]
    if missing:
        raise ValueError(f"result {name!r} lacks the keys {missing}; expected at least "
                         f"{[schema.kind, *schema.keys]}, got {sorted(doc)}")
    if "rows" in schema.keys:
        rows = doc["rows"]
        if not isinstance(rows, list) or not rows:
            raise ValueError(f"result {name!r}: 'rows' must be a non-empty list, got {rows!r:.80}")
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise ValueError(f"result {name!r}: row {i} must be a dict, got {type(row).__name__}")
            lacking = [k for k in schema.row_keys if k not in row]
            if lacking:
                raise ValueError(f"result {name!r}: row {i} lacks {lacking}; expected the keys "
                                 f"{list(schema.row_keys)}, got {sorted(row)}")
    if "quick" in schema.keys and not isinstance(doc["quick"], bool):
        raise ValueError(f"result {name!r}: 'quick' must be true or false, got {doc['quick']!r}")
    return doc


def load(name: str, folder: str | Path | None = None) -> dict:
    """Read and validate the result ``name`` (e.g. ``"data_hunger"``).

    Args:
        name: one of :data:`SCHEMAS` (no folder, no ``.json``).
        folder: read ``<folder>/<name>.json`` instead of the shipped file,
            e.g. your own re-run written with a script's ``--out``.

    Returns:
        The parsed dict (see the module docstring for its keys).
    """
    _check_name(name)
    if folder is None:
        res = _resource(name)
        if not res.is_file():
            raise ValueError(f"result {name!r} is not shipped with this install; available: {available()}")
        text, where = res.read_text(encoding="utf-8"), f"vit_tutorial/results/{name}.json"
    else:
        if not isinstance(folder, (str, Path)):
            raise TypeError(f"folder must be a str or pathlib.Path, got {type(folder).__name__}")
        p = Path(folder) / f"{name}.json"
        if not p.is_file():
            raise ValueError(f"no result file {p}; expected {name}.json in {folder}")
        text, where = p.read_text(encoding="utf-8"), str(p)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{where} is not valid JSON: {e}") from None
    return validate(name, doc)


def save(doc: Mapping, path: str | Path, *, overwrite: bool = False, check: str | None = None) -> Path:
    """Write ``doc`` as JSON to ``path`` atomically; returns the path written.

    Args:
        doc: the result (a dict).
        path: the target file, e.g. ``vit_tutorial/results/data_hunger.json``.
        overwrite: replace an existing file. Without it, an existing ``path``
            is left alone and the result goes to ``<stem>.<UTC time>.json``
            next to it (the returned path); nothing is silently replaced.
        check: a name of :data:`SCHEMAS` to validate ``doc`` against first.
    """
    if not isinstance(doc, Mapping):
        raise TypeError(f"doc must be a dict, got {type(doc).__name__}")
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or pathlib.Path, got {type(path).__name__}")
    if check is not None:
        validate(check, dict(doc))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not overwrite:
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        new = path.with_name(f"{path.stem}.{stamp}{path.suffix}")
        print(f"{path} exists and was kept (no --overwrite); this result goes to {new}. "
              f"To adopt it: mv {new} {path}")
        path = new
    text = json.dumps(doc, indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would make a committed result unreadable to others
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_experiment(name: str, folder: str | Path | None = None) -> dict:
    """Read the result of ``experiments/<name>.py``: the shipped, validated
    file (:func:`load`), or a re-run of your own.

    Args:
        name: the experiment, e.g. ``"data_hunger"``.
        folder: another results folder (default: ``$VIT_EXPERIMENTS_RESULTS`` if
            set, e.g. to read your own re-run written with ``--out``, else the
            package's shipped results, validated against their schema). A file
            read from a folder is parsed as it is, so a partial or ``--quick``
            result can be looked at too.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be an experiment name such as 'data_hunger', got {name!r}")
    if folder is not None and (not isinstance(folder, (str, Path)) or str(folder) == ""):
        raise ValueError(f"folder must be a results folder (str or Path) or None, got {folder!r}")
    if folder is None:
        folder = os.environ.get("VIT_EXPERIMENTS_RESULTS")
        if not folder:
            return load(name)
    path = Path(folder) / f"{name}.json"
    if not path.is_file():
        raise ValueError(f"no results file {path}; run `python experiments/{name}.py` to create it")
    return json.loads(path.read_text(encoding="utf-8"))


def summarise_runs(rows: Sequence[Mapping], by: Sequence[str], value: str = "test_accuracy") -> list[dict]:
    """Group result rows by the keys ``by`` and give each group's mean, sample
    standard deviation (ddof 1; 0 for a single run) and number of runs of ``value``.

    Returns:
        One dict per group, in order of first appearance:
        ``{**group keys, "mean": ..., "std": ..., "runs": ...}``.
    """
    needed = {*by, value}
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence) or not rows:
        raise ValueError(f"rows must be a non-empty list of dicts, got {type(rows).__name__}")
    bad = next((r for r in rows if not isinstance(r, Mapping) or not needed <= set(r)), None)
    if bad is not None:
        raise ValueError(f"each row of rows needs the keys {sorted(needed)}, got {bad!r}")
    groups: dict[tuple, list[float]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in by), []).append(float(r[value]))
    out = []
    for key, vals in groups.items():
        arr = np.asarray(vals)
        out.append({**dict(zip(by, key)), "mean": float(arr.mean()),
                    "std": float(arr.std(ddof=1)) if len(arr) > 1 else 0.0, "runs": len(arr)})
    return out
