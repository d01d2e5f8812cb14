"""Chapter 10's self-checks accept a right answer and name the usual slips."""
import itertools
import math

import torch

from vit_tutorial.exercises import check_attention_distance, check_rollout, check_uniform_distance


# ---------------------------------------------------------------- rollout


def fuse(attentions, head_fusion):
    A = torch.stack(attentions)  # (L, B, h, T, T)
    return {"mean": A.mean(2), "max": A.amax(2), "min": A.amin(2)}[head_fusion]


def rollout_right(attentions, head_fusion="mean"):
    fused = fuse(attentions, head_fusion)
    T = fused.shape[-1]
    result = torch.eye(T).expand_as(fused[0])
    for a in fused:
        a = 0.5 * a + 0.5 * torch.eye(T)
        a = a / a.sum(-1, keepdim=True)
        result = a @ result
    return result


def rollout_no_residual(attentions, head_fusion="mean"):
    fused = fuse(attentions, head_fusion)
    result = torch.eye(fused.shape[-1]).expand_as(fused[0])
    for a in fused:
        result = (a / a.sum(-1, keepdim=True)) @ result
    return result


def rollout_no_renorm(attentions, head_fusion="mean"):
    fused = fuse(attentions, head_fusion)
    T = fused.shape[-1]
    result = torch.eye(T).expand_as(fused[0])
    for a in fused:
        result = (0.5 * a + 0.5 * torch.eye(T)) @ result
    return result


def rollout_wrong_order(attentions, head_fusion="mean"):
    fused = fuse(attentions, head_fusion)
    T = fused.shape[-1]
    result = torch.eye(T).expand_as(fused[0])
    for a in fused:
        a = 0.5 * a + 0.5 * torch.eye(T)
        result = result @ (a / a.sum(-1, keepdim=True))
    return result


def rollout_ignores_fusion(attentions, head_fusion="mean"):
    return rollout_right(attentions, "mean")


def test_rollout_check():
    assert check_rollout(rollout_right)
    r = check_rollout(rollout_no_residual)
    assert not r and "residual" in r.message
    r = check_rollout(rollout_no_renorm)
    assert not r and "sum to 1" in r.message and "max" in r.message
    r = check_rollout(rollout_wrong_order)
    assert not r and "wrong order" in r.message
    r = check_rollout(rollout_ignores_fusion)
    assert not r and "head_fusion='max'" in r.message
    r = check_rollout(lambda attentions, head_fusion="mean": rollout_right(attentions, head_fusion)[:, 1:])
    assert not r and "shape" in r.message

    def stub(attentions, head_fusion="mean"):
        raise NotImplementedError

    assert "NotImplementedError" in check_rollout(stub).message


# ---------------------------------------------------------------- attention distance


def centres(grid, P):
    return torch.tensor([[(r + 0.5) * P, (c + 0.5) * P] for r in range(grid) for c in range(grid)])


def distance_right(attention, patch_size, grid_size):
    a = attention[:, :, 1:, 1:]
    a = a / a.sum(-1, keepdim=True)
    xy = centres(grid_size, patch_size)
    d = torch.cdist(xy, xy)
    return (a * d).sum(-1).mean(dim=(0, 2))


def distance_in_patches(attention, patch_size, grid_size):
    return distance_right(attention, 1, grid_size)


def distance_not_renormalised(attention, patch_size, grid_size):
    a = attention[:, :, 1:, 1:]
    xy = centres(grid_size, patch_size)
    return (a * torch.cdist(xy, xy)).sum(-1).mean(dim=(0, 2))


def distance_manhattan(attention, patch_size, grid_size):
    a = attention[:, :, 1:, 1:]
    a = a / a.sum(-1, keepdim=True)
    xy = centres(grid_size, patch_size)
    d = (xy[:, None] - xy[None]).abs().sum(-1)
    return (a * d).sum(-1).mean(dim=(0, 2))


def distance_keeps_class_query(attention, patch_size, grid_size):
    # averages over the class-token query too (giving it distance 0)
    per_query = distance_right(attention, patch_size, grid_size)
    N = grid_size**2
    return per_query * N / (N + 1)


def test_attention_distance_check():
    assert check_attention_distance(distance_right)
    r = check_attention_distance(distance_in_patches)
    assert not r and "pixels" in r.message
    r = check_attention_distance(distance_not_renormalised)
    assert not r and "renormalise" in r.message
    r = check_attention_distance(distance_manhattan)
    assert not r and "Manhattan" in r.message
    r = check_attention_distance(distance_keeps_class_query)
    assert not r and "different values" in r.message
    r = check_attention_distance(lambda a, P, g: distance_right(a, P, g)[None])
    assert not r and "shape" in r.message


# ---------------------------------------------------------------- uniform distance


def uniform_right(grid_size, patch_size):
    pts = [((r + 0.5) * patch_size, (c + 0.5) * patch_size) for r in range(grid_size) for c in range(grid_size)]
    return sum(math.dist(a, b) for a, b in itertools.product(pts, repeat=2)) / len(pts) ** 2


def uniform_without_self(grid_size, patch_size):
    pts = [(r * patch_size, c * patch_size) for r in range(grid_size) for c in range(grid_size)]
    pairs = [(a, b) for a, b in itertools.product(pts, repeat=2) if a != b]
    return sum(math.dist(a, b) for a, b in pairs) / len(pairs)


def test_uniform_distance_check():
    r = check_uniform_distance(uniform_right)
    assert r and "pixels" in r.message
    r = check_uniform_distance(uniform_without_self)
    assert not r and "self-pairs" in r.message
    r = check_uniform_distance(lambda g, P: uniform_right(g, 1))
    assert not r and "patches, not pixels" in r.message
    r = check_uniform_distance(lambda g, P: torch.tensor(uniform_right(g, P)))
    assert r
    r = check_uniform_distance(lambda g, P: "far")
    assert not r and "a number" in r.message
    r = check_uniform_distance(lambda g, P: g * P / 2)
    assert not r and "expected" in r.message


def test_checks_report_unfinished_stubs():
    def stub(*args, **kwargs):
        raise NotImplementedError

    for check in (check_rollout, check_attention_distance, check_uniform_distance):
        result = check(stub)
        assert not result and "NotImplementedError" in result.message


def test_check_position_only_share_passes_the_answer_and_names_the_slips():
    from vit_tutorial.analysis import share_on_mask
    from vit_tutorial.exercises import check_position_only_share

    def right(weights, mask):
        mean = weights.mean(dim=0, keepdim=True).expand_as(weights)
        return ((mean * mask[:, None]).sum(-1) / mean.sum(-1)).mean(dim=0)

    assert check_position_only_share(right)
    r = check_position_only_share(lambda w, m: share_on_mask(w, m))
    assert not r and "OWN maps" in str(r)
    r = check_position_only_share(lambda w, m: (w.mean(0, keepdim=True) * m[:, None]).sum(-1).mean(0))
    assert not r and "divide" in str(r)
    r = check_position_only_share(lambda w, m: m.mean().expand(w.shape[1]))
    assert not r and "uniform" in str(r)
