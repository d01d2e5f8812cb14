"""Self-checks for chapters 5 to 8: attention, the encoder block, the head
and loss, and the whole model's size and cost.

Each check calls the learner's function on fixed random inputs, compares the
result with the reference computation and, when they differ, recognises the
typical mistakes (no √d, softmax over the wrong axis, heads in the wrong
order, post-norm, a sum instead of a mean, a forgotten bias ...) so that the
message names the difference.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

from ..article import cross_image_influence
from ..config import ViTConfig, vit_config
from ..encoder import EncoderBlock
from ..model import ViT, count_parameters
from ._core import CheckResult, call_learner, compare_tensors, failed, forbidding, is_close, passed

_F = torch.nn.functional
#: Built-ins an exercise may not call, per exercise (the check makes them raise).
_ATTENTION_BUILTINS = [(_F, "scaled_dot_product_attention"), (_F, "multi_head_attention_forward"),
                       (torch.nn.MultiheadAttention, "forward")]
_SOFTMAX_BUILTINS = [(torch, "softmax"), (_F, "softmax"), (torch.Tensor, "softmax"), (torch.special, "softmax"),
                     (torch, "log_softmax"), (_F, "log_softmax"), (torch.Tensor, "log_softmax"),
                     (torch.special, "log_softmax"), (torch.nn.Softmax, "forward"), (torch.nn.LogSoftmax, "forward")]
_LOSS_BUILTINS = [(_F, "cross_entropy"), (_F, "nll_loss"), (torch.nn.CrossEntropyLoss, "forward"),
                  (torch.nn.NLLLoss, "forward")]
_LAYER_NORM_BUILTINS = [(_F, "layer_norm"), (torch, "layer_norm"), (torch, "native_layer_norm"),
                        (torch.nn.LayerNorm, "forward"),
                        # the other normalisations compute the same statistics once x is reshaped
                        (_F, "group_norm"), (torch, "group_norm"), (torch.nn.GroupNorm, "forward"),
                        (_F, "instance_norm"), (torch, "instance_norm"), (_F, "batch_norm"), (torch, "batch_norm")]

__all__ = [
    "check_attention",
    "check_split_heads",
    "check_merge_heads",
    "check_layer_norm",
    "check_encoder_block",
    "check_cross_entropy",
    "check_softmax",
    "check_param_count",
    "check_block_flops",
    "check_cost_prediction",
    "check_attention_layout",
    "check_locality_prediction",
    "check_batch_independent",
    "check_head_logits",
    "check_initial_loss",
    "check_loss_meaning",
    "check_vit_l32_count",
    "check_official_init",
]


def _close(a: object, b: torch.Tensor, atol: float = 1e-5) -> bool:
    return is_close(a, b, atol)


def _diagnose(got: object, expected: torch.Tensor, what: str, mistakes: dict[str, torch.Tensor],
              atol: float = 1e-5) -> CheckResult | None:
    """None if ``got`` equals ``expected``; else a failure naming a known mistake if one matches."""
    for message, wrong in mistakes.items():
        if _close(got, wrong, atol) and not _close(got, expected, atol):
            return failed(message)
    return compare_tensors(got, expected, what, atol)


# ---------------------------------------------------------------- chapter 5


def check_attention(fn: Callable) -> CheckResult:
    """Check ``fn(q, k, v) -> out``: softmax(Q Kᵀ / √d) V.

    q: (B, h, T, d); k: (B, h, S, d); v: (B, h, S, d_v); out: (B, h, T, d_v).
    The check uses S != T and d_v != d, so that the key width (which sets the
    scale) cannot be confused with the value width, nor queries with keys.
    ``F.scaled_dot_product_attention`` and ``nn.MultiheadAttention`` are off
    limits while it runs.
    """
    g = torch.Generator().manual_seed(5)
    B, h, T, S, d, d_v = 2, 3, 7, 5, 16, 9
    q = torch.randn(B, h, T, d, generator=g)
    k = torch.randn(B, h, S, d, generator=g)
    v = torch.randn(B, h, S, d_v, generator=g)
    scores = q @ k.transpose(-2, -1)  # (B, h, T, S)
    expected = (scores / math.sqrt(d)).softmax(-1) @ v  # (B, h, T, d_v)
    with forbidding(_ATTENTION_BUILTINS, "the attention"):
        out, err = call_learner(fn, q.clone(), k.clone(), v.clone())
    if err is not None:
        return err
    if isinstance(out, tuple):
        return failed("return only the output tensor (B, h, T, d_v), not a tuple.")
    mistakes = {
        "the scores were not scaled: divide Q Kᵀ by √d (here √16 = 4) before the softmax.": scores.softmax(-1) @ v,
        "the scores were divided by d; divide by √d instead.": (scores / d).softmax(-1) @ v,
        f"you scaled by the square root of the value width (√{d_v} = 3); the scale is the key width: "
        f"d = q.shape[-1] = {d}, so divide by √{d} = 4.": (scores / math.sqrt(d_v)).softmax(-1) @ v,
        "the softmax ran over the wrong axis: each query's row must sum to 1 over the keys (dim=-1).":
            (scores / math.sqrt(d)).softmax(-2) @ v,
        "the softmax is missing: the weights must be positive and sum to 1 in each row.": (scores / math.sqrt(d)) @ v,
    }
    problem = _diagnose(out, expected, "the output", mistakes)
    if problem is not None:
        return problem
    return passed(f"softmax(Q Kᵀ / √d) V with d the key width: q {tuple(q.shape)}, k {tuple(k.shape)}, "
                  f"v {tuple(v.shape)} -> {tuple(expected.shape)}, each query's weights summing to 1 over the keys.")


def check_split_heads(fn: Callable) -> CheckResult:
    """Check ``fn(x, heads) -> (B, h, T, d)``: head i takes channels [i·d, (i+1)·d)."""
    g = torch.Generator().manual_seed(6)
    B, T, D, h = 2, 5, 12, 3
    d = D // h
    x = torch.randn(B, T, D, generator=g)
    expected = x.reshape(B, T, h, d).transpose(1, 2)  # (B, h, T, d)
    out, err = call_learner(fn, x.clone(), h)
    if err is not None:
        return err
    mistakes = {
        "you reshaped straight to (B, h, T, d): that cuts the flat memory into h blocks of T·d values, "
        "mixing tokens. Reshape to (B, T, h, d) first, then swap the T and h axes.": x.reshape(B, h, T, d),
        "each head must take d consecutive channels (0..d-1 for head 0); you gave it every h-th channel. "
        "Reshape to (B, T, h, d), not (B, T, d, h).": x.reshape(B, T, d, h).permute(0, 3, 1, 2),
    }
    problem = _diagnose(out, expected, "the split", mistakes)
    if problem is not None:
        return problem
    return passed(f"(B, T, D) = {tuple(x.shape)} -> (B, h, T, d) = {tuple(expected.shape)}, head i owning channels i·d to (i+1)·d - 1.")


def check_merge_heads(fn: Callable) -> CheckResult:
    """Check ``fn(x) -> (B, T, D)`` for per-head outputs x of shape (B, h, T, d)."""
    g = torch.Generator().manual_seed(7)
    B, h, T, d = 2, 3, 5, 4
    x = torch.randn(B, h, T, d, generator=g)
    expected = x.transpose(1, 2).reshape(B, T, h * d)  # (B, T, D)
    out, err = call_learner(fn, x.clone())
    if err is not None:
        return err
    mistakes = {
        "you reshaped (B, h, T, d) straight to (B, T, D): the heads are merged in the wrong order and tokens "
        "get mixed. Move the token axis next to the batch first (transpose(1, 2)), then reshape.":
            x.reshape(B, T, h * d),
        "the heads are interleaved channel by channel; put each head's d channels side by side "
        "(transpose(1, 2) to (B, T, h, d), then reshape).": x.permute(0, 2, 3, 1).reshape(B, T, h * d),
    }
    problem = _diagnose(out, expected, "the merge", mistakes)
    if problem is not None:
        return problem
    return passed("(B, h, T, d) -> (B, T, h·d): each token gets its h head outputs side by side.")


# ---------------------------------------------------------------- chapter 6


def check_layer_norm(fn: Callable) -> CheckResult:
    """Check ``fn(x, weight, bias, eps) -> y``, LayerNorm over the last axis (D)."""
    g = torch.Generator().manual_seed(8)
    B, T, D = 2, 6, 8
    x = 3.0 + 2.0 * torch.randn(B, T, D, generator=g)
    weight, bias = 1.0 + 0.5 * torch.randn(D, generator=g), 0.3 * torch.randn(D, generator=g)
    eps = 1e-2  # large on purpose: makes a misplaced eps visible
    expected = F.layer_norm(x, (D,), weight, bias, eps)

    def norm(mean_dims: tuple[int, ...], unbiased: bool = False, eps_inside: bool = True, affine: bool = True):
        mu = x.mean(dim=mean_dims, keepdim=True)
        var = x.var(dim=mean_dims, keepdim=True, unbiased=unbiased)
        y = (x - mu) / (torch.sqrt(var + eps) if eps_inside else torch.sqrt(var) + eps)
        return y * weight + bias if affine else y

    with forbidding(_LAYER_NORM_BUILTINS, "the LayerNorm"):
        out, err = call_learner(fn, x.clone(), weight.clone(), bias.clone(), eps)
    if err is not None:
        return err
    mistakes = {
        "you normalised over the tokens (dim=1); LayerNorm normalises each token over its D channels (dim=-1).":
            norm((1,)),
        "you normalised over the batch (dim=0); LayerNorm normalises each token over its D channels (dim=-1).":
            norm((0,)),
        "you used the unbiased variance (divides by D - 1); LayerNorm divides by D (unbiased=False).":
            norm((-1,), unbiased=True),
        "eps goes inside the square root: (x - mean) / sqrt(var + eps).": norm((-1,), eps_inside=False),
        "the learned scale and shift are missing: multiply by weight, then add bias.": norm((-1,), affine=False),
    }
    problem = _diagnose(out, expected, "the normalised tensor", mistakes, atol=1e-4)
    if problem is not None:
        return problem
    return passed("each token is normalised over its D channels, then scaled by weight and shifted by bias.")


def check_encoder_block(fn: Callable) -> CheckResult:
    """Check ``fn(block, x) -> y``: a pre-norm block written with the parts of
    an :class:`~vit_tutorial.encoder.EncoderBlock` (norm1, attn, norm2, mlp)."""
    torch.manual_seed(9)
    block = EncoderBlock(16, 4, 32).eval()
    with torch.no_grad():  # LayerNorms away from identity, so mistakes show
        for norm in (block.norm1, block.norm2):
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.uniform_(-0.5, 0.5)
    g = torch.Generator().manual_seed(9)
    x = torch.randn(2, 5, 16, generator=g)
    with torch.no_grad():
        expected = block(x)
        a = block.attn
        post = block.norm1(x + a(x))
        post = block.norm2(post + block.mlp(post))
        no_res = block.attn(block.norm1(x))
        no_res = block.mlp(block.norm2(no_res))
        one_norm = x + a(block.norm1(x))
        one_norm = one_norm + block.mlp(block.norm1(one_norm))
        no_second_res = x + a(block.norm1(x))
        no_second_res = block.mlp(block.norm2(no_second_res))
        parallel = x + a(block.norm1(x)) + block.mlp(block.norm2(x))
        # the instance's forward and the class's (EncoderBlock.forward(block, x) runs the finished block too)
        with forbidding([(block, "forward"), (EncoderBlock, "forward"), (torch.nn.TransformerEncoderLayer, "forward")],
                        "the block"):
            out, err = call_learner(fn, block, x.clone())
    if err is not None:
        return err
    mistakes = {
        "this is the post-norm block (LayerNorm after each residual addition, as in the original Transformer "
        "and PyTorch's default); ViT normalises first: x + attn(norm1(x)).": post,
        "the residual connections are missing: add each sub-layer's output back to its input (x = x + ...).": no_res,
        "the MLP's residual connection is missing: x = x + mlp(norm2(x)).": no_second_res,
        "both sub-layers used norm1; the MLP has its own LayerNorm, norm2.": one_norm,
        "the MLP must read the output of the attention step, not the block's input "
        "(the two steps run one after the other).": parallel,
    }
    problem = _diagnose(out, expected, "the block's output", mistakes)
    if problem is not None:
        return problem
    return passed("x = x + attn(norm1(x)), then x = x + mlp(norm2(x)): a pre-norm block.")


# ---------------------------------------------------------------- chapter 7


def check_cross_entropy(fn: Callable) -> CheckResult:
    """Check ``fn(logits, labels) -> loss``: the mean over the batch of
    -log softmax(logits)[label], stable for large logits."""
    g = torch.Generator().manual_seed(10)
    logits = 3.0 * torch.randn(4, 5, generator=g)
    labels = torch.tensor([0, 3, 1, 4])
    expected = F.cross_entropy(logits, labels)
    B = logits.shape[0]
    picked = lambda lp: lp[torch.arange(B), labels]  # noqa: E731
    with forbidding(_LOSS_BUILTINS, "the cross-entropy"):
        out, err = call_learner(fn, logits.clone(), labels.clone())
    if err is not None:
        return err
    if isinstance(out, torch.Tensor) and out.numel() == B and out.dim() == 1:
        return failed(f"you returned one loss per image, shape {tuple(out.shape)}; return their mean, a single number.")
    mistakes = {
        "you summed the per-image losses; cross-entropy averages them over the batch (divide by B).":
            -picked(logits.log_softmax(-1)).sum(),
        "the softmax ran over the batch axis; each image's scores are normalised over the classes (dim=-1).":
            -picked(logits.log_softmax(0)).mean(),
        "the log is missing: the loss is -log p(label), not -p(label).": -picked(logits.softmax(-1)).mean(),
        "the minus sign is missing: the loss is -log p(label), a positive number.": picked(logits.log_softmax(-1)).mean(),
        "you used the raw score of the right class; normalise with a softmax (log-softmax) first.": -picked(logits).mean(),
    }
    problem = _diagnose(out, expected, "the loss", mistakes)
    if problem is not None:
        return problem
    big = torch.tensor([[1000.0, 0.0, -1000.0], [0.0, 800.0, 0.0]])
    big_labels = torch.tensor([0, 2])
    with forbidding(_LOSS_BUILTINS, "the cross-entropy"):
        out_big, err = call_learner(fn, big, big_labels)
    if err is not None:
        return err
    expected_big = F.cross_entropy(big, big_labels)
    if not isinstance(out_big, torch.Tensor) or not torch.isfinite(out_big).all():
        return failed(
            "with logits as large as 1000, exp() overflows and your loss is not finite. Subtract each row's "
            "maximum before exp, or use logits.log_softmax(-1) (or torch.logsumexp)."
        )
    problem = compare_tensors(out_big, expected_big, "the loss for large logits", atol=1e-3)
    if problem is not None:
        return problem
    return passed("the mean over the batch of -log softmax(logits)[label], equal to F.cross_entropy, "
                  "and stable even for logits of 1000.")


def check_softmax(fn: Callable) -> CheckResult:
    """Check ``fn(logits) -> probabilities``: softmax over the classes
    (last axis) of logits (B, K), stable for large logits."""
    g = torch.Generator().manual_seed(11)
    logits = 2.0 * torch.randn(3, 5, generator=g)
    expected = logits.softmax(-1)
    with forbidding(_SOFTMAX_BUILTINS, "the softmax"):
        out, err = call_learner(fn, logits.clone())
    if err is not None:
        return err
    mistakes = {
        "the softmax ran over the batch axis (dim=0); each image's K scores are normalised over the classes (dim=-1).":
            logits.softmax(0),
        "the exponentials are not normalised: divide each row by its sum so the probabilities add up to 1.":
            logits.exp(),
        "that is the log of the probabilities (log-softmax); return the probabilities themselves.":
            logits.log_softmax(-1),
        "the whole tensor was normalised at once; normalise each image's row separately (sum over dim=-1, keepdim=True).":
            logits.exp() / logits.exp().sum(),
    }
    problem = _diagnose(out, expected, "the probabilities", mistakes)
    if problem is not None:
        return problem
    big = torch.tensor([[1000.0, 999.0, -1000.0]])
    expected_big = big.softmax(-1)
    with forbidding(_SOFTMAX_BUILTINS, "the softmax"):
        out_big, err = call_learner(fn, big)
    if err is not None:
        return err
    if not isinstance(out_big, torch.Tensor) or not torch.isfinite(out_big).all():
        return failed(
            "with logits as large as 1000, exp() overflows to inf and you get nan. Subtract each row's maximum "
            "first: softmax(z) = softmax(z - max z), and then the largest exponent is exp(0) = 1."
        )
    problem = compare_tensors(out_big, expected_big, "the probabilities for large logits", atol=1e-5)
    if problem is not None:
        return problem
    return passed("each row is positive and sums to 1, and the result stays finite and right for logits of 1000.")


# ---------------------------------------------------------------- chapter 8

_COUNT_CONFIGS = [
    vit_config("ViT-B/16"),
    vit_config("ViT-Tiny"),
    ViTConfig(image_size=32, patch_size=8, in_channels=3, num_classes=7, dim=48, depth=3, heads=6, mlp_dim=80),
]


def _true_count(config: ViTConfig) -> int:
    with torch.device("meta"):  # shapes only, no memory
        return count_parameters(ViT(config))


def check_param_count(fn: Callable) -> CheckResult:
    """Check ``fn(config) -> int``: the number of parameters of ``ViT(config)``
    (learned position table, class token, 1 head; counted for several configs).
    Building a ``ViT`` (and so ``count_parameters`` or ``parameter_breakdown``
    on one) is refused while ``fn`` runs: that is the count it replaces."""
    for cfg in _COUNT_CONFIGS:
        with forbidding([(ViT, "__init__")], "the count from the config's fields (without building a ViT)"):
            got, err = call_learner(fn, cfg)
        if err is not None:
            return err
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        if isinstance(got, float) and got.is_integer():
            got = int(got)
        if isinstance(got, bool) or not isinstance(got, int):
            return failed(f"return an int, got {type(got).__name__}.")
        true = _true_count(cfg)
        if got == true:
            continue
        D, L, M, K = cfg.dim, cfg.depth, cfg.mlp_dim, cfg.num_classes
        PPC = cfg.patch_size**2 * cfg.in_channels
        known = {
            L * (7 * D + M) + 2 * D + K: "all the biases (every linear layer's, the conv's and the LayerNorms' shifts)",
            L * (5 * D + M) + D + K: "the biases of the linear layers and the conv (qkv 3D, proj D, fc1 M, fc2 D per "
                                     "block; D for the patch embedding; K for the head)",
            L * (7 * D + M): "the biases of the encoder blocks (linear layers 5D + M, LayerNorm shifts 2D per block)",
            L * (5 * D + M): "the biases of the blocks' linear layers (qkv 3D, proj D, fc1 M, fc2 D per block)",
            L * 4 * D: "the LayerNorms of the blocks (2 per block, each a weight and a bias of D)",
            2 * D: "2·D: either the final LayerNorm (a weight and a bias of D) or the whole class token "
                   "(the token itself and its row of the position table: N rows instead of N+1)",
            cfg.num_tokens * D: "the position table ((N+1)·D)",
            D * K + K: "the classification head (D·K + K)",
            K: "the head's bias (K)",
            PPC * D + D: "the patch embedding (P·P·C·D + D)",
            D: "one D-vector: the class token, the position table's row for the class token (N+1 rows, not N), "
               "or the patch embedding's bias",
        }
        diff = true - got
        gap = f"for {cfg.image_size}px, P={cfg.patch_size}, D={D}, L={L}, MLP {M}, {K} classes you gave {got:,}, expected {true:,}"
        if abs(diff) in known:
            return failed(f"{gap}: you are {abs(diff):,} {'short' if diff > 0 else 'over'}; "
                          f"that is exactly {known[abs(diff)]}.")
        return failed(f"{gap}: {abs(diff):,} {'short' if diff > 0 else 'too many'} (got - expected = {-diff:+,}).")
    vit_b = _true_count(_COUNT_CONFIGS[0])
    return passed(f"your formula matches count_parameters(ViT(config)) for ViT-B/16 ({vit_b:,}) and two small models.")


_FLOP_CASES = [(197, 768, 3072, 12), (65, 64, 128, 4), (50, 48, 80, 6)]


def _block_flops(T: int, D: int, M: int) -> dict[str, int]:
    """One block's matrix products for one image, multiply-add = 2 (as :func:`~vit_tutorial.flops.vit_flops`)."""
    return {
        "qkv": 2 * T * D * 3 * D,
        "attention_scores": 2 * T * T * D,  # h heads x 2·T·T·d
        "attention_values": 2 * T * T * D,
        "attention_output": 2 * T * D * D,
        "mlp": 2 * T * D * M + 2 * T * M * D,
    }


