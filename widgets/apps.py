"""The composed surface apps, each built in one line by a notebook.

>>> from descentlab.widgets import race_app
>>> race_app()                       # doctest: +SKIP

Every app returns its :class:`~descentlab.widgets.app.SurfaceLab` (displayable: it shows
its ``widget``), built paused at step 0.
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np
import traitlets as T

from descentlab.engine import problems, schedules

from .app import SurfaceLab
from .ui.controls import ErrorLine, bind
from .model import DEFAULT_LR, KINDS, LabModel

__all__ = ["race_app", "lr_explorer", "schedule_explorer", "RACE"]

RACE = ("GD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam", "AdamW")
_STYLE = {"description_width": "110px"}
_BOX = W.Layout(width="270px")


def _displayable(lab: SurfaceLab, widget: W.Widget) -> SurfaceLab:
    lab.widget = widget
    return lab


def _lr_box(model: LabModel, errors: ErrorLine) -> W.FloatText:
    """The selected run's learning rate, typed (so bad values reach the validator)."""
    box = W.FloatText(model.runs[model.selected][1], description="lr η (selected)",
                      style=_STYLE, layout=_BOX)
    busy = {"on": False}

    def push(change):
        if busy["on"]:
            return
        try:
            model.set_lr(change["new"])
            errors.clear()
        except T.TraitError as err:
            errors.show(str(err))
            pull(None)

    def pull(_):
        busy["on"] = True
        try:
            box.value = model.runs[model.selected][1]
        finally:
            busy["on"] = False

    box.observe(push, "value")
    model.observe(pull, ["runs", "selected"])
    return box


def _run_picker(model: LabModel) -> W.Dropdown:
    dd = W.Dropdown(options=[(lab, i) for i, lab in enumerate(model.labels)],
                    value=model.selected, description="inspect run", style=_STYLE, layout=_BOX)

    def refresh(_):
        opts = [(lab, i) for i, lab in enumerate(model.labels)]
        if list(dd.options) != opts:
            dd.options = opts
        dd.value = model.selected

    dd.observe(lambda c: setattr(model, "selected", c["new"]) if c["new"] is not None else None,
               "value")
    model.observe(refresh, ["runs", "selected"])
    return dd


def _common(model: LabModel, errors: ErrorLine) -> list[W.Widget]:
    return [
        bind(W.FloatText(description="weight decay λ", style=_STYLE, layout=_BOX),
             model, "weight_decay", errors),
        bind(W.IntText(description="max steps", style=_STYLE, layout=_BOX),
             model, "max_steps", errors),
        bind(W.FloatText(description="tolerance", style=_STYLE, layout=_BOX),
             model, "tolerance", errors),
    ]


def _tabs(lab: SurfaceLab, names) -> W.Tab:
    titles = {"loss": "loss", "bars": "speed", "traces": "parameters", "norm": "‖u‖",
              "schedule": "lr schedule"}
    present = [n for n in names if n in lab.charts]
    tab = W.Tab(children=[lab.charts[n].figure for n in present])
    for i, n in enumerate(present):
        tab.set_title(i, titles[n])
    return lab.watch_tabs(tab, present)


def _layout(lab: SurfaceLab, title: str, controls: list[W.Widget], right: W.Widget) -> W.VBox:
    head = W.HTML(f"<h3 style='margin:4px 0'>{title}</h3>")
    ctrl = W.VBox(controls, layout=W.Layout(width="290px"))
    charts = [lab.charts["surface"].figure] if "surface" in lab.charts else []
    main = W.HBox([ctrl, *charts, right], layout=W.Layout(flex_flow="row wrap"))
    bottom = [lab.math.widget] if lab.math is not None else []
    return W.VBox([head, main, lab.transport(), lab.timeline, lab.errors.widget, lab.status.widget,
                   W.HBox([*bottom, lab.export.widget],
                          layout=W.Layout(flex_flow="row wrap")), lab.clock])


