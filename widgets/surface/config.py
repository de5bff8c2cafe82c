r"""The surface labs' configuration: the :class:`Run` record and the traitlets model.

A :class:`Run` is what one run *is*: an optimizer ``kind`` and its learning rate ``lr``
(the problem, the start and the shared hyperparameters are the same for every run of a
lab).  A race lists several kinds; a learning-rate sweep repeats one kind at the values
``geomspace(sweep_from, sweep_to, sweep_runs)``.

:class:`SurfaceModel` holds the configuration and knows no widgets.  Every trait is
validated by building the engine objects it feeds (:func:`.build.build`) with the
proposed value: a bad value is rejected with the engine's own message, the trait keeps
its last good value, and the objects built for a good value are kept
(:meth:`SurfaceModel.built`) so the session reuses them -- validate once, build once.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import traitlets as T

from descentlab.engine import kinds
from descentlab.widgets.ui.traits import RunChoice, refused, validates

from .build import Built, build

__all__ = ["Run", "Config", "SurfaceModel", "sweep_runs", "RESTARTS", "TUNING", "STOPPING",
           "RERUNS"]


class Run(NamedTuple):
    """One run of a lab: an optimizer kind and its learning rate."""

    kind: str
    lr: float


class Config(NamedTuple):
    """An immutable snapshot of a :class:`SurfaceModel` (what the session needs)."""

    problem: str
    problem_params: dict
    runs: tuple          # of Run
    sweep: tuple | None  # (from, to, n) for an lr sweep, None for a race
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
    grad_noise: float    # σ of the gradient noise (0: exact gradients)
    custom: dict         # name -> a student's step function raced as its own kind


RESTARTS = ("problem", "problem_params", "start", "seed", "sweep", "grad_noise")
"""Fields that change what a run *is*: a change restarts (so do new kinds or a new
number of runs)."""

TUNING = ("momentum", "b1", "b2", "alpha", "rho", "weight_decay")
"""Fields tuned live (with the runs' learning rates): recorded as events, never
relabelling the past."""

RERUNS = ("schedule", "schedule_params")
"""The schedule and its arguments: a change re-runs the runs from step 0 to the step
shown, so every rate on the lr chart is the new schedule's (its curve is never a splice)."""

STOPPING = ("max_steps", "grad_tol", "loss_tol", "max_loss", "tolerance")
"""Convergence criteria: applied live, stated in each stop's explanation."""


def sweep_runs(kind: str, lo: float, hi: float, n: int) -> list[Run]:
    """``n`` runs of ``kind`` at learning rates log-spaced from ``lo`` to ``hi``."""
    lrs = np.geomspace(lo, hi, n) if n > 1 else np.array([lo])
    return [Run(kind, float(v)) for v in lrs]


class SurfaceModel(RunChoice):
    """The configuration of a surface lab, validated by the engine.  No widgets."""

    problem = T.Unicode("rosenbrock")
    problem_params = T.Dict()
    runs = T.List(T.Instance(Run), minlen=1,
                  default_value=[Run(k, kinds.FIELD_LR[k]) for k in ("GD", "Adam")])
    selected = T.Int(0, help="the run whose numbers the panels show")
    sweeping = T.Bool(False, help="runs are an lr sweep of one kind")
    sweep_from = T.Float(1e-3)
    sweep_to = T.Float(0.1)
    sweep_n = T.Int(6)
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
    seed = T.Int(0, help="the gradient noise of step t is default_rng([seed, t])")
    grad_noise = T.Float(0.0, help="σ: each gradient gets σ·ξ_t, ξ_t ~ N(0, I) (0: off)")
    custom = T.Dict(help="name -> a from-scratch step function (engine.exercises) raced "
                         "beside the engine's kinds")

    def __init__(self, **kw):
        """Traits by keyword; ``runs`` as records or (kind, lr) pairs; ``sweeping=True``
        with ``sweep_from``, ``sweep_to``, ``sweep_n`` makes the runs an lr sweep."""
        self._cache: tuple[Config, Built] | None = None
        runs, start = kw.pop("runs", None), kw.pop("start", None)
        sweep = {k: kw.pop(k) for k in ("sweeping", "sweep_from", "sweep_to", "sweep_n")
                 if k in kw}
        super().__init__(**kw)
        if start is not None:           # after the problem (a new problem resets it)
            self.start = tuple(start)
        if runs is not None:
            self.runs = [Run(*r) for r in runs]
        if sweep.pop("sweeping", False):
            for k, v in sweep.items():
                setattr(self, k, v)
            if self.sweep_from > self.sweep_to:
                raise T.TraitError(f"lr to must be in [{self.sweep_from:g}, inf) (at least "
                                   f"lr from); got {self.sweep_to:g}")
            self.runs = sweep_runs(self.runs[0].kind, self.sweep_from, self.sweep_to,
                                   self.sweep_n)
            self.sweeping = True

    # ---- snapshots and the objects built for them

    def config(self, **override) -> Config:
        """The configuration now (with ``override`` applied), as an immutable record."""
        v = {name: getattr(self, name) for name in Config._fields
             if name not in ("sweep",)}
        v["sweep"] = ((self.sweep_from, self.sweep_to, self.sweep_n) if self.sweeping
                      else None)
        v.update(override)
        v["runs"] = tuple(Run(*r) for r in v["runs"])
        v["problem_params"] = dict(v["problem_params"])
        v["schedule_params"] = dict(v["schedule_params"])
        return Config(**v)

    def built(self, cfg: Config | None = None) -> Built:
        """The engine objects of ``cfg`` (default: now): the ones the validator built
        for it when it is the configuration last validated, else built now."""
        cfg = self.config() if cfg is None else cfg
        if self._cache is not None and self._cache[0] == cfg:
            return self._cache[1]
        built = build(cfg)
        self._cache = (cfg, built)
        return built

    def _check(self, **override):
        with refused(ValueError, TypeError):
            self.built(self.config(**override))

    # ---- validation: the engine's messages, naming the parameter and its range

    @validates("runs")
    def _v_runs(self, name, value):
        value = [Run(*r) for r in value]
        known = (*kinds.names(), *self.custom)
        for run in value:
            if run.kind not in known:
                raise T.TraitError(f"optimizer kind must be one of "
                                   f"{', '.join(known)}; got {run.kind!r}")
        self._check(runs=value)
        return value

    @validates("problem", "problem_params", "momentum", "b1", "b2", "alpha", "rho",
               "weight_decay", "schedule", "schedule_params", "max_loss", "start",
               "grad_noise", "seed")
    def _v_built(self, name, value):
        if name in ("b1", "b2") and not 0.0 <= value < 1.0:
            raise T.TraitError(f"{name} must be in [0, 1); got {value:g}")
        if name == "start" and value is not None and not np.all(np.isfinite(value)):
            raise T.TraitError(f"start must be a finite point (x, y), got {value!r}")
        self._check(**{name: value})
        return value

    @validates("max_steps", "grad_tol", "loss_tol")
    def _v_stopping(self, name, value):
        if name == "max_steps" and not 1 <= value <= 10_000_000:
            raise T.TraitError(f"max_steps must be an integer in [1, 10000000], got {value}")
        if name != "max_steps" and not value >= 0:
            raise T.TraitError(f"{name} must be in [0, inf) (0 turns the rule off); "
                               f"got {value:g}")
        self._check(**{name: value})
        return value

    @validates("tolerance")
    def _v_tolerance(self, name, v):
        if not (np.isfinite(v) and v > 0):
            raise T.TraitError(f"tolerance must be in (0, inf); got {v:g}")
        return v

    @validates("sweep_from", "sweep_to", "sweep_n")
    def _v_sweep(self, name, v):
        lo, hi, n = self.sweep_from, self.sweep_to, self.sweep_n
        if name == "sweep_n":
            if not 1 <= v <= 32:
                raise T.TraitError(f"runs must be an integer in [1, 32]; got {v}")
            n = v
        elif not (np.isfinite(v) and v > 0):
            raise T.TraitError(f"{'lr from' if name == 'sweep_from' else 'lr to'} must be "
                               f"in (0, inf); got {v:g}")
        elif name == "sweep_from":
            if self.sweeping and v > hi:
                raise T.TraitError(f"lr from must be in (0, {hi:g}] (at most lr to); "
                                   f"got {v:g}")
            lo = v
        else:
            if self.sweeping and v < lo:
                raise T.TraitError(f"lr to must be in [{lo:g}, inf) (at least lr from); "
                                   f"got {v:g}")
            hi = v
        if self.sweeping:
            self._check(runs=sweep_runs(self.runs[0].kind, lo, hi, n), sweep=(lo, hi, n))
        return v

    # ---- consequences inside the model

    @T.observe("sweep_from", "sweep_to", "sweep_n")
    def _resweep(self, change):
        if self.sweeping:
            self.runs = sweep_runs(self.runs[0].kind, self.sweep_from, self.sweep_to,
                                   self.sweep_n)

    @T.observe("problem", "problem_params")
    def _new_problem(self, change):
        self.start = None  # the new surface's own start

    # ---- conveniences for controls

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds raced, in order, each once."""
        return tuple(dict.fromkeys(r.kind for r in self.runs))

    def set_lr(self, lr: float, run: int | None = None) -> None:
        """Change one run's learning rate (default: the selected run)."""
        i = self.selected if run is None else run
        runs = list(self.runs)
        runs[i] = runs[i]._replace(lr=float(lr))
        self.runs = runs

    def set_kind_lr(self, kind: str, lr: float) -> None:
        """Change the learning rate of every run of ``kind`` (a race's slider)."""
        self.runs = [r._replace(lr=float(lr)) if r.kind == kind else r for r in self.runs]

    def set_schedule(self, name: str, params: dict | None = None) -> None:
        """Another schedule with its own arguments (``params``, default: none overridden),
        validated together: the old schedule's arguments never meet the new one."""
        with self.hold_trait_notifications():
            self.schedule = name
            self.schedule_params = dict(params or {})

    def set_kind(self, kind: str) -> None:
        """Every run becomes ``kind`` at its own learning rate (a sweep's optimizer)."""
        self.runs = [r._replace(kind=kind) for r in self.runs]
