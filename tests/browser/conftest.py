"""A real Voila server on localhost and a real headless Chromium driven by Playwright."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

LAB = Path(__file__).resolve().parents[2] / "lab"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """Debian's chromium, else Playwright's own browser (None: let Playwright find it)."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def voila_url(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "voila", str(LAB), "--no-browser", f"--port={port}",
             "--Voila.ip=127.0.0.1", "--Voila.port_retries=0"],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"voila did not start:\n{log.read_text()}") from None
            time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser():
    """Module scope on purpose: Playwright's sync API keeps an asyncio loop running while
    it is open, which would break the asyncio widget tests that run after it in the same
    worker process; pytest closes a module fixture before the next module's tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1100})
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    yield pg
    context.close()


def shown_step(page) -> int:
    """The step on screen, from the app's step counter (CSS class ``descentlab-step``)."""
    text = page.locator(".descentlab-step").first.inner_text()
    return int(re.search(r"(\d+)\s*/", text).group(1))


def wait_until(predicate, timeout: float = 60.0, every: float = 0.1) -> bool:
    """Poll ``predicate`` until it is true (True) or ``timeout`` seconds pass (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(every)
    return False


@pytest.fixture
def race(page, voila_url):
    """The race app, loaded; ``race.step()`` reads the step counter and
    ``race.wait(predicate, timeout)`` polls."""
    page.goto(f"{voila_url}/voila/render/race.ipynb")
    page.wait_for_selector("button:has-text('play')", timeout=120_000)
    page.wait_for_selector(".bqplot", timeout=60_000)
    page.wait_for_selector(".descentlab-step", timeout=60_000)
    page.step = lambda: shown_step(page)
    page.wait = wait_until
    return page


@pytest.fixture
def shots(tmp_path_factory):
    """Where screenshots go (DESCENTLAB_SHOTS to keep them, e.g. for a README check)."""
    keep = os.environ.get("DESCENTLAB_SHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        return Path(keep)
    return tmp_path_factory.mktemp("shots")
