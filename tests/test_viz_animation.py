"""Animations embedded in the book load nothing from a CDN."""
import matplotlib.pyplot as plt
from matplotlib.animation import FuncAnimation

from vit_tutorial.viz._animation import offline_jshtml


def test_offline_jshtml_has_no_remote_link_and_keeps_buttons():
    fig, ax = plt.subplots()
    anim = FuncAnimation(fig, lambda i: ax.set_title(str(i)), frames=3)
    html = offline_jshtml(anim)
    plt.close(fig)
    assert "http" not in html.split("<script")[0]
    assert "font-awesome" not in html and "maxcdn" not in html
    assert 'class="fa' not in html
    assert html.count("<button") >= 9 and "\u25b6" in html
    # only symbols that common fonts have: none of the media-control block U+23E9..U+23FA
    assert not any("\u23e9" <= ch <= "\u23fa" for ch in html)


def test_offline_jshtml_img_has_first_frame_and_its_size():
    """The <img> has a box before any script runs: JupyterLab's windowing mode
    laid an output that arrived off screen out as 0 x 0 without it."""
    import base64
    import io
    import re

    from PIL import Image

    fig, ax = plt.subplots(figsize=(3, 2), dpi=50)
    anim = FuncAnimation(fig, lambda i: ax.set_title(str(i)), frames=3)
    html = offline_jshtml(anim)
    plt.close(fig)
    tag = re.search(r"<img [^>]*>", html).group(0)
    assert 'width="150" height="100"' in tag and "max-width:100%;height:auto" in tag
    src = re.search(r'src="data:image/\w+;base64,([^"]+)"', tag).group(1)
    with Image.open(io.BytesIO(base64.b64decode(src))) as im:
        assert im.size == (150, 100)
    frame0 = re.search(r'frames\[0\] = "data:image/\w+;base64,([^"]+)"', html).group(1)
    assert re.sub(r"[\s\\]", "", frame0) == src  # the same picture the script shows first


def test_offline_jshtml_rejects_a_non_animation():
    import pytest

    with pytest.raises(TypeError, match="Animation"):
        offline_jshtml("not an animation")
