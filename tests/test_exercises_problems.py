"""The self-checks of chapters 11 and 12: each accepts a right answer and
rejects typical wrong ones with a message that names the mistake."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import vit_tutorial as vt
from vit_tutorial.exercises import (
    check_centred_position_table,
    check_fitted_exponent,
    check_error_slope,
    check_layer_similarity,
    check_peg,
    check_window_flops,
    check_window_partition,
)


def _not_yet(fn):
    raise NotImplementedError


# ---------------------------------------------------------------- fitted exponent


def test_fitted_exponent():
    right = lambda n, t: float(np.polyfit(np.log(n), np.log(t), 1)[0])
    result = check_fitted_exponent(right)
    assert result and "Correct" in repr(result)
    linear = lambda n, t: float(np.polyfit(n, t, 1)[0])
    semilog = lambda n, t: float(np.polyfit(n, np.log(t), 1)[0])
    endpoints = lambda n, t: math.log(t[-1] / t[0]) / math.log(n[-1] / n[0])
    intercept = lambda n, t: float(np.polyfit(np.log(n), np.log(t), 1)[1])
    bases = lambda n, t: float(np.polyfit(np.log(n), np.log10(t), 1)[0])
    for wrong, hint in ((linear, "straight line"), (semilog, "logarithm of n"), (endpoints, "first and last"),
                        (intercept, "intercept"), (bases, "bases")):
        result = check_fitted_exponent(wrong)
        assert not result and hint in repr(result), repr(result)
    assert not check_fitted_exponent(lambda n, t: 2.0)
    assert "NotImplementedError" in repr(check_fitted_exponent(lambda n, t: _not_yet(n)))
    assert "tuple" in repr(check_fitted_exponent(lambda n, t: tuple(np.polyfit(np.log(n), np.log(t), 1))))


# ---------------------------------------------------------------- error slope


def test_error_slope():
    right = lambda n, a: float(np.polyfit(np.log(n), np.log(1 - np.asarray(a)), 1)[0])  # noqa: E731
    assert check_error_slope(right)
    wrongs = (
        (lambda n, a: float(np.polyfit(np.log(n), np.log(a), 1)[0]), "log(accuracy)"),
        (lambda n, a: float(np.polyfit(np.log(n), a, 1)[0]), "accuracy itself"),
        (lambda n, a: float(np.polyfit(n, np.log(1 - np.asarray(a)), 1)[0]), "images too"),
        (lambda n, a: float((np.log(1 - a[-1]) - np.log(1 - a[0])) / (np.log(n[-1]) - np.log(n[0]))), "first and last"),
        (lambda n, a: float(np.polyfit(np.log(n), np.log(1 - np.asarray(a)), 1)[1]), "intercept"),
    )
    for wrong, hint in wrongs:
        result = check_error_slope(wrong)
        assert not result and hint in repr(result), repr(result)
    assert "tuple" in repr(check_error_slope(lambda n, a: (1.0, 2.0)))
    assert not check_error_slope(lambda n, a: -0.3)


# ---------------------------------------------------------------- layer similarity


def _right_similarity(attentions):
    """DeepViT: cosine of the columns A[b, h, :, t] of consecutive layers."""
    A = F.normalize(torch.stack(attentions), dim=-2)  # (L, B, h, T, T), unit columns
    return (A[:-1] * A[1:]).sum(-2).mean(dim=(1, 2, 3))


def test_layer_similarity():
    assert check_layer_similarity(_right_similarity)

    def whole(attentions):
        A = F.normalize(torch.stack(attentions).flatten(1), dim=-1)
        return (A[:-1] * A[1:]).sum(-1)

    def rows(attentions):
        A = F.normalize(torch.stack(attentions), dim=-1)
        return (A[:-1] * A[1:]).sum(-1).mean(dim=(1, 2, 3))

    def unnormalised(attentions):
        A = torch.stack(attentions)
        return (A[:-1] * A[1:]).sum(-2).mean(dim=(1, 2, 3))

    def itself(attentions):
        A = F.normalize(torch.stack(attentions), dim=-2)
        return (A * A).sum(-2).mean(dim=(1, 2, 3))[:-1]

    for wrong, hint in ((whole, "one long vector"), (rows, "you compared rows"), (unnormalised, "normalised"),
                        (itself, "itself")):
        result = check_layer_similarity(wrong)
        assert not result and hint in repr(result), repr(result)
    assert "shape" in repr(check_layer_similarity(lambda a: _right_similarity(a)[None]))


# ---------------------------------------------------------------- window partition


def test_window_partition():
    def right(x, w):
        B, Hg, Wg, D = x.shape
        x = x.reshape(B, Hg // w, w, Wg // w, w, D).permute(0, 1, 3, 2, 4, 5)
        return x.reshape(-1, w * w, D)

    assert check_window_partition(right)
    plain = lambda x, w: x.reshape(-1, w * w, x.shape[-1])

    def column_major(x, w):
        B, Hg, Wg, D = x.shape
        return x.reshape(B, Hg // w, w, Wg // w, w, D).permute(0, 3, 1, 2, 4, 5).reshape(-1, w * w, D)

    def inner_transposed(x, w):
        B, Hg, Wg, D = x.shape
        return x.reshape(B, Hg // w, w, Wg // w, w, D).permute(0, 1, 3, 4, 2, 5).reshape(-1, w * w, D)

    def unmerged(x, w):
        B = x.shape[0]
        return right(x, w).reshape(B, -1, w * w, x.shape[-1])

    for wrong, hint in ((plain, "plain reshape"), (column_major, "column-major"), (inner_transposed, "inside each"),
                        (unmerged, "merge the batch")):
        result = check_window_partition(wrong)
        assert not result and hint in repr(result), repr(result)
    assert "NotImplementedError" in repr(check_window_partition(lambda x, w: _not_yet(x)))


# ---------------------------------------------------------------- PEG


def test_peg():
    def right(x, conv, grid):
        B, T, D = x.shape
        cls, patches = x[:, :1], x[:, 1:]
        fmap = patches.transpose(1, 2).reshape(B, D, *grid)
        return torch.cat([cls, (fmap + conv(fmap)).flatten(2).transpose(1, 2)], dim=1)

    assert check_peg(right)

    def no_residual(x, conv, grid):
        B, T, D = x.shape
        fmap = x[:, 1:].transpose(1, 2).reshape(B, D, *grid)
        return torch.cat([x[:, :1], conv(fmap).flatten(2).transpose(1, 2)], dim=1)

    def plain_reshape(x, conv, grid):
        B, T, D = x.shape
        fmap = x[:, 1:].reshape(B, D, *grid)
        return torch.cat([x[:, :1], (fmap + conv(fmap)).reshape(B, T - 1, D)], dim=1)

    def dropped(x, conv, grid):
        return right(x, conv, grid)[:, 1:]

    for wrong, hint in ((no_residual, "residual"), (plain_reshape, "plain reshape"), (dropped, "class token")):
        result = check_peg(wrong)
        assert not result and hint in repr(result), repr(result)


# ---------------------------------------------------------------- window FLOPs


def test_window_flops():
    assert check_window_flops(lambda N, D, w: 8 * N * D * D + 4 * N * w * w * D)
    assert check_window_flops(lambda N, D, w: float(8 * N * D * D + 4 * N * w * w * D))
    for wrong, hint in (
        (lambda N, D, w: 4 * N * D * D + 2 * N * w * w * D, "half"),
        (lambda N, D, w: 4 * N * w * w * D, "projections"),
        (lambda N, D, w: 8 * N * D * D + 4 * N * N * D, "global attention"),
        (lambda N, D, w: 8 * N * D * D + 2 * N * w * w * D, "weighted sum"),
    ):
        result = check_window_flops(wrong)
        assert not result and hint in repr(result), repr(result)
    assert "whole number" in repr(check_window_flops(lambda N, D, w: "many"))


def _centred(table, m, before=None, fill="replicate"):
    cls, grid = table[:, :1], table[:, 1:]
    _, n2, D = grid.shape
    n = int(n2**0.5)
    lo = (m - n) // 2 if before is None else before
    fmap = grid.reshape(1, n, n, D).permute(0, 3, 1, 2)
    pad = (lo, m - n - lo, lo, m - n - lo)
    fmap = F.pad(fmap, pad, mode="replicate") if fill == "replicate" else F.pad(fmap, pad)
    return torch.cat([cls, fmap.permute(0, 2, 3, 1).reshape(1, m * m, D)], dim=1)


def test_centred_table_accepts_the_right_answer():
    result = check_centred_position_table(_centred)
    assert result, repr(result)
    assert repr(result).startswith("Correct!")


@pytest.mark.parametrize(
    "wrong,words",
    [
        (lambda t, m: vt.resize_position_embedding(t, m), "stretches"),
        (lambda t, m: _centred(t, m, fill="zeros"), "zeros"),
        (lambda t, m: _centred(t, m, before=0), "corner"),
        (lambda t, m: _centred(t, m, before=m - 3 - (m - 3) // 2), "odd extra row"),
        (lambda t, m: _centred(t, m)[:, 1:], "class token"),
        (lambda t, m: _centred(t, m).transpose(1, 2), "shape"),
        (lambda t, m: _centred(t, m) + 1.0, "different values"),
    ],
)
def test_centred_table_names_the_mistake(wrong, words):
    result = check_centred_position_table(wrong)
    assert not result
    assert words in repr(result), repr(result)


def test_centred_table_not_yet():
    def stub(table, m):
        raise NotImplementedError

    assert "NotImplementedError" in repr(check_centred_position_table(stub))
