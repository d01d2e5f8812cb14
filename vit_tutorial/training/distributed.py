"""Training on several processes (``torchrun``): who am I, which images are mine.

With ``N`` processes each rank takes ``batch_size / N`` images of every
**global** batch, so that one process and ``N`` processes take the same
optimisation steps (the appendix on distributed training walks through it).
Without ``torch.distributed`` initialised every function here describes a
single process: rank 0 of 1.
"""
from __future__ import annotations

import os

import torch
from torch import nn

from .augment import SEED_STRIDE

__all__ = [
    "rank_and_world",
    "resolve_device",
    "init_process_group_from_env",
    "sampler",
    "rank_batches",
    "all_reduce_sum",
    "wrap_ddp",
]


def rank_and_world() -> tuple[int, int]:
    """(rank, world size); (0, 1) when ``torch.distributed`` is not initialised."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def resolve_device(device: str) -> torch.device:
    """The ``torch.device`` for a :class:`~vit_tutorial.training.TrainConfig` ``device``.

    ``"auto"`` is this rank's GPU (``LOCAL_RANK`` under torchrun) when CUDA
    is available, else the CPU; asking for CUDA without it raises.
    """
    if not isinstance(device, str):
        raise TypeError(f"device must be a str ('auto', 'cpu', 'cuda' or 'cuda:N'), got {type(device).__name__}")
    if device == "auto":
        if torch.cuda.is_available():
            rank, world = rank_and_world()
            local = int(os.environ.get("LOCAL_RANK", 0)) if world > 1 else 0
            return torch.device("cuda", local)
        return torch.device("cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for, but CUDA is not available; use 'cpu' or 'auto'")
    return torch.device(device)


def init_process_group_from_env(device: str) -> None:
    """Under torchrun (``WORLD_SIZE`` > 1), start the process group: nccl on CUDA, gloo on CPU."""
    if not isinstance(device, str):
        raise TypeError(f"device must be a str ('auto', 'cpu', 'cuda' or 'cuda:N'), got {type(device).__name__}")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        use_cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
        if use_cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        torch.distributed.init_process_group(backend="nccl" if use_cuda else "gloo")


def sampler(n: int, seed: int, rank: int, world: int) -> "torch.utils.data.DistributedSampler":
    """PyTorch's ``DistributedSampler`` over ``n`` training images.

    After ``set_epoch(e)`` it shuffles with ``randperm(n)`` seeded with
    ``seed * SEED_STRIDE + e``, the same on every rank, and gives rank ``r``
    the indices at positions ``r, r + world, r + 2 world, ...`` (padding the
    end with repeats when ``n`` is not a multiple of ``world``). Cut into
    local batches of ``batch_size / world``, the k-th local batches of all
    ranks together are exactly images ``k*batch_size .. (k+1)*batch_size - 1``
    of the permutation: the global batch a single process would take.
    """
    from torch.utils.data import DistributedSampler

    return DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=True, seed=seed * SEED_STRIDE)


def rank_batches(sampler, epoch: int, local_batch: int, world: int) -> list[tuple[torch.Tensor, int]]:
    """This rank's batches of ``epoch``: pairs (its indices, size of the global batch)."""
    if not hasattr(sampler, "set_epoch"):
        raise TypeError(f"sampler must be a DistributedSampler (from sampler()), got {type(sampler).__name__}")
    sampler.set_epoch(epoch)
    mine = torch.tensor(list(sampler), dtype=torch.int64)  # (len(sampler),) this rank's shuffled share
    total = len(sampler) * world  # images in the epoch over all ranks
    global_batch = local_batch * world
    return [(idx, min(global_batch, total - k * global_batch)) for k, idx in enumerate(mine.split(local_batch))]


def all_reduce_sum(*tensors: torch.Tensor) -> list[torch.Tensor]:
    """Sum each tensor over all ranks (one ``all_reduce``); returns them unchanged on one process."""
    if rank_and_world()[1] == 1:
        return list(tensors)
    both = torch.cat(tensors)
    torch.distributed.all_reduce(both)
    return list(both.split([t.numel() for t in tensors]))


def wrap_ddp(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` in ``DistributedDataParallel`` when there are several processes, else ``model`` itself."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if rank_and_world()[1] == 1:
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
