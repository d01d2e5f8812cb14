"""Bad input gets a clear error; no run, checkpoint or verdict is wrong or lost (issue 20).

The review ``../shared/reviews/bad-input.md`` tried 1,027 bad inputs; its high- and
medium-severity findings are turned into parametrised tests here, one test per
family (timm's style): checkpoints on disk, the training loop, the command line,
attention that is not a distribution, the dtype policy, the self-checks.
"""
from __future__ import annotations

import json
import math
import pickle
import subprocess
import sys

import pytest
import torch
from torch import nn

import vit_tutorial as vt
from vit_tutorial.data import DataSplits, Split, load_dataset
from vit_tutorial.training import (
    STATE_FILE,
    TrainConfig,
    TrainingDiverged,
    check_fit_data,
    fit,
    load_checkpoint,
    main,
    read_state,
    save_checkpoint,
    strict_json,
)

CKPT = ("model.safetensors", "config.json", "metrics.json", STATE_FILE)
TINY = ["--dataset", "digits", "--set", "patch_size=4", "--set", "dim=16", "--set", "depth=1",
        "--set", "heads=2", "--set", "mlp_dim=32", "--batch-size", "64", "--augment-shift", "0",
        "--threads", "1", "--no-progress", "--train-fraction", "0.1"]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny(num_classes=10, seed=0):
    torch.manual_seed(seed)
    return vt.ViT(vt.vit_config("ViT-Tiny", image_size=8, patch_size=4, dim=16, depth=1, heads=2, mlp_dim=32,
                                num_classes=num_classes))


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits").subset(0.1)


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


# ---------------------------------------------------------------- checkpoints on disk


@pytest.mark.parametrize("metrics", [{"acc": torch.tensor(0.9)}, {"acc": float("nan")}, {"acc": math.inf},
                                     {"n": __import__("numpy").int64(3)}, {"x": object()}],
                         ids=["tensor", "nan", "inf", "numpy-int", "object"])
def test_save_checkpoint_is_atomic_and_strict_json(tmp_path, metrics):
    out = tmp_path / "d"
    save_checkpoint(tiny(), out, {"run": "A"})
    before = snapshot(out)
    other = vt.ViT(vt.vit_config("ViT-Tiny", image_size=8, patch_size=4, dim=16, depth=2, heads=2, mlp_dim=32))
    with pytest.raises(ValueError, match="metrics must be JSON-serialisable"):
        save_checkpoint(other, out, metrics, overwrite=True)
    assert snapshot(out) == before  # nothing of run B beside run A's metrics
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no temp folder left


def test_save_checkpoint_never_overwrites_silently_and_never_mixes(tmp_path):
    out = tmp_path / "d"
    save_checkpoint(tiny(), out)  # no metrics: model.safetensors + config.json only
    with pytest.raises(ValueError, match="already holds a checkpoint"):
        save_checkpoint(tiny(seed=1), out)
    save_checkpoint(tiny(seed=1), out, {"run": "B"}, overwrite=True)
    assert json.loads((out / "metrics.json").read_text()) == {"run": "B"}
    save_checkpoint(tiny(seed=2), out, overwrite=True)  # no metrics now: the stale metrics.json goes
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.safetensors"]
    json.loads((out / "config.json").read_text())  # strict JSON
    with pytest.raises(ValueError, match="strict|finite|JSON"):
        strict_json({"a": float("nan")}, "metrics")


def test_save_checkpoint_refuses_nan_weights(tmp_path):
    model = tiny()
    with torch.no_grad():
        model.head.weight.fill_(float("nan"))
    with pytest.raises(ValueError, match="NaN/inf weights"):
        save_checkpoint(model, tmp_path / "d")
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").iterdir())