def race_app(problem: str = "rosenbrock", optimizers=RACE, lrs=None, max_steps: int = 2000,
             **model_kw) -> SurfaceLab:
    """An optimizer race: every kind starts at the same point of the same surface.

    ``lrs`` maps kinds to learning rates (defaults: :data:`~.model.DEFAULT_LR`).  Click the
    surface to move the start; the charts show loss, steps to tolerance, parameters and
    update sizes of every run in one color each.
    """
    lr_of = {**DEFAULT_LR, **(lrs or {})}
    model = LabModel(problem=problem, runs=[(k, lr_of[k]) for k in optimizers],
                     max_steps=max_steps, **model_kw)
    lab = SurfaceLab(model, filename=f"race_{problem}.csv")
    e = lab.errors

    def kinds_to_runs(kinds):
        if not kinds:
            raise ValueError("choose at least one optimizer to race")
        current = dict(model.runs)
        return [(k, current.get(k, lr_of.get(k, 1e-3))) for k in kinds]

    controls = [
        bind(W.Dropdown(options=problems.names(), description="surface", style=_STYLE,
                        layout=_BOX), model, "problem", e),
        bind(W.SelectMultiple(options=KINDS, rows=6, description="optimizers", style=_STYLE,
                              layout=_BOX), model, "runs", e,
             to_model=kinds_to_runs, from_model=lambda runs: tuple(k for k, _ in runs)),
        _run_picker(model),
        _lr_box(model, e),
        bind(W.FloatSlider(min=0.0, max=0.99, step=0.01, description="momentum μ",
                           style=_STYLE, layout=_BOX), model, "momentum", e),
        bind(W.FloatText(description="Adam β₁", style=_STYLE, layout=_BOX), model, "b1", e),
        bind(W.FloatText(description="Adam β₂", style=_STYLE, layout=_BOX), model, "b2", e),
        *_common(model, e),
    ]
    right = _tabs(lab, ("loss", "bars", "traces", "norm"))
    return _displayable(lab, _layout(lab, f"Optimizer race on {problem}", controls, right))


def _sweep(lo: float, hi: float, n: int) -> np.ndarray:
    return np.geomspace(lo, hi, n) if n > 1 else np.array([lo])


