r"""Training a model on data with mini-batches: the data counterpart of :mod:`.runner`.

Iteration :math:`t` takes the next batch :math:`\mathcal{B}_t` (:mod:`.batching`) and does

.. math::

    L_t = L_{\mathcal{B}_t}(\theta_{t-1}), \quad g_t = \nabla L_{\mathcal{B}_t}(\theta_{t-1}),
    \quad (u_t, s_t) = \mathrm{update}(g_t, s_{t-1}, \theta_{t-1}), \quad
    \theta_t = \theta_{t-1} + u_t

exactly like a torch loop ``loss = crit(model(xb), yb); loss.backward(); opt.step()``: the
recorded ``train_loss`` is the mini-batch loss *before* the step.  An epoch is
:math:`\lceil N/B \rceil` iterations (:math:`\lfloor N/B \rfloor` with ``drop_last``).  At the
end of each epoch the full training and validation sets are evaluated: ``train_loss``,
``val_loss`` (the model's objective, L2 penalty included) and the task's metrics
(:mod:`.metrics`: regression mse/rmse/mae/r2, classification accuracy/log_loss) on both, as
``train_<name>`` / ``val_<name>``.  Metrics cost nothing per iteration.

Every run stops on its own, at the first rule it meets (checked in this order):

* ``"diverged"`` (every iteration): the mini-batch loss or gradient at :math:`\theta_{t-1}`
  or the new :math:`\theta_t` is not finite, or :math:`|L_t| >` ``max_loss``; the run keeps
  its last finite parameters; ``stop_detail`` gives the cause (``"nonfinite"``,
  ``"loss_above"``, ``"loss_below"``, :data:`.records.STOP_DETAILS`);
* at the end of epoch :math:`e`, on the *full* training objective (mini-batch quantities
  are noise): ``"grad_tol"`` when :math:`\lVert\nabla L_{\text{train}}(\theta)\rVert_2 \le`
  ``grad_tol``; ``"loss_tol"`` when :math:`|L_{\text{train}}(\theta_e) -
  L_{\text{train}}(\theta_{e-1})| \le` ``loss_tol``; ``"early_stopping"`` (see
  :func:`.callbacks.early_stopping`); ``"max_epochs"`` when :math:`e \ge` ``epochs``.

A stopped run is frozen (parameters and optimizer-state rows).  With early stopping and
``restore_best`` the parameters of a run stopped by early stopping or by ``max_epochs`` are
put back to its best epoch's.  Reduce-on-plateau (:func:`.callbacks.reduce_on_plateau`)
sets the optimizer's per-run ``lr_scale`` at each epoch end so that the effective rate is
the plateau rate.

Pure step API (``init_train`` / ``train_step``) so the widgets can drive training frame by
frame and swap the optimizer between steps; :func:`train` is the generator on top and
:class:`TrainHistory` collects the records into arrays.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from . import callbacks as cb
from . import metrics as M
from . import optimizers
from .batching import BatchState, check_batch_size, init_batches, next_batch
from .checks import check_int, hparam
from .records import (
    STOP_REASONS,
    Buffers,
    StoredHistory,
    agreed_runs,
    check_finite,
    column,
    divergence,
    mark_stops,
    where_rows,
    write_csv,
)

__all__ = [
    "TrainRules",
    "TrainState",
    "TrainRecord",
    "TrainHistory",
    "STOP_REASONS",
    "DEFAULT_METRICS",
    "evaluate",
    "init_train",
    "start_record",
    "train_step",
    "train",
    "batch_rows",
    "stack_batch_rows",
]

DEFAULT_METRICS = {
    "regression": ("mse", "rmse", "mae", "r2"),
    "binary": ("accuracy", "log_loss"),
    "multiclass": ("accuracy", "log_loss"),
}
_ALLOWED = {
    "regression": ("mse", "rmse", "mae", "r2"),
    "binary": ("accuracy", "log_loss", "precision", "recall", "f1"),
    "multiclass": ("accuracy", "log_loss"),
}


class TrainRules(NamedTuple):
    """What ends a run and what happens at epoch ends (see the module docstring).

    ``epochs``: epoch limit; ``grad_tol``, ``loss_tol``: scalars or ``(R,)``, None = off;
    ``early_stopping``: an :class:`.callbacks.EarlyStopping` or None; ``plateau``: a
    :class:`.callbacks.ReduceOnPlateau` or None; ``metrics``: names from :mod:`.metrics`
    (None: the task's defaults).
    """

    epochs: int = 10
    grad_tol: Any = None
    loss_tol: Any = None
    max_loss: float = 1e12
    early_stopping: cb.EarlyStopping | None = None
    plateau: cb.ReduceOnPlateau | None = None
    metrics: tuple | None = None

    def validated(self, task: str) -> TrainRules:
        """This rule set with every field checked; ValueError naming the bad one."""
        epochs = check_int(self.epochs, "epochs", 0)
        grad_tol = None if self.grad_tol is None else hparam(self.grad_tol, "grad_tol", 0.0)
        loss_tol = None if self.loss_tol is None else hparam(self.loss_tol, "loss_tol", 0.0)
        max_loss = hparam(self.max_loss, "max_loss", 0.0, lo_open=True)
        for name, value, kind in (("early_stopping", self.early_stopping, cb.EarlyStopping),
                                  ("plateau", self.plateau, cb.ReduceOnPlateau)):
            if value is not None and not isinstance(value, kind):
                raise ValueError(f"{name} must be None or made by callbacks.{kind.__name__} "
                                 f"factory; got {value!r}")
        names = DEFAULT_METRICS[task] if self.metrics is None else tuple(self.metrics)
        for m in names:
            if m not in _ALLOWED[task]:
                raise ValueError(f"metrics for a {task} task must be among "
                                 f"{list(_ALLOWED[task])}; got {m!r}")
        known = ("train_loss", "val_loss") + tuple(f"{p}_{m}" for p in ("train", "val")
                                                   for m in names)
        for cfg in (self.early_stopping, self.plateau):
            if cfg is not None and cfg.metric not in known:
                raise ValueError(f"the watched metric must be one of {list(known)}; "
                                 f"got {cfg.metric!r}")
        return TrainRules(epochs, grad_tol, loss_tol, max_loss, self.early_stopping,
                          self.plateau, names)


class TrainState(NamedTuple):
    iteration: int             # iterations done (0 at start)
    epoch: int                 # epochs completed
    params: np.ndarray         # (R, P)
    opt_state: Any             # optimizer state
    batches: BatchState        # where the batch stream stands
    active: np.ndarray         # (R,) bool
    stop_reason: np.ndarray    # (R,) object array of str, "" while active
    stop_step: np.ndarray      # (R,) iteration of the stop, -1 while active
    stop_epoch: np.ndarray     # (R,) epoch of the stop, -1 while active
    scores: dict               # the last epoch end's metrics, name -> (R,)
    early: cb.EarlyStoppingState | None
    plateau: cb.PlateauState | None
    lr0: np.ndarray            # (R,) base learning rate (plateau scale = plateau lr / lr0)
    stop_detail: np.ndarray | None = None  # (R,) str: cause of a "diverged" stop, else ""


class TrainRecord(NamedTuple):
    iteration: int
    epoch: int                 # epoch this iteration belongs to (1-based; 0 at the start)
    params: np.ndarray         # (R, P) after the step (frozen for stopped runs)
    train_loss: np.ndarray     # (R,) mini-batch loss at the params before the step
    grad: np.ndarray           # (R, P) mini-batch gradient at the params before the step
    lr: np.ndarray             # (R,) learning rate of this step
    update: np.ndarray         # (R, P) update taken (zeros for stopped runs)
    batch: np.ndarray          # (B,) shared or (R, B) row indices of the batch
    active: np.ndarray         # (R,) bool
    stop_reason: np.ndarray    # (R,) str
    stop_step: np.ndarray      # (R,) int
    stop_epoch: np.ndarray     # (R,) int
    epoch_end: bool            # this iteration closed an epoch: ``metrics`` is set
    metrics: dict | None       # epoch end: "train_loss", "val_loss", "train_<m>", "val_<m>"
    best_epoch: np.ndarray | None  # (R,) early stopping's best epoch (None without it)
    opt_state: Any
    stop_detail: np.ndarray | None = None  # (R,) str: cause of a "diverged" stop, else ""
    batch_rows: np.ndarray | None = None   # (R, B) int: the rows each run's batch used this
    #                                        iteration, -1 for a run already stopped


DEFAULT_RULES = TrainRules()  # 10 epochs, no tolerances, task-default metrics (immutable)


# ---------------------------------------------------------------------------- evaluation


def evaluate(model, dataset, params, metrics=None, *, with_grad: bool = False) -> dict:
    """The epoch-end numbers at ``params (R, P)``: ``train_loss``, ``val_loss`` and
    ``train_<m>``, ``val_<m>`` for each metric name (default: the task's), each ``(R,)``;
    with ``with_grad`` also ``train_grad_norm``, :math:`\\lVert\\nabla L_{train}\\rVert_2`."""
    names = DEFAULT_METRICS[dataset.task] if metrics is None else metrics
    out = {}
    with np.errstate(all="ignore"):
        for part, X, y in (("train", dataset.X_train, dataset.y_train),
                           ("val", dataset.X_val, dataset.y_val)):
            if part == "train" and with_grad:
                loss, grad = model.loss_and_grad(params, X, y)
                out["train_grad_norm"] = np.linalg.norm(grad, axis=1)
            else:
                loss = model.loss(params, X, y)
            out[f"{part}_loss"] = loss
            if names:
                pred = model.predict(params, X)
                # a run whose predictions overflowed gets NaN metrics, never an exception
                ok = np.isfinite(pred).reshape(pred.shape[0], -1).all(axis=1)
                if not ok.all():
                    fill = 0.0 if pred.ndim == 2 and dataset.task == "regression" else \
                        1.0 / (pred.shape[2] if pred.ndim == 3 else 2)
                    shape = (-1,) + (1,) * (pred.ndim - 1)
                    pred = np.where(ok.reshape(shape), pred, fill)
                for m in names:
                    value = np.asarray(getattr(M, m)(y, pred), dtype=np.float64)
                    out[f"{part}_{m}"] = value if ok.all() else np.where(ok, value, np.nan)
    return out


# ---------------------------------------------------------------------------- helpers


def _check_pair(model, dataset) -> int:
    """P for this model on this data; ValueError when the task does not fit."""
    ok = model.task == dataset.task or (model.task == "multiclass"
                                        and dataset.task == "binary"
                                        and model.n_classes == 2)
    if not ok:
        raise ValueError(f"model {model.name} is for {model.task} but the data set "
                         f"{dataset.name!r} is {dataset.task}")
    return model.n_params(dataset.X_train.shape[1], dataset.n_classes)


def _detail(state) -> np.ndarray:
    """The state's (R,) stop details (all "" for a state made without them)."""
    d = state.stop_detail
    return np.full(state.stop_reason.shape[0], "", dtype=object) if d is None else d


def _stop(state_fields, newly, name, iteration, epoch):
    if not newly.any():
        return state_fields
    return mark_stops(state_fields, newly, (name, iteration, epoch))


def _current_lr(opt_state, R: int) -> np.ndarray:
    """(R,) the learning rate of the latest update (NaN when the optimizer has none)."""
    try:
        lr = optimizers.current_lr(opt_state)
    except (ValueError, AttributeError):
        return np.full(R, np.nan)
    if type(lr) is np.ndarray and lr.shape == (R,) and lr.dtype == np.float64:
        return lr  # a fresh array of the state, never written to (pure updates)
    return np.broadcast_to(np.asarray(lr, dtype=np.float64), (R,)).copy()


# ---------------------------------------------------------------------------- step API


def init_train(model, dataset, optimizer, *, batch_size: int = 32, seed=0,
               shared_batches: bool = True, drop_last: bool = False, runs: int | None = None,
               init=None, rules: TrainRules = DEFAULT_RULES) -> TrainState:
    """The state before the first iteration (epoch 0), with the start evaluated.

    ``init`` is ``(P,)`` shared or ``(R, P)`` (default: ``model.init_params``: zeros for the
    linear models, a seeded random draw for the MLP).  R
    comes from a 2-D ``init``, ``optimizer.runs`` or ``runs``; they must agree.
    """
    rules = rules.validated(dataset.task)
    P = _check_pair(model, dataset)
    N = dataset.X_train.shape[0]
    check_batch_size(batch_size, N)
    named = {"init": None if init is None or np.ndim(init) != 2 else np.shape(init)[0],
             "optimizer.runs": getattr(optimizer, "runs", None),
             "runs": None if runs is None else check_int(runs, "runs", 1)}
    R = agreed_runs(named)
    x = model.init_params(dataset.X_train.shape[1], dataset.n_classes)[0] if init is None \
        else np.asarray(init, dtype=np.float64)
    if x.ndim not in (1, 2) or x.shape[-1] != P:
        raise ValueError(f"init must have shape ({P},) or (R, {P}) for {model.name} on "
                         f"{dataset.X_train.shape[1]} features; got shape {x.shape}")
    check_finite(x, "init")
    params = np.array(np.broadcast_to(x, (R, P)), dtype=np.float64)
    opt_state = optimizer.init(params)
    batches = init_batches(N, batch_size, seed=seed, shared=shared_batches,
                           drop_last=drop_last, runs=R)
    scores = evaluate(model, dataset, params, rules.metrics,
                      with_grad=rules.grad_tol is not None)
    early = None if rules.early_stopping is None else \
        cb.early_stopping_init(rules.early_stopping, params)
    lr0 = _current_lr(opt_state, R)
    plateau = None
    if rules.plateau is not None:
        if not np.all(np.isfinite(lr0) & (lr0 > 0)):
            raise ValueError("plateau needs an optimizer with a positive learning rate")
        plateau = cb.plateau_init(rules.plateau, lr0)
    reason = np.full(R, "", dtype=object)
    stop_step = np.full(R, -1, np.int64)
    stop_epoch = np.full(R, -1, np.int64)
    fields = (reason, stop_step, stop_epoch)
    bad, detail = divergence(scores["train_loss"], rules.max_loss)
    fields = _stop(fields, bad, "diverged", 0, 0)
    active = ~bad
    if rules.grad_tol is not None:
        hit = active & (scores["train_grad_norm"] <= rules.grad_tol)
        fields = _stop(fields, hit, "grad_tol", 0, 0)
        active &= ~hit
    if rules.epochs == 0:
        fields = _stop(fields, active, "max_epochs", 0, 0)
        active = np.zeros(R, bool)
    return TrainState(0, 0, params, opt_state, batches, active, *fields, scores, early,
                      plateau, lr0, detail)


def start_record(state: TrainState) -> TrainRecord:
    """The record of iteration 0: the start, with its epoch-0 metrics."""
    R = state.params.shape[0]
    zeros = np.zeros_like(state.params)
    return TrainRecord(0, 0, state.params, state.scores["train_loss"], zeros,
                       _current_lr(state.opt_state, R), zeros, np.zeros(0, np.int64),
                       state.active, state.stop_reason, state.stop_step, state.stop_epoch,
                       True, state.scores,
                       None if state.early is None else state.early.best_epoch,
                       state.opt_state, _detail(state), np.zeros((R, 0), np.int64))


def train_step(model, dataset, optimizer, state: TrainState,
               rules: TrainRules = DEFAULT_RULES):
    """One iteration of every active run -> ``(TrainState, TrainRecord)``.  Pure.

    ``optimizer`` may differ from the previous step's (same state structure, e.g. a new
    learning rate); the optimizer state carries over.  Nothing raises on NaN or overflow.
    """
    if rules.metrics is None:
        rules = rules.validated(dataset.task)
    params, active = state.params, state.active
    R = params.shape[0]
    opt_runs = getattr(optimizer, "runs", None)
    if opt_runs is not None and opt_runs != R:
        raise ValueError(f"optimizer has {opt_runs} runs but the training state has R = {R}")
    idx, batches = next_batch(state.batches)
    t = state.iteration + 1
    with np.errstate(all="ignore"):
        loss, grad = model.loss_and_grad(params, dataset.X_train[idx], dataset.y_train[idx])
        updates, opt_state = optimizer.update(grad, state.opt_state, params)
        new_params = params + updates
        # fast path: one scalar sum catches any inf/NaN of any run
        ok = active.all() and np.isfinite(loss.sum() + grad.sum() + new_params.sum()) \
            and np.abs(loss).max() <= rules.max_loss
        if ok:
            took = active
        else:
            bad, why = divergence(loss, rules.max_loss, grad, new_params)
            took = active & ~bad
    fields = (state.stop_reason, state.stop_step, state.stop_epoch)
    detail = _detail(state)
    if not ok and not took.all():
        epoch_now = batches.epoch + 1
        fields = _stop(fields, active & ~took, "diverged", t, epoch_now)
        (detail,) = mark_stops((detail,), active & ~took, (why,))
        col = took[:, None]
        new_params = np.where(col, new_params, params)
        updates = np.where(col, updates, 0.0)
        opt_state = where_rows(took, opt_state, state.opt_state)
    lr = _current_lr(opt_state, R)
    new_state = state._replace(iteration=t, params=new_params, opt_state=opt_state,
                               batches=batches, active=took, stop_detail=detail)
    scores = None
    if batches.epoch_end:
        new_state = _epoch_end(model, dataset, new_state, rules, fields)
        scores = new_state.scores
    else:
        new_state = new_state._replace(stop_reason=fields[0], stop_step=fields[1],
                                       stop_epoch=fields[2])
    s = new_state
    record = TrainRecord(t, batches.epoch + 1, s.params, loss, grad, lr, updates, idx,
                         s.active, s.stop_reason, s.stop_step, s.stop_epoch,
                         scores is not None, scores,
                         None if s.early is None else s.early.best_epoch, s.opt_state,
                         s.stop_detail, batch_rows(idx, active))
    return new_state, record


def batch_rows(idx: np.ndarray, active: np.ndarray) -> np.ndarray:
    r"""``(R, B)`` the dataset rows of each run's mini-batch :math:`\mathcal{B}_t`: the
    shared ``(B,)`` indices repeated, or the per-run ``(R, B)`` ones; ``-1`` for the runs not
    ``active`` (stopped before the iteration: they used no batch)."""
    R = active.shape[0]
    rows = np.broadcast_to(idx, (R, idx.shape[-1]))
    return np.where(active[:, None], rows, -1).astype(np.int64, copy=False)


def stack_batch_rows(parts) -> np.ndarray:
    """One ``(sum R_g, max B_g)`` array from the ``(R_g, B_g)`` batch rows of several groups
    of runs (e.g. one group per batch size), shorter rows padded with ``-1``."""
    parts = [np.asarray(p, dtype=np.int64) for p in parts]
    width = max((p.shape[1] for p in parts), default=0)
    out = np.full((sum(p.shape[0] for p in parts), width), -1, dtype=np.int64)
    r = 0
    for p in parts:
        out[r:r + p.shape[0], :p.shape[1]] = p
        r += p.shape[0]
    return out


def _epoch_end(model, dataset, state: TrainState, rules: TrainRules, fields) -> TrainState:
    """Evaluate, then apply grad_tol, loss_tol, early stopping, plateau and max_epochs."""
    e = state.batches.epochs_done
    t = state.iteration
    params, active, R = state.params, state.active, state.params.shape[0]
    scores = evaluate(model, dataset, params, rules.metrics,
                      with_grad=rules.grad_tol is not None)
    L = scores["train_loss"]
    bad, why = divergence(L, rules.max_loss)
    bad &= active
    fields = _stop(fields, bad, "diverged", t, e)
    detail = _detail(state)
    if bad.any():
        (detail,) = mark_stops((detail,), bad, (why,))
    active = active & ~bad
    if rules.grad_tol is not None:
        hit = active & (scores["train_grad_norm"] <= rules.grad_tol)
        fields = _stop(fields, hit, "grad_tol", t, e)
        active = active & ~hit
    if rules.loss_tol is not None:
        with np.errstate(invalid="ignore"):
            hit = active & (np.abs(L - state.scores["train_loss"]) <= rules.loss_tol)
        fields = _stop(fields, hit, "loss_tol", t, e)
        active = active & ~hit
    early, restore = state.early, np.zeros(R, bool)
    if early is not None:
        cfg = rules.early_stopping
        before = early.stopped
        early = cb.early_stopping_update(cfg, early, scores[cfg.metric], e, params, active)
        hit = early.stopped & ~before
        fields = _stop(fields, hit, "early_stopping", t, e)
        active = active & ~hit
        restore = hit
    opt_state, plateau = state.opt_state, state.plateau
    if plateau is not None and e < rules.epochs:
        plateau = cb.plateau_update(rules.plateau, plateau, scores[rules.plateau.metric],
                                    active)
        if np.any(plateau.lr != state.plateau.lr):
            opt_state = optimizers.set_lr_scale(opt_state, plateau.lr / state.lr0)
    if e >= rules.epochs:
        if early is not None:
            restore = restore | active
        fields = _stop(fields, active, "max_epochs", t, e)
        active = np.zeros(R, bool)
    if early is not None and rules.early_stopping.restore_best and restore.any():
        params = np.where(restore[:, None], early.best_params, params)
    # a run that stopped keeps the scores of its last evaluated epoch
    if not state.active.all():
        was = state.active
        scores = {k: np.where(was, v, state.scores.get(k, v)) for k, v in scores.items()}
    return state._replace(epoch=e, params=params, opt_state=opt_state, active=active,
                          stop_reason=fields[0], stop_step=fields[1], stop_epoch=fields[2],
                          scores=scores, early=early, plateau=plateau, stop_detail=detail)


# ---------------------------------------------------------------------------- generator


def train(model, dataset, optimizer, *, epochs: int, batch_size: int = 32,
          shared_batches: bool = True, drop_last: bool = False, seed=0, grad_tol=None,
          loss_tol=None, max_loss=1e12, early_stopping=None, plateau=None, metrics=None,
          runs=None, init=None):
    """Generator of :class:`TrainRecord`: iteration 0 (the start) then one per iteration,
    until every run has stopped (at the latest after ``epochs`` epochs).

    ``shared_batches=True`` gives every run the same batches (a fair race); ``False`` an
    independent order per run.  ``seed`` (int or Generator) fixes the batch order.
    """
    rules = TrainRules(epochs, grad_tol, loss_tol, max_loss, early_stopping, plateau,
                       metrics).validated(dataset.task)
    state = init_train(model, dataset, optimizer, batch_size=batch_size, seed=seed,
                       shared_batches=shared_batches, drop_last=drop_last, runs=runs,
                       init=init, rules=rules)
    return _stream(model, dataset, optimizer, state, rules)


def _stream(model, dataset, optimizer, state, rules):
    yield start_record(state)
    while state.active.any():
        state, record = train_step(model, dataset, optimizer, state, rules)
        yield record


# ---------------------------------------------------------------------------- history


def _epoch_column(name: str, doc: str) -> property:
    """A read-only property of a :class:`TrainHistory`: a copy of the epoch-level column
    ``name`` (empty before the first epoch end)."""
    return property(lambda self: self._epoch_arr(name), doc=doc)


class TrainHistory(StoredHistory):
    """Collects :class:`TrainRecord` s into arrays for charts and tests.

    Iteration level (row 0 = the start): ``iterations (T+1,)``, ``epochs (T+1,)``,
    ``params (T+1, R, P)``, ``train_loss (T+1, R)``, ``lr (T+1, R)``, ``grad_norm (T+1, R)``,
    ``update_norm (T+1, R)``, ``active (T+1, R)``, ``batch_rows (T+1, R, B)`` (the dataset
    rows of each run's mini-batch, ``-1`` padded: a short last batch, a stopped run, the
    start).  Epoch level (row 0 = epoch 0):
    ``epoch_index (E+1,)``, ``epoch_iteration (E+1,)``, ``epoch_params (E+1, R, P)`` and
    ``metric(name) (E+1, R)`` for every epoch metric.  ``stop_reason``, ``stop_step``,
    ``stop_epoch``, ``stop_detail`` and ``best_epoch`` are the latest record's.  Storage grows
    geometrically (:class:`.records.Buffers`).  Live tuning goes in as events:
    ``add_event(iteration, param, old, new, runs=None)`` and ``events``
    (:class:`.records.Event`), exported as the CSV column ``events``.
    """

    def __init__(self, records=()):
        StoredHistory.__init__(self)
        self._ep: Buffers | None = None
        self._metric_names: tuple[str, ...] = ()
        self.stop_reason = self.stop_step = self.stop_epoch = self.best_epoch = None
        self.stop_detail = None
        for r in records:
            self.append(r)

    def append(self, record: TrainRecord) -> None:
        params = np.asarray(record.params)
        R, P = params.shape
        if self._store is None:
            f, i = np.float64, np.int64
            self._open({"iteration": ((), i), "epoch": ((), i), "params": ((R, P), f),
                        "train_loss": ((R,), f), "lr": ((R,), f),
                        "grad_norm": ((R,), f), "update_norm": ((R,), f),
                        "active": ((R,), bool), "batch_rows": ((R, 0), i)},
                       pad={"batch_rows": -1})
        rows = getattr(record, "batch_rows", None)
        if rows is None:  # a record made without them: from ``batch`` (all runs)
            b = np.asarray(record.batch, dtype=np.int64)
            rows = np.broadcast_to(b, (R, b.shape[-1])) if b.size else np.zeros((R, 0), int)
        self._store.append(iteration=record.iteration, epoch=record.epoch, params=params,
                           train_loss=record.train_loss, lr=record.lr,
                           grad_norm=np.linalg.norm(record.grad, axis=1),
                           update_norm=np.linalg.norm(record.update, axis=1),
                           active=record.active, batch_rows=rows)
        if record.epoch_end:
            names = tuple(record.metrics)
            if self._ep is None:
                self._metric_names = names
                self._ep = Buffers({"epoch": ((), np.int64), "iteration": ((), np.int64),
                                    "params": ((R, P), np.float64),
                                    **{k: ((R,), np.float64) for k in names}}, capacity=16)
            elif names != self._metric_names:
                raise ValueError(f"epoch metrics changed from {list(self._metric_names)} to "
                                 f"{list(names)}")
            self._ep.append(epoch=record.epoch, iteration=record.iteration, params=params,
                            **record.metrics)
        self.stop_reason = np.array(record.stop_reason, dtype=object)
        self.stop_step = np.array(record.stop_step)
        self.stop_epoch = np.array(record.stop_epoch)
        detail = getattr(record, "stop_detail", None)
        self.stop_detail = np.full(R, "", dtype=object) if detail is None else \
            np.array(detail, dtype=object)
        self.best_epoch = None if record.best_epoch is None else np.array(record.best_epoch)

    def _epoch_arr(self, name):
        return np.zeros(0) if self._ep is None else np.array(self._ep.view(name))

    iterations = column("iteration", "(T+1,) iteration numbers")
    epochs = column("epoch", "(T+1,) epoch of each iteration")
    params = column("params", "(T+1, R, P) parameters")
    train_loss = column("train_loss", "(T+1, R) batch losses")
    lr = column("lr", "(T+1, R) learning rates")
    grad_norm = column("grad_norm", "(T+1, R) batch grad norms")
    update_norm = column("update_norm", "(T+1, R) update norms")
    active = column("active", "(T+1, R) still running")
    batch_rows = column("batch_rows", "(T+1, R, B) rows of each run's batch, -1 padded")
    epoch_index = _epoch_column("epoch", "(E+1,) epochs")
    epoch_iteration = _epoch_column("iteration", "(E+1,) iteration that closed each epoch")
    epoch_params = _epoch_column("params", "(E+1, R, P) parameters at each epoch end")

    @property
    def metric_names(self) -> tuple[str, ...]:
        return self._metric_names

    def metric(self, name: str) -> np.ndarray:
        """``(E+1, R)`` values of an epoch metric such as ``"val_loss"``."""
        if name not in self._metric_names:
            raise ValueError(f"metric must be one of {list(self._metric_names)}; "
                             f"got {name!r}")
        return np.array(self._ep.view(name))

    def epoch_rows(self) -> list[dict]:
        """One dict per (epoch, run): epoch, iteration, run, every epoch metric,
        stop_reason (once the run has stopped, else ""); when some run diverged also
        stop_detail (its cause); when events were added also events (those of the
        iterations this epoch closed, see :meth:`.records.EventLog.event_text`)."""
        rows = []
        if self._ep is None:
            return rows
        scores = {k: self._ep.view(k) for k in self._metric_names}
        epochs, its = self._ep.view("epoch").tolist(), self._ep.view("iteration").tolist()
        with_detail = any(self.stop_detail)
        for i, (e, t) in enumerate(zip(epochs, its, strict=True)):
            first = its[i - 1] + 1 if i else 0
            for r in range(len(self.stop_reason)):
                row = {"epoch": e, "iteration": t, "run": r}
                row.update({k: float(v[i, r]) for k, v in scores.items()})
                done = 0 <= self.stop_step[r] <= t
                row["stop_reason"] = str(self.stop_reason[r]) if done else ""
                if with_detail:
                    row["stop_detail"] = str(self.stop_detail[r]) if done else ""
                if self._events:
                    row["events"] = self.event_text(t, r, first)
                rows.append(row)
        return rows

    def iteration_rows(self) -> list[dict]:
        """One dict per (iteration, run): iteration, epoch, run, train_loss, lr, grad_norm,
        update_norm, active; when events were added also events (that iteration's)."""
        rows = []
        if self._store is None:
            return rows
        it = {k: self._store.view(k) for k in self._store.names
              if k not in ("params", "batch_rows")}
        for i in range(len(self)):
            for r in range(it["train_loss"].shape[1]):
                rows.append({"iteration": int(it["iteration"][i]), "epoch": int(it["epoch"][i]),
                             "run": r, "train_loss": float(it["train_loss"][i, r]),
                             "lr": float(it["lr"][i, r]),
                             "grad_norm": float(it["grad_norm"][i, r]),
                             "update_norm": float(it["update_norm"][i, r]),
                             "active": bool(it["active"][i, r])})
                if self._events:
                    rows[-1]["events"] = self.event_text(int(it["iteration"][i]), r)
        return rows

    def to_csv(self, path_or_buffer, level: str = "epoch") -> None:
        """Write :meth:`epoch_rows` (``level="epoch"``) or :meth:`iteration_rows`
        (``level="iteration"``) as CSV to a path or a text buffer
        (:func:`.records.write_csv`)."""
        if level not in ("epoch", "iteration"):
            raise ValueError(f"level must be 'epoch' or 'iteration'; got {level!r}")
        rows = self.epoch_rows() if level == "epoch" else self.iteration_rows()
        if not rows:
            raise ValueError("the history is empty; append a record first")
        write_csv(rows, path_or_buffer)
