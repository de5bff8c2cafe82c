r"""Streaming an optimizer over a problem, one record per step.

.. math::

    g_t = \nabla L(\theta_{t-1}), \quad (u_t, s_t) = \mathrm{update}(g_t, s_{t-1}, \theta_{t-1}),
    \quad \theta_t = \theta_{t-1} + u_t

A pure step function (``init_run`` / ``step_run``) and a generator on top (``run``).
The widgets' player calls ``step_run`` directly so it can swap the optimizer
(e.g. a new learning rate) between steps while keeping the optimizer state.

Every run stops on its own, at the first rule it meets (checked in this order):

* ``"diverged"``: the loss, the parameters or the gradient at :math:`\theta_t` are not
  finite, or :math:`|L(\theta_t)| >` ``max_loss``.  The run keeps its last finite
  :math:`\theta_{t-1}` and records step :math:`t`; ``stop_detail`` says why:
  ``"nonfinite"``, ``"loss_above"`` (:math:`L > L_{\max}`) or ``"loss_below"``
  (:math:`L < -L_{\max}`: the surface is unbounded below where the run went);
* ``"grad_tol"``: :math:`\lVert g_{t+1} \rVert_2 \le` ``grad_tol``;
* ``"loss_tol"``: :math:`|L(\theta_t) - L(\theta_{t-1})| \le` ``loss_tol``;
* ``"max_steps"``: :math:`t \ge` ``max_steps``.

A stopped run is frozen: its parameters, loss, gradient and optimizer-state rows no
longer change, so a run's trajectory never depends on the other runs.

Gradient noise (``init_run(..., grad_noise=sigma, seed=s)``, ``run(..., grad_noise=...)``)
models the sampling noise of SGD on a surface: the optimizer sees

.. math:: \tilde g_t = \nabla L(\theta_t) + \sigma\, \xi_t, \qquad
          \xi_t \sim \mathcal N(0, I_{R \times D}) \text{ from }
          \texttt{default\_rng([s, t])},

a pure function of ``(seed, t)``, with :math:`\sigma` a scalar or one value per run.  The
records' ``grad`` is :math:`\tilde g_t` (what the optimizer saw), ``true_grad`` is
:math:`\nabla L(\theta_t)`; ``grad_tol`` tests the true gradient.  Noise lets a run leave
a point where the true gradient vanishes, such as the saddle of ``saddle`` at the origin.

Reduce-on-plateau (``init_run(..., plateau=plateau(factor=0.5, patience=5))``,
``run(..., plateau=...)``) is torch's ``ReduceLROnPlateau`` stepped on each run's own loss:
after every step :math:`t` with :math:`t \bmod k = 0` (``every`` = :math:`k`),
``scheduler.step(L(θ_t))``, the same state machine as the trainer's
(:func:`.callbacks.plateau_update`, one state per run).  A reduction changes the rate from
step :math:`t + 1` on: the optimizer's per-run ``lr_scale`` becomes
:math:`\eta^{\mathrm{plateau}} / \eta_0` (:func:`.optimizers.set_lr_scale`), so with a
schedule the rate is :math:`\eta(t)\,\eta^{\mathrm{plateau}}/\eta_0` and with a constant
rate it is torch's plateau rate.  Each reduction is a record's ``plateau_lr`` change and
becomes a :class:`History` event ``"plateau_lr"`` (step :math:`t`, old -> new, the runs).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from . import callbacks as cb
from .batching import as_seed
from .checks import check_int, hparam
from .optimizers import current_lr, set_lr_scale
from .records import (
    STOP_REASONS,
    StoredHistory,
    agreed_runs,
    check_finite,
    divergence,
    freeze_rows,
    mark_stops,
    write_csv,
)

__all__ = ["Stopping", "RunState", "StepRecord", "History", "init_run", "step_run", "run",
           "start_record", "STOP_REASONS", "Plateau", "PlateauRun", "plateau", "PLATEAU_LATEX",
           "PLATEAU_EVENT"]

class Stopping(NamedTuple):
    """Per-run stopping rules. A run stops at the first rule it meets.

    Tolerances are scalars or ``(R,)`` arrays (one per run); ``None`` disables a rule.
    """

    max_steps: int | None = None       # step limit
    grad_tol: float | None = None      # stop when ||g||_2 <= grad_tol
    loss_tol: float | None = None      # stop when |L_t - L_{t-1}| <= loss_tol
    max_loss: float = 1e12             # diverged when |L| > max_loss or non-finite loss/params

    def validated(self) -> Stopping:
        """This rule set with every field checked; ValueError naming the bad one."""
        return _check_stopping(self)


class Plateau(NamedTuple):
    """Reduce-on-plateau on a surface: ``rule`` (:func:`.callbacks.reduce_on_plateau`)
    stepped on every run's loss after each ``every``-th step (built by :func:`plateau`)."""

    rule: cb.ReduceOnPlateau
    every: int = 1


