"""Browser frame rate of the race, measured in a real Voilà + headless Chromium.

Run as a script (not a test)::

    python tests/benchmarks/bench_browser.py [--seconds 10] [--changes 20]

It prints, for the race at one step per frame:

* steps drawn per second (the step counter, ``.descentlab-step``, over ``--seconds``;
  target 30);
* browser main-thread ms per frame (Chromium's ``Performance.getMetrics`` TaskDuration,
  ScriptDuration, LayoutDuration and RecalcStyleDuration over the same interval, divided by
  the frames drawn);
* kernel ms per frame (the same app built headless in this process, ``frame(1)`` timed);
* slider -> first redraw and slider -> settled, p50 / p95 over ``--changes`` moves of the
  race's first slider while paused (a MutationObserver on every chart's SVG: the first
  mutation after the key press, and the last one before 600 ms of quiet; targets 80 ms and
  150 ms at p95).

Every server and browser it starts is stopped at the end; traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

LAB = Path(__file__).resolve().parents[2] / "lab"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

OBSERVE = """
() => {
  window.__mut = [];
  const obs = new MutationObserver(() => window.__mut.push(performance.now()));
  document.querySelectorAll('.bqplot svg').forEach(
    (s) => obs.observe(s, {subtree: true, childList: true, attributes: true}));
  window.__obs = obs;
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_voila(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "voila", str(LAB), "--no-browser",
                             f"--port={port}", "--Voila.ip=127.0.0.1",
                             "--Voila.port_retries=0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}", timeout=2)
            return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("voila did not start")


def step_of(page) -> int:
    import re
    text = page.locator(".descentlab-step").first.inner_text()
    return int(re.search(r"(\d+)\s*/", text).group(1))


def kernel_ms_per_frame(n: int = 300) -> float:
    from descentlab.widgets import race_app
    lab = race_app(max_steps=100_000)
    for _ in range(20):
        lab.frame(1)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        lab.frame(1)
        times.append(time.perf_counter() - t0)
    lab.close()
    return 1e3 * statistics.median(times)


def metrics(cdp) -> dict:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--changes", type=int, default=20)
    ap.add_argument("--app", default="race.ipynb")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    port = free_port()
    voila = start_voila(port)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=FLAGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/voila/render/{args.app}")
            page.wait_for_selector(".descentlab-step", timeout=120_000)
            page.wait_for_selector(".bqplot svg", timeout=60_000)
            time.sleep(2.0)
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            # ---- frame rate while playing, one step per frame
            page.click("button:has-text('play')")
            while step_of(page) < 5:
                time.sleep(0.05)
            m0, s0, t0 = metrics(cdp), step_of(page), time.monotonic()
            time.sleep(args.seconds)
            m1, s1, t1 = metrics(cdp), step_of(page), time.monotonic()
            page.click("button:has-text('pause')")
            frames = max(s1 - s0, 1)
            rate = (s1 - s0) / (t1 - t0)
            busy = {k: 1e3 * (m1[k] - m0[k]) / frames for k in
                    ("TaskDuration", "ScriptDuration", "LayoutDuration",
                     "RecalcStyleDuration")}
            time.sleep(2.0)
            # ---- slider -> redraw, paused
            handle = page.locator(".widget-slider .noUi-handle, .widget-slider "
                                  ".ui-slider-handle").first
            firsts, settles = [], []
            for i in range(args.changes):
                page.evaluate(OBSERVE)
                handle.focus()
                t_key = page.evaluate("() => performance.now()")
                page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
                end = time.monotonic() + 5.0
                while time.monotonic() < end:
                    muts = page.evaluate("() => window.__mut")
                    now = page.evaluate("() => performance.now()")
                    if muts and now - muts[-1] > 600:
                        break
                    time.sleep(0.05)
                muts = page.evaluate("() => (window.__obs.disconnect(), window.__mut)")
                if muts:
                    firsts.append(muts[0] - t_key)
                    settles.append(muts[-1] - t_key)
            browser.close()
    finally:
        voila.terminate()
        try:
            voila.wait(timeout=15)
        except subprocess.TimeoutExpired:
            voila.kill()
    kernel = kernel_ms_per_frame()
    print(f"app {args.app}, {os.cpu_count()} cores")
    print(f"steps drawn per second (1 step/frame): {rate:.1f}   (target 30)")
    print("browser ms per frame: " + ", ".join(f"{k.replace('Duration', '')} {v:.1f}"
                                               for k, v in busy.items()))
    print(f"kernel ms per frame (headless, median of 300): {kernel:.2f}")
    if firsts:
        print(f"slider -> first redraw: p50 {pct(firsts, .5):.0f} ms, p95 "
              f"{pct(firsts, .95):.0f} ms   (target p95 <= 80)")
        print(f"slider -> settled:      p50 {pct(settles, .5):.0f} ms, p95 "
              f"{pct(settles, .95):.0f} ms   (target p95 <= 150)   [{len(firsts)} changes]")
    else:
        print("slider -> redraw: no chart changed after the slider moved")


if __name__ == "__main__":
    main()
