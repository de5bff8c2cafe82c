r"""Charts of the data labs, each created once and updated in place, every run in ONE mark.

* :class:`DataChart` -- the training points (filled) and validation points (crosses), the
  current mini-batch ringed, and each run's current fit: the fitted line / polynomial curve
  :math:`\hat y(u)` (regression on one plotted input) or the decision boundary
  :math:`p(y=1 \mid x) = 0.5`, i.e. the zero contour of the logit (binary, two features);
* :class:`EpochChart` -- training (faint) and validation (solid) loss per epoch, with the
  early-stopping best epoch marked;
* :class:`MetricsPanel` -- the task's metrics on training and validation data per run, with
  their formulas (:data:`descentlab.engine.metrics.FORMULAS`);
* :class:`BatchSurface` -- for one-feature linear regression, :math:`L(w, b)` on the full
  data and on the current mini-batch (:func:`descentlab.engine.models.loss_grid`) with the
  trajectories and both gradients at the current point.
"""

from __future__ import annotations

import html

import bqplot as bq
import ipywidgets as W
import numpy as np
from contourpy import LineType, contour_generator

from descentlab.engine import metrics, models, training

from .charts import TICKS, _figure
from .core.decimate import at_least_two as two
from .ui.palette import SURFACE_COLORS
from .surface import arrow_path

__all__ = ["DataChart", "EpochChart", "MetricsPanel", "BatchSurface", "boundary_paths",
           "CLASS_COLORS", "GRID"]

CLASS_COLORS = ("#BDBDBD", "#4D4D4D", "#8C8C8C", "#E0E0E0", "#262626")
"""Greys for class labels: the run colors stay reserved for runs."""

GRID = 200


def _pad(rows, fill=np.nan) -> np.ndarray:
    """Rows of different lengths -> ``(len(rows), max_len)`` padded with ``fill``."""
    n = max(2, max((len(r) for r in rows), default=2))
    out = np.full((len(rows), n), fill)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def boundary_paths(xs, ys, Z) -> list[np.ndarray]:
    """``Z (R, m, m)`` logits on the grid ``meshgrid(xs, ys)`` -> per run ``(k, 2)`` points of
    the zero contour, pieces joined by NaN rows."""
    out = []
    for z in Z:
        gen = contour_generator(xs, ys, z, line_type=LineType.ChunkCombinedNan)
        pts = [c for c in gen.lines(0.0)[0] if c is not None and len(c)]
        out.append(np.concatenate(pts) if pts else np.full((1, 2), np.nan))
    return out


def point_marks(scales) -> tuple[bq.Scatter, bq.Scatter]:
    """The train points (dots) and the validation points (crosses), each one mark."""
    train = bq.Scatter(x=np.zeros(1), y=np.zeros(1), scales=scales, default_size=28,
                       colors=[CLASS_COLORS[2]], stroke="white", labels=["train"],
                       display_legend=True)
    val = bq.Scatter(x=np.zeros(1), y=np.zeros(1), scales=scales, default_size=40,
                     marker="cross", colors=[CLASS_COLORS[1]], labels=["validation"],
                     display_legend=True)
    return train, val


def show_points(train: bq.Scatter, val: bq.Scatter, t, v) -> None:
    """Set ``(x, y, colors)`` of the train and validation marks, one message each."""
    for mark, (x, y, c) in ((train, t), (val, v)):
        with mark.hold_sync():
            mark.x, mark.y, mark.colors = x, y, c