class PlateauRun(NamedTuple):
    """The plateau part of a :class:`RunState`: its ``config``, the per-run ``state``
    (:class:`.callbacks.PlateauState`: lr, best, bad_epochs, cooldown_counter,
    reductions) and ``lr0 (R,)``, the rates it started from."""

    config: Plateau
    state: cb.PlateauState
    lr0: np.ndarray


PLATEAU_EVENT = "plateau_lr"
"""The :class:`History` event of a reduction: ``plateau_lr`` old -> new after step t."""

PLATEAU_LATEX = (r"t \bmod k = 0:\ v = L(\theta_t);\ "
                 r"v < v^\ast(1-\tau)\ (\text{rel})\ \text{or}\ v < v^\ast - \tau\ "
                 r"(\text{abs}) \Rightarrow v^\ast \leftarrow v,\ n \leftarrow 0;\ "
                 r"\text{else } n \leftarrow n + 1;\ n > p \Rightarrow "
                 r"\eta \leftarrow \max(\gamma\,\eta,\ \eta_{\min})")
r"""The plateau rule in the lab's notation (:math:`k` = every, :math:`\tau` = threshold,
:math:`p` = patience, :math:`\gamma` = factor); cooldown and eps as in :func:`plateau`."""


def plateau(factor=0.1, patience=10, threshold=1e-4, threshold_mode: str = "rel",
            cooldown=0, min_lr=0.0, eps=1e-8, every: int = 1) -> Plateau:
    r"""Reduce-on-plateau driven by each run's loss: ``torch.optim.lr_scheduler.
    ReduceLROnPlateau(optimizer, mode="min", factor, patience, threshold, threshold_mode,
    cooldown, min_lr, eps)`` with ``scheduler.step(L(θ_t))`` after every ``every``-th step.

    The watched value is the loss, so the mode is ``"min"``: a step is better when
    :math:`L(\theta_t) < v^\ast(1 - \tau)` (``rel``) or :math:`< v^\ast - \tau` (``abs``),
    :math:`v^\ast` the best so far; after more than ``patience`` evaluations without a
    better one :math:`\eta \leftarrow \max(\gamma\eta, \eta_{\min})` (kept only if it falls
    by more than ``eps``), then ``cooldown`` evaluations in which the count stays 0
    (:func:`.callbacks.reduce_on_plateau`, the defaults are torch's).  ValueError names a
    bad argument and its range.
    """
    rule = cb.reduce_on_plateau("min", factor, patience, threshold, threshold_mode, cooldown,
                                min_lr, eps, metric="loss")
    return Plateau(rule, check_int(every, "every", 1))


def _check_plateau(value) -> Plateau | None:
    if value is None or isinstance(value, Plateau):
        return value
    if isinstance(value, cb.ReduceOnPlateau):
        return Plateau(value, 1)
    raise ValueError(f"plateau must be None, runner.plateau(...) or "
                     f"callbacks.reduce_on_plateau(...); got {value!r}")