def check_block_flops(fn: Callable) -> CheckResult:
    """Check ``fn(T, D, M, h) -> int``: the FLOPs (multiply-add = 2) of one
    encoder block's matrix products for one image (qkv, Q Kᵀ, A V, output
    projection, MLP)."""
    for T, D, M, h in _FLOP_CASES:
        got, err = call_learner(fn, T, D, M, h)
        if err is not None:
            return err
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        if isinstance(got, float) and got.is_integer():
            got = int(got)
        if isinstance(got, bool) or not isinstance(got, int):
            return failed(f"return an int, got {type(got).__name__}.")
        block = _block_flops(T, D, M)
        true = sum(block.values())
        if got == true:
            continue
        linear = block["qkv"] + block["attention_output"] + block["mlp"]
        quad = block["attention_scores"] + block["attention_values"]
        known = {
            true // 2: "that is half the answer: count a multiply-add as 2 FLOPs (an (m, k) by (k, n) product costs 2·m·k·n)",
            linear: "the two T x T products inside attention (Q Kᵀ and A V, 2·T²·D each) are missing",
            true - block["attention_values"]: "the product of the weights with V (2·T²·D) is missing",
            true - block["qkv"] * 2 // 3: "q, k and v are three projections: 2·T·D·3D, not 2·T·D·D",
            true - block["mlp"] // 2: "the MLP has two linear layers, D->M and M->D",
            true - block["attention_output"]: "the output projection W_O (2·T·D·D) is missing",
            linear + quad * h: "the T x T products cost 2·T²·d per head, so 2·T²·D over all h heads, not 2·T²·D per head",
        }
        gap = f"for T={T}, D={D}, M={M}, h={h} you gave {got:,}, expected {true:,}"
        if got in known:
            return failed(f"{gap}: {known[got]}.")
        return failed(f"{gap} (a difference of {got - true:+,}).")
    vit_b = sum(_block_flops(197, 768, 3072).values())
    return passed(f"8·T·D² + 4·T²·D + 4·T·D·M; for a ViT-B block at 224 px (T = 197) that is {vit_b:,} FLOPs.")


