"""Helpers for the serve tests: start a server exactly as the README does, count its
kernels, read its memory; open Chromium pages that record what would leave the machine."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "lab"
NOTEBOOKS = sorted(p.name for p in LAB.glob("*.ipynb"))
POOLED = [n for n in NOTEBOOKS if not re.match(r"ex\d+_", n)]  # voila.py's preheat_denylist
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Nothing but the server resolves: a request that would leave the machine fails
    # (and is recorded by the page fixture).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
LOCAL = re.compile(r"^(https?|wss?)://(127\.0\.0\.1|localhost)(:\d+)?/|^(data|blob|about):")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, every: float = 0.2) -> bool:
    """Poll ``predicate`` until true (True) or ``timeout`` seconds pass (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(every)
    return bool(predicate())


def voila_command(port: int) -> list[str]:
    """The README's ``voila`` (the console script next to this Python), on a free port."""
    script = Path(sys.executable).parent / "voila"
    head = [str(script)] if script.exists() else [sys.executable, "-m", "voila"]
    return [*head, "--no-browser", f"--port={port}", "--Voila.port_retries=0"]


class Server:
    """A running server: its URL, process, log, kernels and memory."""

    def __init__(self, cmd: list[str], cwd: Path, log: Path, url: str, env=None):
        self.url, self.log = url, log
        with open(log, "w") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                env=dict(os.environ, PYTHONUNBUFFERED="1", **(env or {})),
                start_new_session=True)
        self.ps = psutil.Process(self.proc.pid)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def answers(self, path: str = "/voila/static/voila.js", timeout: float = 2) -> bool:
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
                return r.status == 200
        except OSError:
            return False

    def wait_ready(self, timeout: float = 120, path: str = "/voila/static/voila.js"):
        if not wait_until(lambda: self.proc.poll() is not None or self.answers(path), timeout):
            self.stop()
            raise RuntimeError(f"server did not start:\n{self.log_text()[-4000:]}")
        if self.proc.poll() is not None:
            raise RuntimeError(f"server exited:\n{self.log_text()[-4000:]}")

    def kernels(self) -> list[psutil.Process]:
        out = []
        for p in self.ps.children(recursive=True):
            try:
                if "ipykernel" in " ".join(p.cmdline()):
                    out.append(p)
            except psutil.Error:
                pass
        return out

    def rss(self) -> int:
        return self.ps.memory_info().rss

    def pools_filled(self) -> bool:
        return self.log_text().count("is filled with") >= len(POOLED)

    def pool_ready(self, notebook: str) -> bool:
        """The notebook's preheated kernel is back in the pool (filled once more than it
        was taken)."""
        log = self.log_text()
        taken = re.findall(rf"Using pre-heated kernel: \S+ for {re.escape(notebook)}", log)
        return log.count(f"Kernel pool of {notebook} is filled") > len(taken)

    def stop(self):
        children = []
        try:
            children = self.ps.children(recursive=True)
        except psutil.Error:
            pass
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        for child in children:  # kernels Voilà did not shut down in time
            try:
                child.kill()
            except psutil.Error:
                pass


def open_page(browser):
    """A fresh browser context (a new user: empty cache, no cookies) with one page that
    records console messages and every request that would leave the server."""
    context = browser.new_context(viewport={"width": 1600, "height": 1100})
    page = context.new_page()
    page.console = []
    page.external = []
    page.on("console", lambda m: page.console.append((m.type, m.text)))
    page.on("pageerror", lambda e: page.console.append(("pageerror", str(e))))
    page.on("request", lambda r: LOCAL.match(r.url) or page.external.append(r.url))
    page.frames_seen = {"sent": 0, "received": 0}  # kernel websocket frames, for describe()

    def on_websocket(ws):
        if not LOCAL.match(ws.url):
            page.external.append(ws.url)
        for kind in ("sent", "received"):
            ws.on(f"frame{kind}", lambda _, kind=kind: page.frames_seen.__setitem__(
                kind, page.frames_seen[kind] + 1))

    page.on("websocket", on_websocket)
    return page


FIGURE = ".bqplot, svg.svg-figure"


def step_of(page) -> int:
    """The app's step counter: ``.descentlab-step`` when the app has one, else the race
    timeline's readout (as tests/browser reads it)."""
    for selector in (".descentlab-step", ".widget-readout"):
        loc = page.locator(selector)
        if loc.count():
            digits = re.findall(r"\d+", loc.last.inner_text())
            if digits:
                return int(digits[0])
    return -1


def describe(page, server=None, log_start: int = 0) -> str:
    """What a page that did not render shows, for a failure message: its URL, the first
    lines of its text, its console, and the server log written since ``log_start``."""
    try:
        text = page.evaluate("() => document.body ? document.body.innerText : ''")
    except Exception as e:  # noqa: BLE001  (a crashed page is itself the finding)
        text = f"<page unreadable: {e}>"
    lines = [f"url: {page.url}", "text: " + " | ".join(text.split("\n")[:12])[:600],
             "console: " + repr(page.console[-8:])[:1200],
             f"kernel websocket frames: {getattr(page, 'frames_seen', None)}"]
    if server is not None:
        lines.append("server log:\n" + server.log_text()[log_start:][-3000:])
    return "\n".join(lines)
