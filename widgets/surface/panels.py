r"""The equations panel: every raced optimizer's rule, and the inspected run's last real
step with its own numbers substituted.

``configure(style)`` writes the table of rules (:data:`RULES` covers every kind on offer;
only the kinds raced are shown).  ``draw(view)`` takes ``view.inspect``: the last step
the inspected run really took by the shown step -- after a stop that is the step before
the stop (a diverged step is not taken), shown with its own :math:`\eta` and the stop
reason.  Every number comes from the history or the engine's optimizer quantities; a
substituted equation is printed only when its printed operands reproduce the update the
engine took (else the panel prints :math:`\theta_t = \theta_{t-1} + u_t`, which always
holds).  The numbers are the engine's: :func:`descentlab.engine.optimizers.internals`
(bias-corrected moments with each optimizer's own correction, the per-coordinate
``eff_lr``), never recomputed here.
"""

from __future__ import annotations

import html

import ipywidgets as W
import numpy as np

from descentlab.engine import kinds
from descentlab.widgets.ui.format import num, tex, vec

__all__ = ["MathPanel", "SchedulePanel", "RULES", "SYMBOLS", "equations", "numbers_table",
           "schedule_html", "schedule_now_html"]

CUSTOM_RULE = r"\theta_t = \theta_{t-1} + u_t\quad(u_t\text{: your step function})"
"""A student's own optimizer: the update it returned, which always holds."""

RULES = {
    "GD": r"\theta_t = \theta_{t-1} - \eta\, g_t",
    "Momentum": r"b_t = \mu b_{t-1} + g_t,\quad \theta_t = \theta_{t-1} - \eta\, b_t",
    "Nesterov": r"b_t = \mu b_{t-1} + g_t,\quad \theta_t = \theta_{t-1} - \eta\,(g_t + \mu b_t)",
    "AdaGrad": r"s_t = s_{t-1} + g_t^2,\quad \theta_t = \theta_{t-1} - "
               r"\eta\,\frac{g_t}{\sqrt{s_t}+\epsilon}",
    "RMSprop": r"v_t = \alpha v_{t-1} + (1-\alpha) g_t^2,\quad \theta_t = \theta_{t-1} - "
               r"\eta\,\frac{g_t}{\sqrt{v_t}+\epsilon}",
    "Adam": r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\ v_t = \beta_2 v_{t-1} + (1-\beta_2)"
            r" g_t^2,\ \hat m_t = \frac{m_t}{1-\beta_1^t},\ \hat v_t = \frac{v_t}{1-\beta_2^t},"
            r"\ \theta_t = \theta_{t-1} - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t}+\epsilon}",
    "AdamW": r"\theta_t = \theta_{t-1}(1-\eta\lambda) - \eta\,"
             r"\frac{\hat m_t}{\sqrt{\hat v_t}+\epsilon}\quad(\hat m_t, \hat v_t\ "
             r"\text{as Adam})",
    "NAdam": r"\mu_t = \beta_1\bigl(1 - \tfrac12 0.96^{t\psi}\bigr),\ \theta_t = "
             r"\theta_{t-1} - \eta\,\frac{\frac{\mu_{t+1} m_t}{1-\prod_{i\le t+1}\mu_i} + "
             r"\frac{(1-\mu_t) g_t}{1-\prod_{i\le t}\mu_i}}{\sqrt{\hat v_t}+\epsilon}",
    "Adamax": r"u_t = \max(\beta_2 u_{t-1}, |g_t|+\epsilon),\ \theta_t = \theta_{t-1} - "
              r"\frac{\eta}{1-\beta_1^t}\frac{m_t}{u_t}",
    "Adadelta": r"v_t = \rho v_{t-1} + (1-\rho) g_t^2,\ \Delta_t = \frac{\sqrt{a_{t-1}+"
                r"\epsilon}}{\sqrt{v_t+\epsilon}}\, g_t,\ a_t = \rho a_{t-1} + (1-\rho)"
                r"\Delta_t^2,\ \theta_t = \theta_{t-1} - \eta\,\Delta_t",
}
"""The update rule of every kind on offer (torch's form; :math:`g_t` includes
:math:`\\lambda\\theta_{t-1}` when weight decay is on, except AdamW's decoupled decay)."""

QUANTITY_NAMES = {"velocity": "b_t", "m": "m_t", "v": "v_t", "m_hat": r"\hat m_t",
                  "v_hat": r"\hat v_t", "eff_lr": r"\eta^{\mathrm{eff}}_t", "sum_sq": "G_t",
                  "u_inf": "u_t", "acc_delta": "a_t", "grad_avg": r"\bar g_t",
                  "v_max": r"v^{\max}_t", "lookahead": r"(g_t + \mu b_t)"}
"""How the engine's quantities (:func:`descentlab.engine.optimizers.internals`) are written."""

