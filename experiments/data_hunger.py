"""Chapter 11, problem 1: data hunger. Chapter 9's ViT-Tiny against the
small CNN at 10, 25, 50 and 100 % of MNIST-5k's training split, with the
same budget (see _common.py).

    python experiments/data_hunger.py --seeds 0 1 2

Writes vit_tutorial/results/data_hunger.json: one row per (model, fraction,
seed) with the final test accuracy on the full 1,000-image test split.
"""
from __future__ import annotations

from _common import base_parser, load_data, recipe, setup, tiny_config, train_run, write_result

import vit_tutorial as vt
from vit_tutorial.baselines import SmallCNN

FRACTIONS = (0.1, 0.25, 0.5, 1.0)


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--fractions", type=float, nargs="+", default=list(FRACTIONS))
    args = p.parse_args()
    setup(args)
    data = load_data(args.quick)
    config = tiny_config()
    models = {
        f"ViT-Tiny P={config.patch_size}": lambda: vt.ViT(config),
        "SmallCNN": lambda: SmallCNN(in_channels=1, num_classes=10),
    }
    rows = []
    for seed in args.seeds:
        for fraction in args.fractions:
            for name, build in models.items():
                row, _ = train_run(name, build, data, fraction, seed, args.budget_epochs,
                                   quick=args.quick, use_cache=not args.no_cache)
                rows.append(row)
    settings = {**recipe(args.budget_epochs), "fractions": args.fractions, "seeds": args.seeds,
                "models": {f"ViT-Tiny P={config.patch_size}": config.to_dict(),
                           "SmallCNN": f"SmallCNN(width={SmallCNN().width})"}}  # read from the model, not typed
    write_result("data_hunger", args, settings, rows)


if __name__ == "__main__":
    main()