def _fast_ok(x, lo_open: bool) -> bool:
    """Cheap accept for the common case: a plain finite float/int in range (hot path)."""
    return (type(x) is float or type(x) is int) and (x > 0 if lo_open else x >= 0) \
        and x < math.inf


def _check_stopping(s: Stopping) -> Stopping:
    max_steps, grad_tol, loss_tol, max_loss = s
    if max_steps is not None and not (type(max_steps) is int and max_steps >= 0):
        max_steps = check_int(max_steps, "max_steps", 0)
    if grad_tol is not None and not _fast_ok(grad_tol, False):
        grad_tol = hparam(grad_tol, "grad_tol", 0.0)
    if loss_tol is not None and not _fast_ok(loss_tol, False):
        loss_tol = hparam(loss_tol, "loss_tol", 0.0)
    if not _fast_ok(max_loss, True):
        max_loss = hparam(max_loss, "max_loss", 0.0, lo_open=True)
    return Stopping(max_steps, grad_tol, loss_tol, max_loss)


def _check_runs(stopping: Stopping, R: int) -> None:
    """Per-run tolerance arrays must have one value per run."""
    for name in ("grad_tol", "loss_tol", "max_loss"):
        value = getattr(stopping, name)
        if isinstance(value, np.ndarray) and value.shape[0] != R:
            raise ValueError(f"{name} has {value.shape[0]} values but there are {R} runs; "
                             f"give a scalar or an array of length {R}")


class RunState(NamedTuple):
    step: int                 # steps taken so far (0 at start)
    params: np.ndarray        # (R, D)
    loss: np.ndarray          # (R,)   loss at params
    grad: np.ndarray          # (R, D) gradient at params
    opt_state: Any            # optimizer state
    active: np.ndarray        # (R,) bool
    stop_reason: np.ndarray   # (R,) object array of str, "" while active
    stop_step: np.ndarray     # (R,) int, -1 while active
    stop_detail: np.ndarray | None = None  # (R,) str: cause of a "diverged" stop, else ""
    grad_noise: Any = None    # sigma: None (no noise), a float or (R,) per run
    noise_seed: int = 0       # the noise of step t is default_rng([noise_seed, t])
    true_grad: np.ndarray | None = None  # (R, D) the noiseless gradient (None: = grad)
    plateau: PlateauRun | None = None    # reduce-on-plateau (None: off)


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
    stop_detail: np.ndarray | None = None  # (R,) str: "nonfinite" / "loss_above" /
    #                                         "loss_below" for a "diverged" stop, else ""
    true_grad: np.ndarray | None = None    # (R, D) noiseless gradient at params (= grad
    #                                         without gradient noise)
    plateau_lr: np.ndarray | None = None   # (R,) reduce-on-plateau's rate after this step
    #                                         (in force from the next step); None: off


DEFAULT_STOPPING = Stopping()  # no tolerance, no step limit, max_loss 1e12 (immutable)


# ---------------------------------------------------------------------------- helpers

def _lr(opt_state, R: int) -> np.ndarray:
    """(R,) learning rates of the step just taken, as :func:`.optimizers.current_lr` reads
    them; NaN when the optimizer has no learning rate."""
    try:
        return current_lr(opt_state)
    except ValueError:
        return np.full(R, np.nan)


def _evaluate(problem, params):
    """(loss (R,), grad (R, D)) at params, through ``loss_and_grad`` when the problem has it."""
    both = getattr(problem, "loss_and_grad", None)
    if both is not None:
        loss, grad = both(params)
    else:
        loss, grad = problem.loss(params), problem.grad(params)
    return np.asarray(loss, dtype=np.float64), np.asarray(grad, dtype=np.float64)


def _problem_dim(problem) -> int | None:
    for name in ("dim", "D"):
        d = getattr(problem, name, None)
        if isinstance(d, (int, np.integer)):
            return int(d)
    start = getattr(problem, "start", None)
    if start is not None and not callable(start) and np.ndim(start) >= 1:
        return int(np.shape(start)[-1])
    return None