class DataChart:
    """Points, the current mini-batch and every run's fit."""

    def __init__(self, **size):
        self.sx, self.sy = bq.LinearScale(), bq.LinearScale()
        sc = {"x": self.sx, "y": self.sy}
        self.train, self.val = point_marks(sc)
        self.batch = bq.Scatter(x=np.zeros(1), y=np.zeros(1), scales=sc, default_size=90,
                                fill=False, stroke_width=2, colors=["black"],
                                labels=["mini-batch"], display_legend=True)
        self.fits = bq.Lines(x=np.zeros(2), y=np.zeros((1, 2)), scales=sc, stroke_width=2.5)
        self.ax = bq.Axis(scale=self.sx, label="x", tick_style=TICKS)
        self.ay = bq.Axis(scale=self.sy, side="left", label="y", tick_style=TICKS)
        self.figure = _figure([self.train, self.val, self.fits, self.batch],
                              [self.ax, self.ay], "data and fits", **size)
        self.mode = "curve"

    def set_data(self, session, colors) -> None:
        """New data set or runs: the points (once), axes, and what a fit looks like."""
        ds = session.dataset
        self.session = session
        classify = ds.task != "regression"
        self.mode = ("boundary" if classify and ds.X_train.shape[1] == 2 and ds.task == "binary"
                     else "curve" if not classify and session.features is not None else "none")
        if classify:
            X, Xv = ds.X_train[:, :2], ds.X_val[:, :2]
            tx, ty, vx, vy = X[:, 0], X[:, -1], Xv[:, 0], Xv[:, -1]
            tc = [CLASS_COLORS[int(c) % 5] for c in ds.y_train]
            vc = [CLASS_COLORS[int(c) % 5] for c in ds.y_val]
            names = ds.feature_names[0], ds.feature_names[min(1, len(ds.feature_names) - 1)]
        else:
            tx, ty, vx, vy = ds.X_train[:, 0], ds.y_train, ds.X_val[:, 0], ds.y_val
            tc, vc = [CLASS_COLORS[2]], [CLASS_COLORS[1]]
            names = ds.feature_names[0], ds.target_name
        self._xy = (tx, ty)
        lo = np.minimum(tx.min(), vx.min()) if len(vx) else tx.min()
        hi = np.maximum(tx.max(), vx.max()) if len(vx) else tx.max()
        pad = 0.05 * (hi - lo + 1e-12)
        self.xs = np.linspace(lo - pad, hi + pad, GRID)
        if self.mode == "boundary":
            ylo, yhi = min(ty.min(), vy.min()), max(ty.max(), vy.max())
            ypad = 0.05 * (yhi - ylo + 1e-12)
            self.ys = np.linspace(ylo - ypad, yhi + ypad, 80)
            self.xs_b = np.linspace(lo - pad, hi + pad, 80)
            gx, gy = np.meshgrid(self.xs_b, self.ys)
            self._grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
            with self.sx.hold_sync():
                self.sx.min, self.sx.max = float(self.xs_b[0]), float(self.xs_b[-1])
            with self.sy.hold_sync():
                self.sy.min, self.sy.max = float(self.ys[0]), float(self.ys[-1])
        else:
            self._feat = session.features(self.xs) if self.mode == "curve" else None
            ylo, yhi = float(min(ty.min(), vy.min())), float(max(ty.max(), vy.max()))
            ypad = 0.15 * (yhi - ylo + 1e-12)
            with self.sx.hold_sync():
                self.sx.min, self.sx.max = float(self.xs[0]), float(self.xs[-1])
            with self.sy.hold_sync():
                self.sy.min, self.sy.max = ylo - ypad, yhi + ypad
        show_points(self.train, self.val, (tx, ty, tc), (vx, vy, vc))
        self.ax.label, self.ay.label = names
        with self.fits.hold_sync():
            self.fits.colors = list(colors)
            self.fits.labels = list(session.labels)

    def fit_lines(self, view) -> tuple[np.ndarray, np.ndarray]:
        """``x``, ``y`` of the fits drawn at ``view``: ``(GRID,)`` and ``(R, GRID)`` curves,
        or ``(R, k)`` and ``(R, k)`` boundaries."""
        s, P = view.session, view.params
        R = P.shape[0]
        if self.mode == "curve":
            yhat = s.groups[0].model.predict(P, self._feat)
            return self.xs, np.where(np.isfinite(yhat), yhat, np.nan)
        if self.mode == "boundary":
            X = self._grid
            z = X @ P[:, :-1].T + P[:, -1]                           # (m*m, R) logits
            Z = z.T.reshape(R, len(self.ys), len(self.xs_b))
            Z = np.where(np.isfinite(Z), Z, 0.0)
            paths = boundary_paths(self.xs_b, self.ys, Z)
            return _pad([p[:, 0] for p in paths]), _pad([p[:, 1] for p in paths])
        return np.zeros(2), np.full((R, 2), np.nan)

    def update(self, view, run: int = 0) -> None:
        x, y = self.fit_lines(view)
        with self.fits.hold_sync():
            self.fits.x, self.fits.y = x, y
        rows = view.session.batch(run, view.step)
        tx, ty = self._xy
        with self.batch.hold_sync():
            self.batch.x, self.batch.y = tx[rows], ty[rows]


