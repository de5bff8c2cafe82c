"""What a visitor of the README's server sees, in headless Chromium that can reach nothing
but the server: the course map at the root URL, apps whose every asset (Font Awesome
included) comes from the server, and no module-federation version warnings."""

import re
import time
from importlib.metadata import version

from serve.harness import FIGURE, ROOT


def test_root_url_shows_the_course_map(server, page):
    page.goto(server.url + "/")
    page.wait_for_selector("text=descentlab", timeout=60_000)
    assert page.url.endswith("/voila/render/index.ipynb")
    link = page.get_by_role("link", name="Optimizer race")
    assert link.count() == 1 and re.search(r"race\.ipynb$", link.get_attribute("href"))
    assert page.locator(".jp-DirListing, .jp-FileBrowser").count() == 0  # not the file list
    time.sleep(1)
    assert page.external == []
    assert not [t for kind, t in page.console if kind in ("error", "pageerror")]


def test_an_app_loads_nothing_from_outside_and_its_icons_render(server, page):
    page.goto(f"{server.url}/voila/render/race.ipynb")
    page.wait_for_selector(FIGURE, timeout=60_000)
    html = page.content()
    assert "cdn.jsdelivr.net" not in html and "fontawesome-free@" not in html
    # Font Awesome comes from voila-style.js and the server's own font files.
    faces = page.evaluate("""async () => {
        const loaded = await document.fonts.load('900 16px "Font Awesome 5 Free"');
        return loaded.map(f => f.status);
    }""")
    assert faces and set(faces) == {"loaded"}, faces
    time.sleep(1)
    assert page.external == [], page.external


def _pins() -> dict:
    pins = {}
    for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, ver = line.split("==")
            pins[name.strip().lower().replace("_", "-")] = ver.strip()
    return pins


def test_no_version_warnings_with_the_pinned_packages(server, page):
    """Voilà bundles JupyterLab 4.2.5 packages; a labextension built against newer ones
    makes webpack warn "Unsatisfied version 4.2.5 ... required ^4.6.2" for each shared
    module. binder/requirements.txt pins a matching set (the test command installs it)."""
    pins = _pins()
    for name in ("voila", "jupyterlab-widgets"):   # the README's test command installs them
        assert version(name) == pins[name], f"{name} {version(name)} installed, pinned " \
                                            f"{pins[name]}"
    page.goto(f"{server.url}/voila/render/race.ipynb")
    page.wait_for_selector(FIGURE, timeout=60_000)
    time.sleep(1)
    warnings = [t for _, t in page.console if "version" in t and "shared" in t]
    assert warnings == []


def test_the_derivations_are_typeset_after_the_app_draws(server, page):
    """Markdown cells reach the page marked for MathJax to skip (Voilà's start-up typeset
    held the main thread ~1.5 s before the race could draw), and every formula is typeset
    once the app has drawn: as many as MathJax finds in the notebook's markdown, no TeX
    source left, no console error. The app's own equation panels are typeset after its
    first figure too (they held it back ~0.3 s)."""
    import json

    from serve.kernelws import render

    html, _ = render(server.url, "race.ipynb")
    cells = html.count('jp-MarkdownOutput mathjax_ignore descentlab-deferred-math')
    markdown = [c for c in json.loads((ROOT / "lab" / "race.ipynb").read_text())["cells"]
                if c["cell_type"] == "markdown"]
    assert cells == len(markdown) > 5
    page.add_init_script("""new MutationObserver((_, obs) => {
      if (document.querySelector(FIGURE)) {
        window.__mathAtFirstFigure = document.querySelectorAll('mjx-container').length;
        obs.disconnect();
      }
    }).observe(document, {childList: true, subtree: true});""".replace("FIGURE", repr(FIGURE)))
    page.goto(f"{server.url}/voila/render/race.ipynb")
    page.wait_for_selector(FIGURE, timeout=120_000)
    page.wait_for_function(
        "document.querySelectorAll('.descentlab-deferred-math').length === 0", timeout=60_000)
    # The app's equation panels (HTMLMath) waited for the figure too, then were typeset.
    assert page.evaluate("window.__mathAtFirstFigure") == 0
    page.wait_for_function(
        "document.querySelectorAll('.widget-htmlmath mjx-container').length > 0",
        timeout=60_000)
    panels = page.eval_on_selector_all(".widget-htmlmath", "els => els.map(e => e.innerText)")
    assert panels and not any("$" in t or "\\frac" in t for t in panels), panels
    texts = page.eval_on_selector_all(".jp-MarkdownOutput", "els => els.map(e => e.innerText)")
    formulas = page.locator(".jp-MarkdownOutput mjx-container").count()
    source = "".join("".join(c["source"]) for c in markdown)
    display = source.count("$$")  # each $$ ... $$ pair counts twice
    inline = source.count("$") - 2 * display
    assert formulas == display // 2 + inline // 2, (formulas, display, inline)
    assert not any("$" in t or "\\frac" in t for t in texts)
    assert [m for m in page.console if m[0] in ("error", "pageerror")] == []
