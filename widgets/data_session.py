r"""A data session: the training behind a data lab, stepped a frame at a time.

``restart(cfg)`` builds the data, the groups of runs (:func:`.data_model.make_groups`) and
one :class:`~descentlab.engine.training.TrainState` per group; ``advance(k)`` takes up to
``k`` iterations of every active group with
:func:`~descentlab.engine.training.train_step` (groups in lockstep: iteration ``t`` of the
lab is iteration ``t`` of every group still running).  Each group keeps the engine's own
:class:`~descentlab.engine.training.TrainHistory`; the session also keeps lab-wide arrays
over iterations (``loss (T+1, R)`` -- the mini-batch loss before the step, NaN once a run's
group stopped -- ``params (T+1, R, P)`` and the epoch position ``epoch (T+1, R)``,
:math:`t / \lceil N/B \rceil`) so a frame slices instead of rebuilding.
"""

from __future__ import annotations

import csv

import numpy as np

from descentlab.engine import batching, training

from .data_model import DataConfig, make_data, make_groups, make_rules, run_label
from .core.decimate import MAX_POINTS, display_indices

__all__ = ["DataSession", "DataView", "GrowArray", "stop_message"]


class GrowArray:
    """Rows appended into a geometrically grown buffer; ``[:n]`` views, no copies."""

    def __init__(self, shape, fill=np.nan):
        self._buf = np.full((64,) + tuple(shape), fill)
        self._fill, self.n = fill, 0

    def append(self, row) -> None:
        if self.n == self._buf.shape[0]:
            new = np.full((2 * self.n,) + self._buf.shape[1:], self._fill)
            new[: self.n] = self._buf
            self._buf = new
        self._buf[self.n] = row
        self.n += 1

    @property
    def data(self) -> np.ndarray:
        return self._buf[: self.n]


class DataSession:
    """The engine objects of a data lab and their growing histories."""

    def __init__(self, cfg: DataConfig):
        self.restart(cfg)

    def restart(self, cfg: DataConfig) -> None:
        self.cfg = cfg
        prep = make_data(cfg)
        self.dataset, self.features = prep.dataset, prep.features
        ds = self.dataset
        self.N = ds.X_train.shape[0]
        self.groups = make_groups(cfg, ds)
        self.rules = make_rules(cfg).validated(ds.task)
        self.labels = [run_label(r, self.N) for r in cfg.runs]
        R = len(cfg.runs)
        self.states, self.histories = [], []
        for g in self.groups:
            s = training.init_train(g.model, ds, g.optimizer, batch_size=g.batch_size,
                                    seed=cfg.seed, runs=len(g.index), rules=self.rules)
            self.states.append(s)
            rec = training.start_record(s)
            self.histories.append(training.TrainHistory([rec]))
        self._best = [[(0, h.best_epoch)] for h in self.histories]
        self.per_epoch = np.empty(R, dtype=np.int64)
        for g in self.groups:
            self.per_epoch[list(g.index)] = batching.iterations_per_epoch(self.N, g.batch_size)
        P = self.states[0].params.shape[1]
        self.loss = GrowArray((R,))
        self.params = GrowArray((R, P))
        self.epoch = GrowArray((R,))
        self._record(0, [h.train_loss[0] for h in self.histories],
                     [s.params for s in self.states], np.ones(len(self.groups), bool))

    def _record(self, t, losses, params, stepped) -> None:
        R = len(self.cfg.runs)
        loss = np.full(R, np.nan)
        par = self.params.data[-1].copy() if self.params.n else \
            np.zeros(self.params._buf.shape[1:])
        ep = np.full(R, np.nan)
        for g, L, p, ok in zip(self.groups, losses, params, stepped, strict=True):
            idx = list(g.index)
            par[idx] = p
            if ok:
                loss[idx] = L
                ep[idx] = t / self.per_epoch[idx]
        self.loss.append(loss)
        self.params.append(par)
        self.epoch.append(ep)

    # ---- stepping

    @property
    def step(self) -> int:
        return self.loss.n - 1

    @property
    def horizon(self) -> int:
        """The most iterations any run can take: its epochs times the longest epoch."""
        return int(self.cfg.epochs) * int(self.per_epoch.max())

    @property
    def running(self) -> bool:
        return any(bool(s.active.any()) for s in self.states)

    def advance(self, k: int) -> bool:
        """Up to ``k`` iterations of every group still running.  True while any runs."""
        ds, rules = self.dataset, self.rules
        for _ in range(int(k)):
            if not self.running:
                break
            losses, params, stepped = [], [], []
            for i, g in enumerate(self.groups):
                s = self.states[i]
                if s.active.any():
                    s, rec = training.train_step(g.model, ds, g.optimizer, s, rules)
                    self.states[i] = s
                    self.histories[i].append(rec)
                    if rec.epoch_end:
                        self._best[i].append((rec.iteration, rec.best_epoch))
                    losses.append(rec.train_loss)
                    stepped.append(True)
                else:
                    losses.append(None)
                    stepped.append(False)
                params.append(s.params)
            self._record(self.step + 1, losses, params, stepped)
        return self.running

    def view(self, step: int | None = None, max_points: int = MAX_POINTS) -> DataView:
        return DataView(self, self.step if step is None else step, max_points)

    # ---- batches, epochs, words

    def batch(self, run: int, t: int) -> np.ndarray:
        """Training rows of run ``run``'s batch at iteration ``t`` (empty at 0 / stopped)."""
        gi = next(i for i, g in enumerate(self.groups) if run in g.index)
        h = self.histories[gi]
        if t < 1 or t >= len(h):
            return np.zeros(0, dtype=np.int64)
        B, per = self.groups[gi].batch_size, int(self.per_epoch[run])
        e, k = divmod(t - 1, per)
        perm = batching.epoch_permutation(batching.as_seed(self.cfg.seed), e, self.N)
        return perm[k * B:(k + 1) * B]

    def epoch_series(self, name: str, step: int):
        """``x (R, E)`` epochs and ``y (E, R)`` values of epoch metric ``name`` for epochs
        closed by iteration ``step``, NaN-padded where a group has fewer."""
        R = len(self.cfg.runs)
        cols = []
        for g, h in zip(self.groups, self.histories, strict=True):
            keep = h.epoch_iteration <= step
            cols.append((g.index, h.epoch_index[keep], h.metric(name)[keep]))
        E = max(len(c[1]) for c in cols)
        x, y = np.full((R, E), np.nan), np.full((E, R), np.nan)
        for idx, e, v in cols:
            x[list(idx), : len(e)] = e
            y[: len(e), list(idx)] = v
        return x, y

    def best_epochs(self, step: int) -> np.ndarray:
        """``(R,)`` early stopping's best epoch as of iteration ``step`` (the engine's
        ``TrainRecord.best_epoch`` at the last epoch end by then; -1 without it)."""
        out = np.full(len(self.cfg.runs), -1, dtype=np.int64)
        for g, marks in zip(self.groups, self._best, strict=True):
            last = [b for t, b in marks if t <= step and b is not None]
            if last:
                out[list(g.index)] = last[-1]
        return out

    def stops(self, step: int | None = None) -> list[tuple[int, str, int, int]]:
        """``(run, reason, iteration, epoch)`` for every run stopped by ``step``."""
        step = self.step if step is None else step
        out = []
        for g, s in zip(self.groups, self.states, strict=True):
            for j, r in enumerate(g.index):
                if s.stop_reason[j] and 0 <= s.stop_step[j] <= step:
                    out.append((r, str(s.stop_reason[j]), int(s.stop_step[j]),
                                int(s.stop_epoch[j])))
        return sorted(out)

    def messages(self, step: int | None = None) -> list[str]:
        """One sentence per stopped run, explaining why (divergence in words, not NaN)."""
        step = self.step if step is None else step
        best = self.best_epochs(step)
        return [stop_message(self, r, why, t, e, int(best[r])) for r, why, t, e
                in self.stops(step)]

    # ---- export

    def to_csv(self, f) -> None:
        """Every (epoch, run) row of every group, runs numbered lab-wide, with labels."""
        rows = []
        for g, h in zip(self.groups, self.histories, strict=True):
            for row in h.epoch_rows():
                r = g.index[row["run"]]
                rows.append({"epoch": row.pop("epoch"), "iteration": row.pop("iteration"),
                             "run": r, "label": self.labels[r],
                             "batch_size": g.batch_size, **{k: v for k, v in row.items()
                                                            if k != "run"}})
        rows.sort(key=lambda d: (d["iteration"], d["run"]))
        fields = list(dict.fromkeys(k for r in rows for k in r))
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


