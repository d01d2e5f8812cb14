"""Write learner handouts: the chapter notebooks without their solutions.

    python scripts/make_handouts.py                 # every notebook -> _build/handouts/
    python scripts/make_handouts.py --out DIR notebooks/01_images_to_patches.ipynb

For each notebook the handout keeps every cell except the solutions:

* everything from a markdown cell's ```` ```{solution-start} ```` marker up to and
  including the ```` ```{solution-end} ```` marker (the cells in between, code
  and markdown, are dropped; text before the start marker or after the end
  marker in the same cell is kept);
* every ```` ```{solution} ```` directive block inside a markdown cell.

The exercise text and the stub cell that calls its ``check_*`` self-check stay.
All outputs and execution counts are cleared (a stored "Correct!" would give the
answer away), and so is the stored widget state. A short note is put at the top.

The output folder must be empty or hold only handouts this script wrote (each
carries ``metadata["vit_handout"]``); any other file in it is an error, so
nothing else is ever overwritten. Each file is written to a temporary name and
then renamed, so no handout is left half-written.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys
import tempfile
from pathlib import Path

__all__ = ["strip_solutions", "make_handout", "write_handouts", "main"]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "_build" / "handouts"

# A ```{solution} directive block (fence of 3+ backticks or colons) inside a markdown cell.
_SOLUTION_BLOCK = re.compile(r"^(?P<fence>`{3,}|:{3,})\{solution\}.*?^(?P=fence)[ \t]*$\n?", re.M | re.S)

NOTE = (
    "> **Handout.** This copy of the chapter has no solutions and no stored outputs. "
    "Run it from the top; each exercise's self-check tells you whether your answer is "
    "right. The worked solutions are in the book."
)


#: First words of the live notebooks' solution note (scripts/normalize_notebooks.py).
SOLUTIONS_NOTE_PREFIX = "Each solution below is folded away"


def _start_match(text: str):
    """The first solution-start marker (its whole fenced header) in ``text``, or None."""
    m = re.search(r"^(`{3,}|:{3,})\{solution-start\}", text, re.M)
    if m is None:
        return None
    fence = m.group(1)
    # The directive's closing fence: the first line after the header that is exactly the fence.
    close = re.compile(r"^" + re.escape(fence) + r"[ \t]*$", re.M)
    c = close.search(text, m.end())
    end = c.end() if c else len(text)
    return m.start(), end


def _end_match(text: str, pos: int = 0):
    """(start, end) of the first solution-end marker at or after ``pos``, or None."""
    m = re.search(r"^(`{3,}|:{3,})\{solution-end\}[^\n]*$", text[pos:], re.M)
    if m is None:
        return None
    fence = m.group(1)
    start = pos + m.start()
    close = re.compile(r"^" + re.escape(fence) + r"[ \t]*$", re.M)
    c = close.search(text, pos + m.end())
    end = c.end() if c else pos + m.end()
    return start, end


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def strip_solutions(nb: dict) -> tuple[dict, int]:
    """Return a copy of notebook ``nb`` (nbformat 4 JSON) without solutions, and the
    number of solutions removed. Raises ValueError on an unterminated solution."""
    if not isinstance(nb, dict) or "cells" not in nb:
        raise TypeError(f"expected a notebook dict with 'cells', got {type(nb).__name__}")
    out = copy.deepcopy(nb)
    kept: list[dict] = []
    inside = False
    removed = 0
    for index, cell in enumerate(out["cells"]):
        text = _source(cell)
        if cell.get("cell_type") != "markdown":
            if not inside:
                kept.append(cell)
            continue
        pieces: list[str] = []
        pos = 0
        while True:
            if not inside:
                s = _start_match(text[pos:])
                if s is None:
                    pieces.append(text[pos:])
                    break
                pieces.append(text[pos:pos + s[0]])
                pos += s[1]
                inside = True
                removed += 1
            else:
                e = _end_match(text, pos)
                if e is None:
                    break  # the whole rest of this cell is solution
                pos = e[1]
                inside = False
        new = _SOLUTION_BLOCK.sub("", "".join(pieces))
        if _SOLUTION_BLOCK.search("".join(pieces)):
            removed += len(_SOLUTION_BLOCK.findall("".join(pieces)))
        new = new.strip("\n")
        if new.strip():
            cell["source"] = new
            kept.append(cell)
    if inside:
        raise ValueError("a {solution-start} marker has no matching {solution-end} marker "
                         "before the end of the notebook")
    out["cells"] = kept
    return out, removed


def make_handout(nb: dict) -> dict:
    """Strip the solutions, clear every output, add the handout note."""
    handout, removed = strip_solutions(nb)
    for cell in handout["cells"]:
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        if "attachments" in cell and not cell["attachments"]:
            del cell["attachments"]
        if cell.get("cell_type") == "markdown":
            # The live notebook's note on folded, skipped solutions (added by
            # normalize_notebooks.py) is wrong in a handout, which has none.
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            kept = [p for p in src.split("\n\n") if not p.startswith(SOLUTIONS_NOTE_PREFIX)]
            cell["source"] = "\n\n".join(kept)
    meta = handout.setdefault("metadata", {})
    meta.pop("widgets", None)
    meta["vit_handout"] = {"solutions_removed": removed}
    handout["cells"].insert(0, {"cell_type": "markdown", "id": "vit-handout-note",
                                "metadata": {}, "source": NOTE})
    return handout


def _check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out must be a folder, got the file {out}")
    if not out.exists():
        return
    for entry in out.iterdir():
        ok = False
        if entry.is_file() and entry.suffix == ".ipynb":
            try:
                ok = "vit_handout" in json.loads(entry.read_text(encoding="utf-8")).get("metadata", {})
            except (OSError, ValueError):
                ok = False
        if not ok:
            raise ValueError(f"{out} holds {entry.name}, which is not a handout written by this "
                             "script; choose an empty folder (nothing is overwritten)")


def write_handouts(notebooks: list[Path], out: Path) -> list[Path]:
    """Write one handout per notebook into ``out``; return the paths written."""
    if not notebooks:
        raise ValueError("expected at least one notebook, got none")
    for path in notebooks:
        if path.suffix != ".ipynb" or not path.is_file():
            raise ValueError(f"expected an existing .ipynb file, got {path}")
    out = Path(out)
    _check_out_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        try:
            handout = make_handout(nb)
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
        target = out / path.name
        fd, tmp = tempfile.mkstemp(dir=out, prefix=".tmp-", suffix=".ipynb")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(handout, f, indent=1, ensure_ascii=False)
                f.write("\n")
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to convert (default: every notebooks/*.ipynb)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"output folder (default: {DEFAULT_OUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    try:
        written = write_handouts(notebooks, args.out)
    except ValueError as err:
        print(f"make_handouts: error: {err}", file=sys.stderr)
        return 2
    for path in written:
        nb = json.loads(path.read_text(encoding="utf-8"))
        print(f"{path}: {nb['metadata']['vit_handout']['solutions_removed']} solutions removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
