"""Kernel-free animations that load nothing from the web.

``FuncAnimation.to_jshtml`` links Font Awesome from a CDN for its button
icons. The book must load nothing from a CDN, so :func:`offline_jshtml`
drops that link and writes the icons as plain Unicode symbols.

It also writes the first frame into the ``<img>`` itself, with its width and
height. matplotlib's ``<img>`` has neither and gets its picture from the
script only: in JupyterLab 4 (default windowing mode) an output that arrives
off screen, as in Restart and Run All, was then laid out as a 0 x 0 box until
a button was pressed, and where scripts do not run (an untrusted notebook) no
picture showed at all.
"""
from __future__ import annotations

import base64
import io
import re

from matplotlib.animation import Animation
from PIL import Image

# Symbols that common text fonts (DejaVu Sans among them) have: the dedicated
# media-control symbols (U+23EE and friends) are missing from many of them.
_ICONS = {
    "fa fa-fast-backward": "\u21e4",  # first frame
    "fa fa-step-backward": "\u25c1",  # previous frame
    "fa fa-play fa-flip-horizontal": "\u25c0",  # play backwards
    "fa fa-pause": "\u2016",
    "fa fa-play": "\u25b6",
    "fa fa-step-forward": "\u25b7",  # next frame
    "fa fa-fast-forward": "\u21e5",  # last frame
    "fa fa-minus": "\u2212",  # slower
    "fa fa-plus": "+",  # faster
}
_LINK = re.compile(r"<link[^>]*font-awesome[^>]*>\s*", re.S)
_IMG = re.compile(r'<img id="(_anim_img[0-9a-f]+)">')
_FIRST = re.compile(r'frames\[0\] = "(data:image/[a-z]+;base64,)([A-Za-z0-9+/=\s\\]+)"')


def offline_jshtml(anim: Animation, default_mode: str = "loop") -> str:
    """``anim.to_jshtml(default_mode)`` with no CDN link, Unicode icons, and the
    first frame (with its size) already in the ``<img>``."""
    if not isinstance(anim, Animation):
        raise TypeError(f"anim must be a matplotlib Animation, got {type(anim).__name__}")
    html = _LINK.sub("", anim.to_jshtml(default_mode=default_mode))
    for cls, symbol in _ICONS.items():
        html = html.replace(f'<i class="{cls}"></i>', f'<span aria-hidden="true">{symbol}</span>')
    return _sized_first_frame(html)


def _sized_first_frame(html: str) -> str:
    img, first = _IMG.search(html), _FIRST.search(html)
    if img is None or first is None:  # matplotlib changed its template: fail loudly, not blank
        raise RuntimeError("offline_jshtml: matplotlib's jshtml no longer has the expected <img> or frames[0]")
    b64 = re.sub(r"[\s\\]", "", first.group(2))  # the script's string has line continuations
    data = base64.b64decode(b64, validate=True)
    with Image.open(io.BytesIO(data)) as frame:
        width, height = frame.size
    tag = (f'<img id="{img.group(1)}" src="{first.group(1)}{b64}" width="{width}" height="{height}" '
           f'style="max-width:100%;height:auto" alt="animation, frame 1">')
    return html[:img.start()] + tag + html[img.end():]
