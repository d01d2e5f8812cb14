"""Load weights from other ViT implementations.

``convert_state_dict(sd, "hf")`` accepts a state dict of Hugging Face
transformers' ``ViTForImageClassification`` or ``ViTModel``, in both of its
naming schemes:

* as published on the hub (transformers < 5):
  ``vit.encoder.layer.3.attention.attention.query.weight`` ...
* as transformers >= 5 names them in memory:
  ``vit.layers.3.attention.q_proj.weight`` ...

``convert_state_dict(sd, "timm")`` accepts timm's ``VisionTransformer``.

The result loads into ``ViT(config).load_state_dict(..., strict=True)``.
Separate q, k, v projections are stacked into our fused ``qkv`` layer.
"""
from __future__ import annotations

import re
from typing import Mapping

import torch

from .config import ViTConfig

__all__ = ["convert_state_dict", "SOURCES", "randomise_parameters_", "layer_norm_eps"]

SOURCES = ("hf", "timm")

# Our names for one encoder block, relative to "encoder.blocks.{i}.".
_BLOCK_KEYS = (
    "norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight",
    "attn.proj.bias", "norm2.weight", "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias",
    "mlp.fc2.weight", "mlp.fc2.bias",
)

# Hugging Face per-layer names -> ours (after the layer prefix). "qkv:q" etc.
# mark the three parts that are stacked into one qkv tensor.
_HF_LAYER = {
    # transformers < 5 (hub checkpoints)
    "attention.attention.query": "attn.qkv:q",
    "attention.attention.key": "attn.qkv:k",
    "attention.attention.value": "attn.qkv:v",
    "attention.output.dense": "attn.proj",
    "intermediate.dense": "mlp.fc1",
    "output.dense": "mlp.fc2",
    # transformers >= 5
    "attention.q_proj": "attn.qkv:q",
    "attention.k_proj": "attn.qkv:k",
    "attention.v_proj": "attn.qkv:v",
    "attention.o_proj": "attn.proj",
    "mlp.fc1": "mlp.fc1",
    "mlp.fc2": "mlp.fc2",
    # both
    "layernorm_before": "norm1",
    "layernorm_after": "norm2",
}
_HF_TOP = {
    "embeddings.cls_token": "cls_token.token",
    "embeddings.position_embeddings": "pos_embed.weight",
    "embeddings.patch_embeddings.projection.weight": "patch_embed.proj.weight",
    "embeddings.patch_embeddings.projection.bias": "patch_embed.proj.bias",
    "layernorm.weight": "encoder.norm.weight",
    "layernorm.bias": "encoder.norm.bias",
    "classifier.weight": "head.weight",
    "classifier.bias": "head.bias",
}
_HF_LAYER_RE = re.compile(r"^(?:encoder\.layer|layers)\.(\d+)\.(.+)\.(weight|bias)$")

_TIMM_TOP = {
    "cls_token": "cls_token.token",
    "pos_embed": "pos_embed.weight",
    "patch_embed.proj.weight": "patch_embed.proj.weight",
    "patch_embed.proj.bias": "patch_embed.proj.bias",
    "norm.weight": "encoder.norm.weight",
    "norm.bias": "encoder.norm.bias",
    "head.weight": "head.weight",
    "head.bias": "head.bias",
}
_TIMM_LAYER_RE = re.compile(
    r"^blocks\.(\d+)\.(norm1|attn\.qkv|attn\.proj|norm2|mlp\.fc1|mlp\.fc2)\.(weight|bias)$"
)
# Keys that carry no weights of the model we build; they are dropped.
_HF_IGNORED = re.compile(r"^pooler\.dense\.(weight|bias)$")


def _put(out: dict, origin: dict, target: str, key: str, value: object) -> None:
    """``out[target] = value``, refusing a second source key for the same target and a non-tensor value."""
    if not isinstance(key, str):
        raise ValueError(f"state_dict keys must be strings, got {key!r} ({type(key).__name__})")
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"state_dict[{key!r}] must be a torch.Tensor, got {type(value).__name__}")
    if target in origin:
        raise ValueError(f"the keys {origin[target]!r} and {key!r} both map to {target!r}; keep only one of them")
    origin[target] = key
    out[target] = value


