"""Chapter 11, problem 2: local structure inside a patch.

Chapter 9's ViT-Tiny (D=64, 4 blocks, 4 heads) with patch sizes P = 2, 4, 7,
14 on 28x28 MNIST-5k, and the same model with a small conv stem (two 3x3
convs with BatchNorm and ReLU, 16 and 32 channels, then a conv to D with
total stride P) in place of the patch embedding; all with the same budget.

    python experiments/locality.py
    python experiments/locality.py --patch-sizes 4 7 14   # skip the slow P=2

Writes vit_tutorial/results/locality.json.
"""
from __future__ import annotations

import torch
from _common import base_parser, load_data, recipe, setup, tiny_config, train_run, write_result

import vit_tutorial as vt
from vit_tutorial.variants import HybridViT, count_flops, default_stem_strides

STEM = (16, 32)


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--patch-sizes", type=int, nargs="+", default=[7, 14, 4, 2])
    args = p.parse_args()
    setup(args)
    data = load_data(args.quick)
    x = torch.zeros(1, 1, 28, 28)
    rows = []
    for seed in args.seeds:
        for P in args.patch_sizes:
            config = tiny_config(patch_size=P)
            for kind, name, build in (
                ("patch embedding", f"ViT-Tiny P={P}", lambda: vt.ViT(config)),
                ("conv stem", f"Hybrid ViT-Tiny P={P}", lambda: HybridViT(config, STEM)),
            ):
                row, model = train_run(name, build, data, 1.0, seed, args.budget_epochs,
                                       quick=args.quick, use_cache=not args.no_cache)
                model.eval()
                flops = count_flops(model, x)
                rows.append({**row, "patch_size": P, "kind": kind, "tokens": config.num_patches,
                             "flops": flops,
                             "stem_strides": list(default_stem_strides(P, len(STEM))) if kind == "conv stem" else None})
    settings = {**recipe(args.budget_epochs), "seeds": args.seeds, "patch_sizes": args.patch_sizes,
                "model": tiny_config().to_dict(), "stem_channels": list(STEM),
                "flops": "forward FLOPs of one 28x28 image (multiply-add = 2), FlopCounterMode"}
    write_result("locality", args, settings, rows)


if __name__ == "__main__":
    main()
