"""Attention rollout, attention distance, position similarity and filter PCA."""
import itertools
import math

import numpy as np
import pytest
import torch

from vit_tutorial import ViT, vit_config
from vit_tutorial.analysis import (
    attention_rollout,
    class_token_map,
    embedding_filter_components,
    mean_attention_distance,
    patch_distance_matrix,
    position_embedding_similarity,
    query_attention_map,
    stack_attentions,
    uniform_attention_distance,
)


def random_attention(L=3, B=2, h=4, T=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(B, h, T, T, generator=g).softmax(dim=-1) for _ in range(L)]


# ---------------------------------------------------------------- stacking


def test_stack_accepts_list_and_tensor():
    att = random_attention()
    stacked = stack_attentions(att)
    assert stacked.shape == (3, 2, 4, 10, 10)
    assert torch.equal(stack_attentions(stacked), stacked)
    assert torch.equal(stack_attentions(tuple(att)), stacked)


@pytest.mark.parametrize(
    "bad, match",
    [
        (torch.rand(2, 4, 10, 10), "for one layer"),
        (torch.rand(3, 2, 4, 10, 10, 1), "5 dimensions"),
        ([torch.rand(2, 4, 10)], r"\(B, h, T, T\)"),
        ([], "empty"),
        ([torch.rand(2, 4, 10, 10), torch.rand(2, 4, 9, 9)], "same shape"),
        ([torch.rand(2, 4, 10, 9)], "square"),
        ("attention", "list of tensors"),
        ([torch.ones(1, 1, 3, 3, dtype=torch.long)], "floating point"),
    ],
)
def test_stack_rejects_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        stack_attentions(bad)


# ---------------------------------------------------------------- rollout


def test_rollout_of_identity_attention_is_identity():
    eye = torch.eye(7).expand(2, 3, 7, 7)
    for fusion in ("mean", "max", "min"):
        for residual in (True, False):
            out = attention_rollout([eye] * 4, head_fusion=fusion, residual=residual)
            assert out.shape == (2, 7, 7)
            torch.testing.assert_close(out, torch.eye(7).expand(2, 7, 7))


@pytest.mark.parametrize("fusion", ["mean", "max", "min"])
@pytest.mark.parametrize("residual", [True, False])
def test_rollout_rows_sum_to_one(fusion, residual):
    out = attention_rollout(random_attention(), head_fusion=fusion, residual=residual)
    assert out.shape == (2, 10, 10) and (out >= 0).all()
    torch.testing.assert_close(out.sum(dim=-1), torch.ones(2, 10))


def test_rollout_matches_hand_computation():
    att = random_attention(L=3, B=1, h=2, T=5)
    eye = torch.eye(5)
    mats = []
    for a in att:
        m = 0.5 * a[0].mean(dim=0) + 0.5 * eye
        mats.append(m / m.sum(dim=-1, keepdim=True))
    expected = mats[2] @ mats[1] @ mats[0]  # the last layer on the left
    torch.testing.assert_close(attention_rollout(att)[0], expected)
    wrong_order = mats[0] @ mats[1] @ mats[2]
    assert not torch.allclose(attention_rollout(att)[0], wrong_order, atol=1e-4)
    # start_layer skips the first layers
    torch.testing.assert_close(attention_rollout(att, start_layer=1)[0], mats[2] @ mats[1])
    # without the residual path a single layer's rollout is its head-mean attention
    torch.testing.assert_close(attention_rollout(att[:1], residual=False)[0], att[0][0].mean(dim=0))


