"""The keyboard: Space plays / pauses, → steps (or scrubs forward), ← scrubs back, R resets.

:class:`Keys` is an invisible ``anywidget`` placed inside a lab's widget.  Its browser
side listens to ``keydown`` on the document and sends ``{"event": "descentlab-key",
"key": ...}`` to the kernel, except when focus is in a text box, a select or anything
editable (typing a learning rate must not pause the run).  In JupyterLab, where Space
and the arrows drive the notebook, only keys pressed while the lab itself has focus
(click on it) count; in Voilà, where the page is the app, every key counts.
"""

from __future__ import annotations

from collections.abc import Callable

import anywidget
import ipywidgets as W

__all__ = ["Keys", "KEYS"]

KEYS = {" ": "toggle", "ArrowRight": "forward", "ArrowLeft": "back", "r": "reset",
        "R": "reset"}
"""Key -> action name (what :class:`Keys` calls)."""

_ESM = """
function render({ model, el }) {
  el.style.display = "none";
  const app = () => el.closest(".descentlab-app");
  const root = app();
  if (root && !root.hasAttribute("tabindex")) root.setAttribute("tabindex", "-1");
  const inLab = !!document.querySelector(".jp-LabShell, .jp-NotebookPanel");
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
  return () => document.removeEventListener("keydown", onKey, true);
}
export default { render };
"""


class Keys(anywidget.AnyWidget):
    """Calls ``actions[name]()`` for each key a browser view reports (see :data:`KEYS`)."""

    _esm = _ESM

    def __init__(self, actions: dict[str, Callable[[], object]],
                 on_error: Callable[[Exception], object] | None = None, **kwargs):
        kwargs.setdefault("layout", W.Layout(display="none"))
        super().__init__(**kwargs)
        self.actions = dict(actions)
        self.on_error = on_error
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
        if isinstance(content, dict) and content.get("event") == "descentlab-key":
            key = content.get("key")
            if isinstance(key, str):
                self.press(key)
