r"""A search played a round a frame: each frame trains the next round with the engine.

A round is one configuration (grid, random, and the batch sizes of step 2) or one rung of
successive halving / Hyperband (the survivors of the previous rung, ranked by
:func:`~.build.rank`, trained for :math:`\eta` times the epochs).  The log grows live;
:meth:`TuningSession.view` gives the rows so far (plain numbers) and the ranked table;
:attr:`TuningSession.history` writes the full log as CSV.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from descentlab.engine import records, tuning
from descentlab.widgets.core.lab import Session
from descentlab.widgets.ui.format import num

from . import build as B
from .config import Config, Trial

__all__ = ["TuningSession", "View", "TuningHistory"]


class View(NamedTuple):
    """The rows trained up to ``step`` (the prior step's first), as arrays and a table."""

    step: int
    lr: np.ndarray           # (n,)
    score: np.ndarray        # (n,)
    batch_size: np.ndarray   # (n,) int
    rung: np.ndarray         # (n,) int
    latest: np.ndarray       # (n,) bool: trained in the round on screen
    ranked: tuple            # Trial rows best first (this stage)
    best: Trial | None


class TuningHistory:
    """The full log (every trained configuration of both steps); ``to_csv``."""

    def __init__(self):
        self.rows: list[dict] = []

    def to_csv(self, buf) -> None:
        """Write every trained configuration (both steps) as CSV to ``buf``."""
        records.write_csv(self.rows, buf, list(Trial._fields) + ["metric", "best_epoch"])


def _trial(row: dict) -> Trial:
    return Trial(*(row[k] for k in Trial._fields))


class TuningSession(Session):
    """The rounds of a validated :class:`~.config.Config`, trained one a frame."""

    def restart(self, cfg: Config) -> None:
        """Start the search of ``cfg`` over (step 1's rows stay when this is step 2)."""
        self.cfg = cfg
        self.history = TuningHistory()
        self.history.rows.extend(dict(r) for r in cfg.prior)
        self.first = len(cfg.prior)
        self.ends = [self.first]          # history row count after each round

    @property
    def step(self) -> int:
        """The number of rounds trained."""
        return len(self.ends) - 1

    @property
    def horizon(self) -> int:
        """The number of rounds of the search."""
        return len(self.cfg.plan.rounds)

    @property
    def done(self) -> bool:
        """True once every round is trained."""
        return self.step >= self.horizon

    def _rows(self, k: int) -> list[dict]:
        return self.history.rows[self.ends[k - 1]:self.ends[k]]

    def advance(self, k: int) -> bool:
        """Train the next ``k`` rounds; False when the search is over."""
        p, b = self.cfg.plan, self.cfg.built
        for _ in range(int(k)):
            if self.done:
                break
            t = self.step
            rnd = p.rounds[t]
            if rnd.configs:
                configs = [dict(c) for c in rnd.configs]
                ids = list(range(t, t + 1)) if len(configs) == 1 else list(range(len(configs)))
            else:                       # a later rung: the best of the previous rung
                prev = B.rank(self._rows(t))[:rnd.keep]
                configs = [{"lr": r["lr"], "batch_size": r["batch_size"]} for r in prev]
                ids = [r["trial"] for r in prev]
            rows = tuning.evaluate_configs(b.model, b.dataset, configs, epochs=rnd.epochs,
                                           batch_size=p.batch_size, seed=p.seed,
                                           metric=self.cfg.metric, rung=rnd.rung)
            for i, row in zip(ids, rows, strict=True):
                row.update(trial=i, round=t + 1, stage=rnd.stage,
                           batch_size=int(row.get("batch_size", p.batch_size)))
            self.history.rows.extend(rows)
            self.ends.append(len(self.history.rows))
        return not self.done

    def view(self, step: int) -> View:
        """The rows trained up to round ``step`` and this step's ranked table."""
        step = int(min(max(step, 0), self.step))
        rows = self.history.rows[: self.ends[step]]
        mine = self.history.rows[self.first: self.ends[step]]
        n = len(rows)
        latest = np.zeros(n, dtype=bool)
        if step > 0:
            latest[self.ends[step - 1]:] = True
        ranked = tuple(_trial(r) for r in B.rank(mine))
        return View(step, np.array([r["lr"] for r in rows], dtype=float),
                    np.array([r["score"] for r in rows], dtype=float),
                    np.array([r["batch_size"] for r in rows], dtype=int),
                    np.array([r["rung"] for r in rows], dtype=int), latest, ranked,
                    ranked[0] if ranked else None)

    def messages(self, step: int) -> list[str]:
        """What round ``step`` trained, what diverged and, at the end, the best."""
        step = min(step, self.step)
        p = self.cfg.plan
        if step == 0:
            what = ("step 2: the batch sizes at the best lr" if p.stage == "batch size"
                    else f"step 1: {p.search} search over the learning rate")
            return [f"{what}: {self.horizon} rounds; press play or step to train the first"]
        rnd = p.rounds[step - 1]
        rows = self._rows(step)
        out = [f"round {step} / {self.horizon}: trained {len(rows)} configuration"
               f"{'s' if len(rows) != 1 else ''} for {rnd.epochs} epochs"
               + (f" (rung {rnd.rung})" if p.search in ("successive halving", "hyperband")
                  and p.stage == "lr" else "")]
        bad = [r for r in rows if r["stop_reason"] == "diverged"]
        if bad:
            out.append(f"{len(bad)} diverged (the loss overflowed): lr "
                       + ", ".join(num(r["lr"], 3) for r in bad) + " is too large")
        if step == self.horizon:
            best = self.view(step).best
            out.append(f"done: best lr {num(best.lr, 3)} with batch size {best.batch_size}"
                       f" ({self.cfg.metric} {num(best.score, 4)})"
                       + ("; now try step 2: the batch size at this lr"
                          if p.stage == "lr" else ""))
        return out
