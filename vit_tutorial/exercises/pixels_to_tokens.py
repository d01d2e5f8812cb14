"""Self-checks for chapters 1-4: from pixels to tokens.

Each check calls the learner's function on small inputs whose right answer
is known, and says in one sentence whether the answer is right and, if not,
what differs: the shape, the order of the values, or the values themselves.
Common mistakes (patches numbered column by column, channel-last values
inside a patch, a transposed output, the class token at the wrong end ...)
are recognised and named.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..patches import patchify
from ..position import resize_position_embedding
from ._core import CheckResult, call_learner, compare_tensors, failed, passed

__all__ = [
    "check_num_patches",
    "check_patchify",
    "check_unpatchify",
    "check_conv_as_linear",
    "check_embedding_parameters",
    "check_prepend_class_token",
    "check_mean_pool",
    "check_position_similarity",
    "check_resize_position_embedding",
]


def _same(a: object, b: torch.Tensor, atol: float = 1e-5) -> bool:
    return isinstance(a, torch.Tensor) and a.shape == b.shape and bool(
        (a.detach().float() - b.float()).abs().max() <= atol
    )


def _int_answer(value: object) -> int | None:
    """The learner's count as an int, or None when it is not a whole number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point():
        return int(value.item())
    return None


# ---------------------------------------------------------------- chapter 1