def _corrupt(kind, folder):
    w, c = folder / "model.safetensors", folder / "config.json"
    if kind == "truncated":
        w.write_bytes(w.read_bytes()[: w.stat().st_size // 2])
    elif kind == "header":
        w.write_bytes(b"\x05\x00\x00")
    elif kind == "empty":
        w.write_bytes(b"")
    elif kind == "garbage":
        w.write_bytes(torch.randint(0, 256, (4096,), dtype=torch.uint8).numpy().tobytes())
    elif kind == "pickle":
        w.write_bytes(pickle.dumps({"a": 1}))
    elif kind == "torch-save":
        torch.save(tiny().state_dict(), w)
    elif kind == "config-corrupt":
        c.write_text("{not json")
    elif kind == "config-depth":
        d = json.loads(c.read_text()); d["depth"] = 2; c.write_text(json.dumps(d))
    elif kind == "config-dim":
        d = json.loads(c.read_text()); d["dim"] = 32; c.write_text(json.dumps(d))
    elif kind == "foreign":
        from safetensors.torch import save_file
        save_file({"weight": torch.zeros(3)}, str(w))
    elif kind == "nan-weights":
        from safetensors.torch import load_file, save_file
        save_file({k: torch.full_like(v, float("nan")) for k, v in load_file(str(w)).items()}, str(w))


@pytest.mark.parametrize("kind", ["truncated", "header", "empty", "garbage", "pickle", "torch-save", "config-corrupt",
                                  "config-depth", "config-dim", "foreign", "nan-weights"])
def test_load_checkpoint_turns_bad_files_into_value_errors(tmp_path, kind):
    out = save_checkpoint(tiny(), tmp_path / "d")
    _corrupt(kind, out)
    with pytest.raises(ValueError) as info:
        load_checkpoint(out)
    assert "weights_only=False" not in str(info.value)


def _bad_state(kind, path, good):
    if kind == "garbage":
        path.write_bytes(torch.randint(0, 256, (4096,), dtype=torch.uint8).numpy().tobytes())
    elif kind == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "pickle":
        class Payload:
            def __reduce__(self):
                return (print, ("payload ran",))
        path.write_bytes(pickle.dumps(Payload()))
    elif kind == "torch-objects":
        torch.save({"epoch": 1, "model": nn.Linear(2, 2)}, path)
    elif kind == "bare-state-dict":
        torch.save(tiny().state_dict(), path)
    elif kind == "tensor":
        torch.save(torch.zeros(3), path)
    elif kind == "epoch-str":
        state = torch.load(path, weights_only=True); state["epoch"] = "1"; torch.save(state, path)
    elif kind == "other-model":
        state = torch.load(path, weights_only=True); state["model"] = tiny(num_classes=3).state_dict()
        torch.save(state, path)


STATE_KINDS = ["garbage", "truncated", "empty", "pickle", "torch-objects", "bare-state-dict", "tensor", "epoch-str"]


@pytest.fixture(scope="module")
def one_epoch_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "r"
    assert main([*TINY, "--out", str(out), "--epochs", "1"]) == 0
    return out


@pytest.mark.parametrize("kind", STATE_KINDS)
def test_read_state_refuses_bad_files_clearly(tmp_path, one_epoch_run, kind):
    path = tmp_path / STATE_FILE
    good = (one_epoch_run / STATE_FILE).read_bytes()
    path.write_bytes(good)
    _bad_state(kind, path, good)
    with pytest.raises(ValueError) as info:
        read_state(path)
    assert "weights_only=False" not in str(info.value)


# ---------------------------------------------------------------- the training loop


def _splits(digits, **changes):
    parts = dict(name="digits", train=digits.train, test=digits.test, mean=digits.mean, std=digits.std,
                 num_classes=digits.num_classes, val=None)
    parts.update(changes)
    return DataSplits(**parts)


EMPTY = Split(torch.rand(0, 1, 8, 8), torch.zeros(0, dtype=torch.long))


@pytest.mark.parametrize("case, match", [
    ("empty-test", "test split is empty"),
    ("empty-val", "val split is empty"),
    ("empty-train", "train split is empty"),
    ("labels-beyond", "label 9, but (data.)?num_classes is 5"),
    ("model-5-classes", r"logits of shape \(1, 10\)"),
    ("model-no-head", "no classification head"),
    ("image-size", "16x16|must be"),
    ("channels", "channels"),
])
def test_fit_checks_data_before_any_work(tmp_path, digits, case, match):
    model, data = tiny(), _splits(digits)
    if case == "labels-beyond":  # DataSplits itself refuses it now; check_fit_data refuses a mutated one
        with pytest.raises(ValueError, match=match):
            _splits(digits, num_classes=5)
        data.num_classes, model = 5, tiny(num_classes=5)
    if case == "empty-test":
        data = _splits(digits, test=EMPTY)
    elif case == "empty-val":
        data = _splits(digits, val=EMPTY)
    elif case == "empty-train":
        data = _splits(digits, train=EMPTY)
    elif case == "model-5-classes":
        model = tiny(num_classes=5)
    elif case == "model-no-head":
        model = tiny(num_classes=0)
    elif case == "image-size":
        model = vt.ViT(vt.vit_config("ViT-Tiny", image_size=16, patch_size=4, dim=16, depth=1, heads=2, mlp_dim=32))
    elif case == "channels":
        model = vt.ViT(vt.vit_config("ViT-Tiny", image_size=8, in_channels=3, patch_size=4, dim=16, depth=1,
                                     heads=2, mlp_dim=32))
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=match):
        fit(model, data, TrainConfig(epochs=1, device="cpu"), progress=False, state_dir=tmp_path)
    assert not (tmp_path / STATE_FILE).exists()  # no epoch was trained, nothing written
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


@pytest.mark.parametrize("labels, error", [(torch.rand(4), TypeError), (torch.tensor([-1, 0, 1, 2]), ValueError),
                                           (torch.ones(4, dtype=torch.bool), TypeError)],
                         ids=["float", "negative", "bool"])
def test_split_refuses_labels_that_are_not_class_indices(labels, error):
    with pytest.raises(error, match="labels"):
        Split(torch.rand(4, 1, 8, 8), labels)


def test_split_refuses_uint8_images_with_a_hint():
    with pytest.raises(TypeError, match=r"images.float\(\) / 255"):
        Split(torch.randint(0, 255, (4, 1, 8, 8), dtype=torch.uint8), torch.zeros(4, dtype=torch.long))


@pytest.mark.parametrize("case", ["lr-1e30", "nan-images"])
def test_diverged_training_stops_and_is_not_saved(tmp_path, digits, case):
    data = digits
    config = TrainConfig(epochs=2, batch_size=16, lr=1e30, grad_clip=0.0, warmup_epochs=0, device="cpu")
    if case == "nan-images":
        images = digits.train.images.clone()
        images[0] = float("nan")
        data = _splits(digits, train=Split(images, digits.train.labels))
        config = TrainConfig(epochs=2, batch_size=16, device="cpu")
    with pytest.raises(TrainingDiverged, match="diverged in epoch 1"):
        fit(tiny(), data, config, progress=False, state_dir=tmp_path)
    assert not (tmp_path / STATE_FILE).exists()


def test_seeds_outside_numpy_and_torch_range_are_refused(digits):
    for seed in (-5, 2**70):
        with pytest.raises(ValueError, match="seed"):
            TrainConfig(seed=seed)
    with pytest.raises(ValueError, match="seed"):
        digits.subset(0.5, seed=-1)


# ---------------------------------------------------------------- the command line


def expect_usage_error(capsys, argv, match):
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert "Traceback" not in err
    assert match in err, err
    return err


@pytest.mark.parametrize("extra, match", [
    (["--out", ""], "empty string"),
    (["--set", "num_classes=5"], "logits of shape (1, 10)"),
    (["--set", "num_classes=0"], "no classification head"),
    (["--set", "image_size=16"], "16x16"),
    (["--set", "in_channels=3"], "channels"),
    (["--seed", "-5"], "--seed"),
    (["--seed", str(2**70)], "--seed"),
] + ([(["--device", "cuda"], "CUDA is not available")] if not torch.cuda.is_available() else []),
    ids=lambda v: "-".join(v) if isinstance(v, list) else None)
def test_cli_checks_everything_before_writing(tmp_path, capsys, extra, match):
    out = tmp_path / "run"
    argv = [*TINY, "--out", str(out), "--epochs", "1", *extra]
    if extra[0] == "--out":
        argv = [*TINY, "--epochs", "1", *extra]
    expect_usage_error(capsys, argv, match)
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("present", [("model.safetensors", "config.json"), ("config.json",), ("model.safetensors",),
                                     ("metrics.json",), (STATE_FILE,)], ids=lambda p: "+".join(p))
def test_cli_never_overwrites_a_checkpoint_without_overwrite(tmp_path, capsys, present):
    out = tmp_path / "best"
    save_checkpoint(tiny(), out, {"run": "A"})
    (out / STATE_FILE).write_bytes(b"state")
    for name in CKPT:
        if name not in present:
            (out / name).unlink()
    before = snapshot(out)
    expect_usage_error(capsys, [*TINY, "--out", str(out), "--epochs", "1"], "--overwrite")
    assert snapshot(out) == before
    assert main([*TINY, "--out", str(out), "--epochs", "1", "--overwrite"]) == 0
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 1


@pytest.mark.parametrize("kind", STATE_KINDS + ["other-model", "other-model-no-config", "config-corrupt"])
def test_cli_resume_turns_a_bad_state_into_a_usage_error(tmp_path, capsys, one_epoch_run, kind):
    out = tmp_path / "r"
    out.mkdir()
    for p in one_epoch_run.iterdir():
        (out / p.name).write_bytes(p.read_bytes())
    (out / "metrics.json").unlink()
    if kind == "config-corrupt":
        (out / "config.json").write_text("{not json")
    elif kind == "other-model-no-config":
        (out / "config.json").unlink()
        _bad_state("other-model", out / STATE_FILE, b"")
    else:
        _bad_state(kind, out / STATE_FILE, (out / STATE_FILE).read_bytes())
    before = snapshot(out)
    err = expect_usage_error(capsys, [*TINY, "--out", str(out), "--epochs", "2", "--resume"], "--resume")
    assert "weights_only=False" not in err and "payload ran" not in err
    assert snapshot(out) == before


@pytest.mark.parametrize("extra, match", [(["--lr", "0.5"], "--lr: saved 0.003, now 0.5"),
                                          (["--batch-size", "8"], "--batch-size: saved 64, now 8"),
                                          (["--set", "dim=32"], "dim: saved 16, now 32")],
                         ids=["lr", "batch-size", "dim"])
def test_cli_resume_refuses_a_changed_recipe_and_names_it(tmp_path, capsys, one_epoch_run, extra, match):
    out = tmp_path / "r"
    out.mkdir()
    for p in one_epoch_run.iterdir():
        (out / p.name).write_bytes(p.read_bytes())
    (out / "metrics.json").unlink()
    argv = [*TINY, "--out", str(out), "--epochs", "2", "--resume"]
    if extra[0] == "--batch-size":
        argv[argv.index("--batch-size") + 1] = extra[1]
    else:
        argv += extra
    if extra[0] == "--set":
        argv[argv.index("dim=16")] = "dim=32"
        argv = argv[:-2]
    expect_usage_error(capsys, argv, match)


def test_cli_diverged_run_exits_non_zero_without_a_traceback_and_saves_nothing(tmp_path):
    out = tmp_path / "nanrun"
    proc = subprocess.run([sys.executable, "-m", "vit_tutorial.train", *TINY, "--out", str(out), "--epochs", "2",
                           "--lr", "1e30", "--grad-clip", "0", "--warmup-epochs", "0"],
                          capture_output=True, text=True, timeout=300, env={"OMP_NUM_THREADS": "1",
                                                                            "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1, proc.stderr
    assert "diverged" in proc.stderr and "Traceback" not in proc.stderr
    assert not (out / "model.safetensors").exists() and not (out / "metrics.json").exists()


# ---------------------------------------------------------------- attention that is not a distribution


def _attention(L=4, T=10):
    return [torch.randn(1, 2, T, T).softmax(-1) for _ in range(L)]


@pytest.mark.parametrize("bad", ["logits", "nan", "scaled", "negative"])
@pytest.mark.parametrize("fn", ["rollout", "distance", "distance-norenorm", "class-token-mass", "layer-similarity"])
def test_analysis_refuses_attention_that_is_not_a_distribution(fn, bad):
    from vit_tutorial.analysis import attention_rollout, class_token_mass, mean_attention_distance
    from vit_tutorial.variants import cross_layer_similarity

    att = _attention()
    if bad == "logits":
        att = [torch.randn(1, 2, 10, 10) for _ in range(4)]
    elif bad == "nan":
        att[1][0, 0, 0, 0] = float("nan")
    elif bad == "scaled":
        att = [3 * a for a in att]
    else:
        att[2] = att[2] - att[2].mean()
    call = {"rollout": lambda: attention_rollout(att), "distance": lambda: mean_attention_distance(att, 4, 3),
            "distance-norenorm": lambda: mean_attention_distance(att, 4, 3, renormalize=False),
            "class-token-mass": lambda: class_token_mass(att),
            "layer-similarity": lambda: cross_layer_similarity(att)}[fn]
    with pytest.raises(ValueError, match="attention"):
        call()


def test_analysis_still_accepts_softmax_attention():
    from vit_tutorial.analysis import attention_rollout, mean_attention_distance

    att = _attention()
    assert torch.isfinite(attention_rollout(att)).all()
    assert (mean_attention_distance(att, 4, 3) >= 0).all()


# ---------------------------------------------------------------- the dtype policy


def _modules():
    from vit_tutorial.attention import MultiHeadSelfAttention
    from vit_tutorial.baselines import SmallCNN
    from vit_tutorial.embedding import LinearPatchEmbedding, PatchEmbedding
    from vit_tutorial.encoder import MLP, EncoderBlock

    img = lambda dt: (torch.rand(2, 1, 8, 8) * 255).to(dt)  # noqa: E731
    tok = lambda dt: (torch.rand(2, 5, 8) * 3).to(dt)  # noqa: E731
    return {
        "ViT": (tiny(), img),
        "PatchEmbedding": (PatchEmbedding(1, 8, 4), img),
        "LinearPatchEmbedding": (LinearPatchEmbedding(1, 8, 4), img),
        "SmallCNN": (SmallCNN(), lambda dt: (torch.rand(2, 1, 28, 28) * 255).to(dt)),
        "MultiHeadSelfAttention": (MultiHeadSelfAttention(8, 2), tok),
        "EncoderBlock": (EncoderBlock(8, 2, 16), tok),
        "MLP": (MLP(8, 16), tok),
    }


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int64, torch.bool, torch.float64, torch.float16, torch.bfloat16],
                         ids=str)
@pytest.mark.parametrize("name", list(_modules()))
def test_modules_refuse_another_dtype_with_a_hint(name, dtype):
    module, make = _modules()[name]
    with pytest.raises(TypeError, match="torch.float32") as info:
        module(make(dtype))
    if dtype == torch.uint8:
        assert "images.float() / 255" in str(info.value)


@pytest.mark.parametrize("dtypes", [(torch.int64,) * 3, (torch.bool,) * 3, (torch.float32, torch.float64, torch.float32)],
                         ids=["int", "bool", "mixed"])
def test_sdpa_refuses_non_float_or_mixed_dtypes(dtypes):
    from vit_tutorial.attention import scaled_dot_product_attention

    q, k, v = ((torch.rand(2, 5, 8) * 3).to(d) for d in dtypes)
    with pytest.raises(TypeError, match="float|dtype"):
        scaled_dot_product_attention(q, k, v)


def test_the_dtype_policy_keeps_float32_and_a_model_moved_to_float64_working():
    img = torch.rand(2, 1, 8, 8)
    model = tiny()
    assert model(img).dtype == torch.float32
    assert model.double()(img.double()).dtype == torch.float64
    assert vt.patchify(torch.arange(2 * 1 * 8 * 8).reshape(2, 1, 8, 8), 4).dtype == torch.int64  # a rearrangement


# ---------------------------------------------------------------- the self-checks


def test_self_checks_do_not_pass_nan_answers():
    from vit_tutorial.exercises import check_conv_as_linear, check_patchify

    nan_patches = lambda x, P: torch.full((x.shape[0], (x.shape[2] // P) * (x.shape[3] // P), x.shape[1] * P * P),  # noqa: E731
                                           float("nan"))
    assert not check_patchify(nan_patches)

    def nan_linear(conv):
        layer = nn.Linear(conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1], conv.out_channels)
        with torch.no_grad():
            layer.weight.fill_(float("nan"))
        return layer

    assert not check_conv_as_linear(nan_linear)


# ---------------------------------------------------------------- medium-severity families: raw errors, silent meaningless results


def _medium_cases():
    import numpy as np

    from vit_tutorial import viz, widgets
    from vit_tutorial.config import ViTConfig
    from vit_tutorial.data import random_affine
    from vit_tutorial.embedding import LinearPatchEmbedding, PatchEmbedding, copy_conv_to_linear
    from vit_tutorial.interop import convert_state_dict
    from vit_tutorial.patches import num_patches, unpatchify
    from vit_tutorial.position import resize_position_embedding, sincos_2d_position_embedding
    from vit_tutorial.training import evaluate, learning_rate_schedule
    from vit_tutorial.variants import ConvStem, SpatialReductionAttention, WindowAttention, shifted_window_mask, window_reverse
    from vit_tutorial.variants.peg import PositionEncodingGenerator as PEG

    x = torch.rand(4, 1, 8, 8)
    q = "encoder.layer.0.attention.attention."
    hf = {"vit.layernorm.weight": torch.ones(8), "layernorm.weight": torch.full((8,), 7.0)}

    def mutated():
        c = vt.vit_config("ViT-Tiny")
        c.image_size = 30
        return vt.ViT(c)

    def nobias():
        conv = PatchEmbedding(3, 8, 4)
        conv.proj = nn.Conv2d(3, 8, 4, 4, bias=False)
        return copy_conv_to_linear(conv, LinearPatchEmbedding(3, 8, 4))

    def frozen(digits):
        model = tiny()
        for p in model.parameters():
            p.requires_grad_(False)
        return fit(model, digits, TrainConfig(epochs=1, device="cpu"), progress=False)

    return {
        "sincos-temp0": (lambda: sincos_2d_position_embedding(4, 8, temperature=0), ValueError, "temperature"),
        "sincos-temp-neg": (lambda: sincos_2d_position_embedding(4, 16, temperature=-1.0), ValueError, "temperature"),
        "sincos-temp-nan": (lambda: sincos_2d_position_embedding(4, 8, temperature=float("nan")), ValueError, "temperature"),
        "sincos-temp-str": (lambda: sincos_2d_position_embedding(4, 8, temperature="1e4"), ValueError, "temperature"),
        "sincos-grid-triple": (lambda: sincos_2d_position_embedding((2, 2, 2), 8), ValueError, "grid"),
        "resize-int": (lambda: resize_position_embedding(torch.zeros(1, 17, 8, dtype=torch.long), 6), TypeError, "floating"),
        "resize-batch2": (lambda: resize_position_embedding(torch.rand(2, 17, 8), 6), ValueError, "batch"),
        "resize-prefix-big": (lambda: resize_position_embedding(torch.rand(1, 17, 8), 6, num_prefix_tokens=30),
                              ValueError, "num_prefix_tokens"),
        "resize-grid-float": (lambda: resize_position_embedding(torch.rand(1, 17, 8), 6.5), ValueError, "new grid"),
        "unpatchify-size-float": (lambda: unpatchify(torch.rand(2, 4, 48), 4, 8.0), ValueError, "image_size"),
        "num_patches-str": (lambda: num_patches("224", 16), ValueError, "image_size"),
        "num_patches-neg": (lambda: num_patches(-32, 16), ValueError, "image_size"),
        "ViTConfig-eps-neg": (lambda: ViTConfig(layer_norm_eps=-1.0), ValueError, "layer_norm_eps"),
        "ViTConfig-eps-str": (lambda: ViTConfig(layer_norm_eps="1e-6"), ValueError, "layer_norm_eps"),
        "ViTConfig-eps-nan": (lambda: ViTConfig(layer_norm_eps=float("nan")), ValueError, "layer_norm_eps"),
        "ViTConfig-dropout-str": (lambda: ViTConfig(dropout="0.1"), ValueError, "dropout"),
        "ViTConfig-mutate": (mutated, ValueError, "not divisible"),
        "copy_conv_to_linear-nobias": (nobias, ValueError, "bias"),
        "random_affine-shift-nan": (lambda: random_affine(x, max_shift=float("nan")), ValueError, "max_shift"),
        "random_affine-shift-inf": (lambda: random_affine(x, max_shift=math.inf), ValueError, "max_shift"),
        "random_affine-int": (lambda: random_affine(x.long(), max_shift=1), TypeError, "floating"),
        "lrs-huge": (lambda: learning_rate_schedule(TrainConfig(epochs=10**6), 10**3), ValueError, "steps"),
        "evaluate-label-oob": (lambda: evaluate(tiny(), Split(x, torch.full((4,), 12))), ValueError, "label 12"),
        "DataSplits-labels-beyond": (lambda: DataSplits("x", Split(x, torch.arange(4) * 4), Split(x, torch.zeros(4, dtype=torch.long)),
                                                        0.0, 1.0, 2), ValueError, "label 12"),
        "hf-dup-prefix": (lambda: convert_state_dict(hf, "hf"), ValueError, "both map to"),
        "hf-config-dict": (lambda: convert_state_dict({}, "hf", config={"depth": 2}), ValueError, "ViTConfig"),
        "hf-non-tensor": (lambda: convert_state_dict({"layernorm.weight": [1.0]}, "hf"), ValueError, "torch.Tensor"),
        "window_reverse-grid-str": (lambda: window_reverse(torch.rand(8, 4, 8), 2, "4"), ValueError, "grid"),
        "shifted_window_mask-grid-3": (lambda: shifted_window_mask((8, 8, 8), 4, 2), ValueError, "grid"),
        "ConvStem-strides-int": (lambda: ConvStem(1, 8, 4, strides=2), ValueError, "strides"),
        "animate_patch_sizes-int": (lambda: viz.animate_patch_sizes(torch.rand(3, 32, 32), 8), ValueError, "patch_sizes"),
        "plot_attention_memory-int": (lambda: viz.plot_attention_memory(224, 16), ValueError, "patch_sizes"),
        "plot_rollout_maps-titles-int": (lambda: viz.plot_rollout_maps(torch.rand(2, 3, 32, 32), torch.rand(2, 4, 4).softmax(-1),
                                                                      titles=5), ValueError, "titles"),
        "plot_head_attention-heads-bool": (lambda: viz.plot_head_attention(torch.rand(3, 32, 32), torch.rand(1, 4, 17, 17).softmax(-1),
                                                                          (0, 0), 8, heads=[True]), ValueError, "heads"),
        "load_experiment-folder-int": (lambda: viz.load_experiment("data_hunger", folder=5), ValueError, "folder"),
        "plot_shifted_windows-big": (lambda: viz.plot_shifted_windows(grid=400, window=4), ValueError, "at most 64"),
        "patch_features-P1": (lambda: viz.patch_features(torch.rand(3, 32, 32), 1), ValueError, "patch_size"),
        "ScheduleExplorer-lr-clamped": (lambda: widgets.ScheduleExplorer(TrainConfig(lr=0.5, warmup_epochs=20)), ValueError, "sliders"),
        "ScheduleExplorer-lr-tiny": (lambda: widgets.ScheduleExplorer(TrainConfig(lr=1e-6, min_lr=0)), ValueError, "sliders"),
        "fit-frozen": (frozen, ValueError, "no trainable parameters"),
        "hf-qkv-shape-mismatch": (lambda: convert_state_dict({q + "query.weight": torch.rand(64, 64), q + "key.weight": torch.rand(32, 64),
                                                              q + "value.weight": torch.rand(64, 64)}, "hf"), ValueError, "same shape"),
        "hf-mixed-schemes": (lambda: convert_state_dict({q + "query.weight": torch.rand(64, 64),
                                                         "layers.0.attention.attention.query.weight": torch.rand(64, 64)}, "hf"),
                             ValueError, "both map to"),
        "DataSplits-mismatched-shapes": (lambda: check_fit_data(tiny(), DataSplits(
            "x", Split(x, torch.zeros(4, dtype=torch.long)), Split(torch.rand(4, 3, 16, 16), torch.zeros(4, dtype=torch.long)),
            0.0, 1.0, 10)), ValueError, "test images have shape"),
        "predict-int": (lambda: vt.training.predict(tiny(), torch.randint(0, 255, (2, 1, 8, 8))), TypeError, "float32"),
        "WA-int": (lambda: WindowAttention(8, 2, 2)(torch.randint(0, 5, (2, 16, 8)), (4, 4)), TypeError, "float32"),
        "trunc_normal_init-int": (lambda: vt.position.trunc_normal_init(torch.zeros(3, dtype=torch.long)), TypeError, "floating"),
        "trunc_normal_init-std-neg": (lambda: vt.position.trunc_normal_init(torch.zeros(3), std=-1), ValueError, "std"),
        "WindowAttention-f64": (lambda: WindowAttention(8, 2, 2)(torch.rand(2, 16, 8).double(), (4, 4)), TypeError, "float32"),
        "SRA-f64": (lambda: SpatialReductionAttention(8, 2, 2)(torch.rand(2, 16, 8).double(), (4, 4)), TypeError, "float32"),
        "PEG-f64": (lambda: PEG(8)(torch.rand(2, 17, 8).double(), (4, 4)), TypeError, "float32"),
        "ConvStem-int": (lambda: ConvStem(1, 8, 4)(torch.randint(0, 255, (2, 1, 8, 8))), TypeError, "float32"),
        "subset-seed-neg": (lambda d: d.subset(0.5, seed=-1), ValueError, "seed"),
        "np-seed": (lambda: np.random.default_rng(0) and TrainConfig(seed=2**70), ValueError, "seed"),
    }


MEDIUM = _medium_cases()


@pytest.mark.parametrize("case", list(MEDIUM))
def test_medium_findings_raise_a_clear_error_from_the_package(case, digits):
    import traceback

    fn, error, match = MEDIUM[case]
    with pytest.raises(error, match=match) as info:
        fn(digits) if fn.__code__.co_argcount else fn()
    last = traceback.extract_tb(info.value.__traceback__)[-1]
    assert "vit_tutorial" in last.filename, (last.filename, last.lineno)


SELF_CHECKS = ["check_patchify", "check_unpatchify", "check_prepend_class_token", "check_mean_pool",
               "check_position_similarity", "check_attention", "check_split_heads", "check_merge_heads",
               "check_layer_norm", "check_encoder_block", "check_layer_similarity", "check_centred_position_table",
               "check_window_partition", "check_peg", "check_confusion_matrix"]


@pytest.mark.parametrize("poison", ["all-nan", "zeros-one-nan", "inf"])
@pytest.mark.parametrize("name", SELF_CHECKS)
def test_tensor_self_checks_reject_non_finite_answers_of_the_right_shape(monkeypatch, name, poison):
    """The review's 30 high-severity rows: an answer of exactly the expected shape, holding NaN/inf.

    The expected tensor of the check's first comparison is captured (by wrapping
    compare_tensors), then the learner answers with a tensor of that shape and
    dtype, poisoned."""
    import importlib

    import vit_tutorial.exercises as exercises

    check = getattr(exercises, name)
    module = importlib.import_module(check.__module__)
    captured = []
    original = module.compare_tensors

    def capture(got, expected, *args, **kwargs):
        captured.append(expected.detach().clone())
        return original(got, expected, *args, **kwargs)

    monkeypatch.setattr(module, "compare_tensors", capture)
    check(lambda *a, **k: torch.zeros(1))
    monkeypatch.setattr(module, "compare_tensors", original)
    assert captured, f"{name} did not compare a tensor"
    expected = captured[0]
    answer = torch.zeros(expected.shape, dtype=expected.dtype if expected.is_floating_point() else torch.float32)
    if poison == "all-nan":
        answer.fill_(float("nan"))
    else:
        answer.view(-1)[-1] = float("nan") if poison == "zeros-one-nan" else math.inf
    verdict = check(lambda *a, **k: answer.clone())
    assert not verdict, f"{name} passed a {poison} answer: {verdict}"
    assert "NaN" in str(verdict) or "dtype" in str(verdict), str(verdict)
