r"""Convergence charts, one bqplot figure each, every run in ONE mark (updated in place).

* :class:`LossChart` -- :math:`L(\theta_t) - L^*` against step on a log axis (``L^*`` the
  known minimum; the raw loss on a linear axis when the surface has none), with a legend;
* :class:`ToleranceBars` -- steps until :math:`L - L^* \le \mathrm{tol}` (or
  :math:`\lVert g\rVert \le \mathrm{tol}`), one bar per run: convergence speed;
* :class:`TraceChart` -- the parameters :math:`\theta_{t,1}, \theta_{t,2}` against step;
* :class:`UpdateNormChart` -- :math:`\lVert u_t \rVert_2` against step, log axis;
* :class:`ScheduleChart` -- the learning rate :math:`\eta_t` each run's schedule gives,
  with the current step marked.

``update(view)`` takes a :class:`~descentlab.widgets.session.View` (decimated series).
"""

from __future__ import annotations

import bqplot as bq
import ipywidgets as W
import numpy as np

from .core.decimate import at_least_two as two
from .core.decimate import display_indices

__all__ = ["LossChart", "ToleranceBars", "TraceChart", "UpdateNormChart", "ScheduleChart",
           "loss_gap", "first_hits", "TINY"]

TINY = 1e-16
TICKS = {"font-size": "13px"}


def _figure(marks, axes, title, width="460px", height="320px", legend=False):
    return bq.Figure(marks=marks, axes=axes, title=title, animation_duration=0,
                     fig_margin={"top": 40, "bottom": 50, "left": 70, "right": 20},
                     layout=W.Layout(width=width, height=height),
                     legend_location="top-right",
                     legend_style={"fill": "white", "opacity": 0.85},
                     title_style={"font-size": "16px"})


def loss_gap(loss, f_min):
    r""":math:`L - L^*` floored at ``TINY`` (for a log axis), NaN where not finite;
    the raw loss when ``f_min`` is None."""
    loss = np.asarray(loss, dtype=np.float64)
    if f_min is None:
        return np.where(np.isfinite(loss), loss, np.nan)
    gap = np.maximum(loss - f_min, TINY)
    return np.where(np.isfinite(gap), gap, np.nan)


def first_hits(values, tol) -> np.ndarray:
    """``(R,)`` the first row index where ``values[:, r] <= tol``, -1 if none."""
    hit = np.asarray(values) <= tol
    first = np.argmax(hit, axis=0)
    return np.where(hit.any(axis=0), first, -1)


class LossChart:
    """Every run's loss in one ``Lines`` mark.  ``view.steps`` may be ``(n,)`` shared or
    ``(R, n)`` per run (e.g. epochs of runs with different batch sizes)."""

    def __init__(self, x_label: str = "step t", title: str = "loss", **size):
        self.sx = bq.LinearScale()
        self.log, self.lin = bq.LogScale(), bq.LinearScale()
        self.lines = bq.Lines(x=np.zeros(2), y=np.zeros((1, 2)),
                              scales={"x": self.sx, "y": self.log}, stroke_width=2.5,
                              display_legend=True)
        self.ay = bq.Axis(scale=self.log, side="left", label="L(θ) − L*",
                          tick_format=".0e", tick_style=TICKS)
        self.ax = bq.Axis(scale=self.sx, label=x_label, tick_style=TICKS)
        self.figure = _figure([self.lines], [self.ax, self.ay], title, **size)
        self.f_min = None

    def set_runs(self, problem, colors, labels) -> None:
        self.f_min = problem.f_min
        scale = self.log if self.f_min is not None else self.lin
        with self.lines.hold_sync():
            self.lines.colors, self.lines.labels = list(colors), list(labels)
            if self.lines.scales["y"] is not scale:
                self.lines.scales = {"x": self.sx, "y": scale}
        with self.ay.hold_sync():
            self.ay.scale = scale
            self.ay.label = "L(θ) − L*" if self.f_min is not None else "L(θ)"
            self.ay.tick_format = ".0e" if self.f_min is not None else ".3g"

    def update(self, view) -> None:
        with self.lines.hold_sync():
            self.lines.x = two(view.steps.astype(np.float64))
            self.lines.y = two(loss_gap(view.loss, self.f_min).T)


class ToleranceBars:
    """Steps to tolerance: solid bars for runs that got there, faint for the rest
    (their bar is the current step: "not yet")."""

    def __init__(self, **size):
        self.sx, self.sy = bq.OrdinalScale(), bq.LinearScale(min=0.0)
        self.bars = bq.Bars(x=["run"], y=np.zeros(1), scales={"x": self.sx, "y": self.sy},
                            color_mode="element", padding=0.2)
        ax = bq.Axis(scale=self.sx, tick_style={"font-size": "12px"})
        ay = bq.Axis(scale=self.sy, side="left", label="steps", tick_style=TICKS)
        self.figure = _figure([self.bars], [ax, ay], "steps to tolerance", **size)
        self._hist = None
        self._seen = 0
        self._first = np.zeros(0, dtype=np.int64)
        self.f_min, self.tol = None, 1e-6

    def set_runs(self, problem, colors, labels, tol) -> None:
        self.f_min, self.tol = problem.f_min, float(tol)
        self._hist = None
        with self.bars.hold_sync():
            self.bars.x, self.bars.colors = list(labels), list(colors)
            self.bars.y = np.zeros(len(labels))
        crit = f"L − L* ≤ {tol:g}" if self.f_min is not None else f"‖∇L‖ ≤ {tol:g}"
        self.figure.title = f"steps to {crit}"

    def hits(self, view) -> np.ndarray:
        """``(R,)`` first step meeting the tolerance, -1 if none by ``view.step``.
        Scans only the new rows of the history since the last call."""
        h = view.session.history
        if self._hist is not h:
            self._hist, self._seen = h, 0
            self._first = np.full(h.loss.shape[1], -1, dtype=np.int64)
        n = len(h)
        if n > self._seen:
            rows = slice(self._seen, n)
            if self.f_min is not None:
                vals = h.loss[rows] - self.f_min
            else:
                vals = np.linalg.norm(h.grad[rows], axis=2)
            new = first_hits(vals, self.tol)
            todo = (self._first < 0) & (new >= 0)
            self._first[todo] = new[todo] + self._seen
            self._seen = n
        steps = h.steps
        out = np.where(self._first >= 0, steps[np.maximum(self._first, 0)], -1)
        return np.where(out <= view.step, out, -1)

    def update(self, view) -> None:
        hits = self.hits(view)
        with self.bars.hold_sync():
            self.bars.y = np.where(hits >= 0, hits, view.step).astype(np.float64)
            self.bars.opacities = [1.0 if k >= 0 else 0.3 for k in hits]


