r"""The loss-surface figure: heat map, contours, trajectories, points, minima, arrows.

Every element is one bqplot mark holding all runs, created once and updated in place:

* ``HeatMap`` of :math:`\log_{10}(L - L_{\min} + \epsilon)` where ``problem.log_scale``
  (else :math:`L`) and its contours as ONE static ``Image`` (:func:`contour_image`, a PNG
  made in numpy) -- recomputed only when ``configure`` brings a new surface;
* trajectories (one line per run), current points, the minima and the start
  :math:`\theta_0`;
* at the inspected run's point, ONE ``Lines`` mark of arrows, every one from the
  history or the engine: the direction :math:`-\nabla L`, the last update really taken,
  and the optimizer's own next update (the engine's ``update`` of the current state, or
  the history's next row when scrubbed back);
* a transparent ``Image`` over the plot: a click reports the point (the new start).

The :class:`~descentlab.widgets.ui.figures.Key` of runs and arrows sits beside the
figure, never over :math:`\theta_0`.
"""

from __future__ import annotations

import html
import struct
import zlib
from collections.abc import Callable

import bqplot as bq
import ipywidgets as W
import numpy as np

from descentlab.engine import problems
from descentlab.widgets.ui.figures import EMPTY, Key, arrow_path, axis, figure, set_lines
from descentlab.widgets.ui.palette import SURFACE_COLORS

__all__ = ["SurfaceChart", "surface_color", "contour_image", "png", "VECTOR_LABELS",
           "VECTOR_COLORS", "GRID_N", "IMAGE_N"]

AXES = {"": ("θ₁ = x", "θ₂ = y"),
        "tanh_net": ("a: θ* at +1, its unit-swapped twin at −1", "b: the output bias")}
"""Axis titles by surface (a plane through a network's parameters has its own)."""

VECTOR_LABELS = ("−∇L (direction)", "update u (last step taken)",
                 "next update (the optimizer's)")
VECTOR_COLORS = ("#000000", "#D55E00", "#0072B2")
GRID_N = 120
IMAGE_N = 420
"""Pixels per side of the contour image (about the plot's size on screen)."""
CONTOUR_LEVELS = 14
CONTOUR_COLOR = "#56657A"


def png(rgba: np.ndarray) -> bytes:
    """``(h, w, 4)`` uint8 RGBA, row 0 at the top, as PNG bytes (numpy and zlib only)."""
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    h, w = rgba.shape[:2]

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
    rows = np.concatenate([np.zeros((h, 1), np.uint8), rgba.reshape(h, 4 * w)], axis=1)
    raw = zlib.compress(rows.tobytes(), 6)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def _png(r: int, g: int, b: int, a: int) -> bytes:
    """A 1x1 RGBA PNG (alpha 1/255: invisible but hit by a click)."""
    return png(np.array([[[r, g, b, a]]], dtype=np.uint8))


def contour_image(C: np.ndarray, n_levels: int = CONTOUR_LEVELS,
                  color: str = CONTOUR_COLOR, opacity: float = 0.6) -> np.ndarray:
    r"""``(n, m, 4)`` RGBA of the contours of ``C`` (``C[i, j]`` at row ``i`` = y,
    increasing upwards): the same ``n_levels`` evenly spaced levels as
    :func:`~descentlab.widgets.ui.figures.contour_path`, a pixel drawn where a level lies
    between it and its right or upper neighbour; elsewhere white at alpha 1/255
    (invisible, but a click on it is reported).  One static image instead of a vector
    path of thousands of segments that the browser re-rasterised whenever a trajectory
    over it moved."""
    C = np.asarray(C, dtype=np.float64)
    out = np.zeros(C.shape + (4,), dtype=np.uint8)
    out[...] = (255, 255, 255, 1)
    lo, hi = float(np.nanmin(C)), float(np.nanmax(C))
    if not hi > lo:
        return out[::-1]
    band = np.digitize(C, np.linspace(lo, hi, n_levels + 2)[1:-1])
    edge = np.zeros(C.shape, dtype=bool)
    edge[:, 1:] |= band[:, 1:] != band[:, :-1]
    edge[1:, :] |= band[1:, :] != band[:-1, :]
    rgb = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    out[edge] = (*rgb, round(255 * opacity))
    return out[::-1]                           # image rows run top (y max) to bottom


