"""Chapter 11, problem 2: local structure inside a patch.

Chapter 9's ViT-Tiny (D=64, 4 blocks, 4 heads) with patch sizes P = 2, 4, 7,
14 on 28x28 MNIST-5k, and the same model with a small conv stem (two 3x3
convs with BatchNorm and ReLU, 16 and 32 channels, then a conv to D with
total stride P) in place of the patch embedding; all with the same budget.

Protocol (chapters 9-10): ``load_splits("mnist5k")`` 3,500 / 500 / 1,000;
``--budget-epochs`` epochs over the 3,500 training digits; the weights of the
best validation epoch are scored once on the test digits (``test_correct``
bits, for paired tests); seeds from ``--seeds`` (default 0 1 2). Each run is
cached in ``$VIT_EXPERIMENT_CACHE`` under the model, seed, recipe and protocol,
and shared with variants.py where the model is the same (ViT-Tiny P=7, P=4 and
Hybrid ViT-Tiny P=4). ``--models`` picks runs by name, so two processes with
disjoint ``--models`` (separate ``--out`` folders) can train in parallel and a
last invocation with all of them only reads the cache:

    python experiments/locality.py --budget-epochs 15 --patch-sizes 7 14 4
    python experiments/locality.py --budget-epochs 15   # adds the slow P=2 (196 tokens)

Writes vit_tutorial/results/locality.json (rewritten after every run,
``"complete": false`` until the last one).
"""
from __future__ import annotations

import time

import torch
from _common import (base_parser, envelope, machine, mnist_splits, protocol_settings, recipe_config, result_target,
                     select_run, setup, tiny_config, write_at)

import vit_tutorial as vt
from vit_tutorial.variants import HybridViT, count_flops, default_stem_strides

STEM = (16, 32)  # the same stem as variants.py's hybrid, so their P=4 runs are shared


def runs(patch_sizes: list[int]) -> list[tuple[int, str, str]]:
    """(P, kind, model name) for every run, in order; names as in variants.py."""
    return [(P, kind, name) for P in patch_sizes
            for kind, name in (("patch embedding", f"ViT-Tiny P={P}"), ("conv stem", f"Hybrid ViT-Tiny P={P}"))]


def build(P: int, kind: str):
    config = tiny_config(patch_size=P)
    return vt.ViT(config) if kind == "patch embedding" else HybridViT(config, STEM)


def main() -> None:
    p = base_parser(__doc__)
    p.set_defaults(seeds=[0, 1, 2])
    p.add_argument("--patch-sizes", type=int, nargs="+", default=[7, 14, 4, 2])
    p.add_argument("--models", nargs="+", default=None,
                   help="only these model names, e.g. 'ViT-Tiny P=4' 'Hybrid ViT-Tiny P=14' (default: all of "
                        "--patch-sizes)")
    args = p.parse_args()
    setup(args)
    plan = runs(args.patch_sizes)
    if args.models is not None:
        names = {name for _, _, name in plan}
        unknown = sorted(set(args.models) - names)
        if unknown:
            raise ValueError(f"--models must be among {sorted(names)}; got unknown {unknown}")
        plan = [r for r in plan if r[2] in args.models]
    epochs = max(1, round(args.budget_epochs))
    train, val, test = mnist_splits(args.quick)
    target = result_target("locality", args)
    started, mach = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), machine()
    x = torch.zeros(1, 1, 28, 28)
    rows = []
    total = len(args.seeds) * len(plan)
    settings = {**protocol_settings(epochs, args.seeds), "patch_sizes": args.patch_sizes,
                "models": [name for _, _, name in plan],
                "model": tiny_config().to_dict(), "stem_channels": list(STEM),
                "flops": "forward FLOPs of one 28x28 image (multiply-add = 2), FlopCounterMode"}
    for seed in args.seeds:
        for P, kind, name in plan:
            row, model = select_run(name, lambda: build(P, kind), train, val, test, seed,
                                    recipe_config(epochs, seed), quick=args.quick, use_cache=not args.no_cache)
            rows.append({**row, "patch_size": P, "kind": kind, "tokens": (28 // P) ** 2,
                         "flops": count_flops(model, x),
                         "stem_strides": list(default_stem_strides(P, len(STEM))) if kind == "conv stem" else None})
            doc = {**envelope("locality", args, started, mach), "complete": len(rows) == total,
                   "settings": settings, "rows": rows}
            write_at(doc, target, "locality")
            print(f"[{len(rows)}/{total}] wrote {target}", flush=True)


if __name__ == "__main__":
    main()
