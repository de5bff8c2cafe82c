"""How descentlab is served: the Voilà configuration (settings, then patches of upstream bugs).

Who reads this file:
- ``voila`` started from the repository root (the README's first command) loads
  ``voila.py`` and ``voila.json`` from the working directory;
- under Binder, Voilà's server extension loads the same two files from the working
  directory (the repository root), and ``binder/jupyter_server_config.py`` loads this
  file as a sub-config so the Jupyter server gets the same kernel settings and patches.

Every setting says why it is here and what it trades; README "Serving" repeats them in a
table with the test in ``tests/serve/`` that proves each one. Settings that are plain
values for ``VoilaConfiguration`` live in ``voila.json``; this file holds what needs
Python (paths, the kernel manager, tornado settings, the patches).

The patches are small wrappers around upstream methods, applied once per process
(``_patch`` refuses to wrap twice), each naming the upstream issue it works around.
"""

import functools
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if "get_config" not in globals():
    # Not loaded as a config file but imported as the module ``voila``: Python found this
    # file before the voila package because the repository root is on sys.path (e.g.
    # ``python -m voila`` run from the root). Hand over to the real package.
    import importlib
    import runpy

    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    sys.modules.pop("voila", None)
    if __name__ == "__main__":
        runpy.run_module("voila", run_name="__main__", alter_sys=True)
        raise SystemExit(0)
    sys.modules["voila"] = importlib.import_module("voila")
LAB = HERE / "lab"
V1 = "v1.kernel.websocket.jupyter.org"


def _bundled_mathjax(page_config, **kwargs):
    return {**page_config, "fullMathjaxUrl": None, "mathjaxConfig": None}


def _settings(c):
    """The configuration values (``c`` is the traitlets config being loaded)."""
    # --- the standalone server (the README's ``voila``) -------------------------------------
    # Serve the course folder; the root URL redirects to its map (patch below).
    c.Voila.root_dir = str(LAB)
    c.Voila.port = 8866
    # Loopback only, and refuse requests whose Host header is not localhost/127.0.0.1 (DNS
    # rebinding). Trade: nobody else on the network can open the lab; a class uses Binder or
    # JupyterHub (README "Scale-out"). Voilà hard-codes allow_remote_access=True; its
    # tornado_settings are applied after that default.
    c.Voila.ip = "localhost"
    c.Voila.tornado_settings = {"allow_remote_access": False}

    # Typeset with the MathJax 3 bundled in Voilà's frontend. Voilà's frontend loads
    # MathJax 2 from cdnjs instead whenever the page config names a MathJax URL or
    # config, which the server extension (Binder) always does.
    c.VoilaConfiguration.page_config_hook = _bundled_mathjax

    # --- kernels ------------------------------------------------------------------------------
    # Preheated pool: Voilà starts one kernel per notebook at server start and runs the
    # notebook in it, so the first visitor of an app gets a finished page (the race's first
    # figure for one new visitor: medians of 2.7-3.6 s pooled, 4.2-5.4 s cold; README "Serving
    # benchmark"). Trade: about 110 MB per idle pooled kernel (10 notebooks), a burst of CPU
    # at start-up, and each used kernel is replaced (one notebook run) after it is taken.
    # Apps build paused (DESIGN: nothing animates at import), so a pooled kernel costs no
    # CPU while it waits.
    c.VoilaConfiguration.preheat_kernel = True
    c.VoilaConfiguration.default_pool_size = 1
    # Not the exercises (lab/exN_*.ipynb): they are written in JupyterLab and stop at
    # their NotImplementedError in Voilà, so a pooled kernel would be memory for nothing.
    # (Voilà matches these against each notebook's absolute path.)
    c.VoilaKernelManager.preheat_denylist = [r".*/ex\d+_[^/]*\.ipynb$"]
    # A taken kernel is replaced 1 s later: the next visitor usually finds the pool full
    # again by the time they arrive (a refill is a kernel start and one notebook run, ~2 s).
    # Tried: 12 s, so that the refill would not share the cores with the first visitor's
    # browser on a one-machine setup; the first figure did not get measurably sooner
    # (bench_serve.py alone, noise of +-0.5 s), while the next visitor in those 12 s waited
    # for the delayed refill (or, with a patch, started cold: 5 s instead of 3 s).
    c.VoilaKernelManager.fill_delay = 1.0
    # Voilà runs each notebook with nbclient, which stops waiting for a cell's outputs
    # 4 s after the kernel's reply. When the pool starts (9-10 kernels at once) or many
    # visitors arrive together on a small machine, the display message can come later
    # than that; the page is then served without the app ("Timeout waiting for IOPub
    # output"; at 30 s, 10 of 20 simultaneous cold visits on a loaded 2-core machine).
    # Wait up to 120 s. Trade: none when the kernel is healthy (the wait ends at the
    # kernel's idle message); a kernel that hangs after replying holds its page 120 s
    # before it is served incomplete.
    c.VoilaExecutor.iopub_timeout = 120
    # The same crowd can keep a new kernel from answering its first kernel_info request
    # within nbclient's 60 s (ten cold starts at once while the pool refills, on 2 loaded
    # cores). Wait up to 180 s. Trade: a kernel that never starts holds its page 180 s
    # before the page says so (patch ``_render_or_explain`` below).
    c.VoilaExecutor.startup_timeout = 180

    # Kernels talk to the server over Unix sockets in Voilà's private connection directory,
    # not TCP ports on 127.0.0.1: starting the pool starts 9 kernels at once, and TCP
    # ports picked by the server can be taken by another process before the kernel binds
    # them ("Address already in use", the kernel dies). Trade: kernels must run on this
    # machine (they always do here; a cluster is JupyterHub's job).
    c.KernelManager.transport = "ipc"

    # Culling: a kernel with no open connection and no kernel message for 600 s is shut
    # down; checked every 60 s. Backstop for tabs that vanish without the shutdown beacon
    # (browser crash, network loss). Trade: a student who leaves a tab *closed* for 10
    # minutes cannot come back to the same session. Connected kernels are never culled
    # (cull_connected=False), so an open tab keeps its session however long it sits idle.
    c.MappingKernelManager.cull_idle_timeout = 600
    c.MappingKernelManager.cull_interval = 60
    c.MappingKernelManager.cull_connected = False
    c.MappingKernelManager.cull_busy = False
    # No buffering of messages for a client that has gone: a playing race behind a closed
    # tab otherwise fills the server's memory (measured 1.5 GB). Trade: a client that
    # reconnects after a network blip misses what was sent meanwhile (widgets catch up on
    # their next update).
    c.MappingKernelManager.buffer_offline_messages = False
    # No tracebacks over the websocket: error messages from widget callbacks carry server
    # paths and source lines. Trade: a developer debugging through Voilà sees only the
    # replacement message in the browser; the full traceback stays in the server log.
    c.MappingKernelManager.allow_tracebacks = False
    c.MappingKernelManager.traceback_replacement_message = (
        "An error occurred in the app; details are in the server log."
    )


