r"""The loss-surface chart: heat map, contours, trajectories, current points, minima, vectors.

Every element is one bqplot mark holding all runs (2-D ``x``/``y`` arrays), created once
and updated in place inside ``hold_sync()``:

* ``HeatMap`` of :math:`\log_{10}(L - L_{\min} + \epsilon)` where ``problem.log_scale``
  (else :math:`L`), with a labelled color bar;
* contour lines from ``contourpy`` as ONE ``Lines`` mark, segments joined by NaN;
* trajectories (one line per run), current points, the minima and the start;
* at the selected run's current point, ONE ``Lines`` mark of arrows: the direction
  :math:`-\nabla L`, the update just taken :math:`u_t = \theta_t - \theta_{t-1}`, the
  optimizer's own next-step term (momentum's carry :math:`-\eta\mu b_t`, Adam's
  :math:`-\eta\,\hat m_t/(\sqrt{\hat v_t}+\epsilon)`) or Nesterov's look-ahead
  :math:`\theta_t - \eta\mu b_t`, where the classic form evaluates the gradient;
* a transparent ``Image`` over the plot area: clicking it reports the point in data
  coordinates (bqplot's Image view inverts the scales on click), which sets the start.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

import bqplot as bq
import ipywidgets as W
import numpy as np
from contourpy import LineType, contour_generator

from descentlab.engine import problems

from .core.decimate import at_least_two as two
from .ui.palette import SURFACE_COLORS

__all__ = ["SurfaceChart", "surface_color", "contour_path", "arrow_path", "VECTOR_LABELS",
           "vectors_for"]

VECTOR_LABELS = ("−∇L (direction)", "update u (last step)", "optimizer term (next step)",
                 "Nesterov look-ahead")
VECTOR_COLORS = ["#000000", "#D55E00", "#0072B2", "#CC79A7"]
GRID_N = 120


def _png(r: int, g: int, b: int, a: int) -> bytes:
    """A 1x1 RGBA PNG (the click overlay; alpha 1/255 so it is invisible but hit)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    raw = zlib.compress(bytes([0, r, g, b, a]))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def surface_color(problem, Z: np.ndarray) -> tuple[np.ndarray, str]:
    r"""The heat-map values and the color-bar label: :math:`\log_{10}(L - L_{\min} + \epsilon)`
    with :math:`\epsilon = 10^{-6}(L_{\max} - L_{\min})` on log-scaled surfaces, else L.
    Non-finite values become the largest finite one."""
    Z = np.asarray(Z, dtype=np.float64)
    finite = np.isfinite(Z)
    top = Z[finite].max() if finite.any() else 0.0
    Z = np.where(finite, Z, top)
    if problem.log_scale:
        lo = Z.min()
        eps = max(1e-6 * (Z.max() - lo), 1e-12)
        return np.log10(Z - lo + eps), "log₁₀(L − L_min)"
    return Z, "L(θ)"


def contour_path(xs, ys, C, n_levels: int = 14) -> tuple[np.ndarray, np.ndarray]:
    """Contours of ``C`` at evenly spaced levels, as one polyline with NaN separators."""
    lo, hi = float(np.min(C)), float(np.max(C))
    if not hi > lo:
        return np.array([np.nan]), np.array([np.nan])
    gen = contour_generator(xs, ys, C, line_type=LineType.ChunkCombinedNan)
    pieces = []
    for level in np.linspace(lo, hi, n_levels + 2)[1:-1]:
        for chunk in gen.lines(level)[0]:
            if chunk is not None and len(chunk):
                pieces.append(chunk)
                pieces.append(np.full((1, 2), np.nan))
    if not pieces:
        return np.array([np.nan]), np.array([np.nan])
    pts = np.concatenate(pieces)
    return pts[:, 0], pts[:, 1]


