r"""The two figures of :func:`~descentlab.widgets.models_app.models_lab`, built once and
updated in place (each mark at most one message per change, inside ``hold_sync``).

* :class:`FitView` -- training points (filled) and validation points (crosses) with the
  current model: for regression the line :math:`\hat y(u)` along the plotted feature ``u``
  (other features at their training mean, 0 after standardization); for classification on
  two plotted features the decision boundaries (zero contours of
  :func:`~.models_parts.logit_margins`, other features at 0), on one feature the predicted
  :math:`P(y = 1 \mid x)` (binary) or class (multiclass) along ``x``.
* :class:`SliceView` -- the loss :math:`L` on the plane of the two slider coordinates (heat
  map of :math:`\log_{10}(L - L_{\min} + \epsilon)` and contours), the current point, and
  the gradient there: :math:`\nabla L` (steepest ascent) and :math:`-\nabla L` (we step
  against it), drawn with the gradient's true direction and a fixed display length.
"""

from __future__ import annotations

from types import SimpleNamespace

import bqplot as bq
import ipywidgets as W
import numpy as np

from descentlab.engine import data

from .charts import TICKS, _figure
from .data_charts import CLASS_COLORS, _pad, boundary_paths, point_marks, show_points
from .models_parts import logit_margins
from .ui.palette import SURFACE_COLORS
from .surface import arrow_path, contour_path, surface_color

__all__ = ["FitView", "SliceView", "plot_features", "ARROW_LABELS", "ARROW_LENGTH"]

GRID = 200
BOUNDARY_GRID = 80
ARROW_LENGTH = 0.2
"""Display length of the gradient arrows, as a fraction of the plot (direction exact)."""
ARROW_LABELS = ("∇L: steepest ascent", "−∇L: we step against it")
_LOG = SimpleNamespace(log_scale=True)


