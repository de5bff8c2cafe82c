r"""The surface labs' convergence charts: ``configure(style)``, ``draw(view)``, ``widget``.

* :class:`LossChart` -- :math:`L(\theta_t) - L^*` on a log axis (the raw loss on a linear
  axis when the surface has no known minimum), dashed rules where a setting changed live;
* :class:`SpeedBars` -- steps until :math:`L - L^* \le \mathrm{tol}` (or
  :math:`\lVert\nabla L\rVert \le \mathrm{tol}`): a bar only for a run that got there;
* :class:`TraceChart` -- :math:`\theta_{t,1}` (solid) and :math:`\theta_{t,2}` (faint);
* :class:`NormChart` -- :math:`\lVert u_t\rVert` on a log axis;
* :class:`LrChart` -- the learning rate each run actually used, step by step (from the
  history: schedules and live changes as they happened), a dot at the first step of each
  reduce-on-plateau drop.

:class:`Style` is what ``configure`` receives (the runs' colours and labels, the
surface); the ``view`` is a :class:`~.session.View`.  The surface figure is in
:mod:`.surface_chart`, the equations panel in :mod:`.panels`.
"""

from __future__ import annotations

from typing import NamedTuple

import bqplot as bq
import ipywidgets as W
import numpy as np

from descentlab.widgets.core.decimate import display_indices
from descentlab.widgets.ui.figures import (
    EMPTY,
    Key,
    SeriesChart,
    axis,
    decades,
    drawable,
    figure,
)

__all__ = ["Style", "LossChart", "SpeedBars", "TraceChart", "NormChart", "LrChart",
           "loss_gap", "TINY",
           "nice_ceil", "frame_domain"]

TINY = 1e-16


class Style(NamedTuple):
    """What the charts of a surface lab need to know about the runs and the surface."""

    kinds: tuple         # (R,) every run's kind
    labels: tuple        # (R,) what each run is and what changed when
    colors: tuple        # (R,) one colour per run (by kind, or by value in a sweep)
    key_title: str
    ramp: tuple | None   # ("η", values) for a sweep: the Key shows a ramp when long
    problem: object      # the engine Problem (the surface chart draws it)
    start: tuple         # θ₀
    f_min: float | None
    tolerance: float
    criterion: str       # "L − L* ≤ 1e-06" or "‖∇L‖ ≤ 1e-06"
    plan: tuple | None = None  # (steps, (R, n)) the schedule's lr for the steps ahead
    schedule: object = None    # build.ScheduleInfo of a schedule lab (None elsewhere)


def loss_gap(loss, f_min):
    r""":math:`L - L^*` floored at ``TINY`` (for a log axis), NaN where not finite;
    the raw loss when ``f_min`` is None."""
    loss = np.asarray(loss, dtype=np.float64)
    gap = loss if f_min is None else np.maximum(loss - f_min, TINY)
    return np.where(np.isfinite(gap), gap, np.nan)


def nice_ceil(v: float, least: float = 10.0) -> float:
    """The smallest of 1, 2, 5 times a power of ten that is ``>= v`` and ``>= least``."""
    if not v > least:
        return float(least)
    e = 10.0 ** np.floor(np.log10(v))
    return float(next(m * e for m in (1, 2, 5, 10) if m * e >= v * (1 - 1e-12)))


def frame_domain(y, log: bool) -> tuple[float | None, float | None]:
    """A y range that holds the finite values of ``y`` and changes only in jumps: whole
    decades on a log axis, multiples of a 1-2-5 tick step on a linear one.  A chart whose
    range moves every frame re-lays every tick of its axis every frame (SVG text is the
    costliest thing a browser draws here); this one moves when the data leave it.
    ``(None, None)`` when nothing is finite (bqplot chooses)."""
    if log:
        span = decades(y)
        return (None, None) if span is None else (float(span[0]), float(span[1]))
    y = np.asarray(y, dtype=np.float64)
    y = y[np.isfinite(y)]
    if y.size == 0:
        return None, None
    lo, hi = float(y.min()), float(y.max())
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    step = nice_ceil(span / 5, least=0.0) or 1.0     # about 5 ticks
    a, b = np.floor(lo / step) * step, np.ceil(hi / step) * step
    return float(a), float(b if b > a else a + step)


