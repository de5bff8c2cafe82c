r"""Figure building blocks with no lab knowledge: figures, axes, keys, contours, arrows.

Every chart of every family has ONE interface (:class:`Chart`):

* ``configure(style)`` -- once per change of what the runs *are* (colours, labels,
  scales); ``style`` is a plain record the family defines (a NamedTuple);
* ``draw(view)`` -- once per frame; ``view`` holds plain arrays, never a session.

and one displayable ``widget`` (the figure, with its :class:`Key` beside the data where
the chart draws several runs).  Marks are created once and updated in place inside
``hold_sync()``; every element holds all runs in ONE mark, so a frame costs one message
per visible chart.

:class:`SeriesChart` is the common case: one line per run (or per run and coordinate)
against a step axis, linear or log.
"""

from __future__ import annotations

import html
from typing import Protocol

import bqplot as bq
import ipywidgets as W
import numpy as np
import traitlets as T
from contourpy import LineType, contour_generator

from .format import num

__all__ = ["Chart", "Key", "SeriesChart", "figure", "axis", "at_least_two", "pad_rows",
           "contour_path", "zero_contour", "arrow_path", "finite_or_nan", "log_color",
           "project", "PROJECTOR_CSS", "TICKS", "TITLE", "ChartTabs",
           "drawable", "set_lines", "EMPTY", "pin", "with_domain", "flat", "decades"]

TICKS = {"font-size": "14px"}
EMPTY = np.zeros(0)
"""What an empty mark holds.  A mark of only NaN makes bqplot write ``d="null"`` and
``translate(…, undefined)`` into the SVG (console errors), and gives its scales an
undefined domain (an axis then fails to format its ticks); an empty one draws nothing and
leaves its scales to the other marks."""
TITLE = {"font-size": "17px"}
# log-axis ticks: 3 significant digits, no trailing zeros ("7.5", "0.001", "1e-8"); ".0e"
# printed a narrow range as "8e+0, 8e+0, 7e+0"
LOG_TICKS = ".3~g"
MARGIN = {"top": 44, "bottom": 56, "left": 78, "right": 24}


class Chart(Protocol):
    """What a lab draws: ``configure(style)``, ``draw(view)`` and a ``widget``."""

    widget: W.Widget

    def configure(self, style) -> None: ...

    def draw(self, view) -> None: ...


def figure(marks, axes, title: str = "", width: str = "460px", height: str = "330px",
           margin: dict | None = None, **kw) -> bq.Figure:
    """A bqplot figure in the lab's style: no animation, room for tick labels and axis
    titles (they never overlap), a readable title."""
    return bq.Figure(marks=marks, axes=axes, title=title, animation_duration=0,
                     fig_margin={**MARGIN, **(margin or {})},
                     layout=W.Layout(width=width, height=height, min_width="320px"),
                     title_style=TITLE, **kw)


def axis(scale, label: str = "", side: str | None = None, fmt: str | None = None,
         ticks: int | None = None) -> bq.Axis:
    """An axis whose title sits clear of its tick labels."""
    kw = {"scale": scale, "label": label, "tick_style": TICKS,
          "label_offset": "58px" if side in ("left", "right") else "40px"}
    if side:
        kw["side"] = side
    if fmt:
        kw["tick_format"] = fmt
    if ticks:
        kw["num_ticks"] = ticks
    return bq.Axis(**kw)


WRAP = "white-space:normal;overflow-wrap:anywhere"  # a long label wraps, never clipped


