r"""The two charts of the models lab (``configure(style)``, ``draw(view)``, ``widget``).

* :class:`FitChart` -- training points (dots) and validation points (crosses), classes in
  Okabe-Ito colours, and the model at the current :math:`\theta`: the line or the fitted
  curve :math:`\hat y` (on polynomial features, the curve of the model's features drawn
  along the plotted one), :math:`P(y = 1 \mid x)`, or the decision boundaries; the key and
  a caption naming the plotted feature sit beside the data.
* :class:`LossChart` -- the training loss per step (log axis), a dashed rule where η
  changed live, the run's label in the key;
* :class:`SliceChart` -- the loss on the plane of the two hand coordinates (heat map of
  :math:`\log_{10}(L - L_{\min} + \epsilon)`, contours), the gradient-descent path, the
  point and :math:`\pm\nabla L` there (true direction, length growing with the gradient).
"""

from __future__ import annotations

from typing import NamedTuple

import bqplot as bq
import ipywidgets as W
import numpy as np

from descentlab.widgets.ui.figures import (
    EMPTY,
    Key,
    SeriesChart,
    arrow_path,
    axis,
    figure,
    log_color,
    pad_rows,
    set_lines,
    zero_contour,
)
from descentlab.widgets.ui.marks import (
    contour_lines,
    heat_map,
    points,
    set_range,
    show_surface,
    xy_scales,
)
from descentlab.widgets.ui.palette import SURFACE_COLORS, class_color

__all__ = ["Style", "FitChart", "SliceChart", "LossChart", "ARROW_LABELS", "ARROW_LENGTH",
           "POINT_COLORS"]

ARROW_LENGTH = 0.2
"""Display length of the gradient arrows, as a fraction of the plot (direction exact)."""
ARROW_LABELS = ("∇L: steepest ascent", "−∇L: GD steps along it")
ARROW_COLORS = ("#000000", "#D55E00")
PATH_COLOR = "#0072B2"
FIT_COLOR = "#000000"
POINT_COLORS = ("#0072B2", "#D55E00")
"""Regression: train and validation points (the fit line is black)."""


class Style(NamedTuple):
    """What the charts draw until the data, model or hand coordinates change."""

    names: tuple             # the two hand coordinates
    pair: tuple              # their indices in theta
    param_names: tuple       # every coordinate's name
    model_name: str          # the engine model's name
    task: str
    mode: str                # "line", "curve", "probability", "boundary"
    caption: str
    labels: tuple            # axis labels of the fit chart (x, y)
    train: tuple             # (x, y, class or None)
    val: tuple
    classes: tuple           # class names (empty for regression)
    ranges: tuple
    ws: np.ndarray
    bs: np.ndarray
    Z: np.ndarray
    grad_scale: float


class FitChart:
    """Points and the current model in data space, the key beside them."""

    def __init__(self, **size):
        self.sx, self.sy, sc = xy_scales()
        self.train = points(sc, default_size=30, stroke="white")
        self.val = points(sc, default_size=40, marker="cross")
        self.fit = bq.Lines(x=EMPTY, y=EMPTY, scales=sc,
                            stroke_width=2.5, colors=[FIT_COLOR])
        self.ax, self.ay = axis(self.sx, "x"), axis(self.sy, "y", side="left")
        self.figure = figure([self.train, self.val, self.fit], [self.ax, self.ay],
                             "data and the model", **size)
        self.key = Key(width="190px")
        self.caption = W.HTML(layout=W.Layout(width="190px"))
        self.widget = W.HBox([self.figure, W.VBox([self.key.widget, self.caption])])
        self.mode = "line"

    def configure(self, style: Style) -> None:
        self.mode = style.mode
        (tx, ty, tc), (vx, vy, vc) = style.train, style.val
        classify = style.task != "regression"
        for mark, x, y, c, k in ((self.train, tx, ty, tc, 0), (self.val, vx, vy, vc, 1)):
            with mark.hold_sync():
                mark.x, mark.y = x, y
                mark.colors = ([class_color(i) for i in c] if classify
                               else [POINT_COLORS[k]])
        x_all, y_all = np.concatenate([tx, vx]), np.concatenate([ty, vy])
        for scale, v, frac in ((self.sx, x_all, 0.05), (self.sy, y_all, 0.15)):
            lo, hi = float(v.min()), float(v.max())
            pad = frac * (hi - lo + 1e-12)
            set_range(scale, lo - pad, hi + pad)
        self.ax.label, self.ay.label = style.labels
        self.figure.title = {"line": "data and the prediction ŷ",
                             "curve": "data and the fitted curve ŷ",
                             "boundary": "data and the decision boundary",
                             "probability": "data and P(y = 1 | x)"}[style.mode]
        if classify:
            n = len(style.classes)
            colors = [class_color(k) for k in range(n)]
            labels = [f"class {c}" for c in style.classes]
            fit_label = ("boundary" if style.mode == "boundary" else "P(y = 1 | x)"
                         if style.task == "binary" else "predicted class")
            colors, labels = [*colors, FIT_COLOR], [*labels, fit_label]
            if style.mode == "boundary" and n > 2:
                colors, labels = colors[:-1], labels[:-1]
            with self.fit.hold_sync():
                self.fit.colors = ([class_color(k) for k in range(n)]
                                   if style.mode == "boundary" and n > 2 else [FIT_COLOR])
        else:
            colors, labels = [*POINT_COLORS, FIT_COLOR], ["train", "validation", "ŷ (model)"]
            self.fit.colors = [FIT_COLOR]
        self.key.show(colors, labels, "● train  ✕ validation" if classify else "")
        self.caption.value = (f"<div style='font-size:13px;color:#333'>"
                              f"{style.caption}</div>")

    def draw(self, view) -> None:
        if self.mode == "boundary":
            paths = [zero_contour(view.fit_x, view.fit_y,
                                  np.where(np.isfinite(m), m, 0.0)) for m in view.margins]
            x, y = pad_rows([p[:, 0] for p in paths]), pad_rows([p[:, 1] for p in paths])
        else:
            x, y = view.fit_x, view.fit_y
        set_lines(self.fit, x, y)                 # never an all-NaN line (console errors)