def check_num_patches(fn: Callable[[int, int, int], int]) -> CheckResult:
    """Check ``fn(H, W, P)``: the number of patches N = (H/P)(W/P)."""
    cases = [(224, 224, 16, 196), (384, 384, 16, 576), (224, 224, 14, 256), (28, 28, 4, 49), (32, 64, 8, 32)]
    for H, W, P, N in cases:
        got, err = call_learner(fn, H, W, P)
        if err is not None:
            return err
        where = f"for H={H}, W={W}, P={P}"
        n = _int_answer(got)
        if n is None:
            if isinstance(got, float) and got == N:
                return failed(
                    f"{where} you returned the float {got!r}; N counts patches, so return an int "
                    f"(use // for whole-number division)."
                )
            return failed(f"{where} you returned {got!r} ({type(got).__name__}), expected the int {N}.")
        if n == N:
            continue
        hint = ""
        if n == H * W // P:
            hint = " You divided the pixel count by P; a patch holds P*P pixels, so divide by P**2."
        elif n == (H // P) ** 2 or n == (W // P) ** 2:
            hint = " The image is not square here: count patches along the height and the width separately."
        elif n == H * W:
            hint = " That is the number of pixels, not of patches."
        return failed(f"{where} you returned {n}, expected {N}.{hint}")
    return passed("N = (H/P)(W/P) for square and non-square images alike; 224x224 with P=16 gives 196 patches.")


def _ordered_image(B: int, C: int, H: int, W: int) -> torch.Tensor:
    """Images whose every value is distinct, so any reordering is visible."""
    return torch.arange(B * C * H * W, dtype=torch.float32).reshape(B, C, H, W)  # (B, C, H, W)


def _column_major(images: torch.Tensor, P: int) -> torch.Tensor:
    B, C, H, W = images.shape
    x = images.reshape(B, C, H // P, P, W // P, P)  # (B, C, H/P, P, W/P, P)
    return x.permute(0, 4, 2, 1, 3, 5).reshape(B, -1, C * P * P)  # (B, N, C*P*P), grid column by column


def _channel_last(images: torch.Tensor, P: int) -> torch.Tensor:
    B, C, H, W = images.shape
    x = images.reshape(B, C, H // P, P, W // P, P)  # (B, C, H/P, P, W/P, P)
    return x.permute(0, 2, 4, 3, 5, 1).reshape(B, -1, C * P * P)  # (B, N, P*P*C), values (P, P, C)


def _diagnose_sequence(got: torch.Tensor, images: torch.Tensor, P: int) -> CheckResult | None:
    """Name a known mistake in a patch sequence of the right shape, if any."""
    B, C, H, W = images.shape
    N, K = (H // P) * (W // P), C * P * P
    if _same(got, _column_major(images, P)):
        return failed(
            "the patches are numbered column by column. Number them row by row (left to right, then "
            "top to bottom), the order in which a stride-P conv visits them."
        )
    if _same(got, _channel_last(images, P)):
        return failed(
            "the patches are in the right order, but inside each patch the values are ordered "
            "(row, column, channel). Order them channel first, (C, P, P), the order of conv.weight[d].flatten()."
        )
    if _same(got, images.reshape(B, N, K)):
        return failed(
            "a reshape alone does not cut the image into patches: it splits the memory into chunks that "
            "mix rows of different patches. Reshape to (B, C, H/P, P, W/P, P), permute, then reshape."
        )
    if _same(got.sort(dim=-1).values, patchify(images, P).sort(dim=-1).values):
        return failed("each row holds the values of the right patch, but in another order inside the patch.")
    return None


def check_patchify(fn: Callable[[torch.Tensor, int], torch.Tensor]) -> CheckResult:
    """Check ``fn(images, P)``: (B, C, H, W) -> (B, N, P*P*C), patches row by
    row, values inside a patch channel first (C, P, P)."""
    for B, C, H, W, P in [(2, 3, 8, 12, 4), (1, 1, 6, 6, 3)]:
        images = _ordered_image(B, C, H, W)
        expected = patchify(images, P)  # (B, N, P*P*C)
        got, err = call_learner(fn, images.clone(), P)
        if err is not None:
            return err
        N, K = expected.shape[1:]
        what = f"for a {B}x{C}x{H}x{W} batch with P={P} your output"
        if isinstance(got, torch.Tensor) and tuple(got.shape) == (B, K, N) and N != K:
            if _same(got.transpose(1, 2), expected):
                return failed(
                    f"{what} has shape {tuple(got.shape)} = (B, P*P*C, N): transposed. The sequence axis N "
                    f"comes before the feature axis, (B, N, P*P*C) = {tuple(expected.shape)}."
                )
        problem = compare_tensors(got, expected, what)
        if problem is None:
            continue
        if isinstance(got, torch.Tensor) and got.shape == expected.shape:
            known = _diagnose_sequence(got, images, P)
            if known is not None:
                return known
        return problem
    return passed("patches come out row by row, each flattened channel first: (B, N, P*P*C).")


def check_unpatchify(fn: Callable[[torch.Tensor, int, int, int, int], torch.Tensor]) -> CheckResult:
    """Check ``fn(patches, P, H, W, C)``: (B, N, P*P*C) -> (B, C, H, W), the
    inverse of :func:`~vit_tutorial.patches.patchify`."""
    for B, C, H, W, P in [(2, 3, 8, 12, 4), (1, 1, 6, 6, 3)]:
        images = _ordered_image(B, C, H, W)
        patches = patchify(images, P)  # (B, N, P*P*C)
        got, err = call_learner(fn, patches.clone(), P, H, W, C)
        if err is not None:
            return err
        what = f"for {B} images of {C}x{H}x{W} with P={P} your output"
        if isinstance(got, torch.Tensor) and tuple(got.shape) == (B, H, W, C) and C > 1:
            return failed(
                f"{what} has shape {tuple(got.shape)} = (B, H, W, C), channels last. "
                f"PyTorch images are channels first: (B, C, H, W) = {tuple(images.shape)}."
            )
        problem = compare_tensors(got, images, what)
        if problem is None:
            continue
        if isinstance(got, torch.Tensor) and got.shape == images.shape:
            if _same(_column_major(got, P), patches):
                return failed(
                    "the patches land on the grid column by column. Patch n belongs at grid row "
                    "n // (W/P), column n % (W/P): fill the grid row by row."
                )
            if _same(_channel_last(got, P), patches):
                return failed(
                    "the patches are in the right places, but the values inside each patch are read as "
                    "(row, column, channel). They are stored channel first: reshape each to (C, P, P)."
                )
            if _same(got, patches.reshape(B, C, H, W)):
                return failed(
                    "a reshape alone does not put patches back: reshape to (B, H/P, W/P, C, P, P), "
                    "permute to (B, C, H/P, P, W/P, P), then reshape to (B, C, H, W)."
                )
        return problem
    return passed("patches go back to their places: unpatchify(patchify(x)) == x.")


# ---------------------------------------------------------------- chapter 2


def check_conv_as_linear(fn: Callable[[nn.Conv2d], nn.Linear]) -> CheckResult:
    """Check ``fn(conv)``: an ``nn.Linear`` that, applied to
    ``patchify(images, P)``, gives the same tokens as the stride-P ``conv``."""
    gen = torch.Generator().manual_seed(0)
    C, D, P = 3, 10, 4
    conv = nn.Conv2d(C, D, kernel_size=P, stride=P)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(D, C, P, P, generator=gen))  # (D, C, P, P)
        conv.bias.copy_(torch.randn(D, generator=gen))  # (D,)
    images = torch.randn(2, C, 8, 12, generator=gen)  # (B, C, H, W)
    with torch.no_grad():
        expected = conv(images).flatten(2).transpose(1, 2)  # (B, N, D)
    snapshot = (conv.weight.detach().clone(), conv.bias.detach().clone())
    linear, err = call_learner(fn, conv)
    if err is not None:
        return err
    if not torch.equal(conv.weight, snapshot[0]) or not torch.equal(conv.bias, snapshot[1]):
        return failed("your function changed the conv's weights; copy them into a new layer instead.")
    if not isinstance(linear, nn.Linear):
        return failed(f"return an nn.Linear, got {type(linear).__name__}.")
    K = C * P * P
    if (linear.in_features, linear.out_features) != (K, D):
        hint = " In and out are swapped." if (linear.in_features, linear.out_features) == (D, K) else ""
        return failed(
            f"your layer maps {linear.in_features} -> {linear.out_features} features; it should map "
            f"C*P*P = {K} patch values to D = {D} token features.{hint}"
        )
    with torch.no_grad():
        got = linear(patchify(images, P))  # (B, N, D)
    problem = compare_tensors(got, expected, "the tokens of your linear layer", atol=1e-4)
    if problem is None:
        return passed("a conv with kernel = stride = P is one linear map applied to every flattened patch.")
    W = linear.weight.detach()
    if torch.allclose(W, conv.weight.detach().permute(0, 2, 3, 1).reshape(D, K)):
        return failed(
            "the weights are in the wrong order: you flattened each filter as (P, P, C). Flatten it as "
            "(C, P, P), the order in which patchify lays out a patch: conv.weight.reshape(D, -1)."
        )
    if torch.allclose(W, conv.weight.detach().reshape(D, K)):
        bias = linear.bias.detach() if linear.bias is not None else torch.zeros(D)
        if not torch.allclose(bias, conv.bias.detach()):
            return failed("the weights are right but the bias is not: copy conv.bias into the linear layer too.")
    return problem


def check_embedding_parameters(fn: Callable[[int, int, int], int]) -> CheckResult:
    """Check ``fn(C, P, D)``: the parameter count of a patch embedding
    (a D x C x P x P kernel and D biases)."""
    cases = [("ViT-B/16", 3, 16, 768), ("ViT-L/16", 3, 16, 1024), ("ViT-H/14", 3, 14, 1280), ("ViT-Tiny", 1, 4, 64)]
    for name, C, P, D in cases:
        expected = D * C * P * P + D
        got, err = call_learner(fn, C, P, D)
        if err is not None:
            return err
        n = _int_answer(got)
        where = f"for {name} (C={C}, P={P}, D={D})"
        if n is None:
            return failed(f"{where} you returned {got!r} ({type(got).__name__}), expected the int {expected:,}.")
        if n == expected:
            continue
        hint = ""
        if n == D * C * P * P:
            hint = " You are exactly D short: each of the D filters also has a bias."
        elif n == D * P * P + D or n == D * P * P:
            hint = " A filter covers all C channels of the patch: it has C*P*P weights."
        elif n == C * P * P:
            hint = " That is one filter; there are D of them."
        return failed(f"{where} you returned {n:,}, expected {expected:,}.{hint}")
    return passed("D*(C*P*P) weights plus D biases: 590,592 for ViT-B/16.")


# ---------------------------------------------------------------- chapter 3


def check_prepend_class_token(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> CheckResult:
    """Check ``fn(tokens, cls)``: tokens (B, N, D) and one class token
    (1, 1, D) -> (B, N+1, D) with the class token first in every sequence."""
    gen = torch.Generator().manual_seed(0)
    B, N, D = 3, 4, 5
    tokens = torch.randn(B, N, D, generator=gen)  # (B, N, D)
    cls = torch.randn(1, 1, D, generator=gen)  # (1, 1, D)
    expected = torch.cat([cls.expand(B, 1, D), tokens], dim=1)  # (B, N+1, D)
    got, err = call_learner(fn, tokens.clone(), cls.clone())
    if err is not None:
        return err
    what = f"for tokens of shape {(B, N, D)} your output"
    if isinstance(got, torch.Tensor):
        shape = tuple(got.shape)
        if shape == (B, N, 2 * D):
            return failed(
                f"{what} has shape {shape}: you concatenated along the feature axis, making every token "
                f"twice as wide. Concatenate along the token axis (dim=1) to get {tuple(expected.shape)}."
            )
        if shape == (B, N, D) and _same(got, tokens + cls):
            return failed(
                f"{what} has shape {shape}: you added the class token to every patch token. It is a new "
                f"token of its own: concatenate it in front, giving {tuple(expected.shape)}."
            )
        if shape == (1, N + 1, D):
            return failed(
                f"{what} has shape {shape}: only one sequence. Every image of the batch needs its own "
                f"copy: expand cls to (B, 1, D) first."
            )
        if shape == expected.shape and _same(got, torch.cat([tokens, cls.expand(B, 1, D)], dim=1)):
            return failed(
                "the class token is at the end of the sequence. Put it first (position 0): the head "
                "reads token 0, and the position table's first row belongs to it."
            )
    problem = compare_tensors(got, expected, what)
    if problem is not None:
        return problem
    return passed("every sequence now starts with the same class token: (B, N, D) -> (B, N+1, D).")


def check_mean_pool(fn: Callable[[torch.Tensor], torch.Tensor]) -> CheckResult:
    """Check ``fn(features)``: (B, N+1, D) -> (B, D), the mean of the N patch
    tokens (the class token, at position 0, left out)."""
    gen = torch.Generator().manual_seed(1)
    B, T, D = 2, 5, 6
    features = torch.randn(B, T, D, generator=gen)  # (B, T, D)
    expected = features[:, 1:].mean(dim=1)  # (B, D)
    got, err = call_learner(fn, features.clone())
    if err is not None:
        return err
    what = f"for features of shape {(B, T, D)} your output"
    if isinstance(got, torch.Tensor):
        if tuple(got.shape) == (B, T):
            return failed(
                f"{what} has shape {(B, T)}: you averaged over the D features of each token. "
                f"Average over the token axis (dim=1) to get one D-vector per image, {(B, D)}."
            )
        if _same(got, features.mean(dim=1)):
            return failed("you averaged all N+1 tokens, the class token too; average the patch tokens features[:, 1:].")
        if _same(got, features[:, 0]):
            return failed("that is the class token's output (class-token pooling); here, average the patch tokens.")
    problem = compare_tensors(got, expected, what)
    if problem is not None:
        return problem
    return passed("global average pooling: the mean of the N patch tokens, one D-vector per image.")


# ---------------------------------------------------------------- chapter 4


def check_position_similarity(fn: Callable[[torch.Tensor], torch.Tensor]) -> CheckResult:
    """Check ``fn(table)``: a position table (1, N+1, D) -> the (N, N) cosine
    similarities between the patches' rows (the class token's row left out)."""
    gen = torch.Generator().manual_seed(2)
    N, D = 9, 8
    table = torch.randn(1, N + 1, D, generator=gen) + 0.5  # (1, N+1, D)
    rows = table[0, 1:]  # (N, D)
    expected = F.cosine_similarity(rows[:, None, :], rows[None, :, :], dim=-1)  # (N, N)
    got, err = call_learner(fn, table.clone())
    if err is not None:
        return err
    what = f"for a table of shape {tuple(table.shape)} your output"
    if isinstance(got, torch.Tensor):
        if tuple(got.shape) == (N + 1, N + 1):
            return failed(
                f"{what} has shape {(N + 1, N + 1)}: you kept the class token's row. Compare the N = {N} "
                f"patch rows only, table[0, 1:], for an ({N}, {N}) result."
            )
        if tuple(got.shape) == (1, N, N):
            return failed(f"{what} has shape {(1, N, N)}: drop the batch axis of the table first, for ({N}, {N}).")
        if got.shape == expected.shape and _same(got, rows @ rows.T, atol=1e-4):
            return failed(
                "these are dot products, not cosine similarities: divide each row by its length first, "
                "so that a patch's similarity with itself is 1."
            )
    problem = compare_tensors(got, expected, what, atol=1e-4)
    if problem is not None:
        return problem
    return passed("cosine similarity of every pair of patch positions, 1 on the diagonal.")


def check_resize_position_embedding(fn: Callable[[torch.Tensor, int], torch.Tensor]) -> CheckResult:
    """Check ``fn(table, new_side)``: a table (1, 1 + n*n, D) resized to
    (1, 1 + m*m, D) by bicubic interpolation of the patch grid
    (``align_corners=False``), the class token's row kept unchanged."""
    gen = torch.Generator().manual_seed(3)
    n, m, D = 4, 6, 8
    table = torch.randn(1, 1 + n * n, D, generator=gen)  # (1, 1+n*n, D)
    expected = resize_position_embedding(table, m)  # (1, 1+m*m, D)
    got, err = call_learner(fn, table.clone(), m)
    if err is not None:
        return err
    what = f"resizing a (1, {1 + n * n}, {D}) table to a {m}x{m} grid, your output"
    cls, grid = table[:, :1], table[:, 1:]  # (1, 1, D), (1, n*n, D)
    if isinstance(got, torch.Tensor):
        if tuple(got.shape) == (1, m * m, D):
            return failed(
                f"{what} has shape {(1, m * m, D)}: the class token's row is missing. Keep table[:, :1] "
                f"unchanged and put it back in front, for {tuple(expected.shape)}."
            )
        if got.shape == expected.shape:
            if not torch.allclose(got[:, 0], cls[:, 0], atol=1e-5):
                return failed("the class token's row (row 0) changed: it has no grid position, keep it as it is.")

            def variant(image: torch.Tensor, **kw) -> torch.Tensor:
                out = F.interpolate(image, size=(m, m), **kw)  # (1, D, m, m)
                return torch.cat([cls, out.permute(0, 2, 3, 1).reshape(1, m * m, D)], dim=1)  # (1, 1+m*m, D)

            square = grid.reshape(1, n, n, D).permute(0, 3, 1, 2)  # (1, D, n, n)
            if _same(got, variant(grid.reshape(1, D, n, n), mode="bicubic", align_corners=False), 1e-4):
                return failed(
                    "you reshaped (1, n*n, D) straight into (1, D, n, n), which mixes channels and positions. "
                    "Reshape to (1, n, n, D) and permute to (1, D, n, n) before interpolating."
                )
            if _same(got, variant(square, mode="bilinear", align_corners=False), 1e-4):
                return failed("these are bilinear values; use mode='bicubic', as ViT does.")
            if _same(got, variant(square, mode="bicubic", align_corners=True), 1e-4):
                return failed("use align_corners=False (the values differ at the borders).")
            if _same(got, variant(square.transpose(2, 3), mode="bicubic", align_corners=False), 1e-4):
                return failed("the grid came out transposed: rows and columns are swapped.")
    problem = compare_tensors(got, expected, what, atol=1e-4)
    if problem is not None:
        return problem
    return passed(f"the {n}x{n} grid of position vectors is now a smooth {m}x{m} grid; the class token's row is kept.")
