"""The ``%%solution`` cell magic: Run All does not fill in the exercises' answers.

Every worked solution in the chapter notebooks starts with the line
``%%solution``. In a live notebook (JupyterLab, Binder, Colab) such a cell
prints a one-line notice instead of running, so Restart and Run All leaves the
exercises to the learner. To run one solution, delete its first line; to run
all of them, run ``%solution on`` once (``%solution off`` hides them again).

The book's own runs (``scripts/execute_notebooks.py``, which writes the stored
outputs, and nbval in ``make test``, which checks them) set the environment
variable ``VIT_TUTORIAL_SOLUTIONS=1``: there every solution runs, so the HTML
book shows its output and nbval compares it.

The first code cell of every notebook loads this IPython extension (as
``%load_ext vit_tutorial.solutions`` would); ``scripts/normalize_notebooks.py``
writes that cell.
"""
from __future__ import annotations

import os

__all__ = ["ENV_VAR", "NOTICE", "solutions_enabled", "show_solutions", "load_ipython_extension",
           "unload_ipython_extension"]

#: Environment variable that makes every ``%%solution`` cell run ("1", "true", "yes" or "on").
ENV_VAR = "VIT_TUTORIAL_SOLUTIONS"

#: What a skipped solution cell prints.
NOTICE = ("Solution not run, so that Run All leaves the exercise to you. To run it, delete this cell's "
          "first line %%solution (or run %solution on once to run every solution).")

_state: dict[str, bool | None] = {"on": None}  # None: follow the environment variable


def solutions_enabled() -> bool:
    """Whether ``%%solution`` cells run now: ``show_solutions`` if called, else the environment variable."""
    if _state["on"] is not None:
        return bool(_state["on"])
    return os.environ.get(ENV_VAR, "").strip().lower() in {"1", "true", "yes", "on"}


def show_solutions(on: bool = True) -> None:
    """Make every later ``%%solution`` cell run (``on=True``) or print its notice (``on=False``)."""
    if not isinstance(on, bool):
        raise TypeError(f"on must be True or False, got {type(on).__name__}")
    _state["on"] = on


def _line(line: str) -> None:
    word = line.strip().lower()
    if word not in {"on", "off", ""}:
        raise ValueError(f"%solution takes 'on' or 'off', got {line.strip()!r}")
    if word:
        show_solutions(word == "on")
    print("solutions run" if solutions_enabled() else "solutions print a notice instead of running")


def _transform(lines: list[str]) -> list[str]:
    """IPython input transformer: a cell whose first line is ``%%solution`` runs as its
    body (the rest of the cell, unchanged) or prints :data:`NOTICE`."""
    if not lines or lines[0].strip() != "%%solution":
        return lines
    if solutions_enabled():
        return ["\n", *lines[1:]]  # a blank first line keeps the line numbers of tracebacks
    return [f"print({NOTICE!r})\n"]


def load_ipython_extension(ipython) -> None:  # noqa: ANN001 (IPython's InteractiveShell)
    """Register ``%%solution`` (cell) and ``%solution on|off`` (line) in an IPython shell.

    The cell form works as an input transformer, so a solution runs exactly as
    the plain cell would (its last value displayed, an error shown once).
    """
    if _transform not in ipython.input_transformers_cleanup:
        ipython.input_transformers_cleanup.append(_transform)

    def solution(line: str, cell: str | None = None) -> None:  # reached only as a line magic
        if cell is not None:
            raise RuntimeError("%%solution must be the first line of its cell")
        return _line(line)

    ipython.register_magic_function(solution, magic_kind="line_cell", magic_name="solution")


def unload_ipython_extension(ipython) -> None:  # noqa: ANN001
    """Remove the input transformer (``%unload_ext vit_tutorial.solutions``)."""
    if _transform in ipython.input_transformers_cleanup:
        ipython.input_transformers_cleanup.remove(_transform)
