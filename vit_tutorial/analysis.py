"""Looking inside a trained ViT: attention maps, attention rollout, attention
distance, position-embedding similarity and patch-embedding filters.

Notation: L layers, B images, h heads, T = N + 1 tokens (the class token
first, then N = rows * cols patches in row-major order), P the patch size,
D the width, C the channels.

Every function takes the attention weights as the model returns them,
``model(images, return_attention=True)[1]``: a list of L tensors of shape
(B, h, T, T), where row ``i`` of a (T, T) matrix is the distribution of query
token ``i`` over the keys. A stacked tensor (L, B, h, T, T) works too.

* :func:`attention_rollout` follows the attention through the layers
  (Abnar & Zuidema, 2020, "Quantifying attention flow in transformers").
* :func:`class_token_map` / :func:`query_attention_map` cut one query row
  out of an attention matrix and lay it on the patch grid.
* :func:`mean_attention_distance` measures, in pixels, how far each head
  looks (the paper's Fig. 7, right, and appendix D.7).
* :func:`position_embedding_similarity` compares every learned position
  embedding with every other (Fig. 7, centre).
* :func:`embedding_filter_components` finds the principal components of the
  patch-embedding filters (Fig. 7, left).

Baselines, so that a picture becomes evidence:

* :func:`share_on_mask` (which share of some attention lands on, e.g., ink
  patches) with :func:`ink_share_nulls`: the same share for a head that
  attends by **position only** (every image gets the dataset-mean map) and
  for **another image's ink** (a permutation null). MNIST digits are
  centred, so position alone already scores well above the share of ink
  patches in the grid.
* :func:`class_token_mass`: how much attention the patch queries send to the
  class token, per layer and head (the part a distance measure leaves out).
* :func:`deletion_curve` / :func:`random_patch_ranking`: a faithfulness test
  of a ranking of patches (e.g. rollout): blank the top-ranked patches one
  by one and measure the accuracy, against random rankings.
"""
from __future__ import annotations

from typing import Sequence

import torch

from ._checks import check_choice, check_distribution, check_positive_int, check_rank, check_tensor

__all__ = [
    "stack_attentions",
    "attention_rollout",
    "query_attention_map",
    "class_token_map",
    "patch_distance_matrix",
    "uniform_attention_distance",
    "mean_attention_distance",
    "position_embedding_similarity",
    "patch_cosine_similarity",
    "collect_attentions",
    "attention_entropy",
    "embedding_filter_components",
    "share_on_mask",
    "ink_share_nulls",
    "class_token_mass",
    "random_patch_ranking",
    "delete_patches",
    "deletion_curve",
]

HEAD_FUSIONS = ("mean", "max", "min")


# ---------------------------------------------------------------- input checks


def _grid(grid_size: object) -> tuple[int, int]:
    """``grid_size`` as (rows, cols); an int means a square grid."""
    if isinstance(grid_size, int) and not isinstance(grid_size, bool):
        rows = cols = grid_size
    elif isinstance(grid_size, (tuple, list)) and len(grid_size) == 2:
        rows, cols = grid_size
    else:
        raise ValueError(f"grid_size must be an int or a pair (rows, cols), got {grid_size!r}")
    check_positive_int(rows, "grid rows")
    check_positive_int(cols, "grid cols")
    return rows, cols


def _check_prefix(num_prefix_tokens: object) -> int:
    if isinstance(num_prefix_tokens, bool) or not isinstance(num_prefix_tokens, int) or num_prefix_tokens < 0:
        raise ValueError(f"num_prefix_tokens must be an integer >= 0, got {num_prefix_tokens!r}")
    return num_prefix_tokens


def _check_tokens_fit_grid(T: int, rows: int, cols: int, prefix: int, what: str) -> None:
    if T != prefix + rows * cols:
        raise ValueError(
            f"{what} has {T} tokens, but a {rows}x{cols} patch grid with {prefix} prefix token(s) "
            f"needs {prefix + rows * cols}; check grid_size and num_prefix_tokens"
        )


