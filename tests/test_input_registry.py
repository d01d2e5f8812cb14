"""Every public callable checks its input (issue 20).

The registry is every callable named in the ``__all__`` of ``vit_tutorial`` and
of each of its subpackages. Each one is called with a tensor of a rank no
function expects (7 dimensions) for every required argument (and, when that
builds a module, the module is called with it too). It must raise
``ValueError`` or ``TypeError`` from the package's own code (the last frame of
the traceback lies inside ``vit_tutorial``), not from torch, numpy or
matplotlib. A self-check (``exercises.check_*``) must not raise: it must answer
"Not yet" (a falsy verdict), since a tensor is not the answer it asks for.

A callable that takes no tensor, or whose signature legitimately accepts any
rank, is listed below with the reason; a new public function without an input
check makes this test fail until it gets one (or an entry here with a reason).
"""
from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import traceback

import pytest
import torch

import vit_tutorial

ROOT = os.path.dirname(vit_tutorial.__file__)
BAD = torch.rand(1, 1, 1, 1, 1, 1, 2)  # rank 7: no public function expects it

#: Callables given another bad input, because a rank-7 tensor is valid for them.
OTHER_BAD_INPUT = {
    # q, k, v are (..., tokens, d) with any leading dimensions: give lists instead
    "vit_tutorial.attention.scaled_dot_product_attention": (([1.0, 2.0], [1.0, 2.0], [1.0, 2.0]), {}),
}

#: Callables that are not checked here, each with the reason.
EXEMPT = {
    "vit_tutorial.results.available": "takes no argument",
    "vit_tutorial.results.results_folder": "takes no argument",
    "vit_tutorial.training.cli.build_parser": "takes no argument",
    "vit_tutorial.training.distributed.rank_and_world": "takes no argument",
    "vit_tutorial.training.distributed.all_reduce_sum": "takes *tensors of any shape (sums them over processes)",
    "vit_tutorial.viz.model.plot_norm_placement": "takes no required argument (draws a fixed diagram)",
    "vit_tutorial.demos.HandcraftedAttention": "a NamedTuple record that the package returns; it holds what it is given",
    "vit_tutorial.results.ResultSchema": "a NamedTuple record describing a schema; it holds what it is given",
    "vit_tutorial.viz.overview.ModelMapStep": "a record (one row of the model map); it holds what it is given",
    "vit_tutorial.viz.performance.ResultsTable": "a display record (rows of text); it holds what it is given",
}


def _public_callables() -> dict[str, object]:
    names = ["vit_tutorial"] + [m.name for m in pkgutil.walk_packages(vit_tutorial.__path__, "vit_tutorial.") if m.ispkg]
    found: dict[str, object] = {}
    for module_name in names:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not callable(obj) or (inspect.isclass(obj) and issubclass(obj, BaseException)):
                continue
            found.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    return dict(sorted(found.items()))


REGISTRY = _public_callables()


def _bad_call(key: str, obj) -> tuple[tuple, dict]:
    if key in OTHER_BAD_INPUT:
        return OTHER_BAD_INPUT[key]
    params = inspect.signature(obj).parameters.values()
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    args = [BAD for p in positional if p.default is p.empty] or [BAD][: len(positional)]
    kwargs = {p.name: BAD for p in params if p.kind == p.KEYWORD_ONLY and p.default is p.empty}
    return tuple(args), kwargs


def test_the_registry_covers_the_package():
    assert len(REGISTRY) > 200
    stale = sorted((set(EXEMPT) | set(OTHER_BAD_INPUT)) - set(REGISTRY))
    assert not stale, f"exemptions for names that are no longer public: {stale}"


@pytest.mark.parametrize("key", [k for k in REGISTRY if k not in EXEMPT])
def test_public_callable_refuses_a_wrong_rank_tensor_itself(key):
    obj = REGISTRY[key]
    args, kwargs = _bad_call(key, obj)
    self_check = key.startswith("vit_tutorial.exercises.") and obj.__name__.startswith("check_")
    try:
        out = obj(*args, **kwargs)
        if isinstance(out, torch.nn.Module):
            out(BAD)
    except (ValueError, TypeError) as exc:
        assert not self_check, f"the self-check {key} raised instead of answering 'Not yet': {exc!r}"
        last = traceback.extract_tb(exc.__traceback__)[-1]
        assert last.filename.startswith(ROOT), (
            f"{key} raised {type(exc).__name__} from {last.filename}:{last.lineno}, not from vit_tutorial: {exc}"
        )
        assert str(exc), f"{key} raised {type(exc).__name__} without a message"
        return
    except Exception as exc:  # noqa: BLE001 - the point: a raw error from inside torch/numpy/...
        last = traceback.extract_tb(exc.__traceback__)[-1]
        pytest.fail(f"{key} raised a raw {type(exc).__name__} at {last.filename}:{last.lineno}: {exc}")
    assert self_check, f"{key} accepted a rank-7 tensor for its required arguments without an error"
    assert not out, f"the self-check {key} passed a rank-7 tensor as a right answer: {out!r}"