def test_head_fusions_differ_as_expected():
    # two heads: one attends to token 0 only, the other to token 1 only
    T = 3
    a = torch.zeros(1, 2, T, T)
    a[0, 0, :, 0] = 1.0
    a[0, 1, :, 1] = 1.0
    mean = attention_rollout([a], head_fusion="mean", residual=False)[0]
    mx = attention_rollout([a], head_fusion="max", residual=False)[0]
    torch.testing.assert_close(mean[:, :2], torch.full((T, 2), 0.5))
    torch.testing.assert_close(mx[:, :2], torch.full((T, 2), 0.5))  # max = (1, 1, 0), renormalised
    # min of these heads is all zero: with the residual identity only the diagonal survives
    mn = attention_rollout([a], head_fusion="min", residual=True)[0]
    torch.testing.assert_close(mn, torch.eye(T))
    # on random attention the three fusions give three different rollouts
    att = random_attention(seed=3)
    outs = [attention_rollout(att, head_fusion=f) for f in ("mean", "max", "min")]
    for x, y in itertools.combinations(outs, 2):
        assert not torch.allclose(x, y, atol=1e-4)
    # single layer, no residual: each fusion is the element-wise mean/max/min, renormalised
    one = att[:1]
    for fusion, reduce in (("max", torch.amax), ("min", torch.amin)):
        fused = reduce(one[0], dim=1)
        torch.testing.assert_close(
            attention_rollout(one, head_fusion=fusion, residual=False), fused / fused.sum(-1, keepdim=True)
        )
    # a sharp head (identity) and a uniform head
    sharp = torch.zeros(1, 2, T, T)
    sharp[0, 0] = torch.eye(T)
    sharp[0, 1] = 1.0 / T
    peak = [attention_rollout([sharp], head_fusion=f, residual=False)[0].diagonal() for f in ("mean", "max", "min")]
    # mean: 0.5 * 1 + 0.5 / T; max: row (1, 1/T, 1/T) renormalised; min: row (1/T, 0, 0) renormalised
    torch.testing.assert_close(peak[0], torch.full((T,), 0.5 + 0.5 / T))
    torch.testing.assert_close(peak[1], torch.full((T,), 1.0 / (1.0 + (T - 1) / T)))
    torch.testing.assert_close(peak[2], torch.ones(T))


def test_residual_keeps_more_of_the_token_itself():
    att = random_attention(seed=1)
    with_res = attention_rollout(att, residual=True)
    without = attention_rollout(att, residual=False)
    assert with_res.diagonal(dim1=1, dim2=2).mean() > without.diagonal(dim1=1, dim2=2).mean()


def test_rollout_rejects_bad_arguments():
    att = random_attention()
    with pytest.raises(ValueError, match="unknown head_fusion 'median'"):
        attention_rollout(att, head_fusion="median")
    with pytest.raises(ValueError, match=r"start_layer must be .* \[0, 2\]"):
        attention_rollout(att, start_layer=3)
    with pytest.raises(ValueError, match="residual"):
        attention_rollout(att, residual=1)
    with pytest.raises(ValueError, match="square"):
        attention_rollout([torch.rand(1, 2, 5, 4)])


# ---------------------------------------------------------------- maps on the grid


def test_query_and_class_token_maps():
    T, rows, cols = 1 + 2 * 3, 2, 3
    a = torch.arange(2 * 4 * T * T, dtype=torch.float32).reshape(2, 4, T, T)
    m = class_token_map(a, (rows, cols))
    assert m.shape == (2, 4, rows, cols)
    torch.testing.assert_close(m, a[:, :, 0, 1:].reshape(2, 4, rows, cols))
    q = query_attention_map(a[0, 0], (rows, cols), query=5)  # patch 4 = row 1, col 1
    assert q.shape == (rows, cols) and q[0, 0] == a[0, 0, 5, 1] and q[1, 2] == a[0, 0, 5, 6]
    assert query_attention_map(a[:, :, 1:, 1:], (rows, cols), num_prefix_tokens=0).shape == (2, 4, 2, 3)
    with pytest.raises(ValueError, match="needs 10"):
        class_token_map(a, 3)
    with pytest.raises(ValueError, match=r"query must be .* \[0, 6\]"):
        query_attention_map(a, (rows, cols), query=7)
    with pytest.raises(ValueError, match="square"):
        class_token_map(a[..., :-1], (rows, cols))
    with pytest.raises(ValueError, match="grid_size"):
        class_token_map(a, (2, 3, 1))
    with pytest.raises(ValueError, match="num_prefix_tokens"):
        class_token_map(a, (rows, cols), num_prefix_tokens=-1)


# ---------------------------------------------------------------- attention distance


def pairwise_mean_distance(rows, cols, P):
    """Independent reference: mean over all ordered pairs (self-pairs included)."""
    centres = [((r + 0.5) * P, (c + 0.5) * P) for r in range(rows) for c in range(cols)]
    dists = [math.dist(a, b) for a, b in itertools.product(centres, repeat=2)]
    return float(np.mean(dists))


