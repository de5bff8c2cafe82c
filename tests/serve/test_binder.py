"""Binder from ``binder/`` alone: a fresh venv (no system site-packages, nothing cached
but pip's own download cache) gets ``binder/requirements.txt`` from PyPI, ``postBuild``
runs from a copy of the repository as repo2docker runs it, and the Jupyter server starts
as repo2docker's image starts it (``jupyter notebook``, with the JupyterLab and Voilà
server extensions). Chromium, on
loopback only, checks the Voilà URL of the course map and JupyterLab after Run All.
A second check asks repo2docker for the Dockerfile it would build (no Docker needed)."""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import websocket
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from serve.harness import FIGURE, ROOT, Server, free_port, open_page, wait_until

pytestmark = pytest.mark.timeout(900)
TOKEN = "descentlab-binder-test"
IGNORE = shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", "build", ".ruff_cache",
                                ".pytest_cache", ".hypothesis", ".ipynb_checkpoints")


def _copy_repo(dest):
    shutil.copytree(ROOT, dest, ignore=IGNORE)
    return dest


@pytest.fixture(scope="module")
def binder_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("binder")
    repo = _copy_repo(base / "repo")
    venv = base / "venv"
    runtime = (repo / "binder" / "runtime.txt").read_text().strip()
    assert runtime == f"python-{sys.version_info.major}.{sys.version_info.minor}", runtime
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(PATH=f"{venv / 'bin'}:{env['PATH']}", VIRTUAL_ENV=str(venv),
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "-r",
                          "binder/requirements.txt"], cwd=repo, env=env, timeout=600,
                         capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr[-4000:]
    built = time.monotonic() - t0
    post = subprocess.run(["bash", "binder/postBuild"], cwd=repo, env=env, timeout=300,
                          capture_output=True, text=True)
    assert post.returncode == 0, post.stderr[-4000:]
    print(f"\nbinder venv: requirements {built:.0f} s, postBuild "
          f"{time.monotonic() - t0 - built:.0f} s")

    jupyter = {d: str(base / "jupyter" / d) for d in ("config", "data", "runtime")}
    env.update(JUPYTER_CONFIG_DIR=jupyter["config"], JUPYTER_DATA_DIR=jupyter["data"],
               JUPYTER_RUNTIME_DIR=jupyter["runtime"], IPYTHONDIR=str(base / "ipython"),
               PYTHONUNBUFFERED="1")
    port = free_port()
    # repo2docker's image command is `jupyter notebook --ip 0.0.0.0` (BinderHub runs
    # jupyterhub-singleuser); both are a ServerApp with JupyterLab and Voilà extensions.
    cmd = [str(venv / "bin" / "jupyter"), "notebook", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")  # repo2docker runs as jovyan; this machine runs as root
    srv = Server(cmd, repo, base / "jupyter.log", f"http://127.0.0.1:{port}")
    srv.env, srv.repo = env, repo
    try:
        srv.wait_ready(path=f"/api/status?token={TOKEN}")
        yield srv
    finally:
        srv.stop()


def _console_warnings(page):
    return [t for _, t in page.console if "version" in t and "shared" in t]


def test_binder_voila_url_renders_the_course_map_and_apps(binder_server, browser):
    srv = binder_server
    page = open_page(browser)
    try:
        page.goto(f"{srv.url}/voila/render/lab/index.ipynb?token={TOKEN}")
        page.wait_for_selector("text=Optimizer race", timeout=90_000)
        page.get_by_role("link", name="Optimizer race").click()
        page.wait_for_selector(FIGURE, timeout=90_000)
        assert page.url.endswith("/voila/render/lab/race.ipynb")
        assert page.locator("mjx-container").count() > 0  # MathJax 3 from the server
        time.sleep(1)
        assert page.external == [] and _console_warnings(page) == []
    finally:
        page.context.close()
    log = srv.log_text()
    assert "Culling kernels with idle durations > 600 seconds at 60 second intervals" in log


def _answer_dialogs(page, seen):
    """Answer any JupyterLab dialog as a user would (its accept button), keeping its text:
    on a slow machine Lab can ask which kernel to use when Run All comes before the
    kernel is up, and a modal dialog takes every click."""
    for dialog in page.locator(".jp-Dialog").all():
        if not dialog.is_visible():
            continue
        seen.append(" ".join(dialog.inner_text().split()))
        accept = dialog.locator("button.jp-mod-accept")
        (accept.first if accept.count() else dialog.locator("button").last).click()
        page.wait_for_timeout(500)


def test_binder_jupyterlab_renders_the_widgets_after_run_all(binder_server, browser):
    srv = binder_server
    page = open_page(browser)
    dialogs = []
    try:
        page.goto(f"{srv.url}/lab/tree/lab/race.ipynb?token={TOKEN}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                               timeout=120_000)
        figure = page.locator(f".jp-OutputArea :is({FIGURE})")
        for _ in range(4):  # a click that lands while Lab is still settling: once more
            _answer_dialogs(page, dialogs)
            try:
                page.click(".lm-MenuBar-itemLabel:text-is('Run')", timeout=10_000)
                page.click(".lm-Menu-itemLabel:text-is('Run All Cells')", timeout=10_000)
            except PlaywrightTimeout:  # a dialog came up between the answer and the click
                continue
            if wait_until(lambda: figure.count() > 0 or page.locator(".jp-Dialog").count(),
                          60, every=0.5) and figure.count() > 0:
                break
        if figure.count() == 0:
            page.screenshot(path=str(srv.log.parent / "lab.png"))
        assert figure.count() > 0, (f"no figure after Run All (dialogs: {dialogs}); "
                                    f"see {srv.log.parent / 'lab.png'}")
        assert page.locator(".jp-OutputArea-output[data-mime-type*='error']").count() == 0
        assert page.external == []
        print(f"\nJupyterLab dialogs answered: {dialogs}")
    finally:
        page.context.close()


def test_binder_refuses_old_protocol_kernel_websockets(binder_server):
    srv = binder_server
    req = urllib.request.Request(f"{srv.url}/api/kernels", data=b"{}", method="POST",
                                 headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        kernel_id = json.loads(r.read())["id"]
    url = srv.url.replace("http", "ws") + f"/api/kernels/{kernel_id}/channels?token={TOKEN}"
    with pytest.raises(websocket.WebSocketBadStatusException) as err:
        websocket.create_connection(url, timeout=10)
    assert err.value.status_code == 400
    ws = websocket.create_connection(url, subprotocols=["v1.kernel.websocket.jupyter.org"],
                                     timeout=10)
    ws.close()
    req = urllib.request.Request(f"{srv.url}/api/kernels/{kernel_id}", method="DELETE",
                                 headers={"Authorization": f"token {TOKEN}"})
    urllib.request.urlopen(req, timeout=60).close()
    assert wait_until(lambda: srv.answers(f"/api/status?token={TOKEN}"), 10)


def test_repo2docker_dockerfile_installs_requirements_and_runs_postbuild(tmp_path):
    beside = Path(sys.executable).parent / "repo2docker"
    repo2docker = str(beside) if beside.exists() else shutil.which("repo2docker")
    assert repo2docker, "jupyter-repo2docker is in the test extra"
    repo = _copy_repo(tmp_path / "repo")
    r = subprocess.run([repo2docker, "--no-build", "--debug", str(repo)],
                       capture_output=True, text=True, timeout=300)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    version = (repo / "binder" / "runtime.txt").read_text().strip().split("-")[1]
    assert f"python={version}" in out
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in out
    assert "RUN ./binder/postBuild" in out
    assert out.index("binder/requirements.txt\"") < out.index("RUN ./binder/postBuild")
