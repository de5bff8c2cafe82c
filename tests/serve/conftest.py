"""The lab served for real: Voilà started as the README starts it (``voila`` from the
repository root, so the checked-in ``voila.py`` and ``voila.json`` apply), loopback only,
driven by headless Chromium and by raw websocket clients. Every wait is bounded and every
server (and its kernels) is killed at teardown."""

import shutil

import pytest
from serve.harness import (
    CHROMIUM_FLAGS,
    ROOT,
    Server,
    free_port,
    open_page,
    voila_command,
    wait_until,
)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The README's server: ``voila`` run from the repository root. Waits until every
    notebook's preheated kernel is ready (bounded), so tests see the steady state."""
    port = free_port()
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    srv = Server(voila_command(port), ROOT, log, f"http://127.0.0.1:{port}")
    try:
        srv.wait_ready()
        wait_until(srv.pools_filled, timeout=180, every=0.5)
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser():
    """Module scope, as in tests/browser: Playwright's sync API keeps an asyncio loop
    running while open."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    pg = open_page(browser)
    yield pg
    pg.context.close()