def test_patch_distance_matrix_is_in_pixels():
    d = patch_distance_matrix((2, 3), 4)
    assert d.shape == (6, 6)
    assert d[0, 1] == 4 and d[0, 3] == 4 and d[0, 5] == pytest.approx(4 * math.sqrt(5))
    torch.testing.assert_close(d, d.T)
    assert (d.diagonal() == 0).all()
    assert uniform_attention_distance((2, 3), 4) == pytest.approx(pairwise_mean_distance(2, 3, 4))


def test_distance_is_zero_when_each_patch_attends_to_itself():
    L, B, h, N = 2, 3, 4, 16
    att = torch.zeros(L, B, h, N + 1, N + 1)
    att[..., 0, :] = 1.0 / (N + 1)  # the class token's row does not count
    att[..., 1:, 1:] = torch.eye(N)
    d = mean_attention_distance(att, patch_size=4, grid_size=4)
    assert d.shape == (L, h)
    torch.testing.assert_close(d, torch.zeros(L, h))


@pytest.mark.parametrize("rows, cols, P", [(4, 4, 4), (7, 7, 4), (3, 5, 16)])
def test_uniform_attention_gives_the_mean_pairwise_distance(rows, cols, P):
    T = rows * cols + 1
    att = [torch.full((2, 3, T, T), 1.0 / T)]
    d = mean_attention_distance(att, P, (rows, cols))
    torch.testing.assert_close(d, torch.full((1, 3), pairwise_mean_distance(rows, cols, P)))


def test_distance_renormalisation_and_reduce():
    # every patch puts half its attention on the class token, half spread uniformly over patches
    rows = cols = 3
    N, T = 9, 10
    att = torch.zeros(1, 1, 1, T, T)
    att[..., 0] = 0.5
    att[..., 1:] = 0.5 / N
    uniform = pairwise_mean_distance(rows, cols, 2)
    assert mean_attention_distance(att, 2, 3).item() == pytest.approx(uniform, rel=1e-5)
    assert mean_attention_distance(att, 2, 3, renormalize=False).item() == pytest.approx(uniform / 2, rel=1e-5)
    # a neighbour-only head: each patch looks at the patch to its right (or left at the edge)
    nb = torch.zeros(1, 2, 1, T, T)
    for i in range(N):
        r, c = divmod(i, cols)
        j = r * cols + (c + 1 if c + 1 < cols else c - 1)
        nb[0, :, 0, 1 + i, 1 + j] = 1.0
    nb[0, :, 0, 0, 0] = 1.0  # the class token attends to itself: every row is a distribution
    nb[0, 1] = 0.0
    nb[0, 1, 0, 0, 0] = 1.0
    nb[0, 1, 0, 1:, 1:] = torch.eye(N)  # image 1: self only
    per_image = mean_attention_distance(nb, 2, 3, reduce="none")
    assert per_image.shape == (1, 2, 1)
    torch.testing.assert_close(per_image[0, :, 0], torch.tensor([2.0, 0.0]))
    torch.testing.assert_close(mean_attention_distance(nb, 2, 3), torch.tensor([[1.0]]))
    # pixels scale with the patch size
    torch.testing.assert_close(mean_attention_distance(nb, 16, 3), torch.tensor([[8.0]]))


def test_distance_rejects_bad_arguments():
    att = random_attention(T=10)
    with pytest.raises(ValueError, match="needs 17"):
        mean_attention_distance(att, 4, 4)
    with pytest.raises(ValueError, match="patch_size"):
        mean_attention_distance(att, 0, 3)
    with pytest.raises(ValueError, match="unknown reduce 'sum'"):
        mean_attention_distance(att, 4, 3, reduce="sum")
    with pytest.raises(ValueError, match="for one layer"):
        mean_attention_distance(att[0], 4, 3)
    with pytest.raises(ValueError, match="grid_size"):
        patch_distance_matrix("7x7", 4)


# ---------------------------------------------------------------- position embeddings