class SliceChart:
    r"""The loss on the hand plane, the GD path, the point and :math:`\pm\nabla L`."""

    def __init__(self, **size):
        self.sx, self.sy, sc = xy_scales()
        self.cs = bq.ColorScale(colors=list(SURFACE_COLORS))
        self.heat = heat_map(sc, self.cs)
        self.contours = contour_lines(sc)
        self.path = bq.Lines(x=EMPTY, y=EMPTY, scales=sc,
                             colors=[PATH_COLOR], stroke_width=2)
        self.arrows = bq.Lines(x=EMPTY, y=EMPTY,
                               scales=sc, colors=list(ARROW_COLORS), stroke_width=3)
        self.point = points(sc, default_size=90, colors=[PATH_COLOR], stroke="white",
                            stroke_width=1.5)
        self.ax, self.ay = axis(self.sx, "w"), axis(self.sy, "b", side="left")
        # The colour's meaning is a line under the key: a colour-bar label sits above the
        # bar and ran past the chart's right edge in projector mode.
        cbar = bq.ColorAxis(scale=self.cs, side="right")
        self.figure = figure([self.heat, self.contours, self.path, self.arrows, self.point],
                             [self.ax, self.ay, cbar], "loss L on the hand plane",
                             width=size.get("width", "500px"),
                             height=size.get("height", "420px"),
                             margin={"right": 90}, padding_x=0, padding_y=0)
        self.key = Key(width="190px")
        self.colour = W.HTML("colour: log₁₀(L − L_min)", layout=W.Layout(width="190px"))
        self.widget = W.HBox([self.figure, W.VBox([self.key.widget, self.colour])])
        self.span = np.ones(2)
        self.grad_scale = 1.0
        self._slice = None

    def configure(self, style: Style) -> None:
        if self._slice is not style.Z:
            self._slice = style.Z
            ws, bs = style.ws, style.bs
            self.span = np.array([ws[-1] - ws[0], bs[-1] - bs[0]])
            self.grad_scale = style.grad_scale
            set_range(self.sx, float(ws[0]), float(ws[-1]))
            set_range(self.sy, float(bs[0]), float(bs[-1]))
            show_surface(self.heat, ws, bs, log_color(style.Z), self.contours)
        self.ax.label, self.ay.label = style.names
        self._names = style.names

    def arrow_ends(self, point, g) -> np.ndarray:
        r"""``(2, 2, 2)`` (arrow, tail/head, xy): :math:`+\nabla L` then :math:`-\nabla L`
        at ``point``, in the gradient's true direction; the length grows with
        :math:`\lVert\nabla L\rVert` up to ``ARROW_LENGTH`` of the plot (at the slice's
        steepest corner), so it shrinks to nothing at the minimum."""
        p, g = np.asarray(point, float), np.asarray(g, float)
        size = np.linalg.norm(g / self.span)
        length = ARROW_LENGTH * min(1.0, size / self.grad_scale)
        k = length / size if size > 0 and np.isfinite(size) else np.nan
        return np.stack([np.stack([p, p + k * g]), np.stack([p, p - k * g])])

    def draw(self, view) -> None:
        ends = self.arrow_ends(view.point, view.grad)
        ax, ay = arrow_path(ends[:, 0], ends[:, 1], self.span)
        set_lines(self.arrows, ax, ay)            # (no all-NaN line: console errors)
        path = view.path
        set_lines(self.path, *((path[:, 0], path[:, 1]) if len(path) > 1 else (EMPTY, EMPTY)))
        with self.point.hold_sync():
            self.point.x, self.point.y = view.point[:1], view.point[1:]
        self.key.show([*ARROW_COLORS, PATH_COLOR], [*ARROW_LABELS, view.label])


class LossChart:
    """The training loss of the run step by step; live η changes as dashed rules."""

    def __init__(self, **size):
        self.series = SeriesChart("training loss per step", "step", "loss L", log=True,
                                  width=size.get("width", "420px"),
                                  height=size.get("height", "300px"))
        self.widget = self.series.widget
        self._label = None
        self._events: tuple | None = None

    def configure(self, style: Style) -> None:
        self._label = None
        self._events = None

    def draw(self, view) -> None:
        if view.label != self._label:
            self._label = view.label
            self.series.configure([PATH_COLOR], [view.label])
        self.series.show(view.steps, view.losses[None])
        events = tuple(view.events)
        if events != self._events:                # nothing sent while they stay the same
            self._events = events
            self.series.mark_events(view.events)
