"""Animations embedded in the book load nothing from a CDN."""
import matplotlib

matplotlib.use("Agg")
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
