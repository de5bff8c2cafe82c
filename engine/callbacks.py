r"""Epoch-end callbacks as pure per-run state machines: early stopping and reduce-on-plateau.

Both watch one validation quantity :math:`v_e` per run (``(R,)``, e.g. the validation loss
at the end of epoch :math:`e`) and carry a NamedTuple state whose fields are ``(R,)`` arrays,
so R runs each have their own best value, their own patience counter and their own fate.
A config (:func:`early_stopping`, :func:`reduce_on_plateau`) is validated once; ``*_init``
builds the state and ``*_update`` advances it by one epoch, returning a new state.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .checks import hparam

__all__ = [
    "EarlyStopping",
    "EarlyStoppingState",
    "early_stopping",
    "early_stopping_init",
    "early_stopping_update",
    "ReduceOnPlateau",
    "PlateauState",
    "reduce_on_plateau",
    "plateau_init",
    "plateau_update",
]

MODES = ("min", "max")
THRESHOLD_MODES = ("rel", "abs")


def _mode(mode, name: str = "mode", allowed=MODES) -> str:
    if mode not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}; got {mode!r}")
    return mode


def _metric(metric) -> str:
    if not isinstance(metric, str) or not metric:
        raise ValueError(f"metric must be the name of an epoch metric such as 'val_loss'; "
                         f"got {metric!r}")
    return metric


def _count(value, name: str):
    """A non-negative integer, scalar or ``(R,)``."""
    arr = np.asarray(value)
    bad = arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer)
                                   or (np.issubdtype(arr.dtype, np.floating)
                                       and np.all(np.isfinite(arr))
                                       and np.all(arr == np.round(arr))))
    if bad or arr.ndim > 1 or arr.size == 0:
        raise ValueError(f"{name} must be an integer in [0, inf) or a 1-D array of them; "
                         f"got {value!r}")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be an integer in [0, inf); got {int(arr.min())}")
    return int(arr) if arr.ndim == 0 else arr.astype(np.int64)


def _values(value, R: int) -> np.ndarray:
    v = np.asarray(value, dtype=np.float64)
    if v.shape not in ((), (R,)):
        raise ValueError(f"the watched value must be a scalar or have shape ({R},); "
                         f"got shape {v.shape}")
    return np.broadcast_to(v, (R,))


# ---------------------------------------------------------------------------- early stopping


class EarlyStopping(NamedTuple):
    """Config of :func:`early_stopping`."""

    patience: int | np.ndarray
    min_delta: float | np.ndarray
    mode: str
    restore_best: bool
    metric: str


class EarlyStoppingState(NamedTuple):
    """``best (R,)`` value so far, ``best_epoch (R,)`` (0: none yet), ``bad_epochs (R,)``
    since the best, ``best_params (R, P)``, ``stopped (R,)`` bool, ``stop_epoch (R,)``
    (-1 while running)."""

    best: np.ndarray
    best_epoch: np.ndarray
    bad_epochs: np.ndarray
    best_params: np.ndarray
    stopped: np.ndarray
    stop_epoch: np.ndarray


def early_stopping(patience=5, min_delta=0.0, mode: str = "min", restore_best: bool = True,
                   metric: str = "val_loss") -> EarlyStopping:
    r"""Stop a run after ``patience`` epochs without improvement of ``metric``.

    Epoch :math:`e` improves (mode "min") when :math:`v_e < v^\ast - \delta`, (mode "max")
    when :math:`v_e > v^\ast + \delta`, with :math:`v^\ast` the best value so far
    (:math:`\pm\infty` at first, so epoch 1 always improves) and :math:`\delta` =
    ``min_delta``.  An improvement resets the bad-epoch count and remembers the parameters;
    otherwise the count grows, and the run stops when it reaches ``patience``
    (``patience=0``: at the first epoch without improvement).  A NaN value never improves.
    With ``restore_best`` the stopped run's parameters go back to the best epoch's.

    The same rule as ``keras.callbacks.EarlyStopping(monitor, min_delta, patience, mode,
    restore_best_weights)`` and Lightning's ``EarlyStopping``; torch has no built-in one.
    ``patience`` and ``min_delta`` may be ``(R,)`` arrays.
    """
    return EarlyStopping(_count(patience, "patience"), hparam(min_delta, "min_delta", 0.0),
                         _mode(mode), bool(restore_best), _metric(metric))


def early_stopping_init(config: EarlyStopping, params: np.ndarray) -> EarlyStoppingState:
    """State before epoch 1: best = worst possible, best params = the start ``params``."""
    params = np.asarray(params, dtype=np.float64)
    R = params.shape[0]
    worst = np.inf if config.mode == "min" else -np.inf
    return EarlyStoppingState(np.full(R, worst), np.zeros(R, np.int64), np.zeros(R, np.int64),
                              params.copy(), np.zeros(R, bool), np.full(R, -1, np.int64))


def early_stopping_update(config: EarlyStopping, state: EarlyStoppingState, value, epoch: int,
                          params: np.ndarray, active=None) -> EarlyStoppingState:
    """Advance by epoch ``epoch`` whose watched ``value (R,)`` was measured at ``params``.

    Runs with ``active`` False (already stopped for any reason) are left unchanged.  Newly
    stopped runs have ``stopped`` True and ``stop_epoch = epoch``.
    """
    R = state.best.shape[0]
    v = _values(value, R)
    live = ~state.stopped if active is None else (np.asarray(active, bool) & ~state.stopped)
    if config.mode == "min":
        better = v < state.best - config.min_delta
    else:
        better = v > state.best + config.min_delta
    better &= live
    best = np.where(better, v, state.best)
    best_epoch = np.where(better, epoch, state.best_epoch)
    bad = np.where(better, 0, state.bad_epochs + live)
    best_params = np.where(better[:, None], params, state.best_params)
    stop = live & ~better & (bad >= config.patience)
    stopped = state.stopped | stop
    stop_epoch = np.where(stop, epoch, state.stop_epoch)
    return EarlyStoppingState(best, best_epoch, bad, best_params, stopped, stop_epoch)


# ---------------------------------------------------------------------------- reduce on plateau


class ReduceOnPlateau(NamedTuple):
    """Config of :func:`reduce_on_plateau`."""

    mode: str
    factor: float | np.ndarray
    patience: int | np.ndarray
    threshold: float | np.ndarray
    threshold_mode: str
    cooldown: int | np.ndarray
    min_lr: float | np.ndarray
    eps: float | np.ndarray
    metric: str


class PlateauState(NamedTuple):
    """``lr (R,)`` the current learning rate, ``best (R,)``, ``bad_epochs (R,)``,
    ``cooldown_counter (R,)``, ``epoch`` steps taken, ``reductions (R,)`` count."""

    lr: np.ndarray
    best: np.ndarray
    bad_epochs: np.ndarray
    cooldown_counter: np.ndarray
    epoch: int
    reductions: np.ndarray


def reduce_on_plateau(mode: str = "min", factor=0.1, patience=10, threshold=1e-4,
                      threshold_mode: str = "rel", cooldown=0, min_lr=0.0, eps=1e-8,
                      metric: str = "val_loss") -> ReduceOnPlateau:
    r"""Multiply the learning rate by ``factor`` when ``metric`` stops improving:
    ``torch.optim.lr_scheduler.ReduceLROnPlateau``, step for step.

    With :math:`v^\ast` the best value so far (:math:`+\infty` in mode "min"), epoch
    :math:`e` is better when

    .. math::
        \text{min, rel: } v_e < v^\ast (1 - \tau) \quad
        \text{min, abs: } v_e < v^\ast - \tau \quad
        \text{max, rel: } v_e > v^\ast (1 + \tau) \quad
        \text{max, abs: } v_e > v^\ast + \tau

    (:math:`\tau` = ``threshold``).  Better resets the bad-epoch count, otherwise it grows;
    during cooldown the cooldown counter falls by one and the count is reset to 0; when the
    count exceeds ``patience`` the rate becomes
    :math:`\eta' = \max(\eta\,\gamma, \eta_{\min})`, kept only if
    :math:`\eta - \eta' > \varepsilon` (``eps``), then cooldown restarts at ``cooldown`` and
    the count at 0.  ``factor``, ``patience``, ``threshold``, ``cooldown``, ``min_lr`` and
    ``eps`` may be ``(R,)`` arrays.
    """
    return ReduceOnPlateau(
        _mode(mode),
        hparam(factor, "factor", 0.0, 1.0, lo_open=True, hi_open=True),
        _count(patience, "patience"),
        hparam(threshold, "threshold", 0.0),
        _mode(threshold_mode, "threshold_mode", THRESHOLD_MODES),
        _count(cooldown, "cooldown"),
        hparam(min_lr, "min_lr", 0.0),
        hparam(eps, "eps", 0.0),
        _metric(metric),
    )


def plateau_init(config: ReduceOnPlateau, lr) -> PlateauState:
    """State before the first epoch, starting from the learning rates ``lr (R,)``."""
    lr = np.array(lr, dtype=np.float64, ndmin=1)
    R = lr.shape[0]
    worst = np.inf if config.mode == "min" else -np.inf
    zeros = np.zeros(R, np.int64)
    return PlateauState(lr, np.full(R, worst), zeros, zeros, 0, zeros)


def plateau_update(config: ReduceOnPlateau, state: PlateauState, value,
                   active=None) -> PlateauState:
    """One ``scheduler.step(value)`` for every run (runs with ``active`` False are frozen)."""
    R = state.lr.shape[0]
    v = _values(value, R)
    live = np.ones(R, bool) if active is None else np.asarray(active, bool)
    thr = config.threshold
    if config.mode == "min":
        better = v < (state.best * (1.0 - thr) if config.threshold_mode == "rel"
                      else state.best - thr)
    else:
        better = v > (state.best * (thr + 1.0) if config.threshold_mode == "rel"
                      else state.best + thr)
    best = np.where(better, v, state.best)
    bad = np.where(better, 0, state.bad_epochs + 1)
    cooling = state.cooldown_counter > 0
    cooldown_counter = np.where(cooling, state.cooldown_counter - 1, state.cooldown_counter)
    bad = np.where(cooling, 0, bad)
    reduce = bad > config.patience
    new_lr = np.maximum(state.lr * config.factor, config.min_lr)
    changed = reduce & (state.lr - new_lr > config.eps)
    lr = np.where(changed, new_lr, state.lr)
    cooldown_counter = np.where(reduce, config.cooldown, cooldown_counter)
    bad = np.where(reduce, 0, bad)
    new = PlateauState(lr, best, bad, cooldown_counter, state.epoch + 1,
                       state.reductions + changed)
    if active is None:
        return new
    return PlateauState(*(np.where(live, n, o) for n, o in zip(new[:4], state[:4], strict=True)),
                        state.epoch + 1, np.where(live, new.reductions, state.reductions))
