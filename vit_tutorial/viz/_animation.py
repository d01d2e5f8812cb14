"""Kernel-free animations that load nothing from the web.

``FuncAnimation.to_jshtml`` links Font Awesome from a CDN for its button
icons. The book must load nothing from a CDN, so :func:`offline_jshtml`
drops that link and writes the icons as plain Unicode symbols.
"""
from __future__ import annotations

import re

from matplotlib.animation import Animation

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


def offline_jshtml(anim: Animation, default_mode: str = "loop") -> str:
    """``anim.to_jshtml(default_mode)`` with no CDN link and Unicode icons."""
    html = _LINK.sub("", anim.to_jshtml(default_mode=default_mode))
    for cls, symbol in _ICONS.items():
        html = html.replace(f'<i class="{cls}"></i>', f'<span aria-hidden="true">{symbol}</span>')
    return html
