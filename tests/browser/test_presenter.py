"""What a presenter relies on, in a real Voilà + headless Chromium: every app loads and
plays with no script error, the keyboard drives time, scenes and projector mode come from
the page address, and the step counter says the step on screen.

Still open (issue 8): bqplot logs SVG attribute complaints (``<g> transform
translate(undefined…)``, ``<path> d "null"``) for a few marks at load, and opening the
race's ‖u‖ and learning-rate chart tabs logs "Could not create a view", and a live switch
of the loss chart between log and linear axes (e.g. the race moving to the saddle, which
has no known minimum) logs "Error setting state: Invalid array length".
``script_errors`` leaves out only the SVG attribute complaints, and these tests open
neither those tabs nor that switch.
"""

import re
import time
from pathlib import Path

import pytest

from .conftest import shown_step, wait_until

LAB = Path(__file__).resolve().parents[2] / "lab"
PLAYING = sorted(p.name for p in LAB.glob("*.ipynb")
                 if p.name != "index.ipynb" and not p.name.startswith("ex"))


SVG = re.compile(r"^Error: <\w+> attribute ")


def script_errors(page) -> list[str]:
    """Console errors other than bqplot's SVG attribute complaints."""
    return [e for e in page.console_errors if not SVG.match(e)]


def _open(page, url):
    page.goto(url)
    page.wait_for_selector(".bqplot", timeout=120_000)
    page.wait_for_selector(".descentlab-step", timeout=60_000)


@pytest.mark.parametrize("name", PLAYING)
def test_every_app_loads_and_plays_with_no_script_error(page, voila_url, shots, name):
    _open(page, f"{voila_url}/voila/render/{name}")
    assert shown_step(page) == 0
    page.click("button:has-text('play')")
    assert wait_until(lambda: shown_step(page) >= 3, timeout=60), f"{name} did not play"
    page.click("button:has-text('pause')")
    page.wait_for_timeout(1000)
    text = page.inner_text("body")
    assert "Traceback" not in text and "⚠" not in text
    assert script_errors(page) == [], page.console_errors
    page.screenshot(path=str(shots / f"played-{name}.png"), full_page=True)


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
    assert script_errors(race) == [], race.console_errors


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
    assert script_errors(page) == [], page.console_errors
