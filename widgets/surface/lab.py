r"""The surface labs: :class:`SurfaceLab` (the shared wiring) and one subclass per app.

Data flow: a control -> :class:`~.config.SurfaceModel` (its validator builds the engine
objects once and keeps them) -> :meth:`SurfaceSession.update
<.session.SurfaceSession.update>` (restart, live retune recorded as an event, re-run, or
"press reset") -> :meth:`~descentlab.widgets.core.lab.Lab.configure` (the charts'
:class:`~.charts.Style`) and :meth:`~descentlab.widgets.core.lab.Lab.render` (one
:class:`~.session.View` for every chart on screen).

A lab creates only the charts it shows (``tabs``).  :class:`RaceLab` races kinds (one
log-scale learning-rate slider per raced kind), :class:`SweepLab` sweeps one kind's
learning rate, :class:`ScheduleLab` drives runs by a schedule.
"""

from __future__ import annotations

import html

import ipywidgets as W
import numpy as np
import traitlets as T

from descentlab.engine import kinds, problems
from descentlab.widgets.core.lab import Lab, Layout, Scene
from descentlab.widgets.ui.controls import BOX, STYLE, Field, field, on_edit
from descentlab.widgets.ui.format import num, shown_value
from descentlab.widgets.ui.palette import ramp_colors
from descentlab.widgets.ui.parse import parse_ints

from .build import CHOICES, PLATEAU, SCHEDULES, describe, editable, lr_plan
from .charts import LossChart, LrChart, NormChart, SpeedBars, Style, TraceChart
from .colors import kind_color
from .config import Config, Run, SurfaceModel, sweep_runs
from .landscape_notes import lesson
from .panels import SYMBOLS, MathPanel, SchedulePanel
from .session import SurfaceSession
from .surface_chart import SurfaceChart

__all__ = ["SurfaceLab", "RaceLab", "SweepLab", "ScheduleLab", "TAB_TITLES"]

TAB_TITLES = {"loss": "loss", "speed": "speed", "traces": "parameters", "norm": "‖u‖",
              "lr": "learning rate"}
_EDITS = [f for f in Config._fields if f != "sweep"] + ["sweeping", "sweep_from",
                                                         "sweep_to", "sweep_n"]


