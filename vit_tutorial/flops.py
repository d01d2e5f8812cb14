"""What a ViT costs: FLOPs counted by hand, checked by PyTorch, and the
memory of the attention matrices.

Conventions (the same as :class:`torch.utils.flop_counter.FlopCounterMode`):

* one multiply-add counts as **2 FLOPs**, so a matrix product of an
  (m, k) by a (k, n) matrix costs 2·m·k·n;
* only the matrix products are counted: the convolution of the patch
  embedding, the linear layers and the two products inside attention.
  Bias additions, softmax, LayerNorm, GELU and the residual additions are
  left out (together they are well under 1 % of a ViT's FLOPs).

For one image (B = 1), T = N + 1 tokens of width D, h heads of width
d = D/h, MLP size M and K classes, the per-part counts are::

    patch_embedding     2 · N · (C·P·P) · D
    qkv                 L · 2 · T · D · 3D
    attention_scores    L · 2 · h · T · T · d      (Q Kᵀ: 2·T²·D)
    attention_values    L · 2 · h · T · T · d      (A V:  2·T²·D)
    attention_output    L · 2 · T · D · D
    mlp                 L · 2 · 2 · T · D · M
    head                2 · D · K                  (one pooled vector)

Everything scales with the batch B. :func:`vit_flops` returns these parts,
:func:`measure_vit_flops` runs the real :class:`~vit_tutorial.model.ViT` under
``FlopCounterMode`` on the meta device (no memory, no arithmetic) and
returns PyTorch's own count, and :func:`attention_memory` gives the bytes of
the (T, T) attention matrices.

Example: FLOPs against image size (image_size must be a multiple of P)::

    import dataclasses
    cfg = vit_config("ViT-B/16")
    for s in (224, 384, 512):
        print(s, vit_flops(dataclasses.replace(cfg, image_size=s))["total"])
"""
from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

from ._checks import check_positive_int
from .config import ViTConfig
from .model import ViT

__all__ = ["FLOP_PARTS", "FLOP_OPS", "vit_flops", "measure_vit_flops", "measure_flops", "flop_counts", "attention_memory",
           "PARAMETER_PARTS", "parameter_breakdown"]

#: The keys of :func:`vit_flops`'s result, in the order the data flows
#: (``"total"`` comes last and is their sum).
FLOP_PARTS: tuple[str, ...] = (
    "patch_embedding",
    "qkv",
    "attention_scores",
    "attention_values",
    "attention_output",
    "mlp",
    "head",
)

#: Which PyTorch operator performs each part when the model runs on the
#: meta device (how :func:`measure_vit_flops`'s per-operator counts map to
#: :func:`vit_flops`'s parts).
FLOP_OPS: dict[str, tuple[str, ...]] = {
    "aten.convolution": ("patch_embedding",),
    "aten.addmm": ("qkv", "attention_output", "mlp", "head"),
    "aten.bmm": ("attention_scores", "attention_values"),
}


def _check_config(config: object) -> ViTConfig:
    if not isinstance(config, ViTConfig):
        raise ValueError(f"config must be a ViTConfig (see vit_config), got {type(config).__name__}")
    return config


def vit_flops(config: ViTConfig, batch: int = 1) -> dict[str, int]:
    """FLOPs of one forward pass of a ViT, part by part, counted by hand.

    A multiply-add counts as 2 FLOPs (as ``FlopCounterMode`` counts), and
    only matrix products are counted (see the module docstring).

    Args:
        config: the model; its ``image_size`` sets N.
        batch: B, the number of images.

    Returns:
        A dict with one int per part of :data:`FLOP_PARTS`
        (``patch_embedding``, ``qkv``, ``attention_scores``,
        ``attention_values``, ``attention_output``, ``mlp``, ``head``), each
        summed over the L blocks and the batch, plus ``"total"``.
        ``attention_scores + attention_values`` is the part that grows with
        T² (quadratic in the number of tokens); the rest grows with T.
    """
    c = _check_config(config)
    B = check_positive_int(batch, "batch")
    N, T, D, L, M = c.num_patches, c.num_tokens, c.dim, c.depth, c.mlp_dim
    h, d = c.heads, c.dim // c.heads
    patch_values = c.in_channels * c.patch_size * c.patch_size  # C·P·P, one patch flattened
    parts = {
        "patch_embedding": B * 2 * N * patch_values * D,
        "qkv": B * L * 2 * T * D * (3 * D),
        "attention_scores": B * L * 2 * h * T * T * d,
        "attention_values": B * L * 2 * h * T * T * d,
        "attention_output": B * L * 2 * T * D * D,
        "mlp": B * L * 2 * (T * D * M + T * M * D),
        "head": B * 2 * D * c.num_classes,
    }
    parts["total"] = sum(parts.values())
    return parts


def measure_flops(model: torch.nn.Module, inputs: torch.Tensor) -> dict[str, int]:
    """Run ``model(inputs)`` under ``FlopCounterMode`` and return its counts.

    Args:
        model: any module.
        inputs: its input, e.g. images of shape (B, C, H, W).

    Returns:
        ``{"total": n, "aten.addmm": ..., ...}``: the total and the FLOPs of
        each operator PyTorch counted.

    Note:
        On a CPU with real tensors, ``F.scaled_dot_product_attention`` runs a
        fused kernel that ``FlopCounterMode`` does not know, so the two
        attention products are silently missing from the count. On the meta
        device (see :func:`measure_vit_flops`) attention falls back to plain
        matrix products (``aten.bmm``), which are counted.
    """
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(inputs, torch.Tensor):
        raise ValueError(f"inputs must be a torch.Tensor, got {type(inputs).__name__}")
    return flop_counts(model, inputs)


