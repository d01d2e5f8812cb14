"""Figures of chapters 6-8 and the parameter breakdown behind them."""


import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.figure import Figure

import vit_tutorial as vt
from vit_tutorial.viz import (
    PARAMETER_PARTS,
    parameter_breakdown,
    plot_activation_functions,
    plot_class_probabilities,
    plot_model_cost,
    plot_norm_placement,
    plot_shape_flow,
    plot_weight_sizes,
)


@pytest.mark.parametrize("name,total", [("ViT-B/16", 86_567_656), ("ViT-L/16", 304_326_632), ("ViT-H/14", 632_045_800)])
def test_parameter_breakdown_adds_up(name, total):
    cfg = vt.vit_config(name)
    parts = parameter_breakdown(cfg)
    assert list(parts) == [*PARAMETER_PARTS, "total"] and parts["total"] == total
    D, L, M, K = cfg.dim, cfg.depth, cfg.mlp_dim, cfg.num_classes
    assert parts["attention"] == L * (4 * D * D + 4 * D)
    assert parts["MLP"] == L * (2 * D * M + M + D)
    assert parts["LayerNorms"] == (2 * L + 1) * 2 * D
    assert parts["position embedding"] == cfg.num_tokens * D and parts["class token"] == D
    assert parts["head"] == D * K + K


def test_parameter_breakdown_of_a_built_model():
    torch.manual_seed(0)
    model = vt.ViT(vt.vit_config("ViT-Tiny"))
    assert parameter_breakdown(model)["total"] == vt.count_parameters(model)


def test_figures():
    figs = [
        plot_norm_placement(),
        plot_activation_functions(),
        plot_class_probabilities(torch.tensor([2.0, 0.0, -1.0]), 1, ["cat", "dog", "car"]),
        plot_shape_flow([("images", (3, 3, 224, 224)), ("logits", (3, 10)), ("loss", ())], title="t"),
        plot_model_cost({"B": vt.vit_config("ViT-B/16"), "tiny": vt.vit_config("ViT-Tiny")}),
        plot_weight_sizes({"a": 1_000_000, "b": 2_000_000}, quoted={"b": 9.0}),
    ]
    assert all(isinstance(f, Figure) for f in figs)
    texts = lambda f: [t.get_text() for ax in f.axes for t in ax.texts]  # noqa: E731
    assert "p = 0.114\n-log p = 2.170" in texts(figs[2])  # softmax([2, 0, -1])[1] = 1 / (e² + 1 + e⁻¹)
    assert "[3, 3, 224, 224]" in texts(figs[3]) and "scalar" in texts(figs[3])
    assert "35" in texts(figs[4])  # ViT-B/16: 35.1 GFLOPs per image
    legend = [t.get_text() for t in figs[4].legends[0].get_texts()]
    assert "embeddings (patch, class token, positions) (top bar: 0.9 % of the parameters, 0.7 % of the FLOPs)" in legend
    long_chain = plot_shape_flow([(str(i), (i,)) for i in range(1, 10)], per_row=4)  # 9 boxes: 3 rows
    assert len(long_chain.axes[0].patches) == 9 + 8  # boxes and arrows, one arrow per row change too
    plt.close(long_chain)
    assert "8 MB\n(2.0M)" in texts(figs[5]) and "9 MB" in texts(figs[5])
    for f in figs:
        plt.close(f)


def test_bad_input(raises_with):
    with raises_with(ValueError, "ViTConfig or a ViT", "str"):
        parameter_breakdown("ViT-B/16")
    with raises_with(ValueError, "lo < hi"):
        plot_activation_functions(2, 1)
    with raises_with(ValueError, "(K,)", "(2, 3)"):
        plot_class_probabilities(torch.zeros(2, 3), 0)
    with raises_with(ValueError, "[0, 3)", "3"):
        plot_class_probabilities(torch.zeros(3), 3)
    with raises_with(ValueError, "one name per class (3)", "1"):
        plot_class_probabilities(torch.zeros(3), 0, ["a"])
    with raises_with(ValueError, "non-empty"):
        plot_shape_flow([])
    with raises_with(ValueError, "(name, shape)"):
        plot_shape_flow([(1, 2)])
    with raises_with(ValueError, "positive int", "0"):
        plot_shape_flow([("a", (1,))], per_row=0)
    with raises_with(ValueError, "non-empty dict"):
        plot_model_cost({})
    with raises_with(ValueError, "ViTConfig"):
        plot_model_cost({"a": "ViT-B/16"})
    with raises_with(ValueError, "non-empty dict"):
        plot_weight_sizes({})
    with raises_with(ValueError, "bytes_per_value", "0"):
        plot_weight_sizes({"a": 1}, bytes_per_value=0)