def _detail(state) -> np.ndarray:
    """The state's (R,) stop details ("" for all runs when it has none, e.g. a state
    built by hand)."""
    d = state.stop_detail
    return np.full(state.stop_reason.shape[0], "", dtype=object) if d is None else d


def _stop(reason, stop_step, newly, name, step):
    reason = reason.copy()
    reason[newly] = name
    stop_step = stop_step.copy()
    stop_step[newly] = step
    return reason, stop_step


# ---------------------------------------------------------------------------- step API

def init_run(problem, optimizer, start, runs: int | None = None,
             stopping: Stopping = DEFAULT_STOPPING, *, grad_noise=None, seed=0,
             plateau=None) -> RunState:
    r"""The state at step 0: ``start`` broadcast to ``(R, D)``, its loss, gradient and the
    optimizer's initial state.  ``grad_noise`` :math:`\sigma` (a scalar or ``(R,)``, >= 0;
    None = off) and ``seed`` (int or Generator) add gradient noise (module docstring).

    ``start`` is ``(D,)`` (shared by all runs) or ``(R, D)``.  R comes from a 2-D start,
    from ``optimizer.runs`` (hyperparameter arrays) or from ``runs``; they must agree.
    Rules of ``stopping`` that apply at the start (a non-finite or too large start loss,
    ``grad_tol``, ``max_steps == 0``) already stop runs at step 0.
    ``plateau`` (:func:`plateau`, or a :func:`.callbacks.reduce_on_plateau` config
    evaluated every step) reduces each run's rate on its own loss (module docstring); it
    needs an optimizer with a learning rate.
    """
    stopping = _check_stopping(stopping)
    plateau = _check_plateau(plateau)
    x = np.asarray(start, dtype=np.float64)
    if x.ndim not in (1, 2) or x.shape[-1] < 1 or (x.ndim == 2 and x.shape[0] < 1):
        raise ValueError(f"start must have shape (D,) or (R, D) with R, D >= 1, got shape "
                         f"{x.shape}")
    check_finite(x, "start")
    D = _problem_dim(problem)
    if D is not None and x.shape[-1] != D:
        raise ValueError(f"start has {x.shape[-1]} coordinates but the problem has D = {D}; "
                         f"give start of shape ({D},) or (R, {D})")
    if runs is not None:
        runs = check_int(runs, "runs", 1)
    named = {"start": x.shape[0] if x.ndim == 2 else None,
             "optimizer.runs": getattr(optimizer, "runs", None), "runs": runs}
    R = agreed_runs(named)
    _check_runs(stopping, R)
    params = np.array(np.broadcast_to(x, (R, x.shape[-1])), dtype=np.float64)
    sigma = None
    if grad_noise is not None:
        sigma = hparam(grad_noise, "grad_noise", 0.0)
        if isinstance(sigma, np.ndarray) and sigma.shape[0] != R:
            raise ValueError(f"grad_noise has {sigma.shape[0]} values but there are {R} runs; "
                             f"give a scalar or an array of length {R}")
        seed = as_seed(seed)
    with np.errstate(all="ignore"):
        loss, grad = _evaluate(problem, params)
        true_grad = grad
        if sigma is not None:
            grad = grad + _noise(sigma, seed, 0, grad.shape)
        opt_state = optimizer.init(params)
        bad, detail = divergence(loss, stopping.max_loss, params, grad)
    reason = np.full(R, "", dtype=object)
    stop_step = np.full(R, -1, dtype=np.int64)
    reason, stop_step = _stop(reason, stop_step, bad, "diverged", 0)
    active = ~bad
    if stopping.grad_tol is not None:
        newly = active & (np.linalg.norm(true_grad, axis=1) <= stopping.grad_tol)
        reason, stop_step = _stop(reason, stop_step, newly, "grad_tol", 0)
        active &= ~newly
    if stopping.max_steps == 0:
        reason, stop_step = _stop(reason, stop_step, active, "max_steps", 0)
        active = np.zeros(R, dtype=bool)
    return RunState(0, params, loss, grad, opt_state, active, reason, stop_step, detail,
                    sigma, int(seed) if sigma is not None else 0,
                    true_grad if sigma is not None else None,
                    _plateau_start(plateau, opt_state, R))