class _Series:
    """A :class:`SeriesChart` fed from the style and the view.  Its axes move in jumps
    (:func:`nice_ceil` steps on x, :func:`frame_domain` on y), not every frame."""

    per_run = 1

    def __init__(self, title, y_label, log=False, **size):
        self.series = SeriesChart(title, "step t", y_label, log=log, per_run=self.per_run,
                                  **size)
        self.widget = self.series.widget
        self.extent = (np.zeros(0), np.zeros(0))   # more (x, y) the axes must hold

    def configure(self, style: Style) -> None:
        self.series.configure(style.colors, style.labels, self.opacities(style),
                              style.key_title, style.ramp)

    def opacities(self, style):
        return None

    def draw(self, view) -> None:
        rows = self.rows(view)
        fixed = self.frame_axes(view.steps, rows)   # the ranges first: lines drawn once
        self.series.show(view.steps, rows, fixed=fixed)
        self.series.mark_events(view.events)

    def frame_axes(self, steps, rows) -> bool:
        """Set both scales' ranges (see :class:`_Series`); a range that did not change is
        not sent.  True when the y range is fixed (something finite to hold)."""
        ex, ey = (np.asarray(a, dtype=np.float64) for a in self.extent)
        xs = np.concatenate([np.ravel(np.asarray(steps, dtype=np.float64)), np.ravel(ex)])
        xs = xs[np.isfinite(xs)]
        last = float(xs.max()) if xs.size else 0.0
        log = self.series.sy is self.series.log
        lo, hi = frame_domain(np.concatenate([np.ravel(rows), np.ravel(ey)]), log)
        with self.series.sx.hold_sync():
            self.series.sx.min, self.series.sx.max = 0.0, nice_ceil(last)
        with self.series.sy.hold_sync():
            self.series.sy.min, self.series.sy.max = lo, hi
        # log: one tick per decade (at most 6), as SeriesChart's own log axis
        self.series.set_ticks(decades([lo, hi])[2] if log and lo is not None else None)
        return lo is not None


class LossChart(_Series):
    """Every run's loss gap (or loss) against step, live changes marked."""

    def __init__(self, **size):
        super().__init__("loss", "L(θ) − L*", log=True, **size)
        self.f_min = None

    def configure(self, style: Style) -> None:
        self.f_min = style.f_min
        known = style.f_min is not None
        self.series.set_log(known, "L(θ) − L*" if known else "L(θ)")
        super().configure(style)

    def rows(self, view):
        return loss_gap(view.loss, self.f_min).T


class TraceChart(_Series):
    """θ₁ (solid) and θ₂ (faint) of every run: 2R lines in one mark."""

    per_run = 2

    def __init__(self, **size):
        super().__init__("parameters θ₁ (solid), θ₂ (faint)", "θ", **size)

    def opacities(self, style):
        return [1.0, 0.45] * len(style.colors)

    def rows(self, view):
        P = view.params[:, :, :2]                               # (n, R, 2)
        return np.transpose(P, (1, 2, 0)).reshape(-1, P.shape[0])


class NormChart(_Series):
    """‖u_t‖ of every run, log axis."""

    def __init__(self, **size):
        super().__init__("update size ‖u_t‖", "‖u‖", log=True, **size)

    def rows(self, view):
        return view.update_norm.T