class SurfaceLab(Lab):
    """A lab on a 2-D loss surface.  ``tabs``: the chart names shown beside the surface
    (each created only when shown); ``lr_log``: the learning-rate chart's axis."""

    title = "descentlab"

    def __init__(self, model: SurfaceModel | None = None,
                 tabs=("loss", "speed", "traces", "norm", "lr"), math: bool = True,
                 filename: str = "history.csv", lr_log: bool = False, title: str = ""):
        self.model = model if model is not None else SurfaceModel()
        self.first_runs = tuple(self.model.runs)     # the app's runs (scenes start there)
        self.filename = filename
        self.title = title or self.heading()
        self.session = SurfaceSession(self.model.config(), self.model.built)
        self.session.selected = self.model.selected
        self.charts = {"surface": SurfaceChart(on_pick=self.pick_start)}
        make = {"loss": LossChart, "speed": SpeedBars, "traces": TraceChart,
                "norm": NormChart, "lr": lambda: LrChart(log=lr_log)}
        for name in tabs:
            self.charts[name] = make[name]()
        self.panels = self.make_panels() if math else {}
        self.layout = Layout(left=("surface",), tabs=[(TAB_TITLES[n], n) for n in tabs],
                             bottom=tuple(self.panels))
        self.picker = W.Dropdown(description="inspect run", style=STYLE, layout=BOX)
        self.lesson = W.HTMLMath(layout=W.Layout(max_width="900px"))
        self.model.observe(self._edited, _EDITS)
        self.model.observe(self._selected, "selected")
        self.start()

    def heading(self) -> str:
        """The heading: what is on screen (a subclass names its surface or topic)."""
        return self.title

    def make_panels(self) -> dict:
        """The text panels under the transport, in order (the equations by default)."""
        return {"math": MathPanel()}

    def schedule_info(self):
        """What the schedule panel says (None: a lab without one)."""
        return None

    # ---- the style every chart receives

    def style(self) -> Style:
        """The runs' colours (by kind, or by value in a sweep), labels and the surface."""
        s, cfg = self.session, self.session.cfg
        ks = tuple(r.kind for r in cfg.runs)
        if len(ks) > 1 and len(set(ks)) == 1:          # one kind at several values
            base = s.base_lrs
            lo, hi = (cfg.sweep[0], cfg.sweep[1]) if cfg.sweep else (min(base), max(base))
            colors, ramp, title = ramp_colors(base, lo, hi), ("η", base), f"{ks[0]}: η"
        else:
            colors, ramp, title = [kind_color(k) for k in ks], None, "runs"
        p = s.problem
        tol = num(cfg.tolerance, 3)
        crit = f"L − L* ≤ {tol}" if p.f_min is not None else f"‖∇L‖ ≤ {tol}"
        start = tuple(s.history.params[0, 0, :2])
        plan = lr_plan(cfg, s.step) if "lr" in self.charts else None
        return Style(ks, tuple(s.labels), tuple(colors), title, ramp, p, start, p.f_min,
                     cfg.tolerance, crit, plan, self.schedule_info())

    def configure(self) -> None:
        """Give the charts the style; refresh the run picker and the words."""
        super().configure()
        s = self.session
        opts = [(f"{i + 1}: {r.kind} η {num(lr, 3)}", i)
                for i, (r, lr) in enumerate(zip(s.cfg.runs, s.base_lrs, strict=True))]
        keep = min(self.model.selected, len(opts) - 1)
        if list(self.picker.options) != opts:
            self.picker.options = opts         # resets the picker to the first run
        if self.picker.value != keep:
            self.picker.value = keep
        p = s.problem
        formula = f"$${p.latex}$$" if p.latex else ""
        self.lesson.value = (f"<div style='font-size:15px'>{formula}"
                             f"{html.escape(lesson(p.name))}</div>")
        self.explain()

    def extra(self) -> list[W.Widget]:
        """Under the charts: the surface's formula and what it teaches."""
        return [self.lesson]

    def explain(self) -> None:
        """Words that depend on the surface (e.g. its stable learning rates)."""

    # ---- edits

    def _edited(self, change) -> None:
        try:
            what = self.session.update(self.model.config())
        except (ValueError, TypeError) as err:   # never into the frontend
            self.errors.show(str(err))
            return
        if change["name"] in ("problem", "problem_params"):
            self.retitle(self.heading())       # the heading follows the surface
        if what == "same":
            return
        self.restyle(latest=what in ("restarted", "rerun"))

    def _selected(self, change) -> None:
        self.session.selected = change["new"]
        if self.picker.value != change["new"]:
            self.picker.value = change["new"]
        self.render(self._view_step)
        self._panels_later.flush()

    def pick_start(self, x: float, y: float) -> None:
        """A click on the surface: the new start point (restarts the runs)."""
        try:
            self.model.start = (x, y)
        except T.TraitError as err:
            self.errors.show(str(err))

    # ---- controls shared by the apps

    def field(self, widget, name, **kw):
        """``widget`` bound to the model's ``name``, with its own error line beneath."""
        return field(widget, self.model, name, **kw)

    def inspect_control(self):
        """The run picker: whose step the arrows and the equations show."""
        self.picker.observe(self._picked, "value")
        return self.picker

    def _picked(self, change):
        if change["new"] is not None and change["new"] != self.model.selected:
            self.model.selected = change["new"]

    def lr_box(self):
        """The inspected run's learning rate, typed (a live retune: an event)."""
        m = self.model
        box = self.field(W.FloatText(description="lr η (inspected)", style=STYLE, layout=BOX),
                         "runs", to_model=lambda v: [r._replace(lr=float(v)) if i == m.selected
                                                     else r for i, r in enumerate(m.runs)],
                         from_model=lambda runs: runs[min(m.selected, len(runs) - 1)].lr)
        m.observe(lambda c: setattr(box.control, "value", m.runs[c["new"]].lr), "selected")
        return box

    def common(self) -> list[W.Widget]:
        """Momentum, weight decay and the convergence criteria (each stop is stated)."""
        f = self.field
        return [
            f(W.FloatSlider(min=0.0, max=0.99, step=0.01, description="momentum μ",
                            continuous_update=False, style=STYLE, layout=BOX), "momentum"),
            f(W.FloatText(description="weight decay λ", style=STYLE, layout=BOX),
              "weight_decay"),
            f(W.FloatText(description="gradient noise σ", style=STYLE, layout=BOX),
              "grad_noise"),
            W.HTML("<b>convergence criteria</b>"),
            f(W.IntText(description="max steps", style=STYLE, layout=BOX), "max_steps"),
            f(W.FloatText(description="‖∇L‖ tolerance", style=STYLE, layout=BOX),
              "grad_tol"),
            f(W.FloatText(description="ΔL tolerance", style=STYLE, layout=BOX), "loss_tol"),
            f(W.FloatText(description="speed tolerance", style=STYLE, layout=BOX),
              "tolerance"),
        ]

    def problem_control(self):
        """The surface picker (a new surface restarts; the heading follows)."""
        return self.field(W.Dropdown(options=problems.names(), description="surface",
                                     style=STYLE, layout=BOX), "problem")

    def kind_control(self):
        """One kind for every run (a sweep or a schedule comparison)."""
        return self.field(W.Dropdown(options=kinds.names(), description="optimizer",
                                     style=STYLE, layout=BOX), "runs",
                          to_model=lambda k: [r._replace(kind=k) for r in self.model.runs],
                          from_model=lambda runs: runs[0].kind)


