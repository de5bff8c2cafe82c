"""The checked-in Voilà configuration holds against a hostile client: raw HTTP and raw
kernel websockets against the README's server (no browser)."""

import http.cookiejar
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import websocket
from serve.harness import ROOT, wait_until
from serve.kernelws import V1, KernelSocket, render


def _status(url: str, headers=None, data=None, opener=None) -> int:
    req = urllib.request.Request(url, headers=headers or {}, data=data)
    try:
        with (opener or urllib.request.build_opener()).open(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_no_source_is_served(server):
    for path in ("race.ipynb", "index.ipynb", "models.ipynb", "../voila.py", "../voila.json",
                 "../pyproject.toml", "../widgets/__init__.py", "%2e%2e/voila.py"):
        assert _status(f"{server.url}/voila/files/{path}") in (403, 404), path
    for path in ("../../../voila.py", "..%2f..%2fvoila.py"):
        assert _status(f"{server.url}/voila/static/{path}") in (403, 404), path
    for notebook in ("race.ipynb", "models.ipynb"):
        html, _ = render(server.url, notebook)
        cells = json.loads((ROOT / "lab" / notebook).read_text())["cells"]
        for cell in cells:  # strip_sources: no line of any code cell is in the page
            if cell["cell_type"] == "code":
                for line in "".join(cell["source"]).splitlines():
                    assert line.strip() not in html or not line.strip(), line


def test_remote_host_header_is_refused(server):
    """allow_remote_access is off: a page asked for under another host name (DNS
    rebinding) is refused before any kernel starts."""
    port = server.url.rsplit(":", 1)[1]
    assert _status(f"{server.url}/voila/render/index.ipynb",
                   headers={"Host": f"evil.example:{port}"}) == 403
    assert _status(f"{server.url}/voila/static/voila.js") == 200


def test_url_cannot_switch_template_or_theme(server):
    """?template= and ?theme= are ignored (no override from the URL), and such a request
    answers like any other instead of hanging with a kernel started for it."""
    for query in ("template=base", "template=reveal", "theme=dark"):
        t0 = time.monotonic()
        with urllib.request.urlopen(f"{server.url}/voila/render/index.ipynb?{query}",
                                    timeout=60) as r:
            html = r.read().decode()
        assert time.monotonic() - t0 < 60
        assert 'data-jp-theme-name="JupyterLab Light"' in html, query
        assert "reveal.js" not in html


def test_tab_close_shutdown_beacon_is_accepted(server):
    """The page sets the _xsrf cookie, so the beacon Voilà's frontend sends on
    beforeunload (a form with _xsrf from that cookie) shuts the kernel down; without the
    token the POST is still refused."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{server.url}/voila/render/index.ipynb", timeout=60) as r:
        html = r.read().decode()
    kernel_id = json.loads(html.split('id="jupyter-config-data" type="application/json">')[1]
                           .split("</script>")[0])["kernelId"]
    xsrf = {c.name: c.value for c in jar}.get("_xsrf")
    assert xsrf, "the rendered page did not set the _xsrf cookie"
    shutdown = f"{server.url}/voila/api/shutdown/{kernel_id}"
    assert _status(shutdown, data=b"", opener=urllib.request.build_opener()) == 403
    form = urllib.parse.urlencode({"_xsrf": xsrf}).encode()
    assert _status(shutdown, data=form, opener=opener) == 204
    assert wait_until(lambda: _status(f"{server.url}/api/kernels/{kernel_id}") == 404, 20)


def test_execute_inspect_complete_requests_run_nothing(server, tmp_path):
    """Voilà's allowlist drops shell requests other than comm and kernel-info messages."""
    _, kernel_id = render(server.url, "index.ipynb")
    ks = KernelSocket(server.url, kernel_id)
    marker = tmp_path / "executed"
    code = f"open({str(marker)!r}, 'w').write('ran')"
    try:
        ids = {ks.send("shell", "execute_request", {"code": code, "silent": False,
                                                    "store_history": False}),
               ks.send("shell", "inspect_request", {"code": "open", "cursor_pos": 4,
                                                    "detail_level": 1}),
               ks.send("shell", "complete_request", {"code": "import o", "cursor_pos": 8})}
        ks.send("shell", "kernel_info_request", {})
        got = ks.read(6)
    finally:
        ks.close()
    replies = [m for _, m in got if m["parent_header"].get("msg_id") in ids]
    assert replies == [], [m["msg_type"] for m in replies]
    assert any(m["msg_type"] == "kernel_info_reply" for _, m in got)  # the socket worked
    assert not marker.exists()
    assert "execute_request" in server.log_text()  # logged as "not allowed. Ignoring."


def test_old_protocol_client_is_refused_and_the_server_keeps_answering(server):
    """A websocket without the v1 subprotocol is refused at the handshake (before this
    guard it froze the server while its memory grew ~30 MB/s); v1 clients still work."""
    _, kernel_id = render(server.url, "race.ipynb")
    rss0 = server.rss()
    ws_url = server.url.replace("http", "ws") + f"/api/kernels/{kernel_id}/channels"
    for protocols in (None, ["kernel.websocket.jupyter.org"], ["v2.kernel.websocket.jupyter.org"]):
        with pytest.raises(websocket.WebSocketBadStatusException) as err:
            websocket.create_connection(ws_url, subprotocols=protocols, timeout=10)
        assert err.value.status_code == 400
        t0 = time.monotonic()
        assert server.answers(timeout=5)
        assert time.monotonic() - t0 < 2
    ks = KernelSocket(server.url, kernel_id, subprotocols=(V1,))
    try:
        assert ks.ws.subprotocol == V1
        assert len(ks.widget_states()) > 0  # widget state (binary buffers) over v1
    finally:
        ks.close()
    assert server.answers(timeout=5)
    assert server.rss() - rss0 < 50e6


def test_comm_errors_send_no_traceback(server):
    """An exception in a kernel comm handler (here: ipywidgets refusing a control comm of
    the wrong version) reaches the websocket only as the replacement message; the details
    go to the server log."""
    _, kernel_id = render(server.url, "race.ipynb")
    ks = KernelSocket(server.url, kernel_id)
    try:
        ks.send("shell", "comm_open", {"comm_id": "c0ffee", "data": {},
                                       "target_name": "jupyter.widget.control"},
                metadata={"version": "0.0.0-crafted"})
        got = ks.read(6, until=lambda ch, m: m["msg_type"] == "stream")
    finally:
        ks.close()
    text = json.dumps([m["content"] for _, m in got])
    assert "Traceback" not in text and "site-packages" not in text and ".py" not in text
    assert "An error occurred in the app" in text
    assert wait_until(lambda: "Incompatible widget control protocol" in server.log_text(), 10)


PATCH_CHECK = r"""
import sys
from traitlets.config.loader import PyFileConfigLoader
PyFileConfigLoader("voila.py", path=sys.argv[1]).load_config()   # applies the patches

# 1. an old-format frame read as v1: bounded, not a 8.6e17-element list
import voila.tornado.kernel_websocket_handler as kws
frame = (2).to_bytes(4, "little") + (100).to_bytes(4, "little") * 3 + b"{}" * 50
assert kws.read_header_from_binary_message(frame) is None

# 2. allow_tracebacks=False: _on_error replaces the traceback instead of raising
#    AttributeError on the per-kernel manager
from types import SimpleNamespace
import logging
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
mkm = SimpleNamespace(allow_tracebacks=False, traceback_replacement_message="hidden")
conn = SimpleNamespace(multi_kernel_manager=mkm, kernel_manager=SimpleNamespace(),
                       kernel_id="k", log=logging.getLogger("t"), subprotocol=None,
                       get_part=lambda field, value, msg_list: value)
msg = {"header": {"msg_type": "error"},
       "content": {"ename": "TypeError", "evalue": "x", "traceback": ['File "/srv/x.py"']}}
ZMQChannelsWebsocketConnection._on_error(conn, "iopub", msg, [None] * 4)
assert msg["content"]["traceback"] == ["hidden"], msg
text = 'Traceback (most recent call last):\n  File "/srv/x.py"'
stream = {"header": {"msg_type": "stream"}, "content": {"name": "stderr", "text": text}}
ZMQChannelsWebsocketConnection._on_error(conn, "iopub", stream, [None] * 4)
assert stream["content"]["text"] == "hidden\n", stream
print("ok")
"""


def test_upstream_patches_hold_in_isolation():
    r = subprocess.run([sys.executable, "-c", PATCH_CHECK, str(ROOT)], cwd="/",
                       capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "ok", r.stderr


def test_configuration_values():
    """What voila.json and voila.py set, as the Voilà app reads them."""
    conf = json.loads((ROOT / "voila.json").read_text())["VoilaConfiguration"]
    assert conf["show_tracebacks"] is False and conf["strip_sources"] is True
    assert conf["allow_template_override"] == "NO" and conf["allow_theme_override"] == "NO"
    assert conf["file_allowlist"] == []
    code = ("import sys; from traitlets.config.loader import PyFileConfigLoader as L; "
            "c = L('voila.py', path=sys.argv[1]).load_config(); m = c.MappingKernelManager; "
            "print(m.cull_idle_timeout, m.cull_interval, m.buffer_offline_messages, "
            "m.allow_tracebacks, c.Voila.tornado_settings['allow_remote_access'], "
            "c.VoilaConfiguration.preheat_kernel, c.VoilaExecutor.startup_timeout)")
    r = subprocess.run([sys.executable, "-c", code, str(ROOT)], cwd="/", capture_output=True,
                       text=True, timeout=60)
    timeout, interval, buffering, tracebacks, remote, preheat, startup = r.stdout.split()
    assert 300 <= int(timeout) <= 600 and int(interval) == 60
    assert int(startup) >= 120  # nbclient's 60 s failed ten cold starts on a loaded CI machine
    assert (buffering, tracebacks, remote, preheat) == ("False", "False", "False", "True")


def test_the_pool_preheats_the_apps_not_the_exercises(server):
    from serve.harness import POOLED

    assert wait_until(server.pools_filled, 120)
    log = server.log_text()
    for notebook in POOLED:
        assert f"Kernel pool of {notebook} is filled" in log, notebook
    assert "Kernel pool of ex" not in log
