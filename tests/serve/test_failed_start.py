"""A kernel that does not answer in time: the page says so and ends.

The README's server (``voila`` from the repository root, so ``voila.py`` applies) is
started with a kernelspec whose kernel sleeps before it starts, and a startup timeout
shorter than that sleep (passed on the command line, as an operator could). Without the
``_render_or_explain`` patch, Voilà loses the render task's exception and sends
heartbeats forever: the response never ends (measured: still open after 60 s). Loopback
only; every wait is bounded; the server and its kernels are stopped at teardown."""

import json
import sys
import time
import urllib.request

import pytest
from serve.harness import ROOT, Server, free_port, voila_command

SLEEP = 6  # seconds the kernel sleeps before it starts; the startup timeout is 1 s


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("slowkernel")
    spec = home / "kernels" / "python3"
    spec.mkdir(parents=True)
    start = (f"import time; time.sleep({SLEEP}); from ipykernel.kernelapp import "
             "launch_new_instance; launch_new_instance()")
    spec.joinpath("kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", start, "-f", "{connection_file}"],
        "display_name": "Python 3 (slow start)", "language": "python"}))
    port = free_port()
    cmd = [*voila_command(port), "--VoilaExecutor.startup_timeout=1",
           "--VoilaConfiguration.preheat_kernel=False"]
    srv = Server(cmd, ROOT, home / "voila.log", f"http://127.0.0.1:{port}",
                 env={"JUPYTER_PATH": str(home)})
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()


def test_a_kernel_that_does_not_start_in_time_ends_the_page_with_its_cause(slow_server):
    t0 = time.monotonic()
    chunks, ended = [], False
    # Voilà's heartbeats arrive every 10 s, so a socket timeout never fires: read against
    # one overall deadline instead.
    with urllib.request.urlopen(f"{slow_server.url}/voila/render/race.ipynb",
                                timeout=30) as r:
        while time.monotonic() - t0 < 60:
            chunk = r.read1(65536)
            if not chunk:
                ended = True
                break
            chunks.append(chunk)
    page = b"".join(chunks).decode(errors="replace")
    assert ended, f"the page was still loading after 60 s: ...{page[-300:]!r}"
    assert "This app could not start: its kernel did not answer in time" in page
    assert "Reload the page" in page
    assert "Traceback" not in page and "didn't respond" not in page
    assert "/site-packages/" not in page and str(ROOT) not in page
    log = slow_server.log_text()
    assert "rendering" in log and "failed" in log and "didn't respond" in log


def test_the_visitor_sees_the_cause_instead_of_a_spinner(slow_server, page):
    page.goto(f"{slow_server.url}/voila/render/race.ipynb", wait_until="commit")
    box = page.wait_for_selector(".descentlab-failed", state="visible", timeout=45_000)
    assert "its kernel did not answer in time" in box.inner_text()
    assert page.locator("#loading").count() == 0  # the spinner is gone
    assert page.external == []


def test_a_page_whose_app_never_draws_reloads_once_then_says_so(server, page):
    """The kernel websocket is answered by a silent stand-in (it opens, nothing comes),
    so the app never draws: the page reloads itself once, then shows the message. The
    watchdog's 90 s is shortened to 4 s for the test."""
    page.add_init_script("window.__descentlabWatchdogMs = 4000")
    page.route_web_socket("**/api/kernels/**", lambda ws: None)
    loads = []
    page.on("load", lambda: loads.append(page.url))
    page.goto(f"{server.url}/voila/render/race.ipynb")
    box = page.wait_for_selector(".descentlab-failed", state="visible", timeout=90_000)
    assert "did not draw within 4 s, twice" in box.inner_text()
    assert len(loads) == 2, loads
    warned = [m for m in page.console if "reloading the page once" in m[1]]
    assert len(warned) == 1
    assert page.locator(".jupyter-widgets").count() == 0
