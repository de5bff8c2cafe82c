r"""Configuration -> engine objects, built ONCE per validated configuration.

:func:`build` turns a :class:`~.config.Config` into a :class:`Built`: the problem, the
start point, the race of every run's optimizer (consecutive runs of one kind form one
block of :func:`descentlab.engine.optimizers.race` with an ``(n,)`` learning-rate array,
through :func:`descentlab.engine.kinds.build`, the only kind -> optimizer mapping) and
the stopping rules.  The model's validator calls it and keeps the result; the session
takes that same object (no second build).
"""

from __future__ import annotations

import inspect
from typing import NamedTuple

import numpy as np

from descentlab.engine import exercises, kinds, problems, runner, schedules
from descentlab.engine import optimizers as O
from descentlab.engine.checks import hparam
from descentlab.engine.runner import Stopping

__all__ = ["Built", "build", "blocks", "schedule_kwargs", "make_schedule", "make_plateau",
           "lr_plan", "stable_bound", "bounded_below", "PLATEAU", "SCHEDULES", "RUN_LR",
           "BASE_RATIO", "schedule_parameters", "editable", "ScheduleInfo", "describe",
           "CHOICES", "TORCH"]

PLATEAU = "reduce_on_plateau"
"""The schedule that reacts to each run's loss (:func:`descentlab.engine.runner.plateau`)."""

SCHEDULES = (*schedules.names(), PLATEAU)
"""The schedule menu: the engine's schedules of the step, then reduce-on-plateau."""

RUN_LR = ("lr", "max_lr")
"""Schedule arguments that are each run's own learning rate (its peak): set by the runs."""

BASE_RATIO = "base_lr_ratio"
"""``cyclic``'s ``base_lr`` as a fraction of each run's ``max_lr`` (the run's lr): one
control for runs with different rates; default 0.1."""

CHOICES = {"mode": ("triangular", "triangular2", "exp_range"),
           "anneal_strategy": ("cos", "linear"), "threshold_mode": ("rel", "abs")}
"""The allowed values of the schedules' text arguments (the engine checks them too)."""

TORCH = {"constant": "", "step": "StepLR", "multistep": "MultiStepLR",
         "exponential": "ExponentialLR", "cosine": "CosineAnnealingLR", "linear": "LinearLR",
         "cyclic": "CyclicLR", "one_cycle": "OneCycleLR",
         "warmup_cosine": "SequentialLR", "cosine_restarts": "CosineAnnealingWarmRestarts",
         PLATEAU: "ReduceLROnPlateau"}
"""The ``torch.optim.lr_scheduler`` class each schedule equals."""


class Built(NamedTuple):
    """The engine objects of one configuration."""

    problem: object
    start: np.ndarray
    optimizer: object
    stopping: Stopping
    grad_noise: float | None = None   # σ for the runner (None: exact gradients)
    plateau: runner.Plateau | None = None  # reduce-on-plateau (None: off)


def blocks(runs) -> list[tuple[str, np.ndarray]]:
    """Consecutive runs of one kind grouped: ``[(kind, lrs (n,)), ...]``."""
    out: list[tuple[str, list]] = []
    for run in runs:
        if out and out[-1][0] == run.kind:
            out[-1][1].append(run.lr)
        else:
            out.append((run.kind, [run.lr]))
    return [(k, np.array(v, dtype=np.float64)) for k, v in out]


def schedule_parameters(name: str) -> dict:
    """``{argument: default}`` of schedule ``name`` (the engine's signatures:
    :func:`descentlab.engine.schedules.parameters`, :func:`descentlab.engine.runner.plateau`)."""
    if name == PLATEAU:
        return {k: v.default for k, v in inspect.signature(runner.plateau).parameters.items()}
    if name not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}; got {name!r}")
    return schedules.parameters(name)


def editable(name: str) -> tuple[str, ...]:
    """The arguments of ``name`` a person sets (every one but the runs' own rate; cyclic's
    ``base_lr`` as :data:`BASE_RATIO`)."""
    return tuple(BASE_RATIO if k == "base_lr" else k for k in schedule_parameters(name)
                 if k not in RUN_LR)


