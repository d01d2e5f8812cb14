"""Checks on the built HTML book (_build/html): it must work fully offline.

Every page is scanned for scripts, stylesheets and CSS imports loaded from a
remote host (http://, https:// or protocol-relative //). MathJax, RequireJS and
the ipywidgets embedder must come from the vendored copies in book/vendor.

`make test` builds the book before running pytest, so a missing build is a
failure here, not a skip. Set VIT_SKIP_BOOK_TESTS=1 to skip these tests when
running pytest by hand without having built the book.
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML_DIR = ROOT / "_build" / "html"
INDEX = HTML_DIR / "index.html"  # a redirect to the root page of _toc.yml
INTRO = HTML_DIR / "book" / "intro.html"
STATIC = HTML_DIR / "_static"

MATHJAX = "mathjax/tex-chtml-full.js"
REQUIREJS = "requirejs/require.js"
WIDGETS_CONFIG = "widgets-requirejs-config.js"
WIDGETS_EMBED = "jupyter-widgets/embed-amd.js"
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"

pytestmark = pytest.mark.book

if os.environ.get("VIT_SKIP_BOOK_TESTS") == "1":
    pytest.skip("VIT_SKIP_BOOK_TESTS=1: book HTML tests skipped", allow_module_level=True)

# rel values of <link> elements that make the browser fetch the resource.
LOADING_RELS = {"stylesheet", "preload", "modulepreload", "prefetch"}
CSS_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?["']?([^"')\s;]+)""", re.IGNORECASE)


def is_remote(url: str) -> bool:
    url = url.strip().lower()
    return url.startswith(("http://", "https://", "//"))


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []  # src of <script src=...>
        self.links: list[tuple[str, str]] = []  # (rel, href) of fetching <link>s
        self.script_types: list[str] = []  # type of every <script>
        self.styles: list[str] = []  # text of inline <style> blocks
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "script":
            self.script_types.append(a.get("type", ""))
            if a.get("src"):
                self.scripts.append(a["src"])
        elif tag == "link":
            rels = set(a.get("rel", "").lower().split())
            if rels & LOADING_RELS and a.get("href"):
                self.links.append((" ".join(sorted(rels)), a["href"]))
        elif tag == "style":
            self._in_style = True
            self.styles.append("")

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles[-1] += data


def _parse(page: Path) -> _Collector:
    c = _Collector()
    c.feed(page.read_text(encoding="utf-8", errors="replace"))
    c.close()
    return c


def _local_target(page: Path, url: str) -> Path:
    """The file a relative URL in `page` points to (query and fragment dropped)."""
    path = unquote(urlsplit(url).path)
    return (page.parent / path).resolve()


@pytest.fixture(scope="module")
def pages() -> dict[Path, _Collector]:
    if not INDEX.is_file():
        pytest.fail(
            f"{INDEX} is missing: build the book first (`make book`, or `make test` which "
            "builds it), or set VIT_SKIP_BOOK_TESTS=1 to skip the book tests."
        )
    found = {p: _parse(p) for p in sorted(HTML_DIR.rglob("*.html"))}
    assert found, f"no .html files under {HTML_DIR}"
    return found


def test_no_remote_scripts_or_stylesheets(pages):
    offenders = []
    for page, c in pages.items():
        rel = page.relative_to(HTML_DIR)
        offenders += [f"{rel}: <script src={u}>" for u in c.scripts if is_remote(u)]
        offenders += [f"{rel}: <link rel={r} href={u}>" for r, u in c.links if is_remote(u)]
        for css in c.styles:
            offenders += [f"{rel}: <style> @import {u}" for u in CSS_IMPORT.findall(css) if is_remote(u)]
    assert not offenders, "remote resources loaded by the book:\n" + "\n".join(offenders)