# ---------------------------------------------------------------- predictions and traps


def _number(got: object, what: str) -> tuple[float | None, CheckResult | None]:
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, (int, float)) or not math.isfinite(got):
        return None, failed(f"{what} should be a finite number, got {got!r}.")
    return float(got), None


def check_cost_prediction(memory_ratio: object, flops_ratio: object) -> CheckResult:
    """Check two predictions for ViT-B/16 going from 224 to 384 px images (P
    stays 16): how many times more memory one head's attention weights take,
    and how many times more FLOPs the whole forward pass takes (within 5 %)."""
    from ..flops import vit_flops

    mem, err = _number(memory_ratio, "memory_ratio")
    if err is not None:
        return err
    fl, err = _number(flops_ratio, "flops_ratio")
    if err is not None:
        return err
    t224, t384 = 197, 577
    true_mem = (t384 / t224) ** 2
    true_fl = vit_flops(vit_config("ViT-B/16", image_size=384))["total"] / vit_flops(vit_config("ViT-B/16"))["total"]
    if abs(mem - true_mem) > 0.05 * true_mem:
        if abs(mem - t384 / t224) < 0.2:  # also catches (384 / 224)² = 2.94, the pixel count
            return failed(f"memory_ratio {mem:g} is how the number of tokens grows; a weight matrix has T x T "
                          f"entries, so it grows like T²: ({t384}/{t224})² ≈ {true_mem:.1f}.")
        return failed(f"memory_ratio {mem:g}: one head's weights are T x T values, T = N + 1 = {t224} at 224 px "
                      f"and {t384} at 384 px (a 24 x 24 grid).")
    if abs(fl - true_fl) > 0.05 * true_fl:
        if abs(fl - true_mem) < 0.8:
            return failed("that ratio would hold if all the work were in the two T x T products; at ViT-B's "
                          "sizes most FLOPs are in the linear layers (qkv, W_O, MLP), which grow only like T "
                          f"(x{t384 / t224:.2f}). Count both with vit_tutorial.flops.vit_flops.")
        if abs(fl - t384 / t224) < 0.1:
            return failed(f"flops_ratio {fl:g} counts only the linear layers, which grow like T; the two T x T "
                          "products grow like T² and add a little on top.")
        return failed(f"flops_ratio {fl:g} is off by more than 5 %; count the linear part (x T) and the T² part.")
    return passed(f"memory x{true_mem:.1f} (T² grows about 8.6-fold), FLOPs x{true_fl:.2f} (mostly the linear "
                  "layers, which grow with T): the T² part is not yet the bulk of the cost at 384 px.")


