"""Chapter 12: the models after ViT, small, on MNIST-5k, with the same budget.

Chapter 9's ViT-Tiny (P=7) and, on a finer token grid, ViT-Tiny with P=4,
PEG-ViT (CPVT), a conv-stem hybrid, a Swin-like model (window attention) and
a PVT-like model (spatial-reduction attention): validation and test accuracy,
parameters, forward FLOPs and training time, all with chapter 9's recipe and
the same budget, per seed. Then the resolution test, per seed: every trained
model on the test digits enlarged to other sizes ("resize") or placed on a
bigger empty canvas ("pad"); the ViTs, the hybrid and the PVT-like model get
their learned position table resized by 2-D interpolation
(``vit_tutorial.resize_position_embedding``'s default: bicubic,
``align_corners=False``), PEG-ViT and the Swin-like model have no table.

Protocol (chapters 9-10): ``load_splits("mnist5k")`` 3,500 / 500 / 1,000;
``--budget-epochs`` epochs over the 3,500 training digits; the weights of the
best validation epoch are scored once on the test digits (``test_correct``
bits, for paired tests). Each (model, seed) run is cached in
``$VIT_EXPERIMENT_CACHE`` (shared with locality.py), so two processes with
disjoint ``--models`` (and separate ``--out`` folders) can train in parallel,
and a last invocation with every model only reads the cache:

    python experiments/variants.py --budget-epochs 15 --seeds 0 1 2

Writes vit_tutorial/results/variants.json (rewritten after every run,
``"complete": false`` until the last one).
"""
from __future__ import annotations

import dataclasses
import time

import torch
import torch.nn.functional as F
from _common import (base_parser, envelope, machine, mnist_splits, protocol_settings, recipe_config, result_target,
                     select_run, setup, tiny_config, write_at)

import vit_tutorial as vt
from vit_tutorial.data import Split
from vit_tutorial.train import evaluate
from vit_tutorial.variants import HybridViT, PEGViT, PyramidViT, count_flops

STEM = (16, 32)
SWIN = dict(patch_size=2, dims=(32, 64), depths=(2, 2), heads=(2, 4), mlp_ratio=2, window_size=7)
PVT = dict(patch_size=2, dims=(32, 64), depths=(2, 2), heads=(2, 4), mlp_ratio=2, reductions=(2, 1))
RESIZE_METHOD = ("vit_tutorial.resize_position_embedding with its defaults: torch.nn.functional.interpolate, "
                 "mode='bicubic', align_corners=False, no antialiasing (its docstring compares this with the "
                 "official code's and timm's resizing)")


def models() -> dict:
    """name -> (builder, description); names are shared with locality.py's runs."""
    P9 = tiny_config().patch_size
    p4 = tiny_config(patch_size=4)
    return {
        f"ViT-Tiny P={P9}": (lambda: vt.ViT(tiny_config()),
                             f"chapter 9's model: P={P9} ({(28 // P9) ** 2} tokens), D=64, 4 blocks, 4 heads, "
                             f"learned position table"),
        "ViT-Tiny P=4": (lambda: vt.ViT(p4), "the same with P=4 (49 tokens)"),
        "PEG-ViT-Tiny P=4": (lambda: PEGViT(p4), "ViT-Tiny P=4 without position table; depthwise 3x3 PEG after block 1"),
        "Hybrid ViT-Tiny P=4": (lambda: HybridViT(p4, STEM),
                                "ViT-Tiny P=4 with a conv stem (3x3 s2 16ch, 3x3 s2 32ch, 1x1 to D) instead of the 4x4 "
                                "patchify"),
        "Swin-like": (lambda: PyramidViT(attention="window", **SWIN),
                      "P=2 (196 tokens), stage 1: D=32, 2 blocks, 7x7 windows (plain, shifted); patch merging; "
                      "stage 2: D=64, 2 blocks, one 7x7 window; relative position bias; mean pool"),
        "PVT-like": (lambda: PyramidViT(attention="sra", **PVT),
                     "P=2 (196 tokens), stage 1: D=32, 2 blocks, SRA with R=2 (49 keys); patch merging; "
                     "stage 2: D=64, 2 blocks, R=1; learned position table at stage 1; mean pool (between the "
                     "stages it merges patches as the Swin-like model does; PVT itself re-embeds them)"),
    }


def test_sizes(name: str, patch_size: int) -> tuple[int, ...]:
    """Test image sides: multiples of P from 20 to 56 px; the Swin-like model
    needs grids that split into 7x7 windows at both stages (28 and 56 px); the
    PVT-like model needs an even grid (patch merging) whose first stage divides
    by its reduction R=2, so sides that are multiples of 4."""
    if name == "Swin-like":
        return (28, 56)
    sizes = tuple(s for s in range(20, 57) if s % patch_size == 0 and (s % 8 == 4 or s % 7 == 0 or s == 56))
    if name == "PVT-like":
        sizes = tuple(s for s in sizes if s % 4 == 0)
    return sizes


