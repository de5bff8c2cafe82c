r"""The data labs' line charts and their style, every run in ONE mark, keys beside the data.

Every chart has the one interface of :mod:`descentlab.widgets.ui.figures`:
``configure(style)`` with a :class:`DataStyle` (colours, labels, the data's points and
grids -- once per change of what the runs are) and ``draw(view)`` with a
:class:`~.session.View` of plain arrays (once per frame).

* :class:`DataChart` -- training points (dots) and validation points (crosses), classes in
  Okabe-Ito colours (:data:`~descentlab.widgets.ui.palette.CLASS_COLORS`), the current
  mini-batch ringed, and each run's fit: the fitted curve
  :math:`\hat y(u)` (regression on one plotted input) or the decision boundary
  :math:`p(y=1\mid x) = 1/2` (binary task, two features);
* :class:`MiniBatchLoss` (:func:`iteration_loss`, :func:`epoch_loss`) -- the mini-batch
  loss before each step against the iteration / the epoch position
  :math:`t/\lceil N/B\rceil`, live changes as dashed rules;
* :class:`TrainValChart` -- full training loss (faint) and validation loss (solid) per
  epoch, early stopping's best epochs as diamonds.

The mini-batch surface, the gradient-noise chart and the metrics panel are in
:mod:`.panels`.
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
    axis,
    figure,
    pad_rows,
    set_lines,
    zero_contour,
)

__all__ = ["DataStyle", "Points", "DataChart", "MiniBatchLoss", "iteration_loss", "epoch_loss",
           "TrainValChart",
           "POINT_COLORS"]

POINT_COLORS = ("#8C8C8C", "#333333")
"""Regression points: training (grey dots) and validation (dark crosses)."""


class Points(NamedTuple):
    """``x``, ``y`` and one colour per point (or one for all)."""

    x: np.ndarray
    y: np.ndarray
    colors: list


class DataStyle(NamedTuple):
    """What the data charts need to know of the runs and the data (see :mod:`.lab`)."""

    colors: tuple            # (R,) one colour per run, the same in every chart
    labels: tuple            # (R,) run labels (with live changes)
    key_title: str
    ramp: tuple | None       # (name, values) for a colour ramp with many runs
    mode: str                # "curve", "boundary" or "none"
    xs: np.ndarray           # fit grid (curve: x of the curve; boundary: grid columns)
    ys: np.ndarray           # boundary grid rows
    names: tuple             # (x label, y label)
    train: Points
    val: Points
    classes: tuple           # ((name, colour), ...) for the key; () for regression
    x_range: tuple
    y_range: tuple
    metric_names: tuple
    batch_sizes: tuple       # (R,)
    n_train: int
    surface: object          # .panels.SurfaceBox or None


class DataChart:
    """Points, the current mini-batch and every run's fit, with a key beside them."""

    def __init__(self, **size):
        self.sx, self.sy = bq.LinearScale(), bq.LinearScale()
        sc = {"x": self.sx, "y": self.sy}
        self.train = bq.Scatter(x=np.zeros(0), y=np.zeros(0), scales=sc, default_size=28,
                                stroke="white", colors=[POINT_COLORS[0]])
        self.val = bq.Scatter(x=np.zeros(0), y=np.zeros(0), scales=sc, default_size=44,
                              marker="cross", colors=[POINT_COLORS[1]])
        self.batch = bq.Scatter(x=np.zeros(0), y=np.zeros(0), scales=sc, default_size=110,
                                fill=False, stroke_width=2, colors=["black"])
        self.fits = bq.Lines(x=EMPTY, y=EMPTY, scales=sc, stroke_width=2.5)
        self.ax, self.ay = axis(self.sx, "x"), axis(self.sy, "y", side="left")
        self.figure = figure([self.train, self.val, self.fits, self.batch],
                             [self.ax, self.ay], "data and fits")
        self.points_key, self.runs_key = Key(), Key()
        self.widget = W.HBox([self.figure, W.VBox([self.points_key.widget,
                                                   self.runs_key.widget])])
        self.mode = "none"
        self._train_xy = (np.zeros(0), np.zeros(0))

    def configure(self, style: DataStyle) -> None:
        self.mode, self.xs, self.ys = style.mode, style.xs, style.ys
        for mark, p in ((self.train, style.train), (self.val, style.val)):
            with mark.hold_sync():
                mark.x, mark.y, mark.colors = p.x, p.y, list(p.colors)
        self._train_xy = (style.train.x, style.train.y)
        with self.sx.hold_sync():
            self.sx.min, self.sx.max = style.x_range
        with self.sy.hold_sync():
            self.sy.min, self.sy.max = style.y_range
        self.ax.label, self.ay.label = style.names
        with self.fits.hold_sync():
            self.fits.colors = list(style.colors)
        if style.classes:
            cols = [c for _, c in style.classes] + ["#000000"]
            labs = [n for n, _ in style.classes] + ["ring: the mini-batch"]
            title = "points (dots: train, ✕: validation)"
        else:
            cols = [POINT_COLORS[0], POINT_COLORS[1], "#000000"]
            labs = ["train (dots)", "validation (✕)", "ring: the mini-batch"]
            title = "points"
        self.points_key.show(cols, labs, title)
        self.runs_key.show(style.colors, style.labels, "fits: " + style.key_title,
                           style.ramp)

    def fit_lines(self, view) -> tuple[np.ndarray, np.ndarray]:
        """``x``, ``y`` of the fits drawn at ``view``: ``(G,)`` and ``(R, G)`` curves, or
        ``(R, k)`` and ``(R, k)`` decision boundaries."""
        R = view.params.shape[0]
        if self.mode == "curve" and view.fit.size:
            return self.xs, view.fit
        if self.mode == "boundary" and view.fit.size:
            paths = [zero_contour(self.xs, self.ys, np.nan_to_num(z, nan=0.0))
                     for z in view.fit]
            return pad_rows([p[:, 0] for p in paths]), pad_rows([p[:, 1] for p in paths])
        return np.zeros(2), np.full((R, 2), np.nan)

    def draw(self, view) -> None:
        x, y = self.fit_lines(view)
        set_lines(self.fits, x, y)           # never an all-NaN line (console errors)
        tx, ty = self._train_xy
        rows = view.batch
        with self.batch.hold_sync():
            self.batch.x, self.batch.y = tx[rows], ty[rows]


