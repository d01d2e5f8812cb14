"""The live notebook in JupyterLab, in a real browser (`make live-test`).

For one notebook per part of the book this starts JupyterLab (the pinned
version, its default settings, jupyterlab-myst installed) on 127.0.0.1 with a
token and a temporary root folder that holds normalized copies of the
notebooks, then drives Debian's Chromium with Playwright (`executable_path`;
no browser is ever downloaded) as a learner would:

* Restart Kernel and Run All, with solutions in learner mode
  (``VIT_TUTORIAL_SOLUTIONS`` unset);
* no error output, no "Error displaying widget", no page error;
* MyST renders: admonitions and exercises are HTML (no literal ``:::{`` or
  ```` ```{ ```` left), solutions are folded, their code cells collapsed and
  not run;
* every animation's ``<img>`` has a nonzero size right after Run All;
* every explorer is shown at its natural size (not upscaled), and moving its
  first slider changes its picture.

Screenshots go to ``$LIVE_SCREENSHOTS`` (default: a pytest temp folder). The
server is stopped by its PID. Skipped unless ``VIT_LIVE_TEST=1`` (set by
``make live-test``), or when Chromium or Playwright is missing.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
# One notebook per part of the book (_toc.yml), each with what that part shows live.
NOTEBOOKS = [
    "01_images_to_patches.ipynb",  # From pixels to tokens: an explorer and an animation
    "05_self_attention.ipynb",     # Inside the model: an explorer and an animation
    "09_training.ipynb",           # Training and looking inside: two explorers, an animation, progress bars
    "12_after_vit.ipynb",          # Problems and what came after: explorers and an animation
    "appendix_how_fast.ipynb",     # Appendices
]
RUN_TIMEOUT_S = 240  # one notebook's Restart and Run All

pytestmark = [
    pytest.mark.skipif(os.environ.get("VIT_LIVE_TEST") != "1",
                       reason="the live JupyterLab test runs in `make live-test` (VIT_LIVE_TEST=1)"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} missing (apt-get install chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("LIVE_SCREENSHOTS") or tmp_path_factory.mktemp("live-shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """JupyterLab on 127.0.0.1:<free port> with a token; root: normalized copies of NOTEBOOKS."""
    pytest.importorskip("jupyterlab")
    pytest.importorskip("jupyterlab_myst", reason="jupyterlab-myst is pinned in requirements.txt")
    base = tmp_path_factory.mktemp("live")
    root = base / "root"
    root.mkdir()
    for name in NOTEBOOKS:
        shutil.copy(ROOT / "notebooks" / name, root / name)
    norm = subprocess.run([sys.executable, str(ROOT / "scripts" / "normalize_notebooks.py"),
                           *(str(root / n) for n in NOTEBOOKS)], capture_output=True, text=True)
    assert norm.returncode == 0, norm.stdout + norm.stderr
    token, port = secrets.token_hex(16), _free_port()
    env = {k: v for k, v in os.environ.items() if k != "VIT_TUTORIAL_SOLUTIONS"}  # learner mode
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    for var, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                     ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("JUPYTER_RUNTIME_DIR", "runtime")]:
        (base / sub).mkdir()
        env[var] = str(base / sub)  # the learner's own settings do not leak in; defaults otherwise
    # The one setting changed: no "get notified about Jupyter news?" toast over the screenshots.
    news = base / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text(json.dumps({"fetchNews": "false"}))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: read the notebook model
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.news_url=None"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(base / "server.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
                    json.load(r)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{(base / 'server.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield {"url": url, "token": token, "root": root, "log": base / "server.log"}
    finally:
        proc.send_signal(signal.SIGTERM)  # by its PID: the server shuts its kernels down
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


@pytest.fixture(scope="module")
def browser(server):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                              args=["--no-sandbox"] if os.geteuid() == 0 else [])
        yield b
        b.close()


# JavaScript run in the page (window.jupyterapp is the JupyterLab application).
_STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = panel.content.widgets.filter(w => w.model.type === 'code' && w.model.sharedModel.getSource().trim());
  return {kernel: kernel ? kernel.status : 'none', n: cells.length,
          counts: cells.map(w => w.model.executionCount),
          busy: cells.filter(w => (w.promptNode ? w.promptNode.textContent : '').includes('*')).length};
}"""
_READY = """() => { const p = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  return p && p.content && p.sessionContext && p.sessionContext.session
         && p.sessionContext.session.kernel && p.content.widgets.length > 0; }"""