class Key:
    """The key of a multi-run chart, beside the data (never on it): one swatch and label
    per run, or -- with many runs of one swept value -- a colour ramp from the first to
    the last value."""

    MAX_ENTRIES = 10

    def __init__(self, width: str = "160px"):
        self.widget = W.HTML(layout=W.Layout(width=width, min_width=width,
                                             overflow="hidden"))
        self.widget.add_class("descentlab-key")    # projector mode enlarges it
        self._shown = None

    def show(self, colors, labels, title: str = "", ramp: tuple | None = None) -> None:
        """``ramp = (name, values)`` draws a gradient from ``values[0]`` to ``values[-1]``
        when there are more than :attr:`MAX_ENTRIES` runs."""
        state = (tuple(colors), tuple(labels), title, None if ramp is None else
                 (ramp[0], tuple(np.ravel(ramp[1]))))
        if state == self._shown:
            return
        self._shown = state
        head = (f"<div style='font-weight:600;margin-bottom:4px;{WRAP}'>{html.escape(title)}</div>"
                if title else "")
        if ramp is not None and len(colors) > self.MAX_ENTRIES:
            name, values = ramp
            grad = ", ".join(colors)
            body = (f"<div>{html.escape(name)}</div>"
                    f"<div style='display:flex;align-items:stretch;gap:6px;height:160px'>"
                    f"<div style='width:16px;background:linear-gradient({grad})'></div>"
                    f"<div style='display:flex;flex-direction:column;"
                    f"justify-content:space-between'><span>{num(values[0], 3)}</span>"
                    f"<span>{num(values[-1], 3)}</span></div></div>"
                    f"<div style='color:#555'>{len(colors)} runs</div>")
        else:
            body = "".join(
                f"<div style='display:flex;align-items:center;gap:6px;line-height:1.25;"
                f"margin-bottom:2px'>"
                f"<span style='flex:none;width:18px;height:4px;background:{c}'></span>"
                f"<span style='{WRAP}'>"
                f"{html.escape(str(lab))}</span></div>"
                for c, lab in zip(colors, labels, strict=True))
        self.widget.value = f"<div style='font-size:14px;padding-top:40px'>{head}{body}</div>"


def at_least_two(a: np.ndarray) -> np.ndarray:
    """``a`` with its last axis repeated to length 2 when it has one point: bqplot squeezes
    a ``(R, 1)`` line array to ``(R,)`` (one line of R points)."""
    a = np.asarray(a)
    return np.repeat(a, 2, axis=-1) if a.shape[-1] == 1 else a


def finite_or_nan(a) -> np.ndarray:
    """``a`` as float with every non-finite value NaN (a gap, never a bogus SVG path)."""
    a = np.asarray(a, dtype=np.float64)
    return np.where(np.isfinite(a), a, np.nan)


def log_color(Z) -> np.ndarray:
    r""":math:`\log_{10}(L - L_{\min} + \epsilon)` of a loss grid for a heat map (display
    scaling: the minimum stands out on any scale of loss), non-finite values as the
    largest finite one."""
    Z = np.asarray(Z, dtype=np.float64)
    finite = np.isfinite(Z)
    Z = np.where(finite, Z, Z[finite].max() if finite.any() else 0.0)
    lo = Z.min()
    return np.log10(Z - lo + max(1e-6 * (Z.max() - lo), 1e-12))


