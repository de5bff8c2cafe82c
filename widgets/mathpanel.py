r"""The equations panel: the selected run's update rule with the current numbers in it.

For step :math:`t \ge 1` of run :math:`r` it shows :math:`\theta_{t-1}`, the gradient
:math:`g_t = \nabla L(\theta_{t-1})`, the optimizer's state and the update
:math:`u_t = \theta_t - \theta_{t-1}` substituted into the rule of its kind, e.g.

.. math:: \theta_t = \theta_{t-1} - \eta\, g_t

and a table of numbers (loss, gradient norm, learning rate, Adam's per-coordinate
effective step :math:`\eta / (\sqrt{\hat v_t} + \epsilon)`).  Rendering is throttled by
the app (a few times a second).
"""

from __future__ import annotations

import html

import ipywidgets as W
import numpy as np

__all__ = ["MathPanel", "equations", "numbers_table", "vec"]


def _num(x: float) -> str:
    if not np.isfinite(x):
        return r"\text{nan}"
    s = f"{x:.4g}"
    if "e" in s:
        m, e = s.split("e")
        return rf"{m}\times10^{{{int(e)}}}"
    return s


def vec(v) -> str:
    """A column vector in LaTeX."""
    return r"\begin{pmatrix}" + r"\\".join(_num(float(x)) for x in np.ravel(v)[:6]) + \
        r"\end{pmatrix}"


RULES = {
    "GD": r"\theta_t = \theta_{t-1} - \eta\, g_t",
    "Momentum": r"b_t = \mu b_{t-1} + g_t,\quad \theta_t = \theta_{t-1} - \eta\, b_t",
    "Nesterov": r"b_t = \mu b_{t-1} + g_t,\quad \theta_t = \theta_{t-1} - \eta\,(g_t + \mu b_t)",
    "AdaGrad": r"s_t = s_{t-1} + g_t^2,\quad \theta_t = \theta_{t-1} - "
               r"\eta\,\frac{g_t}{\sqrt{s_t}+\epsilon}",
    "RMSprop": r"v_t = \alpha v_{t-1} + (1-\alpha) g_t^2,\quad \theta_t = \theta_{t-1} - "
               r"\eta\,\frac{g_t}{\sqrt{v_t}+\epsilon}",
    "Adam": r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\ v_t = \beta_2 v_{t-1} + (1-\beta_2)"
            r" g_t^2,\ \theta_t = \theta_{t-1} - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t}+\epsilon}",
    "AdamW": r"\theta_t = \theta_{t-1}(1-\eta\lambda) - \eta\,"
             r"\frac{\hat m_t}{\sqrt{\hat v_t}+\epsilon}",
    "NAdam": r"\theta_t = \theta_{t-1} - \eta\,\frac{\mu_{t+1}\hat m_{t+1} + "
             r"(1-\mu_t)\hat g_t}{\sqrt{\hat v_t}+\epsilon}",
    "Adamax": r"u_t = \max(\beta_2 u_{t-1}, |g_t|+\epsilon),\ \theta_t = \theta_{t-1} - "
              r"\frac{\eta}{1-\beta_1^t}\frac{m_t}{u_t}",
    "Adadelta": r"\theta_t = \theta_{t-1} - \eta\,\frac{\sqrt{a_{t-1}+\epsilon}}"
                r"{\sqrt{v_t+\epsilon}}\, g_t",
}


def _adam_hats(q, r, t, cfg):
    m_hat = q["mu"][r] / (1 - cfg.b1 ** t)
    v_hat = q["nu"][r] / (1 - cfg.b2 ** t)
    return m_hat, v_hat


