"""Shared test set-up: the plotting backend, figure clean-up, and ``raises_with``.

* matplotlib draws with ``Agg`` (no display in CI); a test file need not set it.
* Every test starts and ends with no open figures, so a test that checks that
  a function closes its figures does not see another test's leftovers.
* ``raises_with(exc, *fragments)`` (a fixture): a context manager that expects
  ``exc`` and checks that its message names every fragment, the way this
  package's errors name what was expected and what was given.
"""
from __future__ import annotations

import contextlib

import matplotlib

matplotlib.use("Agg")  # no display in CI

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _no_open_figures_before_each_test():
    """Start (and leave) every test with no open figures."""
    plt.close("all")
    yield
    plt.close("all")


@contextlib.contextmanager
def _raises_with(exc: type[BaseException], *fragments: str):
    with pytest.raises(exc) as info:
        yield info
    message = str(info.value)
    missing = [f for f in fragments if f not in message]
    assert not missing, f"the {exc.__name__} message {message!r} does not name {missing}"


@pytest.fixture
def raises_with():
    """``with raises_with(ValueError, "dim 64", "heads 6"): ...``: the error and the words its message must hold."""
    return _raises_with
