r"""The text panels of the models lab (``configure(style)``, ``draw(view)``, ``widget``).

* :class:`NumbersPanel` -- the loss and the task's metrics on train and validation at the
  point on screen (the engine's :func:`~descentlab.engine.training.evaluate`), their
  formulas, and the last gradient-descent step really taken with its own :math:`\eta`;
* :class:`CheckPanel` -- the analytic gradient beside central finite differences and
  their relative difference.
"""

from __future__ import annotations

import html

import ipywidgets as W

from descentlab.engine import metrics
from descentlab.widgets.ui.format import num, tex

from .build import CONVEXITY, LOSS_TEX

__all__ = ["NumbersPanel", "CheckPanel", "MAX_CHECK_ROWS"]

MAX_CHECK_ROWS = 16


class NumbersPanel:
    """Loss and metrics, train and validation, the formulas and the last step."""

    def __init__(self):
        self.widget = W.HTMLMath(layout=W.Layout(min_width="420px", max_width="560px"))
        self.model_name, self.names = "linear_regression", ("w", "b")

    def configure(self, style) -> None:
        self.model_name = style.model_name
        self.names = style.names

    def draw(self, view) -> None:
        v = view.values
        rows = [("loss L", v["train_loss"], v["val_loss"])]
        rows += [(m, v[f"train_{m}"], v[f"val_{m}"]) for m in view.metrics]
        body = "".join(f"<tr><td style='text-align:left'>{m}</td><td>{num(a)}</td>"
                       f"<td><b>{num(b)}</b></td></tr>" for m, a, b in rows)
        formulas = "".join(f"<div>${metrics.FORMULAS[m]}$</div>" for m in view.metrics)
        a, b = (html.escape(n) for n in self.names)
        if view.taken > 0:
            prev, g, eta, new = view.eq_prev, view.eq_grad, view.eq_lr, view.eq_point
            step = (f"<div>step {view.taken} (the last step taken, with its own η):</div>"
                    rf"<div>$({a}, {b}) = ({tex(prev[0])}, {tex(prev[1])}) - {tex(eta)}"
                    rf"\,({tex(g[0])}, {tex(g[1])}) = ({tex(new[0])}, {tex(new[1])})$</div>")
        else:
            step = (f"<div>step 0: the start ({a}, {b}) = ({num(view.point[0])}, "
                    f"{num(view.point[1])}) put by hand; next step "
                    rf"$\theta \leftarrow \theta - \eta\nabla L$ with η = {num(view.lr)}</div>")
        if view.stop:
            step += f"<div style='color:#8A3B00'><b>{html.escape(view.stop)}</b></div>"
        self.widget.value = (
            "<div style='font-size:14px'><b>loss and metrics at the point shown</b>"
            "<table style='text-align:right'><tr><th></th><th style='padding:0 10px'>train"
            "</th><th style='padding:0 10px'>validation</th></tr>"
            f"{body}</table><div>${LOSS_TEX[self.model_name]}$</div>{formulas}{step}"
            f"<div><b>Convexity.</b> {html.escape(CONVEXITY[self.model_name])}</div></div>")


class CheckPanel:
    """The gradient check at the point shown."""

    def __init__(self):
        self.widget = W.HTMLMath(layout=W.Layout(min_width="420px"))
        self.param_names, self.pair = ("w", "b"), (0, 1)

    def configure(self, style) -> None:
        self.param_names, self.pair = style.param_names, style.pair

    def draw(self, view) -> None:
        ga, gn, rel = view.check
        P = len(ga)
        idx = list(range(P)) if P <= MAX_CHECK_ROWS else list(self.pair)
        body = "".join(f"<tr><td style='text-align:left'>"
                       f"{html.escape(self.param_names[i])}</td>"
                       f"<td>{num(ga[i], 8)}</td><td>{num(gn[i], 8)}</td></tr>" for i in idx)
        note = "" if P <= MAX_CHECK_ROWS else (f"<div>showing the 2 hand coordinates of "
                                                f"{P}; the difference is over all {P}</div>")
        verdict = "agree" if rel < 1e-6 else "DISAGREE"
        self.widget.value = (
            "<div style='font-size:14px'><b>gradient check</b>"
            r"<div>$\frac{\partial L}{\partial \theta_d} \approx "
            r"\frac{L(\theta + h e_d) - L(\theta - h e_d)}{2h}$</div>"
            "<table style='text-align:right'><tr><th></th><th style='padding:0 10px'>"
            "analytic ∇L</th><th style='padding:0 10px'>finite difference</th></tr>"
            f"{body}</table>{note}"
            r"<div>relative difference $\frac{\lVert g_a - g_n\rVert}"
            r"{\lVert g_a\rVert + \lVert g_n\rVert}$ = "
            f"<b>{num(rel, 3)}</b> ({verdict})</div></div>")


