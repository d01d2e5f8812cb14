"""Chapter 11, problem 4: attention collapse with depth.

Trains a deep, narrow ViT (chapter 9's ViT-Tiny with 12 blocks, D=32, 4
heads, MLP 64, patch 4) on MNIST-5k with chapter 9's recipe and measures how similar each block's attention maps are to every
other block's (DeepViT's cosine similarity, averaged over heads, query tokens
and 256 test images); the same model untrained is the reference.

    python experiments/attention_collapse.py              # 12 and 24 blocks

Writes vit_tutorial/results/attention_collapse.json.
"""
from __future__ import annotations

import torch
from _common import base_parser, init_positions, load_data, recipe, setup, tiny_config, train_run, write_result

import vit_tutorial as vt
from vit_tutorial.variants import consecutive_layer_similarity, cross_layer_similarity

DEEP = dict(patch_size=4, dim=32, heads=4, mlp_dim=64)


def build(depth: int):
    return lambda: vt.ViT(tiny_config(depth=depth, **DEEP))


def measure(model: vt.ViT, images: torch.Tensor) -> dict:
    model.eval()
    with torch.no_grad():
        _, attentions = model(images, return_attention=True)  # L x (B, h, T, T)
    cross = cross_layer_similarity(attentions)  # (L, L)
    consecutive = consecutive_layer_similarity(attentions, per_head=True)  # (L-1, h)
    # how far each layer is from uniform attention: mean entropy of the rows, in nats
    T = attentions[0].shape[-1]
    entropy = [float(-(a.clamp_min(1e-12).log() * a).sum(-1).mean()) for a in attentions]
    return {
        "cross_layer": [[round(float(v), 4) for v in row] for row in cross],
        "consecutive_per_head": [[round(float(v), 4) for v in row] for row in consecutive],
        "consecutive_mean": [round(float(v), 4) for v in consecutive.mean(dim=1)],
        "entropy": [round(e, 4) for e in entropy],
        "uniform_entropy": round(float(torch.log(torch.tensor(float(T)))), 4),
    }


def main() -> None:
    p = base_parser(__doc__)
    p.add_argument("--images", type=int, default=256, help="test images to average over (default 256)")
    p.add_argument("--depths", type=int, nargs="+", default=[12, 24], help="numbers of blocks (default 12 24)")
    args = p.parse_args()
    setup(args)
    data = load_data(args.quick)
    n = min(args.images, len(data.test))
    step = max(1, len(data.test) // n)
    images = data.test.images[::step][:n]  # every class represented
    rows, extra = [], {}
    for seed in args.seeds:
        for depth in args.depths:
            torch.manual_seed(seed)
            untrained = init_positions(build(depth)())  # the trained model's starting point
            row, trained = train_run(f"ViT-Deep{depth}-D32", build(depth), data, 1.0, seed, args.budget_epochs,
                                     quick=args.quick, use_cache=not args.no_cache)
            rows.append({**row, "depth": depth, "trained": measure(trained, images),
                         "untrained": measure(untrained, images)})
    settings = {**recipe(args.budget_epochs), "seeds": args.seeds, "images": n, "depths": args.depths,
                "model": tiny_config(depth=args.depths[0], **DEEP).to_dict(),
                "similarity": "cosine of attention rows A[b, head, query, :] between layers, "
                              "mean over images, heads and queries (DeepViT)"}
    write_result("attention_collapse", args, settings, rows, **extra)


if __name__ == "__main__":
    main()
