"""Chapter 11 problem 4 and chapter 12's "deeper Transformers": does depth
help a narrow ViT on MNIST-5k, do its attention maps collapse (DeepViT's
column similarity), and does LayerScale (CaiT) change either?

    python experiments/depth_layerscale.py --seeds 0 1 2

Arms: a narrow ViT (D=32, 4 heads, MLP 64, P=7, so T=17 tokens) with 4 and
12 blocks, and the 12-block one with LayerScale (init 0.1, CaiT's value for
up to 18 blocks). The learning rate of each arm is chosen on the validation
split from --lrs with seed 0 (the deeper model may want a smaller one);
the other seeds use the chosen rate. Protocol otherwise as
patch_permutation.py: the 3,500/500/1,000 split, chapter 9's recipe for
--epochs epochs (default 3, the shared machine's limit), the best validation epoch scored once on test (per-image
correctness stored). For every trained model and for its untrained start,
on 250 test digits: DeepViT's cross-layer similarity of consecutive blocks
(columns: how much each input token contributes to every output token), the
row variant, and the attention entropy per block divided by log T.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from _common import (base_parser, chapter9, code_fingerprint, fit_select, init_positions, machine, pos_init_std,
                     recipe_config, save_partial, setup)

import dataclasses

import vit_tutorial as vt
from vit_tutorial.data import Split, load_splits
from vit_tutorial.model import count_parameters
from vit_tutorial.variants import add_layer_scale, consecutive_layer_similarity, cross_layer_similarity

NARROW = dict(dim=32, heads=4, mlp_dim=64)
ARMS = {"4 blocks": (4, False), "12 blocks": (12, False), "12 blocks + LayerScale": (12, True)}


def build(arm: str, config: vt.ViTConfig, seed: int) -> torch.nn.Module:
    depth, scale = ARMS[arm]
    torch.manual_seed(seed)
    model = init_positions(vt.ViT(dataclasses.replace(config, depth=depth, **NARROW)))
    return add_layer_scale(model, 0.1) if scale else model


def measure(model: torch.nn.Module, images: torch.Tensor) -> dict:
    model.eval()
    with torch.no_grad():
        _, att = model(images, return_attention=True)  # L x (B, h, T, T)
    T = att[0].shape[-1]
    ent = [float(-(a * a.clamp_min(1e-12).log()).sum(-1).mean() / np.log(T)) for a in att]
    r = lambda t: [round(float(v), 4) for v in t]  # noqa: E731
    return {"consecutive_columns": r(consecutive_layer_similarity(att)),
            "consecutive_rows": r(consecutive_layer_similarity(att, orientation="rows")),
            "cross_columns": [r(row) for row in cross_layer_similarity(att)],
            "entropy_share": [round(e, 4) for e in ent]}


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--lrs", type=float, nargs="+", default=[1e-3, 3e-3])
    args = p.parse_args()
    setup(args)
    config, recipe9 = chapter9()
    data = load_splits("mnist5k")
    train, val, test = data.train, data.val, data.test
    epochs = args.epochs
    if args.quick:
        train = Split(train.images[::20].clone(), train.labels[::20].clone())
        val, test = Split(val.images[::5], val.labels[::5]), Split(test.images[::10], test.labels[::10])
        epochs = 1
    probe = test.images[::4][:250]
    rows: list[dict] = []
    started, mach = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), machine()
    chosen: dict[str, float] = {}

    def run(arm: str, seed: int, lr: float, stage: str) -> dict:
        model = build(arm, config, seed)
        untrained = measure(model, probe)
        res = fit_select(model, train, val, test, recipe_config(epochs, seed, lr=lr), evaluations=epochs)
        res.pop("correct")
        row = {"model": arm, "depth": ARMS[arm][0], "layer_scale": ARMS[arm][1], "seed": seed, "lr": lr,
               "stage": stage, "epochs": epochs, "train_images": len(train), "parameters": count_parameters(model),
               **res, "trained": measure(model, probe), "untrained": untrained}
        rows.append(row)
        print(f"[{len(rows)}] {arm:>24s} lr {lr:g} seed {seed} ({stage}): val {row['val_accuracy']:.3f}, "
              f"test {row['test_accuracy']:.3f}, {row['train_seconds']:.0f} s", flush=True)
        doc = {"experiment": "depth_layerscale", "date": started,
               "command": "python experiments/depth_layerscale.py --seeds " + " ".join(map(str, args.seeds))
                          + f" --epochs {args.epochs} --lrs " + " ".join(map(str, args.lrs))
                          + (" --quick" if args.quick else ""),
               "quick": bool(args.quick), "complete": False, "machine": mach,
               "settings": {"dataset": "mnist5k, load_splits: 3,500 train / 500 validation / 1,000 test",
                            "model": dataclasses.replace(config, **NARROW).to_dict(),
                            "arms": {k: {"depth": d, "layer_scale_init": 0.1 if s else None}
                                     for k, (d, s) in ARMS.items()},
                            "lrs": args.lrs, "chosen_lr": chosen, "epochs": args.epochs,
                            "train_config": recipe_config(epochs, 0).to_dict(), "pos_init_std": pos_init_std(),
                            "selection": "lr per arm: best validation accuracy with seed 0; epoch: best "
                                         "validation accuracy; test scored once",
                            "probe_images": len(probe), "seeds": args.seeds,
                            "code_fingerprint": code_fingerprint()},
               "rows": rows}
        save_partial("depth_layerscale", doc, args.out, args.quick)
        return row

    first, rest = args.seeds[0], args.seeds[1:]
    for arm in ARMS:
        for lr in args.lrs:
            run(arm, first, lr, "lr choice")
        trials = [r for r in rows if r["model"] == arm and r["seed"] == first]
        chosen[arm] = max(trials, key=lambda r: (r["val_accuracy"], -r["lr"]))["lr"]
    for seed in rest:
        for arm in ARMS:
            run(arm, seed, chosen[arm], "seed")
    # the final write marks the result complete
    doc_rows = rows
    save_partial("depth_layerscale", {"experiment": "depth_layerscale", "date": started,
                                      "command": "python experiments/depth_layerscale.py --seeds "
                                                 + " ".join(map(str, args.seeds)) + f" --epochs {args.epochs} --lrs "
                                                 + " ".join(map(str, args.lrs)) + (" --quick" if args.quick else ""),
                                      "quick": bool(args.quick), "complete": True, "machine": mach,
                                      "settings": {"chosen_lr": chosen, "epochs": args.epochs, "lrs": args.lrs,
                                                   "model": dataclasses.replace(config, **NARROW).to_dict(),
                                                   "arms": {k: {"depth": d, "layer_scale_init": 0.1 if s else None}
                                                            for k, (d, s) in ARMS.items()},
                                                   "train_config": recipe_config(epochs, 0).to_dict(),
                                                   "pos_init_std": pos_init_std(), "probe_images": len(probe),
                                                   "seeds": args.seeds, "code_fingerprint": code_fingerprint(),
                                                   "dataset": "mnist5k, load_splits: 3,500 / 500 / 1,000",
                                                   "selection": "lr per arm on validation with seed 0; epoch on "
                                                                "validation; test scored once"},
                                      "rows": doc_rows}, args.out, args.quick)


if __name__ == "__main__":
    main()
