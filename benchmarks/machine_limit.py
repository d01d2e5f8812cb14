"""Our ViT-B/16 forward against what this machine can do: achieved GFLOP/s
as a share of a large float32 matrix product's GFLOP/s, measured in the same
run, interleaved.

Contenders, each timed once per round:

* ``matmul``: a 4096x4096 @ 4096x4096 float32 product (2 * 4096^3 FLOPs), the
  practical peak of the BLAS library on this machine;
* ``vit_gemms``: the four linear layers of one ViT-B/16 block (qkv, attention
  output, MLP in, MLP out) at the model's real shapes, M = B*T rows, with
  bias: the best the model's own matrix products can do;
* ``ours``: our ViT-B/16 forward (eval, ``torch.inference_mode``, fused
  attention), batch 8;
* ``transformers``: ``ViTForImageClassification`` with the same config, when
  transformers is installed.

The model's FLOPs are counted by hand with ``vit_tutorial.flops.vit_flops``
(one multiply-add = 2 FLOPs, matrix products only, attention's two T x T
products included) and checked against PyTorch's ``FlopCounterMode``. One
forward of each model is also profiled with ``torch.profiler``; the JSON
keeps the top operators and the time per kind of operator.

    python benchmarks/machine_limit.py            # full run, ~1 min on 2 cores
    python benchmarks/machine_limit.py --quick    # seconds
"""
from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

import common
import vit_tutorial as vt
from vit_tutorial.flops import measure_vit_flops, vit_flops

try:
    import transformers  # noqa: F401

    from throughput_vs_hf import hf_model
except ImportError:
    hf_model = None

#: Substrings of operator (or, on CUDA, kernel) names -> the kind of work they
#: do, for the "where the time goes" chart; the first match wins.
OP_KINDS = [
    ("attention", "fused attention"), ("flash", "fused attention"), ("fmha", "fused attention"),
    ("softmax", "softmax"),
    ("gelu", "GELU"),
    ("layer_norm", "LayerNorm"), ("layernorm", "LayerNorm"),
    ("gemm", "matrix products"), ("addmm", "matrix products"), ("aten::mm", "matrix products"),
    ("aten::bmm", "matrix products"), ("matmul", "matrix products"),
    ("conv", "patch-embedding conv"),
    ("copy", "copies"), ("memcpy", "copies"),
    ("aten::add", "additions"),
    ("aten::cat", "class token (cat)"), ("catarraybatched", "class token (cat)"),
]


def op_kind(name: str) -> str:
    """The kind of work an operator named ``name`` does (see :data:`OP_KINDS`)."""
    low = name.lower()
    return next((kind for key, kind in OP_KINDS if key in low), "other")


def gemm_shapes(config: vt.ViTConfig, batch: int) -> list[tuple[int, int, int]]:
    """(M, K, N) of the four linear layers of one block: (B*T, D) @ (D, 3D) ..."""
    M, D, H = batch * config.num_tokens, config.dim, config.mlp_dim
    return [(M, D, 3 * D), (M, D, D), (M, D, H), (M, H, D)]


def profile_forward(fn, device) -> dict:
    """Profile one call of ``fn``; returns the top operators and time per kind."""
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    fn()
    with profile(activities=activities) as prof:
        fn()
        common.synchronize(device)
    ops = []
    for evt in prof.key_averages():
        us = evt.self_device_time_total if device.type == "cuda" else evt.self_cpu_time_total
        if us > 0:
            ops.append({"op": evt.key, "self_ms": us / 1000.0, "calls": evt.count})
    ops.sort(key=lambda o: -o["self_ms"])
    total = sum(o["self_ms"] for o in ops)
    kinds: dict[str, float] = {}
    for o in ops:
        o["share"] = o["self_ms"] / total
        kind = op_kind(o["op"])
        kinds[kind] = kinds.get(kind, 0.0) + o["self_ms"]
    kinds = dict(sorted(kinds.items(), key=lambda kv: -kv[1]))
    return {"total_ms": total, "top_ops": ops[:12],
            "by_kind": [{"kind": k, "self_ms": v, "share": v / total} for k, v in kinds.items()]}


