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
    # the built-ins the exercise replaces are refused, by identity or by name
    r = check_patchify(vt.patchify)
    assert not r and "library's own" in r.message
    r = check_patchify(lambda x, P: F.unfold(x, P, stride=P).transpose(1, 2))
    assert not r and "unfold" in r.message

    def nested(x, P):
        def inner(y):
            return vt.patchify(y, P)
        return inner(x)

    assert "patchify" in check_patchify(nested).message and not check_patchify(nested)


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
    # pixel_unshuffle lays a patch out channel first too, so it would pass unless refused
    r = check_patchify(lambda x, P: F.pixel_unshuffle(x, P).flatten(2).transpose(1, 2))
    assert not r and "pixel_unshuffle" in r.message
    assert "NotImplementedError" in check_patchify(_stub).message


# ---------------------------------------------------------------- unpatchify


def _unpatchify_right(p, P, H, W, C):
    B = p.shape[0]
    x = p.reshape(B, H // P, W // P, C, P, P).permute(0, 3, 1, 4, 2, 5)
    return x.reshape(B, C, H, W)


def test_unpatchify_right_and_wrong():
    assert check_unpatchify(_unpatchify_right)
    assert not check_unpatchify(lambda p, P, H, W, C: vt.unpatchify(p, P, (H, W), C))

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

    def by_pixel_shuffle(p, P, H, W, C):
        grid = p.transpose(1, 2).reshape(p.shape[0], C * P * P, H // P, W // P)  # (B, C*P*P, H/P, W/P)
        return F.pixel_shuffle(grid, P)                                          # (B, C, H, W)

    r = check_unpatchify(by_pixel_shuffle)
    assert not r and "pixel_shuffle" in r.message


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
    assert not check_position_similarity(lambda t: position_similarity(t))
    r = check_position_similarity(lambda t: F.cosine_similarity(t[0, 1:, None], t[0, None, 1:], dim=-1))
    assert not r and "cosine_similarity" in r.message
    from vit_tutorial.analysis import patch_cosine_similarity

    assert "patch_cosine_similarity" in check_position_similarity(lambda t: patch_cosine_similarity(t[0, 1:])).message
    from vit_tutorial.analysis import position_embedding_similarity

    r = check_position_similarity(lambda t: position_embedding_similarity(t, 3).reshape(9, 9))
    assert not r and "position_embedding_similarity" in r.message
    r = check_position_similarity(lambda t: right(t) * float("nan"))
    assert not r and "NaN" in r.message
    r = check_position_similarity(lambda t: F.normalize(t[0], dim=-1) @ F.normalize(t[0], dim=-1).T)
    assert not r and "class token" in r.message
    r = check_position_similarity(lambda t: t[0, 1:] @ t[0, 1:].T)
    assert not r and "dot products" in r.message
    r = check_position_similarity(lambda t: F.normalize(t[0, 1:], dim=0) @ F.normalize(t[0, 1:], dim=0).T)
    assert not r and "different values" in r.message


def _resize(table, m, mode="bicubic", align_corners=False, straight=False, keep_cls=True, antialias=False):
    cls, grid = table[:, :1], table[:, 1:]
    _, n2, D = grid.shape
    n = int(n2**0.5)
    grid = grid.reshape(1, D, n, n) if straight else grid.reshape(1, n, n, D).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=(m, m), mode=mode, align_corners=align_corners, antialias=antialias)
    grid = grid.permute(0, 2, 3, 1).reshape(1, m * m, D)
    return torch.cat([cls, grid], dim=1) if keep_cls else grid


def test_resize_position_embedding_right_and_wrong():
    assert check_resize_position_embedding(_resize)
    assert not check_resize_position_embedding(vt.resize_position_embedding)
    r = check_resize_position_embedding(lambda t, m: vt.resize_position_embedding(t, m))
    assert not r and "resize_position_embedding" in r.message
    r = check_resize_position_embedding(lambda t, m: _resize(t, m, mode="bilinear", align_corners=True))
    assert not r and "official ViT code" in r.message and "scipy.ndimage.zoom" in r.message
    r = check_resize_position_embedding(lambda t, m: _resize(t, m, straight=True))
    assert not r and "permute" in r.message
    r = check_resize_position_embedding(lambda t, m: _resize(t, m, mode="bilinear"))
    assert not r and "bicubic" in r.message
    r = check_resize_position_embedding(lambda t, m: _resize(t, m, antialias=True))
    assert not r and "timm" in r.message and "antialias" in r.message
    r = check_resize_position_embedding(lambda t, m: _resize(t, m, keep_cls=False))
    assert not r and "class token" in r.message
    r = check_resize_position_embedding(lambda t, m: _resize(t, m, align_corners=True))
    assert not r and "align_corners" in r.message

    def moved_cls(t, m):
        out = _resize(t, m).clone()
        out[:, 0] += 1
        return out

    assert "row 0" in check_resize_position_embedding(moved_cls).message


# ---------------------------------------------------------------- new checks (issue 16)


def test_patch_index_prediction():
    from vit_tutorial.exercises import check_patch_index_prediction as check

    assert check(2, 22)
    # the value really is there: the check's answer agrees with patchify
    image = torch.arange(192.0).reshape(1, 3, 8, 8)
    assert vt.patchify(image, 4)[0, 2, 22] == image[0, 1, 5, 2]
    assert "column by column" in check(1, 22).message
    assert "counts from 1" in check(3, 22).message
    assert "(row, column, channel)" in check(2, 19).message
    assert "forgets the channel" in check(2, 6).message
    assert not check(2.0, 22) and not check("2", "22")


def test_conv_as_linear_refuses_wrappers_and_the_copy_helper():
    class Wrapped(nn.Linear):
        def forward(self, x):
            return super().forward(x)

    def subclassed(conv):
        D, C, P, _ = conv.weight.shape
        lin = Wrapped(C * P * P, D)
        with torch.no_grad():
            lin.weight.copy_(conv.weight.reshape(D, -1))
            lin.bias.copy_(conv.bias)
        return lin

    assert "plain nn.Linear" in check_conv_as_linear(subclassed).message
    r = check_conv_as_linear(lambda conv: vt.copy_conv_to_linear(conv, None))
    assert not r and "copy_conv_to_linear" in r.message


def test_embedding_parameters_refuses_counting_a_module():
    r = check_embedding_parameters(lambda C, P, D: vt.count_parameters(vt.PatchEmbedding(C, D, P)))
    assert not r and "count_parameters" in r.message


class _GoodEmbedding(nn.Module):
    def __init__(self, C, D, P):
        super().__init__()
        self.proj = nn.Conv2d(C, D, P, stride=P)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


def test_patch_embedding_module():
    from vit_tutorial.exercises import check_patch_embedding_module as check

    assert check(_GoodEmbedding)

    class ArticleStyle(nn.Module):  # a new conv on every call
        def __init__(self, C, D, P):
            super().__init__()
            self.C, self.D, self.P = C, D, P

        def forward(self, x):
            conv = nn.Conv2d(self.C, self.D, self.P, stride=self.P)
            return conv(x).flatten(2).transpose(1, 2)

    assert "different tokens on two calls" in check(ArticleStyle).message

    class NoTranspose(_GoodEmbedding):
        def forward(self, x):
            return self.proj(x).flatten(2)

    assert "transpose" in check(NoTranspose).message

    class Padded(_GoodEmbedding):
        def __init__(self, C, D, P):
            super().__init__(C, D, P)
            self.proj = nn.Conv2d(C, D, P, stride=P, padding=P // 2)

        def forward(self, x):
            return self.proj(x)[:, :, :2, :3].flatten(2).transpose(1, 2)

    assert "its own patch" in check(Padded).message

    class Reuses(nn.Module):
        def __init__(self, C, D, P):
            super().__init__()
            self.inner = vt.PatchEmbedding(C, D, P)

        def forward(self, x):
            return self.inner(x)

    assert "PatchEmbedding" in check(Reuses).message
    assert not check(_GoodEmbedding(3, 10, 4))  # an instance, not the class


def test_padding_prediction():
    from vit_tutorial.exercises import check_padding_prediction as check

    assert check(14, False)
    assert "226" in check(15, False).message
    assert "shifted" in check(14, True).message
    assert not check(14, "no")
    # the facts the check teaches
    conv = nn.Conv2d(3, 8, 16, stride=16, padding=1)
    plain = nn.Conv2d(3, 8, 16, stride=16)
    plain.load_state_dict(conv.state_dict())
    x = torch.rand(1, 3, 224, 224)
    with torch.no_grad():
        assert conv(x).shape[-2:] == (14, 14)
        assert not torch.allclose(conv(x), plain(x), atol=1e-4)


class _GoodToken(nn.Module):
    def __init__(self, D):
        super().__init__()
        self.token = nn.Parameter(torch.zeros(1, 1, D))

    def forward(self, x):
        return torch.cat([self.token.expand(x.shape[0], -1, -1), x], dim=1)


def test_class_token_module():
    from vit_tutorial.exercises import check_class_token_module as check

    assert check(_GoodToken)

    class Loose(_GoodToken):
        def __init__(self, D):
            nn.Module.__init__(self)
            self.token = torch.zeros(1, 1, D, requires_grad=True)

    assert "requires_grad=True is not registered" in check(Loose).message

    class PerImage(nn.Module):
        def __init__(self, D):
            super().__init__()
            self.token = nn.Parameter(torch.zeros(3, 1, D))

        def forward(self, x):
            return torch.cat([self.token, x], dim=1)

    assert "(1, 1, D)" in check(PerImage).message

    class Big(_GoodToken):
        def __init__(self, D):
            super().__init__(D)
            self.token = nn.Parameter(torch.randn(1, 1, D) + 3)

    assert "std-1 randn" in check(Big).message

    class AtEnd(_GoodToken):
        def forward(self, x):
            return torch.cat([x, self.token.expand(x.shape[0], -1, -1)], dim=1)

    assert not check(AtEnd)

    class Reuses(nn.Module):
        def __init__(self, D):
            super().__init__()
            self.t = vt.ClassToken(D)

        def forward(self, x):
            return self.t(x)

    assert "ClassToken" in check(Reuses).message


def test_prepend_class_token_refuses_class_token_module():
    r = check_prepend_class_token(lambda tokens, cls: vt.ClassToken(tokens.shape[-1])(tokens))
    assert not r and "ClassToken" in r.message


def test_loose_tensor_prediction():
    from vit_tutorial.exercises import check_loose_tensor_prediction as check

    assert check(True, False, False)
    assert "requires_grad=True" in check(False, False, False).message
    assert "never applied" in check(True, True, False).message
    assert "state_dict" in check(True, False, True).message
    assert not check(1, 0, 0)


class _GoodTable(nn.Module):
    def __init__(self, T, D):
        super().__init__()
        self.T = T
        self.weight = nn.Parameter(torch.randn(1, T, D) * 0.02)

    def forward(self, x):
        if x.shape[1] != self.T:
            raise ValueError("wrong length")
        return x + self.weight


def test_position_table_module():
    from vit_tutorial.exercises import check_position_table_module as check

    assert check(_GoodTable)

    class Article(nn.Module):  # the article: std 1, 1000 rows, sliced
        def __init__(self, T, D):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(1000, D))

        def forward(self, x):
            return x + self.weight[: x.shape[1]]

    assert "One row per token" in check(Article).message

    class Sliced(_GoodTable):
        def forward(self, x):
            return x + self.weight[:, : x.shape[1]]

    assert "silent bug" in check(Sliced).message

    class Large(_GoodTable):
        def __init__(self, T, D):
            super().__init__(T, D)
            self.weight = nn.Parameter(torch.randn(1, T, D))

    assert "std 1" in check(Large).message

    class Tiled(_GoodTable):
        def forward(self, x):
            return x + torch.tile(self.weight, (x.shape[0], 1, 1))

    assert "broadcasts" in check(Tiled).message

    class NaNs(_GoodTable):
        def forward(self, x):
            return super().forward(x) * float("nan")

    assert "NaN" in check(NaNs).message


def test_slicing_prediction():
    from vit_tutorial.exercises import check_slicing_prediction as check

    assert check((1, 0), (0, 14))
    assert "class token" in check((1, 1), (0, 14)).message
    assert "resizing" in check((1, 0), (1, 0)).message
    assert not check("1,0", (0, 14))
    # the fact itself: patch 14 in the two grids
    assert divmod(14, 14) == (1, 0) and divmod(14, 24) == (0, 14)


def test_answers_with_nan_or_wrong_broadcast_shapes_fail():
    r = check_patchify(lambda x, P: _patchify_right(x, P) * float("nan"))
    assert not r and "NaN" in r.message
    r = check_mean_pool(lambda f: f[:, 1:].mean(dim=1, keepdim=True))  # (B, 1, D) broadcasts against (B, D)
    assert not r and "shape" in r.message


def test_resize_modes_match_timm_style_and_the_official_code():
    """Default = bicubic, align_corners=False (DeiT/timm); bilinear with
    align_corners=True = scipy.ndimage.zoom(order=1) (the official ViT code)."""
    import numpy as np
    from scipy import ndimage

    torch.manual_seed(0)
    table = torch.randn(1, 1 + 5 * 5, 4, dtype=torch.float64)
    grid = table[0, 1:].reshape(5, 5, 4).numpy()
    official = ndimage.zoom(grid, (8 / 5, 8 / 5, 1), order=1).reshape(1, 64, 4)
    ours = vt.resize_position_embedding(table, 8, mode="bilinear", align_corners=True)
    assert np.abs(ours[:, 1:].numpy() - official).max() < 1e-12
    assert torch.equal(ours[:, 0], table[:, 0])
    default = vt.resize_position_embedding(table, 8)
    assert np.abs(default[:, 1:].numpy() - official).max() > 1e-3  # a different choice
    import pytest

    with pytest.raises(TypeError):
        vt.resize_position_embedding(table, 8, align_corners="yes")
