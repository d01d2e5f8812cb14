"""The training loop, evaluation, checkpoints, resuming and the bundled model."""
import json

import pytest
import torch

from vit_tutorial import ViT, vit_config
from vit_tutorial.baselines import SmallCNN
from vit_tutorial.data import Split, load_dataset
from vit_tutorial.train import (
    BUNDLED_CHECKPOINT,
    STATE_FILE,
    TrainConfig,
    confusion_matrix,
    evaluate,
    fit,
    init_position_embedding,
    learning_rate_schedule,
    load_checkpoint,
    predict,
    save_checkpoint,
)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def tiny_vit(seed=0):
    torch.manual_seed(seed)
    return ViT(vit_config("ViT-Tiny", image_size=8, patch_size=4, dim=32, depth=2, heads=2, mlp_dim=64))


FAST = dict(batch_size=64, lr=3e-3, warmup_epochs=0.5, augment_shift=0, device="cpu")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One thread: tiny models gain nothing from more, and a busy machine loses a lot."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_short_run_beats_chance_clearly(digits):
    model = tiny_vit()
    history = fit(model, digits, TrainConfig(epochs=3, **FAST), progress=False)
    assert [r["epoch"] for r in history] == [1, 2, 3]
    keys = {"epoch", "train_loss", "train_objective", "train_accuracy", "test_loss", "test_accuracy", "lr", "seconds"}
    assert all(keys <= set(r) for r in history)
    assert history[-1]["test_accuracy"] > 0.6  # chance is 0.1
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert not model.training  # fit leaves the model in eval mode
    # the recorded test metrics are what evaluate() says
    again = evaluate(model, digits.test)
    assert again["accuracy"] == pytest.approx(history[-1]["test_accuracy"])
    assert again["loss"] == pytest.approx(history[-1]["test_loss"], rel=1e-5)


def test_fit_is_deterministic_and_label_smoothing_is_the_objective(digits):
    cfg = TrainConfig(epochs=1, label_smoothing=0.2, **FAST)
    h1 = fit(tiny_vit(), digits, cfg, progress=False)
    h2 = fit(tiny_vit(), digits, cfg, progress=False)
    assert h1[0]["train_loss"] == h2[0]["train_loss"] and h1[0]["test_loss"] == h2[0]["test_loss"]
    assert h1[0]["train_objective"] > h1[0]["train_loss"]  # smoothed targets cost more than one-hot ones


