"""scripts/normalize_notebooks.py and vit_tutorial.solutions: the setup cell that
installs the package on Colab only, and `%%solution` cells that Run All skips."""
from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
import types
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from vit_tutorial import solutions

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "normalize_notebooks.py"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

spec = importlib.util.spec_from_file_location("normalize_notebooks", SCRIPT)
norm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(norm)


def md(src):
    return {"cell_type": "markdown", "metadata": {}, "source": src}


def code(src, outputs=()):
    return {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": list(outputs), "source": src}


def chapter():
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        md("# 1. A chapter\n\n:::{admonition} At a glance\n:class: tip\nShort.\n:::"),
        code("import math"),
        md("## Exercises\n\n```{exercise} One\n:label: ex-one\nDo it.\n```"),
        code("def f(x):\n    raise NotImplementedError\n\ncheck(f)"),
        md("```{solution-start} ex-one\n:class: dropdown\n```\nExplain."),
        code("def f(x):\n    return x\n\ncheck(f)",
             [{"output_type": "stream", "name": "stdout", "text": "Correct!\n"}]),
        md("```{solution-end}\n```"),
        code("print(math.pi)"),
    ]}


URL, BRANCH = norm.repository()


def test_repository_is_the_launch_button_setting():
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert URL == config["repository"]["url"].rstrip("/")
    assert BRANCH == config["repository"].get("branch", "main")
    assert f"git+{URL}@{BRANCH}" in norm.setup_source(URL, BRANCH)


def test_normalize_adds_setup_solutions_and_note_and_is_idempotent():
    nb, changes = norm.normalize(chapter(), URL, BRANCH)
    assert changes
    cells = nb["cells"]
    first_code = next(c for c in cells if c["cell_type"] == "code")
    assert first_code is cells[1] and first_code["id"] == norm.SETUP_ID
    assert first_code["metadata"]["tags"] == ["remove-cell"] and first_code["outputs"] == []
    sol = cells[6]
    assert sol["source"].startswith("%%solution\ndef f(x):")
    assert sol["metadata"]["jupyter"] == {"source_hidden": True} and sol["metadata"]["tags"] == ["solution"]
    assert sol["outputs"][0]["text"] == "Correct!\n"  # stored outputs are never touched
    stub = cells[4]
    assert not stub["source"].startswith("%%solution") and "jupyter" not in stub["metadata"]
    assert cells[3]["source"].startswith("## Exercises\n\n" + norm.SOLUTIONS_NOTE + "\n\n```{exercise} One")
    again, changes2 = norm.normalize(nb, URL, BRANCH)
    assert changes2 == [] and again == nb


def test_normalize_repairs_an_outdated_setup_cell():
    nb, _ = norm.normalize(chapter(), URL, BRANCH)
    nb["cells"][1]["source"] = nb["cells"][1]["source"].replace(URL, "https://example.org/old")
    fixed, changes = norm.normalize(nb, URL, BRANCH)
    assert any("out of date" in c for c in changes)
    assert sum(norm._is_setup(c) for c in fixed["cells"]) == 1 and URL in fixed["cells"][1]["source"]


def test_problems_flags_solution_only_names_and_stored_notices():
    nb = chapter()
    nb["cells"][5]["source"] += "\nhelper = f"
    nb["cells"].append(code("print(helper(2), f(3))"))  # helper exists only in the solution: Run All fails here
    nb["cells"][5]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": solutions.NOTICE + "\n"}]
    nb, _ = norm.normalize(nb, URL, BRANCH)
    found = norm.problems(nb)
    assert any("uses helper, defined only in a solution" in p for p in found), found
    assert any("'not run' notice" in p for p in found), found
    clean, _ = norm.normalize(chapter(), URL, BRANCH)
    assert norm.problems(clean) == []