def plot_features(model, n_features: int, pair) -> tuple[int, ...]:
    """The feature columns the data view plots: the features of the slider weights first,
    then the lowest others; one for regression, two (if there are) for classification."""
    K = model.n_classes if model.task == "multiclass" else 1
    chosen = [p // K for p in pair if p < n_features * K]
    chosen += list(range(n_features))
    out = tuple(dict.fromkeys(chosen))
    return out[:1] if model.task == "regression" else out[:2]


class FitView:
    """Points and the current model in data space."""

    def __init__(self, **size):
        self.sx, self.sy = bq.LinearScale(), bq.LinearScale()
        sc = {"x": self.sx, "y": self.sy}
        self.train, self.val = point_marks(sc)
        self.fit = bq.Lines(x=np.zeros(2), y=np.zeros((1, 2)), scales=sc, stroke_width=2.5,
                            colors=["#0072B2"])
        self.ax = bq.Axis(scale=self.sx, label="x", tick_style=TICKS)
        self.ay = bq.Axis(scale=self.sy, side="left", label="y", tick_style=TICKS)
        self.figure = _figure([self.train, self.val, self.fit], [self.ax, self.ay],
                              "data and the model", **size)
        self.mode = "line"

    def set_data(self, ds: data.Dataset, model, pair) -> None:
        """New data, model or slider pair: points, axes and the plotted features (``cols``)."""
        self.model, F = model, ds.X_train.shape[1]
        self.cols = plot_features(model, F, pair)
        self.F = F
        classify = ds.task != "regression"
        self.mode = ("boundary" if classify and len(self.cols) == 2 else
                     "probability" if classify else "line")
        a = self.cols[0]
        tx, vx = ds.X_train[:, a], ds.X_val[:, a]
        if self.mode == "boundary":
            b = self.cols[1]
            ty, vy = ds.X_train[:, b], ds.X_val[:, b]
            labels = ds.feature_names[a], ds.feature_names[b]
        else:
            ty, vy = ds.y_train.astype(float), ds.y_val.astype(float)
            labels = ds.feature_names[a], ds.target_name
        if classify:
            tc = [CLASS_COLORS[int(c) % 5] for c in ds.y_train]
            vc = [CLASS_COLORS[int(c) % 5] for c in ds.y_val]
        else:
            tc, vc = [CLASS_COLORS[2]], [CLASS_COLORS[1]]
        lo, hi = float(min(tx.min(), vx.min())), float(max(tx.max(), vx.max()))
        pad = 0.05 * (hi - lo + 1e-12)
        self.xs = np.linspace(lo - pad, hi + pad, BOUNDARY_GRID if self.mode == "boundary"
                              else GRID)
        ylo, yhi = float(min(ty.min(), vy.min())), float(max(ty.max(), vy.max()))
        ypad = (0.05 if self.mode == "boundary" else 0.15) * (yhi - ylo + 1e-12)
        self.ys = np.linspace(ylo - ypad, yhi + ypad, BOUNDARY_GRID)
        if self.mode == "boundary":
            gx, gy = np.meshgrid(self.xs, self.ys)
            pts = np.zeros((gx.size, F))
            pts[:, a], pts[:, self.cols[1]] = gx.ravel(), gy.ravel()
        else:
            pts = np.zeros((GRID, F))
            pts[:, a] = self.xs
        self.points = pts
        with self.sx.hold_sync():
            self.sx.min, self.sx.max = float(self.xs[0]), float(self.xs[-1])
        with self.sy.hold_sync():
            self.sy.min, self.sy.max = float(self.ys[0]), float(self.ys[-1])
        show_points(self.train, self.val, (tx, ty, tc), (vx, vy, vc))
        self.ax.label, self.ay.label = labels
        self.figure.title = {"line": "data and the prediction ŷ",
                             "boundary": "data and the decision boundary",
                             "probability": "data and P(y = 1 | x)"}[self.mode]

    def lines(self, theta) -> tuple[np.ndarray, np.ndarray]:
        """``x``, ``y`` of the drawn model at ``theta (P,)``: ``(GRID,)`` and ``(1, GRID)``,
        or boundaries ``(C, k)`` and ``(C, k)`` (pieces joined by NaN)."""
        theta = np.asarray(theta, dtype=np.float64)
        if self.mode == "boundary":
            M = logit_margins(self.model, theta, self.points)
            M = M.reshape(-1, len(self.ys), len(self.xs))
            paths = boundary_paths(self.xs, self.ys, np.where(np.isfinite(M), M, 0.0))
            return _pad([p[:, 0] for p in paths]), _pad([p[:, 1] for p in paths])
        pred = self.model.predict(theta[None], self.points)[0]
        if pred.ndim == 2:                      # softmax on one feature: the predicted class
            pred = np.argmax(pred, axis=1).astype(float)
        return self.xs, np.where(np.isfinite(pred), pred, np.nan)[None]

    def update(self, theta) -> None:
        x, y = self.lines(theta)
        with self.fit.hold_sync():
            self.fit.x, self.fit.y = x, y


class SliceView:
    """The loss on the slider plane, the current point and :math:`\\pm\\nabla L` there."""

    def __init__(self, **size):
        self.sx, self.sy = bq.LinearScale(), bq.LinearScale()
        sc = {"x": self.sx, "y": self.sy}
        self.cs = bq.ColorScale(colors=list(SURFACE_COLORS))
        self.heat = bq.HeatMap(x=np.array([0.0, 1.0]), y=np.array([0.0, 1.0]),
                               color=np.zeros((2, 2)), scales={**sc, "color": self.cs})
        self.contours = bq.Lines(x=np.array([np.nan]), y=np.array([np.nan]), scales=sc,
                                 colors=["#56657A"], stroke_width=1, opacities=[0.6])
        self.arrows = bq.Lines(x=np.full((2, 6), np.nan), y=np.full((2, 6), np.nan),
                               scales=sc, colors=["#000000", "#D55E00"], stroke_width=3,
                               labels=list(ARROW_LABELS), display_legend=True)
        self.point = bq.Scatter(x=np.zeros(1), y=np.zeros(1), scales=sc, default_size=90,
                                colors=["#0072B2"], stroke="white", stroke_width=1.5)
        self.ax = bq.Axis(scale=self.sx, label="w", tick_style=TICKS)
        self.ay = bq.Axis(scale=self.sy, side="left", label="b", tick_style=TICKS)
        cbar = bq.ColorAxis(scale=self.cs, side="right", label="log₁₀(L − L_min)",
                            tick_style=TICKS)
        self.figure = bq.Figure(
            marks=[self.heat, self.contours, self.arrows, self.point],
            axes=[self.ax, self.ay, cbar], padding_x=0, padding_y=0, animation_duration=0,
            title="loss surface L on the slider plane",
            fig_margin={"top": 40, "bottom": 50, "left": 70, "right": 90},
            legend_location="top-left", legend_style={"fill": "white", "opacity": 0.85},
            layout=W.Layout(width=size.get("width", "520px"),
                            height=size.get("height", "440px")),
            title_style={"font-size": "16px"})
        self.ws = self.bs = self.Z = None
        self.span = np.ones(2)

    def set_slice(self, ws, bs, Z, names) -> None:
        """A new slice (heavy): heat map, contours, axes."""
        self.ws, self.bs, self.Z = ws, bs, Z
        C, _ = surface_color(_LOG, Z)
        cx, cy = contour_path(ws, bs, C)
        self.span = np.array([ws[-1] - ws[0], bs[-1] - bs[0]])
        with self.sx.hold_sync():
            self.sx.min, self.sx.max = float(ws[0]), float(ws[-1])
        with self.sy.hold_sync():
            self.sy.min, self.sy.max = float(bs[0]), float(bs[-1])
        with self.heat.hold_sync():
            self.heat.x, self.heat.y, self.heat.color = ws, bs, C
        with self.contours.hold_sync():
            self.contours.x, self.contours.y = cx, cy
        self.ax.label, self.ay.label = names

    def arrow_ends(self, point, g) -> np.ndarray:
        r"""``(2, 2, 2)`` (arrow, tail/head, xy): :math:`+\nabla L` then :math:`-\nabla L` at
        ``point``, length ``ARROW_LENGTH`` of the plot in normalized coordinates."""
        p, g = np.asarray(point, float), np.asarray(g, float)
        size = np.linalg.norm(g / self.span)
        k = ARROW_LENGTH / size if size > 0 and np.isfinite(size) else np.nan
        return np.stack([np.stack([p, p + k * g]), np.stack([p, p - k * g])])

    def update(self, point, g) -> None:
        ends = self.arrow_ends(point, g)
        ax, ay = arrow_path(ends[:, 0], ends[:, 1], self.span)
        with self.arrows.hold_sync():
            self.arrows.x, self.arrows.y = ax, ay
        with self.point.hold_sync():
            self.point.x, self.point.y = np.array([point[0]]), np.array([point[1]])
