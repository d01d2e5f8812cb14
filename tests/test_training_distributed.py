"""The CLI under torchrun: two CPU processes (gloo, loopback) train like one.

Both runs see the same global batches (each rank takes half of every global
batch, and the loss is scaled so that DDP's gradient average equals the
global-batch mean), so they take the same optimisation steps. They agree to
float round-off, not bit for bit, because the gradient is summed in another
order (two half-batch sums, then an all-reduce).

One parameter is compared more loosely: the bias of the keys. Softmax
ignores anything added to every score of a row, so the true gradient of the
key bias is exactly zero and what autograd returns is round-off noise, which
Adam rescales into full-size steps. Its value is noise in both runs; it has
no effect on the outputs, which are compared tightly.
"""
import json
import os
import socket
import subprocess
import sys

import pytest
import torch

from vit_tutorial.data import load_dataset
from vit_tutorial.train import STATE_FILE, load_checkpoint

TINY = ["--dataset", "digits", "--set", "patch_size=4", "--set", "dim=32", "--set", "depth=1",
        "--set", "heads=2", "--set", "mlp_dim=64", "--batch-size", "64", "--augment-shift", "1",
        "--threads", "1", "--no-progress",
        # all 1,438 training digits: an even count, so DistributedSampler pads nothing and both runs
        # train on the same images (the 1,259 of the validation recipe would repeat one image on 2 ranks)
        "--no-validation"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(args, nproc=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo"}
    if nproc is None:
        cmd = [sys.executable, "-m", "vit_tutorial.train", *args]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}",
               "--master_addr=127.0.0.1", f"--master_port={free_port()}", "-m", "vit_tutorial.train", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_two_processes_match_one_and_resume(tmp_path):
    single, double = tmp_path / "one", tmp_path / "two"
    launch([*TINY, "--epochs", "2", "--out", str(single)])
    # two processes: one epoch, "interrupted", then resumed under torchrun for the second
    first = launch([*TINY, "--epochs", "1", "--out", str(double)], nproc=2)
    assert "2 process(es), global batch 64" in first.stdout
    second = launch([*TINY, "--epochs", "2", "--resume", "--out", str(double)], nproc=2)
    # only rank 0 reports and writes
    assert second.stdout.count("epoch 2: test accuracy") == 1
    assert {p.name for p in double.iterdir()} == {"model.safetensors", "config.json", "metrics.json", STATE_FILE}

    m1 = json.loads((single / "metrics.json").read_text())
    m2 = json.loads((double / "metrics.json").read_text())
    assert (m1["world_size"], m2["world_size"]) == (1, 2)
    assert [r["epoch"] for r in m2["history"]] == [1, 2]
    for a, b in zip(m1["history"], m2["history"]):
        for key in ("train_loss", "train_objective", "test_loss"):
            assert b[key] == pytest.approx(a[key], rel=1e-4), key
        # the test metrics were summed over both ranks' halves of the test split
        assert b["test_accuracy"] == pytest.approx(a["test_accuracy"], abs=1 / 359 + 1e-9)
        assert b["lr"] == pytest.approx(a["lr"], rel=1e-9)

    a, b = load_checkpoint(single), load_checkpoint(double)
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        tol = 1e-2 if name.endswith("attn.qkv.bias") else 1e-4
        torch.testing.assert_close(q, p, rtol=0, atol=tol, msg=name)
    x = load_dataset("digits").test.images
    with torch.no_grad():
        torch.testing.assert_close(b(x), a(x), rtol=0, atol=1e-3)


@pytest.mark.parametrize("n, batch, world", [(1438, 64, 2), (4000, 64, 2), (100, 12, 3), (10, 4, 4)])
def test_sampler_shards_the_single_process_batches(n, batch, world):
    """DistributedSampler's shares, cut into local batches, put back together
    give the batches of one process (up to the sampler's padding of the end)."""
    from vit_tutorial.training import rank_batches, sampler

    single = rank_batches(sampler(n, 3, 0, 1), 5, batch, 1)
    shares = [rank_batches(sampler(n, 3, r, world), 5, batch // world, world) for r in range(world)]
    assert all(len(s) == len(shares[0]) for s in shares)
    padded = -(-n // world) * world  # the sampler repeats a few images when world does not divide n
    assert sum(len(idx) for s in shares for idx, _ in s) == padded
    for k, (idx, size) in enumerate(single):
        if (k + 1) * batch > n and padded != n:
            continue  # the last batch holds the repeats
        together = torch.cat([s[k][0] for s in shares])
        assert sorted(together.tolist()) == sorted(idx.tolist())
        assert all(s[k][1] == size == len(idx) for s in shares)