def test_fit_trains_the_cnn_too(digits):
    torch.manual_seed(0)
    cnn = SmallCNN(in_channels=1, num_classes=10, width=16, image_size=8)
    history = fit(cnn, digits, TrainConfig(epochs=2, **{**FAST, "lr": 1e-2}), progress=False)
    assert history[-1]["test_accuracy"] > 0.6
    assert SmallCNN()(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert sum(p.numel() for p in SmallCNN().parameters()) == 22_810


def test_augmentation_is_used_and_reproducible(digits):
    data = digits.subset(0.2)
    plain = fit(tiny_vit(), data, TrainConfig(epochs=1, **FAST), progress=False)
    shifted = fit(tiny_vit(), data, TrainConfig(epochs=1, **{**FAST, "augment_shift": 1}), progress=False)
    cfg = TrainConfig(epochs=1, **{**FAST, "augment_shift": 1, "augment_rotation": 10.0, "augment_scale": 0.1})
    affine = fit(tiny_vit(), data, cfg, progress=False)
    again = fit(tiny_vit(), data, cfg, progress=False)
    losses = [h[0]["train_loss"] for h in (plain, shifted, affine)]
    assert len(set(losses)) == 3  # each augmentation changes what the model sees
    assert again[0]["train_loss"] == affine[0]["train_loss"]  # ... reproducibly
    with pytest.raises(ValueError, match="augment_rotation must be in"):
        TrainConfig(augment_rotation=-1.0)
    with pytest.raises(ValueError, match="augment_scale must be in"):
        TrainConfig(augment_scale=1.0)


def test_eval_every_skips_test_metrics(digits):
    history = fit(tiny_vit(), digits.subset(0.2), TrainConfig(epochs=3, eval_every=2, **FAST), progress=False)
    assert [r["test_accuracy"] is None for r in history] == [True, False, False]  # the last is always evaluated


def test_schedule_warms_up_then_decays():
    cfg = TrainConfig(epochs=10, lr=1e-3, warmup_epochs=2, min_lr=1e-5)
    lrs = learning_rate_schedule(cfg, steps_per_epoch=5)
    assert len(lrs) == 50
    assert lrs[0] == pytest.approx(1e-4) and lrs[9] == pytest.approx(1e-3)
    assert all(a < b for a, b in zip(lrs[:10], lrs[1:10]))
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    assert 1e-5 <= lrs[-1] < 1.2e-5  # the cosine reaches min_lr just after the last step


def test_checkpoint_round_trip(tmp_path, digits):
    model = tiny_vit(seed=3)
    out = save_checkpoint(model, tmp_path / "ckpt", metrics={"test_accuracy": 0.5})
    assert {p.name for p in out.iterdir()} == {"model.safetensors", "config.json", "metrics.json"}
    loaded = load_checkpoint(out)
    assert not loaded.training and loaded.config == model.config
    x = digits.test.images[:16]
    model.eval()
    assert torch.equal(loaded(x), model(x))
    assert torch.equal(load_checkpoint(out / "model.safetensors")(x), model(x))
    assert json.loads((out / "metrics.json").read_text()) == {"test_accuracy": 0.5}


def test_resume_continues_exactly(tmp_path, digits):
    cfg = TrainConfig(epochs=3, **FAST)
    data = digits.subset(0.3)
    straight = tiny_vit()
    h_straight = fit(straight, data, cfg, progress=False)

    class Interrupt(Exception):
        pass

    def stop_after_first(record):
        if record["epoch"] == 1:
            raise Interrupt

    model = tiny_vit()
    with pytest.raises(Interrupt):
        fit(model, data, cfg, progress=False, callback=stop_after_first, state_dir=tmp_path)
    assert (tmp_path / STATE_FILE).is_file()
    resumed = tiny_vit(seed=99)  # fresh weights: everything must come from the state
    h_resumed = fit(resumed, data, cfg, progress=False, state_dir=tmp_path, resume=True)
    assert [r["epoch"] for r in h_resumed] == [1, 2, 3]
    for a, b in zip(h_resumed, h_straight):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-6)
        assert a["lr"] == pytest.approx(b["lr"])
    for (name, p), q in zip(resumed.named_parameters(), straight.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6, msg=name)


def test_predict_and_confusion_matrix(digits):
    model = tiny_vit()
    logits = predict(model, digits.test.images, batch_size=100)
    assert logits.shape == (359, 10)
    cm = confusion_matrix(digits.test.labels, logits.argmax(1), 10)
    assert cm.shape == (10, 10) and cm.sum() == 359
    assert cm.sum(dim=1).tolist() == digits.test.labels.bincount().tolist()  # rows = true classes
    assert confusion_matrix(torch.tensor([0, 0, 1]), torch.tensor([1, 1, 1]), 3).tolist() == [[0, 2, 0], [0, 1, 0], [0, 0, 0]]


def test_init_position_embedding():
    model = tiny_vit()
    before = model.pos_embed.weight.detach().clone()
    assert before.std() < 0.03  # ViT's own start: std 0.02
    torch.manual_seed(1)
    assert init_position_embedding(model, 0.5) is model
    after = model.pos_embed.weight.detach()
    assert 0.35 < after.std() < 0.5 and after.abs().max() <= 1.0  # truncated at 2 std
    assert torch.equal(model.patch_embed.proj.weight, tiny_vit().patch_embed.proj.weight)  # nothing else moved
    with pytest.raises(ValueError, match="positive number"):
        init_position_embedding(model, 0.0)
    with pytest.raises(ValueError, match="only a learned position table"):
        init_position_embedding(ViT(vit_config("ViT-Tiny", pos_embedding="sincos")), 0.5)
    with pytest.raises(ValueError, match="must be a vit_tutorial ViT"):
        init_position_embedding(SmallCNN(), 0.5)