class TraceChart:
    """theta_1 (solid) and theta_2 (faint) of every run: 2R lines in one mark."""

    def __init__(self, n_coords: int = 2, **size):
        self.n = n_coords
        self.sx, self.sy = bq.LinearScale(), bq.LinearScale()
        self.lines = bq.Lines(x=np.zeros(2), y=np.zeros((1, 2)),
                              scales={"x": self.sx, "y": self.sy}, stroke_width=2)
        ax = bq.Axis(scale=self.sx, label="step t", tick_style=TICKS)
        ay = bq.Axis(scale=self.sy, side="left", label="θ", tick_style=TICKS)
        self.figure = _figure([self.lines], [ax, ay], "parameters θ₁ (solid), θ₂ (faint)",
                              **size)

    def set_runs(self, colors, labels) -> None:
        with self.lines.hold_sync():
            self.lines.colors = [c for c in colors for _ in range(self.n)]
            self.lines.opacities = [1.0, 0.45][: self.n] * len(colors)
            self.lines.labels = [f"{lab} θ{d + 1}" for lab in labels for d in range(self.n)]

    def update(self, view) -> None:
        P = view.params[:, :, : self.n]                     # (n, R, d)
        y = np.transpose(P, (1, 2, 0)).reshape(-1, P.shape[0])   # run-major: (R*d, n)
        with self.lines.hold_sync():
            self.lines.x = two(view.steps.astype(np.float64))
            self.lines.y = two(np.where(np.isfinite(y), y, np.nan))


class UpdateNormChart:
    def __init__(self, **size):
        self.sx, self.sy = bq.LinearScale(), bq.LogScale()
        self.lines = bq.Lines(x=np.zeros(2), y=np.zeros((1, 2)),
                              scales={"x": self.sx, "y": self.sy}, stroke_width=2)
        ax = bq.Axis(scale=self.sx, label="step t", tick_style=TICKS)
        ay = bq.Axis(scale=self.sy, side="left", label="‖u‖", tick_format=".0e",
                     tick_style=TICKS)
        self.figure = _figure([self.lines], [ax, ay], "update size ‖u_t‖", **size)

    def set_runs(self, colors, labels) -> None:
        with self.lines.hold_sync():
            self.lines.colors, self.lines.labels = list(colors), list(labels)

    def update(self, view) -> None:
        norm = np.linalg.norm(view.update, axis=2).T        # (R, n)
        with self.lines.hold_sync():
            self.lines.x = two(view.steps.astype(np.float64))
            self.lines.y = two(np.where((norm > 0) & np.isfinite(norm), norm, np.nan))


class ScheduleChart:
    """The planned lr of every run over ``max_steps`` and a dot at the current step."""

    def __init__(self, log: bool = False, **size):
        self.sx = bq.LinearScale()
        self.sy = bq.LogScale() if log else bq.LinearScale(min=0.0)
        sc = {"x": self.sx, "y": self.sy}
        self.curve = bq.Lines(x=np.zeros(2), y=np.zeros((1, 2)), scales=sc, stroke_width=2.5)
        self.now = bq.Scatter(x=np.zeros(1), y=np.zeros(1), scales=sc, default_size=80,
                              stroke="black")
        ax = bq.Axis(scale=self.sx, label="step t", tick_style=TICKS)
        ay = bq.Axis(scale=self.sy, side="left", label="η_t", tick_format=".2g",
                     tick_style=TICKS)
        self.figure = _figure([self.curve, self.now], [ax, ay], "learning rate η_t", **size)

    def set_plan(self, steps, lrs, colors, title: str = "learning rate η_t") -> None:
        """``steps (T,)``, ``lrs (R, T)``: decimated to at most 2000 points per line."""
        idx = display_indices(len(steps))
        with self.curve.hold_sync():
            self.curve.x = two(np.asarray(steps, dtype=np.float64)[idx])
            self.curve.y = two(np.asarray(lrs, dtype=np.float64)[:, idx])
            self.curve.colors = list(colors)
        self.now.colors = list(colors)
        self.figure.title = title

    def update(self, view) -> None:
        lr = view.record.lr
        with self.now.hold_sync():
            self.now.x = np.full(lr.shape, float(view.step))
            self.now.y = np.where(np.isfinite(lr), lr, np.nan)
