"""Self-checks for chapters 1-4: from pixels to tokens.

Each check calls the learner's function on small inputs whose right answer
is known, and says in one sentence whether the answer is right and, if not,
what differs: the shape, the order of the values, or the values themselves.
Common mistakes (patches numbered column by column, channel-last values
inside a patch, a transposed output, the class token at the wrong end ...)
are recognised and named.
"""
from __future__ import annotations

import types
from typing import Any, Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from ..patches import patchify
from ..position import resize_position_embedding
from ._core import CheckResult, call_learner, compare_tensors, failed, is_close, passed

__all__ = [
    "check_num_patches",
    "check_patchify",
    "check_unpatchify",
    "check_patch_index_prediction",
    "check_conv_as_linear",
    "check_embedding_parameters",
    "check_patch_embedding_module",
    "check_padding_prediction",
    "check_prepend_class_token",
    "check_mean_pool",
    "check_class_token_module",
    "check_loose_tensor_prediction",
    "check_position_similarity",
    "check_resize_position_embedding",
    "check_position_table_module",
    "check_slicing_prediction",
]


def _same(a: object, b: torch.Tensor, atol: float = 1e-5) -> bool:
    return is_close(a, b, atol)


def _compare(got: Any, expected: torch.Tensor, what: str, atol: float = 1e-5) -> CheckResult | None:
    """:func:`compare_tensors`, but NaN or inf in the answer is a failure
    (a NaN difference would otherwise compare as "not larger than atol")."""
    if isinstance(got, torch.Tensor) and got.is_floating_point() and not bool(torch.isfinite(got).all()):
        return failed(f"{what} contains NaN or inf values; every entry should be a finite number.")
    return compare_tensors(got, expected, what, atol=atol)


def _code_names(obj: Any, seen: set[int] | None = None) -> set[str]:
    """Every global and attribute name the code of ``obj`` (a function, a
    lambda, a class and its methods) refers to, nested functions included."""
    seen = set() if seen is None else seen
    names: set[str] = set()
    if id(obj) in seen:
        return names
    seen.add(id(obj))
    if isinstance(obj, type):
        for value in vars(obj).values():
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            if isinstance(value, (types.FunctionType, property)):
                names |= _code_names(value.fget if isinstance(value, property) else value, seen)
        return names
    code = getattr(obj, "__code__", None)
    if code is None and callable(obj) and hasattr(type(obj), "__call__"):
        code = getattr(type(obj).__call__, "__code__", None)
    stack = [code] if code is not None else []
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        names.update(c.co_freevars)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return names


def _uses_builtin(fn: Any, forbidden: Iterable[str], exercise: str) -> CheckResult | None:
    """Fail when the learner's answer calls what the exercise asks to rebuild.

    The package's own functions are recognised by their module; anything else
    by the names its code refers to (``F.unfold`` refers to ``unfold``)."""
    module = getattr(fn, "__module__", "") or ""
    if module.startswith("vit_tutorial") or module.startswith("torch"):
        name = getattr(fn, "__qualname__", getattr(fn, "__name__", repr(fn)))
        return failed(f"that is the library's own {name}; the exercise is to write {exercise} yourself.")
    used = sorted(_code_names(fn) & set(forbidden))
    if used:
        return failed(
            f"your code calls {', '.join(used)}, which does this job for you; the exercise is to write "
            f"{exercise} yourself."
        )
    return None


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
    builtin = _uses_builtin(fn, {"num_patches"}, "the count")
    if builtin is not None:
        return builtin
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
            "a reshape alone does not cut the image into patches: it cuts the values, read in row-major "
            "order, into chunks that mix rows of different patches. Reshape to (B, C, H/P, P, W/P, P), "
            "permute, then reshape."
        )
    if _same(got.sort(dim=-1).values, patchify(images, P).sort(dim=-1).values):
        return failed("each row holds the values of the right patch, but in another order inside the patch.")
    return None


