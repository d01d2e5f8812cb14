"""Chapter 11, problem 1 past 4,000 images: learning curves of chapter 9's
ViT-Tiny and the small CNN on generated digits (vit_tutorial.synthetic), from
500 to 40,000 training images, several seeds.

    python experiments/data_hunger_synthetic.py --seeds 0 1 2

Protocol
--------
* Data: ``load_synthetic(n, n_val=1000, n_test=4000, seed=s, eval_seed=0)``
  style (validation 1,000, test 4,000): the training images of seed s are the first n of the generator's
  training stream for that seed (a smaller set is a prefix of a larger one);
  validation (1,000) and test (4,000) images are the same for every run.
* Budget: epochs = max(1, round(25,000 / n)), i.e. about 25,000 images seen
  (a fifth of chapter 9's 30 epochs x 4,000: the shared 2-core machine, busy
  with other work, allowed no more for 24 runs), and one pass at 40,000
  images. It is a fixed-compute learning curve: runs at small n are limited
  by data, runs at large n also by compute (see each row's validation
  curve); both models get the same budget. The recipe is chapter 9's
  otherwise (warm-up share, cosine, AdamW, smoothing, shifts).
* Choice on validation: the model is scored on the validation images about
  five times during training (every epoch in runs of < 10 epochs); the weights of
  the epoch with the best validation accuracy (the later one on a tie) are
  the run's result, and only they are scored on the test images. The test correctness of every image is stored
  (hex bit string) for paired tests between runs.
* Transfer: the chosen model is also scored on MNIST-5k's 1,000 test digits
  (standardised with the synthetic training statistics), with no training
  on MNIST.

Writes vit_tutorial/results/data_hunger_synthetic.json, rewritten after every
run (the ``complete`` key says whether all runs are in).
"""
from __future__ import annotations

import time

import numpy as np
import torch

from _common import RESULTS_DIR, base_parser, chapter9, code_fingerprint, init_positions, machine, pos_init_std, setup

import vit_tutorial as vt
from vit_tutorial.baselines import SmallCNN
from vit_tutorial.data import DataSplits, Split, load_dataset
from vit_tutorial.model import count_parameters
from vit_tutorial.synthetic import synthetic_digits
from vit_tutorial.train import TrainConfig, fit

SIZES = (500, 2000, 8000, 40000)
BUDGET_IMAGES = 25_000
MIN_EPOCHS = 1
N_VAL, N_TEST = 1000, 4000


