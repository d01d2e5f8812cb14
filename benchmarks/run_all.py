"""Run every benchmark, one after the other, each writing its JSON to
``vit_tutorial/results/`` (package data); the appendix "How fast is it?" reads them.

    python benchmarks/run_all.py                 # everything, ~15 min on 2 quiet cores
    python benchmarks/run_all.py --skip-book     # without book_time.py (~10 min)
    python benchmarks/run_all.py --quick         # every script in its tiny mode (results to a temp folder)
    python benchmarks/run_all.py --device cuda   # on a GPU, where there is one
    python benchmarks/run_all.py --overwrite     # replace the shipped results (default: write
                                                 # <name>.<UTC time>.json next to them)

Each script runs in its own Python process, so one's memory and threads do
not affect the next. Run it on an otherwise idle machine: the scripts
record the load average next to their numbers.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: In order: script, and whether it accepts the common options (--device --quick --threads --out --overwrite).
SCRIPTS = [
    ("throughput_vs_hf.py", True),
    ("machine_limit.py", True),
    ("attention_paths.py", True),
    ("train_mnist.py", False),  # the training benchmark; its options are read from its --help
    ("book_time.py", True),
]


def supported_options(script: Path) -> str:
    """The text of ``script --help`` (to see which common options it takes)."""
    proc = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, cwd=HERE.parent)
    return proc.stdout


def command(script: Path, common_opts: bool, args: argparse.Namespace, out: Path) -> list[str]:
    """The command line for one script, passing on the options it understands."""
    help_text = None if common_opts else supported_options(script)
    cmd = [sys.executable, str(script)]
    for flag, value in (("--device", args.device), ("--threads", args.threads), ("--out", out)):
        if value is not None and (common_opts or flag in help_text):
            cmd += [flag, str(value)]
    if args.quick and (common_opts or "--quick" in help_text):
        cmd.append("--quick")
    if getattr(args, "overwrite", False) and (common_opts or "--overwrite" in help_text):
        cmd.append("--overwrite")
    return cmd


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default=None, help="cpu (the scripts' default) or cuda")
    p.add_argument("--threads", type=int, default=None, help="torch threads for every script")
    p.add_argument("--quick", action="store_true", help="every script in its tiny mode")
    p.add_argument("--skip-book", action="store_true", help="skip book_time.py (notebook execution and build)")
    p.add_argument("--skip-train", action="store_true", help="skip train_mnist.py")
    p.add_argument("--out", type=Path, default=None,
                   help="results folder (default vit_tutorial/results; with --quick a temporary folder)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing results (default: keep them, write <name>.<UTC time>.json)")
    args = p.parse_args()
    out = args.out or (Path(tempfile.mkdtemp(prefix="vit-bench-")) if args.quick
                       else HERE.parent / "vit_tutorial" / "results")

    summary = []
    for name, common_opts in SCRIPTS:
        script = HERE / name
        if (name == "book_time.py" and args.skip_book) or (name == "train_mnist.py" and args.skip_train):
            summary.append((name, "skipped", 0.0))
            continue
        if not script.exists():
            summary.append((name, "missing", 0.0))
            print(f"\n=== {name}: not found, skipped", flush=True)
            continue
        cmd = command(script, common_opts, args, out)
        print(f"\n=== {' '.join(Path(c).name if c == sys.executable else c for c in cmd)}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.run(cmd, cwd=HERE.parent).returncode
        summary.append((name, "ok" if rc == 0 else f"FAILED (exit {rc})", time.perf_counter() - t0))

    print("\n=== summary")
    for name, status, seconds in summary:
        print(f"{name:22s} {status:18s} {seconds:7.1f} s")
    print(f"{'total':22s} {'':18s} {sum(s for _, _, s in summary):7.1f} s")
    print(f"results in {out}")
    if any(status.startswith("FAILED") for _, status, _ in summary):
        sys.exit(1)


if __name__ == "__main__":
    main()