def stack_attentions(attentions: Sequence[torch.Tensor] | torch.Tensor) -> torch.Tensor:
    """Stack per-layer attention weights into one tensor and check them.

    Args:
        attentions: a list (or tuple) of L tensors of shape (B, h, T, T), as
            ``ViT.forward(images, return_attention=True)`` returns, or one
            tensor of shape (L, B, h, T, T). For a single layer pass a list
            of one tensor.

    Returns:
        Float tensor of shape (L, B, h, T, T).
    """
    if isinstance(attentions, (list, tuple)):
        if len(attentions) == 0:
            raise ValueError("attentions is an empty list; expected L >= 1 tensors of shape (B, h, T, T)")
        for i, a in enumerate(attentions):
            check_rank(a, 4, f"attentions[{i}]", "(B, h, T, T)")
        shapes = {tuple(a.shape) for a in attentions}
        if len(shapes) > 1:
            raise ValueError(f"every layer's attention must have the same shape (B, h, T, T), got {sorted(shapes)}")
        stacked = torch.stack([a.detach() for a in attentions])  # (L, B, h, T, T)
    elif isinstance(attentions, torch.Tensor):
        if attentions.dim() == 4:
            raise ValueError(
                f"attentions has 4 dimensions {tuple(attentions.shape)}: expected a list of L tensors "
                f"(B, h, T, T) or one tensor (L, B, h, T, T); for one layer, pass [attention]"
            )
        stacked = check_rank(attentions, 5, "attentions", "(L, B, h, T, T)").detach()
    else:
        raise ValueError(
            f"attentions must be a list of tensors (B, h, T, T) or a tensor (L, B, h, T, T), "
            f"got {type(attentions).__name__}"
        )
    L, B, h, T, S = stacked.shape
    if T != S:
        raise ValueError(f"self-attention matrices must be square (T, T), got {T}x{S}")
    if not stacked.is_floating_point():
        raise ValueError(f"attentions must be floating point, got {stacked.dtype}")
    check_distribution(stacked, "attentions")  # softmax weights, not logits, NaN or rescaled rows
    return stacked.float()


# ---------------------------------------------------------------- rollout


def attention_rollout(
    attentions: Sequence[torch.Tensor] | torch.Tensor,
    head_fusion: str = "mean",
    residual: bool = True,
    start_layer: int = 0,
) -> torch.Tensor:
    """Attention rollout (Abnar & Zuidema, 2020): how much each input token
    flows into each output token, through all the layers.

    For every layer l from ``start_layer`` to L-1:

    1. fuse the h heads into one (T, T) matrix by their mean, max or min;
    2. if ``residual``, account for the skip connection around attention:
       Ã = 0.5·A + 0.5·I (Abnar & Zuidema's choice, which the public
       implementations follow; the ViT paper's appendix D.8 describes the
       head averaging and the product through the layers);
    3. renormalise every row of Ã to sum to 1 (needed after max/min fusion,
       whose rows do not sum to 1);
    4. multiply: R ← Ã_l · R, starting from R = I, so that the result is
       Ã_{L-1} ··· Ã_{start_layer} (the last layer on the left).

    Row 0 of the result (the class token's row) says how much each input
    patch contributes to the token that is classified; see
    :func:`class_token_map`.

    Args:
        attentions: L tensors (B, h, T, T) or one tensor (L, B, h, T, T).
        head_fusion: ``"mean"``, ``"max"`` or ``"min"`` over the heads.
        residual: add the identity for the residual path (step 2).
        start_layer: the first layer to include (0 = all layers).

    Returns:
        Tensor of shape (B, T, T) whose rows each sum to 1.
    """
    A = stack_attentions(attentions)  # (L, B, h, T, T)
    check_choice(head_fusion, HEAD_FUSIONS, "head_fusion")
    if not isinstance(residual, bool):
        raise ValueError(f"residual must be True or False, got {residual!r}")
    L, B, h, T, _ = A.shape
    if isinstance(start_layer, bool) or not isinstance(start_layer, int) or not 0 <= start_layer < L:
        raise ValueError(f"start_layer must be an integer in [0, {L - 1}] for {L} layers, got {start_layer!r}")
    if head_fusion == "mean":
        fused = A.mean(dim=2)  # (L, B, T, T)
    elif head_fusion == "max":
        fused = A.amax(dim=2)  # (L, B, T, T)
    else:
        fused = A.amin(dim=2)  # (L, B, T, T)
    eye = torch.eye(T, dtype=A.dtype)  # (T, T)
    if residual:
        fused = 0.5 * fused + 0.5 * eye  # (L, B, T, T)
    fused = fused / fused.sum(dim=-1, keepdim=True).clamp_min(1e-12)  # (L, B, T, T), rows sum to 1
    result = eye.expand(B, T, T).clone()  # (B, T, T)
    for layer in range(start_layer, L):
        result = fused[layer] @ result  # (B, T, T)
    return result


