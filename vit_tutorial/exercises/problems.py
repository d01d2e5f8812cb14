"""Self-checks for chapters 11 (ViT's problems, measured) and 12 (after ViT).

Each check runs the learner's function on fixed inputs, compares it with the
package's reference and, when they differ, recognises the usual slips (a fit
in linear instead of log-log space, whole maps compared instead of rows, a
reshape without the permute, a forgotten residual ...).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..position import resize_position_embedding
from ..variants.collapse import consecutive_layer_similarity
from ..variants.cost import fit_power_law, window_attention_flops
from ..variants.window_attention import window_partition
from ._core import CheckResult, call_learner, compare_tensors, failed, is_close, passed

__all__ = [
    "check_fitted_exponent",
    "check_error_slope",
    "check_layer_similarity",
    "check_centred_position_table",
    "check_window_partition",
    "check_peg",
    "check_window_flops",
]


def _close(a: object, b: torch.Tensor, atol: float = 1e-5) -> bool:
    return is_close(a, b, atol)


def _as_float(value: object) -> float | None:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


# ---------------------------------------------------------------- chapter 11


def _timing_data() -> tuple[list[float], list[float]]:
    """Made-up timings: a linear part, a quadratic part and some noise."""
    rng = np.random.default_rng(11)
    n = [64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0]
    t = [(2e-4 * v + 3e-7 * v * v) * math.exp(0.08 * rng.standard_normal()) for v in n]
    return n, t


def check_fitted_exponent(fn: Callable) -> CheckResult:
    """Check ``fn(n, t) -> k``: the least-squares slope of log t against log n."""
    n, t = _timing_data()
    expected, _ = fit_power_law(n, t)
    got, err = call_learner(fn, list(n), list(t))
    if err is not None:
        return err
    if isinstance(got, (tuple, list)):
        return failed("return only the exponent k (one number), not a tuple.")
    k = _as_float(got)
    if k is None:
        return failed(f"return the exponent as a number, got {type(got).__name__}.")
    if abs(k - expected) < 1e-6:
        return passed(f"the slope of the log-log fit is {expected:.3f} on the check's own synthetic timings; "
                      "their linear part keeps it below 2, and fitting only the large sizes would bring it closer.")
    ln, lt = np.log(n), np.log(t)
    known = {
        "you fitted a straight line to t against n: the slope of a power law is the slope of log t against log n.":
            float(np.polyfit(n, t, 1)[0]),
        "only t is on a log scale: take the logarithm of n too.": float(np.polyfit(n, lt, 1)[0]),
        "the two logarithms have different bases (e.g. log10 of t and ln of n): use the same for both.":
            float(np.polyfit(ln, np.log10(t), 1)[0]),
        "that is the slope between the first and last points only: fit all the points by least squares "
        "(np.polyfit(log n, log t, 1)).": float((lt[-1] - lt[0]) / (ln[-1] - ln[0])),
        "you returned the intercept of the fit; the exponent is the slope (the first value np.polyfit returns).":
            float(np.polyfit(ln, lt, 1)[1]),
        "you swapped the axes: fit log t (y) against log n (x), not log n against log t.":
            float(np.polyfit(lt, ln, 1)[0]),
    }
    for message, wrong in known.items():
        if abs(k - wrong) < 1e-6:
            return failed(message)
    return failed(f"your exponent is {k:.4f}, the least-squares log-log slope is {expected:.4f}.")


def check_error_slope(fn: Callable) -> CheckResult:
    """Check ``fn(sizes, accuracies) -> k``: the least-squares slope of
    log(error) = log(1 - accuracy) against log(training images)."""
    sizes = [300, 1000, 3000, 10000, 30000]
    accuracies = [1 - 0.9 * n ** -0.45 * (1 + 0.04 * (-1) ** i) for i, n in enumerate(sizes)]
    expected = float(np.polyfit(np.log(sizes), np.log(1 - np.asarray(accuracies)), 1)[0])
    got, err = call_learner(fn, list(sizes), list(accuracies))
    if err is not None:
        return err
    if isinstance(got, (tuple, list)):
        return failed("return only the slope k (one number), not a tuple.")
    k = _as_float(got)
    if k is None:
        return failed(f"return the slope as a number, got {type(got).__name__}.")
    if abs(k - expected) < 1e-6:
        return passed(f"the slope of log error against log n is {expected:.3f} on the check's own synthetic "
                      "curve (made with -0.45 plus a little noise). Two models with the same slope keep the same "
                      "error ratio at every size, however the gap in accuracy points changes.")
    ln, acc = np.log(sizes), np.asarray(accuracies)
    le = np.log(1 - acc)
    known = {
        "you fitted log(accuracy): the curve that falls as a power law is the error, 1 - accuracy.":
            float(np.polyfit(ln, np.log(acc), 1)[0]),
        "you fitted the accuracy itself against log n: take the logarithm of the error.":
            float(np.polyfit(ln, acc, 1)[0]),
        "only the error is on a log scale: take the logarithm of the number of images too.":
            float(np.polyfit(sizes, le, 1)[0]),
        "that is the slope between the first and last points only: fit all the points by least squares.":
            float((le[-1] - le[0]) / (ln[-1] - ln[0])),
        "you returned the intercept; the slope is the first value np.polyfit returns.":
            float(np.polyfit(ln, le, 1)[1]),
        "the two logarithms have different bases: use the same for both.":
            float(np.polyfit(ln, np.log10(1 - acc), 1)[0]),
    }
    for message, wrong in known.items():
        if abs(k - wrong) < 1e-6:
            return failed(message)
    return failed(f"your slope is {k:.4f}; the least-squares slope of log(1 - accuracy) against log n is "
                  f"{expected:.4f}.")


def _attention_maps() -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(12)
    maps = []
    base = torch.randn(2, 3, 6, 6, generator=g)
    for layer in range(4):
        scores = base * (1 + layer) + torch.randn(2, 3, 6, 6, generator=g) * (2 - 0.4 * layer)
        maps.append(scores.softmax(dim=-1))  # (B, h, T, T)
    return maps


def check_layer_similarity(fn: Callable) -> CheckResult:
    """Check ``fn(attentions) -> (L-1,)``: DeepViT's cross-layer similarity of
    consecutive layers: for each layer l, head h and input token t, the cosine
    of the columns A^l[h, :, t] and A^{l+1}[h, :, t] (how much token t
    contributes to every output token), averaged over images, heads and tokens."""
    maps = _attention_maps()
    expected = consecutive_layer_similarity(maps)  # (L-1,), columns
    got, err = call_learner(fn, [m.clone() for m in maps])
    if err is not None:
        return err
    A = torch.stack(maps)  # (L, B, h, T, T)
    flat = F.normalize(A.flatten(1), dim=-1)  # (L, B*h*T*T): one vector per layer
    whole = (flat[:-1] * flat[1:]).sum(-1)  # (L-1,)
    per_map = F.normalize(A.flatten(3), dim=-1)  # (L, B, h, T*T)
    maps_sim = (per_map[:-1] * per_map[1:]).sum(-1).mean(dim=(1, 2))  # (L-1,)
    row_sim = consecutive_layer_similarity(maps, orientation="rows")  # (L-1,)
    dot = (A[:-1] * A[1:]).sum(-2).mean(dim=(1, 2, 3))  # (L-1,) columns without normalising
    mistakes = {
        "you compared each layer's maps as one long vector: compare them token by token (one column at a "
        "time), then average.": whole,
        "you compared whole T x T maps per head; DeepViT's measure compares each input token's column, then "
        "averages.": maps_sim,
        "you compared rows (each query's distribution over the keys, dim=-1). That is a reasonable analogue, "
        "but DeepViT compares columns: A[..., :, t], how much input token t contributes to every output token "
        "(normalise and sum over dim=-2).": row_sim,
        "the columns were not normalised: a cosine similarity divides the dot product by both lengths.": dot,
        "that compares each layer with itself: pair layer l with layer l+1.": torch.ones(len(maps) - 1),
    }
    for message, wrong in mistakes.items():
        if _close(got, wrong, 1e-4) and not _close(got, expected, 1e-4):
            return failed(message)
    problem = compare_tensors(got, expected, "the similarities", atol=1e-4)
    if problem is not None:
        return problem
    return passed("DeepViT's similarity of consecutive layers (cosine of each input token's column), averaged "
                  "over images, heads and tokens; on the check's own random maps: "
                  f"{', '.join(f'{v:.3f}' for v in expected.tolist())}.")


def _centred_table(table: torch.Tensor, m: int, before: int | None = None, fill: str = "replicate") -> torch.Tensor:
    """The n x n grid of ``table`` (1, 1 + n*n, D) in an m x m grid, ``before``
    rows/columns before it (default (m - n) // 2), borders by ``fill``."""
    cls, grid = table[:, :1], table[:, 1:]  # (1, 1, D), (1, n*n, D)
    _, n2, D = grid.shape
    n = math.isqrt(n2)
    lo = (m - n) // 2 if before is None else before
    hi = m - n - lo
    fmap = grid.reshape(1, n, n, D).permute(0, 3, 1, 2)  # (1, D, n, n)
    if fill == "replicate":
        fmap = F.pad(fmap, (lo, hi, lo, hi), mode="replicate")  # (1, D, m, m)
    else:
        fmap = F.pad(fmap, (lo, hi, lo, hi), value=0.0)
    return torch.cat([cls, fmap.permute(0, 2, 3, 1).reshape(1, m * m, D)], dim=1)  # (1, 1 + m*m, D)


def check_centred_position_table(fn: Callable) -> CheckResult:
    """Check ``fn(table, new_grid) -> table``: a learned table (1, 1 + n*n, D)
    for digits that keep their size on a bigger canvas. The old n x n grid
    goes in the middle of the new m x m grid ((m - n) // 2 rows and columns
    before it, the rest after, as the images are padded), every border entry
    copies the nearest old entry, and the class token's entry is unchanged."""
    g = torch.Generator().manual_seed(15)
    n, D = 3, 5
    table = torch.randn(1, 1 + n * n, D, generator=g)
    for m in (6, 7, 3):
        expected = _centred_table(table, m)
        got, err = call_learner(fn, table.clone(), m)
        if err is not None:
            return err
        where = f"for a {n}x{n} grid put in a {m}x{m} one"
        if isinstance(got, torch.Tensor) and tuple(got.shape) == (1, m * m, D):
            return failed(f"{where}, the class token's entry is missing: keep table[:, :1] in front of the grid.")
        mistakes = {
            "that stretches the old grid over the new one, right for enlarged digits; here the digits keep "
            "their size, so the old entries keep theirs: copy them into the middle of the new grid.":
                resize_position_embedding(table, m) if m != n else None,
            "the border entries are zeros: copy the nearest old entry (replicate padding), so that an empty "
            "border patch is placed like the old grid's edge.": _centred_table(table, m, fill="zeros"),
            "the old grid sits in a corner: put (m - n) // 2 rows and columns before it and the rest after.":
                _centred_table(table, m, before=0),
            "the odd extra row and column went before the old grid; the images are padded with "
            "(m - n) // 2 pixels before and the rest after, so the table must follow.":
                _centred_table(table, m, before=m - n - (m - n) // 2),
        }
        for message, wrong in mistakes.items():
            if wrong is not None and _close(got, wrong) and not _close(got, expected):
                return failed(message)
        problem = compare_tensors(got, expected, f"the table {where}")
        if problem is not None:
            return problem
    return passed("the old grid sits in the middle of the bigger one, the border repeats its edge and the class "
                  "token is untouched: a digit that keeps its size and place keeps its position embeddings.")


# ---------------------------------------------------------------- chapter 12


def check_window_partition(fn: Callable) -> CheckResult:
    """Check ``fn(x, w) -> windows``: x (B, Hg, Wg, D) to (B * nW, w*w, D),
    windows in row-major order, tokens row-major inside each window."""
    g = torch.Generator().manual_seed(13)
    B, Hg, Wg, D, w = 2, 6, 9, 5, 3
    x = torch.randn(B, Hg, Wg, D, generator=g)
    expected = window_partition(x, w)
    got, err = call_learner(fn, x.clone(), w)
    if err is not None:
        return err
    nW = (Hg // w) * (Wg // w)
    mistakes = {
        "a plain reshape cuts the grid into strips of w*w consecutive tokens of one row, not w x w squares: "
        "reshape to (B, Hg/w, w, Wg/w, w, D) and bring the two window axes together with a permute first.":
            x.reshape(-1, w * w, D),
        "the windows are in column-major order: after the permute the axes should be (B, Hg/w, Wg/w, w, w, D).":
            x.reshape(B, Hg // w, w, Wg // w, w, D).permute(0, 3, 1, 2, 4, 5).reshape(-1, w * w, D),
        "the tokens inside each window are transposed (column by column): keep (row, col) order inside the "
        "window, permute(0, 1, 3, 2, 4, 5).":
            x.reshape(B, Hg // w, w, Wg // w, w, D).permute(0, 1, 3, 4, 2, 5).reshape(-1, w * w, D),
    }
    if isinstance(got, torch.Tensor) and tuple(got.shape) == (B, nW, w * w, D):
        return failed(f"merge the batch and window axes: expected shape (B * nW, w*w, D) = {tuple(expected.shape)}, "
                      f"got {tuple(got.shape)}.")
    for message, wrong in mistakes.items():
        if _close(got, wrong) and not _close(got, expected):
            return failed(message)
    problem = compare_tensors(got, expected, "the windows")
    if problem is not None:
        return problem
    return passed(f"a {Hg}x{Wg} grid cut into {nW} windows of {w}x{w} tokens per image: "
                  f"{tuple(x.shape)} -> {tuple(expected.shape)}.")


def _peg_reference(x: torch.Tensor, conv: nn.Conv2d, grid: tuple[int, int]) -> torch.Tensor:
    B, T, D = x.shape
    Hg, Wg = grid
    cls, patches = x[:, :1], x[:, 1:]  # (B, 1, D), (B, N, D)
    fmap = patches.transpose(1, 2).reshape(B, D, Hg, Wg)  # (B, D, Hg, Wg)
    patches = (fmap + conv(fmap)).flatten(2).transpose(1, 2)  # (B, N, D)
    return torch.cat([cls, patches], dim=1)  # (B, 1+N, D)


def check_peg(fn: Callable) -> CheckResult:
    """Check ``fn(x, conv, grid) -> y``: x (B, 1+N, D) with a class token
    first; the patch tokens, laid out on their (Hg, Wg) grid as a map
    (B, D, Hg, Wg), get ``conv(map)`` added; the class token passes unchanged."""
    torch.manual_seed(14)
    B, Hg, Wg, D = 2, 3, 4, 6
    conv = nn.Conv2d(D, D, 3, padding=1, groups=D)
    x = torch.randn(B, 1 + Hg * Wg, D)
    with torch.no_grad():
        expected = _peg_reference(x, conv, (Hg, Wg))
        got, err = call_learner(fn, x.clone(), conv, (Hg, Wg))
        if err is not None:
            return err
        cls, patches = x[:, :1], x[:, 1:]
        fmap = patches.transpose(1, 2).reshape(B, D, Hg, Wg)
        no_residual = torch.cat([cls, conv(fmap).flatten(2).transpose(1, 2)], dim=1)
        bad_map = patches.reshape(B, D, Hg, Wg)  # a reshape without the transpose
        bad_layout = torch.cat([cls, (bad_map + conv(bad_map)).reshape(B, Hg * Wg, D)], dim=1)
        cls_dropped = (fmap + conv(fmap)).flatten(2).transpose(1, 2)
    mistakes = {
        "the residual is missing: PEG adds the conv's output to the tokens (x + conv(x)).": no_residual,
        "the tokens were put on the grid with a plain reshape: (B, N, D) must be transposed to (B, D, N) before "
        "it is reshaped to (B, D, Hg, Wg), and back the same way.": bad_layout,
        "the class token was dropped: put it back in front of the patch tokens.": cls_dropped,
    }
    for message, wrong in mistakes.items():
        if _close(got, wrong) and not _close(got, expected):
            return failed(message)
    problem = compare_tensors(got, expected, "the tokens")
    if problem is not None:
        return problem
    return passed("the patch tokens went through the depthwise conv on their grid and kept a residual; "
                  "the class token passed unchanged.")


def check_window_flops(fn: Callable) -> CheckResult:
    """Check ``fn(N, D, w) -> int``: FLOPs (multiply-add = 2) of one window
    attention layer on N tokens of width D with w x w windows."""
    for N, D, w in ((196, 64, 7), (3136, 96, 7), (4096, 32, 8)):
        got, err = call_learner(fn, N, D, w)
        if err is not None:
            return err
        value = _as_float(got)
        if value is None or not value.is_integer():
            return failed(f"return the count as a whole number, got {got!r}.")
        value = int(value)
        true = window_attention_flops(N, D, w)
        if value == true:
            continue
        known = {
            true // 2: "that is half: count a multiply-add as 2 FLOPs",
            4 * N * w * w * D: "the four projections (q, k, v and the output: 8·N·D²) are missing",
            8 * N * D * D + 4 * N * N * D: "that is global attention: inside a window each token scores only w² keys",
            8 * N * D * D + 4 * (N // (w * w)) * w * w * D:
                "each of the N/w² windows holds w² queries and w² keys: its two products cost 4·w²·w²·D",
            8 * N * D * D + 2 * N * w * w * D: "the weighted sum of the values (A V) costs as much as the scores",
        }
        gap = f"for N={N}, D={D}, w={w} you gave {value:,}, expected {true:,}"
        if value in known:
            return failed(f"{gap}: {known[value]}.")
        return failed(f"{gap}.")
    return passed("8·N·D² + 4·N·w²·D: linear in N for a fixed window, where global attention's 4·N²·D is not.")
