"""`make pdf` (scripts/build_pdf.py): the whole book as one PDF, with every chapter,
typeset math, figures, internal links and real CJK glyphs.

Slow (a single-page build and a Chromium print, about two minutes on 2 cores), and it
needs Debian's chromium, poppler-utils and fonts-noto-cjk; without them it skips and
says which is missing. `.ci/run` installs all three."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

_spec = importlib.util.spec_from_file_location("build_pdf", ROOT / "scripts" / "build_pdf.py")
build_pdf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_pdf)


def _missing_tools() -> list[str]:
    missing = [t for t in ("pdftotext", "pdfinfo", "pdfimages") if shutil.which(t) is None]
    try:
        build_pdf.find_chromium()
    except ValueError:
        missing.append("chromium")
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout \
        if shutil.which("fc-list") else ""
    if "CJK" not in fonts:
        missing.append("a CJK font (fonts-noto-cjk)")
    return missing


def _titles() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    titles = []
    for part in toc["parts"]:
        for ch in part["chapters"]:
            nb = ROOT / f"{ch['file']}.ipynb"
            if nb.exists():
                cell = next(c for c in json.loads(nb.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "markdown")
                text = "".join(cell["source"])
            else:
                text = (ROOT / f"{ch['file']}.md").read_text(encoding="utf-8")
            titles.append(re.search(r"^# (.+)$", text, re.M).group(1).strip())
    return titles


def _norm(text: str) -> str:
    return " ".join(text.replace("\u2019", "'").replace("\u2018", "'").split())


@pytest.fixture(scope="module")
def pdf(tmp_path_factory):
    missing = _missing_tools()
    if missing:
        pytest.skip("make pdf needs " + ", ".join(missing))
    out = tmp_path_factory.mktemp("pdf") / "book.pdf"
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_pdf.py"), "--out", str(out)],
                            capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    return out, text


@pytest.mark.slow
def test_pdf_has_the_whole_book(pdf):
    path, text = pdf
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert 150 <= pages <= 800, pages
    flat = _norm(text)
    for title in _titles():
        assert _norm(title) in flat, f"chapter title {title!r} is not in the PDF's text"
    # solutions are printed open, exercises too
    assert flat.count("Solution to") >= 12 or flat.count("Solution") >= 24


@pytest.mark.slow
def test_pdf_math_is_typeset_and_figures_are_there(pdf):
    path, text = pdf
    assert not re.search(r"\\\(|\\\[|\\frac|\\begin\{", text), "TeX left untypeset"
    raw = path.read_bytes()
    assert re.search(rb"/FontName /[A-Z]{6}\+MathJax_Main", raw), "no MathJax font: math was not typeset"
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    n_images = len(images.splitlines()) - 2
    n_png = sum("image/png" in o.get("data", {})
                for nb in (ROOT / "notebooks").glob("*.ipynb")
                for c in json.loads(nb.read_text(encoding="utf-8"))["cells"] for o in c.get("outputs", []))
    assert n_images >= n_png, (n_images, n_png)


@pytest.mark.slow
def test_pdf_internal_links_work(pdf):
    path, _ = pdf
    raw = path.read_bytes()
    assert len(re.findall(rb"/Dest\b", raw)) >= 100, "too few internal links"
    broken = re.findall(rb"/URI \((file:[^)]*)\)", raw)
    assert not broken, f"{len(broken)} links point at the temporary build, e.g. {broken[:2]}"


@pytest.mark.slow
def test_pdf_chinese_glyphs_are_real(pdf):
    path, text = pdf
    assert "\ufffd" not in text, "replacement characters in the PDF's text"
    raw = path.read_bytes()
    assert re.search(rb"/FontName /[A-Z]{6}\+NotoSans(?:Mono)?CJK", raw) or \
        re.search(rb"/FontName /[A-Z]{6}\+NotoSerifCJK", raw), "no CJK font embedded"
    for word in ("计算机视觉", "分类标志位", "位置编码", "标签平滑", "学习率预热", "麦克尼马尔检验"):
        assert word in text, f"{word} is not extractable from the PDF"


def test_build_pdf_refuses_bad_arguments(tmp_path, capsys):
    assert build_pdf.main(["--out", str(tmp_path / "book.txt")]) == 2
    assert ".pdf" in capsys.readouterr().err
    existing = tmp_path / "book.pdf"
    existing.write_bytes(b"%PDF-1.4 mine")
    assert build_pdf.main(["--out", str(existing)]) == 2
    assert "--force" in capsys.readouterr().err
    assert existing.read_bytes() == b"%PDF-1.4 mine"
    assert build_pdf.main(["--out", str(tmp_path / "x.pdf"), "--budget-ms", "0"]) == 2


def test_print_page_rewrites_self_links(tmp_path):
    page = tmp_path / "book" / "intro.html"
    page.parent.mkdir()
    page.write_text('<html><head></head><body><a href="book/intro.html#term-patch">patch</a>'
                    '<a href="https://arxiv.org/abs/2010.11929">paper</a></body></html>', encoding="utf-8")
    out = build_pdf.prepare_print_page(page)
    html = out.read_text(encoding="utf-8")
    assert out.parent == tmp_path and 'href="#term-patch"' in html and "https://arxiv.org" in html
    assert "break-before: page" in html
    with pytest.raises(ValueError, match="</head>"):
        bad = tmp_path / "bad.html"
        bad.write_text("<p>no head</p>", encoding="utf-8")
        build_pdf.prepare_print_page(bad)


def test_print_page_carries_the_notebooks_widget_state(tmp_path):
    nb = tmp_path / "n.ipynb"
    nb.write_text(json.dumps({"cells": [], "metadata": {"widgets": {build_pdf.WIDGET_STATE: {
        "state": {"abc": {"model_name": "IntSliderModel", "state": {"description": "</script>"}}},
        "version_major": 2, "version_minor": 0}}}}), encoding="utf-8")
    page = tmp_path / "book" / "intro.html"
    page.parent.mkdir()
    page.write_text("<html><head></head><body></body></html>", encoding="utf-8")
    html = build_pdf.prepare_print_page(page, [nb]).read_text(encoding="utf-8")
    assert build_pdf.WIDGET_STATE in html and '"abc"' in html
    assert "_static/jupyter-widgets/embed-amd.js" in html and "_static/requirejs/require.js" in html
    assert html.count("</script>") == html.count("<script")  # the state cannot close its own tag