def check_patchify(fn: Callable[[torch.Tensor, int], torch.Tensor]) -> CheckResult:
    """Check ``fn(images, P)``: (B, C, H, W) -> (B, N, P*P*C), patches row by
    row, values inside a patch channel first (C, P, P). Answers that call
    ``patchify``, ``unfold``, ``pixel_unshuffle`` or a convolution are refused."""
    builtin = _uses_builtin(fn, {"patchify", "unfold", "Unfold", "conv2d", "Conv2d", "rearrange",
                                 "pixel_unshuffle", "PixelUnshuffle"},
                            "patchify with reshape and permute")
    if builtin is not None:
        return builtin
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
        problem = _compare(got, expected, what)
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
    inverse of :func:`~vit_tutorial.patches.patchify`. Answers that call
    ``unpatchify``, ``fold`` or ``pixel_shuffle`` are refused."""
    builtin = _uses_builtin(fn, {"unpatchify", "fold", "Fold", "rearrange", "pixel_shuffle", "PixelShuffle"},
                            "unpatchify with reshape and permute")
    if builtin is not None:
        return builtin
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
        problem = _compare(got, images, what)
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


def check_patch_index_prediction(n: object, offset: object) -> CheckResult:
    """Check a prediction: in the 3x8x8 image with P = 4, pixel (c, y, x) =
    (1, 5, 2) lands in sequence row ``n`` at position ``offset`` of that row
    (both 0-based). Right: n = 2, offset = 22."""
    c, y, x, P, H, W, C = 1, 5, 2, 4, 8, 8, 3
    right_n = (y // P) * (W // P) + x // P
    right_offset = c * P * P + (y % P) * P + x % P
    got_n, got_offset = _int_answer(n), _int_answer(offset)
    if got_n is None or got_offset is None:
        return failed(f"give two whole numbers, the row n and the offset, got {n!r} and {offset!r}.")
    if got_n != right_n:
        if got_n == (x // P) * (H // P) + y // P:
            return failed(f"row {got_n} counts the grid column by column; patches run row by row, "
                          f"n = (y // P) * (W // P) + x // P.")
        if got_n == right_n + 1:
            return failed(f"row {got_n} counts from 1; the book counts from 0, so patch (1, 0) is row 2.")
        return failed(f"pixel (1, 5, 2) is in grid row 5 // 4 = 1, grid column 2 // 4 = 0, so n = 1 * 2 + 0; "
                      f"you said {got_n}.")
    if got_offset != right_offset:
        if got_offset == ((y % P) * P + x % P) * C + c:
            return failed(f"offset {got_offset} orders the values (row, column, channel); inside a patch "
                          f"they are channel first: offset = c * P*P + (y % P) * P + x % P.")
        if got_offset == (y % P) * P + x % P:
            return failed(f"offset {got_offset} forgets the channel: the 16 red values come first, so a "
                          f"green pixel's offset starts at 16.")
        if got_offset == right_offset + 1:
            return failed(f"offset {got_offset} counts from 1; the book counts from 0.")
        return failed(f"the row is right; the offset is c * P*P + (y % P) * P + x % P, not {got_offset}.")
    return passed("row 2 (grid row 1, column 0), offset 1*16 + 1*4 + 2 = 22: the value 106 of the arange image.")


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
    builtin = _uses_builtin(fn, {"copy_conv_to_linear", "LinearPatchEmbedding"}, "the weight copy")
    if builtin is not None:
        return builtin
    linear, err = call_learner(fn, conv)
    if err is not None:
        return err
    if not torch.equal(conv.weight, snapshot[0]) or not torch.equal(conv.bias, snapshot[1]):
        return failed("your function changed the conv's weights; copy them into a new layer instead.")
    if type(linear) is not nn.Linear:
        return failed(f"return a plain nn.Linear (not a subclass or a wrapper), got {type(linear).__name__}.")
    K = C * P * P
    if (linear.in_features, linear.out_features) != (K, D):
        hint = " In and out are swapped." if (linear.in_features, linear.out_features) == (D, K) else ""
        return failed(
            f"your layer maps {linear.in_features} -> {linear.out_features} features; it should map "
            f"C*P*P = {K} patch values to D = {D} token features.{hint}"
        )
    with torch.no_grad():
        got = linear(patchify(images, P))  # (B, N, D)
    problem = _compare(got, expected, "the tokens of your linear layer", atol=1e-4)
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


def _build_module(cls: Any, *args: Any) -> tuple[nn.Module | None, CheckResult | None]:
    """Instantiate the learner's module class; a crash or a non-module is a failure."""
    if not isinstance(cls, type):
        return None, failed(f"pass the class itself (the name after `class`), got {type(cls).__name__}.")
    module, err = call_learner(cls, *args)
    if err is not None:
        return None, err
    if not isinstance(module, nn.Module):
        return None, failed(f"{cls.__name__} should subclass nn.Module, but it builds a {type(module).__name__}.")
    return module, None