def check_attention_layout(layer: object) -> CheckResult:
    """Check an ``nn.MultiheadAttention`` meant to read tokens (B, T, D) (the
    article's layout): it must attend within each image, never across images."""
    if not isinstance(layer, torch.nn.MultiheadAttention):
        return failed(f"expected an nn.MultiheadAttention, got {type(layer).__name__}.")
    D = layer.embed_dim
    g = torch.Generator().manual_seed(12)
    x = torch.randn(3, 6, D, generator=g)
    was_training = layer.training
    layer.eval()
    try:
        with torch.no_grad():
            leak = cross_image_influence(lambda t: layer(t, t, t, need_weights=False)[0], x)
    finally:
        layer.train(was_training)
    if not layer.batch_first:
        return failed(f"batch_first is False (PyTorch's default), so (B, T, D) is read as (T, B, D): image 0's "
                      f"output moves by about {leak:.1f} when only image 1 changes. Pass batch_first=True.")
    if leak > 1e-5:
        return failed(f"image 0's output still moves by {leak:.3g} when only image 1 changes.")
    return passed("batch_first=True: each image's tokens attend only to each other.")


_LOCALITY_TRUTH = {
    "mlp_shuffle": (True, "the MLP treats every token with the same weights, so shuffling tokens shuffles its output"),
    "attention_shuffle": (True, "attention without position embeddings is permutation-equivariant too: a weighted "
                                "average over all tokens does not care about their order"),
    "mlp_local": (True, "the MLP reads one token at a time, so changing token 5 changes only output 5"),
    "attention_local": (False, "attention mixes tokens: changing token 5 changes every token's output"),
}


