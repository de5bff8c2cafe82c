r"""A data session: the training behind a data lab, stepped a frame at a time.

``restart(cfg)`` takes the :class:`~.build.Built` that validation made (no second build)
and starts one :class:`~descentlab.engine.training.TrainState` per group; ``advance(k)``
takes up to ``k`` iterations of every active group with
:func:`~descentlab.engine.training.train_step` (groups in lockstep: iteration ``t`` of the
lab is iteration ``t`` of every group still running).  ``update(cfg)`` decides: a change
of what a run *is* (data, degree, batch size, L2 penalty, kinds, number of runs, seed,
early stopping on/off, epochs lowered below the current epoch) restarts; a live tuning
change (``lr``, ``weight_decay``, ``momentum``, the stopping rules) keeps the runs and their
optimizer state, swaps in the new optimizers and records an event (step, parameter,
old -> new) in the group's :class:`~descentlab.engine.training.TrainHistory`
(``add_event``; :attr:`DataSession.events` lists them lab-wide).

Each group keeps the engine's own :class:`~descentlab.engine.training.TrainHistory`; the
session also keeps lab-wide arrays over iterations (mini-batch loss before the step --
NaN once a run's group stopped --, epoch position :math:`t/\lceil N/B\rceil`, the learning
rate each step used, parameters, the mini-batch gradient and the batch rows the engine
drew), so a frame slices instead of rebuilding.  :meth:`view` gives one :class:`View` of
plain arrays at a step; :meth:`messages` says in words what happened by that step.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from descentlab.engine import batching, kinds, models, records, training
from descentlab.engine import optimizers as O
from descentlab.widgets.core.decimate import MAX_POINTS, display_indices
from descentlab.widgets.ui.format import num

from .build import Built, batch_noise, gradient_noise
from .config import RESTART_FIELDS, DataConfig

__all__ = ["DataSession", "View", "SurfaceBox", "SurfaceView", "NoiseView", "LabHistory", "EXTRAS"]

SURFACE_GRID = 60

EXTRAS = ("fit", "metrics", "surface", "noise")
"""What a view may compute beyond the series, for the charts a lab shows.  ``"internals"``
(not among the defaults) also records, after every step, each run's per-coordinate step
size ``eff_lr`` from :func:`descentlab.engine.optimizers.internals`."""


class SurfaceBox(NamedTuple):
    """The plotted ``(w, b)`` box and the full-data loss on it (``loss (n, n)``
    :math:`L(w, b)` from :func:`descentlab.engine.models.loss_grid`, rows following
    ``bs``)."""

    w_range: tuple
    b_range: tuple
    ws: np.ndarray
    bs: np.ndarray
    loss: np.ndarray


class SurfaceView(NamedTuple):
    r"""The mini-batch surface at iteration ``t``: ``point (R, 2)`` the parameters
    :math:`\theta_{t-1}` the step started from, ``full_grad (R, 2)``
    :math:`\nabla L(\theta_{t-1})` on the full training set, ``batch_grad (R, 2)`` the
    mini-batch gradient the engine stepped with (the full one at ``t = 0``), ``rows``
    the selected run's batch (all rows at ``t = 0``) and ``loss (n, n)`` that batch's
    :math:`L_{\mathcal B}(w, b)` on the surface box
    (:func:`descentlab.engine.models.loss_grid`)."""

    point: np.ndarray
    full_grad: np.ndarray
    batch_grad: np.ndarray
    rows: np.ndarray
    loss: np.ndarray


class NoiseView(NamedTuple):
    r"""Gradient noise at the shown step: ``noise (R,)``
    :math:`\mathbb{E}\lVert g_{\mathcal B}-\nabla L\rVert^2` of each run at its own
    parameters and batch size; ``sizes``, ``curve`` the same for the selected run over
    batch sizes 1..N."""

    noise: np.ndarray
    sizes: np.ndarray
    curve: np.ndarray


class View(NamedTuple):
    """What every data chart draws at iteration ``step``: plain arrays (series decimated)."""

    step: int
    latest: int
    steps: np.ndarray        # (n,) iteration numbers
    loss: np.ndarray         # (R, n) mini-batch loss before each step
    epoch: np.ndarray        # (R, n) epoch position of each iteration
    lr: np.ndarray           # (R, n) learning rate each step used
    params: np.ndarray       # (R, P) at ``step``
    path: np.ndarray         # (R, n, P) decimated trajectory
    epochs: np.ndarray       # (R, E) epoch numbers closed by ``step`` (NaN padded)
    train_loss: np.ndarray   # (R, E) full training objective per epoch
    val_loss: np.ndarray     # (R, E) validation loss per epoch
    best: np.ndarray         # (R,) early stopping's best epoch by ``step`` (-1: none)
    best_val: np.ndarray     # (R,) its validation loss (NaN: none)
    event_steps: np.ndarray  # (k,) steps after which a setting changed, up to ``step``
    event_epochs: np.ndarray  # (k,) the same as epoch positions (of the runs they concern)
    selected: int
    batch: np.ndarray        # selected run's batch rows at ``step`` (empty at 0)
    fit: np.ndarray          # (R, G) fitted curve, (R, m, m) logits on a grid, or (R, 0)
    metrics: dict            # "train_<m>" / "val_<m>" -> (R,) at ``step``
    surface: SurfaceView | None
    noise: NoiseView | None
    eff_lr: np.ndarray | None = None  # (R, P) per-coordinate step size after ``step``
    #                                   (engine internals; NaN: an adaptive run at step 0)


class LabHistory:
    """The whole run history: every (epoch, run) row of every group, runs numbered
    lab-wide, with the run's label, batch size and the live changes made during that
    epoch (``events``, from the groups' histories).  ``to_csv`` writes it with the
    engine's CSV writer."""

    def __init__(self, session: DataSession):
        self.session = session

    def rows(self) -> list[dict]:
        s = self.session
        out = []
        for g, h in zip(s.groups, s.histories, strict=True):
            for row in h.epoch_rows():
                r = g.index[row["run"]]
                out.append({"epoch": row["epoch"], "iteration": row["iteration"], "run": r,
                            "label": s.labels[r], "batch_size": g.batch_size,
                            **{k: v for k, v in row.items()
                               if k not in ("epoch", "iteration", "run", "events")},
                            "events": row.get("events", "")})
        out.sort(key=lambda d: (d["iteration"], d["run"]))
        return out

    def to_csv(self, f) -> None:
        records.write_csv(self.rows(), f)


class DataSession:
    """The engine objects of a data lab and their growing histories.

    ``builder`` is the model's :class:`~.build.Builder` (its cache holds what validation
    built); ``extras`` names what views compute for the lab's charts (:data:`EXTRAS`)."""

    def __init__(self, cfg: DataConfig, builder, extras=EXTRAS):
        self.builder = builder
        self.extras = frozenset(extras)
        self.wanted = self.extras     # what the next views compute (the charts on screen)
        self.selected = 0
        self.restart(cfg)

    # ---- building

    def restart(self, cfg: DataConfig) -> None:
        """Start over from iteration 0 with ``cfg`` (its :class:`Built` from the cache)."""
        built: Built = self.builder.build(cfg)
        self.built, self.cfg, self.start_cfg = built, cfg, cfg
        ds = self.dataset = built.dataset
        self.N = built.n_train
        self.groups, self.rules = built.groups, built.rules
        R = len(cfg.runs)
        self.group_of = np.zeros(R, np.int64)
        self.slot = np.zeros(R, np.int64)
        self.per_epoch = np.empty(R, dtype=np.int64)
        self.states, self.histories, self._best = [], [], []
        for gi, g in enumerate(self.groups):
            self.group_of[list(g.index)] = gi
            self.slot[list(g.index)] = np.arange(len(g.index))
            self.per_epoch[list(g.index)] = batching.iterations_per_epoch(self.N, g.batch_size)
            s = training.init_train(g.model, ds, g.optimizer, batch_size=g.batch_size,
                                    seed=cfg.seed, runs=len(g.index), rules=self.rules)
            self.states.append(s)
            self.histories.append(training.TrainHistory([training.start_record(s)]))
            self._best.append([(0, self.histories[-1].best_epoch)])
        self.notes: dict[int, str] = {}     # stopped runs changed since: reset needed
        self.labels = self._labels()
        P = self.states[0].params.shape[1]
        f = np.float64
        self.track = "internals" in self.extras
        shapes = {"loss": ((R,), f), "epoch": ((R,), f), "lr": ((R,), f),
                  "params": ((R, P), f), "grad": ((R, P), f)}
        self.series = records.Buffers({**shapes, "eff_lr": ((R, P), f)} if self.track
                                      else shapes)
        params = np.zeros((R, P))
        loss, lr = np.full(R, np.nan), np.full(R, np.nan)
        for g, s, h in zip(self.groups, self.states, self.histories, strict=True):
            params[list(g.index)] = s.params
            loss[list(g.index)] = h.train_loss[0]
            lr[list(g.index)] = h.lr[0]
        start = {"eff_lr": self._eff_lr(np.full((R, P), np.nan))} if self.track else {}
        self.series.append(loss=loss, epoch=np.zeros(R), lr=lr, params=params,
                           grad=np.full((R, P), np.nan), **start)
        self.surface_box = self._surface_box() if "surface" in self.extras else None

    def _eff_lr(self, prev: np.ndarray) -> np.ndarray:
        r"""``(R, P)`` each run's per-coordinate step size :math:`\eta^{\rm eff}_t` of its
        latest update (``eff_lr`` of :func:`descentlab.engine.optimizers.internals`, with
        the optimizer that took it); a group that took no step keeps ``prev``'s rows."""
        out = prev.copy()
        for g, s in zip(self.groups, self.states, strict=True):
            eff = O.internals(g.optimizer, s.opt_state, s.params).get("eff_lr")
            if eff is not None:
                out[list(g.index)] = eff
        return out

    def needs_restart(self, cfg: DataConfig) -> bool:
        """Whether ``cfg`` changes what a run *is* (not only how it is tuned)."""
        old = self.cfg
        if any(getattr(cfg, f) != getattr(old, f) for f in RESTART_FIELDS
               if f != "custom") or cfg.custom is not old.custom:
            return True
        if len(cfg.runs) != len(old.runs):
            return True
        if any((a.kind, a.batch_size, a.l2) != (b.kind, b.batch_size, b.l2)
               for a, b in zip(cfg.runs, old.runs, strict=True)):
            return True
        done = max(int(s.epoch) for s in self.states)
        return cfg.epochs < done

    def update(self, cfg: DataConfig) -> bool:
        """Apply a new configuration: retune live when only tuning changed and a run is
        under way, else restart.  True when it restarted."""
        if self.step == 0 or not self.running or self.needs_restart(cfg):
            self.restart(cfg)
            return True
        self.retune(cfg)
        return False

    def retune(self, cfg: DataConfig) -> None:
        """Swap in ``cfg``'s optimizers and rules, keeping the runs and the optimizer state;
        record what changed as events after the current step."""
        built: Built = self.builder.build(cfg)
        old, t = self.cfg, self.step
        for g, h, st in zip(self.groups, self.histories, self.states, strict=True):
            for j, r in enumerate(g.index):
                a, b = old.runs[r], cfg.runs[r]
                changed = [(n, getattr(a, n), getattr(b, n)) for n in ("lr", "weight_decay")
                           if getattr(a, n) != getattr(b, n)]
                if cfg.momentum != old.momentum and "momentum" in kinds.uses(b.kind):
                    changed.append(("momentum", old.momentum, cfg.momentum))
                if not changed:
                    continue
                if not st.active[j]:          # a stopped run: its label and past stay
                    self.notes[r] = (f"{self.labels[r]} has stopped: its new "
                                     f"{', '.join(n for n, _, _ in changed)} takes effect "
                                     "after a reset (R).")
                    continue
                for name, before, after in changed:
                    h.add_event(t, name, before, after, (j,))
        self.built, self.cfg = built, cfg
        self.groups, self.rules = built.groups, built.rules
        if cfg.epochs > old.epochs and not cfg.early_stopping:
            self._resume_finished(cfg.epochs)
        self.labels = self._labels()

    def _resume_finished(self, epochs: int) -> None:
        """Runs that finished their epochs go on when the epoch limit grows."""
        for i, s in enumerate(self.states):
            resume = (s.stop_reason == "max_epochs") & (s.epoch < epochs)
            if resume.any():
                self.states[i] = s._replace(
                    active=s.active | resume,
                    stop_reason=np.where(resume, "", s.stop_reason).astype(object),
                    stop_step=np.where(resume, -1, s.stop_step),
                    stop_epoch=np.where(resume, -1, s.stop_epoch))

    @property
    def events(self) -> list[records.Event]:
        """Every live change of every group, runs numbered lab-wide, in step order."""
        out = []
        for g, h in zip(self.groups, self.histories, strict=True):
            out += [e._replace(runs=None if e.runs is None else
                               tuple(g.index[j] for j in e.runs)) for e in h.events]
        return sorted(out, key=lambda e: e.step)

    def _labels(self) -> list[str]:
        """Each run's label: its settings at the start, then every live change
        (``"Adam B=8 η=0.01 η→0.1 @85"``); the past is never relabelled."""
        out = [run.label(self.N) for run in self.start_cfg.runs]
        for e in self.events:
            sym = {"lr": "η", "weight_decay": "wd", "momentum": "μ"}.get(e.param, e.param)
            for r in range(len(out)) if e.runs is None else e.runs:
                out[r] += f" {sym}→{num(e.new, 3)} @{e.step}"
        return out

    # ---- stepping

    @property
    def step(self) -> int:
        return len(self.series) - 1

    @property
    def horizon(self) -> int:
        """The most iterations any run can take: its epochs times the longest epoch."""
        return max(int(self.cfg.epochs) * int(self.per_epoch.max()), self.step)

    @property
    def running(self) -> bool:
        return any(bool(s.active.any()) for s in self.states)

    @property
    def history(self) -> LabHistory:
        return LabHistory(self)

    def advance(self, k: int) -> bool:
        """Up to ``k`` iterations of every group still running.  True while any runs."""
        ds, rules = self.dataset, self.rules
        R = len(self.cfg.runs)
        for _ in range(int(k)):
            if not self.running:
                break
            t = self.step + 1
            prev = self.series.view("params")[-1]
            loss, ep, lr = np.full(R, np.nan), np.full(R, np.nan), np.full(R, np.nan)
            params, grad = prev.copy(), np.full(prev.shape, np.nan)
            for i, g in enumerate(self.groups):
                s = self.states[i]
                if not s.active.any():
                    continue
                s, rec = training.train_step(g.model, ds, g.optimizer, s, rules)
                self.states[i] = s
                self.histories[i].append(rec)
                if rec.epoch_end:
                    self._best[i].append((rec.iteration, rec.best_epoch))
                idx = list(g.index)
                loss[idx], lr[idx], params[idx], grad[idx] = \
                    rec.train_loss, rec.lr, rec.params, rec.grad
                ep[idx] = t / self.per_epoch[idx]
            more = {"eff_lr": self._eff_lr(self.series.view("eff_lr")[-1])} \
                if self.track else {}
            self.series.append(loss=loss, epoch=ep, lr=lr, params=params, grad=grad, **more)
        return self.running

    # ---- reading

    def batch_rows(self, run: int, t: int) -> np.ndarray:
        """Training rows of run ``run``'s batch at iteration ``t``, as the engine drew them
        (:attr:`TrainHistory.batch_rows <descentlab.engine.training.TrainHistory>`); empty
        at 0 and after the run stopped."""
        h = self.histories[int(self.group_of[run])]
        if t < 1 or t >= len(h):
            return np.zeros(0, dtype=np.int64)
        row = h.batch_rows[t, int(self.slot[run])]
        return np.array(row[row >= 0])

    def _epoch_series(self, step: int):
        R = len(self.cfg.runs)
        cols = []
        for g, h in zip(self.groups, self.histories, strict=True):
            keep = h.epoch_iteration <= step
            cols.append((list(g.index), h.epoch_index[keep], h.metric("train_loss")[keep],
                         h.metric("val_loss")[keep]))
        E = max(2, max(len(c[1]) for c in cols))
        x, tr, va = (np.full((R, E), np.nan) for _ in range(3))
        for idx, e, a, b in cols:
            n = len(e)
            x[idx, :n] = e
            tr[idx, :n] = a.T
            va[idx, :n] = b.T
        return x, tr, va

    def best_epochs(self, step: int) -> np.ndarray:
        """``(R,)`` early stopping's best epoch as of iteration ``step`` (the engine's
        ``TrainRecord.best_epoch`` at the last epoch end by then; -1 without it)."""
        out = np.full(len(self.cfg.runs), -1, dtype=np.int64)
        for g, marks in zip(self.groups, self._best, strict=True):
            last = [b for t, b in marks if t <= step and b is not None]
            if last:
                out[list(g.index)] = last[-1]
        return out

    def view(self, step: int | None = None, max_points: int = MAX_POINTS) -> View:
        """The :class:`View` at iteration ``step`` (default: the latest)."""
        step = self.step if step is None else int(min(max(step, 0), self.step))
        idx = display_indices(step + 1, max_points)
        S = self.series
        params = np.array(S.view("params")[step])
        x, tr, va = self._epoch_series(step)
        best = self.best_epochs(step)
        best_val = np.full(len(best), np.nan)
        for r in np.flatnonzero(best > 0):
            col = np.flatnonzero(x[r] == best[r])
            if len(col):
                best_val[r] = va[r, col[0]]
        ev = [e for e in self.events if e.step <= step]
        ev_steps = np.array([e.step for e in ev], dtype=np.float64)
        ev_epochs = np.array([e.step / self.per_epoch[(e.runs or (0,))[0]] for e in ev],
                             dtype=np.float64)
        sel = min(self.selected, len(self.cfg.runs) - 1)
        want = self.extras & self.wanted
        return View(
            step=step, latest=self.step, steps=idx.astype(np.float64),
            loss=S.view("loss")[idx].T, epoch=S.view("epoch")[idx].T,
            lr=S.view("lr")[idx].T, params=params,
            path=np.transpose(S.view("params")[idx], (1, 0, 2)),
            epochs=x, train_loss=tr, val_loss=va, best=best, best_val=best_val,
            event_steps=ev_steps, event_epochs=ev_epochs, selected=sel,
            batch=self.batch_rows(sel, step),
            fit=self._fit(params) if "fit" in want else np.zeros((len(params), 0)),
            metrics=self._metrics(params) if "metrics" in want else {},
            surface=self._surface(step, sel) if "surface" in want else None,
            noise=self._noise(params, sel) if "noise" in want else None,
            eff_lr=np.array(S.view("eff_lr")[step]) if self.track else None)

    def _fit(self, params: np.ndarray) -> np.ndarray:
        r"""Each run's fit where the data chart draws it: :math:`\hat y` on the curve grid
        (the engine's ``predict``), or the logit :math:`z(x)` on the boundary grid
        (:func:`descentlab.engine.models.logits`; its zero contour is the decision
        boundary :math:`p(y=1\mid x) = 1/2`)."""
        prep = self.built.prepared
        R = params.shape[0]
        if prep.mode == "none":
            return np.zeros((R, 0))
        model = self.groups[0].model
        with np.errstate(all="ignore"):
            if prep.mode == "boundary":
                out = models.logits(model, params, prep.features)
                out = out.reshape(R, len(prep.ys), len(prep.xs))
            else:
                out = model.predict(params, prep.features)
        return np.where(np.isfinite(out), out, np.nan)

    def _by_penalty(self):
        """``(model, runs)`` for each L2 penalty: runs of one penalty share one model
        (groups differing only in batch size are evaluated in one call)."""
        out: dict[float, tuple] = {}
        for g in self.groups:
            model, idx = out.get(g.l2, (g.model, []))
            out[g.l2] = (model, idx + list(g.index))
        return list(out.values())

    def _metrics(self, params: np.ndarray) -> dict:
        """``train_<m>`` / ``val_<m>`` ``(R,)`` at ``params``
        (:func:`descentlab.engine.training.evaluate`, one call per L2 penalty)."""
        out: dict[str, np.ndarray] = {}
        for model, idx in self._by_penalty():
            sc = training.evaluate(model, self.dataset, params[idx], self.rules.metrics)
            for k, v in sc.items():
                out.setdefault(k, np.full(params.shape[0], np.nan))[idx] = v
        return out

    def _surface_box(self) -> SurfaceBox | None:
        """The ``(w, b)`` box of the surface charts and the full-data heat map on it (one
        feature, two parameters only)."""
        ds = self.dataset
        P0 = self.series.view("params")[0]
        if not (ds.task == "regression" and P0.shape[1] == 2):
            return None
        span_w = 2.0 * max(1.0, float(np.abs(ds.y_train).max()))
        c = float(np.mean(ds.y_train))
        w_range = (float(P0[:, 0].min()) - 0.5, span_w)
        b_range = (min(float(P0[:, 1].min()), c) - span_w / 2,
                   max(float(P0[:, 1].max()), c) + span_w / 2)
        ws, bs, Z = models.loss_grid(self.groups[0].model, ds.X_train, ds.y_train, w_range,
                                     b_range, SURFACE_GRID)
        return SurfaceBox(w_range, b_range, ws, bs, Z)

    def _surface(self, step: int, run: int) -> SurfaceView | None:
        box = self.surface_box
        if box is None:
            return None
        ds, S = self.dataset, self.series
        model = self.groups[int(self.group_of[run])].model
        point = np.array(S.view("params")[max(step - 1, 0)])
        with np.errstate(all="ignore"):
            full = model.grad(point, ds.X_train, ds.y_train)
        rows = self.batch_rows(run, step)
        if step == 0 or len(rows) == 0:
            return SurfaceView(point, full, full, np.arange(self.N), box.loss)
        batch = np.array(S.view("grad")[step])
        batch = np.where(np.isfinite(batch), batch, np.nan)  # a stopped group took no step
        _, _, Z = models.loss_grid(model, ds.X_train[rows], ds.y_train[rows], box.w_range,
                                   box.b_range, SURFACE_GRID)
        return SurfaceView(point, full, batch, rows, Z)

    def _noise(self, params: np.ndarray, run: int) -> NoiseView:
        ds, N = self.dataset, self.N
        sigma2 = np.full(params.shape[0], np.nan)
        for model, idx in self._by_penalty():
            sigma2[idx] = gradient_noise(model, params[idx], ds.X_train, ds.y_train)
        B = np.array([r.batch_size for r in self.cfg.runs], dtype=np.float64)
        sizes = np.unique(np.geomspace(1, N, 48).round()).astype(np.float64)
        return NoiseView(batch_noise(sigma2, N, B), sizes, batch_noise(sigma2[run], N, sizes))

    # ---- words

    def stops(self, step: int | None = None) -> list[tuple[int, str, str, int, int]]:
        """``(run, reason, detail, iteration, epoch)`` for every run stopped by ``step``."""
        step = self.step if step is None else step
        out = []
        for g, s in zip(self.groups, self.states, strict=True):
            detail = getattr(s, "stop_detail", None)
            for j, r in enumerate(g.index):
                if s.stop_reason[j] and 0 <= s.stop_step[j] <= step:
                    d = "" if detail is None else str(detail[j])
                    out.append((r, str(s.stop_reason[j]), d, int(s.stop_step[j]),
                                int(s.stop_epoch[j])))
        return sorted(out)

    def messages(self, step: int | None = None) -> list[str]:
        """What happened to the runs by ``step``, in words: one sentence per stopped run
        (its true cause), and when every run has stopped, what a change does now."""
        step = self.step if step is None else step
        best = self.best_epochs(step)
        out = [self.stop_message(r, why, d, t, e, int(best[r]))
               for r, why, d, t, e in self.stops(step)]
        if step >= self.step:
            out += [self.notes[r] for r in sorted(self.notes)]
        if not self.running and step >= self.step:
            out.append("Every run has stopped: press reset (R) to train again; changing a "
                       "setting now starts the runs over with it.")
        return out

    def stop_message(self, run: int, why: str, detail: str, t: int, epoch: int,
                     best: int) -> str:
        cfg, label = self.cfg, self.labels[run]
        r = cfg.runs[run]
        if why == "diverged":
            lr = self.series.view("lr")[t, run] if t < len(self.series) else r.lr
            lr = r.lr if not np.isfinite(lr) else lr
            cause = {
                "nonfinite": "the loss, its gradient or the new parameters overflowed "
                             "(stopped being finite numbers)",
                "loss_above": f"the loss exceeded max_loss = {num(cfg.max_loss)}",
                "loss_below": f"the loss fell below −max_loss = {num(-cfg.max_loss)}",
            }.get(detail, f"the loss exceeded {num(cfg.max_loss)} or stopped being finite")
            return (f"{label} diverged at iteration {t} (epoch {epoch}): {cause} — the "
                    f"learning rate η = {num(lr)} is too large for this data's curvature "
                    f"with batch size {r.batch_size}; try a smaller one. Its parameters are "
                    f"the last finite ones.")
        if why == "early_stopping":
            text = (f"{label} stopped early at epoch {epoch}: the validation loss did not "
                    f"improve by more than min_delta = {num(cfg.min_delta)} for "
                    f"{cfg.patience} epochs in a row (patience) after its best epoch {best}")
            if cfg.restore_best:
                text += f"; its parameters were restored to epoch {best}'s (restore best)"
            return text + "."
        if why == "max_epochs":
            text = f"{label} finished its {cfg.epochs} epochs"
            if cfg.early_stopping and cfg.restore_best and best > 0:
                text += f"; parameters restored to the best epoch {best}"
            return text + "."
        return f"{label} stopped at iteration {t} (epoch {epoch}): {why}."