def query_attention_map(
    attention: torch.Tensor, grid_size: int | tuple[int, int], query: int = 0, num_prefix_tokens: int = 1
) -> torch.Tensor:
    """One query token's attention over the patches, laid out on the grid.

    Args:
        attention: tensor of shape (..., T, T), e.g. (B, h, T, T) from one
            layer or (B, T, T) from :func:`attention_rollout`.
        grid_size: (rows, cols) of the patch grid, or one int for a square grid.
        query: the query token; 0 is the class token, ``num_prefix_tokens + i``
            is patch i (row-major).
        num_prefix_tokens: tokens before the patches (1: the class token).

    Returns:
        Tensor of shape (..., rows, cols): the weights the query gives to each
        patch (the weight on prefix tokens is left out, not renormalised).
    """
    check_tensor(attention, "attention")
    if attention.dim() < 2:
        raise ValueError(f"attention must have shape (..., T, T), got shape {tuple(attention.shape)}")
    rows, cols = _grid(grid_size)
    prefix = _check_prefix(num_prefix_tokens)
    *lead, T, S = attention.shape
    if T != S:
        raise ValueError(f"attention must be square (..., T, T), got {T}x{S}")
    _check_tokens_fit_grid(T, rows, cols, prefix, "attention")
    if isinstance(query, bool) or not isinstance(query, int) or not 0 <= query < T:
        raise ValueError(f"query must be an integer token index in [0, {T - 1}], got {query!r}")
    row = attention[..., query, prefix:]  # (..., N)
    return row.reshape(*lead, rows, cols)  # (..., rows, cols)


def class_token_map(
    attention: torch.Tensor, grid_size: int | tuple[int, int], num_prefix_tokens: int = 1
) -> torch.Tensor:
    """The class token's row of ``attention`` (..., T, T) on the patch grid:
    shape (..., rows, cols). Shorthand for ``query_attention_map(..., query=0)``."""
    return query_attention_map(attention, grid_size, 0, num_prefix_tokens)


# ---------------------------------------------------------------- attention distance


def patch_distance_matrix(grid_size: int | tuple[int, int], patch_size: int) -> torch.Tensor:
    """Euclidean distance in pixels between the centres of every two patches.

    Patch (r, c) has its centre at pixel ((r + 0.5)·P, (c + 0.5)·P), so the
    distance between patches i and j is P times the distance of their grid
    coordinates.

    Args:
        grid_size: (rows, cols), or one int for a square grid.
        patch_size: P, in pixels.

    Returns:
        Tensor of shape (N, N), N = rows * cols, in row-major patch order,
        zero on the diagonal.
    """
    rows, cols = _grid(grid_size)
    P = check_positive_int(patch_size, "patch_size")
    r, c = torch.meshgrid(torch.arange(rows), torch.arange(cols), indexing="ij")  # (rows, cols)
    centres = (torch.stack([r.flatten(), c.flatten()], dim=1).double() + 0.5) * P  # (N, 2)
    return torch.cdist(centres, centres).float()  # (N, N)


