"""Frame pacing in a real browser: what the room sees follows the kernel *now*.

The race plays in Voila + headless Chromium; after pause the browser's step readout must
settle within 2 s (before the frame clock it kept moving for ~13 s), and while playing the
browser must show a reasonable pace (>= 5 steps/s).  A chart in a tab that was hidden
while playing shows the current step once its tab is selected.
"""

import time


def test_pause_settles_within_2_s_and_play_shows_a_steady_pace(race):
    race.click("button:has-text('play')")
    assert race.wait(lambda: race.step() > 0, timeout=30)
    t0, s0 = time.monotonic(), race.step()
    time.sleep(6.0)
    t1, s1 = time.monotonic(), race.step()
    rate = (s1 - s0) / (t1 - t0)
    race.click("button:has-text('pause')")
    paused_at = time.monotonic()
    # sample the readout; the lag is the time of the last change after the pause
    last_change, last = paused_at, race.step()
    while time.monotonic() - last_change < 3.0 and time.monotonic() - paused_at < 30:
        time.sleep(0.05)
        now = race.step()
        if now != last:
            last_change, last = time.monotonic(), now
    lag = last_change - paused_at
    print(f"\nbrowser: {rate:.1f} steps/s shown while playing; readout settled "
          f"{lag:.2f} s after pause (at step {last})")
    assert rate >= 5.0, f"the browser showed only {rate:.1f} steps/s"
    assert lag <= 2.0, f"the readout kept changing for {lag:.2f} s after pause"


def test_a_hidden_tab_shows_the_current_step_when_selected(race):
    race.click("button:has-text('play')")
    assert race.wait(lambda: race.step() >= 20, timeout=30)
    race.click("button:has-text('pause')")

    def settled():
        a = race.step()
        time.sleep(0.5)
        return race.step() == a

    assert race.wait(settled, timeout=30)
    n = race.step()
    race.get_by_role("button", name="parameters").click()
    # the parameters chart, hidden while playing: theta_1, theta_2 of 7 runs, each line
    # through steps 0..n (every step: n is far below the decimation limit)
    fig = race.locator(".bqplot:has-text('parameters θ₁')")

    def drawn_to_step_n():
        ds = fig.locator("path.line").evaluate_all(
            "els => els.map(e => e.getAttribute('d') || '')")
        ds = [d for d in ds if d]
        return len(ds) >= 14 and all(d.count("L") == n for d in ds[:14])

    assert race.wait(drawn_to_step_n, timeout=20), fig.locator("path.line").evaluate_all(
        "els => els.map(e => (e.getAttribute('d') || '').split('L').length - 1)")