def check_locality_prediction(answers: object) -> CheckResult:
    """Check four True/False predictions (a dict): does shuffling the tokens
    shuffle the output of the MLP (``"mlp_shuffle"``) and of attention
    (``"attention_shuffle"``)? Does changing one token leave every other
    output of the MLP (``"mlp_local"``) and of attention (``"attention_local"``)
    unchanged?"""
    if not isinstance(answers, dict):
        return failed(f"answers should be a dict with the keys {sorted(_LOCALITY_TRUTH)}, got {type(answers).__name__}.")
    missing = sorted(set(_LOCALITY_TRUTH) - set(answers))
    if missing:
        return failed(f"answers is missing the keys {missing}.")
    for key, (truth, why) in _LOCALITY_TRUTH.items():
        if not isinstance(answers[key], bool):
            return failed(f"answers[{key!r}] should be True or False, got {answers[key]!r}.")
        if answers[key] != truth:
            return failed(f"answers[{key!r}] should be {truth}: {why}.")
    return passed("both layers pass the shuffle test, only the MLP passes the locality test: the shuffle test cannot "
                  "tell 'per token' from 'mixing', the locality test can.")


def check_batch_independent(layer: object) -> CheckResult:
    """Check a layer that maps tokens (B, T, D) to (B, T, D), such as a fixed
    ``nn.TransformerEncoderLayer``: one image's output must not depend on the
    other images, and two runs must agree (evaluation mode)."""
    if not isinstance(layer, torch.nn.Module):
        return failed(f"expected an nn.Module, got {type(layer).__name__}.")
    if isinstance(layer, torch.nn.TransformerEncoderLayer):
        D = layer.self_attn.embed_dim
    elif isinstance(layer, EncoderBlock):
        D = layer.norm1.normalized_shape[0]
    else:
        return failed(f"expected an nn.TransformerEncoderLayer or an EncoderBlock, got {type(layer).__name__}.")
    g = torch.Generator().manual_seed(13)
    x = torch.randn(3, 7, D, generator=g)
    if layer.training:
        return failed("the layer is in training mode (dropout active, so two runs differ): call layer.eval() "
                      "before comparing or predicting.")
    with torch.no_grad():
        first, second = layer(x), layer(x)
        if not torch.equal(first, second):
            return failed("two runs on the same input differ: dropout is active. Call layer.eval() before comparing "
                          "or predicting.")
        leak = cross_image_influence(layer, x)
        alone = layer(x[:1])[0]
    if leak > 1e-5:
        return failed(f"image 0's output moves by about {leak:.1f} when only image 1 changes: the layer attends across the "
                      "batch. nn.TransformerEncoderLayer reads (T, B, D) unless you pass batch_first=True.")
    if (alone - first[0]).abs().max() > 1e-5:
        return failed("image 0 alone gives a different output from image 0 inside the batch.")
    return passed("no image influences another, and one image alone gives the same output as in the batch.")