# --- patches -----------------------------------------------------------------------------
def _patch(owner, name, make):
    """Replace ``owner.name`` with ``make(original)``, once per process."""
    original = getattr(owner, name)
    if getattr(original, "_descentlab_patch", False):
        return
    patched = functools.wraps(original)(make(original))
    patched._descentlab_patch = True
    setattr(owner, name, patched)


def _root_redirect(init_handlers):
    """The root URL opens the course map, not Voilà's bare file list (which also logs
    plugin errors and a 404 on /api/kernels). Voilà has no option for a landing page."""
    from jupyter_server.utils import url_path_join
    from tornado.web import RedirectHandler

    def init(self):
        handlers = init_handlers(self)
        if self.notebook_path or not (Path(self.root_dir) / "index.ipynb").exists():
            return handlers
        target = url_path_join(self.base_url, "voila/render/index.ipynb")
        return [(self.server_url, RedirectHandler, {"url": target}), *handlers]

    return init


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_CDN_LINK = re.compile(r'<link[^>]*href="https?://[^"]*"[^>]*>\s*'
                       r'|<script[^>]*src="https?://[^"]*"[^>]*>\s*</script>\s*')


_MARKDOWN_DIV = 'class="jp-RenderedHTMLCommon jp-RenderedMarkdown jp-MarkdownOutput '
_DEFERRED = "mathjax_ignore descentlab-deferred-math "
# The page script (``_PAGE_JS``), added before the page's end:
# - it typesets the page's markdown once the app has drawn: one cell per macrotask, so the
#   app stays responsive meanwhile. The app's own typeset calls (equation panels) made
#   before that wait in a queue and go first. The typesetter is the page's own
#   (JupyterLab's MathJax 3, the rendermime registry's latexTypesetter); Voilà's application
#   exposes its plugin registry as window.jupyterapp.pluginRegistry, whose activated
#   services are searched for it. If no typesetter appears within 60 s the cells are
#   released unchanged.
# - a watchdog: a page with widget outputs whose app has not drawn a widget 90 s after the
#   page arrived reloads itself once (its kernel is shut down by the tab-close beacon and the
#   reload gets a new one); if the app still does not draw, the page says so. Seen under
#   heavy load (ten visits at once on 2 busy cores): one page's kernel websocket opened,
#   but the app never drew and the page stayed blank below its text.
_PAGE_JS = """<script>
(() => {
  const t0 = Date.now();
  const widgetOutputs = [...document.querySelectorAll(
    'script[type="application/vnd.voila.cell-output+json"]')].some(
    (s) => s.textContent.includes('widget-view'));
  let seenWidget = 0;
  const typesetter = () => {
    const plugins = window.jupyterapp?.pluginRegistry?._plugins;
    for (const p of plugins?.values?.() ?? []) {
      const t = p.service?.latexTypesetter;
      if (t && typeof t.typeset === 'function') return t;
    }
    return null;
  };
  const appDrawn = () => {
    if (!widgetOutputs || document.querySelector('.bqplot, svg.svg-figure')) return true;
    if (!seenWidget && document.querySelector('.jupyter-widgets')) seenWidget = Date.now();
    return (seenWidget && Date.now() - seenWidget > 1000) || Date.now() - t0 > 8000;
  };
  // The app's own typeset calls (its equation panels) made before it has drawn wait too.
  let drawn = false;
  const held = [];
  const hold = (ts) => {
    if (ts.__descentlabTypeset) return;
    const typeset = ts.typeset.bind(ts);
    ts.__descentlabTypeset = typeset;
    ts.typeset = (el) => {
      if (drawn) return typeset(el);
      if (!held.includes(el)) held.push(el);
      return Promise.resolve();
    };
  };
  const release = (ts) => {
    drawn = true;
    const typeset = ts && ts.__descentlabTypeset;
    const cells = [...document.querySelectorAll('.descentlab-deferred-math')];
    const next = () => {
      const el = held.length ? held.shift() : cells.shift();
      if (!el) return;
      if (el.classList.contains('descentlab-deferred-math')) {
        el.classList.remove('mathjax_ignore', 'descentlab-deferred-math');
        if (typeset) typeset(el);
      } else if (typeset && el.isConnected) {
        typeset(el);
      }
      setTimeout(next, 0);
    };
    next();
  };
  const wait = () => {
    const ts = typesetter();
    if (ts) hold(ts);
    if (ts && appDrawn()) return release(ts);
    if (Date.now() - t0 > 60000) return release(null);
    setTimeout(wait, 50);
  };
  wait();
  const key = 'descentlab-reloaded:' + location.pathname;
  const limit = window.__descentlabWatchdogMs || 90000;  // tests shorten it
  const watch = () => {
    if (document.querySelector('.jupyter-widgets')) return sessionStorage.removeItem(key);
    if (Date.now() - t0 < limit) return setTimeout(watch, 500);
    if (!sessionStorage.getItem(key)) {
      console.warn(`descentlab: the app did not draw within ${limit / 1000} s; ` +
        'reloading the page once');
      sessionStorage.setItem(key, '1');
      return location.reload();
    }
    sessionStorage.removeItem(key);
    const box = document.createElement('div');
    box.className = 'descentlab-failed';
    box.setAttribute('role', 'alert');
    box.style.cssText = 'font:16px sans-serif;padding:1em;border-left:4px solid #c0392b;' +
      'background:#fdf2f0';
    box.innerHTML = `<b>This app did not draw within ${limit / 1000} s, twice.</b> ` +
      'Reload the page to try again.';
    document.getElementById('rendered_cells')?.prepend(box);
  };
  if (widgetOutputs) watch();
})();
</script>
"""


