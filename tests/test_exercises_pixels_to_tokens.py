"""Self-checks of chapters 1-4: each accepts a right answer and rejects the
typical wrong ones with a message that names what differs."""
import torch
import torch.nn.functional as F
from torch import nn

import vit_tutorial as vt
from vit_tutorial.viz import position_similarity
from vit_tutorial.exercises import (
    check_conv_as_linear,
    check_embedding_parameters,
    check_mean_pool,
    check_num_patches,
    check_patchify,
    check_position_similarity,
    check_prepend_class_token,
    check_resize_position_embedding,
    check_unpatchify,
)


def _stub(*args):
    raise NotImplementedError


# ---------------------------------------------------------------- num_patches


def test_num_patches_right_and_wrong():
    assert check_num_patches(lambda H, W, P: (H // P) * (W // P))
    r = check_num_patches(lambda H, W, P: H * W // P)
    assert not r and "3,136" not in r.message and "3136" in r.message and "P**2" in r.message
    r = check_num_patches(lambda H, W, P: (H // P) ** 2)
    assert not r and "not square" in r.message and "H=32, W=64" in r.message
    r = check_num_patches(lambda H, W, P: H * W / P**2)
    assert not r and "float" in r.message
    assert "NotImplementedError" in check_num_patches(_stub).message


# ---------------------------------------------------------------- patchify


def _patchify_right(x, P):
    B, C, H, W = x.shape
    x = x.reshape(B, C, H // P, P, W // P, P).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(B, -1, C * P * P)


def _patchify_column_major(x, P):
    B, C, H, W = x.shape
    x = x.reshape(B, C, H // P, P, W // P, P).permute(0, 4, 2, 1, 3, 5)
    return x.reshape(B, -1, C * P * P)


def _patchify_channel_last(x, P):
    B, C, H, W = x.shape
    x = x.reshape(B, C, H // P, P, W // P, P).permute(0, 2, 4, 3, 5, 1)
    return x.reshape(B, -1, C * P * P)


def test_patchify_right_answer_passes():
    r = check_patchify(_patchify_right)
    assert r and r.message.startswith("Correct!")
    assert check_patchify(vt.patchify)
    # the conv-style route (unfold) is right too
    assert check_patchify(lambda x, P: F.unfold(x, P, stride=P).transpose(1, 2))


def test_patchify_wrong_answers_are_named():
    r = check_patchify(_patchify_column_major)
    assert not r and "column by column" in r.message
    r = check_patchify(_patchify_channel_last)
    assert not r and "channel first" in r.message and "(row, column, channel)" in r.message
    r = check_patchify(lambda x, P: _patchify_right(x, P).transpose(1, 2))
    assert not r and "transposed" in r.message and "(B, P*P*C, N)" in r.message
    r = check_patchify(lambda x, P: x.reshape(x.shape[0], -1, x.shape[1] * P * P))
    assert not r and "reshape alone" in r.message
    r = check_patchify(lambda x, P: _patchify_right(x, P) * 2)
    assert not r and "different values" in r.message
    r = check_patchify(lambda x, P: _patchify_right(x, P)[:, :-1])
    assert not r and "shape" in r.message
    assert "NotImplementedError" in check_patchify(_stub).message


# ---------------------------------------------------------------- unpatchify


def _unpatchify_right(p, P, H, W, C):
    B = p.shape[0]
    x = p.reshape(B, H // P, W // P, C, P, P).permute(0, 3, 1, 4, 2, 5)
    return x.reshape(B, C, H, W)


def test_unpatchify_right_and_wrong():
    assert check_unpatchify(_unpatchify_right)
    assert check_unpatchify(lambda p, P, H, W, C: vt.unpatchify(p, P, (H, W), C))

    def column_major(p, P, H, W, C):
        B = p.shape[0]
        x = p.reshape(B, W // P, H // P, C, P, P).permute(0, 3, 2, 4, 1, 5)
        return x.reshape(B, C, H, W)

    r = check_unpatchify(column_major)
    assert not r and "column by column" in r.message

    def channel_last(p, P, H, W, C):
        B = p.shape[0]
        x = p.reshape(B, H // P, W // P, P, P, C).permute(0, 5, 1, 3, 2, 4)
        return x.reshape(B, C, H, W)

    r = check_unpatchify(channel_last)
    assert not r and "channel first" in r.message

    r = check_unpatchify(lambda p, P, H, W, C: _unpatchify_right(p, P, H, W, C).permute(0, 2, 3, 1))
    assert not r and "channels last" in r.message
    r = check_unpatchify(lambda p, P, H, W, C: p.reshape(p.shape[0], C, H, W))
    assert not r and "reshape alone" in r.message


# ---------------------------------------------------------------- conv as linear


def _linear_from(conv, weight, bias=True):
    D = conv.out_channels
    lin = nn.Linear(weight.shape[1], D)
    with torch.no_grad():
        lin.weight.copy_(weight)
        if bias:
            lin.bias.copy_(conv.bias)
    return lin


def test_conv_as_linear_right_and_wrong():
    r = check_conv_as_linear(lambda conv: _linear_from(conv, conv.weight.reshape(conv.out_channels, -1)))
    assert r and "linear map" in r.message
    r = check_conv_as_linear(
        lambda conv: _linear_from(conv, conv.weight.permute(0, 2, 3, 1).reshape(conv.out_channels, -1))
    )
    assert not r and "(P, P, C)" in r.message
    r = check_conv_as_linear(lambda conv: _linear_from(conv, conv.weight.reshape(conv.out_channels, -1), bias=False))
    assert not r and "bias" in r.message
    r = check_conv_as_linear(lambda conv: nn.Linear(conv.out_channels, 48))
    assert not r and "swapped" in r.message
    r = check_conv_as_linear(lambda conv: conv.weight.reshape(conv.out_channels, -1))
    assert not r and "nn.Linear" in r.message

    def clobber(conv):
        with torch.no_grad():
            conv.weight.zero_()
        return nn.Linear(48, conv.out_channels)

    assert "changed the conv" in check_conv_as_linear(clobber).message


def test_embedding_parameters_right_and_wrong():
    r = check_embedding_parameters(lambda C, P, D: D * C * P * P + D)
    assert r and "590,592" in r.message
    r = check_embedding_parameters(lambda C, P, D: D * C * P * P)
    assert not r and "bias" in r.message and "589,824" in r.message
    r = check_embedding_parameters(lambda C, P, D: D * P * P + D)
    assert not r and "all C channels" in r.message
    assert "NotImplementedError" in check_embedding_parameters(_stub).message
    # the package agrees with the formula
    assert vt.count_parameters(vt.PatchEmbedding(3, 768, 16)) == 590_592


# ---------------------------------------------------------------- class token and pooling


def test_prepend_class_token_right_and_wrong():
    assert check_prepend_class_token(lambda t, c: torch.cat([c.expand(t.shape[0], -1, -1), t], dim=1))
    r = check_prepend_class_token(lambda t, c: torch.cat([t, c.expand(t.shape[0], -1, -1)], dim=1))
    assert not r and "at the end" in r.message and "first" in r.message
    r = check_prepend_class_token(lambda t, c: torch.cat([c.expand(t.shape[0], t.shape[1], -1), t], dim=2))
    assert not r and "feature axis" in r.message
    r = check_prepend_class_token(lambda t, c: t + c)
    assert not r and "added" in r.message
    r = check_prepend_class_token(lambda t, c: torch.cat([c, t[:1]], dim=1))
    assert not r and "expand" in r.message
    r = check_prepend_class_token(lambda t, c: torch.cat([c, t], dim=1))  # no expand: cat fails
    assert not r and "RuntimeError" in r.message


def test_mean_pool_right_and_wrong():
    assert check_mean_pool(lambda f: f[:, 1:].mean(dim=1))
    r = check_mean_pool(lambda f: f.mean(dim=1))
    assert not r and "class token too" in r.message
    r = check_mean_pool(lambda f: f[:, 0])
    assert not r and "class-token pooling" in r.message
    r = check_mean_pool(lambda f: f.mean(dim=2))
    assert not r and "D features" in r.message


# ---------------------------------------------------------------- position embeddings


def test_position_similarity_right_and_wrong():
    def right(table):
        rows = F.normalize(table[0, 1:], dim=-1)
        return rows @ rows.T

    assert check_position_similarity(right)
    assert check_position_similarity(lambda t: position_similarity(t))
    r = check_position_similarity(lambda t: F.normalize(t[0], dim=-1) @ F.normalize(t[0], dim=-1).T)
    assert not r and "class token" in r.message
    r = check_position_similarity(lambda t: t[0, 1:] @ t[0, 1:].T)
    assert not r and "dot products" in r.message
    r = check_position_similarity(lambda t: F.normalize(t[0, 1:], dim=0) @ F.normalize(t[0, 1:], dim=0).T)
    assert not r and "different values" in r.message


def _resize(table, m, mode="bicubic", align_corners=False, straight=False, keep_cls=True):
    cls, grid = table[:, :1], table[:, 1:]
    _, n2, D = grid.shape
    n = int(n2**0.5)
    grid = grid.reshape(1, D, n, n) if straight else grid.reshape(1, n, n, D).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=(m, m), mode=mode, align_corners=align_corners)
    grid = grid.permute(0, 2, 3, 1).reshape(1, m * m, D)
    return torch.cat([cls, grid], dim=1) if keep_cls else grid


def test_resize_position_embedding_right_and_wrong():
    assert check_resize_position_embedding(_resize)
    assert check_resize_position_embedding(vt.resize_position_embedding)
    r = check_resize_position_embedding(lambda t, m: _resize(t, m, straight=True))
    assert not r and "permute" in r.message
    r = check_resize_position_embedding(lambda t, m: _resize(t, m, mode="bilinear"))
    assert not r and "bicubic" in r.message
    r = check_resize_position_embedding(lambda t, m: _resize(t, m, keep_cls=False))
    assert not r and "class token" in r.message
    r = check_resize_position_embedding(lambda t, m: _resize(t, m, align_corners=True))
    assert not r and "align_corners" in r.message

    def moved_cls(t, m):
        out = _resize(t, m).clone()
        out[:, 0] += 1
        return out

    assert "row 0" in check_resize_position_embedding(moved_cls).message