def _one_sgd_step(module: nn.Module, inputs: torch.Tensor) -> CheckResult | None:
    """One SGD step on everything ``module.parameters()`` lists; fails when
    there is nothing to train or nothing changes."""
    params = list(module.parameters())
    if not params:
        return failed(
            "module.parameters() is empty, so no optimiser can train it. Create the learnable part once, "
            "in __init__, as an nn.Parameter or a layer attribute."
        )
    before = [p.detach().clone() for p in params]
    optimizer = torch.optim.SGD(params, lr=0.1)
    out = module(inputs)
    if not out.requires_grad:
        return failed("the output does not depend on any parameter, so training cannot change it.")
    weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(7), dtype=out.dtype)
    (out * weights).sum().backward()  # a loss whose gradient is not zero at a zero start
    optimizer.step()
    if all(torch.equal(b, p.detach()) for b, p in zip(before, params)):
        return failed("one SGD step on module.parameters() changed nothing: the output does not use them.")
    return None


def check_embedding_parameters(fn: Callable[[int, int, int], int]) -> CheckResult:
    """Check ``fn(C, P, D)``: the parameter count of a patch embedding
    (a D x C x P x P kernel and D biases)."""
    cases = [("ViT-B/16", 3, 16, 768), ("ViT-L/16", 3, 16, 1024), ("ViT-H/14", 3, 14, 1280), ("ViT-Tiny", 1, 4, 64)]
    builtin = _uses_builtin(fn, {"count_parameters", "numel", "parameters", "PatchEmbedding", "Conv2d"},
                            "the count from C, P and D")
    if builtin is not None:
        return builtin
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


def check_patch_embedding_module(cls: Any) -> CheckResult:
    """Check a class ``cls(in_channels, dim, patch_size)``: the fix of the
    article's ``image2emb_conv``. The module must map (B, C, H, W) to
    (B, N, D), give the same tokens on every call, keep its weights in
    ``parameters()`` and ``state_dict()``, be trained by an optimiser, move
    with ``.to()``, and compute each token from its own patch only. Answers
    that reuse the package's ``PatchEmbedding`` are refused."""
    builtin = _uses_builtin(cls, {"PatchEmbedding", "LinearPatchEmbedding", "article_style_patch_tokens"},
                            "the module")
    if builtin is not None:
        return builtin
    C, D, P = 3, 10, 4
    module, err = _build_module(cls, C, D, P)
    if err is not None:
        return err
    gen = torch.Generator().manual_seed(4)
    images = torch.randn(2, C, 8, 12, generator=gen)  # (B, C, H, W): N = 2 * 3 = 6
    first, err = call_learner(module, images)
    if err is not None:
        return err
    expected_shape = (2, 6, D)
    if not isinstance(first, torch.Tensor) or tuple(first.shape) != expected_shape:
        shape = tuple(first.shape) if isinstance(first, torch.Tensor) else type(first).__name__
        hint = " That is (B, D, N): transpose the last two axes." if shape == (2, D, 6) else ""
        return failed(f"for images (2, 3, 8, 12) with P = 4 and D = 10 the output is {shape}, expected "
                      f"(B, N, D) = {expected_shape}.{hint}")
    if not bool(torch.isfinite(first).all()):
        return failed("the tokens contain NaN or inf values.")
    second = module(images)
    if not torch.equal(first, second):
        return failed(
            "the same images give different tokens on two calls: a new layer with new random weights is "
            "created inside forward. Create it once, in __init__."
        )
    n_params = sum(p.numel() for p in module.parameters())
    if n_params != D * C * P * P + D:
        return failed(f"the module has {n_params} parameters; a patch embedding with C=3, P=4, D=10 has "
                      f"D*C*P*P + D = {D * C * P * P + D}. Are all the weights registered?")
    if sum(t.numel() for t in module.state_dict().values()) < n_params:
        return failed("some weights are missing from state_dict(), so a saved checkpoint would lose them.")
    local = images.clone()
    local[:, :, :4, :4] += 1.0  # change patch 0 only
    with torch.no_grad():
        moved = module(local) - module(images)  # (B, N, D)
    if bool(moved[:, 1:].abs().max() > 1e-5):
        return failed("changing patch 0 changed other tokens too: each token must depend on its own patch only "
                      "(kernel size = stride = P, no padding).")
    problem = _one_sgd_step(module, images)
    if problem is not None:
        return problem
    module = module.to(torch.float64)
    if any(p.dtype != torch.float64 for p in module.parameters()) or module(images.double()).dtype != torch.float64:
        return failed(".to(torch.float64) did not move every weight; keep them as registered parameters.")
    return passed("the layer is created once: same tokens on every call, weights saved, trained and moved.")