def predictions(model: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return torch.cat([model(images[i:i + 1000]).argmax(1) for i in range(0, len(images), 1000)])


def pack(correct: torch.Tensor) -> str:
    return np.packbits(correct.numpy().astype(np.uint8)).tobytes().hex()


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    p.add_argument("--models", nargs="+", default=["vit", "cnn"])
    p.add_argument("--resume", action="store_true",
                   help="keep the rows of an existing (partial) result with the same settings and run the rest")
    args = p.parse_args()
    setup(args)
    if args.quick:
        args.sizes = [100, 300]
    n_val, n_test = (200, 500) if args.quick else (N_VAL, N_TEST)
    vit_config, recipe9 = chapter9()
    raw_val = synthetic_digits(n_val, 0, "val")
    raw_test = synthetic_digits(n_test, 0, "test")
    mnist = load_dataset("mnist5k")
    mnist_raw = mnist.unstandardise(mnist.test.images)  # (1000, 1, 28, 28) in [0, 1]
    builders = {
        "vit": (f"ViT-Tiny P={vit_config.patch_size}", lambda: vt.ViT(vit_config)),
        "cnn": ("SmallCNN", lambda: SmallCNN(in_channels=1, num_classes=10)),
    }
    rows: list[dict] = []
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    target = args.out / ("data_hunger_synthetic.quick.json" if args.quick else "data_hunger_synthetic.json")
    if args.resume and target.is_file():
        import json

        old = json.loads(target.read_text())
        rows = list(old["rows"])
        started = old["date"]
        print(f"resuming: {len(rows)} runs kept from {target}", flush=True)
    mach = machine()
    total = len(args.seeds) * len(args.sizes) * len(args.models)

    def write(complete: bool) -> None:
        from vit_tutorial.results import save

        doc = {
            "experiment": "data_hunger_synthetic",
            "date": started,
            "command": "python experiments/data_hunger_synthetic.py " + " ".join(
                [f"--seeds {' '.join(map(str, args.seeds))}", f"--sizes {' '.join(map(str, args.sizes))}"]
                + (["--quick"] if args.quick else [])),
            "quick": bool(args.quick),
            "complete": complete,
            "machine": mach,
            "settings": {
                "dataset": "vit_tutorial.synthetic: generated digits (21 matplotlib fonts, affine + elastic "
                           "distortion, stroke width), 28x28; train stream seeded by the run's seed, "
                           f"validation ({n_val}) and test ({n_test}) from seed 0, shared by all runs",
                "budget": f"epochs = max({MIN_EPOCHS}, round({BUDGET_IMAGES} / n)); warm-up share and the rest "
                          "of the recipe as chapter 9",
                "selection": "epoch with the best validation accuracy among ~5 evaluations (later on ties); "
                             "test accuracy reported for that epoch only",
                "train_config": {k: v for k, v in recipe9.items() if k not in ("epochs", "warmup_epochs", "seed",
                                                                               "device", "eval_every")},
                "pos_init_std": pos_init_std(),
                "models": {builders["vit"][0]: vit_config.to_dict(), "SmallCNN": "SmallCNN(width=16)"},
                "sizes": args.sizes, "seeds": args.seeds, "n_val": n_val, "n_test": n_test,
                "code_fingerprint": code_fingerprint(),
                "test_correct_encoding": "hex of numpy.packbits(correct as uint8), test images in order",
            },
            "rows": rows,
        }
        save(doc, args.out / ("data_hunger_synthetic.quick.json" if args.quick else "data_hunger_synthetic.json"),
             overwrite=True, check="data_hunger_synthetic")

    for seed in args.seeds:
        full = synthetic_digits(max(args.sizes), seed, "train")
        for n in args.sizes:
            train_raw = Split(full.images[:n], full.labels[:n])
            mean, std = float(train_raw.images.mean()), float(train_raw.images.std())
            norm = lambda s: Split((s.images - mean) / std, s.labels)  # noqa: E731
            val, test = norm(raw_val), norm(raw_test)
            data = DataSplits("synthetic", norm(train_raw), val, mean, std, 10)  # "test" = validation here
            mnist_x = (mnist_raw - mean) / std
            epochs = max(MIN_EPOCHS, round(BUDGET_IMAGES / n))
            if args.quick:
                epochs = 2
            share = recipe9["warmup_epochs"] / recipe9["epochs"]
            fields = {k: v for k, v in recipe9.items() if k not in ("epochs", "warmup_epochs", "seed", "device",
                                                                    "eval_every")}
            eval_every = max(1, epochs // 5)
            config = TrainConfig(**fields, epochs=epochs, warmup_epochs=epochs * share, seed=seed, device="cpu",
                                 eval_every=eval_every)
            for key in args.models:
                name, build = builders[key]
                if any(r["model"] == name and r["train_images"] == n and r["seed"] == seed and r["epochs"] == epochs
                       for r in rows):
                    continue
                torch.manual_seed(seed)
                model = init_positions(build())
                best = {"val": -1.0}
                curve = []

                def on_epoch(record: dict, model=model, best=best, curve=curve) -> None:
                    if record["test_accuracy"] is None:
                        return
                    v = record["test_accuracy"]  # the validation split, passed as fit's "test"
                    curve.append([record["epoch"], round(v, 4)])
                    if v >= best["val"]:
                        best.update(val=v, epoch=record["epoch"],
                                    state={k: t.detach().clone() for k, t in model.state_dict().items()})

                t0 = time.perf_counter()
                history = fit(model, data, config, progress=False, callback=on_epoch)
                seconds = time.perf_counter() - t0
                final_test = float((predictions(model, test.images) == test.labels).float().mean())
                model.load_state_dict(best["state"])
                best["correct"] = predictions(model, test.images) == test.labels
                best["mnist"] = float((predictions(model, mnist_x) == mnist.test.labels).float().mean())
                row = {
                    "model": name, "fraction": None, "seed": seed, "train_images": n, "epochs": epochs,
                    "images_seen": n * epochs, "parameters": count_parameters(model),
                    "chosen_epoch": best["epoch"], "val_accuracy": round(best["val"], 4),
                    "test_accuracy": round(float(best["correct"].float().mean()), 4),
                    "test_loss": None,
                    "final_epoch_test_accuracy": round(final_test, 4),
                    "mnist_test_accuracy": round(best["mnist"], 4),
                    "train_accuracy_last_epoch": round(float(history[-1]["train_accuracy"]), 4),
                    "val_curve": curve, "train_seconds": round(seconds, 1),
                    "test_correct": pack(best["correct"]),
                }
                rows.append(row)
                print(f"[{len(rows)}/{total}] {name:>14s} n={n:<6d} seed {seed}: {epochs} ep, "
                      f"val {row['val_accuracy']:.4f} (ep {row['chosen_epoch']}), test {row['test_accuracy']:.4f}, "
                      f"mnist {row['mnist_test_accuracy']:.4f}, {seconds:.0f} s", flush=True)
                write(complete=len(rows) == total)


if __name__ == "__main__":
    main()