def drawable(x, y, positive: bool = False):
    """``x`` (n,) or (L, n) and ``y`` (n,) or (L, n) as a bqplot ``Lines`` mark can draw them,
    or ``None`` when no point is finite (show the mark empty: :data:`EMPTY`).

    bqplot writes ``d="null"`` for a line with no finite point and places each line's
    (hidden) label at its LAST point, ``translate(undefined, …)`` when that point is not
    finite -- both console errors.  So a point is kept only where x and y are both finite
    (and y > 0 when ``positive``, for a log axis); when some line does not end on a kept
    point, one column is appended: each line's last kept point again (a zero-length
    segment, or after a gap a lone point: nothing is drawn), or for a line with none, a
    kept point of another line (after a gap: nothing drawn, no scale moved)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if y.size == 0 or x.size == 0:
        return None
    x, y = at_least_two(x), at_least_two(y)
    flat = y.ndim == 1
    Y = y[None] if flat else y
    X = np.broadcast_to(x, Y.shape)
    ok = np.isfinite(X) & np.isfinite(Y)
    if positive:
        with np.errstate(invalid="ignore"):
            ok &= Y > 0
    if not ok.any():
        return None
    Y = np.where(ok, Y, np.nan)
    if ok[:, -1].all():
        return x, (Y[0] if flat else Y)
    n = Y.shape[1]
    last = n - 1 - np.argmax(ok[:, ::-1], axis=1)          # each line's last kept point
    r0, c0 = np.argwhere(ok)[0]
    none = ~ok.any(axis=1)
    rows = np.arange(len(Y))
    ex = np.where(none, X[r0, c0], X[rows, last])
    ey = np.where(none, Y[r0, c0], Y[rows, last])
    Y = np.concatenate([Y, ey[:, None]], axis=1)
    if x.ndim == 1 and np.isfinite(x[-1]):   # one shared x: every extra point at its end
        X = np.append(x, x[-1])
    else:
        X = np.concatenate([X, ex[:, None]], axis=1)
        X = X[0] if flat else X
    return X, (Y[0] if flat else Y)


def set_lines(mark, x, y, positive: bool = False) -> bool:
    """``mark.x, mark.y`` from :func:`drawable` in one message (empty when nothing is
    finite); True when something is drawn."""
    xy = drawable(x, y, positive)
    x, y = (EMPTY, EMPTY) if xy is None else xy
    with mark.hold_sync():
        mark.x, mark.y = x, y
    return xy is not None


def pad_rows(rows, fill=np.nan, min_len: int = 2) -> np.ndarray:
    """Rows of different lengths -> ``(len(rows), max_len)`` padded with ``fill``."""
    n = max(min_len, max((len(r) for r in rows), default=min_len))
    out = np.full((len(rows), n), fill, dtype=np.float64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def contour_path(xs, ys, C, n_levels: int = 14) -> tuple[np.ndarray, np.ndarray]:
    """Contours of ``C`` at evenly spaced levels, as one polyline with NaN separators
    (empty when ``C`` is flat)."""
    lo, hi = float(np.min(C)), float(np.max(C))
    if not hi > lo:
        return EMPTY, EMPTY
    gen = contour_generator(xs, ys, C, line_type=LineType.ChunkCombinedNan)
    pieces = []
    for level in np.linspace(lo, hi, n_levels + 2)[1:-1]:
        for chunk in gen.lines(level)[0]:
            if chunk is not None and len(chunk):
                pieces.append(chunk)
                pieces.append(np.full((1, 2), np.nan))
    if not pieces:
        return EMPTY, EMPTY
    pts = np.concatenate(pieces)
    return pts[:, 0], pts[:, 1]


def zero_contour(xs, ys, Z) -> np.ndarray:
    """``(k, 2)`` points of the zero contour of ``Z`` on ``meshgrid(xs, ys)``, pieces
    joined by NaN rows (a decision boundary)."""
    gen = contour_generator(xs, ys, Z, line_type=LineType.ChunkCombinedNan)
    pts = [c for c in gen.lines(0.0)[0] if c is not None and len(c)]
    return np.concatenate(pts) if pts else np.full((1, 2), np.nan)


def arrow_path(tails, heads, span) -> tuple[np.ndarray, np.ndarray]:
    """``(K, 6)`` x and y: for each arrow tail -> head plus two head strokes (NaN-broken).
    Head size is relative to the plot ``span`` so arrows look alike on any domain;
    arrows with a NaN end or zero length are all NaN (not drawn)."""
    tails, heads = np.asarray(tails, float), np.asarray(heads, float)
    span = np.asarray(span, float)
    d = (heads - tails) / span
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


def flat(lo: float, hi: float) -> bool:
    """Values within 1% of each other: one value for an axis (its 3-digit tick labels
    would all read the same)."""
    return not hi - lo > 0.01 * max(abs(lo), abs(hi))


def decades(y):
    """``(lo, hi, ticks)``: whole decades holding the positive values of ``y`` (at least
    one decade) and a tick at every decade (every k-th: at most 6), or None."""
    y = np.asarray(y, dtype=np.float64)
    y = y[np.isfinite(y) & (y > 0)]
    if y.size == 0:
        return None
    a, b = int(np.floor(np.log10(y.min()))), int(np.ceil(np.log10(y.max())))
    b = max(b, a + 1)
    return 10.0 ** a, 10.0 ** b, 10.0 ** np.arange(a, b + 1, max(1, -(-(b - a) // 5)))


def pin(scale, y) -> None:
    """``scale``'s domain from the data ``y``, except where bqplot cannot draw its axis:
    with no data (``y`` None: a log scale then takes [0, 1] and puts a tick at log 0) or one
    value (an axis with ``num_ticks`` divides by zero: "Invalid array length") the domain
    is set explicitly -- [1, 10] or [0, 1] empty, a band around the value."""
    log = isinstance(scale, bq.LogScale)
    if y is None:
        lo, hi = (1.0, 10.0) if log else (0.0, 1.0)
    else:
        lo, hi = float(np.nanmin(y)), float(np.nanmax(y))
        if not flat(lo, hi):
            lo = hi = None
        elif log:                       # a decade each side: distinct tick labels
            lo, hi = lo / 10, lo * 10
        else:
            d = 0.1 * abs(lo) or 1.0
            lo, hi = lo - d, lo + d
    if (scale.min, scale.max) != (lo, hi):
        with scale.hold_sync():
            scale.min, scale.max = lo, hi


def with_domain(scale, y, send) -> None:
    """``send()`` new data on ``scale`` whose values are ``y`` (None: nothing finite), the
    domain pinned BEFORE data that cannot define one and released AFTER data that can (so
    the scale never meets empty or one-valued data with a data-driven domain)."""
    needs = y is None or flat(float(np.nanmin(y)), float(np.nanmax(y)))
    if needs:
        pin(scale, y)
    send()
    if not needs:
        pin(scale, y)


class SeriesChart:
    """Lines of every run against a shared or per-run x, in ONE ``Lines`` mark, with a
    key beside the figure and optional event markers (vertical rules at the steps where a
    setting changed live).

    ``configure(colors, labels, ...)`` takes the runs' colours and labels; ``show(x, y)``
    takes ``x (n,)`` or ``(L, n)`` and ``y (L, n)`` (one row per line).  A family's chart
    wraps it and maps its own ``style`` / ``view`` onto these two calls.
    """

    def __init__(self, title: str, x_label: str, y_label: str, log: bool = False,
                 per_run: int = 1, fmt: str | None = None, key: bool = True, **size):
        self.per_run = per_run
        self.sx = bq.LinearScale()
        self.lin, self.log = bq.LinearScale(), bq.LogScale()
        self.sy = self.log if log else self.lin
        sc = {"x": self.sx, "y": self.sy}
        self.lines = bq.Lines(x=EMPTY, y=EMPTY, scales=sc, stroke_width=2.5)
        self.events = bq.Lines(x=EMPTY, y=EMPTY,
                               scales={"x": self.sx, "y": bq.LinearScale(min=0.0, max=1.0)},
                               colors=["#555555"], line_style="dashed", stroke_width=1.5)
        self.ax = axis(self.sx, x_label)
        self.ay = axis(self.sy, y_label, side="left", fmt=fmt or (LOG_TICKS if log else None),
                       ticks=5 if log else None)
        self.figure = figure([self.lines, self.events], [self.ax, self.ay], title, **size)
        self.key = Key() if key else None
        self.widget = (W.HBox([self.figure, self.key.widget]) if key else self.figure)
        pin(self.sy, None)

    def set_log(self, log: bool, label: str | None = None, fmt: str | None = None) -> None:
        """The y axis log or linear.  A live switch: both scales get an explicit domain
        valid on both, the axis moves, the old lines are cleared (never drawn on the new
        scale: a loss <= 0 on a log scale) and then the lines move; the next :meth:`show`
        brings the data and lets the domain follow it."""
        scale = self.log if log else self.lin
        moved = self.sy is not scale
        if moved:
            # both scales on [1, 10] first: the axis redraws its old ticks on the new scale
            # before it computes new ones (a tick <= 0 from a linear scale on a log one is
            # at NaN), and 1..10 is a valid domain for both
            for sc in (self.sy, scale):
                with sc.hold_sync():
                    sc.min, sc.max = 1.0, 10.0
            self.sy = scale
        with self.ay.hold_sync():
            self.ay.scale = scale
            if moved:
                self.ay.tick_values = None      # decade ticks belong to the log scale
            if label is not None:
                self.ay.label = label
            self.ay.tick_format = fmt or (LOG_TICKS if log else ".3g")
            self.ay.num_ticks = 5 if log else 6
        if moved:
            with self.lines.hold_sync():
                self.lines.x, self.lines.y = EMPTY, EMPTY
            self.lines.scales = {"x": self.sx, "y": scale}

    def configure(self, colors, labels, opacities=None, key_title: str = "",
                  ramp: tuple | None = None) -> None:
        k = self.per_run
        with self.lines.hold_sync():
            self.lines.colors = [c for c in colors for _ in range(k)]
            self.lines.opacities = (list(opacities) if opacities is not None
                                    else [1.0] * (k * len(colors)))
        if self.key is not None:
            self.key.show(colors, labels, key_title, ramp)

    def show(self, x, y, fixed: bool = False) -> None:
        """Lines through :func:`drawable` (empty when nothing is finite), the y domain
        pinned where the data cannot define it (:func:`with_domain`) -- unless the caller
        ``fixed`` the y domain itself (to one that holds the data)."""
        xy = drawable(x, y, positive=self.sy is self.log)

        def send():
            with self.lines.hold_sync():
                self.lines.x, self.lines.y = (EMPTY, EMPTY) if xy is None else xy

        span = decades(xy[1]) if xy is not None and self.sy is self.log and not fixed else None
        if span is not None:          # log: whole decades, a tick at each (never 2.06, 4.05)
            lo, hi, ticks = span
            if (self.sy.min, self.sy.max) != (lo, hi):
                with self.sy.hold_sync():
                    self.sy.min, self.sy.max = lo, hi
            self.set_ticks(ticks)
            send()
        elif fixed:
            send()
        else:
            with_domain(self.sy, None if xy is None else xy[1], send)

    def set_ticks(self, ticks) -> None:
        """The y axis ticks at ``ticks`` (None: the scale's own), sent only when they
        change (a new tick list re-lays the axis)."""
        now = self.ay.tick_values
        same = (now is None and ticks is None) or (
            now is not None and ticks is not None and np.shape(now) == np.shape(ticks)
            and bool(np.all(np.asarray(now) == np.asarray(ticks))))
        if not same:
            self.ay.tick_values = ticks

    def mark_events(self, steps) -> None:
        """Dashed vertical rules at ``steps`` (live changes); none when empty."""
        steps = np.asarray(list(steps), dtype=np.float64)
        if steps.size == 0:
            x = y = EMPTY
        else:
            x = np.repeat(steps[:, None], 2, axis=1)
            y = np.tile([0.0, 1.0], (len(steps), 1))
        with self.events.hold_sync():
            self.events.x, self.events.y = x, y


PROJECTOR_SCALE = 1.35
PROJECTOR_CSS = """<style>
.descentlab-projector, .descentlab-projector .widget-label,
.descentlab-projector .widget-html-content, .descentlab-projector .widget-readout,
.descentlab-projector .widget-button, .descentlab-projector input,
.descentlab-projector select, .descentlab-projector .lm-TabBar-tabLabel,
.descentlab-projector .widget-toggle-button
  { font-size: 20px !important; }
.descentlab-projector .widget-label { min-width: 9.5em; }
.descentlab-projector .widget-readout { min-width: 5.2em !important; }
.descentlab-projector .descentlab-scene-menu { width: 560px !important; }
.descentlab-projector .bqplot .tick text { font-size: 19px !important; }
.descentlab-projector .bqplot .axislabel { font-size: 21px !important; }
.descentlab-projector .bqplot .mainheading { font-size: 24px !important; }
.descentlab-projector .bqplot .curve .line { stroke-width: 4px !important; }
.descentlab-projector .bqplot .dot { stroke-width: 2.5px !important; }
.descentlab-projector .descentlab-key, .descentlab-projector .descentlab-key div
  { font-size: 19px !important; }
.descentlab-projector .descentlab-key { width: 250px !important; min-width: 250px !important; }
.descentlab-projector .descentlab-controls
  { width: 480px !important; min-width: 480px !important; }
.descentlab-projector .descentlab-controls .widget-inline-hbox
  { width: 470px !important; }
</style>"""
"""What projector mode adds to the page: larger text, ticks and lines (CSS scoped to an
app whose root has the class ``descentlab-projector``)."""


def _figures(widget):
    if isinstance(widget, bq.Figure):
        yield widget
    for child in getattr(widget, "children", ()) or ():
        yield from _figures(child)


def _scaled(size: str | None, k: float) -> str | None:
    if isinstance(size, str) and size.endswith("px"):
        return f"{round(float(size[:-2]) * k)}px"
    return size


def project(root: W.Box, on: bool, scale: float = PROJECTOR_SCALE) -> None:
    """Projector mode on ``root`` (an app's box) on or off: every figure ``scale`` times
    larger (for 1920x1080 seen from the back of a room) and the CSS class that enlarges
    text and marks.  Idempotent: the sizes are always derived from the figure's own."""
    for fig in _figures(root):
        base = fig.layout.width, fig.layout.height
        big = "descentlab-big" in fig._dom_classes
        if on and not big:
            fig.add_class("descentlab-big")
            fig.layout.width, fig.layout.height = (_scaled(b, scale) for b in base)
        elif not on and big:
            fig.remove_class("descentlab-big")
            fig.layout.width, fig.layout.height = (_scaled(b, 1 / scale) for b in base)
    if on:
        root.add_class("descentlab-projector")
    else:
        root.remove_class("descentlab-projector")


class ChartTabs(W.VBox):
    """Charts one at a time under a row of buttons (like tabs).

    Every chart stays in the page, all in ONE cell of a grid, and only the selected one is
    visible (``visibility: hidden`` on the others): each is laid out at its real size, so
    bqplot never draws a figure at zero size (negative widths in the SVG, as in a hidden
    tab of a ``W.Tab``), and each figure's view is made once, at load.  (A ``W.Stack``
    makes a new view of a figure each time it is selected and leaves the old one alive but
    detached, still redrawing its axes at NaN positions on every change of its scales.)
    """

    selected_index = T.Int(0)

    def __init__(self, titles, children, **kw):
        children = list(children)
        self.buttons = W.ToggleButtons(options=[(t, i) for i, t in enumerate(titles)],
                                       value=0, style={"button_width": "auto"})
        for c in children:
            c.layout.grid_area = "chart"
        self.stack = W.GridBox(children, layout=W.Layout(grid_template_areas='"chart"'))
        super().__init__([self.buttons, self.stack], **kw)
        W.link((self.buttons, "value"), (self, "selected_index"))
        self.observe(self._shown, "selected_index")
        self._shown()

    def _shown(self, change=None) -> None:
        for i, c in enumerate(self.stack.children):
            c.layout.visibility = "visible" if i == self.selected_index else "hidden"

    def get_title(self, i: int) -> str:
        """The title of chart ``i`` (as ``W.Tab.get_title``)."""
        return self.buttons.options[i][0]