_OUTPUTS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  return panel.content.widgets.map((w, i) => ({
    i, type: w.model.type, source: w.model.sharedModel.getSource(),
    tags: w.model.getMetadata('tags') || [], inputHidden: w.inputHidden,
    outputs: w.model.type === 'code' ? w.model.outputs.toJSON() : []}));
}"""


def _open(browser, server, name, shots):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server['url']}/lab/tree/{name}?token={server['token']}&reset")
    page.wait_for_function(_READY, timeout=90_000)
    page.wait_for_timeout(1000)
    return page, errors


def _attach_all(page) -> None:
    n = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets.length")
    for i in range(n):
        page.evaluate("i => window.jupyterapp.shell.currentWidget.content.scrollToItem(i, 'start')", i)
        page.wait_for_timeout(40)
    page.wait_for_function("n => document.querySelectorAll('.jp-Notebook .jp-Cell').length >= n", arg=n,
                           timeout=30_000)
    page.wait_for_timeout(500)


def _check_animations(page, anims, when: str) -> None:
    """Each animation's <img> has a nonzero box once its cell is on screen (no click needed)."""
    for k in range(anims.count()):
        img = anims.nth(k)
        img.evaluate("e => e.closest('.jp-Cell').scrollIntoView()")  # not the img: a 0 x 0 one never 'scrolls'
        page.wait_for_timeout(500)
        box = img.evaluate("e => ({w: e.getBoundingClientRect().width, h: e.getBoundingClientRect().height,"
                           " nw: e.naturalWidth, complete: e.complete})")
        assert box["w"] > 0 and box["h"] > 0 and box["nw"] > 0 and box["complete"], f"animation {k} {when}: {box}"


def _restart_and_run_all(page) -> float:
    start = time.time()
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:restart-run-all'); }")
    page.locator(".jp-Dialog button.jp-mod-accept").click(timeout=30_000)  # "Restart"
    last, still = None, 0
    while True:
        state = page.evaluate(_STATE)
        idle = state["kernel"] == "idle" and state["busy"] == 0 and state["counts"] and state["counts"][0] == 1
        if idle and state["counts"][-1] == state["n"]:
            return time.time() - start
        still = still + 1 if (idle and state == last) else 0
        if still >= 10:  # idle for 5 s with cells not run: Run All stopped at an error
            return time.time() - start
        last = state
        if time.time() - start > RUN_TIMEOUT_S:
            pytest.fail(f"Run All did not finish in {RUN_TIMEOUT_S} s: {state}")
        page.wait_for_timeout(500)