def _page_fixes(html: str) -> str:
    """Mark each markdown cell for MathJax to skip at start (see ``_local_page``) and add
    the page script (later typesetting, the watchdog) before the page's end."""
    if _MARKDOWN_DIV in html:
        html = html.replace(_MARKDOWN_DIV, _MARKDOWN_DIV + _DEFERRED)
    if html.rstrip().endswith("</html>"):  # the page's last chunk (a cell output can
        head, _, tail = html.rpartition("</html>")  # carry "</html>" in its JSON)
        html = head + _PAGE_JS + "</html>" + tail
    return html


def _local_page(get_generator):
    """Three fixes on every rendered page (standalone and server extension):

    - Voilà's lab template links Font Awesome from cdn.jsdelivr.net, so offline the
      icons fail and every visit tells a CDN about it. voila-style.js, served by this
      server, already bundles Font Awesome 5 (the same 5.x the CDN link asks for), so the
      external <link> tags are dropped. So is the MathJax 2 <script> from cdnjs that
      Voilà 0.5.8's template adds: the page typesets with the MathJax 3 bundled in
      Voilà's own JupyterLab extensions.
    - The tab-close shutdown beacon sends the ``_xsrf`` cookie as its form field, but the
      Voilà page never sets that cookie, so the POST is refused ("'_xsrf' argument
      missing from POST") and every visit leaks its kernel (voila-dashboards/voila#1458).
      Reading ``self.xsrf_token`` sets the cookie before the first byte is sent.
    - When the page starts, Voilà's frontend typesets every markdown cell with MathJax,
      synchronously, before it renders any cell output: on the race's page (about 170
      formulas in the derivations) that held the main thread about 1.5 s before the app
      could draw. The markdown cells carry ``mathjax_ignore`` at start and are typeset
      after the app has drawn, one cell per task (``_PAGE_JS``). Trade: for about a
      second after the app appears, the derivations show their TeX source. The same
      script reloads, once, a page whose app has not drawn 90 s after it arrived.
    """

    async def gen(self, path=None):
        self.xsrf_token  # noqa: B018  (the property sets the _xsrf cookie)
        async for html in get_generator(self, path=path):
            if "://" in html:
                html = _CDN_LINK.sub("", html)
            yield _page_fixes(html)

    return gen