class MiniBatchLoss:
    r"""The mini-batch loss :math:`L_{\mathcal B_t}(\theta_{t-1})` of every run (log axis)
    against the iteration ``t`` (``per="iteration"``) or the epoch position
    :math:`t/\lceil N/B\rceil` (``per="epoch"``: runs with different batch sizes compared
    per pass over the data); live changes as dashed rules."""

    X_LABELS = {"iteration": "iteration t", "epoch": "epoch (passes over the data)"}

    def __init__(self, per: str = "iteration", **size):
        self.per = per
        self.chart = SeriesChart(f"mini-batch loss per {per}", self.X_LABELS[per],
                                 "mini-batch loss", log=True, **size)
        self.widget = self.chart.widget

    def configure(self, style: DataStyle) -> None:
        self.chart.configure(style.colors, style.labels, key_title=style.key_title,
                             ramp=style.ramp)

    def draw(self, view) -> None:
        if self.per == "epoch":
            self.chart.show(np.where(np.isfinite(view.loss), view.epoch, np.nan), view.loss)
            self.chart.mark_events(view.event_epochs)
        else:
            self.chart.show(view.steps, view.loss)
            self.chart.mark_events(view.event_steps)


def iteration_loss(**size) -> MiniBatchLoss:
    """The mini-batch loss per iteration."""
    return MiniBatchLoss("iteration", **size)


def epoch_loss(**size) -> MiniBatchLoss:
    """The mini-batch loss per epoch position."""
    return MiniBatchLoss("epoch", **size)


class TrainValChart:
    """Training loss (faint) and validation loss (solid) per epoch; best epochs as
    diamonds; live changes as dashed rules."""

    def __init__(self, **size):
        self.chart = SeriesChart("train (faint) vs validation (solid) loss", "epoch",
                                 "loss", log=True, per_run=2, **size)
        c = self.chart
        self.best = bq.Scatter(x=np.zeros(0), y=np.zeros(0),
                               scales={"x": c.sx, "y": c.sy}, default_size=110,
                               stroke="black", marker="diamond")
        c.figure.marks = [*c.figure.marks, self.best]
        self.widget = c.widget
        self.colors: tuple = ()

    def configure(self, style: DataStyle) -> None:
        self.colors = tuple(style.colors)
        self.chart.configure(style.colors, style.labels,
                             opacities=[0.4, 1.0] * len(style.colors),
                             key_title=style.key_title + " (◆ best epoch)", ramp=style.ramp)

    def draw(self, view) -> None:
        R = view.epochs.shape[0]
        X = np.repeat(view.epochs, 2, axis=0)
        Y = np.stack([view.train_loss, view.val_loss], axis=1).reshape(2 * R, -1)
        self.chart.show(X, Y)
        self.chart.mark_events(view.event_epochs)
        has = np.flatnonzero((view.best > 0) & np.isfinite(view.best_val)
                             & (view.best_val > 0))
        with self.best.hold_sync():
            self.best.x = view.best[has].astype(np.float64)
            self.best.y = view.best_val[has]
            self.best.colors = [self.colors[r] for r in has] or ["black"]

