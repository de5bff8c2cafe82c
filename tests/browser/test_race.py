"""The race app in Voila, driven in headless Chromium: play, pause, bad input, click."""

import re
import time

LR_BOX = ".widget-text:has-text('lr η (inspected)') input"


def test_race_renders_its_charts_without_errors(race, shots):
    assert race.locator(".bqplot").count() >= 2
    assert race.get_by_text("Optimizer race on rosenbrock").count() == 1
    text = race.inner_text("body")
    assert "Traceback" not in text and "Error" not in text
    assert race.step() == 0                      # built paused: nothing animates on load
    race.screenshot(path=str(shots / "race-start.png"), full_page=True)


def test_play_streams_steps_and_pause_stops_them(race, shots):
    race.click("button:has-text('play')")
    assert race.wait(lambda: race.step() >= 30), f"only {race.step()} steps after play"
    race.click("button:has-text('pause')")

    def settled():
        a = race.step()
        time.sleep(1.0)
        return race.step() == a

    assert race.wait(settled, timeout=30)
    stopped = race.step()
    time.sleep(1.5)
    assert race.step() == stopped
    # the convergence chart drew one line per optimizer, with points in every line
    lines = race.locator(".bqplot").nth(1).locator("path.line")
    ds = [d for d in lines.evaluate_all("els => els.map(e => e.getAttribute('d') || '')") if d]
    assert len(ds) >= 7 and all(d.count("L") >= 10 for d in ds[:7])
    race.screenshot(path=str(shots / "race-played.png"), full_page=True)


def test_bad_learning_rate_shows_the_message_and_keeps_the_last_good_value(race, shots):
    box = race.locator(LR_BOX)
    good = box.input_value()
    box.fill("-1")
    box.press("Enter")
    race.wait_for_selector("text=lr must be in [0, inf); got -1", timeout=30_000)
    assert race.wait(lambda: box.input_value() == good, timeout=20)
    race.screenshot(path=str(shots / "race-bad-lr.png"), full_page=True)
    # the app still runs after the error
    race.click("button:has-text('step')")
    assert race.wait(lambda: race.step() == 1, timeout=30)


def test_click_on_the_surface_moves_the_start(race):
    numbers = race.locator(".widget-htmlmath").last
    before = numbers.inner_text()
    surface = race.locator(".bqplot").first
    surface.scroll_into_view_if_needed()
    box = surface.bounding_box()
    race.mouse.click(box["x"] + 0.3 * box["width"], box["y"] + 0.7 * box["height"])

    def moved():
        after = numbers.inner_text()
        return after != before and re.search(r"\d", after) is not None

    assert race.wait(moved, timeout=30), numbers.inner_text()
