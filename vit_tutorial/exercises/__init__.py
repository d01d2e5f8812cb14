"""`vit_tutorial.exercises`: self-check functions for the chapter exercises.
Each takes the learner's answer, prints in plain words what is right or
wrong, and returns a :class:`~vit_tutorial.exercises._core.CheckResult`."""
import sys as _sys

from .._subpackages import reexport as _reexport

__all__ = _reexport(_sys.modules[__name__])
