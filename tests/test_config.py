"""vit_tutorial.config: ViTConfig round-trips through a dict; vit_config names what is wrong."""
import vit_tutorial as vt


def test_config_round_trip():
    c = vt.vit_config("ViT-Tiny", dropout=0.1)
    assert vt.ViTConfig.from_dict(c.to_dict()) == c


def test_bad_input_messages(raises_with):
    with raises_with(ValueError, "dim 64", "heads 5"):
        vt.vit_config("ViT-Tiny", heads=5)
    with raises_with(ValueError, "ViT-B/32", "ViT-B/16", "ViT-L/16", "ViT-H/14"):
        vt.vit_config("ViT-B/32")
    with raises_with(ValueError, "size 100", "patch size 16", "remainder 4"):
        vt.vit_config("ViT-B/16", image_size=100)
    with raises_with(ValueError, "colour"):
        vt.vit_config("ViT-B/16", colour=1)
    with raises_with(ValueError, "'max'", "'cls'"):
        vt.vit_config("ViT-B/16", pool="max")