class DataView:
    """What every data chart draws for one iteration ``step`` (decimated series)."""

    def __init__(self, session: DataSession, step: int, max_points: int = MAX_POINTS):
        self.session = session
        self.step = int(step)
        self.latest = session.step
        self.index = display_indices(self.step + 1, max_points)
        self.steps = self.index.astype(np.float64)             # iteration numbers
        self.loss = session.loss.data[self.index]               # (n, R)
        self.epoch = session.epoch.data[self.index].T           # (R, n)
        self.params = session.params.data[self.step]            # (R, P)
        self.trajectory = session.params.data[self.index]       # (n, R, P)


def stop_message(session: DataSession, run: int, why: str, t: int, epoch: int,
                 best: int) -> str:
    cfg, label = session.cfg, session.labels[run]
    if why == "diverged":
        kind, lr, B = cfg.runs[run][:3]
        return (f"{label} diverged at iteration {t} (epoch {epoch}): the mini-batch loss "
                f"exceeded {cfg.max_loss:g} or stopped being a finite number — the learning "
                f"rate η = {lr:g} is too large for this data's curvature (with batch size "
                f"{B}); try a smaller one. Its parameters are the last finite ones.")
    if why == "early_stopping":
        text = (f"{label} stopped early at epoch {epoch}: the validation loss did not improve "
                f"by more than min_delta = {cfg.min_delta:g} for {cfg.patience} epochs "
                f"(patience) after its best epoch {best}")
        if cfg.restore_best:
            text += f"; its parameters were restored to epoch {best}'s (restore best)"
        return text + "."
    if why == "max_epochs":
        text = f"{label} finished its {cfg.epochs} epochs"
        if cfg.early_stopping and cfg.restore_best and best > 0:
            text += f"; parameters restored to the best epoch {best}"
        return text + "."
    return f"{label} stopped at iteration {t} (epoch {epoch}): {why}."
