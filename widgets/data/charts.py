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
  epoch, early stopping's best epochs as diamonds;
* :class:`WeightTraces` -- every weight :math:`w_i` of the inspected run against the
  iteration (30 lines for breast_cancer), coloured by the rank of :math:`\lvert w_i\rvert`
  at the shown iteration, the key naming the largest by feature;
* :class:`EffectiveSteps` -- each run's per-coordinate step size
  :math:`\eta^{\rm eff}_i` after the shown iteration (the engine's ``eff_lr``): bars per
  feature for a run whose step differs by coordinate (Adam:
  :math:`\eta/(\sqrt{\hat v_i}+\epsilon)`), a dashed rule for a run with one
  :math:`\eta` for all (SGD).

The mini-batch surface, the gradient-noise chart and the metrics panel are in
:mod:`.panels`.
"""

from __future__ import annotations

import html
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
    finite_or_nan,
    pad_rows,
    set_lines,
    zero_contour,
)
from descentlab.widgets.ui.format import num
from descentlab.widgets.ui.marks import points, set_range, xy_scales
from descentlab.widgets.ui.palette import ramp_colors

__all__ = ["DataStyle", "Points", "DataChart", "MiniBatchLoss", "iteration_loss", "epoch_loss",
           "TrainValChart", "WeightTraces", "EffectiveSteps", "weight_ranks", "rank_colors",
           "single_step",
           "POINT_COLORS", "TOP_FEATURES"]

TOP_FEATURES = 6
"""How many of the largest weights the traces' key names."""

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
    features: tuple = ()     # (F,) every feature's name (the weights w_1..w_F)
    scales: object = None    # (F,) each feature's standard deviation before scaling, or None
    standardized: bool = True  # whether the runs see the features standardized


class DataChart:
    """Points, the current mini-batch and every run's fit, with a key beside them."""

    def __init__(self, **size):
        self.sx, self.sy, sc = xy_scales()
        self.train = points(sc, default_size=28, stroke="white", colors=[POINT_COLORS[0]])
        self.val = points(sc, default_size=44, marker="cross", colors=[POINT_COLORS[1]])
        self.batch = points(sc, default_size=110, fill=False, stroke_width=2,
                            colors=["black"])
        self.fits = bq.Lines(x=EMPTY, y=EMPTY, scales=sc,
                             stroke_width=2.5)
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
        set_range(self.sx, *style.x_range)
        set_range(self.sy, *style.y_range)
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
        self.best = points({"x": c.sx, "y": c.sy}, default_size=110, stroke="black",
                           marker="diamond")
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



# ---------------------------------------------------------------------------- high dimension


def weight_ranks(w) -> np.ndarray:
    """``(F,)`` the rank of each :math:`\\lvert w_i\\rvert` (0: the largest; ties and NaN
    by feature order, NaN last)."""
    a = np.abs(np.asarray(w, dtype=np.float64))
    order = np.lexsort((np.arange(a.size), -np.nan_to_num(a, nan=-1.0)))
    ranks = np.empty(a.size, dtype=np.int64)
    ranks[order] = np.arange(a.size)
    return ranks


def rank_colors(n: int) -> list[str]:
    r"""``n`` colours for ranks 0 (the largest) to n - 1 on the sequential ramp, dark to
    light, placed by :math:`\log(k + 1)/\log n` so the first few ranks are far apart."""
    return ramp_colors(np.arange(1, max(n, 1) + 1), 1, max(n, 2))


def single_step(eff) -> np.ndarray:
    """``(R,)`` whether each run's step size is one number for every coordinate (a row
    of ``eff (R, D)`` that is finite and constant: SGD's :math:`\\eta`)."""
    eff = np.asarray(eff, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.isfinite(eff).all(axis=1) & (np.ptp(eff, axis=1) == 0)


class WeightTraces:
    r"""The weights :math:`w_1, \dots, w_F` of the inspected run against the iteration,
    one ``Lines`` mark of F lines.  Colour: the rank of :math:`\lvert w_i\rvert` at the
    shown iteration on the sequential ramp (:func:`rank_colors`, dark: the largest); the
    key names the :data:`TOP_FEATURES` largest, ``#i`` the feature's number and its name."""

    def __init__(self, **size):
        self.series = SeriesChart("weights", "iteration t", "weight wᵢ",
                                  **{"width": "420px", **size})
        self.lines, self.figure, self.key = (self.series.lines, self.series.figure,
                                             self.series.key)
        self.lines.stroke_width = 2
        self.widget = self.series.widget
        self.features: tuple = ()
        self.labels: tuple = ()
        self.ramp = rank_colors(1)
        self._ranks: tuple | None = None
        self._title = ""

    def configure(self, style: DataStyle) -> None:
        self.features = tuple(style.features)
        self.labels = tuple(style.labels)
        self.ramp = rank_colors(len(self.features))
        self._ranks = None

    def draw(self, view) -> None:
        F = len(self.features)
        r = view.selected
        w = view.params[r, :F]
        ranks = weight_ranks(w)
        self.series.show(view.steps, view.path[r, :, :F].T)     # (F, n) lines
        if tuple(ranks) != self._ranks:
            self._ranks = tuple(ranks)
            self.lines.colors = [self.ramp[k] for k in ranks]
        title = f"the {F} weights of {self.labels[r]}" if r < len(self.labels) else ""
        if title != self._title:
            self._title = self.figure.title = title
        self.series.mark_events(view.event_steps)
        if not np.ptp(np.nan_to_num(np.abs(w))) > 0:     # all equal (the start): no order
            self.key.show([], [], f"all {F} weights are {num(abs(w[0]), 3)} at t = "
                          f"{view.step}" if F and np.isfinite(w[0]) else "no weights")
            return
        top = np.argsort(ranks)[:TOP_FEATURES]
        self.key.show([self.ramp[ranks[i]] for i in top],
                      [f"#{i + 1} {self.features[i]}" for i in top],
                      f"largest |wᵢ| at t = {view.step} (colour: rank of |wᵢ|)")


class EffectiveSteps:
    r"""Each run's per-coordinate step size after the shown iteration, log axis: grouped
    bars over the features for the runs whose :math:`\eta^{\rm eff}_i` differs by
    coordinate, a dashed rule for those with one :math:`\eta` (:func:`single_step`).  The
    note under it names each bar run's largest and smallest step by feature."""

    def __init__(self, **size):
        self.sx = bq.LinearScale(min=0.5, max=2.5, allow_padding=False)
        self.sy = bq.LogScale()
        sc = {"x": self.sx, "y": self.sy}
        self.bars = bq.Bars(x=np.arange(1.0, 3.0), y=np.ones((1, 2)), scales=sc,
                            type="grouped", padding=0.2, base=1.0, visible=False,
                            stroke_width=0, opacities=[1.0])
        self.rules = bq.Lines(x=EMPTY, y=EMPTY, scales=sc, stroke_width=3,
                              line_style="dashed")
        self.ax = axis(self.sx, "feature number i")
        self.figure = figure([self.bars, self.rules],
                             [self.ax, axis(self.sy, "step size ηᵢ (log)", side="left",
                                            fmt=".0e", ticks=5)],
                             "step size per coordinate", **{"width": "420px", **size})
        self.key = Key(width="185px")
        self.note = W.HTML(layout=W.Layout(width="600px"))
        self.widget = W.VBox([W.HBox([self.figure, self.key.widget]), self.note])
        self.colors: tuple = ()
        self.labels: tuple = ()
        self.features: tuple = ()
        self._shown: str | None = None

    def configure(self, style: DataStyle) -> None:
        self.colors, self.labels = tuple(style.colors), tuple(style.labels)
        self.features = tuple(style.features)
        F = len(self.features)
        with self.sx.hold_sync():
            self.sx.min, self.sx.max = 0.5, F + 0.5
        self.ax.tick_values = np.array([1, *range(5, F + 1, 5)] if F > 10 else
                                       range(1, F + 1), dtype=np.float64)
        self.key.show(self.colors, self.labels,
                      "runs (bars: ηᵢ per coordinate; dashed: one η for all)")
        self._shown = None

    def draw(self, view) -> None:
        if view.eff_lr is None:             # the session does not record step sizes
            return
        F = len(self.features)
        eff = finite_or_nan(view.eff_lr[:, :F])
        eff = np.where(eff > 0, eff, np.nan)
        one = single_step(eff)
        per = np.flatnonzero(~one & np.isfinite(eff).any(axis=1))
        flat = np.flatnonzero(one)
        vals = eff[np.concatenate([per, flat])]
        if np.isfinite(vals).any():
            lo = 10.0 ** np.floor(np.log10(np.nanmin(vals)) - 0.3)
            hi = 10.0 ** np.ceil(np.log10(np.nanmax(vals)) + 0.05)
        else:
            lo, hi = 1e-4, 1.0
        x = np.arange(1.0, F + 1.0)
        with self.sy.hold_sync():
            self.sy.min, self.sy.max = float(lo), float(hi)
        with self.bars.hold_sync():
            if per.size:
                self.bars.x, self.bars.y = x, np.nan_to_num(eff[per], nan=lo)
                self.bars.colors = [self.colors[r] for r in per]
                self.bars.base = float(lo)
                self.bars.visible = True
            else:
                self.bars.visible = False
        with self.rules.hold_sync():
            if flat.size:
                self.rules.x = np.tile([0.5, F + 0.5], (flat.size, 1))
                self.rules.y = np.repeat(eff[flat, :1], 2, axis=1)
                self.rules.colors = [self.colors[r] for r in flat]
            else:
                self.rules.x = self.rules.y = EMPTY
        parts = []
        for r in per:
            e = eff[r]
            if not np.isfinite(e).any():
                continue
            i, j = int(np.nanargmax(e)), int(np.nanargmin(e))
            parts.append(f"<b style='color:{self.colors[r]}'>{html.escape(self.labels[r])}"
                         f"</b>: largest {num(e[i], 3)} (#{i + 1} "
                         f"{html.escape(self.features[i])}), smallest {num(e[j], 3)} "
                         f"(#{j + 1} {html.escape(self.features[j])}), ratio "
                         f"{num(e[i] / e[j], 3)}")
        for r in flat:
            parts.append(f"<b style='color:{self.colors[r]}'>{html.escape(self.labels[r])}"
                         f"</b>: η = {num(eff[r, 0], 3)} on every coordinate")
        if not per.size:
            parts.append("adaptive runs have no step before their first update (t = 0)")
        text = (f"<div style='font-size:14px'>after iteration {view.step}: "
                + "<br>".join(parts) + "</div>")
        if text != self._shown:
            self._shown = text
            self.note.value = text
