"""The reference article's traps, reproduced by vit_tutorial.article, and their fixes."""
import pytest
import torch
from torch import nn

import vit_tutorial as vt
from vit_tutorial.article import (
    article_style_encoder,
    article_style_patch_tokens,
    article_style_pipeline,
    cross_image_influence,
    encoder_settings,
    torch_attention_like,
    torch_encoder_layer_like,
)


def test_article_encoder_keeps_pytorch_defaults():
    enc = article_style_encoder(dim=64, depth=3, heads=8)
    assert isinstance(enc, nn.TransformerEncoder) and enc.training
    assert encoder_settings(enc) == {
        "input layout": "(T, B, D)", "norm placement": "post-norm", "activation": "ReLU",
        "MLP size": 2048, "dropout": 0.1, "heads": 8, "layers": 3, "final LayerNorm": False, "LN epsilon": 1e-5,
    }
    ours = encoder_settings(vt.ViT(vt.vit_config("ViT-Tiny")).encoder)
    assert ours == {
        "input layout": "(B, T, D)", "norm placement": "pre-norm", "activation": "GELU",
        "MLP size": 128, "dropout": 0.0, "heads": 4, "layers": 4, "final LayerNorm": True, "LN epsilon": 1e-6,
    }


def test_batch_first_false_mixes_the_images_and_the_fix_does_not():
    torch.manual_seed(0)
    enc = article_style_encoder(dim=32, depth=2, heads=4).eval()
    tokens = torch.randn(3, 9, 32)  # (B, T, D)
    out = enc(tokens)
    assert out.shape == tokens.shape  # the shape looks right ...
    assert cross_image_influence(enc, tokens) > 1e-2  # ... but image 1 changes image 0's output
    # fix 1: give the encoder the layout it reads, (T, B, D)
    transposed = lambda x: enc(x.transpose(0, 1)).transpose(0, 1)  # noqa: E731
    assert cross_image_influence(transposed, tokens) < 1e-6
    # fix 2: batch_first=True layers (our block, or PyTorch's built like it)
    block = vt.EncoderBlock(32, 4, 64).eval()
    assert cross_image_influence(block, tokens) < 1e-6
    assert cross_image_influence(torch_encoder_layer_like(block), tokens) < 1e-6
    assert cross_image_influence(torch_encoder_layer_like(block, batch_first=False), tokens) > 1e-2


def test_fresh_conv_on_every_call_gives_different_tokens():
    torch.manual_seed(0)
    images = torch.randn(2, 3, 32, 32)
    a, b = article_style_patch_tokens(images, 16), article_style_patch_tokens(images, 16)
    assert a.shape == (2, 4, 16 * 16 * 3)
    assert (a - b).abs().max() > 1e-3  # the "embedding" is a new random map each time
    emb = vt.PatchEmbedding(3, 48, 16)
    assert torch.equal(emb(images), emb(images))
    assert article_style_patch_tokens(torch.randn(1, 1, 8, 8), 4).shape == (1, 4, 16)  # width P*P*C, not a choice


def test_pipeline_shapes_and_the_mislabelled_logits():
    torch.manual_seed(0)
    images, labels = torch.randn(3, 3, 64, 64), torch.tensor([1, 0, 9])
    out = article_style_pipeline(images, labels, patch_size=16, num_classes=10, depth=1)
    shapes = {k: tuple(v.shape) for k, v in out.items()}
    assert shapes == {
        "patch_tokens": (3, 16, 768), "with_class_token": (3, 17, 768), "with_position": (3, 17, 768),
        "encoder_output": (3, 17, 768), "class_token_output": (3, 768), "printed_as_logits": (3, 768),
        "logits": (3, 10), "loss": (),
    }
    assert out["printed_as_logits"] is out["class_token_output"]
    assert torch.allclose(out["loss"], nn.functional.cross_entropy(out["logits"], labels))


@pytest.mark.parametrize("D,h", [(64, 4), (48, 6)])
def test_torch_modules_like_ours_compute_the_same(D, h):
    torch.manual_seed(0)
    x = torch.randn(2, 7, D)
    attn = vt.MultiHeadSelfAttention(D, h).eval()
    mha = torch_attention_like(attn)
    y, w = mha(x, x, x, average_attn_weights=False)
    ours, ours_w = attn(x, return_attention=True)
    assert (y - ours).abs().max() < 1e-5 and (w - ours_w).abs().max() < 1e-5
    # every parameter random (fresh LayerNorms are identities, which would hide a swapped norm)
    block = vt.interop.randomise_parameters_(vt.EncoderBlock(D, h, 2 * D).eval(), seed=D)
    assert (torch_encoder_layer_like(block)(x) - block(x)).abs().max() < 1e-5
    assert (torch_encoder_layer_like(block)(0.03 * x) - block(0.03 * x)).abs().max() < 1e-5  # eps matched too


def test_bad_input(raises_with):
    tokens = torch.randn(3, 5, 8)
    with raises_with(ValueError, "30", "8"):
        article_style_encoder(dim=30, heads=8)
    with raises_with(ValueError, "depth", "0"):
        article_style_encoder(depth=0)
    with raises_with(ValueError, "4 dimensions", "(3, 32, 32)"):
        article_style_patch_tokens(torch.zeros(3, 32, 32), 16)
    with raises_with(ValueError, "30x32", "16"):
        article_style_patch_tokens(torch.zeros(1, 3, 30, 32), 16)
    with raises_with(ValueError, "(2,)", "3"):
        article_style_pipeline(torch.zeros(2, 3, 32, 32), torch.tensor([0, 1, 2]), depth=1)
    with raises_with(ValueError, "at least 2", "B=1"):
        cross_image_influence(lambda x: x, tokens[:1])
    with raises_with(ValueError, "watched", "[0, 3)", "3"):
        cross_image_influence(lambda x: x, tokens, watched=3)
    with raises_with(ValueError, "different", "1"):
        cross_image_influence(lambda x: x, tokens, watched=1, changed=1)
    with raises_with(ValueError, "training mode", "eval()"):
        cross_image_influence(vt.EncoderBlock(8, 2, 16), tokens)
    with raises_with(ValueError, "TransformerEncoder", "Linear"):
        encoder_settings(nn.Linear(2, 2))
    with raises_with(ValueError, "MultiHeadSelfAttention", "Linear"):
        torch_attention_like(nn.Linear(2, 2))
    with raises_with(ValueError, "no qkv bias"):
        torch_attention_like(vt.MultiHeadSelfAttention(8, 2, qkv_bias=False))
    with raises_with(ValueError, "EncoderBlock", "MultiHeadSelfAttention"):
        torch_encoder_layer_like(vt.MultiHeadSelfAttention(8, 2))
