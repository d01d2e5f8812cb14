"""Initialisation schemes for :class:`~vit_tutorial.model.ViT`, each traced to its source.

The ViT paper itself specifies only one initial value: the fine-tuning head is
"zero-initialized" (section 3.2 and appendix B.1.1). Everything else comes from
code. This module implements three schemes and names, for every parameter, the
rule it uses (:func:`init_rules`), so that a test can check that no parameter is
left out and that each tensor has the statistics its rule promises.

``"official"``
    What the official JAX/Flax code ``google-research/vision_transformer``
    does, read from ``vit_jax/models_vit.py`` (``VisionTransformer``,
    ``Encoder``, ``Encoder1DBlock``, ``MlpBlock``, ``AddPositionEmbs``) and the
    Flax/JAX defaults those modules use:

    * patch projection (``nn.Conv(..., name='embedding')``, no ``kernel_init``
      given, so Flax's default ``lecun_normal()``): JAX's
      ``variance_scaling(1.0, "fan_in", "truncated_normal")``, i.e. a unit
      normal truncated at +-2, scaled so that the standard deviation *after*
      truncation is ``sqrt(1 / fan_in)`` with fan_in = C*P*P (the raw standard
      deviation is divided by 0.87962566103423978, JAX's constant); bias zeros;
    * class token: ``self.param('cls', nn.initializers.zeros, ...)``: zeros;
    * position table: ``posemb_init=nn.initializers.normal(stddev=0.02)  # from
      BERT.``: a plain, *untruncated* normal with std 0.02;
    * attention (``nn.MultiHeadDotProductAttention(kernel_init=
      nn.initializers.xavier_uniform(), ...)``): Xavier uniform for the query,
      key, value and output kernels. Flax's ``DenseGeneral`` flattens each
      kernel to (D, D) before calling the initialiser, so each of the three
      blocks of our fused ``qkv`` weight gets its own bound ``sqrt(6 / (D + D))``;
      biases zeros (Flax's default ``bias_init``);
    * MLP (``MlpBlock``: ``kernel_init=xavier_uniform()``,
      ``bias_init=normal(stddev=1e-6)``): Xavier uniform kernels, biases
      normal(std 1e-6);
    * LayerNorms (``nn.LayerNorm``, Flax defaults): scale ones, bias zeros;
    * head (``nn.Dense(..., name='head', kernel_init=nn.initializers.zeros,
      bias_init=nn.initializers.constant(self.head_bias_init))`` with
      ``head_bias_init = 0.``): zeros.

    (timm's ``init_weights_vit_jax``, in ``timm/models/vision_transformer.py``,
    follows the same code but applies Xavier to the fused (3D, D) ``qkv``
    matrix, giving a bound of ``sqrt(6 / 4D)`` instead of ``sqrt(6 / 2D)``; we
    follow the Flax code.)

``"timm"``
    timm's default, ``VisionTransformer.init_weights(mode='')`` with
    ``init_weights_vit_timm`` (``timm/models/vision_transformer.py``):

    * every ``nn.Linear`` weight, the head's included:
      ``trunc_normal_(std=.02)`` with timm's default cut-offs ``a=-2, b=2``.
      These are absolute values, i.e. 100 standard deviations, so in practice
      the draw is an untruncated normal(0.02); biases zeros;
    * position table: ``trunc_normal_(self.pos_embed, std=.02)`` (same cut-offs);
    * class token: ``nn.init.normal_(self.cls_token, std=1e-6)``;
    * patch projection and LayerNorms: their PyTorch defaults
      (``reset_parameters``: Kaiming uniform with ``a=sqrt(5)`` for the conv,
      i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias; ones and
      zeros for LayerNorm).

``"trunc_2sigma"`` (the default of :class:`~vit_tutorial.config.ViTConfig`)
    This book's own scheme, unchanged since its first version so that every
    stored output and the shipped checkpoint's recipe stay reproducible. It is
    close to timm's, with one difference and one simplification: every std-0.02
    draw (linear weights, head included, the class token and the position
    table) is truncated at +-2 standard deviations (+-0.04), and the class
    token is drawn like the rest instead of from normal(1e-6). Linear biases
    zeros, LayerNorms ones/zeros, patch projection PyTorch's default. Neither
    the paper nor the official code uses it; it is a convention of ours.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .attention import MultiHeadSelfAttention
from .embedding import LinearPatchEmbedding, PatchEmbedding
from .encoder import MLP
from .position import ClassToken, LearnedPositionEmbedding

__all__ = ["INIT_SCHEMES", "InitRule", "init_rules", "init_weights_"]

#: The schemes :func:`init_weights_` knows.
INIT_SCHEMES: tuple[str, ...] = ("trunc_2sigma", "timm", "official")

#: The standard deviation of a unit normal truncated to (-2, 2) (JAX's constant).
_TRUNC_STD = 0.87962566103423978


@dataclass(frozen=True)
class InitRule:
    """How one parameter is drawn.

    Attributes:
        kind: ``"zeros"``, ``"ones"``, ``"normal"`` (mean 0, ``std``),
            ``"trunc_normal"`` (mean 0, raw ``std`` before truncation, cut at
            ``+-bound``), ``"uniform"`` (U(-bound, bound)) or ``"xavier_blocks"``
            (U(-bound, bound); the tensor's rows are ``blocks`` stacked matrices,
            each with its own fans, the same bound for all).
        std: the standard deviation of the normal before truncation.
        bound: the cut-off (truncated normal) or half-width (uniform).
        source: where the rule comes from, file and function.
    """

    kind: str
    std: float = 0.0
    bound: float = 0.0
    source: str = ""

    def apply_(self, tensor: torch.Tensor, generator: torch.Generator | None = None) -> None:
        """Fill ``tensor`` in place according to this rule."""
        with torch.no_grad():
            if self.kind == "zeros":
                tensor.zero_()
            elif self.kind == "ones":
                tensor.fill_(1.0)
            elif self.kind == "normal":
                tensor.normal_(0.0, self.std, generator=generator)
            elif self.kind == "trunc_normal":
                nn.init.trunc_normal_(tensor, 0.0, self.std, -self.bound, self.bound, generator=generator)
            elif self.kind in ("uniform", "xavier_blocks"):
                tensor.uniform_(-self.bound, self.bound, generator=generator)
            else:  # pragma: no cover - the kinds are fixed above
                raise ValueError(f"unknown rule kind {self.kind!r}")


_JAX = "google-research/vision_transformer vit_jax/models_vit.py"
_TIMM = "huggingface/pytorch-image-models timm/models/vision_transformer.py"


def _xavier_bound(fan_in: int, fan_out: int) -> float:
    return math.sqrt(6.0 / (fan_in + fan_out))


def _conv_fan_in(weight: torch.Tensor) -> int:
    return int(weight[0].numel())  # C * P * P for a (D, C, P, P) kernel


def _torch_default_bound(weight: torch.Tensor) -> float:
    # nn.Conv2d / nn.Linear reset_parameters: kaiming_uniform_(a=sqrt(5)) on the
    # weight and U(-1/sqrt(fan_in), 1/sqrt(fan_in)) on the bias: the same bound.
    return 1.0 / math.sqrt(_conv_fan_in(weight))


#: The book's own draw for every std-0.02 tensor under ``"trunc_2sigma"``.
_TRUNC_2SIGMA = InitRule("trunc_normal", std=0.02, bound=0.04,
                         source="vit_tutorial.init trunc_2sigma: normal(0.02) cut at +-2 std")


def _official_linear_rules(w: str, b: str, layer: nn.Linear, blocks: int, mlp: bool,
                           is_head: bool) -> dict[str, InitRule]:
    rules: dict[str, InitRule] = {}
    if is_head:
        rules[w] = InitRule("zeros", source=f"{_JAX} VisionTransformer: head kernel_init=zeros")
        if layer.bias is not None:
            rules[b] = InitRule("zeros", source=f"{_JAX} VisionTransformer: head_bias_init=0.")
        return rules
    out_f, in_f = layer.weight.shape
    bound = _xavier_bound(in_f, out_f // blocks)
    where = "MlpBlock: kernel_init=xavier_uniform()" if mlp else (
        "Encoder1DBlock: MultiHeadDotProductAttention(kernel_init=xavier_uniform()), "
        "one (D, D) kernel per projection")
    rules[w] = InitRule("xavier_blocks" if blocks > 1 else "uniform", bound=bound, source=f"{_JAX} {where}")
    if layer.bias is not None:
        rules[b] = (
            InitRule("normal", std=1e-6, source=f"{_JAX} MlpBlock: bias_init=normal(stddev=1e-6)")
            if mlp else InitRule("zeros", source=f"{_JAX} Encoder1DBlock: Flax default bias_init zeros")
        )
    return rules


def _linear_rules(scheme: str, prefix: str, layer: nn.Linear, *, blocks: int = 1, mlp: bool = False,
                  is_head: bool = False) -> dict[str, InitRule]:
    """The rules for one ``nn.Linear``'s weight and bias (``blocks``: stacked kernels, as in ``qkv``)."""
    w = f"{prefix}weight" if prefix else "weight"
    b = f"{prefix}bias" if prefix else "bias"
    if scheme == "official":
        return _official_linear_rules(w, b, layer, blocks, mlp, is_head)
    rules: dict[str, InitRule] = {}
    if scheme == "timm":
        rules[w] = InitRule("trunc_normal", std=0.02, bound=2.0,
                            source=f"{_TIMM} init_weights_vit_timm: trunc_normal_(std=.02), a=-2, b=2")
    else:
        rules[w] = _TRUNC_2SIGMA
    if layer.bias is not None:
        rules[b] = InitRule("zeros", source=f"{_TIMM} init_weights_vit_timm: zeros_(bias)")
    return rules