def test_no_remote_css_imports():
    if not INDEX.is_file():
        pytest.fail(f"{INDEX} is missing: build the book first")
    offenders = []
    for css in sorted(HTML_DIR.rglob("*.css")):
        text = css.read_text(encoding="utf-8", errors="replace")
        offenders += [f"{css.relative_to(HTML_DIR)}: @import {u}" for u in CSS_IMPORT.findall(text) if is_remote(u)]
    assert not offenders, "remote @import in the book's CSS:\n" + "\n".join(offenders)


def test_local_scripts_and_stylesheets_exist(pages):
    """A vendored or theme asset that was not copied would break the page offline."""
    missing = []
    for page, c in pages.items():
        if STATIC in page.parents:
            continue  # the themes copy Jinja macro templates (*.html) into _static
        urls = list(c.scripts) + [u for _, u in c.links]
        for url in urls:
            if is_remote(url) or url.startswith(("data:", "blob:")):
                continue
            if not _local_target(page, url).is_file():
                missing.append(f"{page.relative_to(HTML_DIR)}: {url}")
    assert not missing, "assets referenced but not in _build/html:\n" + "\n".join(missing)


def test_vendored_files_are_in_the_build():
    for rel in (MATHJAX, REQUIREJS, WIDGETS_CONFIG, WIDGETS_EMBED):
        assert (STATIC / rel).is_file(), f"_static/{rel} missing from the build"
    fonts = list((STATIC / "mathjax/output/chtml/fonts/woff-v2").glob("*.woff"))
    assert fonts, "MathJax CHTML fonts missing next to the vendored MathJax"
    assert list((STATIC / "jupyter-widgets").glob("*.woff2")), "widget icon fonts missing"


def test_intro_uses_vendored_mathjax(pages):
    assert INTRO in pages, f"{INTRO.relative_to(HTML_DIR)} (root page of _toc.yml) not built"
    c = pages[INTRO]
    mathjax = [u for u in c.scripts if "mathjax" in u.lower()]
    assert mathjax, "the intro has math but loads no MathJax"
    assert all(urlsplit(u).path == f"../_static/{MATHJAX}" for u in mathjax), mathjax
    assert 'class="math notranslate nohighlight"' in INTRO.read_text(encoding="utf-8")


def test_every_mathjax_is_the_vendored_one(pages):
    wrong = []
    for page, c in pages.items():
        for u in c.scripts:
            if "mathjax" in u.lower() and not urlsplit(u).path.endswith(f"_static/{MATHJAX}"):
                wrong.append(f"{page.relative_to(HTML_DIR)}: {u}")
    assert not wrong, "MathJax not loaded from the vendored copy:\n" + "\n".join(wrong)


def test_widget_scripts_configured_locally():
    """myst-nb's nb_ipywidgets_js defaults to CDN URLs; ours point at book/vendor."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    widget_js = config["sphinx"]["config"]["nb_ipywidgets_js"]
    assert list(widget_js) == [REQUIREJS, WIDGETS_CONFIG, WIDGETS_EMBED]
    for attrs in widget_js.values():
        assert not any(is_remote(str(v)) for v in (attrs or {}).values()), attrs


def test_widget_pages_load_vendored_scripts(pages):
    """Pages that store ipywidgets state must load RequireJS and the embedder locally."""
    problems = []
    for page, c in pages.items():
        if WIDGET_STATE_MIME not in c.script_types:
            continue
        paths = [urlsplit(u).path for u in c.scripts]
        wanted = (REQUIREJS, WIDGETS_CONFIG, WIDGETS_EMBED)
        for rel in wanted:
            if not any(p.endswith(f"_static/{rel}") for p in paths):
                problems.append(f"{page.relative_to(HTML_DIR)}: no _static/{rel}")
        order = [rel for p in paths for rel in wanted if p.endswith(f"_static/{rel}")]
        if order != list(wanted):
            problems.append(f"{page.relative_to(HTML_DIR)}: widget scripts loaded in order {order}")
    assert not problems, "\n".join(problems)