def _plateau_start(config: Plateau | None, opt_state, R: int) -> PlateauRun | None:
    if config is None:
        return None
    try:
        lr0 = np.array(current_lr(opt_state), dtype=np.float64)
    except ValueError:
        raise ValueError("plateau needs an optimizer with a learning rate "
                         "(scale_by_learning_rate inside)") from None
    for name, value in config.rule._asdict().items():
        if isinstance(value, np.ndarray) and value.shape[0] != R:
            raise ValueError(f"plateau {name} has {value.shape[0]} values but there are {R} "
                             f"runs; give a scalar or an array of length {R}")
    return PlateauRun(config, cb.plateau_init(config.rule, lr0), lr0)


def _plateau_step(pl: PlateauRun, t: int, loss, live, opt_state):
    """``(PlateauRun, opt_state)`` after step ``t``: ``scheduler.step(L(θ_t))`` for the
    ``live`` runs when ``t`` is a multiple of ``every``; a changed rate goes into the
    optimizer's ``lr_scale`` (from step t + 1 on)."""
    if t % pl.config.every:
        return pl, opt_state
    new = cb.plateau_update(pl.config.rule, pl.state, loss, live)
    if np.any(new.lr != pl.state.lr):
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(pl.lr0 > 0, new.lr / pl.lr0, 1.0)
        opt_state = set_lr_scale(opt_state, scale)
    return pl._replace(state=new), opt_state


def _noise(sigma, seed: int, t: int, shape) -> np.ndarray:
    r""":math:`\sigma\,\xi_t`, :math:`\xi_t` standard normal ``shape`` from
    ``default_rng([seed, t])``."""
    xi = np.random.default_rng([seed, t]).standard_normal(shape)
    return xi * (sigma if isinstance(sigma, float) else sigma[:, None])


def start_record(state: RunState) -> StepRecord:
    """The record of step 0 (or of any state, with a zero update)."""
    R = state.params.shape[0]
    pl = getattr(state, "plateau", None)
    return StepRecord(state.step, state.params, state.loss, state.grad,
                      _lr(state.opt_state, R), np.zeros_like(state.params),
                      state.active, state.stop_reason, state.stop_step, state.opt_state,
                      _detail(state),
                      state.grad if state.true_grad is None else state.true_grad,
                      None if pl is None else pl.state.lr)


