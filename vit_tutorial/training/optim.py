"""The optimiser: AdamW, with weight decay only on the weights that map one vector to another.

Which parameters decay is decided by their role, not by their names
(compare nanoGPT's ``configure_optimizers`` and timm's ``no_weight_decay``):

* biases and norm scales (fewer than two dimensions): no decay;
* the class token and the learned position table (parameters of a
  :class:`~vit_tutorial.position.ClassToken` or a
  :class:`~vit_tutorial.position.LearnedPositionEmbedding`): no decay: they are
  vectors added to the input, and decaying them pulls them to zero;
* any parameter a module lists in its own ``no_weight_decay()`` method (timm's
  convention, e.g. a model that keeps its position table as a bare parameter);
* everything else (linear and conv weights): decay.

With ``TrainConfig(fused_adamw=True)`` the update runs as PyTorch's fused
AdamW kernel where the device has one (the plain AdamW otherwise, with a
warning).
"""
from __future__ import annotations

import warnings

import torch
from torch import nn

from ..position import ClassToken, LearnedPositionEmbedding
from .recipe import TrainConfig

__all__ = ["decays", "param_groups", "make_optimizer"]

_NO_DECAY_MODULES = (ClassToken, LearnedPositionEmbedding)


def decays(module: nn.Module, name: str, p: nn.Parameter) -> bool:
    """Whether ``module``'s own parameter ``name`` (``p``) gets weight decay (the rule above)."""
    if not isinstance(module, nn.Module) or not isinstance(name, str) or not isinstance(p, torch.Tensor):
        raise TypeError(f"expected (nn.Module, str, Parameter), got ({type(module).__name__}, "
                        f"{type(name).__name__}, {type(p).__name__})")
    if p.ndim < 2 or isinstance(module, _NO_DECAY_MODULES):
        return False
    declared = getattr(module, "no_weight_decay", None)
    return not (callable(declared) and name in declared())


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two AdamW groups: the decayed weights, then everything else (decay 0).

    Parameters keep ``model.parameters()``'s order within each group, and
    frozen ones (``requires_grad=False``) are left out.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    owner = {id(p): (m, n) for m in model.modules() for n, p in m.named_parameters(recurse=False)}
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if decays(*owner[id(p)], p) else no_decay).append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    """AdamW over :func:`param_groups` with the config's peak ``lr``, ``weight_decay`` and ``betas``.

    With ``config.fused_adamw`` it is ``AdamW(fused=True)``; if a parameter's
    device or dtype has no fused kernel, a ``RuntimeWarning`` says so and the
    plain AdamW is returned.
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    groups = param_groups(model, config.weight_decay)
    if config.fused_adamw:
        problem = _fused_adamw_problem([p for g in groups for p in g["params"]])
        if problem is None:
            return torch.optim.AdamW(groups, lr=config.lr, betas=config.betas, fused=True)
        warnings.warn(f"fused_adamw=True, but the fused AdamW does not run here ({problem}); "
                      f"using the plain AdamW", RuntimeWarning, stacklevel=2)
    return torch.optim.AdamW(groups, lr=config.lr, betas=config.betas)


def _fused_adamw_problem(params: list[torch.Tensor]) -> str | None:
    """Why ``AdamW(fused=True)`` cannot step ``params`` (``None`` if it can), from one trial step per device and dtype.

    PyTorch checks the device and dtype only at the first ``step()``, so a
    throw-away one-element parameter of each kind is stepped here.
    """
    for device, dtype in sorted({(p.device, p.dtype) for p in params}, key=str):
        probe = torch.zeros(1, device=device, dtype=dtype, requires_grad=True)
        probe.grad = torch.zeros_like(probe)
        try:
            torch.optim.AdamW([probe], fused=True).step()
        except RuntimeError as exc:
            return f"{device}, {dtype}: {(str(exc).strip().splitlines() or [''])[0]}"
    return None
