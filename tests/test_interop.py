"""vit_tutorial.interop: convert_state_dict names the unknown format and the unexpected,
missing or mis-shaped keys (the key names themselves are checked against recorded timm
keys in test_contract.py)."""
import torch

import vit_tutorial as vt


def test_bad_state_dicts(raises_with):
    config = vt.ViTConfig(image_size=16, patch_size=8, dim=16, depth=2, heads=2, mlp_dim=32, num_classes=3)
    sd = vt.ViT(config).state_dict()
    with raises_with(ValueError, "'keras'", "'hf'", "'timm'"):
        vt.convert_state_dict(sd, "keras")
    with raises_with(ValueError, "unexpected", "foo.bar"):
        vt.convert_state_dict({"foo.bar": torch.zeros(1)}, "timm")
    timm_sd = {k.replace("encoder.blocks.", "blocks.").replace("encoder.norm.", "norm.")
               .replace("cls_token.token", "cls_token").replace("pos_embed.weight", "pos_embed"): v for k, v in sd.items()}
    del timm_sd["blocks.1.mlp.fc2.weight"]
    with raises_with(ValueError, "missing", "encoder.blocks.1.mlp.fc2.weight"):
        vt.convert_state_dict(timm_sd, "timm")
    timm_sd["blocks.1.mlp.fc2.weight"] = torch.zeros(16, 32)
    big = vt.ViTConfig(image_size=16, patch_size=8, dim=16, depth=3, heads=2, mlp_dim=32, num_classes=3)
    with raises_with(ValueError, "missing", "encoder.blocks.2"):
        vt.convert_state_dict(timm_sd, "timm", big)
    wide = vt.ViTConfig(image_size=16, patch_size=8, dim=16, depth=2, heads=2, mlp_dim=64, num_classes=3)
    with raises_with(ValueError, "shape mismatch", "mlp.fc1"):
        vt.convert_state_dict(timm_sd, "timm", wide)