def main() -> None:
    args = common.base_parser(__doc__.splitlines()[0]).parse_args()
    device = common.setup(args)
    name, batch, n, rounds = ("ViT-Tiny", 16, 512, 3) if args.quick else ("ViT-B/16", 8, 4096, 8)
    config = vt.vit_config(name)

    flops = vit_flops(config, batch)
    counted = measure_vit_flops(config, batch)["total"]
    if counted != flops["total"]:
        raise RuntimeError(f"hand count {flops['total']} and FlopCounterMode {counted} disagree")

    torch.manual_seed(0)
    ours = vt.ViT(config).to(device).eval()
    theirs = None
    if hf_model is not None:
        theirs = hf_model(config).to(device).eval()
        ours.load_state_dict(vt.convert_state_dict(theirs.state_dict(), "hf", config))
    images = torch.randn(batch, config.in_channels, config.image_size, config.image_size, device=device)

    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    layers = [(torch.randn(M, K, device=device), torch.randn(N_, K, device=device), torch.randn(N_, device=device))
              for M, K, N_ in gemm_shapes(config, batch)]
    work = {
        "matmul": 2 * n**3,
        "vit_gemms": sum(2 * M * K * N_ for M, K, N_ in gemm_shapes(config, batch)),
        "ours": flops["total"],
        "transformers": flops["total"],
    }

    def run_matmul():
        with torch.inference_mode():
            a @ b

    def run_gemms():
        with torch.inference_mode():
            for x, w, bias in layers:
                F.linear(x, w, bias)

    def run_model(model, hf):
        with torch.inference_mode():
            model(pixel_values=images) if hf else model(images)

    fns = {"matmul": run_matmul, "vit_gemms": run_gemms, "ours": functools.partial(run_model, ours, False)}
    if theirs is not None:
        fns["transformers"] = functools.partial(run_model, theirs, True)
    times = common.interleave(fns, rounds, 1, device)

    rows = []
    for key, ts in times.items():
        s = common.summarize_times(ts, work[key] / 1e9)
        row = {"name": key, "gflop": work[key] / 1e9, "median_s": s["median_s"], "gflops": s["rate"],
               "gflops_q1": s["rate_q1"], "gflops_q3": s["rate_q3"]}
        # the per-round share of the matmul's rate: (work/t) / (work_mm/t_mm)
        share = common.ratio_stats([work[key] / t for t in ts], [work["matmul"] / t for t in times["matmul"]])
        row.update(share_of_matmul=share["median"], share_q1=share["q1"], share_q3=share["q3"])
        if key in ("ours", "transformers"):
            row["img_s"] = batch / s["median_s"]
        rows.append(row)

    print(f"\n{name}, batch {batch}: {flops['total'] / 1e9:.1f} GFLOP per forward "
          f"({flops['total'] / batch / 1e9:.2f} per image; FlopCounterMode agrees)\n")
    print(common.format_table(rows, [
        ("name", "contender", ""), ("gflop", "GFLOP/call", ".1f"), ("median_s", "median s", ".3f"),
        ("gflops", "GFLOP/s", ".1f"), ("share_of_matmul", "of matmul", ".1%"),
        ("share_q1", "q1", ".1%"), ("share_q3", "q3", ".1%"), ("img_s", "img/s", ".2f"),
    ]))

    profiles = {"ours": profile_forward(fns["ours"], device)}
    if theirs is not None:
        profiles["transformers"] = profile_forward(fns["transformers"], device)
    for key, prof in profiles.items():
        print(f"\nwhere the time goes, {key} ({prof['total_ms']:.0f} ms profiled):")
        print(common.format_table(prof["top_ops"][:8], [("op", "operator", ""), ("calls", "calls", "d"),
                                                         ("self_ms", "self ms", ".1f"), ("share", "share", ".1%")]))

    common.write_result("machine_limit", {
        "settings": {"model": name, "batch": batch, "dtype": "float32", "matmul_n": n, "rounds": rounds,
                     "threads": torch.get_num_threads(),
                     "gemm_shapes": [list(s) for s in gemm_shapes(config, batch)],
                     "flop_convention": "2 per multiply-add; matrix products only (vit_tutorial.flops)"},
        "flops": {**flops, "flop_counter_total": counted},
        "rows": rows,
        "profiles": profiles,
    }, args.out, args.quick, device, overwrite=args.overwrite)


if __name__ == "__main__":
    main()
