"""Demonstrations built by hand: a real attention layer whose weights are set, not learned.

A ViT with random weights attends almost uniformly, which makes dull
pictures. :func:`handcrafted_attention` therefore builds a real
:class:`~vit_tutorial.attention.MultiHeadSelfAttention` layer whose weights
are **set by hand**, so that each head compares one readable property of the
patches (colour, position, texture, colour and position together); chapter 5
draws it with :mod:`vit_tutorial.viz.attention`.
"""
from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import torch

from ._checks import check_divisible, check_positive_int
from .attention import MultiHeadSelfAttention
from .patches import patchify

__all__ = ["HEAD_NAMES", "DEFAULT_SHARPNESS", "HandcraftedAttention", "patch_features", "handcrafted_attention",
           "check_rgb_image"]

#: The four hand-set heads of :func:`handcrafted_attention`, in order.
HEAD_NAMES: tuple[str, ...] = ("colour", "position", "texture", "colour + position")

# Each head compares FEATURES_PER_HEAD numbers; one more slot per head holds
# their squared length (see handcrafted_attention), so d = 6 and D = 24.
FEATURES_PER_HEAD = 5

# How sharply each head of handcrafted_attention picks its patches (s_k).
DEFAULT_SHARPNESS: tuple[float, ...] = (4.0, 6.0, 4.0, 4.0)


def check_rgb_image(image: object) -> torch.Tensor:
    """Raise unless ``image`` is an RGB image (3, H, W); return it detached, as float, on the CPU."""
    if not isinstance(image, torch.Tensor):
        raise ValueError(f"image must be a torch.Tensor of shape (3, H, W), got {type(image).__name__}")
    if image.dim() != 3 or image.shape[0] != 3:
        raise ValueError(f"image must have shape (3, H, W) (an RGB image), got shape {tuple(image.shape)}")
    return image.detach().float().cpu()


def _centre_and_scale(f: torch.Tensor) -> torch.Tensor:
    """Centre features (N, k) and scale them so the mean squared length is 1."""
    f = f - f.mean(dim=0)  # (N, k)
    return f / f.pow(2).sum(dim=1).mean().sqrt().clamp_min(1e-8)


def patch_features(image: torch.Tensor, patch_size: int = 16) -> dict[str, torch.Tensor]:
    """Measure a few readable properties of every patch of ``image``.

    Args:
        image: (3, H, W) RGB in [0, 1]; H and W multiples of ``patch_size``.
        patch_size: P.

    Returns:
        ``{head name: (N, 5) tensor}`` for each of :data:`HEAD_NAMES`, patches
        in :func:`~vit_tutorial.patches.patchify` order. Each group is centred
        and scaled to a mean squared length of 1, so distances are comparable
        between images; unused slots are zero.

        * colour: the patch's mean R, G, B;
        * position: its row and column in the grid;
        * texture: its brightness contrast (std) and mean horizontal and
          vertical brightness change (edges);
        * colour + position: both, so that nearby patches of a similar
          colour score highest.
    """
    image = check_rgb_image(image)
    P = check_positive_int(patch_size, "patch_size")
    if P < 2:
        raise ValueError(f"patch_size must be >= 2: a 1-pixel patch has no texture or edge to measure, got {P}")
    C, H, W = image.shape
    check_divisible(H, P, "height")
    check_divisible(W, P, "width")
    rows, cols = H // P, W // P
    patches = patchify(image[None], P)[0]  # (N, P*P*C)
    N = patches.shape[0]
    patches = patches.reshape(N, C, P, P)  # (N, C, P, P)
    rgb = patches.mean(dim=(2, 3))  # (N, 3)
    lum = 0.299 * patches[:, 0] + 0.587 * patches[:, 1] + 0.114 * patches[:, 2]  # (N, P, P)
    dx = (lum[:, :, 1:] - lum[:, :, :-1]).abs().mean(dim=(1, 2))  # (N,)
    dy = (lum[:, 1:, :] - lum[:, :-1, :]).abs().mean(dim=(1, 2))  # (N,)
    contrast = lum.flatten(1).std(dim=1)  # (N,)
    r, c = torch.meshgrid(torch.arange(rows), torch.arange(cols), indexing="ij")  # (rows, cols)
    grid = torch.stack([r.flatten(), c.flatten()], dim=1).float()  # (N, 2)
    colour = _centre_and_scale(rgb)
    position = _centre_and_scale(grid)
    texture = _centre_and_scale(torch.stack([contrast, dx, dy], dim=1))
    zeros = torch.zeros(N, 1)
    return {
        "colour": torch.cat([colour, zeros, zeros], dim=1),  # (N, 5)
        "position": torch.cat([position, zeros, zeros, zeros], dim=1),  # (N, 5)
        "texture": torch.cat([texture, zeros, zeros], dim=1),  # (N, 5)
        "colour + position": torch.cat([colour, 0.6 * position], dim=1),  # (N, 5)
    }


