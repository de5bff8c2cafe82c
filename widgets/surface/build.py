r"""Configuration -> engine objects, built ONCE per validated configuration.

:func:`build` turns a :class:`~.config.Config` into a :class:`Built`: the problem, the
start point, the race of every run's optimizer (consecutive runs of one kind form one
block of :func:`descentlab.engine.optimizers.race` with an ``(n,)`` learning-rate array,
through :func:`descentlab.engine.kinds.build`, the only kind -> optimizer mapping) and
the stopping rules.  The model's validator calls it and keeps the result; the session
takes that same object (no second build).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from descentlab.engine import exercises, kinds, problems, schedules
from descentlab.engine import optimizers as O
from descentlab.engine.checks import hparam
from descentlab.engine.runner import Stopping

__all__ = ["Built", "build", "blocks", "schedule_kwargs", "make_schedule", "lr_plan",
           "stable_bound", "bounded_below"]


class Built(NamedTuple):
    """The engine objects of one configuration."""

    problem: object
    start: np.ndarray
    optimizer: object
    stopping: Stopping
    grad_noise: float | None = None   # σ for the runner (None: exact gradients)


def blocks(runs) -> list[tuple[str, np.ndarray]]:
    """Consecutive runs of one kind grouped: ``[(kind, lrs (n,)), ...]``."""
    out: list[tuple[str, list]] = []
    for run in runs:
        if out and out[-1][0] == run.kind:
            out[-1][1].append(run.lr)
        else:
            out.append((run.kind, [run.lr]))
    return [(k, np.array(v, dtype=np.float64)) for k, v in out]


def schedule_kwargs(name: str, lr, max_steps: int, overrides: dict | None = None) -> dict:
    """Arguments for ``schedules.get(name, ...)``: the run's ``lr`` as the schedule's peak,
    horizons from ``max_steps``, then ``overrides``."""
    T_ = max(int(max_steps), 2)
    base = {
        "constant": {"lr": lr},
        "step": {"lr": lr, "step_size": max(T_ // 4, 1), "gamma": 0.5},
        "multistep": {"lr": lr, "milestones": [T_ // 2, 3 * T_ // 4], "gamma": 0.1},
        "exponential": {"lr": lr, "gamma": float(0.01 ** (1.0 / T_))},
        "cosine": {"lr": lr, "T_max": T_},
        "linear": {"lr": lr, "start_factor": 1.0, "end_factor": 0.1, "total_iters": T_},
        "cyclic": {"base_lr": lr / 10, "max_lr": lr, "step_size_up": max(T_ // 8, 1)},
        "one_cycle": {"max_lr": lr, "total_steps": T_},
        "warmup_cosine": {"lr": lr, "warmup_steps": max(T_ // 10, 1), "total_steps": T_},
        "cosine_restarts": {"lr": lr, "T_0": max(T_ // 4, 1)},
    }
    if name not in base:
        raise ValueError(f"schedule must be one of {', '.join(schedules.names())}; got {name!r}")
    return {**base[name], **(overrides or {})}


def make_schedule(cfg, lr):
    """The schedule of runs with learning rate(s) ``lr``; a plain lr when constant."""
    if cfg.schedule == "constant" and not cfg.schedule_params:
        return lr
    return schedules.get(cfg.schedule, **schedule_kwargs(cfg.schedule, lr, cfg.max_steps,
                                                          cfg.schedule_params))


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
    return Built(problem, start, optimizer, stopping, noise)


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
