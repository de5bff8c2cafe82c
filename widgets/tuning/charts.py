r"""The tuning board's chart and table (``configure(style)``, ``draw(view)``, ``widget``).

* :class:`ScoreChart` -- the validation score of every trained configuration against its
  learning rate (log axes), coloured by batch size (a colour per value, the key beside the
  data); earlier rungs faded, the round on screen ringed.  Nothing is drawn before the
  first round.
* :class:`TablePanel` -- the ranked table (3-4 significant digits), best first.
"""

from __future__ import annotations

import html
from typing import NamedTuple

import ipywidgets as W
import numpy as np

from descentlab.widgets.ui.figures import Key, axis, figure, pin, with_domain
from descentlab.widgets.ui.format import num
from descentlab.widgets.ui.marks import points, set_range, xy_scales
from descentlab.widgets.ui.palette import OKABE_ITO

__all__ = ["Style", "ScoreChart", "TablePanel", "batch_color", "TABLE_ROWS"]

TABLE_ROWS = 15


class Style(NamedTuple):
    """What stays until the search changes: the batch sizes shown in the key (each keeps
    its colour by value), the lr range, the metric and the step."""

    batch_sizes: tuple
    lr_range: tuple
    metric: str
    stage: str
    search: str


def batch_color(b: int) -> str:
    """Batch size ``b``'s colour, by its value (not its place in a list): Okabe-Ito by
    ``round(log2 b)`` modulo 7, so 1, 2, 4, ..., 64 all differ and a size
    keeps its colour whatever else is listed."""
    return OKABE_ITO[int(round(np.log2(max(int(b), 1)))) % len(OKABE_ITO)]


class ScoreChart:
    """Score against learning rate, one dot per trained configuration."""

    def __init__(self, **size):
        self.sx, self.sy, sc = xy_scales(log=True)
        self.points = points(sc, default_size=64, stroke="white")
        self.ring = points(sc, default_size=200, colors=["#000000"], fill=False,
                           stroke_width=2, marker="circle")
        self.ax = axis(self.sx, "learning rate η", fmt=".0e")
        self.ay = axis(self.sy, "validation loss", side="left", fmt=".2g")
        self.figure = figure([self.points, self.ring], [self.ax, self.ay],
                             "validation loss vs learning rate", **size)
        self.key = Key(width="170px")
        self.widget = W.HBox([self.figure, self.key.widget])
        self.sizes: tuple = (16,)
        pin(self.sx, None)            # log scales: never the default [0, 1] (log 0)
        pin(self.sy, None)

    def configure(self, style: Style) -> None:
        self.sizes = tuple(sorted(style.batch_sizes))
        lo, hi = style.lr_range
        set_range(self.sx, lo / 1.5, hi * 1.5)
        self.ay.label = style.metric.replace("val_", "validation ")
        self.figure.title = f"{self.ay.label} vs learning rate"
        self.key.show([batch_color(b) for b in self.sizes],
                      [f"batch size {b}" for b in self.sizes], "colour: batch size")

    def draw(self, view) -> None:
        ok = np.isfinite(view.score) & (view.score > 0)
        x, y = view.lr[ok], view.score[ok]
        top = view.rung.max() if view.rung.size else 0
        colors = [batch_color(b) for b in view.batch_size[ok]]
        opac = [1.0 if r == top else 0.35 for r in view.rung[ok]]
        new = view.latest[ok]

        def send():                   # (the log y scale pinned while empty or one-valued)
            with self.points.hold_sync():
                self.points.x, self.points.y = x, y
                if colors:
                    self.points.colors, self.points.opacities = colors, opac
            with self.ring.hold_sync():
                self.ring.x, self.ring.y = x[new], y[new]

        with_domain(self.sy, y if y.size else None, send)


class TablePanel:
    """The ranked configurations of this step, best first."""

    COLUMNS = ("rank", "lr", "batch size", "score", "epochs", "steps", "stop", "rung")

    def __init__(self):
        self.widget = W.HTML(layout=W.Layout(min_width="520px"))
        self.metric, self.stage = "val_loss", "lr"

    def configure(self, style: Style) -> None:
        self.metric, self.stage = style.metric, style.stage

    def draw(self, view) -> None:
        head = "".join(f"<th style='padding:0 8px'>{c}</th>" for c in self.COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td style='padding:0 8px;text-align:right'>{html.escape(v)}</td>"
                             for v in (str(i + 1), num(t.lr, 3), str(t.batch_size),
                                       num(t.score, 4), str(t.epochs), str(t.steps),
                                       t.stop_reason, str(t.rung))) + "</tr>"
            for i, t in enumerate(view.ranked[:TABLE_ROWS]))
        step = "step 2: batch size" if self.stage == "batch size" else "step 1: learning rate"
        more = (f"<div style='color:#555'>{len(view.ranked) - TABLE_ROWS} more in the CSV</div>"
                if len(view.ranked) > TABLE_ROWS else "")
        empty = "" if view.ranked else "<div style='color:#555'>nothing trained yet</div>"
        self.widget.value = (f"<div style='font-size:14px'><b>{step}, best first "
                             f"({html.escape(self.metric)})</b><table><tr>{head}</tr>{body}</table>"
                             f"{empty}{more}</div>")