def test_position_similarity_shape_and_values():
    g = torch.Generator().manual_seed(0)
    table = torch.randn(1, 1 + 12, 8, generator=g)
    sim = position_embedding_similarity(table, (3, 4))
    assert sim.shape == (3, 4, 3, 4)
    for r, c in itertools.product(range(3), range(4)):
        assert sim[r, c, r, c].item() == pytest.approx(1.0, abs=1e-5)
    a, b = table[0, 1 + 1 * 4 + 2], table[0, 1 + 2 * 4 + 0]  # patches (1, 2) and (2, 0)
    expected = torch.nn.functional.cosine_similarity(a, b, dim=0)
    assert sim[1, 2, 2, 0].item() == pytest.approx(expected.item(), abs=1e-6)
    torch.testing.assert_close(sim, sim.permute(2, 3, 0, 1))
    torch.testing.assert_close(position_embedding_similarity(table[0, 1:], (3, 4), num_prefix_tokens=0), sim)
    with pytest.raises(ValueError, match="needs 10"):
        position_embedding_similarity(table, 3)
    with pytest.raises(ValueError, match=r"\(1, T, D\)"):
        position_embedding_similarity(table.expand(2, -1, -1), (3, 4))
    with pytest.raises(ValueError, match="2 dimensions"):
        position_embedding_similarity(table[0, 0], (3, 4))


def test_position_similarity_of_a_sincos_table_peaks_on_the_diagonal():
    from vit_tutorial import sincos_2d_position_embedding

    sim = position_embedding_similarity(sincos_2d_position_embedding(5, 64), 5)
    # each patch is most similar to itself, then to its neighbours
    for r, c in [(0, 0), (2, 2), (4, 1)]:
        m = sim[r, c].clone()
        assert m.argmax().item() == r * 5 + c
        m[r, c] = -2
        nr, nc = divmod(m.argmax().item(), 5)
        assert abs(nr - r) + abs(nc - c) == 1


# ---------------------------------------------------------------- filters


def test_filter_components_recover_planted_directions():
    g = torch.Generator().manual_seed(0)
    D, C, P = 200, 1, 4
    u = torch.zeros(C * P * P)
    u[:8] = 1.0
    v = torch.zeros(C * P * P)
    v[8:] = 1.0
    u, v = u / u.norm(), v / v.norm()
    coef = torch.randn(D, 2, generator=g) * torch.tensor([3.0, 1.0])
    W = (coef[:, :1] * u + coef[:, 1:] * v + 0.01 * torch.randn(D, C * P * P, generator=g)).reshape(D, C, P, P)
    comps, ratio = embedding_filter_components(W, k=3)
    assert comps.shape == (3, C, P, P) and ratio.shape == (3,)
    assert abs(comps[0].flatten() @ u).item() > 0.99
    assert abs(comps[1].flatten() @ v).item() > 0.99
    assert ratio[0] > ratio[1] > ratio[2] and ratio.sum() <= 1.0 + 1e-6
    torch.testing.assert_close(comps.flatten(1).norm(dim=1), torch.ones(3))
    # the sign convention: each component's largest-magnitude entry is positive
    flat = comps.flatten(1)
    assert (flat[torch.arange(3), flat.abs().argmax(dim=1)] > 0).all()
    # all components of a full-rank set explain all the variance
    full, full_ratio = embedding_filter_components(W, k=16)
    assert full_ratio.sum().item() == pytest.approx(1.0, abs=1e-5)


def test_filter_components_reject_bad_input():
    W = torch.randn(64, 1, 4, 4)
    with pytest.raises(ValueError, match=r"min\(D, C\*P\*P\)=16"):
        embedding_filter_components(W, k=28)
    with pytest.raises(ValueError, match=r"\(D, C, P, P\)"):
        embedding_filter_components(W[0], k=2)
    with pytest.raises(ValueError, match="square"):
        embedding_filter_components(torch.randn(8, 1, 4, 3), k=2)
    with pytest.raises(ValueError, match="positive integer"):
        embedding_filter_components(W, k=0)


# ---------------------------------------------------------------- on a real model


