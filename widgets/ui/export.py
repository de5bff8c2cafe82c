"""CSV export without a server-side file: a button refreshes a ``data:`` download link.

Works in JupyterLab and Voila alike (the browser decodes the base64 href itself).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable

import ipywidgets as W

__all__ = ["CsvExport", "csv_link"]


def csv_link(text: str, filename: str, note: str = "") -> str:
    """An HTML ``<a download>`` whose href is ``data:text/csv;base64,...`` of ``text``."""
    b64 = base64.b64encode(text.encode("utf-8")).decode("ascii")
    name = html.escape(filename)
    return (f'<a download="{name}" href="data:text/csv;base64,{b64}" target="_blank">'
            f"⬇ {name}</a> {html.escape(note)}")


class CsvExport:
    """Button "prepare CSV" + link.  ``history()`` returns the object with ``to_csv``."""

    def __init__(self, history: Callable[[], object], filename: str = "history.csv"):
        self.history, self.filename = history, filename
        self.button = W.Button(description="prepare CSV", icon="download",
                               tooltip="write the whole run history as CSV",
                               layout=W.Layout(width="auto"))  # fits its text at any size
        self.link = W.HTML()
        self.button.on_click(lambda _: self.refresh())
        self.widget = W.HBox([self.button, self.link])

    def text(self) -> str:
        buf = io.StringIO()
        self.history().to_csv(buf)
        return buf.getvalue()

    def refresh(self) -> None:
        text = self.text()
        rows = text.count("\n") - 1
        self.link.value = csv_link(text, self.filename, f"({rows} rows)")
