"""Throughput of our ViT against transformers' ViTForImageClassification.

Both models get the same configuration and the same weights (transformers'
random initialisation, copied into ours with
``vit_tutorial.convert_state_dict(hf.state_dict(), "hf", config)``), the same
dtype (float32), the same thread count and the same input batch. Two
measurements per setting:

* ``forward``: eval mode under ``torch.inference_mode()``;
* ``train step``: train mode, forward + cross-entropy + backward (the
  gradients are dropped before each step, ``set_to_none``).

The runs are interleaved (ours, theirs, theirs, ours, ...) and the table
reports the median of the per-round ratio of images/s (ours / theirs; above
1 means ours is faster). transformers picks its attention implementation
itself (``sdpa``, PyTorch's fused kernel, when available); we compare against
that default and record it. An extra forward row compares our explicit
teaching path (``model(images, return_attention=True)``: softmax(QK^T/sqrt(d))V
written out, the weights kept) with transformers' ``eager`` implementation,
the like-for-like slow paths.

    python benchmarks/throughput_vs_hf.py            # full run, ~3 min on 2 cores
    python benchmarks/throughput_vs_hf.py --quick    # seconds
"""
from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

import common
import vit_tutorial as vt

try:
    import transformers
except ImportError as e:  # transformers is a test-only dependency
    raise SystemExit(f"this benchmark needs transformers (pip install -r requirements-test.txt): {e}")

# (preset, batch, timed rounds of the forward, timed rounds of the train step)
SETTINGS = [("ViT-B/16", 8, 10, 6), ("ViT-Tiny", 256, 30, 20)]
QUICK_SETTINGS = [("ViT-Tiny", 16, 3, 2)]


def hf_model(config: vt.ViTConfig, attn_implementation: str | None = None):
    """transformers' ViT with our config (dropout 0, exact GELU, eps 1e-6)."""
    c = config
    kwargs = {} if attn_implementation is None else {"attn_implementation": attn_implementation}
    hf_config = transformers.ViTConfig(
        image_size=c.image_size, patch_size=c.patch_size, num_channels=c.in_channels, hidden_size=c.dim,
        num_hidden_layers=c.depth, num_attention_heads=c.heads, intermediate_size=c.mlp_dim,
        num_labels=c.num_classes, layer_norm_eps=c.layer_norm_eps, hidden_act="gelu", qkv_bias=c.qkv_bias,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, **kwargs,
    )
    return transformers.ViTForImageClassification(hf_config)


def forward_step(model, images, hf: bool, explicit: bool = False) -> None:
    with torch.inference_mode():
        if hf:
            model(pixel_values=images)
        else:
            model(images, return_attention=explicit)


def train_step(model, images, labels, hf: bool) -> None:
    model.zero_grad(set_to_none=True)
    logits = model(pixel_values=images).logits if hf else model(images)
    F.cross_entropy(logits, labels).backward()


def measure(name: str, batch: int, fwd_rounds: int, train_rounds: int, device) -> list[dict]:
    config = vt.vit_config(name)
    torch.manual_seed(0)
    theirs = hf_model(config).to(device)
    ours = vt.ViT(config).to(device)
    ours.load_state_dict(vt.convert_state_dict(theirs.state_dict(), "hf", config))
    images = torch.randn(batch, config.in_channels, config.image_size, config.image_size, device=device)
    labels = torch.randint(0, config.num_classes, (batch,), device=device)

    ours.eval(), theirs.eval()
    with torch.inference_mode():
        diff = (ours(images) - theirs(pixel_values=images).logits).abs().max().item()
    attn = theirs.config._attn_implementation
    rows = []
    base = dict(model=name, batch=batch, image=f"{config.image_size}x{config.image_size}x{config.in_channels}",
                max_abs_logit_diff=diff)

    def add_row(mode: str, times: dict, our_path: str, their_path: str) -> None:
        o, t = common.summarize_times(times["ours"], batch), common.summarize_times(times["theirs"], batch)
        r = common.ratio_stats(times["theirs"], times["ours"])
        rows.append({**base, "mode": mode, "ours_attention": our_path, "hf_attention": their_path,
                     "ours_img_s": o["rate"], "ours_img_s_q1": o["rate_q1"], "ours_img_s_q3": o["rate_q3"],
                     "hf_img_s": t["rate"], "hf_img_s_q1": t["rate_q1"], "hf_img_s_q3": t["rate_q3"],
                     "ratio": r["median"], "ratio_q1": r["q1"], "ratio_q3": r["q3"],
                     "rounds": len(times["ours"])})

    fns = {"ours": functools.partial(forward_step, ours, images, False),
           "theirs": functools.partial(forward_step, theirs, images, True)}
    add_row("forward", common.interleave(fns, fwd_rounds, 1, device), "fused (SDPA)", attn)

    ours.train(), theirs.train()
    fns = {"ours": functools.partial(train_step, ours, images, labels, False),
           "theirs": functools.partial(train_step, theirs, images, labels, True)}
    add_row("train step", common.interleave(fns, train_rounds, 1, device), "fused (SDPA)", attn)

    # Like for like on the slow paths: our explicit attention against HF's eager.
    eager = hf_model(config, "eager").to(device).eval()
    eager.load_state_dict(theirs.state_dict())
    ours.eval()
    fns = {"ours": functools.partial(forward_step, ours, images, False, True),
           "theirs": functools.partial(forward_step, eager, images, True)}
    add_row("forward", common.interleave(fns, max(2, fwd_rounds // 2), 1, device), "explicit", "eager")
    del theirs, eager, ours
    return rows


def main() -> None:
    args = common.base_parser(__doc__.splitlines()[0]).parse_args()
    device = common.setup(args)
    rows = []
    for name, batch, fwd_rounds, train_rounds in QUICK_SETTINGS if args.quick else SETTINGS:
        print(f"{name}, batch {batch} ...", flush=True)
        rows += measure(name, batch, fwd_rounds, train_rounds, device)
    print()
    print(common.format_table(rows, [
        ("model", "model", ""), ("batch", "batch", "d"), ("mode", "mode", ""),
        ("ours_attention", "ours", ""), ("hf_attention", "HF", ""),
        ("ours_img_s", "ours img/s", ".1f"), ("hf_img_s", "HF img/s", ".1f"),
        ("ratio", "ratio", ".3f"), ("ratio_q1", "q1", ".3f"), ("ratio_q3", "q3", ".3f"),
        ("max_abs_logit_diff", "max |diff|", ".1e"),
    ]))
    common.write_result("throughput_vs_hf", {
        "settings": {"dtype": "float32", "threads": torch.get_num_threads(),
                     "hf_default_attn_implementation": rows[0]["hf_attention"],
                     "ratio": "median over rounds of (ours images/s) / (HF images/s)"},
        "rows": rows,
    }, args.out, args.quick, device, overwrite=args.overwrite)


if __name__ == "__main__":
    main()