def check_padding_prediction(grid_side: object, same_as_linear: object) -> CheckResult:
    """Check a prediction about ``nn.Conv2d(3, 768, 16, stride=16, padding=1)``
    on a 224 x 224 image: the side of its output grid, and whether its tokens
    still equal ``patchify`` + a linear layer with the same weights.
    Right: 14, and False."""
    side = _int_answer(grid_side)
    if side is None:
        return failed(f"give the grid side as a whole number, got {grid_side!r}.")
    if not isinstance(same_as_linear, bool):
        return failed(f"give True or False for the second answer, got {same_as_linear!r}.")
    if side != 14:
        if side == 15:
            return failed("15 would need 226 = 15 * 16 + 16 pixels. The output side is "
                          "(224 + 2*1 - 16) // 16 + 1 = 14: the padded image still holds only 14 whole windows.")
        return failed(f"the output side is (H + 2*padding - P) // P + 1 = (224 + 2 - 16) // 16 + 1 = 14, not {side}.")
    if same_as_linear:
        return failed(
            "the shape is the same, (B, 768, 14, 14), but every window is shifted one pixel up and left and "
            "the first row and column of windows read the zero padding. The windows are no longer the patches, "
            "so the tokens differ from patchify + linear."
        )
    return passed("14 x 14 again, yet different tokens: the windows no longer line up with the patches. "
                  "conv = per-patch linear needs padding=0 and dilation=1; copying the weight by a plain reshape "
                  "also needs groups=1 (all three are the defaults).")


# ---------------------------------------------------------------- chapter 3


