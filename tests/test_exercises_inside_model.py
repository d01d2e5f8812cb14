"""Self-checks of chapters 5-8 against right answers and typical wrong ones."""
import math

import pytest
import torch
import torch.nn.functional as F

from vit_tutorial.exercises import (
    check_attention,
    check_block_flops,
    check_cross_entropy,
    check_encoder_block,
    check_layer_norm,
    check_merge_heads,
    check_param_count,
    check_softmax,
    check_split_heads,
)


def stub(*args):
    raise NotImplementedError


def verdict(result, ok, *words):
    assert bool(result) is ok, result.message
    assert result.message.startswith("Correct!" if ok else "Not yet:")
    for w in words:
        assert w in result.message, f"{w!r} not in {result.message!r}"


# ---------------------------------------------------------------- attention

def attention_right(q, k, v):
    return (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(-1) @ v


@pytest.mark.parametrize("fn,ok,words", [
    (attention_right, True, ["softmax", "(2, 3, 7, 9)"]),
    (lambda q, k, v: F.scaled_dot_product_attention(q, k, v), False, ["scaled_dot_product_attention", "built-in"]),
    (lambda q, k, v: (q @ k.transpose(-2, -1) / math.sqrt(v.shape[-1])).softmax(-1) @ v, False,
     ["value width", "√16"]),
    (lambda q, k, v: (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(-1) @ v.transpose(-2, -1)[..., :5, :],
     False, []),
    (lambda q, k, v: (q @ k.transpose(-2, -1)).softmax(-1) @ v, False, ["√d", "not scaled"]),
    (lambda q, k, v: (q @ k.transpose(-2, -1) / q.shape[-1]).softmax(-1) @ v, False, ["divided by d"]),
    (lambda q, k, v: (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(-2) @ v, False, ["wrong axis", "dim=-1"]),
    (lambda q, k, v: (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])) @ v, False, ["softmax is missing"]),
    (lambda q, k, v: (attention_right(q, k, v), None), False, ["tuple"]),
    (lambda q, k, v: attention_right(q, k, v)[0], False, ["shape"]),
    (stub, False, ["NotImplementedError"]),
])
def test_check_attention(fn, ok, words):
    verdict(check_attention(fn), ok, *words)


def split_right(x, heads):
    B, T, D = x.shape
    return x.reshape(B, T, heads, D // heads).transpose(1, 2)


@pytest.mark.parametrize("fn,ok,words", [
    (split_right, True, ["(2, 3, 5, 4)"]),
    (lambda x, h: x.reshape(x.shape[0], h, x.shape[1], -1), False, ["straight to (B, h, T, d)"]),
    (lambda x, h: x.reshape(x.shape[0], x.shape[1], -1, h).permute(0, 3, 1, 2), False, ["consecutive"]),
    (lambda x, h: x.reshape(x.shape[0], x.shape[1], h, -1), False, ["shape", "transpose"]),
    (stub, False, ["NotImplementedError"]),
])
def test_check_split_heads(fn, ok, words):
    verdict(check_split_heads(fn), ok, *words)


@pytest.mark.parametrize("fn,ok,words", [
    (lambda x: x.transpose(1, 2).flatten(2), True, ["side by side"]),
    (lambda x: x.reshape(x.shape[0], x.shape[2], -1), False, ["wrong order", "transpose(1, 2)"]),
    (lambda x: x.permute(0, 2, 3, 1).flatten(2), False, ["interleaved"]),
    (lambda x: x.transpose(1, 2), False, ["shape"]),
])
def test_check_merge_heads(fn, ok, words):
    verdict(check_merge_heads(fn), ok, *words)


# ---------------------------------------------------------------- encoder block

def ln(dim=-1, unbiased=False, inside=True, affine=True):
    def f(x, w, b, eps):
        mu = x.mean(dim, keepdim=True)
        var = x.var(dim, keepdim=True, unbiased=unbiased)
        y = (x - mu) / (torch.sqrt(var + eps) if inside else var.sqrt() + eps)
        return y * w + b if affine else y
    return f


@pytest.mark.parametrize("fn,ok,words", [
    (ln(), True, ["D channels"]),
    (lambda x, w, b, eps: F.layer_norm(x, x.shape[-1:], w, b, eps), False, ["layer_norm", "built-in"]),
    (lambda x, w, b, eps: torch.nn.LayerNorm(x.shape[-1], eps=eps)(x) * w + b, False, ["nn.LayerNorm"]),
    # another normalisation built-in doing the same work on a reshaped x
    (lambda x, w, b, eps: F.group_norm(x.reshape(-1, x.shape[-1], 1), 1, eps=eps).reshape(x.shape) * w + b,
     False, ["group_norm", "built-in"]),
    (lambda x, w, b, eps: F.instance_norm(x.reshape(1, -1, x.shape[-1]), eps=eps).reshape(x.shape) * w + b,
     False, ["instance_norm", "built-in"]),
    (ln(dim=1), False, ["over the tokens"]),
    (ln(dim=0), False, ["over the batch"]),
    (ln(unbiased=True), False, ["unbiased", "D - 1"]),
    (ln(inside=False), False, ["inside the square root"]),
    (ln(affine=False), False, ["scale and shift"]),
])
def test_check_layer_norm(fn, ok, words):
    verdict(check_layer_norm(fn), ok, *words)


@pytest.mark.parametrize("fn,ok,words", [
    (lambda blk, x: (lambda y: y + blk.mlp(blk.norm2(y)))(x + blk.attn(blk.norm1(x))), True, ["pre-norm"]),
    (lambda blk, x: blk(x), False, ["EncoderBlock itself", "built-in"]),
    (lambda blk, x: blk.forward(x), False, ["EncoderBlock itself"]),
    (lambda blk, x: type(blk).forward(blk, x), False, ["EncoderBlock.forward", "built-in"]),
    (lambda blk, x: (lambda y: blk.norm2(y + blk.mlp(y)))(blk.norm1(x + blk.attn(x))), False, ["post-norm"]),
    (lambda blk, x: blk.mlp(blk.norm2(blk.attn(blk.norm1(x)))), False, ["residual connections are missing"]),
    (lambda blk, x: (lambda y: blk.mlp(blk.norm2(y)))(x + blk.attn(blk.norm1(x))), False, ["MLP's residual"]),
    (lambda blk, x: (lambda y: y + blk.mlp(blk.norm1(y)))(x + blk.attn(blk.norm1(x))), False, ["norm2"]),
    (lambda blk, x: x + blk.attn(blk.norm1(x)) + blk.mlp(blk.norm2(x)), False, ["one after the other"]),
])
def test_check_encoder_block(fn, ok, words):
    verdict(check_encoder_block(fn), ok, *words)


# ---------------------------------------------------------------- head and loss

def ce_right(logits, labels):
    return -logits.log_softmax(-1)[torch.arange(len(labels)), labels].mean()


def ce_naive(logits, labels):
    p = logits.exp() / logits.exp().sum(-1, keepdim=True)
    return -p[torch.arange(len(labels)), labels].log().mean()


@pytest.mark.parametrize("fn,ok,words", [
    (ce_right, True, ["F.cross_entropy", "1000"]),
    (lambda lg, lb: F.cross_entropy(lg, lb), False, ["cross_entropy", "built-in"]),
    (lambda lg, lb: torch.nn.CrossEntropyLoss()(lg, lb), False, ["nn.CrossEntropyLoss"]),
    (lambda lg, lb: F.nll_loss(lg.log_softmax(-1), lb), False, ["nll_loss"]),
    (lambda lg, lb: ce_right(lg, lb) * len(lb), False, ["summed", "divide by B"]),
    (lambda lg, lb: -lg.log_softmax(0)[torch.arange(len(lb)), lb].mean(), False, ["batch axis"]),
    (lambda lg, lb: -lg.softmax(-1)[torch.arange(len(lb)), lb].mean(), False, ["log is missing"]),
    (lambda lg, lb: -ce_right(lg, lb), False, ["minus sign"]),
    (lambda lg, lb: -lg.log_softmax(-1)[torch.arange(len(lb)), lb], False, ["one loss per image", "mean"]),
    (ce_naive, False, ["overflows", "maximum"]),
])
def test_check_cross_entropy(fn, ok, words):
    verdict(check_cross_entropy(fn), ok, *words)


def softmax_right(z):
    e = (z - z.amax(-1, keepdim=True)).exp()
    return e / e.sum(-1, keepdim=True)


@pytest.mark.parametrize("fn,ok,words", [
    (softmax_right, True, ["sums to 1", "1000"]),
    (lambda z: z.softmax(-1), False, ["Tensor.softmax", "built-in"]),
    (lambda z: torch.softmax(z, -1), False, ["torch.softmax"]),
    (lambda z: F.softmax(z, dim=-1), False, ["softmax", "built-in"]),
    (lambda z: z.log_softmax(-1).exp(), False, ["log_softmax"]),
    (lambda z: torch.nn.Softmax(dim=-1)(z), False, ["nn.Softmax"]),
    (lambda z: z.exp() / z.exp().sum(0, keepdim=True), False, ["batch axis", "dim=-1"]),
    (lambda z: z.exp(), False, ["not normalised"]),
    (lambda z: z - z.logsumexp(-1, keepdim=True), False, ["log-softmax"]),
    (lambda z: z.exp() / z.exp().sum(), False, ["each image's row"]),
    (lambda z: z.exp() / z.exp().sum(-1, keepdim=True), False, ["overflows", "maximum"]),
])
def test_check_softmax(fn, ok, words):
    verdict(check_softmax(fn), ok, *words)


# ---------------------------------------------------------------- size and cost

def params_right(c, biases=True, final_norm=True, pos_rows=None, cls=True, block_norms=True):
    D, L, M, K = c.dim, c.depth, c.mlp_dim, c.num_classes
    b = 1 if biases else 0
    embed = c.patch_size**2 * c.in_channels * D + b * D
    pos = (c.num_tokens if pos_rows is None else pos_rows) * D
    block = 3 * D * D + b * 3 * D + D * D + b * D + D * M + b * M + M * D + b * D + (4 * D if block_norms else 0)
    head = D * K + b * K
    return embed + (D if cls else 0) + pos + L * block + (2 * D if final_norm else 0) + head


@pytest.mark.parametrize("fn,ok,words", [
    (params_right, True, ["86,567,656"]),
    (lambda c: params_right(c, biases=False), False, ["short", "biases"]),
    (lambda c: params_right(c, final_norm=False), False, ["final LayerNorm"]),
    (lambda c: params_right(c, pos_rows=c.num_patches), False, ["768 short", "N+1 rows"]),
    (lambda c: params_right(c, cls=False), False, ["class token"]),
    (lambda c: params_right(c, cls=False, pos_rows=c.num_patches), False, ["final LayerNorm", "whole class token"]),
    (lambda c: params_right(c) - c.dim, False, ["patch embedding's bias"]),
    (lambda c: params_right(c, block_norms=False), False, ["LayerNorms of the blocks"]),
    (lambda c: params_right(c) + 5, False, ["5 too many", "+5"]),
    (lambda c: "86M", False, ["int", "str"]),
])
def test_check_param_count(fn, ok, words):
    verdict(check_param_count(fn), ok, *words)


def test_check_param_count_refuses_counting_a_built_model():
    """Counting a built ViT is what the exercise replaces; ViT builds again after the check."""
    from vit_tutorial import ViT, count_parameters, vit_config
    from vit_tutorial.flops import parameter_breakdown

    verdict(check_param_count(lambda c: count_parameters(ViT(c))), False, "ViT.__init__", "without building")
    verdict(check_param_count(lambda c: parameter_breakdown(c)["total"]), False, "ViT.__init__")
    with torch.device("meta"):
        assert count_parameters(ViT(vit_config("ViT-Tiny"))) > 0


def flops_right(T, D, M, h):
    return 2 * T * D * 3 * D + 2 * 2 * T * T * D + 2 * T * D * D + 2 * 2 * T * D * M


@pytest.mark.parametrize("fn,ok,words", [
    (flops_right, True, ["2,907,909,120"]),
    (lambda T, D, M, h: flops_right(T, D, M, h) // 2, False, ["multiply-add as 2"]),
    (lambda T, D, M, h: flops_right(T, D, M, h) - 4 * T * T * D, False, ["T x T products"]),
    (lambda T, D, M, h: flops_right(T, D, M, h) - 4 * T * D * D, False, ["three projections"]),
    (lambda T, D, M, h: flops_right(T, D, M, h) - 2 * T * D * M, False, ["two linear layers"]),
    (lambda T, D, M, h: flops_right(T, D, M, h) + 4 * T * T * D * (h - 1), False, ["per head"]),
    (lambda T, D, M, h: flops_right(T, D, M, h) + 1, False, ["+1"]),
])
def test_check_block_flops(fn, ok, words):
    verdict(check_block_flops(fn), ok, *words)


def test_block_flops_agree_with_vit_flops():
    """The check's reference formula is the same as vit_tutorial.flops for a real model."""
    from vit_tutorial import vit_config
    from vit_tutorial.flops import vit_flops

    c = vit_config("ViT-B/16")
    f = vit_flops(c)
    per_block = (f["total"] - f["patch_embedding"] - f["head"]) // c.depth
    assert per_block == flops_right(c.num_tokens, c.dim, c.mlp_dim, c.heads) == 2_907_909_120


def test_forbidden_builtins_are_restored_after_a_check():
    """The checks patch built-ins only while the learner's code runs."""
    z = torch.randn(2, 3)
    check_softmax(lambda t: t.softmax(-1))
    check_cross_entropy(lambda lg, lb: F.cross_entropy(lg, lb))
    check_attention(lambda q, k, v: F.scaled_dot_product_attention(q, k, v))
    check_layer_norm(lambda x, w, b, eps: F.layer_norm(x, x.shape[-1:], w, b, eps))
    assert torch.allclose(z.softmax(-1), F.softmax(z, -1))
    assert torch.allclose(torch.nn.Softmax(-1)(z), torch.softmax(z, -1))
    assert torch.isfinite(F.cross_entropy(z, torch.tensor([0, 1])))
    assert torch.nn.LayerNorm(3)(z).shape == (2, 3)
    q = torch.randn(1, 1, 2, 4)
    assert F.scaled_dot_product_attention(q, q, q).shape == (1, 1, 2, 4)


def test_learner_cannot_swallow_the_forbidden_call():
    def sneaky(z):
        try:
            return z.softmax(-1)
        except Exception:  # noqa: BLE001 - the point of the test
            return softmax_right(z)
    verdict(check_softmax(sneaky), False, "Tensor.softmax")


# ---------------------------------------------------------------- predictions and article traps

from torch import nn  # noqa: E402

from vit_tutorial import ViT, count_parameters, init_weights_, vit_config  # noqa: E402
from vit_tutorial.exercises import (  # noqa: E402
    check_attention_layout,
    check_batch_independent,
    check_cost_prediction,
    check_head_logits,
    check_initial_loss,
    check_locality_prediction,
    check_loss_meaning,
    check_official_init,
    check_vit_l32_count,
)


@pytest.mark.parametrize("mem,fl,ok,words", [
    (8.58, 3.16, True, ["x8.6", "x3.16"]),
    (2.93, 3.16, False, ["T²", "8.6"]),
    (2.94, 3.16, False, ["T²", "8.6"]),   # (384 / 224)²: the pixel count, not T
    (8.6, 8.6, False, ["linear layers"]),
    (8.6, 2.93, False, ["only the linear layers"]),
    (8.6, 5, False, ["5 %"]),
    (20, 3.16, False, ["T = N + 1 = 197"]),
    ("16", 3.16, False, ["finite number"]),
])
def test_check_cost_prediction(mem, fl, ok, words):
    verdict(check_cost_prediction(mem, fl), ok, *words)


@pytest.mark.parametrize("layer,ok,words", [
    (nn.MultiheadAttention(32, 4, batch_first=True), True, ["batch_first=True"]),
    (nn.MultiheadAttention(32, 4), False, ["batch_first is False", "(T, B, D)"]),
    (nn.Linear(3, 3), False, ["nn.MultiheadAttention"]),
])
def test_check_attention_layout(layer, ok, words):
    verdict(check_attention_layout(layer), ok, *words)


RIGHT_LOCALITY = dict(mlp_shuffle=True, attention_shuffle=True, mlp_local=True, attention_local=False)


@pytest.mark.parametrize("answers,ok,words", [
    (RIGHT_LOCALITY, True, ["locality test"]),
    ({**RIGHT_LOCALITY, "attention_shuffle": False}, False, ["permutation-equivariant"]),
    ({**RIGHT_LOCALITY, "attention_local": True}, False, ["mixes tokens"]),
    ({**RIGHT_LOCALITY, "mlp_local": "yes"}, False, ["True or False"]),
    ({"mlp_shuffle": True}, False, ["missing"]),
    ([True] * 4, False, ["dict"]),
])
def test_check_locality_prediction(answers, ok, words):
    verdict(check_locality_prediction(answers), ok, *words)


@pytest.mark.parametrize("make,ok,words", [
    (lambda: nn.TransformerEncoderLayer(32, 4, batch_first=True).eval(), True, ["alone"]),
    (lambda: nn.TransformerEncoderLayer(32, 4).eval(), False, ["batch_first=True", "across the"]),
    (lambda: nn.TransformerEncoderLayer(32, 4, batch_first=True), False, ["dropout", "eval()"]),
    (lambda: nn.Linear(4, 4), False, ["TransformerEncoderLayer"]),
])
def test_check_batch_independent(make, ok, words):
    verdict(check_batch_independent(make()), ok, *words)


@pytest.mark.parametrize("fn,ok,words", [
    (lambda m, x: m.head(m.forward_features(x)[:, 0]), True, ["(3, 5)"]),
    (lambda m, x: m.head(m.pool(m.forward_features(x))), True, []),
    (lambda m, x: m(x), False, ["ViT itself"]),
    (lambda m, x: type(m).forward(m, x), False, ["ViT.forward", "built-in"]),
    (lambda m, x: m.forward_features(x)[:, 0], False, ["prints as 'logits'"]),
    (lambda m, x: m.head(m.forward_features(x)), False, ["every token"]),
    (lambda m, x: m.head(m.forward_features(x)[:, 1:].mean(1)), False, ["mean pooling"]),
    (lambda m, x: m.head(m.forward_features(x)[:, -1]), False, ["token 0"]),
])
def test_check_head_logits(fn, ok, words):
    verdict(check_head_logits(fn), ok, *words)


@pytest.mark.parametrize("value,ok,words", [
    (math.log(10), True, ["exactly log 10"]),
    (2.3026, True, []),
    (0.0, False, ["1/10"]),
    (0.1, False, ["-log"]),
    (1.0, False, ["natural log"]),
    (2.0, False, ["equal logits"]),
])
def test_check_initial_loss(value, ok, words):
    verdict(check_initial_loss(value), ok, *words)


@pytest.mark.parametrize("p,loss,ok,words", [
    (math.exp(-0.105), math.inf, True, ["infinity"]),
    (0.9003, 50.0, True, []),
    (0.105, math.inf, False, ["not the probability"]),
    (0.895, math.inf, False, ["1 - loss"]),
    (math.exp(0.105), math.inf, False, ["cannot exceed 1"]),
    (10 ** -0.105, math.inf, False, ["log base 10"]),
    (0.5, math.inf, False, ["does not give"]),
    (0.9003, 0.0, False, ["not a correct one"]),
    (0.9003, 2.3, False, ["too small"]),
    (0.9003, float("nan"), False, ["should be a number"]),
    ("0.9", math.inf, False, ["finite number"]),
])
def test_check_loss_meaning(p, loss, ok, words):
    verdict(check_loss_meaning(p, loss), ok, *words)


def test_check_vit_l32_count():
    with torch.device("meta"):
        l32 = count_parameters(ViT(vit_config("ViT-L/16", patch_size=32)))
        l16 = count_parameters(ViT(vit_config("ViT-L/16")))
    assert l32 == 306_535_400 and l16 == 304_326_632
    verdict(check_vit_l32_count(l32), True, "307M")
    verdict(check_vit_l32_count(l16), False, "ViT-L/16")
    verdict(check_vit_l32_count(l32 + 147 * 1024), False, "197 rows")
    verdict(check_vit_l32_count(l32 - 3 * (1024 - 256) * 1024), False, "patch kernel")
    verdict(check_vit_l32_count(l32 + 1), False, "+1")


def _official(m):
    with torch.no_grad():
        m.cls_token.token.zero_()
        m.pos_embed.weight.normal_(0.0, 0.02)
        m.head.weight.zero_()
        m.head.bias.zero_()


@pytest.mark.parametrize("fn,ok,words", [
    (_official, True, ["models_vit.py"]),
    (lambda m: init_weights_(m, "official"), False, ["also changed"]),  # bound before the check: caught by its effect
    (lambda m: __import__("vit_tutorial").init_weights_(m, "official"), False, ["init_weights_", "built-in"]),
    (lambda m: (_official(m), nn.init.trunc_normal_(m.pos_embed.weight, std=0.02, a=-0.04, b=0.04)), False,
     ["truncated"]),
    (lambda m: (_official(m), nn.init.normal_(m.pos_embed.weight)), False, ["randn"]),
    (lambda m: (_official(m), nn.init.normal_(m.head.weight, std=0.02)), False, ["timm"]),
    (lambda m: (_official(m), nn.init.normal_(m.cls_token.token, std=1e-6)), False, ["timm"]),
    (lambda m: (_official(m), nn.init.normal_(m.cls_token.token, std=0.02)), False, ["zero"]),
    (lambda m: (_official(m), nn.init.zeros_(m.encoder.norm.bias), nn.init.ones_(m.encoder.norm.bias)), False,
     ["also changed"]),
])
def test_check_official_init(fn, ok, words):
    verdict(check_official_init(fn), ok, *words)
