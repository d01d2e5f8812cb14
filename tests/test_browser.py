"""Every page of the built book, opened in a real headless browser.

The book in _build/html (built by `make test` before pytest runs) is served on
127.0.0.1 and every page is opened in Debian's Chromium (/usr/bin/chromium),
driven by Playwright. For every page we check that

* the browser console shows no error and no script throws;
* every image loaded (naturalWidth > 0), lazy ones included;
* pages with math show typeset MathJax output and no raw `$$` in their text;
* pages that store ipywidgets views show rendered widget DOM;
* every same-origin link points to an existing file, and its #anchor exists;
* no request leaves 127.0.0.1 (all such requests are aborted and listed).

Screenshots of the intro and two chapters are written to
test-artifacts/screenshots/. Playwright never downloads a browser here: where
Chromium or the playwright package is missing, the tests are skipped with the
reason. Set VIT_SKIP_BOOK_TESTS=1 to skip them when running pytest by hand
without a built book.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML_DIR = ROOT / "_build" / "html"
SHOT_DIR = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
# Pages saved as screenshots (paths relative to _build/html).
SCREENSHOT_PAGES = [
    "book/intro.html",
    "notebooks/01_images_to_patches.html",
    "notebooks/05_self_attention.html",
]
# Directories of the build that hold assets, not pages.
NON_PAGE_DIRS = {"_static", "_sources", "_images", "_sphinx_design_static", "_panels_static"}

pytestmark = [pytest.mark.browser, pytest.mark.book, pytest.mark.slow]

if os.environ.get("VIT_SKIP_BOOK_TESTS") == "1":
    pytest.skip("VIT_SKIP_BOOK_TESTS=1: book tests skipped", allow_module_level=True)


def _pages() -> list[str]:
    """All HTML pages of the build, as paths relative to HTML_DIR."""
    pages = []
    for path in sorted(HTML_DIR.rglob("*.html")):
        rel = path.relative_to(HTML_DIR)
        if rel.parts[0] in NON_PAGE_DIRS:
            continue
        pages.append(rel.as_posix())
    return pages


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@dataclass
class PageReport:
    """What the browser saw on one page."""

    console_errors: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    has_math: bool = False
    mjx_count: int = 0
    untypeset_math: int = 0
    raw_dollars: bool = False
    widget_views: int = 0
    rendered_widgets: int = 0
    links: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)


# JavaScript run in each page ---------------------------------------------------

_JS_IMAGES = """
() => Array.from(document.images).map(i => ({
    src: i.currentSrc || i.src, complete: i.complete, w: i.naturalWidth}))