class EpochChart:
    """Training loss (faint) and validation loss (solid) per epoch; best epochs as dots."""

    def __init__(self, **size):
        self.sx, self.sy = bq.LinearScale(), bq.LogScale()
        sc = {"x": self.sx, "y": self.sy}
        self.lines = bq.Lines(x=np.zeros((2, 2)), y=np.zeros((2, 2)), scales=sc,
                              stroke_width=2.5)
        self.best = bq.Scatter(x=np.zeros(1), y=np.ones(1), scales=sc, default_size=110,
                               stroke="black", marker="diamond")
        ax = bq.Axis(scale=self.sx, label="epoch", tick_style=TICKS)
        ay = bq.Axis(scale=self.sy, side="left", label="loss", tick_format=".1e",
                     tick_style=TICKS)
        self.figure = _figure([self.lines, self.best], [ax, ay],
                              "train (faint) vs validation (solid) loss", **size)

    def set_runs(self, colors, labels) -> None:
        with self.lines.hold_sync():
            self.lines.colors = [c for c in colors for _ in range(2)]
            self.lines.opacities = [0.4, 1.0] * len(colors)
            self.lines.labels = [f"{lab} {p}" for lab in labels for p in ("train", "val")]
        self.best.colors = list(colors)

    def series(self, view):
        """``x (2R, E)`` and ``y (2R, E)``: run-major pairs (train, val)."""
        s = view.session
        x, tr = s.epoch_series("train_loss", view.step)
        _, va = s.epoch_series("val_loss", view.step)
        X = np.repeat(x, 2, axis=0)
        Y = np.stack([tr.T, va.T], axis=1).reshape(2 * x.shape[0], -1)
        Y = np.where(np.isfinite(Y) & (Y > 0), Y, np.nan)
        return two(X), two(Y), x, va

    def update(self, view) -> None:
        X, Y, x, va = self.series(view)
        with self.lines.hold_sync():
            self.lines.x, self.lines.y = X, Y
        best = view.session.best_epochs(view.step)
        R = len(best)
        bx, by = np.full(R, np.nan), np.full(R, np.nan)
        for r in np.flatnonzero(best > 0):
            col = np.flatnonzero(x[r] == best[r])
            if len(col):
                bx[r], by[r] = best[r], va[col[0], r]
        with self.best.hold_sync():
            self.best.x, self.best.y = bx, by


def _fmt(v: float) -> str:
    return "—" if not np.isfinite(v) else f"{v:.4g}"


class MetricsPanel:
    """The task's metrics at the shown step, train and validation, per run, with formulas."""

    def __init__(self):
        self.widget = W.HTMLMath(layout=W.Layout(min_width="420px"))
        self.values: dict[str, np.ndarray] = {}

    def compute(self, session, step: int) -> dict[str, np.ndarray]:
        """``train_<m>`` / ``val_<m>`` ``(R,)`` at the parameters of iteration ``step``
        (:func:`descentlab.engine.training.evaluate`, group by group)."""
        P = session.params.data[step]
        out: dict[str, np.ndarray] = {}
        for g in session.groups:
            sc = training.evaluate(g.model, session.dataset, P[list(g.index)],
                                   session.rules.metrics)
            for k, v in sc.items():
                out.setdefault(k, np.full(P.shape[0], np.nan))[list(g.index)] = v
        return out

    def render(self, session, step: int, colors) -> None:
        self.values = vals = self.compute(session, step)
        names = session.rules.metrics
        head = "".join(f"<th colspan=2 style='padding:0 8px'>{m}</th>" for m in names)
        sub = "".join("<th>train</th><th>val</th>" for _ in names)
        rows = []
        for r, lab in enumerate(session.labels):
            cells = "".join(f"<td>{_fmt(vals[f'train_{m}'][r])}</td>"
                            f"<td><b>{_fmt(vals[f'val_{m}'][r])}</b></td>" for m in names)
            rows.append(f"<tr><td style='color:{colors[r]};font-weight:600'>"
                        f"{html.escape(lab)}</td>{cells}</tr>")
        formulas = "".join(f"<div>${metrics.FORMULAS[m]}$</div>" for m in names)
        self.widget.value = (f"<div style='font-size:14px'><b>metrics at iteration {step}"
                             f"</b><table style='text-align:right'><tr><th></th>{head}</tr>"
                             f"<tr><th></th>{sub}</tr>{''.join(rows)}</table>{formulas}"
                             "</div>")