def _shot(locator, path: Path) -> None:
    locator.scroll_into_view_if_needed()
    locator.page.wait_for_timeout(300)
    locator.screenshot(path=str(path))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_restart_and_run_all_as_a_learner(browser, server, shots, name):
    stem = name.removesuffix(".ipynb")
    page, page_errors = _open(browser, server, name, shots)
    try:
        seconds = _restart_and_run_all(page)
        print(f"{name}: Restart and Run All took {seconds:.1f} s")
        cells = page.evaluate(_OUTPUTS)

        # -- no errors
        errors = [f"cell {c['i']}: {o.get('ename')}: {o.get('evalue')}" for c in cells for o in c["outputs"]
                  if o.get("output_type") == "error"]
        assert errors == [], errors
        state = page.evaluate(_STATE)
        assert state["counts"] == list(range(1, state["n"] + 1)), f"Run All did not run every cell: {state}"
        text = page.locator(".jp-Notebook").inner_text()
        assert "Error displaying widget" not in text and "Traceback (most recent call last)" not in text
        assert page_errors == [], page_errors

        # JupyterLab's windowing attaches cells lazily: bring every cell in once,
        # so that the checks below see the whole notebook.
        _attach_all(page)

        # -- MyST: admonitions, exercises and solutions are HTML, not raw text
        md = page.locator(".jp-MarkdownCell .jp-RenderedMarkdown, .jp-MarkdownCell .myst")
        rendered = "\n".join(md.all_inner_texts())
        for raw in (":::{", "```{", "{doc}`", "{ref}`", ":class:", ":label:", "$$"):
            assert raw not in rendered, f"{name}: raw MyST {raw!r} in a rendered markdown cell"
        sources = "\n".join(c["source"] for c in cells if c["type"] == "markdown")
        if "{admonition}" in sources:
            admonition = page.locator("aside.myst-admonition").first
            assert admonition.count(), "no admonition rendered"
            _shot(admonition, shots / f"{stem}_admonition.png")
        for role in ("{ref}`", "{doc}`"):
            cell = next((c for c in cells if c["type"] == "markdown" and role in c["source"]), None)
            if cell is not None:  # rendered as a link
                node = page.locator(".jp-Notebook .jp-Cell").nth(cell["i"])
                assert node.locator(".myst a[href]").count(), f"cell {cell['i']}: {role} not rendered as a link"
                _shot(node, shots / f"{stem}_role_{role[1:4]}.png")
        n_ex = sources.count("{exercise}")
        ids = set(page.locator("aside.myst-exercise[id]:not([id=''])").evaluate_all("els => els.map(e => e.id)"))
        assert len(ids) == n_ex, (ids, n_ex)
        solutions = [c for c in cells if "solution" in c["tags"]]
        assert bool(solutions) == ("{solution-start}" in sources), "solution cells not tagged by normalize_notebooks"
        folded = page.locator("details.myst-exercise")
        assert folded.count() >= sources.count("{solution-start}")
        assert all(not d for d in folded.evaluate_all("els => els.map(e => e.open)")), "a solution is unfolded"
        for c in solutions:  # collapsed in JupyterLab and not run by Run All
            assert c["inputHidden"], f"cell {c['i']}: solution code not collapsed"
            shown = "".join(o.get("text", "") for o in c["outputs"])
            assert "Solution not run" in shown, f"cell {c['i']}: Run All ran a solution: {shown[:200]!r}"
        if solutions:
            first = solutions[0]["i"]
            region = page.locator(".jp-Notebook .jp-Cell").nth(first - 1)
            _shot(region, shots / f"{stem}_solution_folded.png")
            _shot(page.locator(".jp-Notebook .jp-Cell").nth(first), shots / f"{stem}_solution_cell.png")

        # -- animations: a picture right after Run All, no click needed
        anims = page.locator("img[id^='_anim_img']")
        n_anims = anims.count()
        _check_animations(page, anims, "after Run All")
        if n_anims:
            _shot(anims.first.locator("xpath=.."), shots / f"{stem}_animation.png")

        # -- explorers: natural size, and a slider redraws the picture
        explorers = page.locator(".jp-OutputArea-output .widget-vbox").filter(
            has=page.locator(".widget-image")).filter(has=page.locator(".noUi-handle, .slider-container"))
        outer = [k for k in range(explorers.count())
                 if explorers.nth(k).evaluate("e => !e.parentElement.closest('.widget-vbox')")]
        for n, k in enumerate(outer):
            ex = explorers.nth(k)
            ex.scroll_into_view_if_needed()
            page.wait_for_timeout(300)
            pic = ex.locator(".widget-image").first
            size = pic.evaluate("e => ({w: e.getBoundingClientRect().width, nw: e.naturalWidth})")
            assert size["nw"] > 0 and size["w"] <= size["nw"] * 1.02 + 1, f"explorer {n} upscaled: {size}"
            height = ex.evaluate("e => e.getBoundingClientRect().height")
            assert height <= 780, f"explorer {n} is {height:.0f} px tall: its controls scroll out of a 900 px window"
            _shot(ex, shots / f"{stem}_explorer{n}_before.png")
            before = pic.get_attribute("src")
            handle = ex.locator(".noUi-handle").first
            handle.focus()
            page.keyboard.press("ArrowRight")
            page.wait_for_function("([el, src]) => el.getAttribute('src') !== src",
                                   arg=[pic.element_handle(), before], timeout=30_000)
            page.wait_for_timeout(300)
            _shot(ex, shots / f"{stem}_explorer{n}_after.png")
        page.screenshot(path=str(shots / f"{stem}_end.png"))

        # -- reopen the saved notebook: the animations still show a picture
        if n_anims:
            page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
            page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000)
            page.reload()
            page.wait_for_function(_READY, timeout=90_000)
            try:
                page.wait_for_function("n => document.querySelectorAll(\"img[id^='_anim_img']\").length >= n",
                                       arg=n_anims, timeout=30_000)
            except Exception:
                info = page.evaluate("""() => { const p = window.jupyterapp.shell.currentWidget;
                  return {trusted: p.content.widgets.map(w => w.model.trusted).filter(t => !t).length,
                          imgs: document.querySelectorAll('.jp-OutputArea img').length,
                          anims: Array.from(document.querySelectorAll('.jp-OutputArea-output'))
                                  .filter(e => e.textContent.includes('Once')).map(e => e.innerHTML.slice(0, 300))}; }""")
                pytest.fail(f"after reopening, {n_anims} animation(s) missing: {info}")
            _attach_all(page)
            anims = page.locator("img[id^='_anim_img']")
            _check_animations(page, anims, "after reopening")
    finally:
        page.evaluate("() => window.jupyterapp.commands.execute('kernelmenu:shutdown')")
        page.wait_for_timeout(500)
        dialog = page.locator(".jp-Dialog button.jp-mod-accept")
        if dialog.count():
            dialog.click()
        page.close()