def _from_hf(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    origin: dict[str, str] = {}
    parts: dict[tuple[int, str], dict[str, torch.Tensor]] = {}
    unexpected = []
    for key, value in sd.items():
        if not isinstance(key, str):
            raise ValueError(f"state_dict keys must be strings, got {key!r} ({type(key).__name__})")
        k = key[4:] if key.startswith("vit.") else key
        if k in _HF_TOP:
            _put(out, origin, _HF_TOP[k], key, value)
            continue
        if _HF_IGNORED.match(k):
            continue
        m = _HF_LAYER_RE.match(k)
        target = _HF_LAYER.get(m.group(2)) if m else None
        if target is None:
            unexpected.append(key)
            continue
        i, kind = int(m.group(1)), m.group(3)
        if target.startswith("attn.qkv:"):
            _put(parts.setdefault((i, kind), {}), origin, f"encoder.blocks.{i}.attn.{target[-1]}.{kind}", key, value)
            parts[(i, kind)][target[-1]] = parts[(i, kind)].pop(f"encoder.blocks.{i}.attn.{target[-1]}.{kind}")
        else:
            _put(out, origin, f"encoder.blocks.{i}.{target}.{kind}", key, value)
    if unexpected:
        raise ValueError(f"unexpected keys for source 'hf': {unexpected[:8]}{' ...' if len(unexpected) > 8 else ''}")
    for (i, kind), qkv in parts.items():
        missing = [p for p in "qkv" if p not in qkv]
        if missing:
            raise ValueError(f"layer {i} is missing the {', '.join(missing)} projection {kind}")
        shapes = {p: tuple(qkv[p].shape) for p in "qkv"}
        if len(set(shapes.values())) > 1:
            raise ValueError(f"layer {i}'s q, k and v {kind}s must have the same shape, got {shapes}")
        # Stack the three (D, D) weights (or (D,) biases) into (3D, D) / (3D,).
        out[f"encoder.blocks.{i}.attn.qkv.{kind}"] = torch.cat([qkv["q"], qkv["k"], qkv["v"]], dim=0)
    return out


def _from_timm(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    origin: dict[str, str] = {}
    unexpected = []
    for key, value in sd.items():
        if not isinstance(key, str):
            raise ValueError(f"state_dict keys must be strings, got {key!r} ({type(key).__name__})")
        if key in _TIMM_TOP:
            _put(out, origin, _TIMM_TOP[key], key, value)
        elif m := _TIMM_LAYER_RE.match(key):
            _put(out, origin, f"encoder.blocks.{m.group(1)}.{m.group(2)}.{m.group(3)}", key, value)
        else:
            unexpected.append(key)
    if unexpected:
        raise ValueError(f"unexpected keys for source 'timm': {unexpected[:8]}{' ...' if len(unexpected) > 8 else ''}")
    return out


def _expected_keys(depth: int, with_head: bool) -> set[str]:
    keys = {"cls_token.token", "pos_embed.weight", "patch_embed.proj.weight", "patch_embed.proj.bias",
            "encoder.norm.weight", "encoder.norm.bias"}
    keys |= {f"encoder.blocks.{i}.{k}" for i in range(depth) for k in _BLOCK_KEYS}
    if with_head:
        keys |= {"head.weight", "head.bias"}
    return keys


def convert_state_dict(
    state_dict: Mapping[str, torch.Tensor], source: str, config: ViTConfig | None = None
) -> dict[str, torch.Tensor]:
    """Rename (and fuse) another implementation's weights into ours.

    Args:
        state_dict: the other model's ``state_dict()``.
        source: ``"hf"`` (transformers, either naming scheme) or ``"timm"``.
        config: if given, the converted keys and shapes are checked against
            ``ViT(config)``; otherwise against the depth found in the keys.

    Returns:
        A state dict for :class:`~vit_tutorial.model.ViT`.

    Raises:
        ValueError: for an unknown source, keys that cannot be mapped, or
            keys missing after conversion.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown state-dict source {source!r}; expected one of {', '.join(map(repr, SOURCES))}")
    if not isinstance(state_dict, Mapping):
        raise ValueError(f"state_dict must be a mapping of names to tensors, got {type(state_dict).__name__}")
    if config is not None and not isinstance(config, ViTConfig):
        raise ValueError(f"config must be a ViTConfig or None, got {type(config).__name__}")
    out = _from_hf(state_dict) if source == "hf" else _from_timm(state_dict)

    layers = {int(k.split(".")[2]) for k in out if k.startswith("encoder.blocks.")}
    depth = config.depth if config is not None else (max(layers) + 1 if layers else 0)
    with_head = (config.num_classes > 0) if config is not None else ("head.weight" in out)
    expected = _expected_keys(depth, with_head)
    missing = sorted(expected - set(out))
    unexpected = sorted(set(out) - expected)
    if missing or unexpected:
        raise ValueError(
            f"after converting from {source!r}: missing keys {missing[:8]}{' ...' if len(missing) > 8 else ''}, "
            f"unexpected keys {unexpected[:8]}{' ...' if len(unexpected) > 8 else ''}"
        )
    if config is not None:
        from .model import ViT  # local import: building a model is only needed for the shape check

        with torch.device("meta"):
            reference = ViT(config).state_dict()
        bad = [f"{k}: expected {tuple(reference[k].shape)}, got {tuple(v.shape)}"
               for k, v in out.items() if k in reference and reference[k].shape != v.shape]
        if bad:
            raise ValueError("shape mismatch after conversion: " + "; ".join(bad[:8]))
    return out


def randomise_parameters_(module: torch.nn.Module, std: float = 0.2, seed: int = 0) -> torch.nn.Module:
    """Overwrite every parameter of ``module`` with random values, in place.

    A freshly built reference model (transformers' ``ViTForImageClassification``,
    PyTorch's ``nn.TransformerEncoderLayer``) starts with zero biases and
    LayerNorms at identity (weight 1, bias 0). A conversion that swaps two
    LayerNorms, or puts the q, k, v biases in the wrong order, then still gives
    the same outputs. So every equality test calls this first: LayerNorm
    weights become ``1 + std * noise``, every other parameter ``std * noise``.

    Args:
        module: any ``nn.Module``.
        std: the spread of the noise (> 0).
        seed: seed of a private ``torch.Generator`` (the global RNG is untouched).

    Returns:
        ``module``.
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
    if not (isinstance(std, (int, float)) and std > 0):
        raise ValueError(f"std must be a positive number, got {std!r}")
    gen = torch.Generator().manual_seed(int(seed))
    norm_weights = {id(m.weight) for m in module.modules()
                    if isinstance(m, torch.nn.LayerNorm) and m.weight is not None}
    with torch.no_grad():
        for p in module.parameters():
            noise = torch.randn(p.shape, generator=gen, dtype=p.dtype) * std
            p.copy_(1.0 + noise if id(p) in norm_weights else noise)
    return module


def layer_norm_eps(module: torch.nn.Module) -> set[float]:
    """The set of epsilons of all LayerNorms in ``module`` (to check they match)."""
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module must be an nn.Module, got {type(module).__name__}")
    return {float(m.eps) for m in module.modules() if isinstance(m, torch.nn.LayerNorm)}