def uniform_attention_distance(grid_size: int | tuple[int, int], patch_size: int) -> float:
    """The mean attention distance, in pixels, of a head that attends to every
    patch equally: the mean distance over all ordered pairs of patches,
    self-pairs included. The reference line of the distance plot."""
    return patch_distance_matrix(grid_size, patch_size).double().mean().item()


def mean_attention_distance(
    attentions: Sequence[torch.Tensor] | torch.Tensor,
    patch_size: int,
    grid_size: int | tuple[int, int],
    num_prefix_tokens: int = 1,
    reduce: str = "mean",
    renormalize: bool = True,
) -> torch.Tensor:
    """How far each head looks, in pixels ("attention distance", the
    paper's Fig. 7 right and appendix D.7).

    For a query patch i the distance is the attention-weighted mean of the
    pixel distances to the key patches, sum_j a_ij·d_ij, with d from
    :func:`patch_distance_matrix`. It is averaged over the N query patches,
    and over the images unless ``reduce="none"``. A head that attends only
    to the query's own patch scores 0; a head that attends uniformly scores
    :func:`uniform_attention_distance`.

    The class token (and any other prefix token) has no place in the image,
    so it is left out as a query and as a key. With ``renormalize`` (the
    default) the weights a query gives to the patches are rescaled to sum
    to 1, so the result is the mean distance *of the attention that goes to
    patches*; without it, attention given to the class token counts as
    distance 0 (what some public implementations do).

    Args:
        attentions: L tensors (B, h, T, T) or one tensor (L, B, h, T, T).
        patch_size: P, so that distances are in pixels.
        grid_size: (rows, cols) of the patch grid, or one int.
        num_prefix_tokens: tokens before the patches (1: the class token).
        reduce: ``"mean"`` over the images, or ``"none"`` to keep them.
        renormalize: rescale the weights over the patch keys to sum to 1.

    Returns:
        Tensor (L, h) for ``reduce="mean"``, or (L, B, h) for ``"none"``.
    """
    A = stack_attentions(attentions)  # (L, B, h, T, T)
    rows, cols = _grid(grid_size)
    P = check_positive_int(patch_size, "patch_size")
    prefix = _check_prefix(num_prefix_tokens)
    check_choice(reduce, ("mean", "none"), "reduce")
    if not isinstance(renormalize, bool):
        raise ValueError(f"renormalize must be True or False, got {renormalize!r}")
    L, B, h, T, _ = A.shape
    _check_tokens_fit_grid(T, rows, cols, prefix, "attentions")
    a = A[..., prefix:, prefix:]  # (L, B, h, N, N): patch queries, patch keys
    if renormalize:
        a = a / a.sum(dim=-1, keepdim=True).clamp_min(1e-12)  # (L, B, h, N, N)
    dist = patch_distance_matrix((rows, cols), P)  # (N, N)
    per_query = (a * dist).sum(dim=-1)  # (L, B, h, N)
    per_image = per_query.mean(dim=-1)  # (L, B, h)
    return per_image.mean(dim=1) if reduce == "mean" else per_image  # (L, h) or (L, B, h)


# ---------------------------------------------------------------- embeddings


def position_embedding_similarity(
    table: torch.Tensor, grid_size: int | tuple[int, int], num_prefix_tokens: int = 1
) -> torch.Tensor:
    """Cosine similarity between the position embedding of every patch and
    that of every other patch (the paper's Fig. 7, centre).

    Args:
        table: the learned position table, shape (1, T, D) or (T, D), with
            T = num_prefix_tokens + rows * cols.
        grid_size: (rows, cols) of the patch grid, or one int.
        num_prefix_tokens: entries before the patches (1: the class token);
            they are left out.

    Returns:
        Tensor of shape (rows, cols, rows, cols): ``sim[r, c]`` is the map of
        similarities of patch (r, c)'s embedding with every patch, in [-1, 1].
    """
    table = _table_2d(table)  # (T, D)
    rows, cols = _grid(grid_size)
    prefix = _check_prefix(num_prefix_tokens)
    T, D = table.shape
    _check_tokens_fit_grid(T, rows, cols, prefix, "table")
    sim = patch_cosine_similarity(table, prefix)  # (N, N)
    return sim.reshape(rows, cols, rows, cols)  # (rows, cols, rows, cols)