def test_bundled_checkpoint_is_accurate():
    model = load_checkpoint(BUNDLED_CHECKPOINT)
    assert isinstance(model, ViT) and not model.training
    data = load_dataset("mnist5k")
    result = evaluate(model, data.test)
    assert result["accuracy"] > 0.97
    metrics = json.loads((BUNDLED_CHECKPOINT / "metrics.json").read_text())
    assert metrics["test_accuracy"] == pytest.approx(result["accuracy"], abs=1e-9)
    assert (BUNDLED_CHECKPOINT / "model.safetensors").stat().st_size < 5_000_000


def test_bad_input(tmp_path, digits):
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        TrainConfig(label_smoothing=1.0)
    with pytest.raises(ValueError, match="device must be"):
        TrainConfig(device="tpu")
    with pytest.raises(ValueError, match="lr must be > 0"):
        TrainConfig(lr=0.0)
    with pytest.raises(ValueError, match="unknown TrainConfig fields"):
        TrainConfig.from_dict({"epochs": 1, "momentum": 0.9})
    with pytest.raises(ValueError, match="model must be a torch.nn.Module"):
        fit("vit", digits, TrainConfig(epochs=1))
    with pytest.raises(ValueError, match="data must be a vit_tutorial.data.DataSplits"):
        fit(tiny_vit(), digits.train, TrainConfig(epochs=1))
    with pytest.raises(ValueError, match="config must be a TrainConfig"):
        fit(tiny_vit(), digits, {"epochs": 1})
    with pytest.raises(ValueError, match="needs a state_dir"):
        fit(tiny_vit(), digits, TrainConfig(epochs=1), resume=True)
    with pytest.raises(ValueError, match="no training state"):
        fit(tiny_vit(), digits, TrainConfig(epochs=1), state_dir=tmp_path, resume=True)
    with pytest.raises(ValueError, match="vit_tutorial.data.Split"):
        evaluate(tiny_vit(), (digits.test.images, digits.test.labels))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        evaluate(tiny_vit(), digits.test, batch_size=0)
    with pytest.raises(ValueError, match=r"\(n, C, H, W\)"):
        predict(tiny_vit(), digits.test.images[0])
    with pytest.raises(ValueError, match="must be a vit_tutorial ViT"):
        save_checkpoint(SmallCNN(), tmp_path / "cnn")
    with pytest.raises(ValueError, match="model.safetensors and config.json"):
        load_checkpoint(tmp_path / "missing")
    with pytest.raises(ValueError, match="same length"):
        Split(torch.zeros(2, 1, 8, 8), torch.zeros(3, dtype=torch.int64))
    with pytest.raises(ValueError, match="must lie in 0..2"):
        confusion_matrix(torch.tensor([0, 3]), torch.tensor([0, 1]), 3)
    with pytest.raises(ValueError, match="in_channels=1"):
        SmallCNN()(torch.zeros(1, 3, 28, 28))
    with pytest.raises(ValueError, match="must be 28x28 for this network"):
        SmallCNN()(torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="image_size must be at least 4"):
        SmallCNN(image_size=3)
    with pytest.raises(ValueError, match="steps_per_epoch must be a positive integer"):
        learning_rate_schedule(TrainConfig(), 0)