class RaceLab(SurfaceLab):
    """Kinds raced from one start, each with its own log-scale learning-rate slider."""

    def __init__(self, model: SurfaceModel, lr_of: dict, **kw):
        self.lr_of = dict(lr_of)
        super().__init__(model, **kw)

    def heading(self) -> str:
        return f"Optimizer race on {self.model.problem.replace('_', ' ')}"

    def scenes(self) -> dict[str, Scene]:
        """The course's race scenes: a saddle, Adam vs AdamW, a learning rate too large,
        a network's two equivalent minima."""
        lr = {**{k: kinds.FIELD_LR[k] for k in kinds.names()}, **self.lr_of}
        base = [Run(k, lr[k]) for k in dict.fromkeys(r.kind for r in self.first_runs)]
        big = [r._replace(lr=r.lr * 10) if r.kind == "Momentum" else r for r in base]
        if not any(r.kind == "Momentum" for r in big):
            big = [*big, Run("Momentum", lr["Momentum"] * 10)]
        return {
            "saddle-escape": Scene(
                "escaping a saddle", {"problem": "saddle"},
                "x² − y² from just off the axis (y₀ = 0.01): GD's y grows only by 1 + 2η per "
                "step, Adam's first step is already η in y (it divides the tiny gradient by "
                "its own scale) -- watch the parameters tab"),
            "adam-vs-adamw": Scene(
                "Adam vs AdamW", {"problem": "rosenbrock", "weight_decay": 0.1,
                                  "runs": [Run("Adam", lr["Adam"]), Run("AdamW", lr["AdamW"])]},
                "λ = 0.1: Adam adds λθ to the gradient before its scaling, AdamW shrinks θ by "
                "ηλ directly; with λ = 0 the two lines coincide"),
            "lr-too-large": Scene(
                "a learning rate too large", {"problem": "rosenbrock", "runs": big},
                "Momentum's η ×10: the steep walls of the valley curve far more than "
                "2(1+μ)/η allows, and it diverges within a few steps"),
            "two-minima": Scene(
                "two minima (tanh net)", {"problem": "tanh_net", "momentum": 0.9,
                                          "runs": [Run("GD", 0.1), Run("Momentum", 0.02),
                                                   Run("Adam", 0.05)]},
                "a 2-unit tanh network's loss on the plane through its minimum (a = 1) and "
                "its unit-swapped twin (a = −1): GD and Adam settle in the near one, "
                "Momentum's velocity carries it over the ridge into the twin -- the same "
                "loss, a different θ"),
        }

    def lr_field(self, kind: str):
        """``kind``'s learning rate on a log slider: a live retune of its run (an event)."""
        m = self.model
        lr = self.lr_of.get(kind, kinds.FIELD_LR.get(kind, 1e-3))
        top = max(1, int(np.ceil(np.log10(lr))) + 1) if lr > 0 else 1
        slider = W.FloatLogSlider(value=lr, base=10, min=-7, max=top, step=0.01,
                                  description=f"η {kind}",
                                  readout_format=".3g", continuous_update=False,
                                  style=STYLE, layout=BOX)

        def lr_in(runs):
            return next((r.lr for r in runs if r.kind == kind), slider.value)

        return self.field(slider, "runs", from_model=lr_in,
                          to_model=lambda v: [r._replace(lr=float(v)) if r.kind == kind
                                              else r for r in m.runs])

    def controls(self) -> list[W.Widget]:
        """Surface, optimizers, one lr slider per raced kind, betas, criteria."""
        m = self.model
        names = (*kinds.names(), *m.custom)
        self.sliders = {k: self.lr_field(k) for k in names}
        box = W.VBox([self.sliders[k] for k in m.kinds])

        def to_runs(chosen):
            if not chosen:
                raise ValueError("choose at least one optimizer to race")
            lr = {r.kind: r.lr for r in m.runs}
            return [Run(k, lr.get(k, self.sliders[k].control.value)) for k in chosen]

        m.observe(lambda _: setattr(box, "children", [self.sliders[k] for k in m.kinds]),
                  "runs")
        f = self.field
        return [
            self.problem_control(),
            f(W.SelectMultiple(options=names, rows=6, description="optimizers",
                               style=STYLE, layout=BOX), "runs", to_model=to_runs,
              from_model=lambda runs: tuple(r.kind for r in runs)),
            W.HTML("<b>learning rates</b> (live: the change is marked)"), box,
            self.inspect_control(), self.lr_box(),
            f(W.FloatText(description="Adam β₁", style=STYLE, layout=BOX), "b1"),
            f(W.FloatText(description="Adam β₂", style=STYLE, layout=BOX), "b2"),
            *self.common(),
        ]


