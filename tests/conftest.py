"""Shared test set-up."""
import matplotlib

matplotlib.use("Agg")  # no display in CI

import matplotlib.pyplot as plt
import pytest


@pytest.fixture(autouse=True)
def _no_open_figures_before_each_test():
    """Start every test with no open figures, so tests that check that a
    function closes its figures do not see another test's leftovers."""
    plt.close("all")
    yield
