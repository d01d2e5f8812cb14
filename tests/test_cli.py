"""`python -m vit_tutorial.train`: outputs, --resume, and clear errors."""
import json
import os
import subprocess
import sys

import pytest
import torch

from vit_tutorial.train import STATE_FILE, load_checkpoint, main

# A very small ViT on the 8x8 digits: one epoch takes well under a second.
TINY = ["--dataset", "digits", "--set", "patch_size=4", "--set", "dim=32", "--set", "depth=1",
        "--set", "heads=2", "--set", "mlp_dim=64", "--batch-size", "64", "--augment-shift", "0",
        "--threads", "1", "--no-progress"]


def run_cli(*args, check=True):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "vit_tutorial.train", *args], capture_output=True, text=True,
                          env=env, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)  # main(--threads 1) changes it in-process


def test_train_then_resume(tmp_path):
    out = tmp_path / "run"
    first = run_cli(*TINY, "--out", str(out), "--epochs", "1", "--pos-init-std", "0.5")
    assert "epoch 1: test accuracy" in first.stdout
    assert {p.name for p in out.iterdir()} == {"model.safetensors", "config.json", "metrics.json", STATE_FILE}
    m1 = json.loads((out / "metrics.json").read_text())
    assert m1["epochs"] == 1 and len(m1["history"]) == 1 and m1["world_size"] == 1
    assert 0 <= m1["test_accuracy"] <= 1 and m1["train_seconds"] > 0
    assert m1["model_config"]["image_size"] == 8  # taken from the dataset
    assert m1["pos_init_std"] == 0.5

    second = run_cli(*TINY, "--out", str(out), "--epochs", "2", "--resume")
    assert "epoch 2: test accuracy" in second.stdout
    assert "epoch   1" not in second.stdout  # epoch 1 is not trained again
    m2 = json.loads((out / "metrics.json").read_text())
    assert m2["epochs"] == 2 and [r["epoch"] for r in m2["history"]] == [1, 2]
    assert m2["history"][0] == m1["history"][0]  # the first epoch's record, seconds included, is carried over
    assert m2["train_seconds"] == pytest.approx(sum(r["seconds"] for r in m2["history"]))
    model = load_checkpoint(out)
    assert model.config.dim == 32 and model.config.depth == 1
    state = torch.load(out / STATE_FILE, weights_only=True)
    assert state["epoch"] == 2


def test_every_train_config_field_is_a_flag(tmp_path):
    out = tmp_path / "betas"
    assert main([*TINY, "--out", str(out), "--epochs", "1", "--betas", "0.8", "0.95", "--set", "pos_init_std=0.3",
                 "--fused-adamw"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["train_config"]["betas"] == [0.8, 0.95]
    assert m["train_config"]["fused_adamw"] is True
    assert m["model_config"]["pos_init_std"] == 0.3 and m["pos_init_std"] == 0.3
    assert json.loads((out / "config.json").read_text())["pos_init_std"] == 0.3


def test_drop_state_leaves_only_the_checkpoint(tmp_path):
    out = tmp_path / "clean"
    assert main([*TINY, "--out", str(out), "--epochs", "1", "--drop-state", "--train-fraction", "0.2"]) == 0
    assert {p.name for p in out.iterdir()} == {"model.safetensors", "config.json", "metrics.json"}
    assert json.loads((out / "metrics.json").read_text())["train_fraction"] == 0.2


def expect_error(capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err, err
    return err


def test_errors(tmp_path, capsys):
    out = str(tmp_path / "x")
    expect_error(capsys, ["--dataset", "cifar10", "--out", out], "known datasets: mnist5k, digits")
    expect_error(capsys, ["--dataset", "digits"], "the following arguments are required: --out")
    expect_error(capsys, [*TINY, "--out", out, "--resume"], "--resume: no training state")
    expect_error(capsys, [*TINY, "--out", out, "--epochs", "0"], "epochs must be a positive integer")
    expect_error(capsys, [*TINY, "--out", out, "--epochs", "two"], "invalid int value")
    expect_error(capsys, [*TINY, "--out", out, "--set", "width=3"], "--set expects FIELD=VALUE")
    expect_error(capsys, [*TINY, "--out", out, "--set", "dim=big"], "--set dim: expected a int")
    expect_error(capsys, [*TINY, "--out", out, "--preset", "ViT-S/16"], "known presets")
    expect_error(capsys, [*TINY, "--out", out, "--set", "patch_size=3"], "not divisible by the patch size 3")
    expect_error(capsys, [*TINY, "--out", out, "--train-fraction", "0"], "--train-fraction must be in (0, 1]")
    expect_error(capsys, [*TINY, "--out", out, "--pos-init-std", "0"], "--pos-init-std must be a positive number")
    expect_error(capsys, [*TINY, "--out", out, "--betas", "0.9", "1.5"], "--betas must be two numbers in [0, 1)")
    expect_error(capsys, [*TINY, "--out", out, "--pos-init-std", "0.5", "--set", "pos_embedding=sincos"],
                 "--pos-init-std needs a learned position table")
    afile = tmp_path / "file.txt"
    afile.write_text("not a directory")
    expect_error(capsys, [*TINY, "--out", str(afile)], "exists and is not a directory")
    assert not (tmp_path / "x").exists()  # no error left a half-made run behind


def test_errors_about_existing_runs(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main([*TINY, "--out", out, "--epochs", "1"]) == 0
    capsys.readouterr()
    expect_error(capsys, [*TINY, "--out", out, "--epochs", "1"], "already holds a training run; pass --resume")
    expect_error(capsys, [*TINY, "--out", out, "--epochs", "1", "--resume"], "already finished 1 epochs")
    expect_error(capsys, [*TINY, "--out", out, "--epochs", "2", "--resume", "--set", "dim=64"],
                 "the model config differs")


def test_error_exit_code_from_the_shell(tmp_path):
    proc = run_cli("--dataset", "nope", "--out", str(tmp_path / "y"), check=False)
    assert proc.returncode == 2 and "unknown dataset 'nope'" in proc.stderr


def test_mnist5k_defaults_are_the_validated_recipe(tmp_path):
    out = tmp_path / "plain"
    run_cli("--dataset", "mnist5k", "--out", str(out), "--epochs", "1", "--train-fraction", "0.02",
            "--threads", "1", "--no-progress")
    m = json.loads((out / "metrics.json").read_text())
    assert m["model_config"]["patch_size"] == 7 and m["model_config"]["pos_init_std"] == 0.5
    assert m["train_config"]["batch_size"] == 64 and m["train_config"]["augment_shift"] == 1
    assert m["validation"] is True and m["val_accuracy"] is not None and m["test_accuracy"] is not None
    assert m["history"][-1]["val_accuracy"] == m["val_accuracy"]
    # --set wins over the dataset's default; --no-validation trains on train + val
    out2 = tmp_path / "p4"
    run_cli("--dataset", "mnist5k", "--out", str(out2), "--epochs", "1", "--train-fraction", "0.02",
            "--set", "patch_size=4", "--no-validation", "--threads", "1", "--no-progress")
    m2 = json.loads((out2 / "metrics.json").read_text())
    assert m2["model_config"]["patch_size"] == 4 and m2["validation"] is False and m2["val_accuracy"] is None