def check_head_logits(fn: Callable) -> CheckResult:
    """Check ``fn(model, images) -> logits``, written with ``model.forward_features``
    and ``model.head`` (not ``model(images)``): token 0, then the linear head."""
    torch.manual_seed(14)
    cfg = ViTConfig(image_size=16, patch_size=4, in_channels=1, num_classes=5, dim=16, depth=1, heads=2, mlp_dim=32)
    model = ViT(cfg).eval()
    g = torch.Generator().manual_seed(14)
    images = torch.randn(3, 1, 16, 16, generator=g)
    with torch.no_grad():
        feats = model.forward_features(images)
        expected = model.head(feats[:, 0])
        wrong = {
            "that is the class token's output, (B, D): the tensor the article prints as 'logits'. Pass it "
            "through model.head to get one score per class, (B, K).": feats[:, 0],
            "you applied the head to every token (B, N+1, K); take token 0 first.": model.head(feats),
            "you averaged the patch tokens (mean pooling); this model reads the class token, token 0.":
                model.head(feats[:, 1:].mean(1)),
            "you read the last token; the class token is token 0.": model.head(feats[:, -1]),
        }
        # the instance's forward and the class's (ViT.forward(model, images) runs the whole model too)
        with forbidding([(model, "forward"), (ViT, "forward")], "the head"):
            out, err = call_learner(fn, model, images.clone())
    if err is not None:
        return err
    problem = _diagnose(out, expected, "the logits", wrong)
    if problem is not None:
        return problem
    return passed(f"logits {tuple(expected.shape)} = (B, K): token 0 of the encoder output through the linear head.")


