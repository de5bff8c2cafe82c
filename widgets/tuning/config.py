"""The tuning board's configuration: a validated ``traitlets`` model that knows no widgets.

:class:`TuningConfig` holds the data set, the search kind (grid / random / successive
halving / hyperband), the learning-rate range, the number of configurations, the epoch
budget, the batch size of step 1 and the batch sizes of step 2, and the ``stage``: "lr"
(step 1, tune the learning rate first) or "batch size" (step 2, the batch sizes at the
best learning rate of step 1, ``best_lr``).

Validate once: each validator builds the :class:`~.build.Plan` of the proposal (data set
loaded and model made once per name, cached); :meth:`TuningConfig.config` hands the
session a :class:`Config` record holding the built objects.  A rejected value raises a
``TraitError`` with the engine's message naming the parameter and its range and leaves
every trait as it was.
"""

from __future__ import annotations

from typing import NamedTuple

import traitlets as T

from descentlab.widgets.ui.traits import refused, validates

from . import build as B

__all__ = ["TuningConfig", "Config", "Trial", "PLAN_TRAITS"]

PLAN_TRAITS = ("dataset", "search", "lr_lo", "lr_hi", "trials", "epochs", "batch_size",
               "batch_sizes", "stage", "best_lr")
"""Every setting changes what the search IS: a change restarts it."""


class Trial(NamedTuple):
    """One trained configuration as the board shows it (a row of the log)."""

    round: int
    stage: str
    trial: int
    lr: float
    batch_size: int
    epochs: int
    rung: int
    score: float
    steps: int
    stop_reason: str


class Config(NamedTuple):
    """One validated search: its settings, the built data and model, and the plan."""

    search: str
    stage: str
    metric: str
    built: B.Built
    plan: B.Plan
    prior: tuple            # the rows of step 1 when this is step 2 (shown with it)


class TuningConfig(T.HasTraits):
    """The validated settings of the tuning board (see the module docstring)."""

    dataset = T.Unicode("linear")
    search = T.Unicode("grid")
    lr_lo = T.Float(1e-3)
    lr_hi = T.Float(1.0)
    trials = T.Int(9)
    epochs = T.Int(5)
    batch_size = T.Int(16)
    batch_sizes = T.Unicode("4, 16, 64")
    stage = T.Unicode("lr")
    best_lr = T.Float(None, allow_none=True)

    def __init__(self, dataset: str = "linear", seed: int = 0, **kw):
        self.seed = seed
        self._built: dict = {}
        self._plans: dict = {}
        self.prior: tuple = ()
        super().__init__()
        with self.hold_trait_notifications():
            self.dataset = dataset
            for k, v in kw.items():
                setattr(self, k, v)

    def built_for(self, name: str) -> B.Built:
        """The data set ``name`` and its model, loaded once."""
        if name not in self._built:
            self._built[name] = B.load(name, self.seed)
        return self._built[name]

    def plan(self, **override) -> B.Plan:
        """The validated plan of the current settings with ``override`` (built once)."""
        s = {k: getattr(self, k) for k in PLAN_TRAITS}
        s.update(override)
        if not 2 <= s["trials"] <= 81:
            raise ValueError(f"configs must be an integer in 2..81; got {s['trials']}")
        if not 1 <= s["epochs"] <= 243:
            raise ValueError(f"epochs must be an integer in 1..243; got {s['epochs']}")
        if s["stage"] not in ("lr", "batch size"):
            raise ValueError(f"stage must be 'lr' or 'batch size'; got {s['stage']!r}")
        key = tuple(s.values())
        if key not in self._plans:
            sizes = B.parse_sizes(s["batch_sizes"])
            self._plans[key] = B.plan(self.built_for(s["dataset"]), s["search"], s["lr_lo"],
                                      s["lr_hi"], s["trials"], s["epochs"], s["batch_size"],
                                      self.seed, s["stage"], s["best_lr"], sizes)
        return self._plans[key]

    @validates(*PLAN_TRAITS)
    def _valid(self, name, value):
        """The plan of the proposal, built once; the engine's ValueError is raised as a
        TraitError with its message (traitlets then rolls back a whole block of edits)."""
        with refused():
            if name == "dataset":
                self.built_for(value)
            self.plan(**{name: value})
        return value

    def config(self) -> Config:
        """The validated search record (the plan is built already)."""
        built = self.built_for(self.dataset)
        return Config(self.search, self.stage, "val_loss", built, self.plan(),
                      self.prior if self.stage == "batch size" else ())
