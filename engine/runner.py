r"""CONTRACT (to be implemented): streaming an optimizer over a problem, one record per step.

.. math::

    g_t = \nabla L(\theta_{t-1}), \quad (u_t, s_t) = \mathrm{update}(g_t, s_{t-1}, \theta_{t-1}),
    \quad \theta_t = \theta_{t-1} + u_t

A pure step function (``init_run`` / ``step_run``) and a generator on top (``run``).
The widgets' player calls ``step_run`` directly so it can swap the optimizer
(e.g. a new learning rate) between steps while keeping the optimizer state.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

__all__ = ["Stopping", "RunState", "StepRecord", "History", "init_run", "step_run", "run",
           "STOP_REASONS"]

# stop_reason codes ("" = still running)
STOP_REASONS = ("max_steps", "grad_tol", "loss_tol", "diverged")


class Stopping(NamedTuple):
    """Per-run stopping rules. A run stops at the first rule it meets."""

    max_steps: int | None = None       # step limit
    grad_tol: float | None = None      # stop when ||g||_2 <= grad_tol
    loss_tol: float | None = None      # stop when |L_t - L_{t-1}| <= loss_tol
    max_loss: float = 1e12             # diverged when |L| > max_loss or non-finite loss/params


class RunState(NamedTuple):
    step: int                 # steps taken so far (0 at start)
    params: np.ndarray        # (R, D)
    loss: np.ndarray          # (R,)   loss at params
    grad: np.ndarray          # (R, D) gradient at params
    opt_state: Any            # optimizer state
    active: np.ndarray        # (R,) bool
    stop_reason: np.ndarray   # (R,) object array of str, "" while active
    stop_step: np.ndarray     # (R,) int, -1 while active


class StepRecord(NamedTuple):
    step: int
    params: np.ndarray        # (R, D) after the step (frozen for stopped runs)
    loss: np.ndarray          # (R,)
    grad: np.ndarray          # (R, D) gradient at the new params
    lr: np.ndarray            # (R,) learning rate used by this step (step 0: lr of step 1)
    update: np.ndarray        # (R, D) update taken (zeros for stopped runs and at step 0)
    active: np.ndarray        # (R,) bool
    stop_reason: np.ndarray   # (R,) str
    stop_step: np.ndarray     # (R,) int
    opt_state: Any            # optimizer state after the step


def init_run(problem, optimizer, start, runs: int | None = None) -> RunState:
    raise NotImplementedError


def step_run(problem, optimizer, state: RunState, stopping: Stopping = Stopping()):
    """-> (RunState, StepRecord)"""
    raise NotImplementedError


def run(problem, optimizer, start, steps: int, *, grad_tol=None, loss_tol=None,
        max_loss=1e12, runs=None):
    """Generator of StepRecord: step 0 (the start) then steps 1..steps."""
    raise NotImplementedError


class History:
    """Collects StepRecords into arrays (T+1, R, D) / (T+1, R)."""
