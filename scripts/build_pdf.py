"""Print the whole book to one PDF with Debian's headless Chromium.

    python scripts/build_pdf.py --out _build/pdf/vit-step-by-step.pdf [--force]

Steps, all offline and with tools from Debian or PyPI only:

1. ``jupyter-book build . --builder singlehtml`` into a temporary folder: every page
   of ``_toc.yml`` in one HTML file, with the figures, the vendored MathJax and
   internal links that are anchors (``#document-notebooks/05_self_attention``).
2. That page is copied next to its ``_static``/``_images`` folders and given a
   print stylesheet: no navigation bars or buttons, every chapter on a new page,
   solutions shown (the PDF is the reader's book, not a handout), the notebooks'
   stored widget state and the offline widget embedder (which the single-page build
   leaves out) so the explorers print in their stored state, code wrapped
   instead of cut off, and Noto CJK (Debian's ``fonts-noto-cjk``) as the fallback
   font for the Chinese terms.
3. ``chromium --headless --print-to-pdf`` prints it. ``--virtual-time-budget``
   lets MathJax finish typesetting before the page is printed; the script then
   checks the PDF's text for TeX that was left untypeset and fails if it finds any.

Chromium is the system one (``/usr/bin/chromium`` or ``$CHROMIUM``); nothing ever
downloads a browser. The PDF is written to a temporary file and renamed into place;
an existing file at ``--out`` is replaced only with ``--force``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["PRINT_CSS", "find_chromium", "build_singlehtml", "widget_state", "prepare_print_page", "print_pdf", "main"]

ROOT = Path(__file__).resolve().parent.parent

PRINT_CSS = """
@page { size: A4; margin: 14mm 13mm 16mm 13mm; }
html, body { background: #fff !important; }
body, .bd-article { font-family: "Noto Sans", "DejaVu Sans", "Noto Sans CJK SC", "Noto Serif CJK SC", sans-serif; }
.bd-header, .bd-header-article, .header-article, .bd-sidebar-primary, .bd-sidebar-secondary,
.bd-footer, .bd-footer-article, .bd-footer-content, .prev-next-area, .skip-link, #pst-skip-link,
.search-button, .search-button-field, .theme-switch-button, .article-header-buttons,
.toggle-button, button.toggle-button, .copybtn, .headerlink, .pst-scrollable-table-container::after,
#pst-back-to-top, .bd-search, .primary-toggle, .secondary-toggle, .sidebar-toggle {
  display: none !important;
}
.bd-container, .bd-container__inner, .bd-page-width, .bd-main, .bd-content, .bd-article-container,
.bd-article { max-width: 100% !important; min-width: 0 !important; width: auto !important;
  flex: 1 1 auto !important; margin: 0 !important; padding-left: 0 !important; padding-right: 0 !important; }
/* a flex item is as wide as its widest child unless min-width is 0: wide tables, formulas
   and code lines would push the text off both sides of the sheet */
.bd-article * { max-width: 100%; }
.bd-article p, .bd-article li, .bd-article code { overflow-wrap: anywhere; }
/* in table cells "anywhere" would also shrink the columns' minimum width and split
   headers letter by letter; break-word only breaks a word that cannot fit. A table wider
   than the sheet would make Chromium shrink the whole book to fit it. */
.bd-article td, .bd-article th, .bd-article td p, .bd-article th p { overflow-wrap: break-word !important;
  word-break: normal !important; }
.bd-article td code { overflow-wrap: anywhere; }
.pst-scrollable-table-container, .table-wrapper, .output, .cell_output { overflow: visible !important; }
mjx-container[display="true"] { overflow: hidden; }
/* every page of the book (preface, chapters, appendices) starts on a new sheet */
span[id^="document-"] + section { break-before: page; }
h1, h2, h3 { break-after: avoid; }
figure, img, .cell_output img, tr { break-inside: avoid; }
/* the theme keeps whole tables on one sheet, which leaves half-empty pages before long ones */
.bd-main .bd-content table, table { break-inside: auto !important; }
img { max-width: 100% !important; height: auto !important; }
pre, .highlight pre { white-space: pre-wrap !important; word-break: break-word; }
/* solutions and other dropdowns are shown open */
.toggle-hidden, .dropdown .admonition-body, details > * { display: block !important;
  visibility: visible !important; opacity: 1 !important; max-height: none !important; height: auto !important; }