def _patch_embedding_rules(scheme: str, p: str, conv: nn.Conv2d) -> dict[str, InitRule]:
    if scheme == "official":
        fan_in = _conv_fan_in(conv.weight)
        std = math.sqrt(1.0 / fan_in) / _TRUNC_STD
        return {
            f"{p}proj.weight": InitRule(
                "trunc_normal", std=std, bound=2 * std,
                source=f"{_JAX} VisionTransformer: nn.Conv(name='embedding'), Flax default lecun_normal()"),
            f"{p}proj.bias": InitRule("zeros", source=f"{_JAX} nn.Conv: Flax default bias_init zeros"),
        }
    bound = _torch_default_bound(conv.weight)
    src = "torch nn.Conv2d.reset_parameters (kept by " + (
        f"{_TIMM} init_weights_vit_timm)" if scheme == "timm" else "vit_tutorial.init trunc_2sigma)")
    return {f"{p}proj.weight": InitRule("uniform", bound=bound, source=src),
            f"{p}proj.bias": InitRule("uniform", bound=bound, source=src)}


def _class_token_rule(scheme: str) -> InitRule:
    if scheme == "official":
        return InitRule("zeros", source=f"{_JAX} VisionTransformer: self.param('cls', zeros, ...)")
    if scheme == "timm":
        return InitRule("normal", std=1e-6,
                        source=f"{_TIMM} VisionTransformer.init_weights: normal_(cls_token, std=1e-6)")
    return _TRUNC_2SIGMA