"""

_JS_EAGER = """
() => { for (const i of document.querySelectorAll('img[loading="lazy"]')) i.loading = 'eager'; }
"""

_JS_MATH = """
() => {
  const math = Array.from(document.querySelectorAll('.math'));
  const untypeset = math.filter(m => !m.querySelector('mjx-container')).length;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let raw = false;
  while (walker.nextNode()) {
    const n = walker.currentNode;
    if (n.parentElement && n.parentElement.closest('pre, code, script, style, textarea')) continue;
    if (n.textContent.includes('$$')) { raw = true; break; }
  }
  return {math: math.length, mjx: document.querySelectorAll('mjx-container').length,
          untypeset: untypeset, raw: raw};
}
"""

_JS_WIDGETS = """
() => ({
  views: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
  rendered: document.querySelectorAll('.jupyter-widgets, .widget-container, .widget-box, .widget-inline-hbox').length
})
"""

_JS_LINKS = "() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"


@pytest.fixture(scope="module")
def reports() -> dict[str, PageReport]:
    """Open every page once and record what the checks below need."""
    if not (HTML_DIR / "index.html").is_file():
        pytest.fail(f"no built book at {HTML_DIR}: run `make book` first (make test does)")
    if not CHROMIUM.is_file():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium; .ci/run does this as root)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed (requirements-test.txt)"
    )

    handler = functools.partial(_QuietHandler, directory=str(HTML_DIR))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"

    SHOT_DIR.mkdir(parents=True, exist_ok=True)
    results: dict[str, PageReport] = {}
    try:
        with sync_api.sync_playwright() as pw:
            try:
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            except Exception as exc:  # a broken Chromium install: say so, do not pass
                pytest.fail(f"Chromium at {CHROMIUM} could not be started: {exc}")
            try:
                for rel in _pages():
                    results[rel] = _visit(browser, base, rel)
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return results


_REFRESH_RE = re.compile(r"""http-equiv=["']refresh["'][^>]*url=([^"'>\s]+)""", re.IGNORECASE)


def _visit(browser, base: str, rel: str) -> PageReport:
    report = PageReport()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")

    def route(r) -> None:
        host = urlsplit(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            r.continue_()
        else:
            report.external_requests.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: report.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: report.console_errors.append(f"uncaught: {e}"))
    html = (HTML_DIR / rel).read_text(encoding="utf-8")
    redirect = _REFRESH_RE.search(html)
    if redirect:  # a meta-refresh stub (index.html): check its target as a link
        context.close()
        report.links = [base + redirect.group(1).lstrip("./")]
        return report
    try:
        page.goto(base + rel, wait_until="load", timeout=60_000)

        # Images: load lazy ones too, then wait until every image has finished.
        page.evaluate(_JS_EAGER)
        page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
        try:
            page.wait_for_function("() => Array.from(document.images).every(i => i.complete)", timeout=20_000)
        except Exception:
            pass  # the images that did not finish are reported below
        for img in page.evaluate(_JS_IMAGES):
            if not img["complete"] or img["w"] == 0:
                report.broken_images.append(img["src"])

        # Math: wait for MathJax to typeset every .math element.
        report.has_math = 'class="math' in html
        if report.has_math:
            try:
                page.wait_for_function(
                    "() => document.querySelectorAll('mjx-container').length > 0 && "
                    "Array.from(document.querySelectorAll('.math')).every(m => m.querySelector('mjx-container'))",
                    timeout=30_000,
                )
            except Exception:
                pass  # reported below
        math = page.evaluate(_JS_MATH)
        report.mjx_count, report.untypeset_math, report.raw_dollars = math["mjx"], math["untypeset"], math["raw"]

        # Widgets: the embedder replaces each stored view with live DOM.
        if WIDGET_VIEW_MIME in html:
            try:
                page.wait_for_selector(".jupyter-widgets", state="attached", timeout=30_000)
            except Exception:
                pass  # reported below
            widgets = page.evaluate(_JS_WIDGETS)
            report.widget_views, report.rendered_widgets = max(widgets["views"], 1), widgets["rendered"]

        report.links = page.evaluate(_JS_LINKS)
        if rel in SCREENSHOT_PAGES:
            page.evaluate("() => window.scrollTo(0, 0)")
            page.screenshot(path=str(SHOT_DIR / (rel.replace("/", "__").removesuffix(".html") + ".png")))
    finally:
        context.close()
    return report


# The checks ---------------------------------------------------------------------


def test_every_page_was_opened(reports):
    assert "book/intro.html" in reports, sorted(reports)
    assert len(reports) >= 5, f"only {len(reports)} pages found in {HTML_DIR}"


def test_no_console_errors(reports):
    bad = {p: r.console_errors for p, r in reports.items() if r.console_errors}
    assert not bad, f"console errors: {bad}"


def test_no_request_leaves_localhost(reports):
    bad = {p: r.external_requests for p, r in reports.items() if r.external_requests}
    assert not bad, f"requests to hosts other than 127.0.0.1 (aborted): {bad}"


def test_every_image_loaded(reports):
    bad = {p: r.broken_images for p, r in reports.items() if r.broken_images}
    assert not bad, f"images that did not load: {bad}"


def test_math_is_typeset(reports):
    math_pages = [p for p, r in reports.items() if r.has_math]
    assert math_pages, "no page with math found (the intro has some)"
    bad = {
        p: f"{r.mjx_count} mjx-container, {r.untypeset_math} untypeset .math, raw $$: {r.raw_dollars}"
        for p, r in reports.items()
        if r.has_math and (r.mjx_count == 0 or r.untypeset_math or r.raw_dollars)
    }
    assert not bad, f"math not typeset: {bad}"


def test_stored_widgets_render(reports):
    bad = {p: r.widget_views for p, r in reports.items() if r.widget_views and r.rendered_widgets == 0}
    assert not bad, f"pages with stored widget views but no rendered widget DOM: {bad}"


_ID_RE = re.compile(r"""\s(?:id|name)=["']([^"']+)["']""")


@functools.lru_cache(maxsize=None)
def _anchors(path: Path) -> frozenset[str]:
    return frozenset(_ID_RE.findall(path.read_text(encoding="utf-8", errors="replace")))


def test_internal_links_resolve(reports):
    bad: dict[str, list[str]] = {}
    for page, r in reports.items():
        for href in r.links:
            parts = urlsplit(href)
            if parts.hostname != "127.0.0.1":
                continue  # external links are not followed (and not requested)
            path = unquote(parts.path).lstrip("/")
            target = HTML_DIR / path
            if not path or target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                bad.setdefault(page, []).append(f"{href} (no file {target.relative_to(HTML_DIR)})")
                continue
            anchor = unquote(parts.fragment)
            if anchor and target.suffix == ".html" and anchor not in _anchors(target):
                bad.setdefault(page, []).append(f"{href} (no #{anchor})")
    assert not bad, f"broken internal links: {bad}"


def test_screenshots_saved(reports):
    missing = [p for p in SCREENSHOT_PAGES if p in reports and not (SHOT_DIR / (p.replace("/", "__").removesuffix(".html") + ".png")).is_file()]
    assert not missing, f"screenshots not written for {missing}"