def _table_2d(table: object) -> torch.Tensor:
    """A table given as (T, D) or (1, T, D), as (T, D)."""
    check_tensor(table, "table")
    if table.dim() == 3:
        if table.shape[0] != 1:
            raise ValueError(f"table must have shape (1, T, D) or (T, D), got {tuple(table.shape)}")
        table = table[0]  # (T, D)
    return check_rank(table, 2, "table", "(T, D) (or (1, T, D))")


def patch_cosine_similarity(table: torch.Tensor, num_prefix_tokens: int = 1) -> torch.Tensor:
    """Cosine similarity between the rows of a table, its prefix rows left out: (N, N).

    The one computation behind the paper's Fig. 7 (centre):
    :func:`position_embedding_similarity` lays it out on the patch grid and
    :func:`vit_tutorial.viz.plot_position_similarity` draws it.

    Args:
        table: (T, D) or (1, T, D), e.g. a position table.
        num_prefix_tokens: rows before the patches (1: the class token).

    Returns:
        Float tensor (N, N) with N = T - num_prefix_tokens: entry (i, j) is
        cos(e_i, e_j); detached from autograd.
    """
    emb = _table_2d(table)[_check_prefix(num_prefix_tokens):].detach().float()  # (N, D)
    if emb.shape[0] == 0:
        raise ValueError("table holds no patch rows")
    emb = emb / emb.norm(dim=-1, keepdim=True).clamp_min(1e-12)  # (N, D), unit rows
    return emb @ emb.T  # (N, N)


# ---------------------------------------------------------------- collecting attention


def collect_attentions(model: torch.nn.Module, images: torch.Tensor, batch_size: int | None = None) -> list[torch.Tensor]:
    """The attention weights of every block of ``model`` for ``images``, in eval mode.

    The model is put in eval mode for the call (no dropout) and then back in
    the mode it had; no gradients are kept.

    Args:
        model: a model whose ``forward(images, return_attention=True)``
            returns ``(logits, [L tensors (B, h, T, T)])``: a
            :class:`~vit_tutorial.model.ViT`, a hybrid, a PEG-ViT.
        images: (n, C, H, W), on the model's device.
        batch_size: images per forward pass (``None``: all at once).

    Returns:
        L tensors of shape (n, h, T, T), on the CPU.
    """
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch nn.Module (a ViT), got {type(model).__name__}")
    check_rank(images, 4, "images", "(n, C, H, W)")
    size = images.shape[0] if batch_size is None else check_positive_int(batch_size, "batch_size")
    was_training = model.training
    model.eval()
    parts = []
    try:
        with torch.no_grad():
            for x in images.split(max(1, size)):
                out = model(x, return_attention=True)
                if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], (list, tuple)) and out[1]):
                    raise ValueError("model(images, return_attention=True) must return (logits, [L attention tensors]) "
                                     "with L >= 1")
                parts.append([a.detach().cpu() for a in out[1]])
    except TypeError as exc:
        raise ValueError(
            f"model(images, return_attention=True) must return (logits, [L attention tensors]); it raised: {exc}"
        ) from exc
    finally:
        model.train(was_training)
    return [torch.cat(layer) for layer in zip(*parts)]  # L x (n, h, T, T)


def attention_entropy(attention: torch.Tensor) -> torch.Tensor:
    """The entropy, in nats, of every row of an attention matrix: (..., T, S) -> (..., T).

    0 means a query attends to one key only; log S means it attends to all S
    keys equally. ``exp`` of it is the effective number of keys attended.
    Rows are renormalised first, so a slice of the keys (e.g. the patches
    only, ``a[..., 1:, 1:]``) may be passed.
    """
    check_tensor(attention, "attention")
    if attention.dim() < 2:
        raise ValueError(f"attention must have at least 2 dimensions (..., T, S), got shape {tuple(attention.shape)}")
    p = attention.detach().float()
    p = p / p.sum(dim=-1, keepdim=True).clamp_min(1e-12)
    return -(p * p.clamp_min(1e-12).log()).sum(dim=-1)  # (..., T)


