"""The keyboard and the page address: Space plays / pauses, → steps (or scrubs forward),
← scrubs back, R resets; ``?scene=NAME&projector=1`` in the URL sets up the lab.

:class:`Keys` is an invisible ``anywidget`` placed inside a lab's widget.  Its browser
side listens to ``keydown`` on the document and sends ``{"event": "descentlab-key",
"key": ...}`` to the kernel, except when focus is in a text box, a select or anything
editable (typing a learning rate must not pause the run).  In JupyterLab, where Space
and the arrows drive the notebook, only keys pressed while the lab itself has focus
(click on it) count; in Voilà, where the page is the app, every key counts.

When its view renders it also sends the page's query string (``{"event":
"descentlab-url", "search": "?scene=..."}``): the course map links into an app's
prepared scenes and projector mode that way, in Voilà and JupyterLab alike, whether or
not the kernel was preheated.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs

import anywidget
import ipywidgets as W

__all__ = ["Keys", "KEYS", "query"]

KEYS = {" ": "toggle", "ArrowRight": "forward", "ArrowLeft": "back", "r": "reset",
        "R": "reset"}
"""Key -> action name (what :class:`Keys` calls)."""

_ESM = """
function render({ model, el }) {
  el.style.display = "none";
  const app = () => el.closest(".descentlab-app");
  const root = app();
  if (root && !root.hasAttribute("tabindex")) root.setAttribute("tabindex", "-1");
  // Voila's pages live under /voila/ (standalone and as a server extension); anywhere
  // else (JupyterLab, Notebook 7) the notebook owns the keys unless the lab has focus.
  const inLab = !String(window.location.pathname).includes("/voila/");
  const keys = new Set([" ", "ArrowRight", "ArrowLeft", "r", "R"]);
  const onKey = (e) => {
    if (!keys.has(e.key) || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    const tag = (t && t.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" ||
        (t && t.isContentEditable)) return;
    const a = app();
    if (!a || !document.body.contains(a)) return;
    if (inLab && !a.contains(t)) return;
    const first = document.querySelector(".descentlab-app");
    if (!inLab && first !== a) return;   // one app per page in Voila: the first one
    e.preventDefault();
    e.stopPropagation();
    model.send({ event: "descentlab-key", key: e.key });
  };
  document.addEventListener("keydown", onKey, true);
  model.send({ event: "descentlab-url", search: String(window.location.search || "") });
  return () => document.removeEventListener("keydown", onKey, true);
}
export default { render };
"""


class Keys(anywidget.AnyWidget):
    """Calls ``actions[name]()`` for each key a browser view reports (see :data:`KEYS`)."""

    _esm = _ESM

    def __init__(self, actions: dict[str, Callable[[], object]],
                 on_error: Callable[[Exception], object] | None = None,
                 on_url: Callable[[dict[str, str]], object] | None = None, **kwargs):
        kwargs.setdefault("layout", W.Layout(display="none"))
        super().__init__(**kwargs)
        self.actions = dict(actions)
        self.on_error = on_error
        self.on_url = on_url
        self.on_msg(self._message)

    def send_state(self, key=None) -> None:
        if self.comm is not None:   # as FrameClock: nothing to send before the comm opens
            super().send_state(key)

    def press(self, key: str) -> None:
        """What a key press does (the browser calls this through a message; tests too)."""
        name = KEYS.get(key)
        if name is None or name not in self.actions:
            return
        try:
            self.actions[name]()
        except (RuntimeError, ValueError) as err:
            if self.on_error is None:
                raise
            self.on_error(err)

    def _message(self, widget, content, buffers) -> None:
        if not isinstance(content, dict):
            return
        if content.get("event") == "descentlab-key":
            key = content.get("key")
            if isinstance(key, str):
                self.press(key)
        elif content.get("event") == "descentlab-url" and self.on_url is not None:
            search = content.get("search")
            if isinstance(search, str) and len(search) <= 2000:
                self.on_url(query(search))


def query(search: str) -> dict[str, str]:
    """``"?scene=a&projector=1"`` -> ``{"scene": "a", "projector": "1"}`` (first values)."""
    try:
        fields = parse_qs(search.lstrip("?"), max_num_fields=20)
    except ValueError:          # more fields than any address of ours has: ignore it
        return {}
    return {k: v[0] for k, v in fields.items()}
