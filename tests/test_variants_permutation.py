"""The two fixed shuffles (vit_tutorial.variants.permutation) and the ViT's
exact invariance to the position shuffle."""
import pytest
import torch

import vit_tutorial as vt
from vit_tutorial.baselines import SmallCNN
from vit_tutorial.variants import FixedShuffle, permute_position_table, random_shuffle, shuffle_patches


def _vit(pool="cls", seed=0):
    torch.manual_seed(seed)
    cfg = vt.ViTConfig(image_size=28, patch_size=7, in_channels=1, num_classes=10, dim=32, depth=2, heads=4,
                       mlp_dim=64, pool=pool)
    model = vt.ViT(cfg).eval()
    with torch.no_grad():  # weights far from zero, so that positions matter to the output
        for w in model.parameters():
            if w.dim() > 1:
                w.normal_(0, 0.3)
    return model


def test_position_shuffle_moves_whole_patches():
    x = torch.arange(2 * 28 * 28, dtype=torch.float32).reshape(2, 1, 28, 28)
    perm = random_shuffle((1, 28, 28), 7, "positions", seed=1)
    y = shuffle_patches(x, perm, 7, "positions")
    px, py = vt.patchify(x, 7), vt.patchify(y, 7)
    for i in range(16):
        assert torch.equal(py[:, i], px[:, int(perm[i])])
    assert not torch.equal(x, y)


def test_pixel_shuffle_keeps_patch_places():
    x = torch.randn(3, 1, 28, 28)
    perm = random_shuffle((1, 28, 28), 7, "pixels", seed=2)
    y = shuffle_patches(x, perm, 7, "pixels")
    assert torch.equal(vt.patchify(y, 7), vt.patchify(x, 7)[..., perm])
    # each patch keeps its set of values
    assert torch.equal(vt.patchify(y, 7).sort(-1).values, vt.patchify(x, 7).sort(-1).values)


@pytest.mark.parametrize("pool", ["cls", "mean"])
def test_vit_is_exactly_invariant_to_position_shuffle_with_permuted_table(pool):
    model = _vit(pool)
    x = torch.randn(8, 1, 28, 28)
    perm = random_shuffle((1, 28, 28), 7, "positions", seed=3)
    xs = shuffle_patches(x, perm, 7, "positions")
    twin = permute_position_table(model, perm)
    with torch.no_grad():
        ref, same, other = model(x), twin(xs), model(xs)
    assert torch.allclose(ref, same, atol=1e-5), (ref - same).abs().max()
    # without the permuted table the shuffle does change the output: the test can fail
    assert (ref - other).abs().max() > 1e-2
    # the class token's row is kept, the patch rows are reordered
    assert torch.equal(twin.pos_embed.weight[0, 0], model.pos_embed.weight[0, 0])
    assert torch.equal(twin.pos_embed.weight[0, 1:], model.pos_embed.weight[0, 1:][perm])


def test_cnn_has_no_such_twin_for_an_untrained_net():
    """No reordering of a CNN's weights is checked here (none exists in general);
    this only checks that the shuffle changes a CNN's output, so the
    comparison in chapter 11 is not trivial."""
    torch.manual_seed(0)
    cnn = SmallCNN().eval()
    x = torch.randn(4, 1, 28, 28)
    perm = random_shuffle((1, 28, 28), 7, "positions", seed=3)
    with torch.no_grad():
        assert (cnn(x) - cnn(shuffle_patches(x, perm, 7, "positions"))).abs().max() > 1e-4


def test_fixed_shuffle_module_and_training_step_equivariance():
    """One optimisation step on shuffled images from the permuted start gives
    the permuted result of one step on the originals (training equivariance)."""
    model = _vit()
    perm = random_shuffle((1, 28, 28), 7, "positions", seed=4)
    twin = permute_position_table(model, perm)
    wrapped = torch.nn.Sequential(FixedShuffle(perm, 7, "positions"), twin)
    x, y = torch.randn(16, 1, 28, 28), torch.randint(0, 10, (16,))
    for net in (model, wrapped):
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        net.train()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    assert torch.allclose(permute_position_table(model, perm).pos_embed.weight, twin.pos_embed.weight, atol=1e-5)
    assert torch.allclose(model.head.weight, twin.head.weight, atol=1e-5)
    with torch.no_grad():
        assert torch.allclose(model.eval()(x), wrapped.eval()(x), atol=1e-4)


@pytest.mark.parametrize("perm, match", [
    (torch.arange(15), "length 16"), (torch.zeros(16, dtype=torch.long), "permutation of 0..15"),
    (torch.arange(16).float(), "integer tensor"),
])
def test_bad_permutation(perm, match):
    with pytest.raises(ValueError, match=match):
        shuffle_patches(torch.zeros(1, 1, 28, 28), perm, 7, "positions")


def test_bad_mode_and_model():
    with pytest.raises(ValueError, match="mode must be"):
        shuffle_patches(torch.zeros(1, 1, 28, 28), torch.arange(16), 7, "rows")
    with pytest.raises(TypeError, match="perm must be"):
        shuffle_patches(torch.zeros(1, 1, 28, 28), [0, 1], 7, "positions")
    with pytest.raises(ValueError, match="learned position table"):
        permute_position_table(SmallCNN(), torch.arange(16))