def _position_table_rule(scheme: str, pos_std: float | None) -> InitRule:
    if pos_std is not None:
        return InitRule("trunc_normal", std=pos_std, bound=2 * pos_std,
                        source="ViTConfig.pos_init_std (vit_tutorial.model.init_position_embedding)")
    if scheme == "official":
        return InitRule("normal", std=0.02,
                        source=f"{_JAX} Encoder: posemb_init=nn.initializers.normal(stddev=0.02)")
    if scheme == "timm":
        return InitRule("trunc_normal", std=0.02, bound=2.0,
                        source=f"{_TIMM} VisionTransformer.init_weights: trunc_normal_(pos_embed, std=.02)")
    return _TRUNC_2SIGMA


def _layer_norm_rules(scheme: str, p: str, module: nn.LayerNorm) -> dict[str, InitRule]:
    src = f"{_JAX} nn.LayerNorm: Flax defaults" if scheme == "official" else "torch nn.LayerNorm.reset_parameters"
    rules: dict[str, InitRule] = {}
    if module.weight is not None:
        rules[f"{p}weight"] = InitRule("ones", source=src)
    if module.bias is not None:
        rules[f"{p}bias"] = InitRule("zeros", source=src)
    return rules


def _module_rules(scheme: str, p: str, module: nn.Module, head: nn.Module | None,
                  pos_std: float | None) -> dict[str, InitRule]:
    """The rules for the parameters one of the package's parts owns directly (``p``: its name prefix)."""
    if isinstance(module, PatchEmbedding):
        return _patch_embedding_rules(scheme, p, module.proj)
    if isinstance(module, LinearPatchEmbedding):
        return _linear_rules(scheme, f"{p}proj.", module.proj)
    if isinstance(module, ClassToken):
        return {f"{p}token": _class_token_rule(scheme)}
    if isinstance(module, LearnedPositionEmbedding):
        return {f"{p}weight": _position_table_rule(scheme, pos_std)}
    if isinstance(module, MultiHeadSelfAttention):
        return {**_linear_rules(scheme, f"{p}qkv.", module.qkv, blocks=3),
                **_linear_rules(scheme, f"{p}proj.", module.proj)}
    if isinstance(module, MLP):
        return {**_linear_rules(scheme, f"{p}fc1.", module.fc1, mlp=True),
                **_linear_rules(scheme, f"{p}fc2.", module.fc2, mlp=True)}
    if isinstance(module, nn.LayerNorm):
        return _layer_norm_rules(scheme, p, module)
    if isinstance(module, nn.Linear) and module is head:
        return _linear_rules(scheme, p, module, is_head=True)
    return {}