class SweepLab(SurfaceLab):
    """One kind at ``n`` learning rates log-spaced over a range (a change restarts)."""

    title = "Learning rate: too small crawls, too large diverges"

    def scenes(self) -> dict[str, Scene]:
        """The course's learning-rate scenes: just below 2/L, κ = 100, just above 2/L.
        Each names its runs too (they follow from the sweep), so a scene applied over the
        app's defaults -- once or twice -- ends with the sweep it names."""
        kind = self.first_runs[0].kind

        def sweep(lo, hi, n, **more):
            return {"sweep_from": lo, "sweep_to": hi, "sweep_n": n,
                    "runs": sweep_runs(kind, lo, hi, n), **more}

        return {
            "below-2-over-L": Scene(
                "just below 2/L", sweep(0.099, 0.099, 1, max_steps=600),
                "η = 0.099 < 2/L = 0.1: the steep coordinate is multiplied by 1 − 0.099·20 = "
                "−0.98 per step -- it zigzags and still converges, slowly"),
            "kappa-100": Scene(
                "condition number 100",
                sweep(0.001, 0.021, 6, max_steps=1000,
                      problem_params={"condition": 100.0, "angle": 30.0}),
                "κ = 100: the bound 2/L drops to 0.02; even the best run needs hundreds of "
                "steps (about κ/2 steps per factor e)"),
            "above-2-over-L": Scene(
                "just above 2/L", sweep(0.101, 0.101, 1, max_steps=1000),
                "η = 0.101 > 2/L = 0.1: the zigzag grows by 1.02 per step until the loss "
                "exceeds 10¹² (predict the step: ln(10¹²/L₀)/(2 ln 1.02))"),
        } if self.model.problem == "quadratic" else {}

    def controls(self) -> list[W.Widget]:
        """Optimizer, shape of the quadratic, lr range and runs, criteria."""
        m, f = self.model, self.field
        self.info = W.HTML()
        out = [self.kind_control()]
        if m.problem == "quadratic":
            params = dict(m.problem_params)
            out += [
                f(W.FloatLogSlider(params.get("condition", 20.0), base=10, min=0, max=3,
                                   description="condition κ", continuous_update=False,
                                   style=STYLE, layout=BOX), "problem_params",
                  to_model=lambda v: {**m.problem_params, "condition": float(v)},
                  from_model=lambda p: p.get("condition", 20.0)),
                f(W.FloatSlider(params.get("angle", 30.0), min=0, max=90, step=5,
                                description="angle°", continuous_update=False, style=STYLE,
                                layout=BOX), "problem_params",
                  to_model=lambda v: {**m.problem_params, "angle": float(v)},
                  from_model=lambda p: p.get("angle", 30.0)),
            ]
        out += [
            f(W.FloatText(description="lr from", style=STYLE, layout=BOX), "sweep_from"),
            f(W.FloatText(description="lr to", style=STYLE, layout=BOX), "sweep_to"),
            f(W.IntSlider(min=1, max=32, description="runs", continuous_update=False,
                          style=STYLE, layout=BOX), "sweep_n"),
            self.info, self.inspect_control(), *self.common(),
        ]
        self.explain()
        return out

    def explain(self) -> None:
        info = getattr(self, "info", None)
        if info is None:
            return
        p, mu = self.session.problem, self.session.cfg.momentum
        gd = problems.stable_lr(p, 0.0)
        if gd is None:
            info.value = ("<span style='font-size:15px'>no constant curvature on this "
                          "surface: no single stable bound</span>")
            return
        hb = problems.stable_lr(p, mu)
        info.value = (f"<span style='font-size:15px'>largest curvature L = "
                      f"{num(p.curvature)}, condition κ = {num(p.condition)}: GD is stable "
                      f"for η &lt; 2/L = <b>{num(gd)}</b>; heavy ball with μ = {num(mu)} for "
                      f"η &lt; 2(1+μ)/L = <b>{num(hb)}</b></span>")