def embedding_filter_components(
    patch_embed_weight: torch.Tensor, k: int = 28
) -> tuple[torch.Tensor, torch.Tensor]:
    """Principal components of the patch-embedding filters (Fig. 7, left).

    Each of the D filters (C, P, P) is one sample of length C·P·P. The
    filters are centred (the mean filter is subtracted) and the right
    singular vectors of the (D, C·P·P) matrix give the components, sorted by
    the variance they explain. A singular vector's sign is arbitrary; it is
    fixed so that each component's largest-magnitude entry is positive.

    Args:
        patch_embed_weight: the conv weight of the patch embedding, shape
            (D, C, P, P) (``model.patch_embed.proj.weight``).
        k: how many components to return, at most min(D, C·P·P).

    Returns:
        ``(components, explained_variance_ratio)``: components of shape
        (k, C, P, P), each of unit norm, and the share of the filters'
        total variance each one explains, shape (k,).
    """
    check_rank(patch_embed_weight, 4, "patch_embed_weight", "(D, C, P, P)")
    D, C, P, Q = patch_embed_weight.shape
    if P != Q:
        raise ValueError(f"the filters must be square (D, C, P, P), got {P}x{Q}")
    k = check_positive_int(k, "k")
    if k > min(D, C * P * Q):
        raise ValueError(
            f"k={k} components requested, but {D} filters of C*P*P={C * P * Q} values "
            f"have at most min(D, C*P*P)={min(D, C * P * Q)}"
        )
    X = patch_embed_weight.detach().double().reshape(D, C * P * Q)  # (D, C*P*P)
    X = X - X.mean(dim=0, keepdim=True)  # (D, C*P*P), centred
    _, S, Vh = torch.linalg.svd(X, full_matrices=False)  # S (r,), Vh (r, C*P*P)
    comps = Vh[:k]  # (k, C*P*P)
    idx = comps.abs().argmax(dim=1)  # (k,)
    signs = torch.sign(comps[torch.arange(k), idx])  # (k,)
    comps = comps * signs[:, None]  # (k, C*P*P)
    var = S**2  # (r,)
    ratio = var / var.sum().clamp_min(1e-24)  # (r,)
    return comps.reshape(k, C, P, Q).float(), ratio[:k].float()  # (k, C, P, P), (k,)


# ---------------------------------------------------------------- baselines


def _check_weights_and_mask(weights: object, mask: object) -> tuple[torch.Tensor, torch.Tensor]:
    check_tensor(weights, "weights")
    check_rank(mask, 2, "mask", "(n, N)")
    if weights.dim() < 2:
        raise ValueError(f"weights must have shape (n, ..., N), got {tuple(weights.shape)}")
    n, N = mask.shape
    if weights.shape[0] != n or weights.shape[-1] != N:
        raise ValueError(
            f"weights {tuple(weights.shape)} must be (n, ..., N) with n={n} images and N={N} patches "
            f"like mask {tuple(mask.shape)}"
        )
    if bool((weights < 0).any()):
        raise ValueError("weights must be non-negative (attention weights), got negative entries")
    return weights.detach().float(), mask.detach().float()


