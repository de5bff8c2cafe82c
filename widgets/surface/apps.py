"""The surface apps, each built in one line by a notebook.

>>> from descentlab.widgets import race_app
>>> race_app()                       # doctest: +SKIP

Every app returns its lab (displayable by itself), built paused at step 0.
"""

from __future__ import annotations

from descentlab.engine import problems

from .config import Run, SurfaceModel
from .lab import RaceLab, ScheduleLab, SweepLab

__all__ = ["race_app", "lr_explorer", "schedule_explorer", "RACE", "RACE_LR"]

RACE = ("GD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam", "AdamW")
RACE_LR = {"GD": 1e-3, "Momentum": 5e-4, "Nesterov": 5e-4, "AdaGrad": 0.5, "RMSprop": 1e-2,
           "Adam": 5e-2, "AdamW": 5e-2, "NAdam": 5e-2, "Adamax": 0.1, "Adadelta": 1.0}
"""Starting learning rates that make a readable race on the named surfaces."""


CUSTOM_LR = 0.05
"""A student's optimizer starts at this lr on the surfaces (the race's Adam rate)."""


def race_app(problem: str = "rosenbrock", optimizers=RACE, lrs=None, max_steps: int = 2000,
             custom=None, **model_kw) -> RaceLab:
    """An optimizer race: every kind starts at the same point of the same surface.

    ``lrs`` maps kinds to learning rates (defaults: :data:`RACE_LR`); each raced kind
    has a log-scale slider that retunes its run live.  Click the surface to move the
    start; the charts show loss, steps to tolerance, parameters, update sizes and the
    learning rates used, one fixed colour per kind.

    ``custom`` maps names to from-scratch step functions (``adam_step`` and friends of
    :mod:`descentlab.engine.exercises`): each races as its own run beside the engine's,
    on every surface, through :func:`~descentlab.engine.exercises.as_optimizer`
    (starting lr :data:`CUSTOM_LR` unless ``lrs`` names it), e.g.
    ``race_app(custom={"my adam": adam_step})``.
    """
    custom = dict(custom or {})
    lr_of = {**RACE_LR, **{name: CUSTOM_LR for name in custom}, **(lrs or {})}
    names = [*optimizers, *(k for k in custom if k not in optimizers)]
    model = SurfaceModel(problem=problem, custom=custom, max_steps=max_steps, **model_kw)
    model.runs = [Run(k, lr_of[k]) for k in names]
    return RaceLab(model, lr_of, filename=f"race_{problem}.csv", lr_log=True)


def lr_explorer(kind: str = "GD", problem: str = "quadratic", condition: float = 20.0,
                angle: float = 30.0, lr_min: float | None = None, lr_max: float | None = None,
                n: int = 6, max_steps: int = 300, **model_kw) -> SweepLab:
    r"""One optimizer, a sweep of ``n`` learning rates on the ill-conditioned quadratic.

    The default sweep spans :math:`0.05` to :math:`1.05` times the stable bound
    :math:`2/L`, so the presenter sees crawling, oscillating and diverging runs.  A
    change of the range or of the number of runs restarts; runs are coloured by value.
    """
    params = {"condition": condition, "angle": angle} if problem == "quadratic" else {}
    bound = problems.stable_lr(problems.get(problem, **params)) or 0.1
    lo = bound * 0.05 if lr_min is None else lr_min
    hi = bound * 1.05 if lr_max is None else lr_max
    model = SurfaceModel(problem=problem, problem_params=params, runs=[Run(kind, lo)],
                         sweeping=True, sweep_from=float(lo), sweep_to=float(hi), sweep_n=n,
                         max_steps=max_steps, **model_kw)
    return SweepLab(model, tabs=("loss", "speed", "norm", "traces", "lr"), lr_log=True,
                    filename=f"lr_sweep_{problem}.csv")


def schedule_explorer(kind: str = "Momentum", schedule: str = "cosine", lr: float = 0.05,
                      problem: str = "quadratic", condition: float = 20.0, angle: float = 30.0,
                      max_steps: int = 200, compare: bool = True, **model_kw) -> ScheduleLab:
    """The learning-rate curve next to the training it drives.

    Every run follows the chosen schedule (torch's ``lr_scheduler`` values) from its own
    peak lr; with ``compare`` there are two runs, at ``lr`` and ``lr / 4``.  ``schedule``
    is one of :data:`.build.SCHEDULES`: the engine's schedules of the step, or
    ``"reduce_on_plateau"`` (torch's ``ReduceLROnPlateau`` stepped on each run's loss).
    Every argument of the selected schedule is a control; a new schedule or argument
    re-runs the runs from step 0 to the step shown.  The lr chart draws the rate each run
    used (plateau drops dotted); the schedule panel states the formula with its values.
    """
    params = {"condition": condition, "angle": angle} if problem == "quadratic" else {}
    runs = [Run(kind, lr), Run(kind, lr / 4)] if compare else [Run(kind, lr)]
    model = SurfaceModel(problem=problem, problem_params=params, runs=runs, schedule=schedule,
                         max_steps=max_steps, **model_kw)
    return ScheduleLab(model, tabs=("lr", "loss", "norm"), filename=f"schedule_{schedule}.csv")
