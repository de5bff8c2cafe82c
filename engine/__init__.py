"""descentlab.engine: a pure, vectorized numpy engine for the mathematics of optimization.

Every array has a leading runs axis R: parameters ``(R, D)``, losses ``(R,)``.
Hyperparameters are scalars or ``(R,)`` arrays, so a race of optimizers or a sweep
of learning rates is one computation.
"""

from . import (
    base,
    batching,
    callbacks,
    checks,
    data,
    exercises,
    kinds,
    metrics,
    models,
    optimizers,
    problems,
    records,
    runner,
    schedules,
    training,
    transforms,
    tuning,
)
from .base import GradientTransformation, apply_updates, chain
from .runner import History, StepRecord, Stopping, run

__all__ = [
    "GradientTransformation",
    "History",
    "StepRecord",
    "Stopping",
    "apply_updates",
    "base",
    "batching",
    "callbacks",
    "chain",
    "checks",
    "data",
    "exercises",
    "kinds",
    "metrics",
    "models",
    "optimizers",
    "problems",
    "records",
    "run",
    "runner",
    "schedules",
    "training",
    "transforms",
    "tuning",
]