def share_on_mask(weights: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Share of each image's weights over the patches that lands on the masked patches.

    Args:
        weights: (n, ..., N) non-negative weights over the N patches, e.g. the
            class token's attention to the patches ``attention[:, :, 0, 1:]``
            (n, h, N). They need not sum to 1; each row is renormalised.
        mask: (n, N), 1 for the patches of interest (e.g. ink), 0 elsewhere.

    Returns:
        The share, averaged over the n images: shape ``weights.shape[1:-1]``.
    """
    w, m = _check_weights_and_mask(weights, mask)
    n, N = m.shape
    m = m.reshape(n, *[1] * (w.dim() - 2), N)  # (n, 1, ..., N)
    return ((w * m).sum(-1) / w.sum(-1).clamp_min(1e-12)).mean(dim=0)  # (...)


def ink_share_nulls(
    weights: torch.Tensor, mask: torch.Tensor, permutations: int = 20, seed: int = 0
) -> dict[str, torch.Tensor]:
    """The ink share of some attention, and what two content-blind heads would score.

    * ``observed``: :func:`share_on_mask` of ``weights`` against each image's own mask;
    * ``position_only``: every image's weights replaced by their mean over
      the images (a head that attends by position alone, the same map for
      every image), scored against each image's own mask;
    * ``permuted`` / ``permuted_sd``: the observed weights scored against
      ANOTHER image's mask (a random pairing with no image paired with
      itself), mean and sd over ``permutations`` pairings;
    * ``grid_share``: the share of masked patches in the grid (a head that
      attends uniformly).

    ``observed - position_only`` is the part of the share that depends on the
    image's content rather than on where digits usually are.

    Args:
        weights: (n, ..., N) non-negative weights over the patches.
        mask: (n, N) 0/1 mask per image.
        permutations: number of random pairings (>= 1).
        seed: seed of the pairings.

    Returns:
        A dict of tensors of shape ``weights.shape[1:-1]`` (``grid_share``: a scalar).
    """
    w, m = _check_weights_and_mask(weights, mask)
    check_positive_int(permutations, "permutations")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    n = m.shape[0]
    if n < 2:
        raise ValueError(f"need at least 2 images for a permutation null, got {n}")
    observed = share_on_mask(w, m)
    mean_map = w.mean(dim=0, keepdim=True).expand_as(w)  # (n, ..., N): the same map for every image
    position_only = share_on_mask(mean_map, m)
    g = torch.Generator().manual_seed(seed)
    shares = []
    for _ in range(permutations):
        order = torch.randperm(n, generator=g)
        partner = torch.empty(n, dtype=torch.long)
        partner[order] = order.roll(1)  # a cycle through all images: nobody gets their own mask
        shares.append(share_on_mask(w, m[partner]))
    stacked = torch.stack(shares)  # (permutations, ...)
    return {
        "observed": observed,
        "position_only": position_only,
        "permuted": stacked.mean(dim=0),
        "permuted_sd": stacked.std(dim=0) if permutations > 1 else torch.zeros_like(observed),
        "grid_share": m.mean(),
    }


def class_token_mass(attentions: Sequence[torch.Tensor] | torch.Tensor, num_prefix_tokens: int = 1) -> torch.Tensor:
    """Share of the patch queries' attention that goes to the class token.

    Args:
        attentions: L tensors (B, h, T, T) or one tensor (L, B, h, T, T).
        num_prefix_tokens: tokens before the patches (1: the class token, key 0).

    Returns:
        (L, h): for each layer and head, the attention on key 0 averaged over
        the images and the patch queries (rows ``num_prefix_tokens:``). A
        uniform head gives 1/T.
    """
    A = stack_attentions(attentions)  # (L, B, h, T, T)
    prefix = _check_prefix(num_prefix_tokens)
    if prefix < 1 or prefix >= A.shape[-1]:
        raise ValueError(f"num_prefix_tokens must be in [1, T-1] = [1, {A.shape[-1] - 1}], got {prefix}")
    return A[:, :, :, prefix:, 0].mean(dim=(1, 3))  # (L, h)


def random_patch_ranking(n: int, num_patches: int, seed: int = 0) -> torch.Tensor:
    """(n, N) random orders of the N patches, one per image (the deletion curve's baseline)."""
    check_positive_int(n, "n")
    check_positive_int(num_patches, "num_patches")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    g = torch.Generator().manual_seed(seed)
    return torch.stack([torch.randperm(num_patches, generator=g) for _ in range(n)])  # (n, N)


def _check_ranking(ranking: object, n: int, N: int) -> torch.Tensor:
    check_rank(ranking, 2, "ranking", "(n, N)")
    if tuple(ranking.shape) != (n, N):
        raise ValueError(f"ranking must have shape (n, N) = ({n}, {N}), got {tuple(ranking.shape)}")
    if ranking.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"ranking must hold integer patch indices, got {ranking.dtype}")
    if not torch.equal(ranking.sort(dim=1).values, torch.arange(N).expand(n, N).to(ranking)):
        raise ValueError("every row of ranking must be a permutation of the patch indices 0..N-1")
    return ranking.long()