class ParamField(Field):
    """One argument of the selected schedule: a control showing the value the engine
    builds now (``describe``), its own error line beneath.  An edit goes into
    ``schedule_params`` (validated by building the schedule); a rejected value shows the
    engine's message here and the control snaps back to the last good value."""

    def __init__(self, model: SurfaceModel, schedule: str, name: str, value):
        self.model, self.schedule, self.name = model, schedule, name
        sym = SYMBOLS.get(name, "")
        label = name if not sym or len(name) > 12 else f"{name} {_plain(sym)}"
        kw = {"description": label, "style": STYLE, "layout": BOX}
        if name in CHOICES:
            control, self.convert = W.Dropdown(options=CHOICES[name], **kw), str
        elif isinstance(value, bool):
            control, self.convert = W.Checkbox(indent=False, **kw), bool
        elif isinstance(value, list):
            control = W.Text(continuous_update=False, **kw)
            self.convert = lambda text: parse_ints(text, name)
        elif isinstance(value, int):
            control, self.convert = W.IntText(**kw), int
        else:
            control, self.convert = W.FloatText(**kw), float
        control.tooltip = f"torch's {name}"
        super().__init__(control)
        self._busy = False
        self.refresh()
        on_edit(control, self._pushed, self.errors, self.refresh,
                lambda: self._busy or self.model.schedule != self.schedule,
                (T.TraitError, ValueError, TypeError))

    def current(self):
        values = dict(describe(self.model.config()).values)
        v = values.get(self.name)
        if self.name == "step_size_down" and v is None:
            v = values.get("step_size_up")          # torch: None means = step_size_up
        return v

    def refresh(self) -> None:
        """Show the value the engine builds now (not an edit: not pushed back)."""
        if self.model.schedule != self.schedule:
            return
        v = self.current()
        shown = ", ".join(map(str, v)) if isinstance(v, list) else shown_value(v)
        self._busy = True
        try:
            self.control.value = shown
        finally:
            self._busy = False

    def _pushed(self, value) -> None:
        self.model.schedule_params = {**self.model.schedule_params,
                                      self.name: self.convert(value)}


def _plain(sym: str) -> str:
    """A formula symbol for a control's label (LaTeX commands to letters)."""
    for a, b in ((r"\gamma", "γ"), (r"\tau", "τ"), (r"\varepsilon", "ε"),
                 (r"\eta_{\min}", "η_min"), (r"\eta", "η")):
        sym = sym.replace(a, b)
    return sym if "\\" not in sym and "{" not in sym else ""


