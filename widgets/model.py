r"""The lab's model: a ``traitlets.HasTraits`` that holds the configuration, knows no widgets.

Every trait is validated by building the engine objects it feeds (problem, optimizer,
schedule, stopping rules) with the proposed value, so a bad value is rejected with the
engine's own message ("lr must be in [0, inf); got -1") and the trait keeps its last
good value.  :meth:`LabModel.config` is an immutable snapshot that the session turns
into engine objects (:func:`make_problem`, :func:`make_optimizer`, :func:`make_stopping`).

Runs.  ``runs`` is a list of ``(kind, lr)`` pairs, one per run: a race lists several
kinds, a learning-rate sweep repeats one kind.  Consecutive runs of one kind form one
block of :func:`descentlab.engine.optimizers.race` with an ``(n,)`` lr array, so the
whole race is one vectorized computation.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import traitlets as T

from descentlab.engine import optimizers as O
from descentlab.engine import problems, schedules
from descentlab.engine.runner import Stopping

__all__ = ["KINDS", "DEFAULT_LR", "LabModel", "Config", "make_problem", "make_optimizer",
           "make_schedule", "make_stopping", "schedule_kwargs", "blocks", "run_labels",
           "lr_of_schedule"]

KINDS = ("GD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam", "AdamW", "NAdam",
         "Adamax", "Adadelta")
"""Optimizer kinds a run can have (torch: SGD, SGD(momentum), SGD(nesterov), ...)."""

DEFAULT_LR = {"GD": 1e-3, "Momentum": 5e-4, "Nesterov": 5e-4, "AdaGrad": 0.5, "RMSprop": 1e-2,
              "Adam": 5e-2, "AdamW": 5e-2, "NAdam": 5e-2, "Adamax": 0.1, "Adadelta": 1.0}
"""Starting learning rates that make a readable race on the named surfaces."""

# Which knobs each kind uses: the equations panel and the controls read this too.
USES = {
    "GD": ("weight_decay",),
    "Momentum": ("momentum", "weight_decay"),
    "Nesterov": ("momentum", "weight_decay"),
    "AdaGrad": ("weight_decay",),
    "RMSprop": ("alpha", "weight_decay"),
    "Adam": ("b1", "b2", "weight_decay"),
    "AdamW": ("b1", "b2", "weight_decay"),
    "NAdam": ("b1", "b2", "weight_decay"),
    "Adamax": ("b1", "b2", "weight_decay"),
    "Adadelta": ("rho", "weight_decay"),
}


class Config(NamedTuple):
    """An immutable snapshot of a :class:`LabModel` (what the session needs)."""

    problem: str
    problem_params: dict
    runs: tuple
    momentum: float
    b1: float
    b2: float
    alpha: float
    rho: float
    weight_decay: float
    schedule: str
    schedule_params: dict
    max_steps: int
    grad_tol: float
    loss_tol: float
    max_loss: float
    tolerance: float
    start: tuple | None
    seed: int


# ---------------------------------------------------------------- engine builders


def make_problem(cfg: Config):
    return problems.get(cfg.problem, **cfg.problem_params)


def blocks(runs) -> list[tuple[str, np.ndarray]]:
    """Consecutive runs of one kind grouped: ``[(kind, lrs (n,)), ...]``."""
    out: list[tuple[str, list]] = []
    for kind, lr in runs:
        if out and out[-1][0] == kind:
            out[-1][1].append(lr)
        else:
            out.append((kind, [lr]))
    return [(k, np.array(v, dtype=np.float64)) for k, v in out]


def run_labels(runs) -> list[str]:
    """``"Adam η=0.05"`` per run (the kind alone when every kind appears once)."""
    kinds = [k for k, _ in runs]
    if len(set(kinds)) == len(kinds):
        return list(kinds)
    return [f"{k} η={lr:g}" for k, lr in runs]


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


def make_schedule(cfg: Config, lr):
    """The schedule of runs with learning rate(s) ``lr``; a plain lr when constant."""
    if cfg.schedule == "constant" and not cfg.schedule_params:
        return lr
    return schedules.get(cfg.schedule, **schedule_kwargs(cfg.schedule, lr, cfg.max_steps,
                                                          cfg.schedule_params))


def lr_of_schedule(cfg: Config, steps: np.ndarray) -> np.ndarray:
    """``(R, len(steps))``: the learning rate of update ``t + 1`` for each run (torch:
    ``param_groups[0]["lr"]`` after ``t`` scheduler steps)."""
    lrs = np.array([lr for _, lr in cfg.runs], dtype=np.float64)
    sched = make_schedule(cfg, lrs)
    if not callable(sched):
        return np.repeat(lrs[:, None], len(steps), axis=1)
    return np.broadcast_to(sched(np.asarray(steps, dtype=np.int64)), (len(lrs), len(steps)))


def _one(kind: str, lr, cfg: Config, n: int):
    r"""One block's optimizer.  Momentum and weight decay are passed as ``(n,)`` arrays so
    the transform is present even at 0 (the state keeps its structure when they change)."""
    wd = np.full(n, cfg.weight_decay)
    mom = np.full(n, cfg.momentum)
    betas = (cfg.b1, cfg.b2)
    if kind == "GD":
        return O.sgd(lr, weight_decay=wd)
    if kind == "Momentum":
        return O.sgd(lr, momentum=mom, weight_decay=wd)
    if kind == "Nesterov":
        return O.sgd(lr, momentum=mom, weight_decay=wd, nesterov=True)
    if kind == "AdaGrad":
        return O.adagrad(lr, weight_decay=wd)
    if kind == "RMSprop":
        return O.rmsprop(lr, alpha=cfg.alpha, weight_decay=wd)
    if kind == "Adam":
        return O.adam(lr, betas=betas, weight_decay=wd)
    if kind == "AdamW":
        return O.adamw(lr, betas=betas, weight_decay=wd)
    if kind == "NAdam":
        return O.nadam(lr, betas=betas, weight_decay=wd)
    if kind == "Adamax":
        return O.adamax(lr, betas=betas, weight_decay=wd)
    if kind == "Adadelta":
        return O.adadelta(lr, rho=cfg.rho, weight_decay=wd)
    raise ValueError(f"optimizer kind must be one of {', '.join(KINDS)}; got {kind!r}")


def make_optimizer(cfg: Config):
    """The race of every run's optimizer: one transformation over R runs."""
    parts = [(_one(kind, make_schedule(cfg, lrs), cfg, len(lrs)), len(lrs))
             for kind, lrs in blocks(cfg.runs)]
    return O.race([p for p, _ in parts], [n for _, n in parts])