def _no_url_override(should_use):
    """With template and theme overrides off, ``?template=...`` and ``?theme=...`` are
    ignored by the renderer, but Voilà still compares them with the pooled kernel's
    render and skips the pool, starting a fresh kernel per such request. Ignore them
    the same way here so those requests take the pool like any other."""

    def use(self, notebook_data, pool_size, template_name, theme, request_args):
        conf = self.voila_configuration
        if conf.allow_template_override != "YES":
            template_name = None
        if conf.allow_theme_override != "YES":
            theme = None
        return should_use(self, notebook_data, pool_size, template_name, theme, request_args)

    return use


def _v1_only(pre_get):
    """Refuse a kernel websocket that does not offer the v1 subprotocol.

    Voilà's ``VoilaKernelWebsocketHandler.write_message`` parses every binary frame it
    sends as v1 to drop execute_input messages; for an old-protocol (unnamed subprotocol)
    client a frame with buffers (widget state) starts with a 4-byte count, read as an
    8-byte offset count (~8.6e17), and the server builds that list: it freezes for every
    user and grows ~30 MB/s. Browsers (JupyterLab and Voilà's frontend) always offer v1.
    Trade: clients that only speak the legacy protocol cannot connect."""
    from tornado import web

    async def guarded(self):
        offered = self.request.headers.get("Sec-WebSocket-Protocol", "")
        if V1 not in [p.strip() for p in offered.split(",")]:
            raise web.HTTPError(400, f"kernel websockets require the {V1} subprotocol")
        return await pre_get(self)

    return guarded


def _bounded_header(read_header):
    """Defence in depth behind the v1 guard: a frame whose offset count cannot fit in the
    frame is not v1; return None (not an execute_input) instead of building the list."""

    def read(ws_msg):
        if not isinstance(ws_msg, bytes | bytearray | memoryview) or len(ws_msg) < 8:
            return None
        count = int.from_bytes(ws_msg[:8], "little")
        if count < 3 or 8 * (count + 1) > len(ws_msg):
            return None
        return read_header(ws_msg)

    return read