def surface_color(problem, Z: np.ndarray) -> tuple[np.ndarray, str]:
    r"""The heat-map values and the colour-bar label: :math:`\log_{10}(L - L_{\min} +
    \epsilon)` with :math:`\epsilon = 10^{-6}(L_{\max} - L_{\min})` on log-scaled
    surfaces, else L.  Non-finite values become the largest finite one."""
    Z = np.asarray(Z, dtype=np.float64)
    finite = np.isfinite(Z)
    top = Z[finite].max() if finite.any() else 0.0
    Z = np.where(finite, Z, top)
    if problem.log_scale:
        lo = Z.min()
        eps = max(1e-6 * (Z.max() - lo), 1e-12)
        return np.log10(Z - lo + eps), "log₁₀(L − L_min)"
    return Z, "L(θ)"


class SurfaceChart:
    """The surface figure with its key beside it.  ``on_pick(x, y)``: a click."""

    def __init__(self, on_pick: Callable[[float, float], object] | None = None,
                 width: str = "540px", height: str = "500px"):
        self.on_pick = on_pick
        self.sx, self.sy = bq.LinearScale(), bq.LinearScale()
        self.sc = bq.ColorScale(colors=list(SURFACE_COLORS))
        sc = {"x": self.sx, "y": self.sy}
        self.heat = bq.HeatMap(x=np.array([0.0, 1.0]), y=np.array([0.0, 1.0]),
                               color=np.zeros((2, 2)), scales={**sc, "color": self.sc})
        self.contours = bq.Image(image=W.Image(value=_png(255, 255, 255, 0), format="png"),
                                 scales=sc, x=np.array([0.0, 1.0]), y=np.array([0.0, 1.0]))
        self.paths = bq.Lines(x=EMPTY, y=EMPTY, scales=sc, stroke_width=2.5)
        self.points = bq.Scatter(x=np.zeros(0), y=np.zeros(0), scales=sc, default_size=90,
                                 stroke="white", stroke_width=1.5)
        self.minima = bq.Scatter(x=np.zeros(0), y=np.zeros(0), scales=sc, marker="cross",
                                 colors=["#000000"], default_size=110, opacities=[0.9])
        self.start = bq.Scatter(x=np.zeros(0), y=np.zeros(0), scales=sc, marker="square",
                                colors=["#FFFFFF"], stroke="#000000", default_size=70)
        self.vectors = bq.Lines(x=EMPTY, y=EMPTY, scales=sc, colors=list(VECTOR_COLORS),
                                stroke_width=3)
        self.overlay = bq.Image(image=W.Image(value=_png(255, 255, 255, 1), format="png"),
                                scales=sc, x=np.array([0.0, 1.0]), y=np.array([0.0, 1.0]))
        self.overlay.on_element_click(self._clicked)
        self.ax, self.ay = axis(self.sx, AXES[""][0]), axis(self.sy, AXES[""][1], side="left")
        self.cbar = bq.ColorAxis(scale=self.sc, side="right", label="",
                                 tick_style={"font-size": "13px"})
        self.figure = figure(
            [self.heat, self.contours, self.paths, self.minima, self.start, self.vectors,
             self.points, self.overlay],
            [self.ax, self.ay, self.cbar],
            width=width, height=height, margin={"right": 90}, padding_x=0, padding_y=0)
        self.key = Key(width="190px")
        arrows = "".join(
            f"<div style='display:flex;align-items:center;gap:6px'><span style='flex:none;"
            f"width:18px;height:3px;background:{c}'></span><span>{html.escape(t)}</span>"
            f"</div>" for c, t in zip(VECTOR_COLORS, VECTOR_LABELS, strict=True))
        self.arrows_key = W.HTML(f"<div style='font-size:13px;margin-top:10px'>"
                                 f"<b>arrows (inspected run)</b>{arrows}</div>",
                                 layout=W.Layout(width="190px"))
        self.arrows_key.add_class("descentlab-key")
        self.widget = W.HBox([self.figure, W.VBox([self.key.widget, self.arrows_key])])
        self.surface = None
        self.span = np.ones(2)

    # ---- picking the start

    def _clicked(self, mark, content):
        data = (content or {}).get("data") or {}
        x, y = data.get("click_x"), data.get("click_y")
        if x is None or y is None or self.on_pick is None:
            return
        self.on_pick(float(x), float(y))

    # ---- configure: runs' colours; a new surface (heavy: grid and contours)

    def configure(self, style) -> None:
        p = style.problem
        if self.surface != (p.name, tuple(sorted(p.params.items()))):
            self._surface(p)
        with self.paths.hold_sync():
            self.paths.colors = list(style.colors)
        with self.points.hold_sync():
            self.points.colors = list(style.colors)
        with self.start.hold_sync():
            self.start.x, self.start.y = np.array([style.start[0]]), np.array([style.start[1]])
        self.key.show(style.colors, style.labels, style.key_title, style.ramp)

    def _surface(self, problem, n: int = GRID_N) -> None:
        xs, ys, Z = problems.grid(problem, n)
        C, label = surface_color(problem, Z)
        _, _, Zi = problems.grid(problem, IMAGE_N)
        contours = png(contour_image(surface_color(problem, Zi)[0]))
        (x0, x1), (y0, y1) = problem.domain
        self.surface = (problem.name, tuple(sorted(problem.params.items())))
        self.span = np.array([x1 - x0, y1 - y0])
        with self.sx.hold_sync():
            self.sx.min, self.sx.max = float(x0), float(x1)
        with self.sy.hold_sync():
            self.sy.min, self.sy.max = float(y0), float(y1)
        with self.heat.hold_sync():
            self.heat.x, self.heat.y, self.heat.color = xs, ys, C
        with self.contours.hold_sync():
            self.contours.image.value = contours
            self.contours.x, self.contours.y = np.array([x0, x1]), np.array([y0, y1])
        with self.minima.hold_sync():
            m = problem.minima
            self.minima.x, self.minima.y = m[:, 0], m[:, 1]
        with self.overlay.hold_sync():
            self.overlay.x, self.overlay.y = np.array([x0, x1]), np.array([y0, y1])
        # the colour's meaning in the title: as the colour bar's own label it was clipped
        self.figure.title = f"{problem.name.replace('_', ' ')} · colour: {label}"
        self.ax.label, self.ay.label = AXES.get(problem.name, AXES[""])

    # ---- per frame

    def display_paths(self, view) -> tuple[np.ndarray, np.ndarray]:
        """``(R, n)`` x and y of the decimated trajectories, clipped far outside the plot
        (a diverged run stays drawable) and NaN where not finite."""
        P = view.params[:, :, :2]
        lim = 1e3 * float(self.span.max())
        xy = np.where(np.isfinite(P), np.clip(P, -lim, lim), np.nan)
        return xy[:, :, 0].T, xy[:, :, 1].T

    def arrows(self, view) -> np.ndarray:
        """``(3, 2, 2)`` arrows (tail, head) at the inspected run's point, NaN if absent."""
        r = 0 if view.inspect is None else view.inspect.run
        theta, grad = view.theta[r, :2], view.grad[r, :2]
        out = np.full((3, 2, 2), np.nan)
        g = grad / self.span
        gnorm = np.linalg.norm(g)
        if np.isfinite(gnorm) and gnorm > 0:
            out[0] = [theta, theta - 0.1 * g / gnorm * self.span]
        out[1] = [theta - view.last_update[r, :2], theta]
        out[2] = [theta, theta + view.next_update[r, :2]]
        return out

    def draw(self, view) -> None:
        x, y = self.display_paths(view)
        set_lines(self.paths, x, y)                  # (no all-NaN line: console errors)
        with self.points.hold_sync():
            last_x, last_y = x[:, -1], y[:, -1]
            ok = np.isfinite(last_x) & np.isfinite(last_y)
            self.points.x, self.points.y = np.where(ok, last_x, 0.0), np.where(ok, last_y, 0.0)
        a = self.arrows(view)
        vx, vy = arrow_path(a[:, 0], a[:, 1], self.span)
        set_lines(self.vectors, vx, vy)