class LrChart(_Series):
    """The learning rate η_t each run used (schedules and live changes included), and --
    dashed, faint -- what the schedule gives the steps still ahead (``style.plan``); for
    reduce-on-plateau (no plan: it depends on the losses to come) a dot marks each drop at
    the first step that used the lower rate (``view.drops``)."""

    TITLE = "learning rate η_t (as used; dashed: ahead)"
    PLATEAU_TITLE = "learning rate η_t as used (dots: plateau drops)"

    def __init__(self, log: bool = False, **size):
        super().__init__(self.TITLE, "η_t", log=log, **size)
        if not log:
            self.series.ay.tick_format = ".2g"
        sc = {"x": self.series.sx, "y": self.series.sy}
        self.plan = bq.Lines(x=EMPTY, y=EMPTY, scales=sc, line_style="dashed",
                             stroke_width=1.5)
        self.drops = bq.Scatter(x=np.zeros(0), y=np.zeros(0), scales=sc, default_size=60,
                                stroke="white", stroke_width=1.0)
        self.series.figure.marks = [self.plan, *self.series.figure.marks, self.drops]
        self.colors: tuple = ()
        self._dropped = None

    def configure(self, style: Style) -> None:
        super().configure(style)
        self.colors = tuple(style.colors)
        plateau = getattr(style.schedule, "name", "") == "reduce_on_plateau"
        self.series.figure.title = self.PLATEAU_TITLE if plateau else self.TITLE
        xy = None                # no plan: an empty mark (all-NaN breaks the step axis)
        if style.plan is not None:
            steps, lrs = style.plan
            idx = display_indices(len(steps))
            xy = drawable(np.asarray(steps, float)[idx], lrs[:, idx],
                          positive=self.series.sy is self.series.log)
        x, y = (EMPTY, EMPTY) if xy is None else xy
        self.extent = (x, y)
        with self.plan.hold_sync():
            self.plan.x, self.plan.y = x, y
            self.plan.colors = list(style.colors)
            self.plan.opacities = [0.45] * len(style.colors)

    def rows(self, view):
        return view.lr.T

    def draw(self, view) -> None:
        super().draw(view)
        drops = tuple(getattr(view, "drops", ()))
        if (drops, self.colors) == self._dropped:
            return
        self._dropped = (drops, self.colors)
        with self.drops.hold_sync():
            self.drops.x = np.array([d[0] + 1 for d in drops], dtype=np.float64)
            self.drops.y = np.array([d[3] for d in drops], dtype=np.float64)
            self.drops.colors = [self.colors[d[1]] for d in drops] or ["#000000"]


class SpeedBars:
    """Steps to tolerance, one bar per run that got there (none before anything did)."""

    def __init__(self, **size):
        self.sx, self.sy = bq.OrdinalScale(), bq.LinearScale(min=0.0)
        self.bars = bq.Bars(x=[], y=np.zeros(0), scales={"x": self.sx, "y": self.sy},
                            color_mode="element", padding=0.2)
        ax = axis(self.sx)
        ax.tick_style = {"font-size": "12px"}
        ay = axis(self.sy, "steps", side="left")
        self.figure = figure([self.bars], [ax, ay], "steps to tolerance", **size)
        self.key = Key()
        self.note = W.HTML()
        self.widget = W.HBox([W.VBox([self.figure, self.note]), self.key.widget])
        self.labels, self.colors = (), ()
        self._shown = None

    def configure(self, style: Style) -> None:
        self.labels, self.colors = tuple(style.labels), tuple(style.colors)
        self.figure.title = f"steps to {style.criterion}"
        self.key.show(style.colors, style.labels, style.key_title, style.ramp)
        self._shown = None

    def draw(self, view) -> None:
        hit = np.flatnonzero(view.hits >= 0)
        state = tuple(int(view.hits[i]) for i in hit), tuple(hit)
        if state == self._shown:
            return
        self._shown = state
        with self.bars.hold_sync():
            self.bars.x = [f"{i + 1}: {self.labels[i]}" for i in hit]
            self.bars.y = view.hits[hit].astype(np.float64)
            self.bars.colors = [self.colors[i] for i in hit] or ["#000000"]
        self.note.value = ("" if len(hit) else "<span style='color:#555'>no run has reached "
                           "the tolerance yet</span>")
