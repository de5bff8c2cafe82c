"""``check(name, fn)``: grade a student's function with the engine and show the verdict.

A pass is one green line.  Otherwise: the message, the located failure as a small table,
for trajectory exercises a plot of the student's iterates against the reference, what the
code printed, and Hint / Solution buttons.  Nothing here raises into the notebook.
"""

from __future__ import annotations

import ipywidgets as W

from descentlab.engine import exercises

from .style import FONT, STATUS, VERMILLION, esc, inline, markdown

__all__ = ["CheckView", "check", "check_view"]


class CheckView(W.VBox):
    """The verdict of one check (a VBox).  ``feedback`` is the engine's
    :class:`~descentlab.engine.exercises.Feedback`; the plain-text form (``repr``) is
    ``check('name') status | message`` for frontends without widgets."""

    def __init__(self, feedback, children=()):
        super().__init__(children=list(children))
        self.feedback = feedback

    def __repr__(self) -> str:
        fb = self.feedback
        return f"check({fb.name!r}) {fb.status} | {fb.message}"


def _headline(fb) -> W.HTML:
    symbol, words, color = STATUS.get(fb.status, STATUS["invalid"])
    return W.HTML(
        f'<div style="font-size: 22px; font-weight: bold; color: {color}; margin: 4px 0">'
        f"{symbol} <code>{esc(fb.name)}</code>: {esc(words)}</div>")


def _message(fb) -> W.HTMLMath:
    return W.HTMLMath(f'<div style="{FONT} max-width: 60em">{inline(fb.message)}</div>')


def _table(fb) -> W.HTML:
    rows = [("case", fb.case), ("where", fb.where or "—"),
            ("output", f"`{fb.output}{fb.index}`"), ("expected", fb.expected_text),
            ("received", fb.received_text)]
    if fb.mistake:
        rows.append(("likely mistake", fb.mistake))
    cells = "".join(
        f'<tr><th style="text-align: left; padding: 3px 14px 3px 0; vertical-align: top">'
        f"{esc(k)}</th><td style=\"padding: 3px 0; "
        f"{'color: ' + VERMILLION + '; font-weight: bold' if k == 'received' else ''}\">"
        f"{inline(v)}</td></tr>" for k, v in rows)
    return W.HTML(f'<table style="{FONT} border-collapse: collapse; margin: 6px 0">'
                  f"{cells}</table>")


def _printed(fb) -> W.HTML:
    return W.HTML(f'<details style="{FONT}"><summary>what your code printed</summary>'
                  f'<pre style="font-size: 15px; max-height: 14em; overflow: auto">'
                  f"{esc(fb.printed)}</pre></details>")


def _reveal(label: str, content: W.Widget) -> W.VBox:
    """A toggle button that shows ``content`` below it."""
    button = W.ToggleButton(description=label, value=False,
                            layout=W.Layout(width="auto", min_width="9em"),
                            style={"font_size": "16px"})
    box = W.VBox([], layout=W.Layout(margin="4px 0 0 0"))

    def flip(change):
        box.children = [content] if change["new"] else []

    button.observe(flip, "value")
    return W.VBox([button, box], layout=W.Layout(margin="0 12px 0 0"))


def _help(name: str) -> W.HBox:
    hint = W.HTMLMath(f'<div style="{FONT} max-width: 60em">'
                      f"{markdown(exercises.hint(name))}</div>")
    sol = W.HTML(f'<pre style="font-size: 16px; line-height: 1.4">'
                 f"{esc(exercises.solution(name))}</pre>")
    return W.HBox([_reveal("Hint", hint), _reveal("Solution", sol)],
                  layout=W.Layout(margin="8px 0 0 0"))


def check_view(name: str, fn, *, time_limit: float | None = None) -> CheckView:
    """Grade ``fn`` for the exercise ``name`` and build its view (without displaying);
    ``time_limit`` overrides the exercise's (seconds)."""
    fb = exercises.grade(name, fn, time_limit=time_limit)
    try:
        parts = [_headline(fb), _message(fb)]
        if not fb.passed:
            if fb.expected_text:
                parts.append(_table(fb))
            if fb.trajectory is not None:
                from .plot import trajectory_plot
                parts.append(trajectory_plot(fb.trajectory))
        if fb.printed:
            parts.append(_printed(fb))
        if fb.status != "invalid":
            parts.append(_help(name))
        return CheckView(fb, parts)
    except Exception as e:  # noqa: BLE001 - a drawing problem must not hide the verdict
        return CheckView(fb, [W.HTML(f'<div style="{FONT}">{esc(fb.message)}</div>'),
                              W.HTML(f"<i>(the result could not be drawn: "
                                     f"{esc(type(e).__name__)})</i>")])


def check(name: str, fn) -> CheckView:
    """Check your function ``fn`` for exercise ``name``; put it last in a cell, e.g.
    ``check("gd", gd)``, and the verdict shows below the cell."""
    return check_view(name, fn)
