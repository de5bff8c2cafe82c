r"""The data labs' other views: the mini-batch surface, the gradient noise, the metrics.

Same interface as :mod:`.charts` (``configure(style)``, ``draw(view)``, ``widget``).

* :class:`BatchSurface` -- for one-feature linear regression, :math:`L(w, b)` on the full
  training set and :math:`L_{\mathcal B_t}(w, b)` on the mini-batch of iteration
  :math:`t` (both from :func:`descentlab.engine.models.loss_grid`), each with every run's
  trajectory, the point :math:`\theta_{t-1}` the step started from and the direction of
  the full gradient (left) and of the mini-batch gradient the engine stepped with (right);
  both coloured by :func:`~descentlab.widgets.ui.figures.log_color` (as the models lab's
  slice);
* :class:`NoiseChart` -- the gradient noise
  :math:`\mathbb{E}\lVert g_{\mathcal B} - \nabla L\rVert^2` of each run at its batch size
  (points) and of the selected run over every batch size (line), log-log;
* :class:`MetricsPanel` -- the task's metrics on training and validation data per run at
  the shown iteration, with their formulas (:data:`descentlab.engine.metrics.FORMULAS`);
* :class:`DerivationPanel` -- why one learning rate fits F coordinates badly: the logistic
  gradient, its curvature, Adam's per-coordinate step, and the features' own scales.
"""

from __future__ import annotations

import html

import bqplot as bq
import ipywidgets as W
import numpy as np

from descentlab.engine import metrics
from descentlab.widgets.ui.figures import (
    EMPTY,
    Key,
    arrow_path,
    axis,
    drawable,
    figure,
    log_color,
    pin,
    set_lines,
    with_domain,
)
from descentlab.widgets.ui.format import num
from descentlab.widgets.ui.marks import heat_map, points, set_range, show_surface, xy_scales
from descentlab.widgets.ui.palette import SURFACE_COLORS

__all__ = ["BatchSurface", "NoiseChart", "MetricsPanel", "DerivationPanel", "DERIVATION"]