a { color: #1a4f8b; text-decoration: none; }
"""

# Opens every <details> and removes the togglebutton's hidden state once the page has loaded.
OPEN_JS = """
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  document.querySelectorAll(".toggle-hidden").forEach(function (e) { e.classList.remove("toggle-hidden"); });
});
"""


def find_chromium() -> str:
    """Path of the system Chromium ($CHROMIUM, else chromium on PATH); ValueError if none."""
    for candidate in (os.environ.get("CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ValueError("expected Debian's chromium (apt-get install chromium fonts-noto-cjk) "
                     "or $CHROMIUM pointing at one, found none")


# A Sphinx extension for the single-page build only. sphinx-exercise registers its own
# "singlehtml" node handlers, and from then on Sphinx no longer falls back to the "html"
# handlers for that builder, so sphinx-design's dropdowns fail with "departing unknown
# node type: dropdown_title". This copies every missing html handler over.
SINGLEHTML_FIX = """
def _fill(app):
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node, pair in handlers.get("html", {}).items():
        single.setdefault(node, pair)


def setup(app):
    app.connect("builder-inited", _fill)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
"""


def _pdf_config(workdir: Path, source: Path) -> Path:
    """A copy of ``_config.yml`` that also loads :data:`SINGLEHTML_FIX`."""
    import yaml

    ext_dir = workdir / "ext"
    ext_dir.mkdir(parents=True, exist_ok=True)
    (ext_dir / "vit_pdf_singlehtml_fix.py").write_text(SINGLEHTML_FIX, encoding="utf-8")
    config = yaml.safe_load((source / "_config.yml").read_text(encoding="utf-8"))
    sphinx = config.setdefault("sphinx", {})
    sphinx.setdefault("local_extensions", {})["vit_pdf_singlehtml_fix"] = str(ext_dir)
    extensions = sphinx.setdefault("config", {}).get("extensions")
    if extensions is not None and "vit_pdf_singlehtml_fix" not in extensions:
        extensions.append("vit_pdf_singlehtml_fix")
    path = workdir / "_config_pdf.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def build_singlehtml(workdir: Path, source: Path = ROOT) -> Path:
    """Build the book as one HTML page under ``workdir``; return that page."""
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb if jb.exists() else "jupyter-book"), "build", str(source), "--builder", "singlehtml",
           "--path-output", str(workdir), "--config", str(_pdf_config(workdir, source))]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"jupyter-book singlehtml build failed ({result.returncode}):\n"
                           f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    out = workdir / "_build" / "singlehtml"
    pages = [p for p in out.rglob("*.html") if "_static" not in p.parts and p.stat().st_size > 1000]
    if len(pages) != 1:
        raise RuntimeError(f"expected one single-page HTML in {out}, found {[str(p) for p in pages]}")
    return pages[0]


WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def widget_state(notebooks: list[Path]) -> dict:
    """The ipywidgets state stored in ``notebooks``, merged into one (model ids are unique)."""
    merged: dict = {}
    for nb in notebooks:
        meta = json.loads(nb.read_text(encoding="utf-8")).get("metadata", {})
        merged.update(meta.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {}))
    return {"state": merged, "version_major": 2, "version_minor": 0}


def _widget_scripts(state: dict) -> str:
    """What myst-nb puts on a page with widgets, which the single-page build leaves out:
    the stored state and the offline embedder (see book/vendor/README.md)."""
    if not state["state"]:
        return ""
    data = json.dumps(state).replace("</", "<\\/")
    return (f'<script type="{WIDGET_STATE}">{data}</script>\n'
            '<script src="_static/requirejs/require.js"></script>\n'
            '<script src="_static/widgets-requirejs-config.js"></script>\n'
            '<script src="_static/jupyter-widgets/embed-amd.js"></script>\n')


def prepare_print_page(page: Path, notebooks: list[Path] | None = None) -> Path:
    """Copy ``page`` to the root of its build (so ``_static``/``_images`` resolve) with
    the print stylesheet, the widget state of ``notebooks`` and the script that opens
    dropdowns added; return the new page."""
    html = page.read_text(encoding="utf-8")
    if "</head>" not in html:
        raise ValueError(f"expected an HTML page with a </head>, got {page}")
    widgets = _widget_scripts(widget_state(notebooks)) if notebooks else ""
    extra = f"<style media=\"all\">{PRINT_CSS}</style>\n{widgets}<script>{OPEN_JS}</script>\n</head>"
    html = html.replace("</head>", extra, 1)
    # Cross-references to the page itself (glossary terms, citations) are written as
    # "book/intro.html#anchor", relative to the wrong folder; in the PDF they must be
    # plain anchors, which Chromium turns into internal links.
    html = re.sub(r'href="(?:\.\./)*(?:book/)?' + re.escape(page.name) + r'#', 'href="#', html)
    target = page.parent.parent / "book-print.html" if page.parent.name != "singlehtml" else page.with_name("book-print.html")
    target.write_text(html, encoding="utf-8")
    return target


def print_pdf(page: Path, pdf: Path, chromium: str, budget_ms: int = 60000, timeout_s: int = 600) -> None:
    """Print ``page`` to ``pdf`` with headless Chromium."""
    with tempfile.TemporaryDirectory(prefix="vit-pdf-profile-") as profile:
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-extensions", "--disable-sync",
               f"--user-data-dir={profile}", "--run-all-compositor-stages-before-draw",
               f"--virtual-time-budget={budget_ms}", "--no-pdf-header-footer",
               "--allow-file-access-from-files", f"--print-to-pdf={pdf}", page.resolve().as_uri()]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    if result.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        raise RuntimeError(f"chromium could not print {page} ({result.returncode}):\n{result.stderr[-3000:]}")


def untypeset_math(pdf: Path) -> list[str]:
    """TeX delimiters left in the PDF's text: MathJax did not finish on them."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    return re.findall(r"\\\(.{0,40}|\\\[.{0,40}|\\begin\{(?:equation|align)", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the PDF to write")
    parser.add_argument("--force", action="store_true", help="replace an existing file at --out")
    parser.add_argument("--budget-ms", type=int, default=60000,
                        help="Chromium's virtual time budget, for MathJax and widgets (default 60000)")
    parser.add_argument("--keep-html", type=Path, default=None,
                        help="also keep the build folder (with book-print.html) here, for inspection")
    args = parser.parse_args(argv)
    out: Path = args.out
    try:
        if out.suffix.lower() != ".pdf":
            raise ValueError(f"--out must end in .pdf, got {out}")
        if out.exists() and not args.force:
            raise ValueError(f"{out} exists; pass --force to replace it")
        if args.budget_ms <= 0:
            raise ValueError(f"--budget-ms must be positive, got {args.budget_ms}")
        chromium = find_chromium()
    except ValueError as err:
        print(f"build_pdf: error: {err}", file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="vit-pdf-"))
    try:
        print("build_pdf: building the single-page HTML ...", flush=True)
        notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
        page = prepare_print_page(build_singlehtml(work), notebooks)
        print(f"build_pdf: printing {page.name} with {chromium} ...", flush=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".tmp-", suffix=".pdf")
        os.close(fd)
        tmp = Path(tmp)
        try:
            print_pdf(page, tmp, chromium, budget_ms=args.budget_ms)
            left = untypeset_math(tmp)
            if left:
                raise RuntimeError(f"MathJax did not finish: {len(left)} formulas left as TeX, e.g. "
                                   f"{left[:3]}; raise --budget-ms")
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
        if args.keep_html:
            if args.keep_html.exists():
                raise ValueError(f"--keep-html {args.keep_html} exists; choose a new folder")
            shutil.copytree(work, args.keep_html)
    except (RuntimeError, ValueError, subprocess.SubprocessError) as err:
        print(f"build_pdf: error: {err}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    pages = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
    m = re.search(r"^Pages:\s+(\d+)", pages, re.M)
    print(f"build_pdf: wrote {out} ({m.group(1) if m else '?'} pages, {out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
