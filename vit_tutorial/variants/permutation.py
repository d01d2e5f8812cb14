"""Two fixed shuffles of an image that separate the ViT's assumptions from the CNN's.

Both cut the image into its P x P patches and move pixels around with one
fixed permutation, the same for every image:

* ``"pixels"``: the P*P*C pixel places **inside** every patch are permuted
  (the same way in every patch); the patches stay where they are;
* ``"positions"``: the N **patches** change places on the grid; the pixels
  inside each patch stay as they are.

A ViT is exactly blind to both, given the matching change of its weights:
permuting the columns of the patch-embedding matrix undoes the first
(chapter 11, problem 2), permuting the rows of a learned position table
undoes the second (:func:`permute_position_table`). Why the second holds: the
tokens entering the encoder are ``[cls, x_0 E + p_0, ..., x_{N-1} E + p_{N-1}]``.
Feed patches in the order ``pi`` and give position row ``i`` the old row
``pi[i]``: token ``1 + i`` becomes ``x_{pi[i]} E + p_{pi[i]}``, the old token
``1 + pi[i]``. The sequence is the old one with its patch tokens reordered.
Every part of an encoder block (LayerNorm, the MLP, the projections) acts on
each token alone, and attention sums over the keys, so reordering the patch
tokens only reorders the outputs; the class token's output, and with it the
logits, is unchanged (mean pooling over the patch tokens as well).

Training is equivariant too, in distribution: the rows of a learned table
are initialised independently and identically, so a permuted initial table is
as likely as the original one, and nothing else in the model knows the order.
A ViT trained on shuffled images therefore has exactly the same chances as
one trained on the originals, provided augmentations such as random shifts
are applied *before* the shuffle (a shift of the shuffled image is a
different augmentation). :class:`FixedShuffle` is a module to put in front of a
model so that the training loop's augmentation happens first.

A CNN has no such escape: its 3x3 kernels assume that neighbouring pixels
belong together, which the pixel shuffle destroys everywhere, and the
position shuffle at every patch border.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from .._checks import check_positive_int, check_rank
from ..patches import patchify, unpatchify

__all__ = ["shuffle_patches", "random_shuffle", "FixedShuffle", "permute_position_table"]

_MODES = ("pixels", "positions")


def _check_perm(perm: object, size: int, what: str) -> torch.Tensor:
    if not isinstance(perm, torch.Tensor):
        raise TypeError(f"perm must be a torch.Tensor of indices, got {type(perm).__name__}")
    if perm.dim() != 1 or perm.numel() != size or perm.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"perm must be a 1-D integer tensor of length {size} ({what}), got shape "
                         f"{tuple(perm.shape)} and dtype {perm.dtype}")
    if not torch.equal(torch.sort(perm.long()).values, torch.arange(size)):
        raise ValueError(f"perm must be a permutation of 0..{size - 1}, got {perm.tolist()}")
    return perm.long()


def shuffle_patches(images: torch.Tensor, perm: torch.Tensor, patch_size: int, mode: str = "positions") -> torch.Tensor:
    """Apply one fixed shuffle to every image.

    Args:
        images: (B, C, H, W), H and W multiples of ``patch_size``.
        perm: for ``"positions"`` a permutation of the N patches (patch ``i``
            of the result is patch ``perm[i]`` of the input, row-major order);
            for ``"pixels"`` a permutation of the C*P*P values of a patch
            (``patchify``'s order).
        patch_size: P.
        mode: ``"positions"`` or ``"pixels"``.

    Returns:
        The shuffled images, (B, C, H, W).
    """
    check_rank(images, 4, "images", "(B, C, H, W)")
    check_positive_int(patch_size, "patch_size")
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {', '.join(_MODES)}, got {mode!r}")
    B, C, H, W = images.shape
    patches = patchify(images, patch_size)  # (B, N, C*P*P)
    if mode == "positions":
        perm = _check_perm(perm, patches.shape[1], "one entry per patch")
        patches = patches[:, perm]
    else:
        perm = _check_perm(perm, patches.shape[2], "one entry per value of a patch")
        patches = patches[..., perm]
    return unpatchify(patches, patch_size, (H, W), C)


def random_shuffle(images_shape: tuple[int, int, int], patch_size: int, mode: str, seed: int = 0) -> torch.Tensor:
    """A random permutation for :func:`shuffle_patches`, drawn with ``seed``.

    Args:
        images_shape: (C, H, W) of the images.
        patch_size: P.
        mode: ``"positions"`` (length N = HW/P^2) or ``"pixels"`` (length C*P*P).
    """
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {', '.join(_MODES)}, got {mode!r}")
    C, H, W = images_shape
    size = (H // patch_size) * (W // patch_size) if mode == "positions" else C * patch_size * patch_size
    return torch.randperm(size, generator=torch.Generator().manual_seed(seed))


class FixedShuffle(nn.Module):
    """A module that applies :func:`shuffle_patches` with a fixed permutation;
    ``nn.Sequential(FixedShuffle(perm, P, mode), model)`` trains ``model`` on
    shuffled images, after any augmentation of the training loop."""

    def __init__(self, perm: torch.Tensor, patch_size: int, mode: str = "positions") -> None:
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {', '.join(_MODES)}, got {mode!r}")
        if not isinstance(perm, torch.Tensor):
            raise TypeError(f"perm must be a torch.Tensor of indices, got {type(perm).__name__}")
        check_positive_int(patch_size, "patch_size")
        self.register_buffer("perm", perm.long().clone())
        self.patch_size, self.mode = patch_size, mode

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return shuffle_patches(images, self.perm, self.patch_size, self.mode)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, patch_size={self.patch_size}"


def permute_position_table(model: nn.Module, perm: torch.Tensor) -> nn.Module:
    """A copy of a ViT whose learned position rows follow a patch permutation.

    Row ``1 + i`` of the copy's table is row ``1 + perm[i]`` of the original
    (the class token's row 0 is kept), so that
    ``copy(shuffle_patches(x, perm, P, "positions"))`` gives the same logits
    as ``model(x)`` (up to float rounding; see the module docstring).

    Args:
        model: a :class:`~vit_tutorial.model.ViT` with a learned table
            (``model.pos_embed.weight`` of shape (1, 1 + N, D)).
        perm: a permutation of the N patches.
    """
    table = getattr(getattr(model, "pos_embed", None), "weight", None)
    if not isinstance(table, torch.Tensor) or table.dim() != 3:
        raise ValueError("model must be a ViT with a learned position table pos_embed.weight (1, 1 + N, D), "
                         f"got {type(model).__name__}")
    perm = _check_perm(perm, table.shape[1] - 1, "one entry per patch")
    new = copy.deepcopy(model)
    with torch.no_grad():
        rows = torch.cat([torch.zeros(1, dtype=torch.long), 1 + perm])
        new.pos_embed.weight.copy_(table[:, rows])
    return new
