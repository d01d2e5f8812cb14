"""The training chapter's self-checks accept a right answer and explain wrong ones."""
import math

import pytest
import torch
import torch.nn.functional as F

from vit_tutorial.exercises import check_confusion_matrix, check_label_smoothing, check_warmup_cosine


# --- confusion matrix ---------------------------------------------------------------------------

def cm_right(labels, predictions, num_classes):
    cm = torch.zeros(num_classes, num_classes, dtype=torch.long)
    for t, p in zip(labels.tolist(), predictions.tolist()):
        cm[t, p] += 1
    return cm


def cm_transposed(labels, predictions, num_classes):
    return cm_right(labels, predictions, num_classes).T


def cm_from_max(labels, predictions, num_classes):
    K = int(max(labels.max(), predictions.max())) + 1
    return cm_right(labels, predictions, K)


def cm_rates(labels, predictions, num_classes):
    return cm_right(labels, predictions, num_classes).float() / len(labels)


def test_confusion_matrix_check():
    assert check_confusion_matrix(cm_right)
    r = check_confusion_matrix(cm_transposed)
    assert not r and "swapped" in r.message
    r = check_confusion_matrix(cm_from_max)
    assert not r and "num_classes" in r.message
    r = check_confusion_matrix(cm_rates)
    assert not r and "counts" in r.message


def test_confusion_matrix_stub():
    def stub(labels, predictions, num_classes):
        raise NotImplementedError

    r = check_confusion_matrix(stub)
    assert not r and "NotImplementedError" in repr(r)


# --- label smoothing ----------------------------------------------------------------------------

def ls_right(logits, targets, smoothing):
    B, K = logits.shape
    q = (1 - smoothing) * F.one_hot(targets, K) + smoothing / K  # (B, K)
    return -(q * logits.log_softmax(dim=1)).sum(dim=1).mean()


def ls_plain(logits, targets, smoothing):
    return F.cross_entropy(logits, targets)


def ls_sum(logits, targets, smoothing):
    return ls_right(logits, targets, smoothing) * logits.shape[0]


def ls_k_minus_one(logits, targets, smoothing):
    B, K = logits.shape
    one_hot = F.one_hot(targets, K).float()
    q = (1 - smoothing) * one_hot + smoothing / (K - 1) * (1 - one_hot)
    return -(q * logits.log_softmax(dim=1)).sum(dim=1).mean()


def ls_softmax_not_log(logits, targets, smoothing):
    B, K = logits.shape
    q = (1 - smoothing) * F.one_hot(targets, K) + smoothing / K
    return -(q * logits.softmax(dim=1)).sum(dim=1).mean()


def test_label_smoothing_check():
    assert check_label_smoothing(ls_right)
    assert "plain cross-entropy" in check_label_smoothing(ls_plain).message
    assert "SUM" in check_label_smoothing(ls_sum).message
    assert "K-1" in check_label_smoothing(ls_k_minus_one).message
    r = check_label_smoothing(ls_softmax_not_log)
    assert not r and r.message.startswith("Not yet: expected")


# --- warm-up + cosine ----------------------------------------------------------------------------

def lr_right(step, warmup_steps, total_steps, peak_lr):
    if step < warmup_steps:
        return peak_lr * (step + 1) / warmup_steps
    t = (step - warmup_steps) / (total_steps - warmup_steps)
    return peak_lr * 0.5 * (1 + math.cos(math.pi * t))


def lr_no_warmup(step, warmup_steps, total_steps, peak_lr):
    return peak_lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))


def lr_from_zero(step, warmup_steps, total_steps, peak_lr):
    if step < warmup_steps:
        return peak_lr * step / warmup_steps
    return lr_right(step, warmup_steps, total_steps, peak_lr)


def lr_unshifted_cosine(step, warmup_steps, total_steps, peak_lr):
    if step < warmup_steps:
        return peak_lr * (step + 1) / warmup_steps
    return peak_lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))


def lr_linear_decay(step, warmup_steps, total_steps, peak_lr):
    if step < warmup_steps:
        return peak_lr * (step + 1) / warmup_steps
    return peak_lr * (1 - (step - warmup_steps) / (total_steps - warmup_steps))


def test_warmup_cosine_check():
    assert check_warmup_cosine(lr_right)
    assert "warm-up is missing" in check_warmup_cosine(lr_no_warmup).message
    assert "starts at 0" in check_warmup_cosine(lr_from_zero).message
    assert "end of the warm-up" in check_warmup_cosine(lr_unshifted_cosine).message
    assert "straight line" in check_warmup_cosine(lr_linear_decay).message
    r = check_warmup_cosine(lambda s, w, t, p: "fast")
    assert not r and "number" in r.message


def test_right_schedule_matches_fit():
    """The reference the check uses is the schedule fit really follows."""
    from vit_tutorial.train import TrainConfig, learning_rate_schedule

    cfg = TrainConfig(epochs=5, lr=2e-3, warmup_epochs=1.0)
    lrs = learning_rate_schedule(cfg, steps_per_epoch=7)
    assert lrs == [pytest.approx(lr_right(s, 7, 35, 2e-3), rel=1e-12) for s in range(35)]


def test_check_mcnemar_passes_the_answer_and_names_the_slips():
    import math

    from vit_tutorial.exercises import check_mcnemar

    def right(a, b):
        n01, n10 = int((a & ~b).sum()), int((~a & b).sum())
        n, k = n01 + n10, min(n01, n10)
        return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n) if n else 1.0

    def one_sided(a, b):
        n01, n10 = int((a & ~b).sum()), int((~a & b).sum())
        n, k = n01 + n10, min(n01, n10)
        return sum(math.comb(n, i) for i in range(k + 1)) / 2**n

    assert check_mcnemar(right)
    r = check_mcnemar(one_sided)
    assert not r and "double it" in str(r)
    r = check_mcnemar(lambda a, b: 0.5)
    assert not r and "p-value is" in str(r)
