"""Contracts every model the book builds must keep (after timm's ``test_model_backward``).

For each model: the logits have the right shape and are finite, a backward
pass gives every parameter a gradient, and ``eval()`` is deterministic (the
same input gives the same output twice, with dropout switched on in
training). Plus the timm interop checked against key names recorded once
from real timm (``tests/data/``), not against our own mapping.
"""
import ast
import importlib
import inspect
import json
import re
from pathlib import Path

import pytest
import torch

import vit_tutorial as vt
from vit_tutorial.baselines import SmallCNN
from vit_tutorial.variants import HybridViT, PEGViT, PyramidViT

B, CLASSES = 2, 10
# A small ViT-Tiny with dropout on, so that eval() has something to switch off.
TINY = dict(image_size=28, patch_size=7, in_channels=1, num_classes=CLASSES, dim=32, depth=2, heads=2, mlp_dim=64,
            dropout=0.1, attention_dropout=0.1)

MODELS = {
    "ViT": lambda: vt.ViT(vt.vit_config("ViT-Tiny", **TINY)),
    "ViT, mean pool, sin-cos table": lambda: vt.ViT(vt.vit_config("ViT-Tiny", **TINY, pool="mean", pos_embedding="sincos")),
    "ViT, pos_init_std 0.5": lambda: vt.ViT(vt.vit_config("ViT-Tiny", **TINY, pos_init_std=0.5)),
    "hybrid (conv stem)": lambda: HybridViT(vt.vit_config("ViT-Tiny", **TINY)),
    "PEG-ViT": lambda: PEGViT(vt.vit_config("ViT-Tiny", **TINY)),
    "pyramid, window attention": lambda: PyramidViT(attention="window"),
    "pyramid, spatial reduction": lambda: PyramidViT(attention="sra"),
    "CNN baseline": lambda: SmallCNN(in_channels=1, num_classes=CLASSES),
}


@pytest.fixture(params=list(MODELS), scope="module")
def model_and_images(request):
    torch.manual_seed(0)
    model = MODELS[request.param]()
    images = torch.randn(B, 1, 28, 28)  # (B, C, H, W)
    return model, images


def test_output_shape_and_finite(model_and_images):
    model, images = model_and_images
    logits = model.eval()(images)
    assert logits.shape == (B, CLASSES)
    assert torch.isfinite(logits).all()


def test_gradients_reach_every_parameter(model_and_images):
    model, images = model_and_images
    model.train().zero_grad(set_to_none=True)
    model(images).logsumexp(dim=1).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, f"no gradient for {name}"
        assert torch.isfinite(p.grad).all(), f"non-finite gradient for {name}"
    # Every parameter is used: only the key bias may have an exactly-zero gradient
    # (softmax ignores a constant added to every score of a row).
    dead = [n for n, p in model.named_parameters() if p.grad.abs().sum() == 0 and not n.endswith("qkv.bias")]
    assert not dead, f"parameters with an all-zero gradient: {dead}"


def test_eval_is_deterministic(model_and_images):
    model, images = model_and_images
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(images), model(images))
    if any(isinstance(m, torch.nn.Dropout) and m.p > 0 for m in model.modules()):
        model.train()
        torch.manual_seed(1)
        with torch.no_grad():
            a = model(images)
            b = model(images)
        assert not torch.equal(a, b)  # ... while training, dropout draws anew
        model.eval()


TIMM_KEYS = Path(__file__).parent / "data" / "timm_vit_tiny_patch16_224_keys.json"


def test_timm_state_dict_from_the_recorded_key_list_loads():
    """The converter against real timm names and shapes (recorded from timm 1.0.31)."""
    recorded = json.loads(TIMM_KEYS.read_text())
    assert recorded["model"] == "vit_tiny_patch16_224" and len(recorded["keys"]) == 152
    # vit_tiny_patch16_224: patch 16, embed_dim 192, depth 12, heads 3, mlp_ratio 4 (timm's model_args)
    config = vt.vit_config("ViT-B/16", dim=192, depth=12, heads=3, mlp_dim=768, num_classes=recorded["num_classes"])
    torch.manual_seed(0)
    timm_sd = {k: torch.randn(shape) for k, shape in recorded["keys"].items()}
    ours = vt.ViT(config)
    converted = vt.convert_state_dict(timm_sd, "timm", config)
    ours.load_state_dict(converted, strict=True)  # every key and shape matched
    # values land where they belong
    assert torch.equal(ours.pos_embed.weight, timm_sd["pos_embed"])
    assert torch.equal(ours.cls_token.token, timm_sd["cls_token"])
    assert torch.equal(ours.encoder.blocks[11].attn.qkv.weight, timm_sd["blocks.11.attn.qkv.weight"])
    assert torch.equal(ours.encoder.norm.bias, timm_sd["norm.bias"])
    assert torch.equal(ours.head.weight, timm_sd["head.weight"])