def step_run(problem, optimizer, state: RunState,
             stopping: Stopping = DEFAULT_STOPPING):
    """One step of every active run -> ``(RunState, StepRecord)``.  Pure: ``state`` is
    not modified.  ``optimizer`` may differ from the previous step's (same state
    structure, e.g. a new learning rate); the optimizer state carries over.

    Stopped runs stay frozen; nothing raises on NaN or overflow (warnings are
    suppressed inside the step and the offending run is stopped as ``"diverged"``).
    """
    stopping = _check_stopping(stopping)
    max_steps, grad_tol, loss_tol, max_loss = stopping
    params, grad, active = state.params, state.grad, state.active
    R = params.shape[0]
    _check_runs(stopping, R)
    opt_runs = getattr(optimizer, "runs", None)
    if opt_runs is not None and opt_runs != R:
        raise ValueError(f"optimizer has {opt_runs} runs but the run state has R = {R}")
    t = state.step + 1
    reason, stop_step, detail = state.stop_reason, state.stop_step, _detail(state)
    with np.errstate(all="ignore"):
        updates, opt_state = optimizer.update(grad, state.opt_state, params)
        new_params = params + updates
        loss, new_grad = _evaluate(problem, new_params)
        true_grad = new_grad
        if state.grad_noise is not None:
            new_grad = new_grad + _noise(state.grad_noise, state.noise_seed, t, new_grad.shape)
        took = active
        if np.count_nonzero(active) < R:  # stopped runs stay where they are
            new_params, loss, new_grad, updates, opt_state = _freeze(
                active, (new_params, loss, new_grad, updates, opt_state), state)
        # one cheap whole-array test; per-run detail only when it fails
        small = (np.abs(loss).max() <= max_loss if type(max_loss) is float
                 else (np.abs(loss) <= max_loss).all())
        if not (small and np.isfinite(new_params.sum() + new_grad.sum())):
            bad, why = divergence(loss, max_loss, new_params, new_grad)
            bad &= active
            if bad.any():
                took = active & ~bad
                reason, stop_step = _stop(reason, stop_step, bad, "diverged", t)
                (detail,) = mark_stops((detail,), bad, (why,))
                new_params, loss, new_grad, updates, opt_state = _freeze(
                    took, (new_params, loss, new_grad, updates, opt_state), state)
        if state.grad_noise is not None and not took.all():
            true_grad = np.where(took[:, None], true_grad, state.true_grad)
        still = took
        if grad_tol is not None:
            hit = still & (np.sqrt(np.einsum("ij,ij->i", true_grad, true_grad)) <= grad_tol)
            if hit.any():
                reason, stop_step = _stop(reason, stop_step, hit, "grad_tol", t)
                still = still & ~hit
        if loss_tol is not None:
            hit = still & (np.abs(loss - state.loss) <= loss_tol)
            if hit.any():
                reason, stop_step = _stop(reason, stop_step, hit, "loss_tol", t)
                still = still & ~hit
        if max_steps is not None and t >= max_steps:
            reason, stop_step = _stop(reason, stop_step, still, "max_steps", t)
            still = np.zeros(R, dtype=bool)
    lr_used = _lr(opt_state, R)
    pl = state.plateau
    if pl is not None:
        pl, opt_state = _plateau_step(pl, t, loss, still, opt_state)
    noisy = state.grad_noise is not None
    new_state = RunState(t, new_params, loss, new_grad, opt_state, still, reason, stop_step,
                         detail, state.grad_noise, state.noise_seed,
                         true_grad if noisy else None, pl)
    record = StepRecord(t, new_params, loss, new_grad, lr_used, updates, still,
                        reason, stop_step, opt_state, detail, true_grad,
                        None if pl is None else pl.state.lr)
    return new_state, record


def _freeze(keep, new, state):
    """Where ``keep`` is False, the values of ``state`` instead of the new ones (update 0).

    ``new`` comes fresh from this step: ``params`` (``state.params + updates``) and the
    engine's optimizer states are fixed in place; loss, gradient and updates (which may
    be a problem's or a transform's own arrays) are copied."""
    params, loss, grad, updates, opt_state = new
    col = keep[:, None]
    np.copyto(params, state.params, where=~col)
    return (params, np.where(keep, loss, state.loss), np.where(col, grad, state.grad),
            np.where(col, updates, 0.0), freeze_rows(keep, opt_state, state.opt_state))


def run(problem, optimizer, start, steps: int, *, grad_tol=None, loss_tol=None,
        max_loss=1e12, runs=None, grad_noise=None, seed=0, plateau=None):
    """Generator of StepRecord: step 0 (the start) then steps 1..steps (``grad_noise``,
    ``seed``: gradient noise; ``plateau``: reduce-on-plateau; see the module docstring).

    Stops early when every run has stopped (see the module docstring for the rules).
    Each record's arrays are fresh: holding on to them is safe.
    """
    steps = check_int(steps, "steps", 0)
    stopping = Stopping(steps, grad_tol, loss_tol, max_loss).validated()
    state = init_run(problem, optimizer, start, runs, stopping, grad_noise=grad_noise,
                     seed=seed, plateau=plateau)
    return _stream(problem, optimizer, state, stopping)


