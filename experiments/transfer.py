"""Chapter 11, transfer: does pre-training help chapter 9's ViT adapt to a new
task in a few epochs, and does it help the ViT more than the small CNN?

For each seed s (the same seed for pre-training and the downstream runs) and
each model (chapter 9's ViT-Tiny P=7 and SmallCNN(width=16)):

1. **Pre-train** on ``--pretrain-images`` generated digits
   (``vit_tutorial.synthetic.load_synthetic``, seed s: font glyphs with random
   affine, elastic and stroke-width distortions; standardised with their own
   mean and sd) for ``--pretrain-epochs`` epochs with chapter 9's recipe; the
   weights of the best epoch on 1,000 generated validation digits are kept
   (cached in ``$VIT_EXPERIMENT_CACHE``).
2. **Zero-shot**: those weights, unchanged, on MNIST-5k's validation and test
   digits (standardised with MNIST's own statistics; the ten classes are the
   same, so the head is used as it is).
3. **Fine-tune** all weights on a small stratified subset of MNIST-5k's 3,500
   training digits (``--ft-images``, chosen with seed s) for ``--ft-epochs``
   epochs with chapter 9's recipe, validation (500 digits) after every epoch,
   the best epoch's weights scored once on the 1,000 test digits.
4. **Scratch**: the same architecture from a fresh initialisation (seed s),
   the same subset, recipe and budget as 3.

Every downstream row stores ``test_correct`` (the same 1,000 test digits), so
the chapter can pair fine-tuned with scratch per model and seed, and compare
the ViT's gain with the CNN's. The outcome can go either way: the generated
digits are printed glyphs, not handwriting, so pre-training on them may help
little, and the CNN may gain as much as the ViT or more.

    python experiments/transfer.py --seeds 0 1 2

Writes vit_tutorial/results/transfer.json (rewritten after every model and
seed, ``"complete": false`` until the last one).
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import time

import torch
from _common import (CACHE_DIR, base_parser, chapter9, envelope, fit_select, init_positions, machine, pack_correct,
                     pos_init_std, predictions, recipe_config, result_target, run_code_fingerprint, setup, write_at)

import vit_tutorial as vt
from vit_tutorial.baselines import SmallCNN
from vit_tutorial.data import Split, load_splits
from vit_tutorial.model import count_parameters
from vit_tutorial.synthetic import load_synthetic

CNN_WIDTH = 16  # as in recipe_validation.py
N_SYN_VAL = N_SYN_TEST = 1000


def builders() -> dict:
    """key -> (model name, builder)."""
    config, _ = chapter9()
    return {"vit": (f"ViT-Tiny P={config.patch_size}", lambda: init_positions(vt.ViT(config))),
            "cnn": ("SmallCNN", lambda: SmallCNN(width=CNN_WIDTH))}


def accuracy_bits(model, split: Split) -> tuple[float, torch.Tensor]:
    correct = predictions(model, split.images) == split.labels
    return float(correct.float().mean()), correct


def pretrain(key: str, name: str, build, syn, seed: int, epochs: int, quick: bool, use_cache: bool):
    """Pre-train (or load from the cache); returns (info dict, model with the chosen weights)."""
    torch.manual_seed(seed)
    model = build()
    config = recipe_config(epochs, seed)
    blob = json.dumps({"what": "transfer-pretrain", "model": name, "arch": repr(model), "seed": seed,
                       "quick": quick, "config": config.to_dict(), "n_train": len(syn.train),
                       "n_val": len(syn.val), "pos_init_std": pos_init_std(), "code": run_code_fingerprint()},
                      sort_keys=True)
    h = "pre-" + hashlib.sha1(blob.encode()).hexdigest()[:16]
    cache_json, cache_pt = CACHE_DIR / f"{h}.json", CACHE_DIR / f"{h}.pt"
    if use_cache and cache_json.is_file() and cache_pt.is_file():
        model.load_state_dict(torch.load(cache_pt, weights_only=True))
        model.eval()
        info = {**json.loads(cache_json.read_text()), "cached": True}
        print(f"  {name:>13s} seed {seed}: pre-trained weights from the cache", flush=True)
        return info, model
    cpu0 = time.process_time()
    res = fit_select(model, syn.train, syn.val, syn.test, config, evaluations=epochs)
    res.pop("correct")
    res.pop("test_correct")
    info = {"model": name, "seed": seed, "train_images": len(syn.train), "epochs": epochs,
            "images_seen": len(syn.train) * epochs, **res, "cpu_seconds": round(time.process_time() - cpu0, 1)}
    print(f"  {name:>13s} seed {seed}: pre-trained, synthetic val {info['val_accuracy']:.4f} "
          f"(epoch {info['chosen_epoch']}), synthetic test {info['test_accuracy']:.4f}, "
          f"{info['cpu_seconds']:.0f} CPU s", flush=True)
    if use_cache:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        tmp = cache_pt.with_suffix(f".{os.getpid()}.tmp")
        torch.save(model.state_dict(), tmp)
        os.replace(tmp, cache_pt)
        tmp = cache_json.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(info))
        os.replace(tmp, cache_json)
    model.eval()
    return {**info, "cached": False}, model


def downstream(model, small: Split, val: Split, test: Split, seed: int, epochs: int) -> dict:
    cpu0 = time.process_time()
    res = fit_select(model, small, val, test, recipe_config(epochs, seed), evaluations=epochs)
    res.pop("correct")
    return {**res, "cpu_seconds": round(time.process_time() - cpu0, 1)}


def main() -> None:
    p = base_parser(__doc__)
    p.set_defaults(seeds=[0, 1, 2])
    p.add_argument("--models", nargs="+", default=["vit", "cnn"], choices=["vit", "cnn"])
    p.add_argument("--pretrain-images", type=int, default=10000, help="generated training digits (default 10,000)")
    p.add_argument("--pretrain-epochs", type=int, default=7, help="pre-training epochs (default 7)")
    p.add_argument("--ft-images", type=int, default=350,
                   help="MNIST-5k training digits for fine-tuning and scratch, stratified (default 350 = 35 per class)")
    p.add_argument("--ft-epochs", type=int, default=10,
                   help="downstream epochs for both fine-tuning and scratch (default 10; validation after each)")
    args = p.parse_args()
    setup(args)
    n_pre, pre_epochs, n_ft, ft_epochs = args.pretrain_images, args.pretrain_epochs, args.ft_images, args.ft_epochs
    n_syn_val, n_syn_test = N_SYN_VAL, N_SYN_TEST
    mnist = load_splits("mnist5k")
    val, test = mnist.val, mnist.test
    if args.quick:
        n_pre, pre_epochs, n_ft, ft_epochs, n_syn_val, n_syn_test = 200, 1, 50, 1, 100, 100
        val, test = Split(val.images[::5], val.labels[::5]), Split(test.images[::10], test.labels[::10])
    if not 10 <= n_ft <= len(mnist.train):
        raise ValueError(f"--ft-images must be between 10 and {len(mnist.train)}, got {n_ft}")
    table = builders()
    target = result_target("transfer", args)
    started, mach = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), machine()
    rows, pre_rows = [], []
    total = len(args.seeds) * len(args.models)
    settings = {
        "question": "after pre-training on generated digits, does fine-tuning on few MNIST digits for a few "
                    "epochs beat training the same architecture from scratch with the same downstream budget, "
                    "and is the ViT's gain larger than the CNN's?",
        "pretraining_data": f"{n_pre} generated digits (vit_tutorial.synthetic.load_synthetic, seed = the run's "
                            f"seed): printed glyphs of 21 matplotlib fonts with random affine, elastic and "
                            f"stroke-width distortions; standardised with their own mean and sd; "
                            f"{n_syn_val} generated validation and {n_syn_test} test digits. NOT handwriting: "
                            f"a related task (same classes, same image size), not a large general-purpose image "
                            f"data set",
        "pretraining": f"{pre_epochs} epochs of chapter 9's recipe; weights of the best generated-validation "
                       f"epoch kept",
        "downstream_data": f"a stratified subset of {n_ft} of MNIST-5k's 3,500 training digits (load_splits; "
                           f"chosen with the run's seed, the same for fine-tune and scratch), the 500 validation "
                           f"and 1,000 test digits, standardised with MNIST's statistics",
        "downstream": f"all weights trained for {ft_epochs} epochs of chapter 9's recipe (warm-up keeps its "
                      f"share), validation after every epoch, best epoch's weights scored once on test; "
                      f"'finetuned' starts from the pre-trained weights, 'scratch' from a fresh "
                      f"initialisation with the same seed",
        "arms": {"zero_shot": "pre-trained weights on MNIST without any MNIST training (epochs 0)",
                 "finetuned": "pre-trained, then downstream training", "scratch": "downstream training only"},
        "is_not": "one pre-training task that resembles the downstream one; a tiny ViT and CNN; one short "
                  "budget; it does not reproduce the paper's pre-training scale or its fine-tuning recipe",
        "pretrain_config": recipe_config(pre_epochs, 0).to_dict(),
        "downstream_config": recipe_config(ft_epochs, 0).to_dict(),
        "pos_init_std": pos_init_std(),
        "models": {table["vit"][0]: chapter9()[0].to_dict(), "SmallCNN": f"SmallCNN(width={CNN_WIDTH})"},
        "seeds": args.seeds, "code_fingerprint": run_code_fingerprint(),
        "test_correct_encoding": "hex of numpy.packbits(correct as uint8), MNIST-5k test digits in order",
    }
    for seed in args.seeds:
        syn = load_synthetic(n_pre, n_syn_val, n_syn_test, seed=seed)
        small = mnist.subset(n_ft / len(mnist.train), seed=seed).train
        if args.quick:
            small = Split(small.images.clone(), small.labels.clone())
        for key in args.models:
            name, build = table[key]
            info, pre = pretrain(key, name, build, syn, seed, pre_epochs, args.quick, not args.no_cache)
            pre_rows.append(info)
            common = {"model": name, "seed": seed, "parameters": count_parameters(pre)}
            val_acc, _ = accuracy_bits(pre, val)
            test_acc, correct = accuracy_bits(pre, test)
            rows.append({**common, "arm": "zero_shot", "epochs": 0, "train_images": 0,
                         "val_accuracy": round(val_acc, 4), "test_accuracy": round(test_acc, 4),
                         "test_correct": pack_correct(correct)})
            tuned = copy.deepcopy(pre).train()
            res = downstream(tuned, small, val, test, seed, ft_epochs)
            rows.append({**common, "arm": "finetuned", "epochs": ft_epochs, "train_images": len(small), **res})
            torch.manual_seed(seed)
            fresh = build()
            res = downstream(fresh, small, val, test, seed, ft_epochs)
            rows.append({**common, "arm": "scratch", "epochs": ft_epochs, "train_images": len(small), **res})
            z, f, s = rows[-3:]
            print(f"  {name:>13s} seed {seed}: MNIST test zero-shot {z['test_accuracy']:.4f}, "
                  f"fine-tuned {f['test_accuracy']:.4f} (val epoch {f['chosen_epoch']}), "
                  f"scratch {s['test_accuracy']:.4f} (val epoch {s['chosen_epoch']})", flush=True)
            doc = {**envelope("transfer", args, started, mach), "complete": len(pre_rows) == total,
                   "settings": settings, "rows": rows, "pretraining": pre_rows}
            write_at(doc, target, "transfer")
            print(f"[{len(pre_rows)}/{total}] wrote {target}", flush=True)


if __name__ == "__main__":
    main()
