"""What a presenter relies on, in a real Voilà + headless Chromium: every app loads and
plays with no console error at all, the keyboard drives time, scenes and projector mode
come from the page address, and the step counter says the step on screen.

"No console error" means every message of type ``error`` and every uncaught exception,
bqplot's SVG attribute complaints included (``<g> transform translate(undefined…)``,
``<path> d "null"``: a mark sent all-NaN data or a scale left without a domain), after
load, play, a click on every chart tab and, on the surface apps, a live switch of the
loss chart between log and linear axes (a surface with no known minimum has no
``L − L*``).
"""

import re
import time
from pathlib import Path

import pytest

from .conftest import shown_step, wait_until

LAB = Path(__file__).resolve().parents[2] / "lab"
PLAYING = sorted(p.name for p in LAB.glob("*.ipynb")
                 if p.name != "index.ipynb" and not p.name.startswith("ex"))


def _open(page, url):
    page.goto(url)
    page.wait_for_selector(".bqplot", timeout=120_000)
    page.wait_for_selector(".descentlab-step", timeout=60_000)


def _open_every_tab(page) -> int:
    """Click every chart tab (the ``ChartTabs`` buttons) in turn, then the first again."""
    buttons = page.locator(".widget-toggle-buttons button")
    n = buttons.count()
    for i in [*range(n), 0] if n else []:
        b = buttons.nth(i)
        b.scroll_into_view_if_needed()
        b.click()
        page.wait_for_timeout(800)        # (console events arrive during Playwright calls)
    return n


CLIPPED = """() => [...document.querySelectorAll(
    '.widget-label, .widget-toggle-button, .widget-button, .widget-readout')]
  .filter((e) => e.offsetParent && e.scrollWidth > e.clientWidth)
  .map((e) => `${e.textContent.trim()} (${e.scrollWidth} px of text in ${e.clientWidth})`)"""


def _clipped(page) -> list[str]:
    """Visible control labels, buttons and readouts whose text does not fit (cut off or
    ended with an ellipsis)."""
    return page.evaluate(CLIPPED)


def _surface_box(page):
    return page.locator(".widget-dropdown").filter(
        has=page.locator("label", has_text=re.compile(r"^surface$"))).locator("select")


def _switch_surface(page, name: str) -> None:
    """Pick surface ``name`` and wait until the surface chart is titled with it."""
    _surface_box(page).select_option(name)
    def titled() -> bool:   # "saddle · colour: log₁₀(L − L_min)"
        return any(t.split(" · ")[0] == name.replace("_", " ")
                   for t in page.locator(".bqplot .mainheading").all_text_contents())

    assert wait_until(titled, timeout=60), f"the surface did not become {name}"
    page.wait_for_timeout(1500)


@pytest.mark.parametrize("name", PLAYING)
def test_every_app_loads_plays_and_switches_with_no_console_error(page, voila_url, shots,
                                                                  name):
    _open(page, f"{voila_url}/voila/render/{name}")
    assert shown_step(page) == 0
    page.click("button:has-text('play')")
    assert wait_until(lambda: shown_step(page) >= 3, timeout=60), f"{name} did not play"
    page.click("button:has-text('pause')")
    page.wait_for_timeout(1000)
    _open_every_tab(page)
    box = _surface_box(page)
    if box.count():                      # the loss chart's live log <-> linear switch
        first = box.input_value()
        other = "saddle" if first != "saddle" else "rosenbrock"   # no L* / a known L*
        _switch_surface(page, other)
        page.click("button:has-text('step')")
        assert wait_until(lambda: shown_step(page) == 1, timeout=30)
        _switch_surface(page, first)
    text = page.inner_text("body")
    assert "Traceback" not in text and "⚠" not in text
    assert page.console_errors == [], "\n".join(page.console_errors)
    page.screenshot(path=str(shots / f"played-{name}.png"), full_page=True)
    assert _clipped(page) == [], name
    # A room's screen: projector mode at 1920 x 1080 cuts no label either.
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.click("button:has-text('projector')")
    assert wait_until(lambda: page.locator(".descentlab-projector").count() == 1, timeout=30)
    page.wait_for_timeout(1000)
    assert _clipped(page) == [], f"{name}, projector mode"


def test_keyboard_space_arrows_and_r_drive_the_race(race):
    race.locator(".descentlab-step").first.click()          # focus on the page, not a box
    race.keyboard.press("ArrowRight")
    assert race.wait(lambda: race.step() == 1, timeout=20)
    race.keyboard.press("ArrowRight")
    assert race.wait(lambda: race.step() == 2, timeout=20)
    race.keyboard.press("ArrowLeft")
    assert race.wait(lambda: race.step() == 1, timeout=20)  # scrubbed back
    race.keyboard.press("Space")
    assert race.wait(lambda: race.step() >= 10, timeout=30)
    race.keyboard.press("Space")

    def settled():
        a = race.step()
        time.sleep(1.0)
        return race.step() == a

    assert race.wait(settled, timeout=30)
    race.keyboard.press("r")
    assert race.wait(lambda: race.step() == 0, timeout=20)
    assert race.console_errors == [], "\n".join(race.console_errors)


def test_typing_in_a_box_does_not_drive_time(race):
    box = race.locator("input[type='number'], input[type='text']").first
    box.click()
    race.keyboard.press("ArrowRight")
    race.keyboard.press("r")
    time.sleep(1.0)
    assert race.step() == 0


def test_scene_and_projector_from_the_address(page, voila_url, shots):
    _open(page, f"{voila_url}/voila/render/race.ipynb?scene=adam-vs-adamw&projector=1")
    assert wait_until(lambda: page.locator(".descentlab-projector").count() == 1, timeout=30)
    assert wait_until(lambda: "Adam vs AdamW: λ = 0.1" in page.inner_text("body"), timeout=30)
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.screenshot(path=str(shots / "race-projector.png"), full_page=True)
    assert page.console_errors == [], "\n".join(page.console_errors)
