"""Bring chapter notebooks to the book's live-notebook conventions (idempotent).

    .venv/bin/python scripts/normalize_notebooks.py notebooks/*.ipynb          # rewrite what is off
    .venv/bin/python scripts/normalize_notebooks.py --check notebooks/*.ipynb  # list it, exit 1

What it writes (and `--check` verifies):

1. **A setup cell first.** The first code cell installs the book's package when
   the notebook runs on Google Colab and does nothing
   elsewhere except register the ``%%solution`` magic
   (:mod:`vit_tutorial.solutions`); it prints nothing off Colab. Its install URL is
   built from ``repository.url`` and ``repository.branch`` in ``_config.yml``,
   the same setting the book's launch buttons use. The cell is tagged
   ``remove-cell``, so the HTML book does not show it.
2. **Solutions that Run All does not run.** Every code cell between a markdown
   ``{solution-start}`` cell and its ``{solution-end}`` cell starts with the line
   ``%%solution`` (see :mod:`vit_tutorial.solutions`): in a live notebook it
   prints a notice instead of running, while the book's executions
   (``VIT_TUTORIAL_SOLUTIONS=1``: ``scripts/execute_notebooks.py`` and nbval)
   run it, so the stored outputs show the solution's output and nbval checks
   them. Such cells are collapsed in JupyterLab (``jupyter.source_hidden``) and
   tagged ``solution``. The HTML book's dropdown already hides them, so they get
   no ``hide-input`` (that would add a second toggle inside the dropdown).
3. **One sentence that says so**, right under the ``## Exercises`` heading
   (:data:`SOLUTIONS_NOTE`).

`--check` also reports solution cells whose stored output is the "not run"
notice (the notebook was executed without ``VIT_TUTORIAL_SOLUTIONS=1``) and
names that later non-solution cells use but only a solution defines (Run All
would then fail with a NameError). Notebook outputs are never changed: after
normalizing, re-execute the notebooks with ``scripts/execute_notebooks.py``.
"""
from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _solutions_module():
    """vit_tutorial/solutions.py loaded on its own (importing the package would import torch)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_vit_solutions", ROOT / "vit_tutorial" / "solutions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NOTICE = _solutions_module().NOTICE

SETUP_ID = "colab-setup"
SETUP_MARKER = "# Setup: on Google Colab this installs the book's package; elsewhere it does nothing."
SOLUTION_LINE = "%%solution"
SOLUTION_TAG = "solution"
SOLUTIONS_NOTE = (
    "Each solution below is folded away (click it to open). In the live notebook a solution's code starts "
    "with `%%solution`, so Restart and Run All skips it and leaves the exercise to you: delete that line, "
    "or run `%solution on` once, to run it."
)
_NOTE_PREFIX = "Each solution below is folded away"
_EXERCISES = re.compile(r"^(#{2,3} Exercises[^\n]*)\n?", re.M)


def repository(config: Path = ROOT / "_config.yml") -> tuple[str, str]:
    """(url, branch) of ``repository:`` in ``_config.yml`` (the launch buttons' setting)."""
    import yaml

    with open(config, encoding="utf-8") as f:
        repo = (yaml.safe_load(f) or {}).get("repository") or {}
    url, branch = repo.get("url"), repo.get("branch", "main")
    if not isinstance(url, str) or not url.startswith("https://"):
        raise ValueError(f"{config}: repository.url must be an https:// URL, got {url!r}")
    return url.rstrip("/"), str(branch)


def setup_source(url: str, branch: str) -> str:
    """The first code cell of every notebook."""
    return "\n".join([
        SETUP_MARKER,
        "# It also loads %%solution, which keeps Run All from running the exercises' solutions.",
        "import sys",
        "",
        'if "google.colab" in sys.modules:',
        f'    get_ipython().run_line_magic("pip", "install -q git+{url}@{branch}")',
        "    from google.colab import output",
        "    output.enable_custom_widget_manager()  # the interactive explorers are ipywidgets",
        "from vit_tutorial.solutions import load_ipython_extension",
        "",
        "load_ipython_extension(get_ipython())  # as %load_ext, but silent when run again",
    ])


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _is_setup(cell: dict) -> bool:
    return cell.get("cell_type") == "code" and (cell.get("id") == SETUP_ID or _source(cell).startswith(SETUP_MARKER))


def solution_cells(nb: dict) -> list[int]:
    """Indices of the code cells between ``{solution-start}`` and ``{solution-end}`` markdown cells."""
    inside, found = False, []
    for i, cell in enumerate(nb["cells"]):
        src = _source(cell)
        if cell["cell_type"] == "markdown":
            if "{solution-start}" in src:
                inside = "{solution-end}" not in src.split("{solution-start}", 1)[1]
            elif "{solution-end}" in src:
                inside = False
        elif cell["cell_type"] == "code" and inside:
            found.append(i)
    return found


def _with_note(src: str) -> str | None:
    """``src`` with :data:`SOLUTIONS_NOTE` under its Exercises heading (None: no heading)."""
    lines = [ln for ln in src.split("\n\n") if not ln.startswith(_NOTE_PREFIX)]
    src = "\n\n".join(lines)
    m = _EXERCISES.search(src)
    if m is None:
        return None
    rest = src[m.end():].lstrip("\n")
    return src[:m.start()] + m.group(1) + "\n\n" + SOLUTIONS_NOTE + ("\n\n" + rest if rest else "")


def normalize(nb: dict, url: str, branch: str) -> tuple[dict, list[str]]:
    """A normalized copy of ``nb`` and the list of what was changed (empty: already normal)."""
    nb = copy.deepcopy(nb)
    changes: list[str] = []
    cells = nb["cells"]
    # 1. setup cell first
    want = setup_source(url, branch)
    setups = [i for i, c in enumerate(cells) if _is_setup(c)]
    first_code = next((i for i, c in enumerate(cells) if c["cell_type"] == "code"), None)
    if setups and setups[0] == first_code and len(setups) == 1:
        cell = cells[first_code]
        if _source(cell) != want:
            changes.append("setup cell: source out of date (repository.url/branch in _config.yml?)")
            cell["source"] = want
    else:
        for i in reversed(setups):
            del cells[i]
        cell = {"cell_type": "code", "execution_count": None, "id": SETUP_ID, "metadata": {}, "outputs": [],
                "source": want}
        # after the leading markdown cells (title, at-a-glance box), before the first code cell
        at = next((i for i, c in enumerate(cells) if c["cell_type"] == "code"), len(cells))
        cells.insert(at, cell)
        changes.append("setup cell: missing or not the first code cell")
    if cell.get("outputs"):
        changes.append("setup cell: has stored outputs")
        cell["outputs"] = []
    if "remove-cell" not in cell["metadata"].get("tags", []):
        changes.append("setup cell: not tagged remove-cell")
        cell["metadata"]["tags"] = [*cell["metadata"].get("tags", []), "remove-cell"]
    # 2. solution cells
    sols = solution_cells(nb)
    for i in sols:
        cell, label = cells[i], f"cell {i}"
        src = _source(cell)
        if src.split("\n", 1)[0].strip() != SOLUTION_LINE:
            changes.append(f"{label}: solution code does not start with {SOLUTION_LINE}")
            cell["source"] = SOLUTION_LINE + "\n" + src
        meta = cell["metadata"]
        if meta.get("jupyter", {}).get("source_hidden") is not True:
            changes.append(f"{label}: solution not collapsed (jupyter.source_hidden)")
            meta.setdefault("jupyter", {})["source_hidden"] = True
        if SOLUTION_TAG not in meta.get("tags", []):
            changes.append(f"{label}: solution not tagged {SOLUTION_TAG!r}")
            meta["tags"] = [*meta.get("tags", []), SOLUTION_TAG]
    # 3. the sentence under the Exercises heading
    if sols:
        heading = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and _EXERCISES.search(_source(c))]
        if heading:
            cell = cells[heading[0]]
            new = _with_note(_source(cell))
            if new != _source(cell):
                changes.append(f"cell {heading[0]}: the sentence on %%solution is missing under ## Exercises")
                cell["source"] = new
        else:
            changes.append("no '## Exercises' heading for the sentence on %%solution")
    return nb, changes