def check_initial_loss(prediction: object) -> CheckResult:
    """Check a prediction of the loss of a 10-class ViT whose head is zero
    (the official initialisation), on any batch."""
    got, err = _number(prediction, "your prediction")
    if err is not None:
        return err
    true = math.log(10)
    if abs(got - true) <= 1e-3:
        return passed(f"a zero head gives every class the logit 0, so p = 1/10 for each and the loss is exactly "
                      f"log 10 = {true:.4f}, whatever the images.")
    if abs(got) < 1e-3:
        return failed("zero logits do not give zero loss: softmax of 10 equal logits gives each class 1/10, "
                      "and the loss is -log(1/10).")
    if abs(got - 0.1) < 1e-3:
        return failed("0.1 is the probability of each class; the loss is -log of it.")
    if abs(got - 1.0) < 1e-3:
        return failed("that is log base 10; cross-entropy uses the natural log: -ln(1/10).")
    return failed(f"{got:g} is not it: what probability does softmax give each of 10 classes with equal logits?")


def check_loss_meaning(p: object, mistake_loss: object) -> CheckResult:
    """Check chapter 7's reading of a loss: ``p``, the true-class probability
    that gives a mean loss of 0.105 when every image has the same one, and
    ``mistake_loss``, the loss of a model that always gives probability 1 to a
    wrong class (``math.inf``; any number of at least 50 is accepted as the
    float stand-in for it)."""
    got, err = _number(p, "p")
    if err is not None:
        return err
    true = math.exp(-0.105)
    if abs(got - true) > 1e-3:
        hints = {0.105: "0.105 is the loss, not the probability: invert loss = -ln p.",
                 1 - 0.105: "1 - loss is not the probability; the loss is -ln p, so p = exp(-loss).",
                 math.exp(0.105): "a probability cannot exceed 1: the loss is -ln p, so p = exp(-0.105).",
                 10 ** -0.105: "that is log base 10; cross-entropy uses the natural log: p = exp(-0.105)."}
        for value, hint in hints.items():
            if abs(got - value) < 1e-3:
                return failed(hint)
        return failed(f"p = {got:g} does not give -ln p = 0.105.")
    if isinstance(mistake_loss, torch.Tensor) and mistake_loss.numel() == 1:
        mistake_loss = mistake_loss.item()
    if isinstance(mistake_loss, bool) or not isinstance(mistake_loss, (int, float)) or math.isnan(mistake_loss):
        return failed(f"mistake_loss should be a number (math.inf allowed), got {mistake_loss!r}.")
    if mistake_loss < 50:
        if abs(mistake_loss) < 1e-6:
            return failed("a confident model is not a correct one: the TRUE class gets probability 0, "
                          "and the loss is -ln 0.")
        return failed(f"mistake_loss {mistake_loss:g} is too small: the true class gets probability 0, so "
                      "the loss is -ln 0 = infinity (in floats: as large as the logit gap).")
    return passed(f"p = exp(-0.105) = {true:.3f}; a confident mistake costs -ln 0 = infinity, so cross-entropy "
                  "punishes confident mistakes far more than hesitant ones.")


