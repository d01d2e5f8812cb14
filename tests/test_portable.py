"""The package works without the repository around it (issue 14).

* A plain, non-editable install (``pip install --target``, as ``pip install
  <repo>`` on Colab) imported from a folder outside the checkout ships and
  loads every result the notebooks read.
* No package module and no notebook code cell reads a path into the
  checkout (``benchmarks/``, ``experiments/``, ``parents[..]``,
  ``parent.parent``, ``../``).

The notebooks themselves are run that way by ``make nbval-portable``.
"""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

from vit_tutorial import results

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "vit_tutorial"
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))

#: Code that reads a path into the checkout (comments are stripped first).
REPO_PATH = re.compile(
    r"parents\[\d+\]"                             # Path(...).parents[2]
    r"|parent\.parent"                            # Path(vt.__file__).parent.parent
    r"|\b(?:benchmarks|experiments)/results\b"    # "benchmarks/results/x.json"
    r"|[\"'](?:benchmarks|experiments)[\"']"      # ... / "benchmarks" / "results"
    r"|[\"']\.\./"                                # "../benchmarks"
)

#: Notebooks whose owners have not yet replaced a repository path by
#: vit_tutorial.results.load (each entry: why). Remove an entry when fixed.
KNOWN_OFFENDERS: dict[str, str] = {}


def _strip_comments(code: str) -> str:
    """``code`` without its comments (tokenize; line-wise if it does not tokenize, e.g. magics)."""
    try:
        toks = [t for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type != tokenize.COMMENT]
        return tokenize.untokenize(toks)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return "\n".join(re.sub(r"\s#.*$|^#.*$", "", line) for line in code.splitlines())


def repo_paths_in(code: str) -> list[str]:
    """The lines of ``code`` that read a path into the repository."""
    return [line.strip() for line in _strip_comments(code).splitlines() if REPO_PATH.search(line)]


def test_the_detector_finds_what_it_should():
    assert repo_paths_in('p = Path(vt.__file__).parent.parent / "benchmarks/results/x.json"')
    assert repo_paths_in('RESULTS = Path(__file__).resolve().parents[2] / "experiments" / "results"')
    assert repo_paths_in('open("../benchmarks/x.json")')
    assert not repo_paths_in('doc = load("data_hunger")  # written by experiments/data_hunger.py')
    assert not repo_paths_in('print("run python experiments/data_hunger.py to redo it")')
    assert not repo_paths_in("%pip install -q vit-tutorial  # see ../README")


_PARENTS = re.compile(r"__file__\)?(?:\.resolve\(\)|\.absolute\(\))?(?:((?:\.parent(?!s))+)|\.parents\[(\d+)\])")


def escapes_package(line: str, depth: int) -> bool:
    """Whether ``Path(__file__)...parent...`` in ``line``, in a module ``depth``
    folders below the package root's parent (vit_tutorial/x.py: 1), climbs out
    of the package, i.e. to the repository."""
    for m in _PARENTS.finditer(line):
        ups = m.group(1).count(".parent") if m.group(1) else int(m.group(2)) + 1
        if ups > depth:
            return True
    return False


def test_escapes_package():
    assert not escapes_package('Path(__file__).resolve().parent / "checkpoints"', 1)
    assert not escapes_package('Path(__file__).resolve().parent.parent / "checkpoints"', 2)
    assert escapes_package('Path(__file__).resolve().parent.parent / "benchmarks"', 1)
    assert escapes_package("Path(__file__).resolve().parents[2]", 2)
    assert not escapes_package("Path(__file__).resolve().parents[1]", 2)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(REPO)))
def test_no_package_module_reads_a_repo_path(path):
    """Paths relative to a module that stay inside the package (its
    checkpoints) are package data; anything reaching the repository is not."""
    depth = len(path.relative_to(PACKAGE).parts)
    hits = [line for line in repo_paths_in(path.read_text(encoding="utf-8"))
            if escapes_package(line, depth) or not re.search(r"parents\[\d+\]|parent\.parent", line)]
    assert hits == []


def _notebook_params():
    for nb in NOTEBOOKS:
        marks = ()
        if nb.name in KNOWN_OFFENDERS:
            marks = pytest.mark.xfail(reason=f"owner to fix: {KNOWN_OFFENDERS[nb.name]}", strict=False)
        yield pytest.param(nb, id=nb.name, marks=marks)


@pytest.mark.parametrize("nb", list(_notebook_params()))
def test_no_notebook_reads_a_repo_path(nb):
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    found = {i: hits for i, c in enumerate(cells)
             if c["cell_type"] == "code" and (hits := repo_paths_in("".join(c["source"])))}
    assert found == {}, f"{nb.name}: cells reading a path into the repository (use vit_tutorial.results.load)"


@pytest.fixture(scope="module")
def target_install(tmp_path_factory):
    """A non-editable install of the working tree into a temporary folder."""
    tmp = tmp_path_factory.mktemp("portable")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "setup.cfg"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, src / name)
    shutil.copytree(PACKAGE, src / "vit_tutorial", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--quiet", "--no-index",
         "--no-deps", "--no-build-isolation", "--target", str(tmp / "site"), str(src)],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return tmp / "site"


@pytest.mark.slow
def test_installed_package_loads_every_result_outside_the_repo(target_install, tmp_path):
    """From a cwd outside the repo, the installed copy (not the checkout) is
    imported and loads every result shipped in the checkout."""
    expected = results.available()
    code = (
        "import json, vit_tutorial\n"
        "from vit_tutorial.results import available, load\n"
        "from vit_tutorial.viz import load_experiment, load_result\n"
        "docs = {n: load(n) for n in available()}\n"
        "assert load_result('train_mnist') == docs['train_mnist']\n"
        "assert load_experiment('data_hunger') == docs['data_hunger']\n"
        "print(json.dumps({'file': vit_tutorial.__file__, 'names': sorted(docs)}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIT_EXPERIMENTS_RESULTS")}
    env.update(PYTHONPATH=str(target_install), PYTHONNOUSERSITE="1", OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert Path(out["file"]).resolve().is_relative_to(target_install.resolve()), out["file"]
    assert out["names"] == expected
    shipped = sorted(p.name for p in (target_install / "vit_tutorial" / "results").glob("*.json"))
    in_checkout = sorted(p.name for p in (PACKAGE / "results").glob("*.json"))
    assert shipped == in_checkout, "result files missing from the install: check [tool.setuptools.package-data]"