def delete_patches(
    images: torch.Tensor, ranking: torch.Tensor, k: int, patch_size: int, fill: float = 0.0
) -> torch.Tensor:
    """Blank the first ``k`` patches of each image's ``ranking`` (set them to ``fill``).

    Args:
        images: (n, C, H, W).
        ranking: (n, N) patch indices (row-major on the grid), most important first.
        k: how many patches to blank, 0..N.
        patch_size: P.
        fill: the value written (for standardised digits, the background
            value ``-mean / std``).

    Returns:
        A new tensor (n, C, H, W).
    """
    check_rank(images, 4, "images", "(n, C, H, W)")
    P = check_positive_int(patch_size, "patch_size")
    n, C, H, W = images.shape
    if H % P or W % P:
        raise ValueError(f"images {H}x{W} are not divisible by patch_size {P}")
    rows, cols = H // P, W // P
    N = rows * cols
    ranking = _check_ranking(ranking, n, N)
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= N:
        raise ValueError(f"k must be an integer in [0, {N}], got {k!r}")
    keep = torch.ones(n, N, dtype=images.dtype)  # (n, N)
    keep.scatter_(1, ranking[:, :k], 0.0)
    keep = keep.reshape(n, 1, rows, 1, cols, 1)  # broadcast over C and the pixels of a patch
    x = images.reshape(n, C, rows, P, cols, P)  # (n, C, rows, P, cols, P)
    out = x * keep + fill * (1 - keep)
    return out.reshape(n, C, H, W)


@torch.no_grad()
def deletion_curve(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    ranking: torch.Tensor,
    patch_size: int,
    fill: float = 0.0,
    batch_size: int = 500,
) -> dict[str, torch.Tensor]:
    """Accuracy and true-class probability as the top-ranked patches are blanked.

    For k = 0, 1, ..., N the first k patches of each image's ``ranking`` are
    set to ``fill`` (:func:`delete_patches`) and the model is scored. A
    ranking that finds the patches the model relies on makes the curve fall
    faster than a random ranking (:func:`random_patch_ranking`) does.

    Args:
        model: maps (n, C, H, W) to logits (n, classes); put in eval mode.
        images: (n, C, H, W).
        labels: (n,) class indices.
        ranking: (n, N), most important patch first.
        patch_size: P.
        fill: value of a blanked pixel.
        batch_size: images per forward pass.

    Returns:
        ``{"accuracy": (N+1,), "true_probability": (N+1,), "correct": (N+1, n)}``, entry k
        after blanking k patches; ``correct`` says per image whether the model was right
        (its mean over k is that image's area under the curve, for paired tests).
    """
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    check_rank(images, 4, "images", "(n, C, H, W)")
    check_rank(labels, 1, "labels", "(n,)")
    if labels.shape[0] != images.shape[0]:
        raise ValueError(f"labels has {labels.shape[0]} entries for {images.shape[0]} images")
    check_positive_int(batch_size, "batch_size")
    P = check_positive_int(patch_size, "patch_size")
    N = (images.shape[2] // P) * (images.shape[3] // P)
    model.eval()
    acc, prob, right = [], [], []
    for k in range(N + 1):
        x = delete_patches(images, ranking, k, P, fill)
        logits = torch.cat([model(part) for part in x.split(batch_size)])  # (n, classes)
        p = logits.softmax(dim=-1)
        right.append(logits.argmax(dim=-1) == labels)  # (n,)
        acc.append(right[-1].float().mean())
        prob.append(p[torch.arange(len(labels)), labels].mean())
    return {"accuracy": torch.stack(acc), "true_probability": torch.stack(prob), "correct": torch.stack(right)}