class BatchSurface:
    r"""Two heat maps of :math:`L(w, b)`: full data (left) and the current mini-batch
    (right), each with the runs' paths, points and gradient directions."""

    def __init__(self):
        self.panels = []
        figs = []
        for title in ("full-data loss L(w, b), −∇L", "mini-batch loss L_B(w, b), −g_B"):
            sx, sy, sc = xy_scales()
            heat = heat_map(sc, bq.ColorScale(colors=list(SURFACE_COLORS)))
            paths = bq.Lines(x=EMPTY, y=EMPTY, scales=sc,
                             stroke_width=2)
            arrows = bq.Lines(x=EMPTY, y=EMPTY,
                              scales=sc, stroke_width=2.5)
            dots = points(sc, default_size=60, stroke="black")
            figs.append(figure([heat, paths, arrows, dots],
                               [axis(sx, "w"), axis(sy, "b", side="left")], title,
                               width="380px", height="340px"))
            self.panels.append({"heat": heat, "paths": paths, "arrows": arrows,
                                "points": dots, "sx": sx, "sy": sy})
        self.key = Key()
        self.note = W.HTML()
        self.widget = W.VBox([W.HBox([*figs, self.key.widget]), self.note])
        self.box = None   # the session's SurfaceBox
        self._rows_shown = None

    def configure(self, style) -> None:
        self.box = box = style.surface
        self._rows_shown = None
        if box is None:
            self.note.value = ("<i>The loss surface L(w, b) is drawn for one-feature linear "
                               "regression (two parameters) only.</i>")
            return
        self.note.value = ("<span style='font-size:14px'>At iteration t: the batch the "
                           "engine drew, its loss surface, and the point θ<sub>t−1</sub> "
                           "the step started from with the full gradient (left) and the "
                           "mini-batch gradient (right) it stepped with.</span>")
        self.key.show(style.colors, style.labels, style.key_title, style.ramp)
        for p in self.panels:
            for name in ("paths", "arrows", "points"):
                p[name].colors = list(style.colors)
            set_range(p["sx"], *box.w_range)
            set_range(p["sy"], *box.b_range)
        show_surface(self.panels[0]["heat"], box.ws, box.bs, log_color(box.loss))

    def draw(self, view) -> None:
        sv, box = view.surface, self.box
        if sv is None or box is None:
            return
        key = (view.step, view.selected)
        if key != self._rows_shown:
            self._rows_shown = key
            show_surface(self.panels[1]["heat"], box.ws, box.bs, log_color(sv.loss))
        span = np.array([box.w_range[1] - box.w_range[0], box.b_range[1] - box.b_range[0]])
        size = 0.15 * float(np.hypot(*span))
        path = view.path[:, :, :2]
        for p, g in zip(self.panels, (sv.full_grad, sv.batch_grad), strict=True):
            norm = np.linalg.norm(g, axis=1, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                head = sv.point - size * g / np.where(norm > 0, norm, np.nan)
            ax, ay = arrow_path(sv.point, head, span)
            set_lines(p["paths"], path[:, :, 0], path[:, :, 1])   # (no all-NaN line)
            set_lines(p["arrows"], ax, ay)
            ok = np.isfinite(sv.point).all(axis=1)
            with p["points"].hold_sync():
                p["points"].x, p["points"].y = sv.point[ok, 0], sv.point[ok, 1]


class NoiseChart:
    r"""Gradient noise against batch size, log-log: each run's
    :math:`\mathbb{E}\lVert g_{\mathcal B}-\nabla L\rVert^2` at its own parameters (points;
    the full batch has none) and the selected run's over every batch size (grey line)."""

    def __init__(self, **size):
        self.sx, self.sy, sc = xy_scales(log=True)
        self.curve = bq.Lines(x=EMPTY, y=EMPTY, scales=sc,
                              colors=["#777777"], stroke_width=2)
        self.points = points(sc, default_size=90, stroke="black")
        self.figure = figure([self.curve, self.points],
                             [axis(self.sx, "batch size B", fmt=".0f"),
                              axis(self.sy, "E‖g_B − ∇L‖²", side="left", fmt=".0e",
                                   ticks=5)],
                             "gradient noise: mini-batch vs full gradient", **size)
        self.key = Key()
        self.widget = W.HBox([self.figure, self.key.widget])
        self.colors: tuple = ()
        self.sizes = np.zeros(0)
        pin(self.sx, None)            # log scales: never the default [0, 1] (log 0)
        pin(self.sy, None)

    def configure(self, style) -> None:
        self.colors = tuple(style.colors)
        self.sizes = np.asarray(style.batch_sizes, dtype=np.float64)
        self.key.show([*style.colors, "#777777"],
                      [*style.labels, "selected run, every B"], style.key_title)
        set_range(self.sx, 1.0, float(max(style.n_train, 2)))

    def draw(self, view) -> None:
        if (nv := view.noise) is None:      # the view was built without the noise part
            return
        ok = np.flatnonzero(np.isfinite(nv.noise) & (nv.noise > 0))
        xy = drawable(nv.sizes, nv.curve, positive=True)
        ys = np.concatenate([nv.noise[ok], [] if xy is None else np.ravel(xy[1])])

        def send():                   # (the log y scale pinned while nothing is finite)
            with self.points.hold_sync():
                self.points.x, self.points.y = self.sizes[ok], nv.noise[ok]
                self.points.colors = [self.colors[r] for r in ok] or ["black"]
            with self.curve.hold_sync():
                self.curve.x, self.curve.y = (EMPTY, EMPTY) if xy is None else xy

        with_domain(self.sy, ys if np.isfinite(ys).any() else None, send)


class MetricsPanel:
    """The task's metrics at the shown iteration, train and validation, per run, with
    their formulas."""

    def __init__(self):
        self.widget = W.HTMLMath(layout=W.Layout(min_width="420px"))
        self.values: dict[str, np.ndarray] = {}
        self.style = None

    def configure(self, style) -> None:
        self.style = style

    def draw(self, view) -> None:
        st = self.style
        self.values = vals = view.metrics
        if st is None or not vals:
            return
        names = st.metric_names
        head = "".join(f"<th colspan=2 style='padding:0 8px'>{m}</th>" for m in names)
        sub = "".join("<th>train</th><th>val</th>" for _ in names)
        rows = []
        for r, lab in enumerate(st.labels):
            cells = "".join(f"<td>{_cell(vals[f'train_{m}'][r])}</td>"
                            f"<td><b>{_cell(vals[f'val_{m}'][r])}</b></td>" for m in names)
            rows.append(f"<tr><td style='color:{st.colors[r]};font-weight:600;"
                        f"text-align:left'>{html.escape(lab)}</td>{cells}</tr>")
        formulas = "".join(f"<div>${metrics.FORMULAS[m]}$</div>" for m in names)
        self.widget.value = (f"<div style='font-size:14px'><b>metrics at iteration "
                             f"{view.step}</b><table style='text-align:right'><tr><th></th>"
                             f"{head}</tr><tr><th></th>{sub}</tr>{''.join(rows)}</table>"
                             f"{formulas}</div>")


def _cell(v: float) -> str:
    return "—" if not np.isfinite(v) else num(v)


DERIVATION = r"""
<div style='font-size:15px;line-height:1.5;max-width:760px'>
<b>Why one η fits {F} coordinates badly.</b>
Logistic regression: $p = \sigma(Xw + b)$, $L = -\frac1N\sum_n \bigl[y_n\log p_n
+ (1-y_n)\log(1-p_n)\bigr]$, and its gradient has one coordinate per feature:
$$\nabla_w L = \frac1N X^\top\bigl(\sigma(Xw+b) - y\bigr), \qquad
\frac{\partial L}{\partial w_i} = \frac1N\sum_n x_{ni}\,(p_n - y_n).$$
The size of coordinate $i$ follows feature $i$'s scale and how it lines up with the errors
$p_n - y_n$; the curvature $\nabla^2_w L = \frac1N X^\top \mathrm{diag}\bigl(p(1-p)\bigr) X$
is steep along some directions and nearly flat along others.  Gradient descent
$w \leftarrow w - \eta\,\nabla_w L$ moves every coordinate with the same $\eta$: large
enough for the flat directions, it overshoots along the steep ones (on a quadratic,
stability needs $\eta < 2/\lambda_{\max}$); small enough for the steep ones, it crawls
along the flat ones.<br>
<b>Adam</b> gives each coordinate its own step: $\hat m_t = \frac{m_t}{1-\beta_1^t}$,
$\hat v_t = \frac{v_t}{1-\beta_2^t}$ and
$$w_i \leftarrow w_i - \underbrace{\frac{\eta}{\sqrt{\hat v_{t,i}} + \epsilon}}_{\eta_i}
\,\hat m_{t,i},$$
with $\hat v_{t,i}$ the running mean of $g_i^2$: a coordinate with large gradients gets a
small $\eta_i$, one with small gradients a large $\eta_i$ (the chart's bars).  It rescales
each axis; it does not undo correlations between features.
</div>"""
"""The derivation panel's text (``{F}``: the number of features)."""


class DerivationPanel:
    """The derivation of the high-dimension lab (:data:`DERIVATION`) and the features'
    scales before standardization (the engine's :func:`descentlab.engine.data.standardize`
    statistics), with whether the runs see them standardized."""

    def __init__(self):
        self.widget = W.HTMLMath(layout=W.Layout(min_width="420px", max_width="780px"))
        self._shown = ""

    def configure(self, style) -> None:
        F = len(style.features)
        text = DERIVATION.replace("{F}", str(F))
        sc = None if style.scales is None else np.asarray(style.scales, dtype=np.float64)
        if sc is not None and sc.size == F and F:
            i, j = int(np.argmin(sc)), int(np.argmax(sc))
            text += (f"<div style='font-size:15px'>The raw features' standard deviations "
                     f"(training rows) run from {num(sc[i], 3)} "
                     f"(#{i + 1} {html.escape(style.features[i])}) to {num(sc[j], 3)} "
                     f"(#{j + 1} {html.escape(style.features[j])}): a ratio of "
                     f"{num(sc[j] / sc[i], 3)}. " +
                     ("The runs see them <b>standardized</b> on the training split, each "
                      "column scaled to standard deviation 1." if style.standardized else
                      "The runs see them <b>raw</b> (standardize off): one η cannot suit "
                      "both ends.") + "</div>")
        if text != self._shown:
            self._shown = self.widget.value = text

    def draw(self, view) -> None:
        """Nothing moves per frame: the text follows the configuration."""