def equations(kind: str, cfg, history, quantities, step: int, r: int) -> str:
    """The LaTeX of run ``r``'s rule at ``step`` with numbers substituted."""
    rule = RULES.get(kind, r"\theta_t = \theta_{t-1} + u_t")
    if step < 1:
        return f"$${rule}$$<p>step 0: the start θ₀ = ${vec(history.params[0, r])}$</p>"
    prev, now = history.params[step - 1, r], history.params[step, r]
    g, u, lr = history.grad[step - 1, r], history.update[step, r], float(history.lr[step, r])
    q = quantities
    lines = [rule]
    if kind == "GD" and cfg.weight_decay == 0:
        lines.append(rf"{vec(now)} = {vec(prev)} - {_num(lr)}\,{vec(g)}")
    elif kind in ("Momentum", "Nesterov") and "velocity" in q:
        b = q["velocity"][r]
        lines.append(rf"\mu = {_num(cfg.momentum)},\ g_t = {vec(g)},\ b_t = {vec(b)}")
        if kind == "Momentum":
            lines.append(rf"{vec(now)} = {vec(prev)} - {_num(lr)}\,{vec(b)}")
        else:
            lines.append(rf"{vec(now)} = {vec(prev)} - {_num(lr)}\,\left({vec(g)} + "
                         rf"{_num(cfg.momentum)}\,{vec(b)}\right)")
    elif kind in ("Adam", "AdamW") and "mu" in q:
        m_hat, v_hat = _adam_hats(q, r, step, cfg)
        lines.append(rf"g_t = {vec(g)},\ \hat m_t = {vec(m_hat)},\ \hat v_t = {vec(v_hat)}")
        lines.append(rf"u_t = {vec(u)},\quad \theta_t = {vec(now)}")
    else:
        lines.append(rf"g_t = {vec(g)},\ u_t = {vec(u)},\ \theta_t = {vec(prev)} + {vec(u)} "
                     rf"= {vec(now)}")
    return "".join(f"$${line}$$" for line in lines)


def numbers_table(label: str, kind: str, cfg, history, quantities, step: int, r: int,
                  f_min) -> str:
    """An HTML table of the selected run's numbers at ``step``."""
    rows = [("run", html.escape(label)), ("step t", str(step)),
            ("L(θ_t)", f"{history.loss[step, r]:.6g}"),
            ("‖∇L(θ_t)‖", f"{np.linalg.norm(history.grad[step, r]):.4g}"),
            ("η (last step)", f"{history.lr[step, r]:.4g}"),
            ("‖u_t‖", f"{np.linalg.norm(history.update[step, r]):.4g}")]
    if f_min is not None:
        rows.insert(3, ("L − L*", f"{history.loss[step, r] - f_min:.3e}"))
    q = quantities
    if kind in ("Momentum", "Nesterov") and "velocity" in q:
        rows.append(("velocity b_t", np.array2string(q["velocity"][r], precision=4)))
    if kind in ("Adam", "AdamW", "NAdam") and "mu" in q and step >= 1:
        m_hat, v_hat = _adam_hats(q, r, step, cfg)
        eff = float(history.lr[step, r]) / (np.sqrt(v_hat) + 1e-8)
        rows.append(("first moment m̂_t", np.array2string(m_hat, precision=4)))
        rows.append(("effective step η/(√v̂+ε)", np.array2string(eff, precision=4)))
    body = "".join(f"<tr><td style='padding-right:12px'>{k}</td><td><code>{v}</code></td></tr>"
                   for k, v in rows)
    return f"<table style='font-size:15px'>{body}</table>"


class MathPanel:
    """``HTMLMath`` equations and an ``HTML`` numbers table for the selected run."""

    def __init__(self):
        self.math = W.HTMLMath(layout=W.Layout(min_height="120px"),
                               style={"font_size": "15px"})
        self.numbers = W.HTML()
        self.widget = W.VBox([self.math, self.numbers],
                             layout=W.Layout(width="100%", min_width="360px"))

    def render(self, session, step: int, r: int) -> None:
        cfg, h = session.cfg, session.history
        kind = cfg.runs[r][0]
        q = session.quantities.at(step)
        self.math.value = equations(kind, cfg, h, q, step, r)
        self.numbers.value = numbers_table(session.labels[r], kind, cfg, h, q, step, r,
                                           session.problem.f_min)