def test_cli_check_then_fix(tmp_path):
    path = tmp_path / "ch.ipynb"
    path.write_text(json.dumps(chapter()))
    run = lambda *a: subprocess.run([sys.executable, str(SCRIPT), *a, str(path)], capture_output=True, text=True)
    first = run("--check")
    assert first.returncode == 1 and "%%solution" in first.stdout
    assert json.loads(path.read_text()) == chapter()  # --check changes nothing
    assert run().returncode == 0
    once = path.read_text()
    assert run("--check").returncode == 0
    assert run().returncode == 0 and path.read_text() == once  # idempotent, file untouched
    assert [p.name for p in tmp_path.iterdir()] == ["ch.ipynb"]  # no temp file left


def test_cli_rejects_a_non_notebook(tmp_path):
    bad = tmp_path / "x.txt"
    bad.write_text("{}")
    out = subprocess.run([sys.executable, str(SCRIPT), str(bad)], capture_output=True, text=True)
    assert out.returncode == 2 and "expected an existing .ipynb" in out.stderr


# ---------------------------------------------------------------- the setup cell runs


@pytest.fixture()
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    sh = InteractiveShell.instance()
    yield sh
    solutions.unload_ipython_extension(sh)
    solutions._state["on"] = None


def _run(shell, src):
    buf = io.StringIO()
    with redirect_stdout(buf):
        result = shell.run_cell(src, store_history=False)
    assert result.error_before_exec is None and result.error_in_exec is None, result
    return buf.getvalue()


def test_setup_cell_does_nothing_off_colab_and_installs_on_colab(shell, monkeypatch):
    src = norm.setup_source(URL, BRANCH)
    calls = []
    real = shell.run_line_magic

    def spy(name, line, *a, **k):
        if name == "pip":
            calls.append(line)
            return None
        return real(name, line, *a, **k)

    monkeypatch.setattr(shell, "run_line_magic", spy)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert _run(shell, src) == "" and calls == []
    enabled = []
    colab = types.ModuleType("google.colab")
    colab.output = types.SimpleNamespace(enable_custom_widget_manager=lambda: enabled.append(True))
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    assert _run(shell, src) == ""
    assert calls == [f"install -q git+{URL}@{BRANCH}"] and enabled == [True]


def test_solution_cells_skip_unless_enabled(shell, monkeypatch):
    monkeypatch.delenv(solutions.ENV_VAR, raising=False)
    _run(shell, "%load_ext vit_tutorial.solutions")
    cell = "%%solution\nanswer = 6 * 7\nprint(answer)"
    assert _run(shell, cell) == solutions.NOTICE + "\n" and "answer" not in shell.user_ns
    assert _run(shell, "print('plain')") == "plain\n"
    monkeypatch.setenv(solutions.ENV_VAR, "1")
    assert _run(shell, cell) == "42\n" and shell.user_ns["answer"] == 42
    monkeypatch.delenv(solutions.ENV_VAR)
    assert "notice" in _run(shell, "%solution off")
    assert _run(shell, cell) == solutions.NOTICE + "\n"
    assert _run(shell, "%solution on") == "solutions run\n"
    assert _run(shell, "%%solution\nprint(1 + 1)") == "2\n"
    failing = shell.run_cell("%%solution\n1 / 0", store_history=False)
    assert isinstance(failing.error_in_exec, ZeroDivisionError)  # an error is an error, shown once


def test_show_solutions_and_line_magic_reject_bad_input():
    with pytest.raises(TypeError, match="True or False"):
        solutions.show_solutions("yes")
    with pytest.raises(ValueError, match="'on' or 'off'"):
        solutions._line("maybe")


# ---------------------------------------------------------------- the committed notebooks


def test_committed_notebooks_follow_the_conventions():
    out = subprocess.run([sys.executable, str(SCRIPT), "--check", *map(str, NOTEBOOKS)],
                         capture_output=True, text=True, cwd=ROOT)
    applied = [p.name for p in NOTEBOOKS if any(norm._is_setup(c) for c in json.loads(p.read_text())["cells"])]
    if out.returncode and not applied:
        pytest.xfail("scripts/normalize_notebooks.py has not been applied to notebooks/ yet (the coordinator "
                     "runs it, then re-executes the notebooks):\n" + out.stdout[-2000:])
    assert out.returncode == 0, out.stdout + out.stderr