def arrow_path(tails, heads, span) -> tuple[np.ndarray, np.ndarray]:
    """``(K, 6)`` x and y: for each arrow tail -> head plus two head strokes (NaN-broken).
    Head size is relative to the plot ``span`` so arrows look alike on any domain;
    arrows with a NaN end or zero length are all NaN (not drawn)."""
    tails, heads = np.asarray(tails, float), np.asarray(heads, float)
    span = np.asarray(span, float)
    d = (heads - tails) / span                       # normalized plot coordinates
    length = np.linalg.norm(d, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = d / length
    size = np.minimum(0.035, 0.45 * length)
    c, s = np.cos(np.radians(25)), np.sin(np.radians(25))
    back = -unit
    w1 = np.stack([back[:, 0] * c - back[:, 1] * s, back[:, 0] * s + back[:, 1] * c], axis=1)
    w2 = np.stack([back[:, 0] * c + back[:, 1] * s, -back[:, 0] * s + back[:, 1] * c], axis=1)
    p1 = heads + w1 * size * span
    p2 = heads + w2 * size * span
    nan = np.full_like(heads, np.nan)
    pts = np.stack([tails, heads, p1, nan, p2, heads], axis=1)   # (K, 6, 2)
    bad = ~np.isfinite(length[:, 0]) | (length[:, 0] == 0)
    pts[bad] = np.nan
    return pts[..., 0], pts[..., 1]


def vectors_for(kind: str, cfg, theta, grad, update, lr, q: dict, r: int, span) -> np.ndarray:
    """``(4, 2, 2)`` arrows (tail, head) at the current point of run ``r``, NaN when absent:
    the direction of :math:`-\\nabla L` (10% of the plot), the last update (ending here),
    the optimizer's own term for the next step, and Nesterov's look-ahead."""
    out = np.full((4, 2, 2), np.nan)
    gnorm = np.linalg.norm(grad / span)
    if np.isfinite(gnorm) and gnorm > 0:
        out[0] = [theta, theta - 0.1 * (grad / span) / gnorm * span]
    out[1] = [theta - update, theta]
    if kind in ("Momentum", "Nesterov") and "velocity" in q:
        carry = [theta, theta - lr * cfg.momentum * q["velocity"][r]]
        out[3 if kind == "Nesterov" else 2] = carry   # Nesterov: where it looks ahead
    elif kind in ("Adam", "AdamW", "NAdam") and "mu" in q and "nu" in q:
        t = max(int(q.get("_count", 1)), 1)
        m_hat = q["mu"][r] / (1 - cfg.b1 ** t)
        v_hat = q["nu"][r] / (1 - cfg.b2 ** t)
        out[2] = [theta, theta - lr * m_hat / (np.sqrt(v_hat) + 1e-8)]
    return out


class SurfaceChart:
    """The surface figure.  ``update(view, selected, kind, cfg)`` once per frame;
    ``set_problem(problem, colors, labels)`` on a new surface (heavy: grid and contours)."""

    def __init__(self, on_pick: Callable[[float, float], object] | None = None,
                 width: str = "560px", height: str = "500px"):
        self.on_pick = on_pick
        self.sx, self.sy = bq.LinearScale(), bq.LinearScale()
        self.sc = bq.ColorScale(colors=list(SURFACE_COLORS))
        sc = {"x": self.sx, "y": self.sy}
        self.heat = bq.HeatMap(x=np.array([0.0, 1.0]), y=np.array([0.0, 1.0]),
                               color=np.zeros((2, 2)), scales={**sc, "color": self.sc})
        self.contours = bq.Lines(x=np.array([np.nan]), y=np.array([np.nan]), scales=sc,
                                 colors=["#56657A"], stroke_width=1, opacities=[0.6])
        self.paths = bq.Lines(x=np.zeros((1, 2)), y=np.zeros((1, 2)), scales=sc,
                              stroke_width=2.5)
        self.points = bq.Scatter(x=np.zeros(1), y=np.zeros(1), scales=sc, default_size=90,
                                 stroke="white", stroke_width=1.5)
        self.minima = bq.Scatter(x=np.zeros(0), y=np.zeros(0), scales=sc, marker="cross",
                                 colors=["#000000"], default_size=110, opacities=[0.9])
        self.start = bq.Scatter(x=np.zeros(1), y=np.zeros(1), scales=sc, marker="square",
                                colors=["#FFFFFF"], stroke="#000000", default_size=70)
        self.vectors = bq.Lines(x=np.full((4, 6), np.nan), y=np.full((4, 6), np.nan),
                                scales=sc, colors=list(VECTOR_COLORS), stroke_width=3,
                                labels=list(VECTOR_LABELS), display_legend=True)
        self.overlay = bq.Image(image=W.Image(value=_png(255, 255, 255, 1), format="png"),
                                scales=sc, x=np.array([0.0, 1.0]), y=np.array([0.0, 1.0]))
        self.overlay.on_element_click(self._clicked)
        self.cbar = bq.ColorAxis(scale=self.sc, side="right",
                                 label="", tick_style={"font-size": "13px"})
        ax = bq.Axis(scale=self.sx, label="θ₁ = x", tick_style={"font-size": "13px"})
        ay = bq.Axis(scale=self.sy, label="θ₂ = y", side="left",
                     tick_style={"font-size": "13px"})
        self.figure = bq.Figure(
            marks=[self.heat, self.contours, self.paths, self.minima, self.start,
                   self.vectors, self.points, self.overlay],
            axes=[ax, ay, self.cbar], padding_x=0, padding_y=0,
            fig_margin={"top": 40, "bottom": 50, "left": 60, "right": 90},
            legend_location="top-left", legend_style={"fill": "white", "opacity": 0.85},
            layout=W.Layout(width=width, height=height), animation_duration=0,
            title_style={"font-size": "16px"})
        self.problem = None
        self.span = np.ones(2)

    # ---- picking the start

    def _clicked(self, mark, content):
        data = (content or {}).get("data") or {}
        x, y = data.get("click_x"), data.get("click_y")
        if x is None or y is None or self.on_pick is None:
            return
        self.on_pick(float(x), float(y))

    # ---- heavy: a new surface

    def set_problem(self, problem, start, n: int = GRID_N) -> None:
        xs, ys, Z = problems.grid(problem, n)
        C, label = surface_color(problem, Z)
        cx, cy = contour_path(xs, ys, C)
        (x0, x1), (y0, y1) = problem.domain
        self.problem, self.span = problem, np.array([x1 - x0, y1 - y0])
        with self.sx.hold_sync():
            self.sx.min, self.sx.max = float(x0), float(x1)
        with self.sy.hold_sync():
            self.sy.min, self.sy.max = float(y0), float(y1)
        with self.heat.hold_sync():
            self.heat.x, self.heat.y, self.heat.color = xs, ys, C
        with self.contours.hold_sync():
            self.contours.x, self.contours.y = cx, cy
        with self.minima.hold_sync():
            m = problem.minima
            self.minima.x, self.minima.y = m[:, 0], m[:, 1]
        with self.overlay.hold_sync():
            self.overlay.x, self.overlay.y = np.array([x0, x1]), np.array([y0, y1])
        with self.start.hold_sync():
            self.start.x, self.start.y = np.array([start[0]]), np.array([start[1]])
        self.cbar.label = label
        self.figure.title = problem.name.replace("_", " ")

    def set_runs(self, colors, start) -> None:
        with self.paths.hold_sync():
            self.paths.colors = list(colors)
        with self.points.hold_sync():
            self.points.colors = list(colors)
        with self.start.hold_sync():
            self.start.x, self.start.y = np.array([start[0]]), np.array([start[1]])

    # ---- per frame

    def display_paths(self, view) -> tuple[np.ndarray, np.ndarray]:
        """``(R, n)`` x and y of the decimated trajectories, clipped far outside the plot
        (a diverged run stays drawable) and NaN where not finite."""
        P = view.params                                  # (n, R, D)
        lim = 1e3 * float(self.span.max())
        xy = np.clip(P[:, :, :2], -lim, lim)
        xy = np.where(np.isfinite(P[:, :, :2]), xy, np.nan)
        return xy[:, :, 0].T, xy[:, :, 1].T

    def update(self, view, selected: int, kind: str, cfg) -> None:
        x, y = self.display_paths(view)
        with self.paths.hold_sync():
            self.paths.x, self.paths.y = two(x), two(y)
        with self.points.hold_sync():
            self.points.x, self.points.y = x[:, -1], y[:, -1]
        rec = view.record
        r = selected
        q = dict(view.quantities)
        q["_count"] = view.step
        arrows = vectors_for(kind, cfg, rec.params[r], rec.grad[r], rec.update[r],
                             float(rec.lr[r]), q, r, self.span)
        vx, vy = arrow_path(arrows[:, 0], arrows[:, 1], self.span)
        with self.vectors.hold_sync():
            self.vectors.x, self.vectors.y = vx, vy