def _stream(problem, optimizer, state, stopping):
    yield start_record(state)
    while state.active.any():
        state, record = step_run(problem, optimizer, state, stopping)
        yield record


# ---------------------------------------------------------------------------- History

class History(StoredHistory):
    """Collects StepRecords into arrays ``(T+1, R, D)`` / ``(T+1, R)``.

    Storage is preallocated and grows geometrically (:class:`.records.Buffers`), so
    ``append`` is amortized O(R D).  Array properties are read-only views of the filled
    part.  Live tuning goes in as events: ``add_event(step, param, old, new, runs=None)``
    and ``events`` (:class:`.records.Event`), exported as the CSV column ``events``.
    A record whose ``plateau_lr`` differs from the previous record's adds the event
    :data:`PLATEAU_EVENT` (step, old ``(R,)``, new ``(R,)``, the runs reduced) by itself.
    """

    _FIELDS = ("params", "loss", "grad", "lr", "update", "active")

    def __init__(self, records=()):
        StoredHistory.__init__(self)
        self.stop_reason = np.zeros(0, dtype=object)
        self.stop_step = np.zeros(0, dtype=np.int64)
        self.stop_detail = np.zeros(0, dtype=object)
        self._plateau_lr: np.ndarray | None = None
        for r in records:
            self.append(r)

    def append(self, record) -> None:
        """Copy one record in (its arrays may be reused by the caller afterwards)."""
        params = np.asarray(record.params)
        true_grad = getattr(record, "true_grad", None)
        if self._store is None:
            R, D = params.shape
            fields = {"params": ((R, D), np.float64), "loss": ((R,), np.float64),
                      "grad": ((R, D), np.float64), "lr": ((R,), np.float64),
                      "update": ((R, D), np.float64), "active": ((R,), bool),
                      "step": ((), np.int64)}
            if true_grad is not None and true_grad is not record.grad:  # gradient noise
                fields["true_grad"] = ((R, D), np.float64)
            self._open(fields)
        store = self._store
        R, D = store.shape("params")
        if params.shape != (R, D):
            raise ValueError(f"record params have shape {params.shape} but this history "
                             f"holds shape ({R}, {D})")
        n = len(store)
        if n and record.step != self._last_step() + 1:
            raise ValueError(f"record step must be {self._last_step() + 1} "
                             f"(the next step), got {record.step}")
        extra = {}
        if "true_grad" in store.names:
            extra["true_grad"] = record.grad if true_grad is None else true_grad
        store.append(params=params, loss=record.loss, grad=record.grad, lr=record.lr,
                     update=record.update, active=record.active, step=record.step, **extra)
        self.stop_reason = np.array(record.stop_reason, dtype=object)
        self.stop_step = np.array(record.stop_step, dtype=np.int64)
        detail = getattr(record, "stop_detail", None)
        self.stop_detail = np.full(R, "", dtype=object) if detail is None else \
            np.array(detail, dtype=object)
        plateau_lr = getattr(record, "plateau_lr", None)
        if plateau_lr is not None:
            plateau_lr = np.array(plateau_lr, dtype=np.float64)
            before = self._plateau_lr
            if before is not None and before.shape == plateau_lr.shape:
                cut = np.flatnonzero(plateau_lr != before)
                if cut.size:
                    self.add_event(record.step, PLATEAU_EVENT, before, plateau_lr, cut)
            self._plateau_lr = plateau_lr

    def _last_step(self) -> int:
        return int(self._store.view("step")[-1])

    params = property(lambda self: self._view("params"), doc="(T+1, R, D) parameters")
    loss = property(lambda self: self._view("loss"), doc="(T+1, R) losses")
    grad = property(lambda self: self._view("grad"),
                    doc="(T+1, R, D) gradients the optimizer saw (with gradient noise)")

    @property
    def true_grad(self) -> np.ndarray:
        """(T+1, R, D) noiseless gradients (``grad`` itself without gradient noise)."""
        store = self._store
        return self._view("true_grad" if store is not None and "true_grad" in store.names
                          else "grad")

    lr = property(lambda self: self._view("lr"), doc="(T+1, R) learning rates")
    update = property(lambda self: self._view("update"), doc="(T+1, R, D) updates")
    active = property(lambda self: self._view("active"), doc="(T+1, R) still running")

    @property
    def steps(self) -> np.ndarray:
        """(T+1,) the step number of each row."""
        if self._store is None:
            return np.zeros(0, dtype=np.int64)
        return self._store.view("step")

    def at(self, step: int) -> StepRecord:
        """The record of ``step`` (negative counts from the end), built from views.

        ``stop_reason`` / ``stop_step`` / ``stop_detail`` show only the stops that
        happened by ``step``; ``opt_state`` is not kept (None).
        """
        n = len(self)
        if n == 0:
            raise ValueError("the history is empty; append a record first")
        steps = self.steps
        first, last = int(steps[0]), int(steps[n - 1])
        step = check_int(step, "step", -n, last)
        if step < 0:
            step = last + 1 + step
        if step < first:
            raise ValueError(f"step must be an integer in [{first}, {last}], got {step}")
        i = step - first
        happened = (self.stop_step >= 0) & (self.stop_step <= step)
        reason = np.where(happened, self.stop_reason, "").astype(object)
        stop_step = np.where(happened, self.stop_step, -1)
        detail = np.where(happened, self.stop_detail, "").astype(object)
        return StepRecord(step, self.params[i], self.loss[i], self.grad[i], self.lr[i],
                          self.update[i], self.active[i], reason, stop_step, None, detail,
                          self.true_grad[i])

    def _fields(self) -> list[str]:
        D = 0 if self._store is None else self._store.shape("params")[1]
        extra = (["stop_detail"] if any(self.stop_detail) else []) + \
            (["events"] if self._events else [])
        return ["step", "run", *(f"theta_{d}" for d in range(D)), "loss", "lr",
                "grad_norm", "active", "stop_reason", *extra]

    def to_rows(self) -> list[dict]:
        """One dict per (step, run): step, run, theta_0..theta_{D-1}, loss, lr,
        grad_norm, active, stop_reason (the reason once the run has stopped, else "");
        when some run diverged also stop_detail (its cause, see :data:`.records.STOP_DETAILS`);
        when events were added also events (that step's changes for that run, e.g.
        ``"lr: 0.1 -> 0.05"``: the new value applies from the next step on).
        """
        if len(self) == 0:
            return []
        P, L, LR, A = self.params, self.loss, self.lr, self.active
        gnorm = np.linalg.norm(self.grad, axis=2)
        D = P.shape[2]
        with_detail = any(self.stop_detail)
        rows = []
        for i, step in enumerate(self.steps.tolist()):
            happened = (self.stop_step >= 0) & (self.stop_step <= step)
            for r in range(P.shape[1]):
                row = {"step": step, "run": r}
                row.update({f"theta_{d}": float(P[i, r, d]) for d in range(D)})
                row.update(loss=float(L[i, r]), lr=float(LR[i, r]),
                           grad_norm=float(gnorm[i, r]), active=bool(A[i, r]),
                           stop_reason=str(self.stop_reason[r]) if happened[r] else "")
                if with_detail:
                    row["stop_detail"] = str(self.stop_detail[r]) if happened[r] else ""
                if self._events:
                    row["events"] = self.event_text(step, r)
                rows.append(row)
        return rows

    def to_csv(self, path_or_buffer) -> None:
        """Write :meth:`to_rows` as CSV (header first) to a path or a text buffer
        (:func:`.records.write_csv`)."""
        write_csv(self.to_rows(), path_or_buffer, self._fields())