DIRECTION = {"GD": "grad", "Momentum": "velocity", "Nesterov": "lookahead",
             "AdaGrad": "grad", "RMSprop": "grad", "Adam": "m_hat", "AdamW": "m_hat",
             "NAdam": "m_hat", "Adamax": "m_hat", "Adadelta": "grad"}
r"""The direction :math:`d_t` each kind steps along: :math:`u_t = -\eta^{\rm eff}_t \odot d_t`
(the engine's ``eff_lr``; SGD's is :math:`\eta`)."""

SCALAR_LR = ("GD", "Momentum", "Nesterov")


def _holds(lhs, rhs) -> bool:
    """The printed operands give the update the engine took (to display precision)."""
    lhs, rhs = np.asarray(lhs, float), np.asarray(rhs, float)
    return bool(np.all(np.isfinite(rhs)) and np.allclose(lhs, rhs, rtol=1e-6, atol=1e-300))


def equations(ins) -> str:
    """The LaTeX of the inspected run's last real step, numbers substituted."""
    rule = RULES.get(ins.kind, CUSTOM_RULE)
    if ins.step < 1:
        return (f"$${rule}$$<p>step 0: the start "
                f"$\\theta_0 = {vec(ins.theta)}$ (no step taken yet)</p>")
    g, prev, now, u, lr, q, t = (ins.grad, ins.theta_prev, ins.theta, ins.update, ins.lr,
                                 ins.quantities, ins.step)
    key = DIRECTION[ins.kind]
    d = g if key == "grad" else q.get(key)
    name = "g_t" if key == "grad" else QUANTITY_NAMES[key]
    lines = [rule, rf"t = {t}"]
    shown = [rf"{QUANTITY_NAMES.get(k, k)} = {vec(v)}" for k, v in q.items()
             if k in ("velocity", "m_hat", "v_hat")]
    lines.append(rf"g_t = {vec(g)}" + "".join(rf",\ {s}" for s in shown))
    if d is not None and ins.kind in SCALAR_LR and _holds(u, -lr * d):
        lines.append(rf"\theta_t = \theta_{{t-1}} - \eta\,{name}:\ {vec(now)} = {vec(prev)}"
                     rf" - {tex(lr)}\,{vec(d)}")
    elif d is not None and "eff_lr" in q and _holds(u, -q["eff_lr"] * d):
        lines.append(rf"\theta_t = \theta_{{t-1}} - \eta^{{\mathrm{{eff}}}}_t \odot {name}:\ "
                     rf"{vec(now)} = {vec(prev)} - {vec(q['eff_lr'])} \odot {vec(d)}")
    else:
        lines.append(rf"\theta_t = \theta_{{t-1}} + u_t:\ {vec(now)} = {vec(prev)} + {vec(u)}")
    return "".join(f"$${x}$$" for x in lines)


def numbers_table(ins, f_min) -> str:
    """An HTML table of the inspected run's last real step."""
    rows = [("run", html.escape(ins.label)), ("step t", str(ins.step)),
            ("L(θ_t)", num(ins.loss, 6))]
    if f_min is not None:
        rows.append(("L − L*", num(ins.loss - f_min, 4)))
    if ins.grad_noise:
        rows.append(("gradient noise σ", f"{num(ins.grad_noise)} (g_t is the noisy "
                                         f"gradient the optimizer saw)"))
    if ins.step >= 1:
        rows += [("‖g_t‖ = ‖∇L(θ_{t−1})‖" + (" + noise" if ins.grad_noise else ""),
                  num(np.linalg.norm(ins.grad))),
                 ("η_t (this step's)", num(ins.lr)),
                 ("‖u_t‖", num(np.linalg.norm(ins.update)))]
    for k, v in ins.quantities.items():
        rows.append((k, " ".join(num(x) for x in np.ravel(v))))
    body = "".join(f"<tr><td style='padding-right:12px'>{k}</td><td><code>{v}</code></td></tr>"
                   for k, v in rows)
    return f"<table style='font-size:15px'>{body}</table>"


class MathPanel:
    """The rules of the raced kinds, and the inspected run's last real step."""

    def __init__(self):
        self.rules = W.HTMLMath(style={"font_size": "14px"})
        self.head = W.HTML()
        self.math = W.HTMLMath(layout=W.Layout(min_height="120px"),
                               style={"font_size": "15px"})
        self.numbers = W.HTML()
        self.widget = W.VBox([self.rules, self.head, self.math, self.numbers],
                             layout=W.Layout(width="100%", min_width="360px"))
        self.f_min = None

    def configure(self, style) -> None:
        self.f_min = style.f_min
        raced = [k for k in dict.fromkeys(style.kinds)]
        raced = [k for k in kinds.names() if k in raced] + [k for k in raced if k not in RULES]
        rows = "".join(f"<tr><td style='padding-right:10px'><b>{html.escape(k)}</b></td>"
                       f"<td>$${RULES.get(k, CUSTOM_RULE)}$$</td></tr>" for k in raced)
        self.rules.value = f"<table>{rows}</table>"

    def draw(self, view) -> None:
        ins = view.inspect
        if ins is None:
            return
        head = ""
        if ins.stop:
            head = (f"<div style='color:#8A3B00;font-size:15px'>{html.escape(ins.stop)} "
                    f"The last step really taken was step {ins.step}"
                    f"{f' (η = {num(ins.lr)})' if ins.step else ''}:</div>")
        self.head.value = head
        self.math.value = equations(ins)
        self.numbers.value = numbers_table(ins, self.f_min)


