"""Chapter 12: the models after ViT, small, on MNIST-5k, with the same budget.

Chapter 9's ViT-Tiny (P=7) and, on a finer token grid, ViT-Tiny with P=4,
PEG-ViT (CPVT), a conv-stem hybrid, a Swin-like model (window attention) and
a PVT-like model (spatial-reduction attention): test accuracy, parameters,
forward FLOPs and training time, all with chapter 9's recipe and budget. Then
the resolution test: the trained ViTs (position table resized by 2-D
interpolation), PEG-ViT, the hybrid and the Swin-like model on the test digits
enlarged to other sizes ("resize") or placed on a bigger empty canvas ("pad").

    python experiments/variants.py

Writes vit_tutorial/results/variants.json.
"""
from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from _common import base_parser, load_data, recipe, setup, tiny_config, train_run, write_result

import vit_tutorial as vt
from vit_tutorial.data import Split
from vit_tutorial.train import evaluate
from vit_tutorial.variants import HybridViT, PEGViT, PyramidViT, count_flops

STEM = (16, 32)
SWIN = dict(patch_size=2, dims=(32, 64), depths=(2, 2), heads=(2, 4), mlp_ratio=2, window_size=7)
PVT = dict(patch_size=2, dims=(32, 64), depths=(2, 2), heads=(2, 4), mlp_ratio=2, reductions=(2, 1))


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
                     "stage 2: D=64, 2 blocks, R=1; learned position table at stage 1; mean pool"),
    }


def test_sizes(name: str, patch_size: int) -> tuple[int, ...]:
    """Test image sides: multiples of P from 20 to 56 px; the Swin-like model
    needs grids that split into 7x7 windows at both stages (28 and 56 px)."""
    if name == "Swin-like":
        return (28, 56)
    return tuple(s for s in range(20, 57) if s % patch_size == 0 and (s % 8 == 4 or s % 7 == 0 or s == 56))


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
    p.add_argument("--models", nargs="+", default=list(table), choices=list(table))
    args = p.parse_args()
    setup(args)
    data = load_data(args.quick)
    x = torch.zeros(1, 1, 28, 28)
    rows, resolution = [], []
    for seed in args.seeds:
        for name in args.models:
            build, text = table[name]
            row, model = train_run(name, build, data, 1.0, seed, args.budget_epochs,
                                   quick=args.quick, use_cache=not args.no_cache)
            model.eval()
            rows.append({**row, "flops": count_flops(model, x), "description": text})
            if name == "PVT-like":
                continue  # its position table is as fixed as ViT's; not repeated here
            P = model.config.patch_size if hasattr(model, "config") else model.patch_size
            for mode in ("resize", "pad"):
                for size in test_sizes(name, P):
                    if mode == "pad" and size < 28:
                        continue
                    net = resized_vit(model, size) if isinstance(model, vt.ViT) else model
                    with torch.no_grad():
                        acc = evaluate(net, test_at(data.test, size, mode))["accuracy"]
                    resolution.append({"model": name, "seed": seed, "mode": mode, "size": size,
                                       "test_accuracy": round(float(acc), 4)})
                    print(f"    {name:>22s} {mode:>6s} {size}px: {acc:.4f}", flush=True)
    settings = {**recipe(args.budget_epochs), "seeds": args.seeds,
                "models": {name: table[name][1] for name in args.models},
                "flops": "forward FLOPs of one 28x28 image (multiply-add = 2), FlopCounterMode",
                "resolution": "test digits enlarged with bilinear interpolation (resize) or centred on a "
                              "bigger canvas of background (pad); ViT and hybrid: position table resized by "
                              "bicubic 2-D interpolation; PEG-ViT and Swin-like: unchanged"}
    write_result("variants", args, settings, rows, resolution=resolution)


if __name__ == "__main__":
    main()
