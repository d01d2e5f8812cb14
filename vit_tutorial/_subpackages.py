"""Re-export the public names of a subpackage's modules.

``viz``, ``widgets`` and ``exercises`` are split into one module per part of
the book; their ``__init__`` calls :func:`reexport` so that, for example,
``vit_tutorial.viz.plot_patch_grid`` works whichever module defines it.
"""
from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def reexport(package: ModuleType) -> list[str]:
    """Import every public submodule of ``package`` and copy its ``__all__``
    names into the package namespace. Returns the names, sorted."""
    names: list[str] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name in getattr(module, "__all__", []):
            if name in names:
                raise ImportError(f"{package.__name__}: {name!r} is defined by two modules")
            setattr(package, name, getattr(module, name))
            names.append(name)
    return sorted(names)