def test_train_one_epoch_is_the_step_fit_takes(digits):
    """The loop chapter 9 shows, driven by hand, gives fit's first epoch exactly."""
    from vit_tutorial.training import (augment, augmentation_generator, make_optimizer, make_scheduler,
                                       rank_batches, sampler, train_one_epoch)

    cfg = TrainConfig(epochs=1, **{**FAST, "augment_shift": 1})
    data = digits.subset(0.3)
    expected = fit(tiny_vit(), data, cfg, progress=False)[0]
    model = tiny_vit()
    torch.manual_seed(cfg.seed)
    optimizer = make_optimizer(model, cfg)
    scheduler = make_scheduler(optimizer, cfg, steps_per_epoch=-(-len(data.train) // cfg.batch_size))
    x = augment(data.train.images, cfg, augmentation_generator(cfg.seed, 1, len(data.train)))
    batches = [(x[i], data.train.labels[i], n) for i, n in rank_batches(sampler(len(data.train), cfg.seed, 0, 1), 1, 64, 1)]
    sums, lr = train_one_epoch(model, batches, optimizer, scheduler, cfg)
    objective, ce, correct, count = sums.tolist()
    assert count == len(data.train) and lr == expected["lr"]
    assert ce / count == expected["train_loss"] and objective / count == expected["train_objective"]


def test_pos_init_std_is_part_of_the_config(tmp_path):
    """ViTConfig.pos_init_std does at construction what init_position_embedding did by hand, draw for draw."""
    c = vit_config("ViT-Tiny", image_size=8, patch_size=4, dim=32, depth=2, heads=2, mlp_dim=64)
    torch.manual_seed(0)
    by_hand = ViT(c)
    init_position_embedding(by_hand, 0.5)
    torch.manual_seed(0)
    built = ViT(vit_config("ViT-Tiny", image_size=8, patch_size=4, dim=32, depth=2, heads=2, mlp_dim=64, pos_init_std=0.5))
    for (name, p), q in zip(built.state_dict().items(), by_hand.state_dict().values()):
        assert torch.equal(p, q), name
    assert not torch.equal(built.pos_embed.weight, tiny_vit().pos_embed.weight)  # ... and it did change the table
    out = save_checkpoint(built, tmp_path / "ck")
    assert json.loads((out / "config.json").read_text())["pos_init_std"] == 0.5
    assert load_checkpoint(out).config.pos_init_std == 0.5
    with pytest.raises(ValueError, match="pos_init_std must be a positive number"):
        vit_config("ViT-Tiny", pos_init_std=0.0)
    with pytest.raises(ValueError, match="pos_init_std needs a learned position table"):
        vit_config("ViT-Tiny", pos_embedding="sincos", pos_init_std=0.5)


def test_old_config_json_still_loads(tmp_path):
    """A config.json written before pos_init_std existed (the bundled one) loads with the default."""
    saved = json.loads((BUNDLED_CHECKPOINT / "config.json").read_text())
    assert "pos_init_std" not in saved  # written by the older code
    assert load_checkpoint(BUNDLED_CHECKPOINT).config.pos_init_std == 0.02


def test_weight_decay_follows_the_role_of_each_parameter():
    from vit_tutorial.training import param_groups
    from vit_tutorial.variants import PyramidViT

    model = tiny_vit()
    decay, no_decay = (g["params"] for g in param_groups(model, 0.05))
    ids = {id(p) for p in no_decay}
    named = dict(model.named_parameters())
    assert id(named["cls_token.token"]) in ids and id(named["pos_embed.weight"]) in ids
    assert all(p.ndim >= 2 for p in decay) and id(named["head.weight"]) not in ids
    assert len(decay) + len(no_decay) == len(named)
    sra = PyramidViT(attention="sra")  # a bare nn.Parameter position table, declared by no_weight_decay()
    assert id(sra.pos_embed) in {id(p) for p in param_groups(sra, 0.05)[1]["params"]}


def test_every_train_config_field_is_described():
    from vit_tutorial.training import field_help

    helps = field_help(TrainConfig)
    assert list(helps) == [f for f in TrainConfig.__dataclass_fields__]
    assert all(len(h) > 5 for h in helps.values())
    with pytest.raises(TypeError, match="must be a dataclass"):
        field_help(int)


def test_fit_scores_validation_every_epoch_and_test_once():
    three = load_dataset("digits", validation=True)
    model = tiny_vit()
    history = fit(model, three, TrainConfig(epochs=3, **FAST), progress=False)
    assert all(r["val_accuracy"] is not None and r["val_loss"] is not None for r in history)
    assert [r["test_accuracy"] is None for r in history] == [True, True, False]  # test only after the last epoch
    assert evaluate(model, three.val)["accuracy"] == pytest.approx(history[-1]["val_accuracy"])
    assert evaluate(model, three.test)["accuracy"] == pytest.approx(history[-1]["test_accuracy"])
    # eval_every applies to the validation split
    h2 = fit(tiny_vit(), three, TrainConfig(epochs=3, eval_every=2, **FAST), progress=False)
    assert [r["val_accuracy"] is None for r in h2] == [True, False, False]
    # the two-way split keeps the old records (no val keys)
    assert "val_accuracy" not in fit(tiny_vit(), load_dataset("digits"), TrainConfig(epochs=1, **FAST), progress=False)[0]


def test_fused_adamw_matches_the_plain_update(digits):
    """TrainConfig(fused_adamw=True) runs torch's fused AdamW: the same steps up to rounding."""
    from vit_tutorial.training import make_optimizer

    images, labels = digits.train.images[:64], digits.train.labels[:64]
    losses, weights = {}, {}
    for fused in (False, True):
        model = tiny_vit()
        optimizer = make_optimizer(model, TrainConfig(fused_adamw=fused, **FAST))
        assert bool(optimizer.defaults["fused"]) is fused
        for _ in range(2):  # the second step's loss is the first step's result
            loss = torch.nn.functional.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        losses[fused], weights[fused] = loss.item(), torch.cat([p.detach().flatten() for p in model.parameters()])
    assert losses[True] == pytest.approx(losses[False], rel=1e-5)
    # an Adam step moves a weight by up to lr = 3e-3; the two kernels agree to within 1e-5 of that
    # (rounding in m / (sqrt(v) + eps) where a gradient is tiny; 4.6e-6 at most when this was written)
    assert torch.allclose(weights[True], weights[False], rtol=0, atol=1e-5)
    one = dict(epochs=1, **FAST)
    plain = fit(tiny_vit(), digits, TrainConfig(**one), progress=False)[0]
    fused = fit(tiny_vit(), digits, TrainConfig(fused_adamw=True, **one), progress=False)[0]
    assert fused["train_loss"] == pytest.approx(plain["train_loss"], rel=1e-4)


def test_fused_adamw_falls_back_with_a_warning(monkeypatch):
    from vit_tutorial.training import make_optimizer, optim

    monkeypatch.setattr(optim, "_fused_adamw_problem", lambda params: "cpu, torch.float32: no kernel")
    with pytest.warns(RuntimeWarning, match="using the plain AdamW"):
        optimizer = make_optimizer(tiny_vit(), TrainConfig(fused_adamw=True, **FAST))
    assert not optimizer.defaults["fused"]
    with pytest.raises(ValueError, match="fused_adamw must be True or False"):
        TrainConfig(fused_adamw="yes")


def test_fused_adamw_is_saved_with_the_run(tmp_path, digits):
    from vit_tutorial.training import read_state

    cfg = TrainConfig(epochs=1, fused_adamw=True, **FAST)
    assert cfg.to_dict()["fused_adamw"] is True and TrainConfig.from_dict(cfg.to_dict()) == cfg
    fit(tiny_vit(), digits.subset(0.2), cfg, progress=False, state_dir=tmp_path)
    saved = read_state(tmp_path / STATE_FILE)["train_config"]
    assert saved["fused_adamw"] is True and TrainConfig.from_dict(saved) == cfg
    assert TrainConfig.from_dict({"epochs": 1}).fused_adamw is False  # a config saved before the field existed
