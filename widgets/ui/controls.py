"""Controls bound to the model with validation feedback next to the control.

:func:`field` is a control with its own error line right under it: a value the model
rejects (its ``@validate`` raises with the engine's message, naming the parameter and its
range) is shown there, the control snaps back to the model's last good value, and the
model and the run are untouched.  A good value clears the line.  :func:`bind` is the
binding alone, for a caller that places the error line itself.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as W
import traitlets as T

from .format import shown_value

__all__ = ["ErrorLine", "Field", "StatusLine", "bind", "field", "on_edit", "button", "BOX",
           "STYLE"]

STYLE = {"description_width": "120px"}
BOX = W.Layout(width="290px")


class ErrorLine:
    """A visible red line for the last rejected input ("" hides it).  The page shows the
    message's words as they are (``<``, ``>`` and ``&`` escaped; quotes kept, so
    ``the file's bytes`` reads the same in the page as in the message)."""

    def __init__(self, compact: bool = False):
        self.widget = W.HTML(layout=W.Layout(min_height="0px" if compact else "24px",
                                             margin="0 0 2px 0"))
        self.message = ""

    def show(self, message: str) -> None:
        self.message = message
        self.widget.value = ("<span style='color:#B00020;font-size:15px;font-weight:600'>"
                             f"⚠ {html.escape(message, quote=False)}"
                             "</span>") if message else ""

    def clear(self) -> None:
        if self.message:
            self.show("")


class StatusLine:
    """What happened to the runs, in words (divergence, stops); sent only when it changes."""

    def __init__(self):
        self.widget = W.HTML(layout=W.Layout(min_height="22px"))
        self.messages: list[str] = []

    def show(self, messages: list[str]) -> None:
        if messages != self.messages:
            self.messages = messages
            self.widget.value = "".join(
                f"<div style='color:#8A3B00;font-size:15px'>{html.escape(m)}</div>"
                for m in messages)


def on_edit(widget: W.ValueWidget, apply: Callable, errors: ErrorLine,
            snap_back: Callable[[], object], skip: Callable[[], bool] = lambda: False,
            refused: tuple = (T.TraitError, ValueError)) -> None:
    """A person's edit of ``widget.value`` goes through ``apply(value)``; when that raises
    one of ``refused`` its message shows on ``errors`` and ``snap_back()`` puts the last
    good value back in the control, otherwise ``errors`` clears.  ``skip()`` True: the
    change came from the lab itself (showing the model), not from a person."""

    def push(change):
        if skip():
            return
        try:
            apply(change["new"])
        except refused as err:
            errors.show(str(err))
            snap_back()
        else:
            errors.clear()

    widget.observe(push, "value")


def bind(widget: W.ValueWidget, model: T.HasTraits, name: str, errors: ErrorLine,
         to_model: Callable = lambda v: v, from_model: Callable = shown_value
         ) -> W.ValueWidget:
    """Two-way binding of ``widget.value`` and ``model.<name>`` with rejection handling.

    ``to_model`` / ``from_model`` convert between the widget's and the model's values
    (by default floats are shown without binary noise: ``0.005``, not
    ``0.005000000000000001``); a ``to_model`` that raises ``ValueError`` counts as a
    rejection too.
    """
    guard = {"busy": False}

    def show(value) -> None:
        """The widget shows the model's ``value``: not a person's edit, not pushed back."""
        guard["busy"] = True
        try:
            widget.value = from_model(value)
        finally:
            guard["busy"] = False

    def pull(change):
        if not guard["busy"]:
            show(change["new"])

    show(getattr(model, name))
    on_edit(widget, lambda v: setattr(model, name, to_model(v)), errors,
            lambda: show(getattr(model, name)), lambda: guard["busy"])
    model.observe(pull, name)
    return widget


class Field(W.VBox):
    """A control and its own error line directly beneath it (``control``, ``errors``)."""

    def __init__(self, control: W.Widget, errors: ErrorLine | None = None, **kw):
        self.control = control
        self.errors = errors if errors is not None else ErrorLine(compact=True)
        super().__init__([control, self.errors.widget], layout=W.Layout(margin="0"), **kw)


def field(widget: W.ValueWidget, model: T.HasTraits, name: str,
          to_model: Callable = lambda v: v, from_model: Callable = shown_value) -> Field:
    """``widget`` bound to ``model.<name>`` with its own error line directly beneath it."""
    box = Field(widget)
    bind(widget, model, name, box.errors, to_model, from_model)
    return box


def button(description: str, icon: str, action: Callable[[], object], tooltip: str = "",
           errors: ErrorLine | None = None) -> W.Button:
    b = W.Button(description=description, icon=icon, tooltip=tooltip,
                 layout=W.Layout(width="auto"))

    def click(_):
        try:
            action()
        except (RuntimeError, ValueError) as err:
            if errors is None:
                raise
            errors.show(str(err))

    b.on_click(click)
    return b