# ---------------------------------------------------------------- the public surface

PACKAGE = Path(vt.__file__).parent
SUBPACKAGES = ["viz", "widgets", "exercises", "variants", "training"]


def _module_all(path: Path) -> list[str]:
    """A module's ``__all__``, read from its source (without importing it)."""
    for node in ast.parse(path.read_text()).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return list(ast.literal_eval(node.value))
    return []


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_package_all_is_the_union_of_its_modules(name):
    """A subpackage's ``__init__`` imports every public name of its modules explicitly (no dynamic re-export)."""
    package = importlib.import_module(f"vit_tutorial.{name}")
    modules = sorted(p for p in (PACKAGE / name).glob("*.py") if not p.name.startswith("_"))
    expected = {n: p.stem for p in modules for n in _module_all(p)}
    missing = sorted(set(expected) - set(package.__all__))
    assert not missing, (
        f"vit_tutorial.{name}.__all__ misses {missing}; add to vit_tutorial/{name}/__init__.py: "
        + "; ".join(f"from .{expected[n]} import {n}" for n in missing)
    )
    assert len(package.__all__) == len(set(package.__all__)), "a name is listed twice"
    for n in package.__all__:
        obj = getattr(package, n)
        home = getattr(obj, "__module__", None)
        if home and home.startswith(f"vit_tutorial.{name}.") and n in expected:
            assert home == f"vit_tutorial.{name}.{expected[n]}", f"{n} is listed by {expected[n]} but defined in {home}"


def _documented_constant(package_dir: Path, name: str) -> bool:
    """A constant is documented by a ``#:`` comment on the line above its assignment."""
    pattern = re.compile(rf"^#:.*\n{re.escape(name)}\s*[:=]", re.M)
    return any(pattern.search(p.read_text()) for p in package_dir.rglob("*.py"))


@pytest.mark.parametrize("name", ["vit_tutorial", *[f"vit_tutorial.{s}" for s in SUBPACKAGES]])
def test_every_public_name_is_importable_and_documented(name):
    package = importlib.import_module(name)
    undocumented = []
    for n in package.__all__:
        obj = getattr(package, n)  # importable: AttributeError otherwise
        if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismodule(obj) or callable(obj):
            if not (obj.__doc__ or "").strip():
                undocumented.append(n)
        elif not _documented_constant(PACKAGE, n):
            undocumented.append(n)
    assert not undocumented, f"{name}: public names without a docstring (or a #: comment): {undocumented}"


# ---------------------------------------------------------------- the layers (CONTRIBUTING.md, "What may import what")

CORE = {"_checks", "config", "patches", "embedding", "position", "attention", "encoder", "init", "model", "interop",
        "flops"}
TOOLS = {"data", "images", "synthetic", "stats", "results", "analysis", "baselines", "article", "solutions", "demos"}
MAY_IMPORT = {
    **{m: CORE for m in CORE},
    **{m: CORE | TOOLS for m in TOOLS},
    "training": CORE | {"data"},
    "variants": CORE | {"analysis"},
    "viz": CORE | TOOLS | {"training", "variants"},
    "widgets": CORE | TOOLS | {"training", "variants", "viz"},
    "exercises": CORE | TOOLS | {"training", "variants"},
    "train": {"model", "training"},
}


def _imports_by_part() -> dict[str, set[str]]:
    """For every part of the package (a top-level module or subpackage), the other parts it imports."""
    edges: dict[str, set[str]] = {}
    for p in PACKAGE.rglob("*.py"):
        parts = p.relative_to(PACKAGE.parent).with_suffix("").parts
        package = list(parts if p.name == "__init__.py" else parts[:-1])
        if p.name == "__init__.py":
            package = package[:-1]
        me = parts[1] if len(parts) > 1 else "__init__"
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package[: len(package) - node.level + 1]
                targets = [base + node.module.split(".")] if node.module else [base + [a.name] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("vit_tutorial."):
                targets = [node.module.split(".")]
            else:
                continue
            for t in targets:
                if len(t) > 1 and t[1] != me:
                    edges.setdefault(me, set()).add(t[1])
    return edges


def test_each_part_imports_only_the_layers_below_it():
    edges = _imports_by_part()
    unknown = sorted(set(edges) - set(MAY_IMPORT) - {"__init__"})
    assert not unknown, f"new parts of the package {unknown}: give them a layer in MAY_IMPORT and CONTRIBUTING.md"
    wrong = {m: sorted(t - MAY_IMPORT[m]) for m, t in edges.items() if m in MAY_IMPORT and t - MAY_IMPORT[m]}
    assert not wrong, f"imports across the layers of CONTRIBUTING.md: {wrong}"