# PyTorch's counter knows the fused attention kernels of CUDA, not the CPU one.
_CPU_SDPA = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)


def _cpu_sdpa_flop(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    return sdpa_flop_count(query_shape, key_shape, value_shape)  # 2 products of 2 T S d each, per head


def flop_counts(fn, *inputs: torch.Tensor, count_fused_attention: bool = False, **kwargs) -> dict[str, int]:
    """The one FLOP counter of the package: ``fn(*inputs, **kwargs)`` under ``FlopCounterMode``, without autograd.

    Args:
        fn: a module or a function.
        *inputs, **kwargs: its arguments.
        count_fused_attention: also count the fused CPU attention kernel
            (``F.scaled_dot_product_attention``) as its two products, 4 T S d
            per head. Off by default, which is what PyTorch itself does (the
            lesson of :func:`measure_flops`'s note); on in
            :func:`vit_tutorial.variants.count_flops`.

    Returns:
        ``{"total": n, "aten.addmm": ..., ...}``: the total and the FLOPs of
        each operator counted (a multiply-add is 2).
    """
    custom = {_CPU_SDPA: _cpu_sdpa_flop} if count_fused_attention and _CPU_SDPA is not None else {}
    counter = FlopCounterMode(display=False, custom_mapping=custom)
    with counter, torch.no_grad():
        fn(*inputs, **kwargs)
    counts = {str(op): int(n) for op, n in counter.get_flop_counts()["Global"].items()}
    return {"total": int(counter.get_total_flops()), **counts}


def measure_vit_flops(config: ViTConfig, batch: int = 1) -> dict[str, int]:
    """PyTorch's own FLOP count of a :class:`~vit_tutorial.model.ViT` forward.

    The model and a batch of images are created on the **meta device**:
    tensors with shapes but no data, so even ViT-H/14 is counted in about a
    second without allocating its weights.

    Args:
        config: the model.
        batch: B.

    Returns:
        As :func:`measure_flops`: ``"total"`` and one entry per operator
        (``aten.convolution``, ``aten.addmm``, ``aten.bmm``; see
        :data:`FLOP_OPS`).
    """
    c = _check_config(config)
    B = check_positive_int(batch, "batch")
    with torch.device("meta"):
        model = ViT(c).eval()
        images = torch.empty(B, c.in_channels, c.image_size, c.image_size)  # (B, C, H, W)
    return measure_flops(model, images)


def attention_memory(
    image_size: int, patch_size: int, heads: int = 1, batch: int = 1, bytes_per_value: int = 4
) -> dict[str, int]:
    """The size of one layer's attention matrices, softmax(QKᵀ/√d).

    Each head of each image holds a (T, T) matrix, T = N + 1.

    Args:
        image_size: H = W in pixels.
        patch_size: P; must divide ``image_size``.
        heads: h.
        batch: B.
        bytes_per_value: 4 for float32, 2 for float16/bfloat16.

    Returns:
        ``{"N": N, "T": T, "per_head": bytes of one (T, T) matrix,
        "per_layer": bytes for B images and h heads}``.
    """
    for name, value in (("image_size", image_size), ("patch_size", patch_size), ("heads", heads),
                        ("batch", batch), ("bytes_per_value", bytes_per_value)):
        check_positive_int(value, name)
    if image_size % patch_size != 0:
        raise ValueError(
            f"image_size {image_size} is not divisible by patch_size {patch_size} "
            f"(remainder {image_size % patch_size}); expected a multiple of {patch_size}"
        )
    N = (image_size // patch_size) ** 2
    T = N + 1
    per_head = T * T * bytes_per_value
    return {"N": N, "T": T, "per_head": per_head, "per_layer": per_head * heads * batch}


#: The parts of :func:`parameter_breakdown`, in the order data meets them.
PARAMETER_PARTS: tuple[str, ...] = (
    "patch embedding", "class token", "position embedding", "attention", "MLP", "LayerNorms", "head",
)


def parameter_breakdown(config_or_model: ViTConfig | ViT) -> dict[str, int]:
    """A ViT's parameters, part by part (a config is built on the meta device).

    Returns:
        ``{part: count}`` for each of :data:`PARAMETER_PARTS`, plus ``"total"``,
        which equals :func:`~vit_tutorial.model.count_parameters`.
    """
    if isinstance(config_or_model, ViTConfig):
        with torch.device("meta"):  # shapes only: no memory, no initialisation cost
            model = ViT(config_or_model)
    elif isinstance(config_or_model, ViT):
        model = config_or_model
    else:
        raise ValueError(f"expected a ViTConfig or a ViT, got {type(config_or_model).__name__}")
    parts = dict.fromkeys(PARAMETER_PARTS, 0)
    for name, p in model.named_parameters():
        if name.startswith("patch_embed."):
            part = "patch embedding"
        elif name.startswith("cls_token."):
            part = "class token"
        elif name.startswith("pos_embed."):
            part = "position embedding"
        elif ".attn." in name:
            part = "attention"
        elif ".mlp." in name:
            part = "MLP"
        elif "norm" in name:
            part = "LayerNorms"
        elif name.startswith("head."):
            part = "head"
        else:  # pragma: no cover - every parameter of ViT is matched above
            raise ValueError(f"unexpected parameter {name}")
        parts[part] += p.numel()
    parts["total"] = sum(parts[k] for k in PARAMETER_PARTS)
    return parts