class ScheduleLab(SurfaceLab):
    """Runs driven by a learning-rate schedule; the lr chart shows what each run used.
    Every argument of the selected schedule is a control; changing the schedule swaps
    them; an edit re-runs the runs from step 0 under the new values."""

    def heading(self) -> str:
        return "Learning-rate schedules"

    def make_panels(self) -> dict:
        return {"schedule": SchedulePanel(), "math": MathPanel()}

    def schedule_info(self):
        return describe(self.session.cfg)

    def scenes(self) -> dict[str, Scene]:
        """The course's schedule scenes: cosine, one-cycle, step decay, reduce-on-plateau."""
        return {
            "cosine": Scene("cosine", {"schedule": "cosine"},
                            "η_t at t = T/2 is exactly half the peak; the decay is fastest "
                            "in the middle"),
            "one-cycle": Scene("one-cycle", {"schedule": "one_cycle"},
                               "starts at peak/25, reaches the peak at 30% of the run, ends "
                               "at peak/(2.5·10⁵)"),
            "step-decay": Scene("step decay", {"schedule": "step"},
                                "the lr halves every quarter of the run: look for a kink in "
                                "the loss at each drop"),
            "plateau": Scene("reduce on plateau", PLATEAU_SCENE,
                             PLATEAU_NOTE),
        }

    def controls(self) -> list[W.Widget]:
        """Schedule, its every argument, optimizer, the inspected run's lr, criteria."""
        self.params_box = W.VBox()
        self.param_fields: dict[str, dict[str, ParamField]] = {}
        self.params_note = W.HTML()
        self._swap_params()
        m = self.model
        m.observe(lambda _: self._swap_params(), "schedule")
        m.observe(lambda _: self._refresh_params(), ["schedule_params", "max_steps"])
        self.schedule_menu = self.schedule_control()
        return [
            self.schedule_menu,
            W.HTML("<b>schedule arguments</b> (an edit re-runs from step 0)"),
            self.params_note, self.params_box,
            self.kind_control(), self.inspect_control(), self.lr_box(), *self.common(),
        ]

    def schedule_control(self) -> Field:
        """The schedule menu; a new schedule starts from its own default arguments."""
        m = self.model
        box = Field(W.Dropdown(options=SCHEDULES, value=m.schedule, description="schedule",
                               style=STYLE, layout=BOX))
        busy = {"on": False}

        def show(name):
            busy["on"] = True
            try:
                box.control.value = name
            finally:
                busy["on"] = False

        def pushed(change):
            if busy["on"] or change["new"] == m.schedule:
                return
            try:
                m.set_schedule(change["new"])
            except (T.TraitError, ValueError) as err:
                box.errors.show(str(err))
                show(m.schedule)
            else:
                box.errors.clear()

        box.control.observe(pushed, "value")
        m.observe(lambda c: show(c["new"]), "schedule")
        return box

    def _swap_params(self) -> None:
        """The controls of the selected schedule's arguments (built once per schedule)."""
        name = self.model.schedule
        fields = self.param_fields.get(name)
        if fields is None:
            values = dict(describe(self.model.config()).values)
            fields = self.param_fields[name] = {
                k: ParamField(self.model, name, k, values.get(k, values.get("step_size_up")))
                for k in editable(name)}
        self.params_box.children = list(fields.values())
        for f in fields.values():
            f.errors.clear()
            f.refresh()
        self.params_note.value = (
            "<span style='color:#555'>each run's own lr η is the peak "
            "(<i>lr η (inspected)</i>)</span>" if name != PLATEAU else
            "<span style='color:#555'>watches each run's loss L(θ_t), mode min; starts "
            "from each run's lr</span>")

    def _refresh_params(self) -> None:
        for f in self.param_fields.get(self.model.schedule, {}).values():
            f.refresh()


PLATEAU_SCENE = {"schedule": "reduce_on_plateau",
                 "schedule_params": {"factor": 0.5, "patience": 10, "cooldown": 5,
                                     "min_lr": 1e-4},
                 "grad_noise": 1.0}
PLATEAU_NOTE = ("gradient noise σ = 1 holds the loss on a noise floor; after more than 10 steps "
                "without a loss 0.01% below the best the rate halves (then 5 steps of "
                "cooldown, never below min_lr = 10⁻⁴) and the floor sinks: dots on the "
                "learning-rate tab mark each drop")