class BatchSurface:
    r"""Two heat maps of :math:`L(w, b)`: the full training set and the current mini-batch,
    each with every run's trajectory, current point and gradient (full-data arrows on the
    left, the mini-batch's own on the right)."""

    def __init__(self, n: int = 60, **size):
        self.n = n
        self.panels = []
        figs = []
        for title in ("full-data loss L(w, b)", "mini-batch loss L_B(w, b)"):
            sx, sy = bq.LinearScale(), bq.LinearScale()
            sc = {"x": sx, "y": sy}
            heat = bq.HeatMap(x=np.array([0.0, 1.0]), y=np.array([0.0, 1.0]),
                              color=np.zeros((2, 2)),
                              scales={**sc, "color": bq.ColorScale(
                                  colors=list(SURFACE_COLORS))})
            paths = bq.Lines(x=np.zeros((1, 2)), y=np.zeros((1, 2)), scales=sc,
                             stroke_width=2)
            arrows = bq.Lines(x=np.zeros((1, 2)), y=np.zeros((1, 2)), scales=sc,
                              stroke_width=2.5)
            points = bq.Scatter(x=np.zeros(1), y=np.zeros(1), scales=sc, default_size=60,
                                stroke="black")
            ax = bq.Axis(scale=sx, label="w", tick_style=TICKS)
            ay = bq.Axis(scale=sy, side="left", label="b", tick_style=TICKS)
            figs.append(_figure([heat, paths, arrows, points], [ax, ay], title,
                                width="380px", height="340px"))
            self.panels.append({"heat": heat, "paths": paths, "arrows": arrows,
                                "points": points, "sx": sx, "sy": sy})
        self.figure = W.HBox(figs)
        self._batch_key = None
        self.active = False

    def set_runs(self, session, colors) -> None:
        ds = session.dataset
        self.active = (ds.task == "regression" and ds.X_train.shape[1] == 1
                       and all(g.l2 == 0 for g in session.groups))
        self.model = models.linear_regression()
        P0 = session.params.data[0]
        span_w = 2.0 * max(1.0, float(np.abs(ds.y_train).max()))
        c = float(np.mean(ds.y_train))
        self.w_range = (float(P0[:, 0].min()) - 0.5, span_w)
        self.b_range = (min(float(P0[:, 1].min()), c) - span_w / 2,
                        max(float(P0[:, 1].max()), c) + span_w / 2)
        self._batch_key = None
        for p in self.panels:
            p["paths"].colors = list(colors)
            p["arrows"].colors = list(colors)
            p["points"].colors = list(colors)
            with p["sx"].hold_sync():
                p["sx"].min, p["sx"].max = self.w_range
            with p["sy"].hold_sync():
                p["sy"].min, p["sy"].max = self.b_range
        if self.active:
            self._heat(0, ds.X_train, ds.y_train)

    def _heat(self, i: int, X, y) -> None:
        ws, bs, Z = models.loss_grid(self.model, X, y, self.w_range, self.b_range, self.n)
        heat = self.panels[i]["heat"]
        with heat.hold_sync():
            heat.x, heat.y, heat.color = ws, bs, np.log10(Z + 1e-3)

    def gradients(self, session, step: int, run: int = 0):
        """``(R, 2)`` full-data gradients and mini-batch gradients at iteration ``step``'s
        parameters, the mini-batch being the one iteration ``step`` drew (the full data at
        step 0), and its rows."""
        ds, P = session.dataset, session.params.data[step]
        full = self.model.grad(P, ds.X_train, ds.y_train)
        rows = session.batch(run, step) if step >= 1 else np.zeros(0, np.int64)
        if len(rows) == 0:
            rows = np.arange(ds.X_train.shape[0])
        return full, self.model.grad(P, ds.X_train[rows], ds.y_train[rows]), rows

    def update(self, view, run: int = 0) -> None:
        if not self.active:
            return
        s = view.session
        full, batch, rows = self.gradients(s, view.step, run)
        key = (view.step, run)
        if key != self._batch_key:                      # the mini-batch heat map
            self._batch_key = key
            self._heat(1, s.dataset.X_train[rows], s.dataset.y_train[rows])
        P = view.params
        T_ = view.trajectory                             # (n, R, 2)
        span = (self.w_range[1] - self.w_range[0], self.b_range[1] - self.b_range[0])
        scale = 0.15 * np.hypot(*span)
        for p, g in zip(self.panels, (full, batch), strict=True):
            norm = np.linalg.norm(g, axis=1, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                head = P - scale * g / np.where(norm > 0, norm, np.nan)
            ax, ay = arrow_path(P, head, span)
            with p["paths"].hold_sync():
                p["paths"].x, p["paths"].y = two(T_[:, :, 0].T), two(T_[:, :, 1].T)
            with p["arrows"].hold_sync():
                p["arrows"].x, p["arrows"].y = ax, ay
            with p["points"].hold_sync():
                p["points"].x, p["points"].y = P[:, 0], P[:, 1]