def _traceback_replacement(on_error):
    """Two gaps in ``allow_tracebacks = False`` (jupyter_server 2.21):

    - ``ZMQChannelsWebsocketConnection._on_error`` reads ``traceback_replacement_message``
      from the per-kernel manager, which has no such trait: the first error message
      raises AttributeError and breaks the connection. Lend it the multi-kernel
      manager's value.
    - Only ``error`` messages are scrubbed, but ipykernel reports an exception in a comm
      handler (crafted widget state, a failing widget callback) as a stderr ``stream``
      with the full traceback and server paths. Replace such text the same way.
    """

    def fixed(self, channel, msg, msg_list):
        mkm = self.multi_kernel_manager
        km = self.kernel_manager
        if not hasattr(km, "traceback_replacement_message"):
            km.traceback_replacement_message = mkm.traceback_replacement_message
        if mkm.allow_tracebacks or channel != "iopub":
            return on_error(self, channel, msg, msg_list)
        msg["header"] = self.get_part("header", msg["header"], msg_list)
        kind = msg["header"]["msg_type"]
        if kind not in ("error", "stream"):
            return on_error(self, channel, msg, msg_list)
        msg["content"] = content = self.get_part("content", msg["content"], msg_list)
        if kind == "error":  # keep the details for the server log, then upstream scrubs
            self.log.warning("kernel %s error:\n%s", self.kernel_id,
                             _ANSI.sub("", "\n".join(content.get("traceback", []))))
            return on_error(self, channel, msg, msg_list)
        if content.get("name") == "stderr" and "Traceback" in content.get("text", ""):
            self.log.warning("kernel %s stderr:\n%s", self.kernel_id, content["text"])
            content["text"] = mkm.traceback_replacement_message + "\n"
            if self.subprotocol == V1:
                msg_list[3] = self.session.pack(content)

    return fixed


_FAILED = (
    '<div class="descentlab-failed" role="alert" style="font:16px sans-serif;'
    'padding:1em;border-left:4px solid #c0392b;background:#fdf2f0">'
    "<b>This app could not start: {reason}.</b> Reload the page to try again.</div>\n"
    # The page's cells sit in a hidden container behind a spinner until the frontend,
    # loaded by the template's footer, shows them; that footer is never sent now.
    "<script>document.getElementById('loading')?.remove();"
    "document.getElementById('rendered_cells')?.style.removeProperty('display');</script>\n"
)


def _failure_reason(err: BaseException) -> str:
    """The cause a visitor can act on, without paths or tracebacks."""
    text = str(err)
    if isinstance(err, RuntimeError) and "didn't respond" in text:
        return "its kernel did not answer in time (the server is overloaded)"
    if isinstance(err, TimeoutError):
        return "the notebook took too long to run (the server is overloaded)"
    return "an error at the server (details are in the server log)"


def _render_or_explain(generate_content_generator):
    """A page whose rendering fails says so and ends.

    Voilà (0.5.8) renders a page without a pooled kernel in a task that feeds a queue
    (``VoilaHandler.get_generator``'s ``put_html``); when the task raises, e.g. nbclient's
    ``RuntimeError("Kernel didn't respond in 60 seconds")`` on a crowded machine, the
    exception is lost with the task, the queue never gets its end marker and the handler
    sends heartbeats forever: the visitor's page never finishes and never shows its app.
    Here the rendering generator catches the failure, logs it in full, and yields a short
    message with the cause instead (and reveals it), so the page ends; the pooled path
    gets the same. The kernel, if it started late, has no connection and is culled."""
    import html as _html

    def make(self, kernel_id=None, kernel_future=None):
        inner = generate_content_generator(self, kernel_id, kernel_future)

        async def guarded():
            try:
                async for item in inner:
                    yield item
            except Exception as err:  # noqa: BLE001  (every cause ends the page the same way)
                self.log.error("rendering %s failed (kernel %s)", self.notebook_path,
                               kernel_id, exc_info=err)
                yield _FAILED.format(reason=_html.escape(_failure_reason(err))), {}

        return guarded()

    return make


def _apply_patches():
    import voila.handler
    import voila.notebook_renderer
    import voila.tornado.kernel_websocket_handler as kws
    from jupyter_server.services.kernels.connection.channels import (
        ZMQChannelsWebsocketConnection,
    )
    from jupyter_server.services.kernels.websocket import KernelWebsocketHandler
    from voila.app import Voila

    _patch(Voila, "init_handlers", _root_redirect)
    _patch(voila.handler.VoilaHandler, "get_generator", _local_page)
    _patch(voila.handler.VoilaHandler, "should_use_rendered_notebook", _no_url_override)
    _patch(KernelWebsocketHandler, "pre_get", _v1_only)
    _patch(kws, "read_header_from_binary_message", _bounded_header)
    _patch(ZMQChannelsWebsocketConnection, "_on_error", _traceback_replacement)
    _patch(voila.notebook_renderer.NotebookRenderer, "generate_content_generator",
           _render_or_explain)



if "get_config" in globals():  # loaded as a config file
    _settings(get_config())  # noqa: F821  (traitlets gives config files get_config)
    _apply_patches()