def check_prepend_class_token(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> CheckResult:
    """Check ``fn(tokens, cls)``: tokens (B, N, D) and one class token
    (1, 1, D) -> (B, N+1, D) with the class token first in every sequence."""
    gen = torch.Generator().manual_seed(0)
    B, N, D = 3, 4, 5
    tokens = torch.randn(B, N, D, generator=gen)  # (B, N, D)
    cls = torch.randn(1, 1, D, generator=gen)  # (1, 1, D)
    expected = torch.cat([cls.expand(B, 1, D), tokens], dim=1)  # (B, N+1, D)
    builtin = _uses_builtin(fn, {"ClassToken"}, "the prepend")
    if builtin is not None:
        return builtin
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
    problem = _compare(got, expected, what)
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
    builtin = _uses_builtin(fn, {"pool", "adaptive_avg_pool1d", "avg_pool1d"}, "the average")
    if builtin is not None:
        return builtin
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
    problem = _compare(got, expected, what)
    if problem is not None:
        return problem
    return passed("global average pooling: the mean of the N patch tokens, one D-vector per image.")


def check_class_token_module(cls: Any) -> CheckResult:
    """Check a class ``cls(dim)``: the fix of the article's loose class token.
    The module must prepend one vector, the same for every image, as its one
    registered parameter of shape (1, 1, D); it must be in ``state_dict()``,
    trained by an optimiser over ``parameters()`` and moved by ``.to()``.
    Answers that reuse the package's ``ClassToken`` are refused."""
    builtin = _uses_builtin(cls, {"ClassToken"}, "the module")
    if builtin is not None:
        return builtin
    D = 6
    module, err = _build_module(cls, D)
    if err is not None:
        return err
    gen = torch.Generator().manual_seed(5)
    tokens = torch.randn(3, 4, D, generator=gen)  # (B, N, D)
    out, err = call_learner(module, tokens)
    if err is not None:
        return err
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (3, 5, D):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        return failed(f"for tokens (3, 4, {D}) the output is {shape}, expected (B, N+1, D) = (3, 5, {D}).")
    params = list(module.named_parameters())
    if not params:
        return failed(
            "module.parameters() is empty: a tensor made with requires_grad=True is not registered. "
            "Wrap it in nn.Parameter (self.token = nn.Parameter(...)) so optimisers, state_dict and .to() see it."
        )
    if len(params) != 1 or tuple(params[0][1].shape) != (1, 1, D):
        shapes = [tuple(p.shape) for _, p in params]
        return failed(f"expected exactly one parameter of shape (1, 1, D) = (1, 1, {D}), got {shapes}. "
                      f"One vector is shared by all images; expand makes the batch.")
    name, token = params[0]
    if name not in module.state_dict():
        return failed("the token is missing from state_dict(), so a checkpoint would lose it.")
    if not torch.equal(out[:, 1:], tokens):
        return failed("the patch tokens must follow unchanged, after the class token at position 0.")
    if not (torch.equal(out[0, 0], out[1, 0]) and torch.equal(out[0, 0], out[2, 0])):
        return failed("token 0 differs between images; the class token is one vector shared by all of them.")
    if not torch.equal(out[0, 0], token.detach()[0, 0]):
        return failed("token 0 of the output is not the registered parameter; prepend the parameter itself.")
    if float(token.detach().abs().max()) > 0.5:
        return failed(
            "the token starts large (like the article's std-1 randn). Start it small: zeros, as the official "
            "ViT code does, or a normal with std 0.02, as DeiT and this book do."
        )
    again = module(tokens)
    if not torch.equal(again, out):
        return failed("two calls give different class tokens: draw the vector once, in __init__, not in forward.")
    problem = _one_sgd_step(module, tokens)
    if problem is not None:
        return problem
    module = module.to(torch.float64)
    if next(module.parameters()).dtype != torch.float64:
        return failed(".to(torch.float64) did not move the token.")
    return passed("one registered (1, 1, D) parameter, shared by every image: trained, saved and moved.")


def check_loose_tensor_prediction(has_grad: object, changed: object, saved: object) -> CheckResult:
    """Check a prediction about the article's loose class token, a tensor made
    with ``torch.randn(..., requires_grad=True)`` and stored on a module,
    after one ``loss.backward()`` and one SGD step over ``module.parameters()``:
    does it have a gradient, did the step change it, is it in ``state_dict()``?
    Right: True, False, False."""
    answers = (has_grad, changed, saved)
    if not all(isinstance(a, bool) for a in answers):
        return failed(f"answer each question with True or False, got {answers!r}.")
    if not has_grad:
        return failed("it does get a gradient: requires_grad=True is exactly what asks autograd to compute one.")
    if changed:
        return failed(
            "the step does not change it: the optimiser was built from module.parameters(), and a plain "
            "tensor is not among them, so its gradient is computed and never applied."
        )
    if saved:
        return failed("state_dict() holds registered parameters and buffers only; a plain tensor attribute is not saved.")
    return passed("a gradient, but no update and no checkpoint: requires_grad is not registration.")


# ---------------------------------------------------------------- chapter 4


def check_position_similarity(fn: Callable[[torch.Tensor], torch.Tensor]) -> CheckResult:
    """Check ``fn(table)``: a position table (1, N+1, D) -> the (N, N) cosine
    similarities between the patches' rows (the class token's row left out)."""
    gen = torch.Generator().manual_seed(2)
    N, D = 9, 8
    table = torch.randn(1, N + 1, D, generator=gen) + 0.5  # (1, N+1, D)
    rows = table[0, 1:]  # (N, D)
    expected = F.cosine_similarity(rows[:, None, :], rows[None, :, :], dim=-1)  # (N, N)
    builtin = _uses_builtin(fn, {"position_similarity", "cosine_similarity", "patch_cosine_similarity",
                                 "position_embedding_similarity"},
                            "the similarity from dot products and norms")
    if builtin is not None:
        return builtin
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
    problem = _compare(got, expected, what, atol=1e-4)
    if problem is not None:
        return problem
    return passed("cosine similarity of every pair of patch positions, 1 on the diagonal.")


def _diagnose_resize(got: object, expected: torch.Tensor, table: torch.Tensor, n: int, m: int,
                     what: str) -> CheckResult | None:
    """Name the known wrong resizes of ``table`` (1, 1+n*n, D) to an m x m grid, or return None."""
    D = table.shape[-1]
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
            if _same(got, variant(square, mode="bilinear", align_corners=True), 1e-4):
                return failed(
                    "these are linear values with corners aligned: what the official ViT code computes "
                    "(scipy.ndimage.zoom(..., order=1)). A valid choice, but this exercise asks for the "
                    "book's (DeiT's): mode='bicubic', align_corners=False."
                )
            timm_like = variant(square, mode="bicubic", align_corners=False, antialias=True)
            if _same(got, timm_like, 1e-4) and not _same(expected, timm_like, 1e-4):
                return failed(
                    "these are bicubic values with antialias=True: what timm's resample_abs_pos_embed "
                    "computes by default. A valid choice, but this exercise asks for DeiT's (and the book's): "
                    "no anti-aliasing, antialias=False."
                )
            if _same(got, variant(square, mode="bilinear", align_corners=False), 1e-4):
                return failed("these are bilinear values; this exercise asks for mode='bicubic' "
                              "(DeiT's choice, and the book's).")
            if _same(got, variant(square, mode="bicubic", align_corners=True), 1e-4):
                return failed("use align_corners=False (the values differ at the borders).")
            if _same(got, variant(square.transpose(2, 3), mode="bicubic", align_corners=False), 1e-4):
                return failed("the grid came out transposed: rows and columns are swapped.")
    return None


def check_resize_position_embedding(fn: Callable[[torch.Tensor, int], torch.Tensor]) -> CheckResult:
    """Check ``fn(table, new_side)``: a table (1, 1 + n*n, D) resized to
    (1, 1 + m*m, D) by bicubic interpolation of the patch grid
    (``align_corners=False``, no anti-aliasing: DeiT's choice, which the book
    uses), the class token's row kept unchanged. The official ViT code's
    linear interpolation and timm's anti-aliased bicubic are recognised and
    named. Answers that call the package's
    ``resize_position_embedding`` are refused."""
    builtin = _uses_builtin(fn, {"resize_position_embedding", "resample_abs_pos_embed"}, "the resize")
    if builtin is not None:
        return builtin
    gen = torch.Generator().manual_seed(3)
    n, m, D = 4, 6, 8
    table = torch.randn(1, 1 + n * n, D, generator=gen)  # (1, 1+n*n, D)
    expected = resize_position_embedding(table, m)  # (1, 1+m*m, D)
    got, err = call_learner(fn, table.clone(), m)
    if err is not None:
        return err
    what = f"resizing a (1, {1 + n * n}, {D}) table to a {m}x{m} grid, your output"
    diagnosis = _diagnose_resize(got, expected, table, n, m, what)
    if diagnosis is not None:
        return diagnosis
    problem = _compare(got, expected, what, atol=1e-4)
    if problem is not None:
        return problem
    return passed(f"the {n}x{n} grid of position vectors is now a smooth {m}x{m} grid; the class token's row is kept.")


def _check_table_spread(cls: Any, T: int, D: int) -> CheckResult | None:
    """The start of a bigger table built by ``cls``: std about 0.02 (not 1, not 0), else None."""
    torch.manual_seed(0)
    big = cls(4 * T, 2 * D)  # more numbers for a steadier spread
    spread = float(next(big.parameters()).detach().std())
    if spread > 0.2:
        return failed(
            f"the table starts with std {spread:.2f} (the article's randn has std 1), larger than the patch "
            f"tokens themselves (std about 0.3 in chapter 3), so position would drown the content at the start. "
            f"Use std 0.02, as the official code and timm do."
        )
    if spread < 1e-3:
        return failed("the table starts at zero: every position then looks the same at the start. Draw it from "
                      "a normal distribution with std 0.02.")
    return None


def _check_other_length(module: Any, T: int, D: int, gen: torch.Generator) -> CheckResult | None:
    """A sequence of another length must raise ValueError (not be sliced); else None."""
    try:
        module(torch.randn(3, T - 5, D, generator=gen))
    except ValueError:
        pass
    except Exception as exc:
        return failed(f"a sequence of another length should raise ValueError, got {type(exc).__name__}: {exc}")
    else:
        return failed(
            f"a sequence of {T - 5} tokens was accepted. Slicing the first rows gives patches the vectors of "
            f"other grid cells (the article's silent bug): raise ValueError and resize the table instead."
        )
    return None


def check_position_table_module(cls: Any) -> CheckResult:
    """Check a class ``cls(num_tokens, dim)``: the fix of the article's
    position table (a loose ``randn(1000, D)`` sliced to the sequence length
    and copied with ``torch.tile``). The module must hold one registered
    parameter of shape (1, T, D) with a small start (std about 0.02), add it
    to (B, T, D) tokens by broadcasting (no ``tile``/``repeat``), and raise
    ValueError for a sequence of another length instead of slicing. Answers
    that reuse the package's position modules are refused."""
    builtin = _uses_builtin(cls, {"LearnedPositionEmbedding", "SinCosPositionEmbedding", "tile", "repeat"},
                            "the table and its broadcast add")
    if builtin is not None:
        if any(w in builtin.message for w in ("tile", "repeat")):
            return failed("no tile or repeat is needed: adding a (1, T, D) table to (B, T, D) tokens broadcasts "
                          "over the batch without copying it.")
        return builtin
    T, D = 17, 8
    module, err = _build_module(cls, T, D)
    if err is not None:
        return err
    params = list(module.parameters())
    if not params:
        return failed("module.parameters() is empty: wrap the table in nn.Parameter so it is trained and saved.")
    if len(params) != 1 or tuple(params[0].shape) not in {(1, T, D), (T, D)}:
        return failed(f"expected one parameter of shape (1, T, D) = (1, {T}, {D}), got "
                      f"{[tuple(p.shape) for p in params]}. One row per token of this model, not 1000.")
    table = params[0].detach()
    problem = _check_table_spread(cls, T, D)
    if problem is not None:
        return problem
    gen = torch.Generator().manual_seed(6)
    tokens = torch.randn(3, T, D, generator=gen)  # (B, T, D)
    out, err = call_learner(module, tokens)
    if err is not None:
        return err
    problem = _compare(out, tokens + table.reshape(1, T, D), f"for tokens (3, {T}, {D}) your output")
    if problem is not None:
        return problem
    problem = _check_other_length(module, T, D, gen)
    if problem is not None:
        return problem
    problem = _one_sgd_step(module, tokens)
    if problem is not None:
        return problem
    return passed("one (1, T, D) parameter, a small start, a broadcast add, and a loud error for another length.")


def check_slicing_prediction(old_cell: object, new_cell: object) -> CheckResult:
    """Check a prediction about the article's sliced table: row 15 of the
    table belongs, at 224 x 224 (a 14 x 14 grid, class token in row 0), to
    the patch in grid cell ``old_cell`` = (row, column). At 384 x 384 (24 x 24)
    the slice hands the same row to ``new_cell``. Right: (1, 0) and (0, 14)."""
    def cell(value: object) -> tuple[int, int] | None:
        if isinstance(value, (tuple, list)) and len(value) == 2:
            a, b = _int_answer(value[0]), _int_answer(value[1])
            if a is not None and b is not None:
                return a, b
        return None

    old, new = cell(old_cell), cell(new_cell)
    if old is None or new is None:
        return failed(f"give each cell as a (row, column) pair of whole numbers, got {old_cell!r}, {new_cell!r}.")
    if old != (1, 0):
        if old == (1, 1):
            return failed("(1, 1) forgets the class token: table row 15 is patch 14, and patch 14 is the first "
                          "patch of grid row 1, cell (1, 0).")
        if old == (0, 14) or old == (14, 0):
            return failed("a 14-wide grid has columns 0 to 13: patch 14 starts grid row 1, cell (1, 0).")
        return failed(f"table row 15 is patch 14 (row 0 is the class token); in a 14-wide grid that is "
                      f"cell (14 // 14, 14 % 14) = (1, 0), not {old}.")
    if new != (0, 14):
        if new == (1, 0):
            return failed("that is what resizing the table would give. Slicing keeps row 15 at patch 14, and in a "
                          "24-wide grid patch 14 is cell (14 // 24, 14 % 24) = (0, 14).")
        return failed(f"in a 24-wide grid patch 14 is cell (14 // 24, 14 % 24) = (0, 14), not {new}.")
    return passed("the vector learned for the start of grid row 1, (1, 0), now sits on the top row at (0, 14): "
                  "no error, wrong positions.")
