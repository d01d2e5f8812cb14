"""How long the whole book takes: every notebook executed from scratch, and
the HTML build from the stored outputs.

* **Execution**: each notebook under ``notebooks/`` is run top to bottom
  with nbclient in a fresh ``python3`` kernel (its working directory is the
  notebook's folder, as for nbval and nbconvert), one after the other, and
  timed individually, kernel start included. Nothing is written back: the
  notebooks in the repository are not touched.
* **Build**: the repository is copied (without ``.git``, ``.venv`` and
  ``_build``) to a temporary folder and ``jupyter-book build <copy> -W -n
  --keep-going`` (the command of ``make html``) is timed there. The book
  does not execute notebooks (``execute_notebooks: off``), so this is the
  time to render the stored outputs.

    python benchmarks/book_time.py                   # both, ~5 min on 2 cores
    python benchmarks/book_time.py --skip-build      # execution only
    python benchmarks/book_time.py --notebooks notebooks/01_x.ipynb --skip-build
    python benchmarks/book_time.py --quick           # the smallest notebook only, no build
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common


def find_notebooks(root: Path) -> list[Path]:
    """Every ``.ipynb`` under ``root/notebooks`` (checkpoints excluded), sorted."""
    return sorted(p for p in (root / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def execute_notebook(path: Path, timeout: int = 600) -> dict:
    """Run ``path`` in a fresh kernel; returns seconds, cell count and status."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    t0 = time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as e:
        error = str(e).strip().splitlines()[-1][:300]
    seconds = time.perf_counter() - t0
    code_cells = sum(c.cell_type == "code" for c in nb.cells)
    return {"notebook": str(path.relative_to(common.REPO)) if path.is_relative_to(common.REPO) else str(path),
            "seconds": seconds, "code_cells": code_cells, "ok": error is None, "error": error}


def build_book(root: Path) -> dict:
    """Copy the repository to a temporary folder and time ``jupyter-book build`` there."""
    jb = Path(sys.executable).with_name("jupyter-book")
    if not jb.exists():
        raise ValueError(f"jupyter-book was not found next to this Python ({jb}); install requirements.txt")
    with tempfile.TemporaryDirectory(prefix="vit-book-") as tmp:
        copy = Path(tmp) / "book"
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".git", ".venv", "_build", "__pycache__",
                                                                   ".ipynb_checkpoints", ".pytest_cache"))
        t0 = time.perf_counter()
        proc = subprocess.run([str(jb), "build", str(copy), "-W", "-n", "--keep-going"],
                              capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        pages = len(list((copy / "_build" / "html").rglob("*.html")))
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
    return {"seconds": seconds, "returncode": proc.returncode, "html_pages": pages, "log_tail": tail}


def main() -> None:
    p = common.base_parser(__doc__.splitlines()[0])
    p.add_argument("--skip-build", action="store_true", help="do not time the jupyter-book build")
    p.add_argument("--skip-execute", action="store_true", help="do not execute the notebooks")
    p.add_argument("--notebooks", nargs="+", type=Path, default=None,
                   help="notebooks to execute (default: every notebook under notebooks/)")
    args = p.parse_args()
    device = common.setup(args)
    notebooks = [n.resolve() for n in args.notebooks] if args.notebooks else find_notebooks(common.REPO)
    if args.quick:  # only check the script works: the smallest notebook, no build
        notebooks, args.skip_build = sorted(notebooks, key=lambda n: n.stat().st_size)[:1], True
    missing = [str(n) for n in notebooks if not n.is_file()]
    if missing:
        raise SystemExit(f"no such notebook: {', '.join(missing)}")

    rows = []
    if not args.skip_execute:
        for nb in notebooks:
            print(f"executing {nb.name} ...", flush=True)
            rows.append(execute_notebook(nb))
            print(f"  {rows[-1]['seconds']:.1f} s{'' if rows[-1]['ok'] else '  FAILED: ' + rows[-1]['error']}",
                  flush=True)
        print()
        print(common.format_table(rows, [("notebook", "notebook", ""), ("code_cells", "code cells", "d"),
                                         ("seconds", "seconds", ".1f"), ("ok", "ok", "")]))
        print(f"\ntotal: {sum(r['seconds'] for r in rows):.1f} s for {len(rows)} notebooks")

    build = None
    if not args.skip_build:
        print("\nbuilding the book from a clean copy ...", flush=True)
        build = build_book(common.REPO)
        print(f"jupyter-book build: {build['seconds']:.1f} s, exit code {build['returncode']}, "
              f"{build['html_pages']} HTML pages")

    common.write_result("book_time", {
        "settings": {"kernel": "python3", "executor": "nbclient, one fresh kernel per notebook, sequential",
                     "build_command": "jupyter-book build <clean copy> -W -n --keep-going",
                     "target_total_s": 300},
        "rows": rows,
        "execute_total_s": sum(r["seconds"] for r in rows) if rows else None,
        "all_ok": all(r["ok"] for r in rows) if rows else None,
        "build": build,
    }, args.out, args.quick, device, overwrite=args.overwrite)
    if rows and not all(r["ok"] for r in rows) or build and build["returncode"] != 0:
        sys.exit(1)


if __name__ == "__main__":
    main()