def lr_explorer(kind: str = "GD", problem: str = "quadratic", condition: float = 20.0,
                angle: float = 30.0, lr_min: float | None = None, lr_max: float | None = None,
                n: int = 6, max_steps: int = 300, **model_kw) -> SurfaceLab:
    r"""One optimizer, a sweep of ``n`` learning rates on the ill-conditioned quadratic.

    The default sweep spans :math:`0.05` to :math:`1.05` times the stable bound
    :math:`2/L`, so the presenter sees crawling, oscillating and diverging runs.
    """
    params = {"condition": condition, "angle": angle} if problem == "quadratic" else {}
    surf = problems.get(problem, **params)
    bound = surf.stable_lr or 0.1
    lo = bound * 0.05 if lr_min is None else lr_min
    hi = bound * 1.05 if lr_max is None else lr_max
    model = LabModel(problem=problem, problem_params=params,
                     runs=[(kind, float(v)) for v in _sweep(lo, hi, n)], max_steps=max_steps,
                     **model_kw)
    lab = SurfaceLab(model, charts=("surface", "loss", "bars", "norm", "traces", "math"),
                     sequential=True, filename=f"lr_sweep_{problem}.csv")
    e = lab.errors
    info = W.HTML()
    lo_box = W.FloatText(lo, description="lr from", style=_STYLE, layout=_BOX)
    hi_box = W.FloatText(hi, description="lr to", style=_STYLE, layout=_BOX)
    n_box = W.IntSlider(n, min=1, max=32, description="runs", style=_STYLE, layout=_BOX)

    def resweep(_=None):
        try:
            if not (lo_box.value > 0 and hi_box.value >= lo_box.value):
                raise ValueError(f"the lr range must satisfy 0 < lr from <= lr to; got "
                                 f"[{lo_box.value:g}, {hi_box.value:g}]")
            model.sweep(model.runs[0][0], _sweep(lo_box.value, hi_box.value, n_box.value))
            e.clear()
        except (ValueError, T.TraitError) as err:
            e.show(str(err))

    def explain(_=None):
        p = lab.session.problem
        if p.curvature:
            info.value = (f"<span style='font-size:15px'>largest curvature L = "
                          f"{p.curvature:.4g}, condition κ = {p.condition or float('nan'):.4g}"
                          f": GD is stable for η &lt; 2/L = <b>{2 / p.curvature:.4g}</b></span>")
        else:
            info.value = "<span style='font-size:15px'>no constant curvature on this surface"\
                         "</span>"

    for w in (lo_box, hi_box, n_box):
        w.observe(resweep, "value")

    def kind_to_runs(k):
        return [(k, lr) for _, lr in model.runs]

    cond = W.FloatLogSlider(condition, base=10, min=0, max=3, description="condition κ",
                            style=_STYLE, layout=_BOX)
    ang = W.FloatSlider(angle, min=0, max=90, step=5, description="angle°", style=_STYLE,
                        layout=_BOX)

    def reshape(_=None):
        try:
            model.problem_params = {"condition": cond.value, "angle": ang.value}
            e.clear()
        except T.TraitError as err:
            e.show(str(err))

    if problem == "quadratic":
        cond.observe(reshape, "value")
        ang.observe(reshape, "value")
    model.observe(explain, ["problem", "problem_params"])
    explain()
    controls = [
        bind(W.Dropdown(options=KINDS, description="optimizer", style=_STYLE, layout=_BOX),
             model, "runs", e, to_model=kind_to_runs, from_model=lambda runs: runs[0][0]),
        *([cond, ang] if problem == "quadratic" else []),
        lo_box, hi_box, n_box, info, _run_picker(model),
        bind(W.FloatSlider(min=0.0, max=0.99, step=0.01, description="momentum μ",
                           style=_STYLE, layout=_BOX), model, "momentum", e),
        *_common(model, e),
    ]
    right = _tabs(lab, ("loss", "bars", "norm", "traces"))
    lab.resweep = resweep
    return _displayable(lab, _layout(lab, "Learning rate: too small crawls, too large "
                                          "diverges", controls, right))


def schedule_explorer(kind: str = "Momentum", schedule: str = "cosine", lr: float = 0.05,
                      problem: str = "quadratic", condition: float = 20.0, angle: float = 30.0,
                      max_steps: int = 200, compare: bool = True, **model_kw) -> SurfaceLab:
    """The learning-rate curve next to the training it drives.

    Every run follows the chosen schedule (torch's ``lr_scheduler`` values) from its own
    peak lr; with ``compare`` there are two runs, at ``lr`` and ``lr / 4``.
    """
    params = {"condition": condition, "angle": angle} if problem == "quadratic" else {}
    runs = [(kind, lr), (kind, lr / 4)] if compare else [(kind, lr)]
    model = LabModel(problem=problem, problem_params=params, runs=runs, schedule=schedule,
                     max_steps=max_steps, **model_kw)
    lab = SurfaceLab(model, charts=("surface", "schedule", "loss", "norm", "math"),
                     sequential=False, filename=f"schedule_{schedule}.csv")
    e = lab.errors
    controls = [
        bind(W.Dropdown(options=schedules.names(), description="schedule", style=_STYLE,
                        layout=_BOX), model, "schedule", e),
        bind(W.Dropdown(options=KINDS, description="optimizer", style=_STYLE, layout=_BOX),
             model, "runs", e, to_model=lambda k: [(k, r[1]) for r in model.runs],
             from_model=lambda runs: runs[0][0]),
        _run_picker(model),
        _lr_box(model, e),
        bind(W.FloatSlider(min=0.0, max=0.99, step=0.01, description="momentum μ",
                           style=_STYLE, layout=_BOX), model, "momentum", e),
        *_common(model, e),
    ]
    right = _tabs(lab, ("schedule", "loss", "norm"))
    return _displayable(lab, _layout(lab, "Learning-rate schedules", controls, right))