def check_vit_l32_count(count: object) -> CheckResult:
    """Check the parameter count of ViT-L/32 (224 px, 1000 classes)."""
    got, err = _number(count, "the count")
    if err is not None:
        return err
    cfg16, cfg32 = vit_config("ViT-L/16"), vit_config("ViT-L/16", patch_size=32)
    true16, true32 = _true_count(cfg16), _true_count(cfg32)
    D = cfg32.dim
    if got == true32:
        return passed(f"ViT-L/32 has {true32:,} parameters, which rounds to 307M, the figure Table 1 gives for "
                      f"ViT-Large (the table has no patch-size column); ViT-L/16 has {true16:,}, about 304M. "
                      f"Consistent with a count made for ViT-L/32, but the paper does not say so.")
    if got == true16:
        return failed("that is ViT-L/16. With 32-pixel patches the patch kernel is 32·32·3·D (4 times larger) and "
                      "the position table has only 7·7 + 1 = 50 rows.")
    if got == true32 + (cfg16.num_tokens - cfg32.num_tokens) * D:
        return failed("you kept the position table of /16 (197 rows); at 32-pixel patches N = 7·7 = 49, so 50 rows.")
    if got == true32 - 3 * (32 * 32 - 16 * 16) * D:
        return failed("you kept the patch kernel of /16; the kernel is P·P·C·D = 32·32·3·1024.")
    return failed(f"{got:,.0f} is not it (off by {got - true32:+,.0f}); start from ViT-L/16's count and change only "
                  "what depends on P: the patch kernel and the position table.")


def check_official_init(fn: Callable) -> CheckResult:
    """Check ``fn(model)``, which must re-initialise, in place, three parts as
    the official ViT code starts them: the class token (zeros), the position
    table (normal, std 0.02, not truncated) and the head (zeros), leaving every
    other parameter alone. ``vit_tutorial.init.init_weights_`` is off limits."""
    from .. import init as init_module
    import vit_tutorial as package

    torch.manual_seed(15)
    cfg = ViTConfig(image_size=64, patch_size=4, in_channels=1, num_classes=5, dim=64, depth=1, heads=2, mlp_dim=64)
    model = ViT(cfg)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with forbidding([(init_module, "init_weights_"), (package, "init_weights_")], "the initialisation"):
        _, err = call_learner(fn, model)
    if err is not None:
        return err
    special = {"cls_token.token", "pos_embed.weight", "head.weight", "head.bias"}
    changed = [k for k, v in model.state_dict().items() if k not in special and not torch.equal(v, before[k])]
    if changed:
        return failed(f"you also changed {changed[:3]}; only the class token, the position table and the head.")
    cls, pos, hw, hb = model.cls_token.token, model.pos_embed.weight, model.head.weight, model.head.bias
    if torch.count_nonzero(cls):
        if abs(cls.std().item() - 1e-6) < 5e-7:
            return failed("normal(std 1e-6) for the class token is timm's choice; the official code uses zeros.")
        return failed("the official code starts the class token at zero (self.param('cls', nn.initializers.zeros, ...)).")
    std = pos.std().item()
    if abs(std - 1.0) < 0.1:
        return failed("std 1 is the article's torch.randn; the official table is normal with std 0.02.")
    if 0.012 < std < 0.021 and (pos.abs() > 0.04).float().mean().item() < 0.02:
        return failed("your table is truncated at 2 standard deviations (trunc_normal); the official "
                      "nn.initializers.normal(stddev=0.02) is a plain normal, with about 4.6 % of values beyond ±0.04.")
    if abs(std - 0.02) > 0.002:
        return failed(f"the position table has std {std:.4f}; the official code draws normal(stddev=0.02).")
    if torch.count_nonzero(hw) or torch.count_nonzero(hb):
        if abs(hw.std().item() - 0.02) < 0.005:
            return failed("a std-0.02 head is timm's init; the paper (section 3.2) and the official code use a "
                          "zero-initialised head, weight and bias.")
        return failed("the head must be all zeros, weight and bias (kernel_init=zeros, head_bias_init=0.).")
    return passed("zero class token, normal(0.02) position table, zero head, as the official code "
                  "(models_vit.py) starts them, and nothing else touched.")
