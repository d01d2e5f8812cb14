"""The front matter agrees with itself and with the chapters: chapter lists against
_toc.yml, glossary coverage, the instructors' times and plans, licence and citation,
and the one repository URL."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"


def _read(rel: str) -> str:
    return (ROOT / rel).read_text(encoding="utf-8")


def _toc_files() -> list[str]:
    toc = yaml.safe_load(_read("_toc.yml"))
    return [ch["file"] for part in toc["parts"] for ch in part["chapters"]]


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _src(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _title(file: str) -> str:
    path = ROOT / file
    if (ROOT / f"{file}.ipynb").exists():
        text = next(_src(c) for c in _cells(ROOT / f"{file}.ipynb") if c["cell_type"] == "markdown")
    else:
        text = (ROOT / f"{file}.md").read_text(encoding="utf-8")
    m = re.search(r"^# (.+)$", text, re.M)
    assert m, f"{path}: no level-1 title"
    return m.group(1).strip()


def _chapter_number(file: str) -> int | None:
    m = re.match(r"notebooks/(\d\d)_", file)
    return int(m.group(1)) if m else None


def _stated_minutes(file: str) -> int:
    first = _src(_cells(ROOT / f"{file}.ipynb")[0])
    m = re.search(r"\*\*Time:\*\*\s*about\s*(\d+)\s*minutes", first)
    assert m, f"{file}: the At a glance box states no time"
    return int(m.group(1))


# ------------------------------------------------------------------ chapter lists

def test_intro_lists_every_chapter_of_the_toc_in_order():
    intro = _read("book/intro.md")
    section = intro.split("## How to read it", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"\{doc\}`\.\./(notebooks/[^`]+)`", section)
    assert listed == [f for f in _toc_files() if f.startswith("notebooks/")]
    # the numbered chapters are exactly those the TOC numbers
    assert [f for f in listed if _chapter_number(f)] == [f"notebooks/{n:02d}_" + f.split("_", 1)[1]
                                                           for n, f in enumerate(listed[:12], 1)]


def test_readme_chapter_table_matches_toc_titles_and_order():
    readme = _read("README.md")
    table = readme.split("## The chapters", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| *(\d*) *\| \[([^\]]+)\]\(([^)]+)\) \|", table, re.M)
    assert [target.removesuffix(".ipynb").removesuffix(".md") for _, _, target in rows] == _toc_files()
    for number, title, target in rows:
        file = target.removesuffix(".ipynb").removesuffix(".md")
        full = _title(file)
        n = _chapter_number(file)
        assert full == (f"{n}. {title}" if n else title), (full, title)
        assert number == (str(n) if n else "")
    image = re.search(r"!\[[^\]]+\]\(([^)]+\.png)\)", readme)
    assert image and (ROOT / image.group(1)).stat().st_size > 10_000
    start = readme.split("## Start here", 1)[1]
    assert "rm -r" not in readme.split("## For contributors", 1)[0]
    assert "pip install -r requirements.txt" in start and "pip install -e ." in start
    assert "jupyter-book build ." in start and "pytest" in start
    assert "CONTRIBUTING.md" in readme and "LICENSE" in readme and "CITATION.cff" in readme


# ------------------------------------------------------------------ glossary

def _glossary_terms() -> list[str]:
    text = _read("book/glossary.md")
    terms = []
    for block in re.findall(r"^```\{glossary\}\n(.*?)^```", text, re.M | re.S):
        terms += [line.strip() for line in block.splitlines() if line.strip() and not line.startswith(" ")]
    return terms


def _term_uses() -> list[tuple[str, str]]:
    uses = []
    pages = [(p.name, p.read_text(encoding="utf-8")) for p in BOOK.glob("*.md")]
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        pages += [(nb.name, _src(c)) for c in _cells(nb) if c["cell_type"] == "markdown"]
    for name, text in pages:
        for m in re.finditer(r"\{term\}`([^`]+)`", text):
            body = " ".join(m.group(1).split())
            target = re.search(r"<([^>]+)>\s*$", body)
            uses.append((name, (target.group(1) if target else body).strip()))
    return uses


def test_glossary_has_no_duplicate_terms():
    terms = [t.lower() for t in _glossary_terms()]
    assert len(terms) > 150
    dupes = sorted({t for t in terms if terms.count(t) > 1})
    assert not dupes


def test_every_term_used_has_a_glossary_entry():
    terms = {t.lower() for t in _glossary_terms()}
    uses = _term_uses()
    assert len(uses) >= 20
    missing = sorted({f"{page}: {term}" for page, term in uses if term.lower() not in terms})
    assert not missing, missing


@pytest.mark.parametrize("term", [
    "label smoothing", "warm-up", "cosine decay", "AdamW", "decoupled weight decay", "gradient clipping",
    "data augmentation", "confusion matrix", "stratified split", "standardisation", "random seed",
    "standard error", "binomial standard error", "validation split", "McNemar test", "paired bootstrap",
    "entropy", "effective number of patches", "cosine similarity", "PCA", "depthwise convolution",
    "relative position bias", "attention mask", "fused attention", "SDPA", "multiply-add", "DDP",
    "DistributedSampler", "torchrun", "CaiT", "distillation token", "LayerScale",
])
def test_chapter_9_to_12_terms_are_in_the_glossary_with_chinese(term):
    text = _read("book/glossary.md")
    assert term.lower() in {t.lower() for t in _glossary_terms()}
    entry = re.search(r"^" + re.escape(term) + r"\n(.*?)(?:\n\n|\n```)", text, re.M | re.S).group(1)
    head = [line for line in entry.splitlines() if not line.startswith(" ")]
    latin_only = {"CaiT", "DistributedSampler", "torchrun"}  # names, not translated
    assert term in latin_only or any(re.search(r"[\u4e00-\u9fff]", h) for h in head), term


def test_glossary_credits_conventions_to_their_source():
    text = _read("book/glossary.md")
    for entry in re.split(r"\n\n", text):
        flat = " ".join(entry.split())
        if "bicubic" in flat:
            assert "DeiT" in flat or "timm" in flat, flat
        if re.search(r"truncat", flat):
            assert "this book" in flat or "DeiT" in flat or "timm" in flat, flat
    assert "which shows that ViT learns the 2-D grid" not in " ".join(text.split())
    assert "edge and colour detectors" not in text
    table1 = re.search(r"^Table 1\n(.*?)\n\n", text, re.M | re.S).group(1)
    assert "patch size is not a column" in " ".join(table1.split())


# ------------------------------------------------------------------ consistency of pages

def test_pages_agree_on_prerequisites_and_reproducibility():
    intro, preface, how = _read("book/intro.md"), _read("book/preface.md"), _read("book/how_to_run.md")
    assert "heard of attention" not in intro
    assert "No knowledge of attention or Transformers" in " ".join(intro.split())
    assert "No knowledge of attention or Transformers" in " ".join(preface.split())
    assert "exactly the numbers" not in how
    assert "5,000 MNIST digits on a laptop" not in preface
    assert "Without make" in how and "pip install -r requirements.txt" in how


# ------------------------------------------------------------------ instructors

def _instructor_map() -> dict[str, tuple[int, list[str]]]:
    text = _read("book/instructors.md")
    rows = {}
    for m in re.finditer(r"^\| \{doc\}`\.\./(notebooks/[^`]+)` \| [^|]+ \| (\d+) \| [^|]+ \| ([^|]+) \|$", text, re.M):
        rows[m.group(1)] = (int(m.group(2)), [e.strip() for e in m.group(3).split(";")])
    return rows


def test_instructors_map_covers_every_chapter_with_its_stated_time_and_real_exercises():
    rows = _instructor_map()
    notebooks = [f for f in _toc_files() if f.startswith("notebooks/")]
    assert list(rows) == notebooks
    for file, (minutes, exercises) in rows.items():
        assert minutes == _stated_minutes(file), file
        titles = [m.group(1).strip() for c in _cells(ROOT / f"{file}.ipynb") if c["cell_type"] == "markdown"
                  for m in re.finditer(r"^[`:]{3,}\{exercise\}\s*(.*)$", _src(c), re.M)]
        for ex in exercises:
            assert ex == "optional reading" or ex in titles, f"{file}: no exercise {ex!r} (has {titles})"


@pytest.mark.parametrize("heading, budget", [("### Two weeks", 150), ("### Five weeks", 180)])
def test_course_plans_add_up(heading, budget):
    text = _read("book/instructors.md")
    plan = text.split(heading, 1)[1].split("\n#", 1)[0]
    minutes = {_chapter_number(f): m for f, (m, _) in _instructor_map().items() if _chapter_number(f)}
    appendices = sum(m for f, (m, _) in _instructor_map().items() if not _chapter_number(f))
    seen = []
    rows = re.findall(r"^\| [^|]+ \| ([^|]+) \| ([^|]+) \| (\d+) \|$", plan, re.M)
    assert rows
    for chapters, assignment, total in rows:
        parts = 0
        for name, value in re.findall(r"(ch\. \d+|preface|appendices) \((\d+)\)", chapters):
            value = int(value)
            if name.startswith("ch."):
                n = int(name.split()[1])
                assert value == minutes[n], f"{heading}: chapter {n} is {minutes[n]} min, the plan says {value}"
                seen.append(n)
            elif name == "appendices":
                assert value == appendices
            parts += value
        parts += sum(int(v) for v in re.findall(r"\((\d+)\)", assignment))
        assert parts == int(total), f"{heading}: {chapters} + {assignment} is {parts}, not {total}"
        assert int(total) <= budget, f"{heading}: {total} min in a {budget}-min session"
    assert sorted(seen) == list(range(1, 13))


def test_instructors_page_has_rubrics_and_the_noise_warning():
    text = " ".join(_read("book/instructors.md").split())
    for assignment in ("A1.", "A2.", "A3."):
        section = text.split(f"### {assignment}", 1)[1].split("###", 1)[0]
        assert "| Criterion |" in section and "*Expected outcome.*" in section, assignment
    assert "at least 3 seeds" in text and "validation split" in text and "paired" in text
    assert "Common misconception" in text


# ------------------------------------------------------------------ licence, citation, URL

def test_licence_and_citation():
    licence = _read("LICENSE")
    assert "Creative Commons Attribution 4.0" in licence and "MIT License" in licence
    assert "Permission is hereby granted" in licence
    project = tomllib.loads(_read("pyproject.toml"))["project"]
    assert project["license"] == "MIT AND CC-BY-4.0" and "LICENSE" in project["license-files"]
    cff = yaml.safe_load(_read("CITATION.cff"))
    assert cff["cff-version"] == "1.2.0" and cff["preferred-citation"]["type"] == "book"
    vit = cff["references"][0]
    assert vit["authors"][0]["family-names"] == "Dosovitskiy" and "2010.11929" in vit["url"]


def test_one_repository_url_everywhere():
    url = yaml.safe_load(_read("_config.yml"))["repository"]["url"].rstrip("/")
    owner_repo = url.removeprefix("https://github.com/")
    assert owner_repo.count("/") == 1
    texts = {"README.md": _read("README.md"), "CITATION.cff": _read("CITATION.cff"),
             "book/how_to_run.md": _read("book/how_to_run.md")}
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        texts[nb.name] = "\n".join(_src(c) for c in _cells(nb))
    repo_name = owner_repo.split("/")[1]
    pattern = re.compile(r"(?:github\.com|/gh|/github)/([\w.-]+/" + re.escape(repo_name) + r")\b")
    found = 0
    for name, text in texts.items():
        for m in pattern.finditer(text):
            found += 1
            assert m.group(1) == owner_repo, f"{name}: {m.group(0)} is not {url}"
    assert found >= 4
    assert f"https://colab.research.google.com/github/{owner_repo}/" in texts["README.md"]
    assert f"https://mybinder.org/v2/gh/{owner_repo}/" in texts["README.md"]


def test_stated_reading_times_match_the_chapters():
    notebooks = [f for f in _toc_files() if f.startswith("notebooks/")]
    minutes = [_stated_minutes(f) for f in notebooks]
    chapters = [m for f, m in zip(notebooks, minutes) if _chapter_number(f)]
    readme = " ".join(_read("README.md").split())
    m = re.search(r"\*\*Time:\*\* (\d+) to (\d+) minutes per chapter, exercises included; about (\d+) hours", readme)
    assert m, "README states no reading time"
    assert (int(m.group(1)), int(m.group(2))) == (min(chapters), max(chapters))
    total_hours = sum(minutes) / 60
    assert abs(int(m.group(3)) - total_hours) <= 1, total_hours
    intro = " ".join(_read("book/intro.md").split())
    hours = re.search(r"exercises takes about (\d+) hours", intro)
    assert hours and int(hours.group(1)) == int(m.group(3))