def test_functions_accept_what_the_model_returns():
    torch.manual_seed(0)
    model = ViT(vit_config("ViT-Tiny")).eval()
    c = model.config
    with torch.no_grad():
        logits, att = model(torch.randn(2, 1, 28, 28), return_attention=True)
    assert len(att) == c.depth and att[0].shape == (2, c.heads, c.num_tokens, c.num_tokens)
    roll = attention_rollout(att)
    assert class_token_map(roll, c.grid_size).shape == (2, c.grid_size, c.grid_size)
    d = mean_attention_distance(att, c.patch_size, c.grid_size)
    assert d.shape == (c.depth, c.heads)
    # an untrained model attends almost uniformly
    uniform = uniform_attention_distance(c.grid_size, c.patch_size)
    assert torch.allclose(d, torch.full_like(d, uniform), rtol=0.05)
    sim = position_embedding_similarity(model.pos_embed.weight, c.grid_size)
    assert sim.shape == (c.grid_size,) * 4
    comps, ratio = embedding_filter_components(model.patch_embed.proj.weight, k=16)
    assert comps.shape == (16, 1, 4, 4)


# ---------------------------------------------------------------- baselines (chapter 10's nulls and deletion test)

from vit_tutorial.analysis import (  # noqa: E402
    class_token_mass,
    delete_patches,
    deletion_curve,
    ink_share_nulls,
    random_patch_ranking,
    share_on_mask,
)


def test_share_on_mask_by_hand():
    w = torch.tensor([[1.0, 1.0, 2.0, 0.0], [0.0, 0.0, 0.0, 4.0]])  # (2 images, N=4)
    m = torch.tensor([[1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    # image 0: (1 + 2) / 4 = 0.75; image 1: 4 / 4 = 1
    assert torch.allclose(share_on_mask(w, m), torch.tensor(0.875))
    w3 = torch.stack([w, w.flip(-1)], dim=1)  # (2, 2 heads, 4)
    assert share_on_mask(w3, m).shape == (2,)
    with pytest.raises(ValueError, match="non-negative"):
        share_on_mask(-w, m)
    with pytest.raises(ValueError, match=r"\(n, \.\.\., N\)"):
        share_on_mask(w[:, :3], m)


def test_ink_share_nulls_separate_content_from_position():
    g = torch.Generator().manual_seed(0)
    n, N = 200, 16
    centre = torch.zeros(N)
    centre[[5, 6, 9, 10]] = 1.0  # the middle 2x2 of a 4x4 grid
    # ink: always the centre, plus one random extra patch per image
    extra = torch.randint(0, N, (n,), generator=g)
    mask = centre.expand(n, N).clone()
    mask[torch.arange(n), extra] = 1.0
    # a position-only head: attends to the centre, the same for every image
    pos_head = (centre + 0.01).expand(n, N)
    r = ink_share_nulls(pos_head, mask, permutations=10)
    assert torch.allclose(r["observed"], r["position_only"], atol=1e-6)  # nothing beyond position
    assert r["observed"] > r["grid_share"] + 0.3  # yet far above the grid share: centring alone
    assert abs(r["observed"] - r["permuted"]) < 0.02
    # a content head: attends exactly to its own image's ink
    content = mask + 1e-3
    r = ink_share_nulls(content, mask, permutations=10, seed=1)
    assert r["observed"] > r["position_only"] + 0.03 and r["observed"] > r["permuted"] + 0.03
    assert r["permuted_sd"] >= 0 and r["grid_share"] == mask.mean()
    with pytest.raises(ValueError, match="at least 2 images"):
        ink_share_nulls(content[:1], mask[:1])


def test_ink_share_permutation_pairs_no_image_with_itself():
    # a head whose weights ARE its own mask scores 1 observed; a pairing with itself would too
    mask = torch.eye(8)  # 8 images, each inks a different patch
    r = ink_share_nulls(mask + 0.0, mask, permutations=5)
    assert r["observed"] == 1.0 and r["permuted"] == 0.0


def test_class_token_mass():
    T = 5
    a = torch.full((2, 3, T, T), 1.0 / T)  # uniform: 1/T everywhere
    m = class_token_mass([a, a])
    assert m.shape == (2, 3) and torch.allclose(m, torch.full((2, 3), 1.0 / T))
    b = torch.zeros(1, 1, T, T)
    b[..., 1:, 0] = 1.0  # every patch query looks only at the class token
    b[..., 0, 1] = 1.0  # the class token's own row does not count
    assert class_token_mass([b]).item() == 1.0


def test_delete_patches_and_deletion_curve():
    x = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).reshape(2, 1, 4, 4)
    ranking = torch.tensor([[3, 0, 1, 2], [0, 1, 2, 3]])  # 2x2 patches of 2x2 pixels
    out = delete_patches(x, ranking, 1, 2, fill=-1.0)
    assert (out[0, 0, 2:, 2:] == -1).all() and (out[0, 0, :2] == x[0, 0, :2]).all()  # patch 3 = bottom right
    assert (out[1, 0, :2, :2] == -1).all() and (out[1, 0, 2:] == x[1, 0, 2:]).all()
    assert torch.equal(delete_patches(x, ranking, 0, 2), x)
    assert (delete_patches(x, ranking, 4, 2, fill=7.0) == 7.0).all()
    with pytest.raises(ValueError, match="permutation"):
        delete_patches(x, torch.tensor([[0, 0, 1, 2], [0, 1, 2, 3]]), 1, 2)

    class OnePatch(torch.nn.Module):  # "class 1" iff the top-left patch has ink
        def forward(self, images):
            s = images[:, 0, :2, :2].sum(dim=(1, 2))
            return torch.stack([-s, s], dim=1)

    imgs = torch.zeros(6, 1, 4, 4)
    imgs[:, :, :2, :2] = 1.0
    labels = torch.ones(6, dtype=torch.long)
    top_first = torch.tensor([[0, 1, 2, 3]] * 6)
    curve = deletion_curve(OnePatch(), imgs, labels, top_first, 2)
    assert curve["accuracy"].tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]  # the right patch first: falls at once
    last_first = torch.tensor([[3, 2, 1, 0]] * 6)
    assert deletion_curve(OnePatch(), imgs, labels, last_first, 2)["accuracy"].tolist() == [1, 1, 1, 1, 0]
    rnd = random_patch_ranking(6, 4, seed=0)
    assert rnd.shape == (6, 4) and torch.equal(rnd.sort(1).values, torch.arange(4).expand(6, 4))
    assert torch.equal(rnd, random_patch_ranking(6, 4, seed=0))



def test_collect_attentions_batches_in_eval_mode_and_restores_the_mode():
    from vit_tutorial.analysis import collect_attentions

    torch.manual_seed(0)
    model = ViT(vit_config("ViT-Tiny", image_size=8, patch_size=4, dim=16, depth=2, heads=2, mlp_dim=32,
                           attention_dropout=0.5)).train()
    images = torch.randn(5, 1, 8, 8)
    att = collect_attentions(model, images, batch_size=2)
    assert model.training  # put back in the mode it had
    assert len(att) == 2 and att[0].shape == (5, 2, 5, 5) and att[0].device.type == "cpu"
    with torch.no_grad():
        _, direct = model.eval()(images, return_attention=True)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(att, direct))  # eval: no dropout, same numbers
    with pytest.raises(ValueError, match="must return"):
        collect_attentions(torch.nn.Linear(8, 8), images)
    with pytest.raises(ValueError, match="4 dimensions"):
        collect_attentions(model, images[0])