def resized_vit(model: vt.ViT, size: int) -> vt.ViT:
    """The same ViT (or hybrid) for size x size images: position table interpolated in 2-D."""
    c = dataclasses.replace(model.config, image_size=size)
    if isinstance(model, HybridViT):
        new = HybridViT(c, STEM)
    else:
        new = vt.ViT(c)
    state = dict(model.state_dict())
    state["pos_embed.weight"] = vt.resize_position_embedding(state["pos_embed.weight"], c.grid_size)
    new.load_state_dict(state)
    return new.eval()


def resized_pvt(model: PyramidViT, size: int) -> PyramidViT:
    """The same PVT-like model for size x size images: its stage-1 position table
    (no class token) interpolated in 2-D like ViT's."""
    new = PyramidViT(image_size=size, attention="sra", **PVT)
    state = dict(model.state_dict())
    grid = size // model.patch_size
    state["pos_embed"] = vt.resize_position_embedding(state["pos_embed"], grid, num_prefix_tokens=0)
    new.load_state_dict(state)
    return new.eval()


def at_size(model, size: int):
    """``model`` for size x size images (a resized copy where it has a position table)."""
    if isinstance(model, vt.ViT):
        return resized_vit(model, size)
    if isinstance(model, PyramidViT) and model.pos_embed is not None:
        return resized_pvt(model, size)
    return model


def test_at(split: Split, size: int, mode: str) -> Split:
    """The test digits at size x size: enlarged (resize) or on a bigger canvas (pad)."""
    x = split.images  # (n, 1, 28, 28), standardised
    if size == x.shape[-1]:
        return split
    if mode == "resize":
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    else:  # pad with the background value (the corner pixel), digit centred
        pad = size - x.shape[-1]
        lo, hi = pad // 2, pad - pad // 2
        x = F.pad(x, (lo, hi, lo, hi), value=float(x[0, 0, 0, 0]))
    return Split(x.contiguous(), split.labels)


def main() -> None:
    table = models()
    p = base_parser(__doc__)
    p.set_defaults(seeds=[0, 1, 2])
    p.add_argument("--models", nargs="+", default=list(table), choices=list(table))
    args = p.parse_args()
    setup(args)
    epochs = max(1, round(args.budget_epochs))
    train, val, test = mnist_splits(args.quick)
    target = result_target("variants", args)
    started, mach = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), machine()
    x = torch.zeros(1, 1, 28, 28)
    rows, resolution = [], []
    total = len(args.seeds) * len(args.models)
    settings = {**protocol_settings(epochs, args.seeds),
                "models": {name: table[name][1] for name in args.models},
                "flops": "forward FLOPs of one 28x28 image (multiply-add = 2), FlopCounterMode",
                "resolution": "every seed's chosen weights on the 1,000 test digits enlarged with bilinear "
                              "interpolation (resize, antialiased) or centred on a bigger canvas of background "
                              "(pad); ViT, hybrid and PVT-like: position table resized by " + RESIZE_METHOD
                              + "; PEG-ViT and Swin-like: no table, unchanged; the test sizes of each model are "
                              "those its grid allows (see test_sizes in the script)",
                "resize_method": RESIZE_METHOD,
                "caveat": "the six models differ in more than one design choice each (token grid, position "
                          "signal, stem, attention, pyramid, pooling); the one-choice pairs are ViT-Tiny P=7 vs "
                          "P=4 (grid), ViT-Tiny P=4 vs PEG-ViT-Tiny P=4 (position signal) and ViT-Tiny P=4 vs "
                          "Hybrid ViT-Tiny P=4 (stem)"}
    for seed in args.seeds:
        for name in args.models:
            build, text = table[name]
            row, model = select_run(name, build, train, val, test, seed, recipe_config(epochs, seed),
                                    quick=args.quick, use_cache=not args.no_cache)
            rows.append({**row, "flops": count_flops(model, x), "description": text})
            P = model.config.patch_size if hasattr(model, "config") else model.patch_size
            for mode in ("resize", "pad"):
                for size in test_sizes(name, P):
                    if mode == "pad" and size < 28:
                        continue
                    net = at_size(model, size)
                    with torch.no_grad():
                        acc = evaluate(net, test_at(test, size, mode))["accuracy"]
                    resolution.append({"model": name, "seed": seed, "mode": mode, "size": size,
                                       "test_accuracy": round(float(acc), 4)})
                    print(f"    {name:>22s} {mode:>6s} {size}px: {acc:.4f}", flush=True)
            doc = {**envelope("variants", args, started, mach), "complete": len(rows) == total,
                   "settings": settings, "rows": rows, "resolution": resolution}
            write_at(doc, target, "variants")
            print(f"[{len(rows)}/{total}] wrote {target}", flush=True)


if __name__ == "__main__":
    main()
