"""Chapter 11, problem 2: the inductive bias, isolated. Chapter 9's ViT-Tiny
and the small CNN trained on MNIST-5k digits under one fixed shuffle:

* ``none``: the digits as they are;
* ``positions``: the 16 patches of 7x7 pixels change places on the 4x4 grid
  (one fixed permutation); a ViT with a learned position table is exactly
  invariant to it (vit_tutorial.variants.permutation), a CNN's locality
  prior is broken at every patch border;
* ``pixels``: the 49 pixels inside every patch change places (one fixed
  permutation, the same in every patch); a ViT is exactly invariant to it
  (permuted patch-embedding columns), a CNN's 3x3 kernels see no
  neighbourhoods any more.

    python experiments/patch_permutation.py --seeds 0 1 2

The shuffle is the first layer of the model (FixedShuffle), so chapter 9's
random shifts act on the unshuffled digit and the ViT's training is
equivariant (see the module docstring of vit_tutorial.variants.permutation).
Protocol: the 3,500/500/1,000 split of MNIST-5k (vit_tutorial.data.load_splits);
chapter 9's recipe for --epochs epochs (default 3, a tenth of chapter 9's 30:
the shared machine's limit); the weights of the best validation accuracy
(scored after every epoch) are scored once on the 1,000 test digits, whose
per-image correctness is stored for paired tests.
"""
from __future__ import annotations

import time

import torch

from _common import (base_parser, chapter9, code_fingerprint, fit_select, init_positions, machine, pos_init_std,
                     recipe_config, save_partial, setup)

import vit_tutorial as vt
from vit_tutorial.baselines import SmallCNN
from vit_tutorial.data import Split, load_splits
from vit_tutorial.model import count_parameters
from vit_tutorial.variants import FixedShuffle, random_shuffle

ARMS = ("none", "positions", "pixels")
PERM_SEED = 0  # the one fixed permutation of each kind


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--order", nargs="+", default=["cnn:none", "cnn:positions", "cnn:pixels",
                                                  "vit:none", "vit:positions"],
                   help="model:arm pairs (vit:pixels is left out by default: the ViT is exactly invariant "
                        "to it, as it is to positions)")
    args = p.parse_args()
    setup(args)
    vit_config, _ = chapter9()
    P = vit_config.patch_size
    data = load_splits("mnist5k")
    train, val, test = data.train, data.val, data.test
    epochs = args.epochs
    if args.quick:
        train = Split(train.images[::20].clone(), train.labels[::20].clone())
        val, test = Split(val.images[::5], val.labels[::5]), Split(test.images[::10], test.labels[::10])
        epochs = 1
    perms = {mode: random_shuffle((1, 28, 28), P, mode, seed=PERM_SEED) for mode in ("positions", "pixels")}
    names = {"vit": f"ViT-Tiny P={P}", "cnn": "SmallCNN"}
    rows: list[dict] = []
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    mach = machine()
    total = len(args.seeds) * len(args.order)
    for seed in args.seeds:
        for item in args.order:
            key, arm = item.split(":")
            torch.manual_seed(seed)
            net = init_positions(vt.ViT(vit_config)) if key == "vit" else SmallCNN(in_channels=1, num_classes=10)
            model = net if arm == "none" else torch.nn.Sequential(FixedShuffle(perms[arm], P, arm), net)
            config = recipe_config(epochs, seed)
            res = fit_select(model, train, val, test, config, evaluations=epochs)
            res.pop("correct")
            row = {"model": names[key], "arm": arm, "seed": seed, "epochs": epochs, "train_images": len(train),
                   "parameters": count_parameters(net), **res}
            rows.append(row)
            print(f"[{len(rows)}/{total}] {names[key]:>13s} {arm:9s} seed {seed}: val {row['val_accuracy']:.3f} "
                  f"(ep {row['chosen_epoch']}), test {row['test_accuracy']:.3f}, {row['train_seconds']:.0f} s",
                  flush=True)
            doc = {
                "experiment": "patch_permutation", "date": started,
                "command": "python experiments/patch_permutation.py --seeds " + " ".join(map(str, args.seeds))
                           + f" --epochs {args.epochs}" + (" --quick" if args.quick else ""),
                "quick": bool(args.quick), "complete": len(rows) == total, "machine": mach,
                "settings": {
                    "dataset": "mnist5k, load_splits: 3,500 train / 500 validation / 1,000 test",
                    "arms": {"none": "unchanged", "positions": f"one fixed permutation of the 16 {P}x{P} patches",
                             "pixels": f"one fixed permutation of the {P * P} pixels inside every patch"},
                    "permutations": {k: v.tolist() for k, v in perms.items()},
                    "shuffle_applied": "as the model's first layer, after the training loop's augmentation",
                    "epochs": args.epochs, "train_config": recipe_config(epochs, 0).to_dict(),
                    "pos_init_std": pos_init_std(),
                    "selection": "best validation accuracy after any epoch (later on ties); test scored once",
                    "models": {names["vit"]: vit_config.to_dict(), "SmallCNN": "SmallCNN(width=16)"},
                    "seeds": args.seeds, "code_fingerprint": code_fingerprint(),
                    "test_correct_encoding": "hex of numpy.packbits(correct as uint8), test images in order",
                },
                "rows": rows,
            }
            save_partial("patch_permutation", doc, args.out, args.quick)


if __name__ == "__main__":
    main()