def test_attention_entropy_and_patch_cosine_similarity():
    from vit_tutorial.analysis import attention_entropy, patch_cosine_similarity, position_embedding_similarity

    uniform = torch.full((2, 3, 4, 4), 0.25)
    assert torch.allclose(attention_entropy(uniform), torch.full((2, 3, 4), math.log(4)))
    one_hot = torch.eye(4).expand(2, 3, 4, 4)
    assert torch.equal(attention_entropy(one_hot), torch.zeros(2, 3, 4))
    assert torch.allclose(attention_entropy(uniform[..., 1:, 1:] * 3), torch.full((2, 3, 3), math.log(3)))  # renormalised
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        attention_entropy(torch.ones(4))
    table = torch.randn(1, 10, 6)
    sim = patch_cosine_similarity(table)  # (9, 9)
    assert sim.shape == (9, 9) and torch.allclose(sim.diagonal(), torch.ones(9), atol=1e-6)
    assert torch.equal(position_embedding_similarity(table, 3).reshape(9, 9), sim)  # one computation, two layouts
    assert patch_cosine_similarity(table[0, 1:], num_prefix_tokens=0).shape == (9, 9)
    with pytest.raises(ValueError, match="no patch rows"):
        patch_cosine_similarity(torch.randn(1, 6), num_prefix_tokens=1)