def init_rules(model: nn.Module, scheme: str = "trunc_2sigma") -> dict[str, InitRule]:
    """The rule for every parameter of ``model`` under ``scheme``.

    Args:
        model: a :class:`~vit_tutorial.model.ViT`, or any module built from the
            package's parts (an ``Encoder``, an ``EncoderBlock``, ...).
        scheme: one of :data:`INIT_SCHEMES`.

    Returns:
        ``{parameter name: InitRule}`` with a rule for each name of
        ``model.named_parameters()``.

    Raises:
        ValueError: unknown scheme, or a parameter that no rule covers (the
            error names it).
        TypeError: ``model`` is not an ``nn.Module``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"scheme must be one of {INIT_SCHEMES}, got {scheme!r}")
    head = getattr(model, "head", None)
    # A ViT whose config asks for another position-table std draws it last, from
    # normal(std) cut at +-2 std, whatever the scheme (ViT.__init__).
    pos_std = getattr(getattr(model, "config", None), "pos_init_std", None)
    if pos_std is not None and pos_std == 0.02:
        pos_std = None
    rules: dict[str, InitRule] = {}
    for name, module in model.named_modules():
        rules.update(_module_rules(scheme, f"{name}." if name else "", module, head, pos_std))

    names = [n for n, _ in model.named_parameters()]
    missing = [n for n in names if n not in rules]
    if missing:
        raise ValueError(
            f"no {scheme!r} initialisation rule covers the parameters {missing}; expected only parts of "
            f"vit_tutorial (PatchEmbedding, ClassToken, LearnedPositionEmbedding, MultiHeadSelfAttention, MLP, "
            f"LayerNorm, the ViT's head)"
        )
    return {n: rules[n] for n in names}


def init_weights_(
    model: nn.Module, scheme: str = "trunc_2sigma", generator: torch.Generator | None = None
) -> nn.Module:
    """Re-initialise every parameter of ``model`` in place with ``scheme``.

    Args:
        model: a :class:`~vit_tutorial.model.ViT` or a module made of the
            package's parts.
        scheme: ``"official"``, ``"timm"`` or ``"trunc_2sigma"`` (see the module
            docstring for the source of each rule).
        generator: an optional ``torch.Generator``; without one the global RNG
            is used (seed it with ``torch.manual_seed``).

    Returns:
        ``model`` (for chaining).
    """
    rules = init_rules(model, scheme)  # honours a ViT config's pos_init_std for the position table
    params = dict(model.named_parameters())
    for name, rule in rules.items():
        rule.apply_(params[name], generator=generator)
    return model