def schedule_kwargs(name: str, lr, max_steps: int, overrides: dict | None = None) -> dict:
    """Arguments for ``schedules.get(name, ...)`` (or :func:`descentlab.engine.runner.plateau`):
    the run's ``lr`` as the schedule's peak, horizons from ``max_steps``, then ``overrides``
    (cyclic's :data:`BASE_RATIO` becomes ``base_lr = ratio * lr``)."""
    T_ = max(int(max_steps), 2)
    overrides = dict(overrides or {})
    if name == PLATEAU:
        defaults = schedule_parameters(PLATEAU)
        unknown = sorted(set(overrides) - set(defaults))
        if unknown:
            raise ValueError(f"schedule {PLATEAU!r} takes {', '.join(defaults)}; got "
                             f"{', '.join(unknown)}")
        return {**defaults, **overrides}
    ratio = overrides.pop(BASE_RATIO, 0.1) if name == "cyclic" else 0.1
    if not (isinstance(ratio, (int, float)) and 0.0 <= ratio <= 1.0):
        raise ValueError(f"base_lr / max_lr must be in [0, 1]; got {ratio!r}")
    base = {
        "constant": {"lr": lr},
        "step": {"lr": lr, "step_size": max(T_ // 4, 1), "gamma": 0.5},
        "multistep": {"lr": lr, "milestones": [T_ // 2, 3 * T_ // 4], "gamma": 0.1},
        "exponential": {"lr": lr, "gamma": float(0.01 ** (1.0 / T_))},
        "cosine": {"lr": lr, "T_max": T_},
        "linear": {"lr": lr, "start_factor": 1.0, "end_factor": 0.1, "total_iters": T_},
        "cyclic": {"base_lr": lr * ratio if ratio != 0.1 else lr / 10, "max_lr": lr,
                   "step_size_up": max(T_ // 8, 1)},
        "one_cycle": {"max_lr": lr, "total_steps": T_},
        "warmup_cosine": {"lr": lr, "warmup_steps": max(T_ // 10, 1), "total_steps": T_},
        "cosine_restarts": {"lr": lr, "T_0": max(T_ // 4, 1)},
    }
    if name not in base:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}; got {name!r}")
    return {**base[name], **overrides}


def make_schedule(cfg, lr):
    """The schedule of runs with learning rate(s) ``lr``; a plain lr when constant (and
    for reduce-on-plateau, whose reductions the runner applies: :func:`make_plateau`)."""
    if cfg.schedule == PLATEAU or (cfg.schedule == "constant" and not cfg.schedule_params):
        return lr
    return schedules.get(cfg.schedule, **schedule_kwargs(cfg.schedule, lr, cfg.max_steps,
                                                          cfg.schedule_params))


def make_plateau(cfg) -> runner.Plateau | None:
    """The runner's reduce-on-plateau rule of ``cfg`` (None for a schedule of the step)."""
    if cfg.schedule != PLATEAU:
        return None
    return runner.plateau(**schedule_kwargs(PLATEAU, None, cfg.max_steps, cfg.schedule_params))


class ScheduleInfo(NamedTuple):
    """What the schedule panel says: the formula (the engine's LaTeX), every argument's
    value now (``(name, value)``; the runs' rates as an ``(R,)`` array), the torch call."""

    name: str
    latex: str
    values: tuple
    torch: str
    lrs: tuple


def _arg(v) -> str:
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def describe(cfg) -> ScheduleInfo:
    """The schedule of ``cfg`` as the panel shows it (values as the engine builds them)."""
    name = cfg.schedule
    lrs = tuple(float(r.lr) for r in cfg.runs)
    if name == PLATEAU:
        kw = schedule_kwargs(PLATEAU, None, cfg.max_steps, cfg.schedule_params)
        every = kw.pop("every")
        call = (f"ReduceLROnPlateau(optimizer, mode='min', "
                f"{', '.join(f'{k}={_arg(v)}' for k, v in kw.items())}); "
                f"scheduler.step(L(θ_t)) after every {every} step{'s' if every > 1 else ''}")
        return ScheduleInfo(name, runner.PLATEAU_LATEX, tuple({**kw, "every": every}.items()),
                            call, lrs)
    given = schedule_kwargs(name, lrs[0], cfg.max_steps, cfg.schedule_params)
    kw = {k: given.get(k, d) for k, d in schedule_parameters(name).items()}  # + defaults
    ratio = dict(cfg.schedule_params).get(BASE_RATIO, 0.1)
    values = tuple((BASE_RATIO, ratio) if k == "base_lr" else (k, v) for k, v in kw.items()
                   if k not in RUN_LR)
    shown = {k: v for k, v in kw.items() if k not in RUN_LR}
    if "base_lr" in shown:
        shown["base_lr"] = f"{ratio:g}·η"
    if name == "constant":
        call = "no scheduler: optimizer lr = η"
    elif name == "warmup_cosine":
        w, T_ = kw["warmup_steps"], kw["total_steps"]
        call = (f"SequentialLR(optimizer, [LinearLR(optimizer, start_factor=1/{w + 1}, "
                f"total_iters={w}), CosineAnnealingLR(optimizer, T_max={T_ - w}, "
                f"eta_min={_arg(kw['eta_min'])})], milestones=[{w}])")
    else:
        extra = ", cycle_momentum=False" if name in ("cyclic", "one_cycle") else ""
        args = ", ".join(f"{k}={v if isinstance(v, str) and '·' in v else _arg(v)}"
                         for k, v in shown.items())
        call = f"{TORCH[name]}(optimizer, {args}{extra})"
    return ScheduleInfo(name, schedules.LATEX.get(name, ""), values, call, lrs)


def lr_plan(cfg, step: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(steps, lrs (R, n))``: the learning rates the schedule (the engine's) gives steps
    ``step + 1 .. max_steps`` of every run; None for a constant learning rate."""
    sched = make_schedule(cfg, np.array([r.lr for r in cfg.runs], dtype=np.float64))
    if not callable(sched) or step >= cfg.max_steps:
        return None
    counts = np.arange(step, cfg.max_steps)       # update t + 1 uses schedule(t)
    return counts + 1, np.broadcast_to(sched(counts), (len(cfg.runs), len(counts)))


def build(cfg) -> Built:
    """The engine objects of ``cfg``; ValueError (the engine's message) when one is bad."""
    problem = problems.get(cfg.problem, **cfg.problem_params)
    start = problem.start if cfg.start is None else np.array(cfg.start, dtype=np.float64)
    if start.shape != problem.start.shape or not np.all(np.isfinite(start)):
        raise ValueError(f"start must be a finite point of {problem.dim} coordinates, "
                         f"got {cfg.start!r}")
    parts = [(optimizer_of(kind, make_schedule(cfg, lrs), len(lrs), cfg), len(lrs))
             for kind, lrs in blocks(cfg.runs)]
    optimizer = O.race([p for p, _ in parts], [n for _, n in parts])
    _check_unused(cfg)
    stopping = Stopping(cfg.max_steps, cfg.grad_tol or None, cfg.loss_tol or None,
                        cfg.max_loss).validated()
    noise = hparam(cfg.grad_noise, "grad_noise", 0.0) or None
    return Built(problem, start, optimizer, stopping, noise, make_plateau(cfg))


def optimizer_of(kind: str, lr, n: int, cfg):
    """The engine optimizer of ``n`` runs of ``kind``: one of :mod:`engine.kinds`, or a
    student's step function from ``cfg.custom`` wrapped by
    :func:`descentlab.engine.exercises.as_optimizer` (its own hyperparameter defaults;
    a step that raises or returns nonsense stops its run as diverged, with the message)."""
    if kind in cfg.custom:
        return exercises.as_optimizer(None, cfg.custom[kind], lr=lr)
    return kinds.build(kind, lr, n, momentum=cfg.momentum, betas=(cfg.b1, cfg.b2),
                       alpha=cfg.alpha, rho=cfg.rho, weight_decay=cfg.weight_decay)


def uses(kind: str) -> tuple[str, ...]:
    """What ``kind`` reads besides lr and weight decay (a custom step: nothing shared)."""
    return kinds.uses(kind) if kind in kinds.KINDS else ()


PROBES = {"momentum": "Momentum", "betas": "Adam", "alpha": "RMSprop", "rho": "Adadelta"}
"""A kind that reads each shared hyperparameter: checks a value no raced kind uses yet."""


def _check_unused(cfg) -> None:
    """The engine's range check for hyperparameters no raced kind reads (so a value is
    refused now, not when a kind that reads it is picked)."""
    used = {u for r in cfg.runs for u in uses(r.kind)}
    values = {"momentum": cfg.momentum, "betas": (cfg.b1, cfg.b2), "alpha": cfg.alpha,
              "rho": cfg.rho}
    for name, kind in PROBES.items():
        if name not in used:
            kinds.build(kind, 0.01, 1, **{name: values[name]})


def stable_bound(problem, kind: str, momentum: float) -> tuple[float, str] | None:
    r"""``(bound, formula)``: the largest stable constant learning rate of ``kind`` on a
    surface of constant curvature (:func:`descentlab.engine.problems.stable_lr`: GD
    :math:`2/L`, heavy ball / Nesterov :math:`2(1+\mu)/L`); None when the surface has no
    constant curvature or the kind has no such bound."""
    if kind not in ("GD", "Momentum", "Nesterov"):
        return None
    mu = 0.0 if kind == "GD" else float(momentum)
    bound = problems.stable_lr(problem, mu)
    if bound is None:
        return None
    return float(bound), ("2/L" if kind == "GD" else "2(1+μ)/L")


def bounded_below(problem) -> bool:
    """Whether the surface has a minimum (False for the saddles: a run can fall forever);
    unknown counts as bounded."""
    return problems.bounded_below(problem) is not False
