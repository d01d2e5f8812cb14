"""Handouts (scripts/make_handouts.py): no solution survives, self-checks stay, and a
handout runs from the top up to its first exercise."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

_spec = importlib.util.spec_from_file_location("make_handouts", ROOT / "scripts" / "make_handouts.py")
make_handouts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_handouts)


def _src(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _split(nb):
    """(solution code cells, all other cells) of a source notebook, by the markers."""
    solution, other, inside = [], [], False
    for cell in nb["cells"]:
        text = _src(cell)
        starts = cell["cell_type"] == "markdown" and re.search(r"^[`:]{3,}\{solution-start\}", text, re.M)
        ends = cell["cell_type"] == "markdown" and re.search(r"^[`:]{3,}\{solution-end\}", text, re.M)
        if starts:
            inside = True
        (solution if inside and cell["cell_type"] == "code" else other).append(cell)
        if ends:
            inside = False
    return solution, other


def _code_lines(text: str) -> set[str]:
    lines = set()
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        if len(line) >= 8:
            lines.add(line)
    return lines


@pytest.fixture(scope="module")
def handouts(tmp_path_factory):
    out = tmp_path_factory.mktemp("handouts")
    written = make_handouts.write_handouts(NOTEBOOKS, out)
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in written}


def test_every_notebook_gets_a_handout(handouts):
    assert sorted(handouts) == sorted(p.name for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_solution_code_survives(path, handouts):
    nb = json.loads(path.read_text(encoding="utf-8"))
    solution, other = _split(nb)
    handout = handouts[path.name]
    n_exercises = sum(len(re.findall(r"^[`:]{3,}\{exercise\}", _src(c), re.M))
                      for c in nb["cells"] if c["cell_type"] == "markdown")
    assert handout["metadata"]["vit_handout"]["solutions_removed"] == n_exercises
    text = "\n".join(_src(c) for c in handout["cells"])
    assert "{solution-start}" not in text and "{solution-end}" not in text and "{solution}" not in text
    # Lines that only a solution has (not the stub's `def` line or its check call).
    shared = set().union(*(_code_lines(_src(c)) for c in other)) if other else set()
    handout_lines = set().union(*(_code_lines(_src(c)) for c in handout["cells"] if c["cell_type"] == "code"))
    for cell in solution:
        own = _code_lines(_src(cell)) - shared
        assert own, f"{path.name}: a solution cell has no line of its own, so this test could not see it:\n{_src(cell)}"
        leaked = own & handout_lines
        assert not leaked, f"{path.name}: solution code left in the handout: {sorted(leaked)[:3]}"
    if n_exercises:
        assert solution, f"{path.name}: exercises but no solution code cells found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercises_and_self_checks_are_kept(path, handouts):
    nb = json.loads(path.read_text(encoding="utf-8"))
    handout = handouts[path.name]
    for tag in (r"\{exercise\}",):
        want = sum(len(re.findall(tag, _src(c))) for c in nb["cells"] if c["cell_type"] == "markdown")
        got = sum(len(re.findall(tag, _src(c))) for c in handout["cells"] if c["cell_type"] == "markdown")
        assert got == want
    _, other = _split(nb)
    stubs = [_src(c) for c in other if c["cell_type"] == "code" and "NotImplementedError" in _src(c)]
    handout_code = [_src(c) for c in handout["cells"] if c["cell_type"] == "code"]
    for stub in stubs:
        assert stub in handout_code
    assert all(c["outputs"] == [] and c["execution_count"] is None
               for c in handout["cells"] if c["cell_type"] == "code")
    assert "widgets" not in handout["metadata"]


def test_strip_solutions_keeps_text_around_the_markers():
    nb = {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "```{exercise} E\n:label: e\nDo it.\n```"},
        {"cell_type": "code", "metadata": {}, "source": "def f():\n    raise NotImplementedError", "outputs": [], "execution_count": None},
        {"cell_type": "markdown", "metadata": {}, "source": "Before.\n\n```{solution-start} e\n:class: dropdown\n```\nHint."},
        {"cell_type": "code", "metadata": {}, "source": "def f():\n    return 42", "outputs": [], "execution_count": 3},
        {"cell_type": "markdown", "metadata": {}, "source": "Answer.\n\n```{solution-end}\n```\n\n## Summary"},
        {"cell_type": "markdown", "metadata": {}, "source": "Intro\n\n````{solution} e\nSecret\n````\nAfter"},
    ]}
    out, removed = make_handouts.strip_solutions(nb)
    texts = [_src(c) for c in out["cells"]]
    assert removed == 2
    assert texts == ["```{exercise} E\n:label: e\nDo it.\n```", "def f():\n    raise NotImplementedError",
                     "Before.", "## Summary", "Intro\n\nAfter"]
    assert len(nb["cells"]) == 6  # the input is not modified


def test_live_solution_note_is_dropped():
    """The live notebooks say how folded solutions are skipped; a handout has none."""
    note = make_handouts.SOLUTIONS_NOTE_PREFIX + " (click it to open). Run it with %solution on."
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "## Exercises\n\n" + note + "\n\nDo these."}]}
    out = make_handouts.make_handout(nb)
    texts = [_src(c) for c in out["cells"]]
    assert texts[1] == "## Exercises\n\nDo these."
    assert not any(make_handouts.SOLUTIONS_NOTE_PREFIX in t for t in texts)


def test_unterminated_solution_is_an_error():
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "```{solution-start} e\n```"},
                    {"cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": []}]}
    with pytest.raises(ValueError, match="solution-end"):
        make_handouts.strip_solutions(nb)
    with pytest.raises(TypeError, match="notebook"):
        make_handouts.strip_solutions([1, 2])


def test_refuses_to_overwrite_other_files(tmp_path):
    (tmp_path / "mine.ipynb").write_text("{}", encoding="utf-8")
    with pytest.raises(ValueError, match="not a handout"):
        make_handouts.write_handouts(NOTEBOOKS[:1], tmp_path)
    assert (tmp_path / "mine.ipynb").read_text(encoding="utf-8") == "{}"
    with pytest.raises(ValueError, match=r"\.ipynb"):
        make_handouts.write_handouts([tmp_path / "missing.ipynb"], tmp_path / "out")
    # Re-running into its own output folder is allowed (handouts are regenerated).
    out = tmp_path / "out2"
    make_handouts.write_handouts(NOTEBOOKS[:1], out)
    make_handouts.write_handouts(NOTEBOOKS[:1], out)
    assert [p.name for p in out.iterdir()] == [NOTEBOOKS[0].name]


# Two cheap chapters, to keep the run under 2 minutes (chapter 4 trains six small
# models before its first exercise); the other handouts are checked statically above.
RUN = ["01_images_to_patches.ipynb", "07_head_and_loss.ipynb"]


@pytest.mark.slow
@pytest.mark.parametrize("name", RUN)
def test_handout_runs_up_to_its_first_exercise(name, handouts):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.reads(json.dumps(handouts[name]), as_version=4)  # sources as strings
    stub_index = next(i for i, c in enumerate(nb.cells)
                      if c.cell_type == "code" and "NotImplementedError" in c.source and "check_" in c.source)
    env_threads = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    old = {k: os.environ.get(k) for k in env_threads}
    os.environ.update(env_threads)
    start = time.perf_counter()
    try:
        client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                         resources={"metadata": {"path": str(ROOT / "notebooks")}})
        with client.setup_kernel():
            for i in range(stub_index + 1):
                client.execute_cell(nb.cells[i], i)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    printed = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                      for o in nb.cells[stub_index].outputs)
    assert "Not yet" in printed, printed
    assert time.perf_counter() - start < 120
