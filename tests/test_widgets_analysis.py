"""Chapter 10's attention explorer: its controls redraw the figure."""


import pytest
import torch

from vit_tutorial import ViT, vit_config
from vit_tutorial.widgets import attention_explorer


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return ViT(vit_config("ViT-Tiny", depth=2, dim=32, heads=2, mlp_dim=32)).eval()


def test_explorer_controls_cover_images_layers_heads_and_queries(model):
    images = torch.randn(3, 1, 28, 28)
    box = attention_explorer(model, images, titles=["a", "b", "c"], dpi=40)
    c = box.controls
    assert [label for label, _ in c["image"].options] == ["a", "b", "c"]
    assert (c["layer"].min, c["layer"].max) == (1, 2)
    assert [v for _, v in c["head"].options] == [-1, 0, 1]  # -1: mean of heads
    queries = c["query"].options
    assert len(queries) == 1 + 49 and queries[0] == ("class token", 0) and queries[-1][1] == 49
    assert queries[8] == ("patch (row 1, col 0)", 8)
    assert box.figure.value[:4] == b"\x89PNG"
    assert not model.training  # computing the attention does not leave the model in train mode


def test_every_control_redraws(model):
    box = attention_explorer(model, torch.randn(2, 1, 28, 28), dpi=40)
    seen = {box.figure.value}
    for name, value in [("image", 1), ("layer", 2), ("head", 1), ("query", 30)]:
        box.controls[name].value = value
        assert box.figure.value not in seen, name
        seen.add(box.figure.value)


def test_explorer_keeps_the_train_mode_and_rejects_bad_input(model):
    model.train()
    attention_explorer(model, torch.randn(1, 1, 28, 28), dpi=40)
    assert model.training
    model.eval()
    with pytest.raises(ValueError, match="nn.Module"):
        attention_explorer("model", torch.randn(1, 1, 28, 28))
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        attention_explorer(model, torch.randn(28, 28))
    with pytest.raises(ValueError, match="one entry per image"):
        attention_explorer(model, torch.randn(2, 1, 28, 28), titles=["a"])
    with pytest.raises(ValueError, match="return_attention"):
        attention_explorer(torch.nn.Identity(), torch.randn(1, 1, 28, 28))


def test_explorer_pictures_keep_their_natural_size_and_text_form_is_short():
    """JupyterLab stretched the explorers' pictures 2x (flex stretch); an unrun
    notebook showed a long VBox(children=...) repr."""
    from vit_tutorial.widgets._layout import DPI, HINT, ExplorerBox, picture

    pic = picture("560px")
    assert (pic.layout.width, pic.layout.align_self, pic.layout.max_width) == ("auto", "flex-start", "560px")
    assert DPI == 100
    box = ExplorerBox([pic], "Some explorer")
    assert repr(box) == f"Some explorer ({HINT})"
    assert box._repr_mimebundle_()["text/plain"] == repr(box)
