"""Visitors on one README server (``voila`` from the repository root, the checked-in
configuration, preheated pool), driven by headless Chromium on loopback.

    python tests/benchmarks/bench_serve.py [alone] [sessions ...] [--Voila.option=value ...]

Default: ``alone 1 5 10 20``; options starting with ``--`` are passed to both servers'
``voila`` command after the checked-in configuration (to measure a setting against it,
e.g. ``--VoilaKernelManager.fill_delay=1``).

``alone``: one visitor at a time (a new user: new browser context, empty cache), five
times each, to the race and to ``floor/one_figure.ipynb`` (a notebook holding one bqplot
figure of three points; served from a second server with the same configuration): the
time from navigation to the first figure, pooled (the visit takes the preheated kernel)
and cold (on a server of the same configuration without the pool: the kernel starts for
the visit). The one-figure page is Voilà's floor on this machine, measured in the same
run: no app in Voilà's frontend can draw sooner.

For each number of sessions N: N new browser contexts open the race at the same moment;
reported are the time to first figure (from that moment to the first bqplot figure on the
page; "pooled" is the session that got the kernel preheated before the visits, "cold" the
others: they start kernels of their own), steps/s per session while all N play for 10 s,
the kernels' RSS and the server's RSS. Then the tabs close and the time until the kernel
count is back to idle is reported. Every wait is bounded; the servers and their kernels
are stopped at the end.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from serve.harness import (  # noqa: E402
    CHROMIUM_FLAGS,
    FIGURE,
    Server,
    free_port,
    open_page,
    step_of,
    voila_command,
    wait_until,
)

PLAY = 10.0  # seconds of play measured per N
MARK_FIRST_FIGURE = """
new MutationObserver((_, obs) => {
  if (document.querySelector(SELECTOR)) {
    window.__firstFigure = performance.now();
    obs.disconnect();
  }
}).observe(document, {childList: true, subtree: true});
""".replace("SELECTOR", repr(FIGURE))


def took_pooled(server: Server, kernel_id: str) -> bool:
    """The visit with this kernel got it from the pool (Voilà logs each one it hands out)."""
    return f"Using pre-heated kernel: {kernel_id}" in server.log_text()


def kernel_of(page) -> str:
    return page.evaluate("JSON.parse(document.getElementById('jupyter-config-data')"
                         ".textContent).kernelId")


def mb(n: float) -> str:
    return f"{n / 2**20:.0f} MB"


def run(browser, server: Server, n: int) -> dict:
    idle_pids = {k.pid for k in server.kernels()}
    idle = len(idle_pids)
    pages = pages_all = [open_page(browser) for _ in range(n)]
    for pg in pages:
        pg.add_init_script(MARK_FIRST_FIGURE)
        pg.loads = []
        pg.on("load", lambda pg=pg: pg.loads.append(1))
    try:
        # All N visits start at the same moment: each page is sent to the app without
        # waiting for the others (a goto would wait for its response to begin, and Voilà
        # begins a pooled response only when the refilled kernel is up, so visits would
        # queue in the harness). Times are wall clock from that moment, so a page that
        # reloads itself (its watchdog) is timed from the first visit.
        for pg in pages:
            pg.goto("about:blank")
            pg.loads.clear()
        started = time.time() * 1000
        for pg in pages:
            pg.started = started
            pg.evaluate(f"location.href = {server.url + '/voila/render/race.ipynb'!r}")
        deadline = time.monotonic() + 300
        rendered = []
        for pg in pages:  # bounded: a session without a figure after 300 s is counted
            try:
                left_ms = max(1000, (deadline - time.monotonic()) * 1000)
                pg.wait_for_selector(FIGURE, timeout=left_ms)
                pg.wait_for_selector("button:has-text('play')", timeout=60_000)
                rendered.append(pg)
            except Exception:  # noqa: BLE001  (playwright's TimeoutError)
                pass
        cold, pooled = [], []
        for pg in rendered:
            t = (pg.evaluate("performance.timeOrigin + window.__firstFigure")
                 - pg.started) / 1000
            (pooled if took_pooled(server, kernel_of(pg)) else cold).append(t)
        failed = n - len(rendered)
        reloaded = sum(len(pg.loads) > 1 for pg in pages_all)
        pages = rendered
        for pg in pages:
            pg.locator("button:has-text('play')").first.click()
        # every player has started (bounded): steps/s is measured on running players
        wait_until(lambda: all(step_of(pg) > 0 for pg in pages), 60, every=0.5)
        s0 = [step_of(pg) for pg in pages]
        t0 = time.monotonic()
        time.sleep(PLAY)
        s1 = [step_of(pg) for pg in pages]
        rate = [(b - a) / (time.monotonic() - t0) for a, b in zip(s0, s1, strict=True)]
        # sessions whose player paused itself: no acknowledgment from the browser for the
        # frame clock's stale_after (it takes that for a closed or hidden tab)
        stalled = sum(pg.get_by_text("the browser stopped drawing").count() > 0
                      for pg in pages)
        # the sessions' kernels (started for them; the pooled one they took is left out)
        kernels = [k.memory_info().rss for k in server.kernels() if k.pid not in idle_pids]
        server_rss = server.rss()
    finally:
        # Close the tabs (beforeunload runs and queues Voilà's shutdown beacon); their
        # contexts stay open a moment longer, as a browser outlives its closed tabs: a
        # context closed at once can drop a beacon not yet sent.
        for pg in pages_all:
            pg.close(run_before_unload=True)
    t_close = time.monotonic()
    back = wait_until(lambda: len(server.kernels()) <= idle, 120, every=0.5)
    left = len(server.kernels()) - idle
    for pg in pages_all:
        pg.context.close()
    return {"n": n, "pooled": min(pooled) if pooled else float("nan"), "cold": cold,
            "rate": rate, "left": left,
            "failed": failed, "reloaded": reloaded, "stalled": stalled,
            "kernel_rss": statistics.median(kernels or [0]), "kernels": len(kernels),
            "server_rss": server_rss,
            "back": time.monotonic() - t_close if back else float("nan"),
            "server_after": server.rss()}


def visit(browser, server: Server, notebook: str) -> tuple[float, str, object]:
    """One new user opens ``notebook``: (seconds from navigation to the first figure, the
    page's kernel id, the page)."""
    page = open_page(browser)
    page.add_init_script(MARK_FIRST_FIGURE)
    page.goto(f"{server.url}/voila/render/{notebook}", timeout=180_000)
    page.wait_for_selector(FIGURE, timeout=180_000)
    page.wait_for_function("window.__firstFigure !== undefined", timeout=10_000)
    return page.evaluate("window.__firstFigure") / 1000, kernel_of(page), page


def alone(browser, server: Server, notebook: str, pooled: bool, reps: int = 5) -> list:
    """``reps`` visits, one at a time, each alone on the server; only visits that got the
    kind of kernel meant (pooled or started for them) are kept."""
    times = []
    for _ in range(reps):
        idle = len(server.kernels())
        if pooled:
            wait_until(lambda: server.pool_ready(notebook), 120, every=0.5)
        t, kid, page = visit(browser, server, notebook)
        if took_pooled(server, kid) == pooled:
            times.append(t)
        page.close(run_before_unload=True)
        wait_until(lambda idle=idle: len(server.kernels()) <= idle, 120, every=0.5)
        page.context.close()
    return times


def spread(ts: list[float]) -> str:
    if not ts:
        return "-"
    return f"{statistics.median(ts):.2f} s ({min(ts):.2f}-{max(ts):.2f}, n = {len(ts)})"


def start(options: list[str], floor: bool = False, pool: bool = True) -> Server:
    """The README server (the checked-in configuration, then ``options``), ready: on the
    course, or on the one-figure folder (``floor``); with its pool filled, or without the
    pool (every visit then starts its kernel)."""
    import tempfile

    log = Path(tempfile.mkdtemp(prefix="bench_serve_")) / "voila.log"
    port = free_port()
    extra = [f"--Voila.root_dir={Path(__file__).resolve().parent / 'floor'}"] if floor else []
    if not pool:
        extra.append("--VoilaConfiguration.preheat_kernel=False")
    server = Server([*voila_command(port), *extra, *options], ROOT, log,
                    f"http://127.0.0.1:{port}")
    try:
        server.wait_ready()
        if pool and floor:  # one notebook, one pool
            wait_until(lambda: "is filled with" in server.log_text(), 180, every=0.5)
        elif pool:
            wait_until(server.pools_filled, 180, every=0.5)
        time.sleep(3)
    except BaseException:
        server.stop()
        raise
    return server


def alone_on(browser, options: list[str], notebook: str, floor: bool, pool: bool) -> list:
    """``alone`` on a server of its own, stopped afterwards."""
    server = start(options, floor, pool)
    try:
        return alone(browser, server, notebook, pool)
    finally:
        server.stop()


def compare_alone(browser, server: Server, options: list[str]) -> None:
    """First figures of one visitor at a time: the race and the one-figure page, each
    pooled and cold (cold: on a server of the same configuration without the pool)."""
    race = {"pooled": alone(browser, server, "race.ipynb", True),
            "cold": alone_on(browser, options, "race.ipynb", floor=False, pool=False)}
    one = {kind: alone_on(browser, options, "one_figure.ipynb", floor=True, pool=pool)
           for kind, pool in (("pooled", True), ("cold", False))}
    print("| one visitor at a time (5 new users each) | first figure, pooled: median (min-max) "
          "| first figure, cold: median (min-max) |")
    print("|---|---|---|")
    print(f"| the race | {spread(race['pooled'])} | {spread(race['cold'])} |")
    print(f"| one bqplot figure of 3 points (Voilà's floor) | {spread(one['pooled'])} "
          f"| {spread(one['cold'])} |")
    ratio = {k: (statistics.median(race[k]) / statistics.median(one[k])
                 if race[k] and one[k] else float("nan")) for k in race}
    print(f"| race / floor | {ratio['pooled']:.2f} | {ratio['cold']:.2f} |")
    print("| target | 1 s | 3 s |", flush=True)


def main(sizes: list[int], with_alone: bool, options: list[str]) -> None:
    import shutil

    from playwright.sync_api import sync_playwright

    server = start(options)
    try:
        print(f"server ready: {len(server.kernels())} pooled kernels, server RSS "
              f"{mb(server.rss())}, idle kernel RSS "
              f"{mb(statistics.median(k.memory_info().rss for k in server.kernels()))}")
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            try:
                if with_alone:
                    compare_alone(browser, server, options)
                if sizes:
                    print("| sessions | first figure, pooled | first figure, cold (median / "
                          "max) | steps/s per session (median / min) | kernel RSS (median) "
                          "| server RSS | kernels idle again after close |")
                    print("|---|---|---|---|---|---|---|")
                for n in sizes:
                    wait_until(lambda: server.pool_ready("race.ipynb"), 120)
                    r = run(browser, server, n)
                    cold = (f"{statistics.median(r['cold']):.2f} s / {max(r['cold']):.2f} s"
                            if r["cold"] else "-")
                    if r["failed"]:
                        cold += f" ({r['failed']} of {n} without a figure after 300 s)"
                    if r["reloaded"]:
                        cold += f" ({r['reloaded']} reloaded by the watchdog)"
                    rates = (f"{statistics.median(r['rate']):.1f} / {min(r['rate']):.1f}"
                             + (f" ({r['stalled']} paused as stalled)" if r["stalled"] else ""))
                    print(f"| {n} | {r['pooled']:.2f} s | {cold} | {rates} | "
                          f"{mb(r['kernel_rss'])} | {mb(r['server_rss'])} "
                          f"(after close {mb(r['server_after'])}) | "
                          + (f"{r['back']:.0f} s |" if r["left"] <= 0 else
                             f"{r['left']} kernels left after 120 s |"),
                          flush=True)
            finally:
                browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    options = [a for a in sys.argv[1:] if a.startswith("--")]
    args = [a for a in sys.argv[1:] if not a.startswith("--")] or ["alone", "1", "5", "10", "20"]
    main([int(a) for a in args if a != "alone"], "alone" in args, options)