SYMBOLS = {"gamma": r"\gamma", "step_size": "s", "milestones": "m_i", "T_max": "T",
           "eta_min": r"\eta_{\min}", "start_factor": "a", "end_factor": "b",
           "total_iters": "n", "base_lr_ratio": r"\eta_{\mathrm{base}}/\eta_{\max}",
           "step_size_up": "u", "step_size_down": "d", "mode": "s_t", "pct_start": "p",
           "div_factor": r"\eta_{\max}/\eta_0", "final_div_factor": r"\eta_0/\eta_{\min}",
           "anneal_strategy": "", "three_phase": "", "warmup_steps": "w", "total_steps": "T",
           "T_0": "T_0", "T_mult": r"T_{\mathrm{mult}}", "factor": r"\gamma",
           "patience": "p", "threshold": r"\tau", "threshold_mode": "", "cooldown": "",
           "min_lr": r"\eta_{\min}", "eps": r"\varepsilon", "every": "k"}
"""How each schedule argument is written in the formulas (``""``: by its name only)."""


def _shown(v) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return num(v)
    if isinstance(v, (list, tuple)):
        return ", ".join(_shown(x) for x in v) or "none"
    return html.escape(str(v))


def schedule_html(info) -> str:
    """The schedule's formula (the engine's LaTeX) with every argument's value now."""
    if info is None:
        return ""
    name = "reduce-on-plateau" if info.name == "reduce_on_plateau" else info.name
    rows = []
    for k, v in info.values:
        sym = SYMBOLS.get(k, "")
        if k == "step_size_down" and v is None:
            v = dict(info.values).get("step_size_up")
        rows.append(f"${sym}$ = {_shown(v)} (<code>{html.escape(k)}</code>)" if sym else
                    f"<code>{html.escape(k)}</code> = {_shown(v)}")
    lrs = ", ".join(num(x) for x in info.lrs)
    peak = ("η = each run's rate at the start" if info.name == "reduce_on_plateau"
            else "η (η_max) = each run's own lr")
    where = "; ".join(rows) if rows else "no argument besides η"
    return (f"<div style='font-size:15px'><b>schedule: {html.escape(name)}</b>"
            f"$${info.latex}$$<div>where {where}; {peak}: {lrs}</div>"
            f"<div style='color:#555'>torch: <code>{html.escape(info.torch)}</code></div>"
            f"</div>")


def schedule_now_html(view) -> str:
    """The rate each run used at the shown step, every plateau drop so far and (for
    reduce-on-plateau) the state of the rule after the latest step."""
    if view.lr_now is None:
        return ""
    used = ", ".join(f"run {r + 1}: {num(x)}" for r, x in enumerate(view.lr_now))
    out = [f"<div>η used by step {view.step}: {used}</div>"]
    if view.plateau is not None:
        per_run: dict[int, list] = {}
        for d in view.drops:
            per_run.setdefault(d[1], []).append(d)
        drops = "; ".join(
            f"run {r + 1}: {len(ds)} (last {num(ds[-1][2])} → {num(ds[-1][3])} from step "
            f"{ds[-1][0] + 1})" for r, ds in sorted(per_run.items())) or "none yet"
        out.append(f"<div>plateau drops by step {view.step}: {drops}</div>")
        latest, st = view.plateau
        rows = ", ".join(
            f"run {r + 1}: best L {num(st.best[r])}, bad evaluations {int(st.bad_epochs[r])},"
            f" cooldown left {int(st.cooldown_counter[r])}" for r in range(st.lr.shape[0]))
        out.append(f"<div style='color:#555'>after step {latest} (the latest): {rows}</div>")
    return "<div style='font-size:15px'>" + "".join(out) + "</div>"


class SchedulePanel:
    """The schedule's formula with its arguments now, and the rates the runs used."""

    def __init__(self):
        self.rule = W.HTMLMath()
        self.now = W.HTML()
        self.widget = W.VBox([self.rule, self.now],
                             layout=W.Layout(width="100%", min_width="360px"))

    def configure(self, style) -> None:
        self.rule.value = schedule_html(getattr(style, "schedule", None))

    def draw(self, view) -> None:
        self.now.value = schedule_now_html(view)