def problems(nb: dict) -> list[str]:
    """What normalizing cannot fix: stored "not run" notices, names only a solution defines."""
    out = []
    sols = set(solution_cells(nb))
    for i in sorted(sols):
        text = "".join("".join(o.get("text", "")) for o in nb["cells"][i].get("outputs", []))
        if NOTICE in text:
            out.append(f"cell {i}: stored output is the 'not run' notice; re-execute with "
                       "scripts/execute_notebooks.py (it sets VIT_TUTORIAL_SOLUTIONS=1)")
    plain: set[str] = set()     # names bound by cells that Run All runs
    only_sol: set[str] = set()  # names bound so far only by solution cells
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        code = "\n".join(ln for ln in _source(cell).splitlines() if not ln.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        nodes = list(ast.walk(tree))
        bound = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        bound |= {n.name for n in nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        bound |= {(a.asname or a.name).split(".")[0] for n in nodes if isinstance(n, (ast.Import, ast.ImportFrom))
                  for a in n.names}
        if i in sols:
            only_sol |= bound - plain
            continue
        used = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        missing = sorted((used - bound) & only_sol)
        if missing:
            out.append(f"cell {i}: uses {', '.join(missing)}, defined only in a solution cell above "
                       "(Run All would fail there)")
        plain |= bound
        only_sol -= bound
    return out


def _write(path: Path, nb: dict) -> None:
    """Write as nbformat does, atomically (a temp file in the same folder, then rename)."""
    import nbformat

    text = nbformat.writes(nbformat.from_dict(nb), version=4)
    if not text.endswith("\n"):
        text += "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="change nothing; list what is off and exit 1 if anything is")
    parser.add_argument("--config", type=Path, default=ROOT / "_config.yml")
    args = parser.parse_args(argv)
    url, branch = repository(args.config)
    bad = 0
    for path in args.notebooks:
        if path.suffix != ".ipynb" or not path.is_file():
            parser.error(f"expected an existing .ipynb file, got {path}")
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
        new, changes = normalize(nb, url, branch)
        issues = problems(new)
        if args.check:
            for line in changes + issues:
                print(f"{path}: {line}")
            bad += bool(changes or issues)
        else:
            if changes:
                _write(path, new)
                print(f"{path}: normalized ({len(changes)} change{'s' * (len(changes) != 1)})")
            for line in issues:
                print(f"{path}: WARNING: {line}")
    if args.check and bad:
        print(f"{bad} notebook(s) off; run: python scripts/normalize_notebooks.py {' '.join(map(str, args.notebooks))}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