def make_stopping(cfg: Config) -> Stopping:
    return Stopping(cfg.max_steps, cfg.grad_tol or None, cfg.loss_tol or None,
                    cfg.max_loss).validated()


# ---------------------------------------------------------------- the model


def check_selected(v: int, R: int) -> int:
    """The inspected run is one of the R runs."""
    if not 0 <= v < R:
        raise T.TraitError(f"selected must be an integer in [0, {R - 1}], got {v}")
    return v


class LabModel(T.HasTraits):
    """The configuration of a lab, validated by the engine.  Knows nothing of widgets."""

    problem = T.Unicode("rosenbrock")
    problem_params = T.Dict()
    runs = T.List(T.Tuple(T.Unicode(), T.Float()),
                  default_value=[(k, DEFAULT_LR[k]) for k in KINDS[:7]], minlen=1)
    selected = T.Int(0, help="the run whose numbers the panels show")
    momentum = T.Float(0.9)
    b1 = T.Float(0.9)
    b2 = T.Float(0.999)
    alpha = T.Float(0.99)
    rho = T.Float(0.9)
    weight_decay = T.Float(0.0)
    schedule = T.Unicode("constant")
    schedule_params = T.Dict()
    max_steps = T.Int(2000)
    grad_tol = T.Float(1e-8, help="stop when ||g|| <= grad_tol (0: off)")
    loss_tol = T.Float(0.0, help="stop when |L_t - L_{t-1}| <= loss_tol (0: off)")
    max_loss = T.Float(1e12)
    tolerance = T.Float(1e-6, help="steps-to-tolerance: first step with L - L* <= tolerance")
    start = T.Tuple(T.Float(), T.Float(), allow_none=True, default_value=None)
    seed = T.Int(0)

    def config(self, **override) -> Config:
        values = {name: getattr(self, name) for name in Config._fields}
        values.update(override)
        values["runs"] = tuple(tuple(r) for r in values["runs"])
        values["problem_params"] = dict(values["problem_params"])
        values["schedule_params"] = dict(values["schedule_params"])
        return Config(**values)

    # ---- validation: build what the value feeds, with the engine's messages

    def _check(self, name, value, build):
        try:
            build(self.config(**{name: value}))
        except (ValueError, TypeError) as err:
            raise T.TraitError(str(err)) from None
        return value

    @T.validate("problem", "problem_params")
    def _v_problem(self, proposal):
        return self._check(proposal["trait"].name, proposal["value"], make_problem)

    @T.validate("runs", "momentum", "b1", "b2", "alpha", "rho", "weight_decay", "schedule",
                "schedule_params")
    def _v_optimizer(self, proposal):
        name, value = proposal["trait"].name, proposal["value"]
        if name == "runs":
            for kind, _ in value:
                if kind not in KINDS:
                    raise T.TraitError(f"optimizer kind must be one of {', '.join(KINDS)}; "
                                       f"got {kind!r}")
        if name in ("b1", "b2") and not 0.0 <= value < 1.0:
            raise T.TraitError(f"{name} must be in [0, 1); got {value:g}")
        return self._check(name, value, make_optimizer)

    @T.validate("max_steps", "grad_tol", "loss_tol", "max_loss")
    def _v_stopping(self, proposal):
        name, value = proposal["trait"].name, proposal["value"]
        if name == "max_steps" and not 1 <= value <= 10_000_000:
            raise T.TraitError(f"max_steps must be an integer in [1, 10000000], got {value}")
        if name in ("grad_tol", "loss_tol") and not value >= 0:
            raise T.TraitError(f"{name} must be in [0, inf) (0 turns the rule off); "
                               f"got {value:g}")
        self._check(name, value, make_stopping)
        return self._check(name, value, make_optimizer)  # schedules use max_steps

    @T.validate("tolerance")
    def _v_tolerance(self, proposal):
        v = proposal["value"]
        if not (np.isfinite(v) and v > 0):
            raise T.TraitError(f"tolerance must be in (0, inf); got {v:g}")
        return v

    @T.validate("selected")
    def _v_selected(self, proposal):
        return check_selected(proposal["value"], len(self.runs))

    @T.validate("start")
    def _v_start(self, proposal):
        v = proposal["value"]
        if v is not None and not np.all(np.isfinite(v)):
            raise T.TraitError(f"start must be a finite point (x, y), got {v!r}")
        return v

    @T.observe("problem", "problem_params")
    def _new_problem(self, change):
        self.start = None  # the new surface's own start

    @T.observe("runs")
    def _clamp_selected(self, change):
        if self.selected >= len(change["new"]):
            self.selected = len(change["new"]) - 1

    # ---- conveniences for controls

    @property
    def labels(self) -> list[str]:
        return run_labels(self.runs)

    def set_lr(self, lr: float, run: int | None = None) -> None:
        """Change one run's learning rate (default: the selected run)."""
        i = self.selected if run is None else run
        runs = list(self.runs)
        runs[i] = (runs[i][0], float(lr))
        self.runs = runs

    def set_kinds(self, kinds) -> None:
        """Race these kinds, each at its current (or default) learning rate."""
        current = dict(self.runs)
        self.runs = [(k, current.get(k, DEFAULT_LR.get(k, 1e-3))) for k in kinds]

    def sweep(self, kind: str, lrs) -> None:
        """One kind at several learning rates (an lr sweep)."""
        self.runs = [(kind, float(lr)) for lr in lrs]