class HandcraftedAttention(NamedTuple):
    """What :func:`handcrafted_attention` returns.

    Attributes:
        layer: a real ``MultiHeadSelfAttention`` (D = 24, h = 4, d = 6).
        tokens: its input, shape (1, N, 24): one token per patch.
        head_names: :data:`HEAD_NAMES`.
        grid: (rows, cols) of the patch grid.
    """

    layer: MultiHeadSelfAttention
    tokens: torch.Tensor
    head_names: tuple[str, ...]
    grid: tuple[int, int]


@torch.no_grad()
def handcrafted_attention(
    image: torch.Tensor, patch_size: int = 16, sharpness: float | Sequence[float] = DEFAULT_SHARPNESS
) -> HandcraftedAttention:
    """A multi-head self-attention layer with hand-set weights, and its input.

    Each patch becomes a token of D = 24 numbers: four groups of six, one
    group per head. A group holds the five numbers of
    :func:`patch_features` for that head and, sixth, their squared length.
    The query and key weights are set so that head k scores a query patch i
    against a key patch j by

        score = -s_k · |f_i - f_j|²  (+ a term that is the same for every j),

    because -|a - b|² = 2 a·b - |a|² - |b|²: the dot product q·k gives the
    2 a·b, the key's sixth slot gives -|b|², and softmax ignores -|a|² (it is
    the same along a row). So every patch attends most to the patches that
    are closest to it in that head's features. The value and output weights
    are the identity: a head's output is the average of the features it
    attends to. Nothing here is trained; a trained ViT learns its own W_q,
    W_k, W_v, and its heads are far less tidy.

    Args:
        image: (3, H, W) RGB in [0, 1].
        patch_size: P.
        sharpness: s, one number for every head or one per head; larger
            values make each head attend to fewer patches.

    Returns:
        A :class:`HandcraftedAttention`; ``layer(tokens, return_attention=True)``
        gives the output (1, N, 24) and the weights (1, 4, N, N).
    """
    feats = patch_features(image, patch_size)
    h, k = len(HEAD_NAMES), FEATURES_PER_HEAD
    d = k + 1
    s = [float(sharpness)] * h if isinstance(sharpness, (int, float)) else [float(v) for v in sharpness]
    if len(s) != h or any(not math.isfinite(v) or v <= 0 for v in s):
        raise ValueError(f"sharpness must be a positive number or {h} positive numbers, got {sharpness!r}")
    groups = []
    for name in HEAD_NAMES:
        f = feats[name]  # (N, k)
        groups.append(torch.cat([f, f.pow(2).sum(dim=1, keepdim=True)], dim=1))  # (N, d)
    tokens = torch.cat(groups, dim=1)[None]  # (1, N, D)
    layer = _distance_attention_layer(s, d)
    C, H, W = image.shape
    return HandcraftedAttention(layer, tokens, HEAD_NAMES, (H // patch_size, W // patch_size))


@torch.no_grad()
def _distance_attention_layer(s: list[float], d: int) -> MultiHeadSelfAttention:
    """The layer of :func:`handcrafted_attention`: h = len(s) heads of width d, head k scoring -s_k |f_i - f_j|²."""
    h, k = len(s), d - 1
    D = h * d
    layer = MultiHeadSelfAttention(D, h).eval()
    Wq, Wk, Wv = torch.zeros(D, D), torch.zeros(D, D), torch.eye(D)
    bq = torch.zeros(D)
    root_d = math.sqrt(d)  # the layer divides q·k by sqrt(d); we undo it here
    for head in range(h):
        i = head * d  # first channel of this head
        for j in range(k):
            Wq[i + j, i + j] = 2.0 * s[head] * root_d  # q = (2 s f, 1) · sqrt(d)
            Wk[i + j, i + j] = 1.0  # k = (f, -s |f|^2)
        Wk[i + k, i + k] = -s[head]
        bq[i + k] = root_d
    layer.qkv.weight.copy_(torch.cat([Wq, Wk, Wv], dim=0))  # (3D, D)
    layer.qkv.bias.copy_(torch.cat([bq, torch.zeros(2 * D)]))  # (3D,)
    layer.proj.weight.copy_(torch.eye(D))
    layer.proj.bias.zero_()
    return layer
