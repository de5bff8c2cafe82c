r"""Gradient descent from the point put by hand, one step a frame.

The run is the engine's (:func:`descentlab.engine.runner.init_run` /
:func:`~descentlab.engine.runner.step_run`) on the plane's problem
(:class:`~.build.Plane`): the loss as a function of the two hand coordinates with the
other coordinates held, so the path stays on the drawn slice.  The optimizer is
``kinds.build("GD", lr, 1)``.  A learning-rate change while the run is going is a live
retune: the run keeps going, the change is recorded as an event (step, "lr", old -> new)
and shown in the path's label; the past is never relabelled.

:meth:`ModelsSession.view` is plain arrays: the point, its gradient on the plane, the path
so far, the full :math:`\theta`, the fit in data space, the loss and metrics on train and
validation (``engine.training.evaluate``) and the gradient check.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from descentlab.engine import kinds, models, records, runner, training
from descentlab.widgets.core.decimate import display_indices
from descentlab.widgets.core.lab import Session
from descentlab.widgets.ui.format import num

from . import build as B
from .config import Config

__all__ = ["ModelsSession", "View", "ModelsHistory"]


class View(NamedTuple):
    """What the charts and panels draw at one step (plain arrays and numbers)."""

    step: int
    point: np.ndarray        # (2,) the hand coordinates now
    grad: np.ndarray         # (2,) dL/d(hand coordinates) there
    path: np.ndarray         # (k, 2) the path so far (at most 2,000 points, the latest last)
    theta: np.ndarray        # (P,)
    fit_x: np.ndarray        # mode line / curve / probability: (n,) ; boundary: (nx,)
    fit_y: np.ndarray        # (1, n) ; boundary: grid ys (ny,)
    margins: np.ndarray      # boundary: (C, ny, nx), else empty
    values: dict             # train_/val_ loss and metrics, floats
    check: tuple             # engine GradientCheck: analytic (P,), numerical (P,), rel_error
    lr: float                # the learning rate of the next step
    label: str               # the path's label ("GD η 0.01→0.1 @85")
    taken: int               # the last step really taken by ``step`` (0: none yet)
    eq_prev: np.ndarray      # (2,) the point that step started from
    eq_grad: np.ndarray      # (2,) the gradient it used
    eq_lr: float             # its own learning rate
    eq_point: np.ndarray     # (2,) where it landed
    stop: str                # why the run stopped by ``step``, in words ("" while going)
    metrics: tuple           # the task's metric names
    steps: np.ndarray        # (k,) the steps of the loss curve (decimated like the path)
    losses: np.ndarray       # (k,) the training loss at those steps
    events: np.ndarray       # the steps after which η changed live (up to ``step``)
    plane: B.Plane


class ModelsHistory:
    """The run's records and its live events; ``to_csv`` writes one row per step."""

    def __init__(self, names):
        self.names = tuple(names)
        self.records = runner.History()

    @property
    def events(self):
        """The live changes (``engine.records.Event``), in the order they happened."""
        return self.records.events

    def to_rows(self) -> list[dict]:
        """One dict per step: the two hand coordinates by name, loss, lr, gradient norm,
        stop reason and live events."""
        h = self.records
        if len(h) == 0:
            return []
        gnorm = np.linalg.norm(h.grad[:, 0], axis=1)
        rows = []
        for t in range(len(h)):
            rows.append({"step": int(h.steps[t]), self.names[0]: float(h.params[t, 0, 0]),
                         self.names[1]: float(h.params[t, 0, 1]),
                         "loss": float(h.loss[t, 0]), "lr": float(h.lr[t, 0]),
                         "grad_norm": float(gnorm[t]),
                         "stop_reason": str(h.stop_reason[0]) if t == len(h) - 1 else "",
                         "events": h.event_text(int(h.steps[t]), 0)})
        return rows

    def to_csv(self, buf) -> None:
        """Write :meth:`to_rows` as CSV to the text buffer ``buf``."""
        records.write_csv(self.to_rows(), buf)


class ModelsSession(Session):
    """Gradient descent on the plane of a validated :class:`~.config.Config`."""

    def restart(self, cfg: Config) -> None:
        """Start over from ``cfg.start`` (the plane and its problem are already built)."""
        self.cfg = cfg
        self.lr = cfg.lr
        self.horizon = cfg.steps
        p = cfg.plane
        self.stopping = runner.Stopping(max_steps=cfg.steps)
        self.opt = kinds.build(cfg.kind, cfg.lr, 1)
        self.state = runner.init_run(p.problem, self.opt, np.asarray(cfg.start),
                                     stopping=self.stopping)
        self.history = ModelsHistory(p.built.names[i] for i in p.pair)
        self.history.records.append(runner.start_record(self.state))

    @property
    def step(self) -> int:
        """The latest step taken."""
        return self.state.step

    @property
    def active(self) -> bool:
        """False once the run has stopped (step limit or divergence)."""
        return bool(self.state.active[0])

    def advance(self, k: int) -> bool:
        """Take up to ``k`` steps; False once the run has stopped."""
        p = self.cfg.plane
        for _ in range(int(k)):
            if not self.active:
                return False
            self.state, rec = runner.step_run(p.problem, self.opt, self.state, self.stopping)
            self.history.records.append(rec)
        return self.active

    def retune(self, lr: float) -> None:
        """A new learning rate from the next step on, recorded as an event."""
        old = self.lr
        if lr == old:
            return
        self.opt = kinds.build(self.cfg.kind, lr, 1)
        self.history.records.add_event(self.step, "lr", old, lr)
        self.lr = lr

    def label(self, step: int) -> str:
        """``"GD η 0.01"`` or ``"GD η 0.01→0.1 @85"``: the events up to ``step``."""
        ev = [e for e in self.history.events if e.step <= step and e.param == "lr"]
        lrs = [self.cfg.lr] + [e.new for e in ev]
        text = "GD η " + "→".join(num(v, 3) for v in lrs)
        if ev:
            text += " @" + ",".join(str(e.step) for e in ev)
        return text

    def view(self, step: int) -> View:
        """The plain arrays the charts draw at ``step`` (clamped to the steps taken)."""
        step = int(min(max(step, 0), self.step))
        p, h = self.cfg.plane, self.history.records
        built = p.built
        ds, model = built.dataset, built.model
        point = np.array(h.params[step, 0])
        grad = np.array(h.grad[step, 0])
        theta = p.theta(point)
        g = p.grid
        empty = np.zeros(0)
        with np.errstate(all="ignore"):
            if g.mode == "boundary":
                M = B.margins(model, theta, g.points).reshape(-1, len(g.ys), len(g.xs))
                fit_x, fit_y, margins = g.xs, g.ys, M
            else:
                pred = model.predict(theta[None], g.points)[0]
                if pred.ndim == 2:                       # softmax on one feature
                    pred = np.argmax(pred, axis=1).astype(float)
                fit_x, fit_y, margins = g.xs, pred[None], empty
            values = {k: float(v[0]) for k, v in
                      training.evaluate(model, ds, theta[None]).items()}
            check = models.gradient_check(model, ds.X_train, ds.y_train, theta)
        lr_next = self.lr if step == self.step else float(h.lr[min(step + 1, self.step), 0])
        taken, stop = self._taken(step)
        nan2 = np.full(2, np.nan)
        eq = ((np.array(h.params[taken - 1, 0]), np.array(h.grad[taken - 1, 0]),
               float(h.lr[taken, 0]), np.array(h.params[taken, 0])) if taken > 0
              else (nan2, nan2, float("nan"), nan2))
        idx = display_indices(step + 1)
        path = np.array(h.params[idx, 0])
        events = np.array([e.step for e in self.history.events if e.step <= step], float)
        return View(step=step, point=point, grad=grad, path=path, theta=theta, fit_x=fit_x,
                    fit_y=fit_y, margins=margins, values=values, check=check, lr=lr_next,
                    label=self.label(step), taken=taken, eq_prev=eq[0], eq_grad=eq[1],
                    eq_lr=eq[2], eq_point=eq[3], stop=stop,
                    metrics=training.DEFAULT_METRICS[ds.task],
                    steps=np.array(h.steps[idx], float), losses=np.array(h.loss[idx, 0]),
                    events=events, plane=p)

    def _taken(self, step: int) -> tuple[int, str]:
        """The last step really taken by ``step`` and the stop by then, in words: a
        diverged step is not taken (the run keeps its last finite point)."""
        s = self.state
        if s.active[0] or s.stop_step[0] > step:
            return step, ""
        t, reason = int(s.stop_step[0]), str(s.stop_reason[0])
        if reason == "diverged":
            detail = str(s.stop_detail[0]) if s.stop_detail is not None else ""
            why = {"nonfinite": "its loss or gradient would not be a finite number",
                   "loss_above": "its loss would exceed 1e12",
                   "loss_below": "its loss would fall below −1e12"}.get(detail, "it diverged")
            return max(t - 1, 0), (f"step {t} was not taken: {why} (η = {_lr_text(self, t)} "
                                   f"is too large here); the point shown is the last finite one")
        if reason == "max_steps":
            return step, f"stopped: the step limit {t} was reached"
        return step, f"stopped at step {t}: {reason}"

    def messages(self, step: int) -> list[str]:
        """The run's stop and live changes up to ``step``, in words."""
        out = []
        for e in self.history.events:
            if e.step <= step:
                out.append(f"step {e.step}: learning rate changed live {num(e.old, 3)} → "
                           f"{num(e.new, 3)}")
        s = self.state
        if not s.active[0] and s.stop_step[0] <= step:
            reason, t = str(s.stop_reason[0]), int(s.stop_step[0])
            detail = str(s.stop_detail[0]) if s.stop_detail is not None else ""
            if reason == "diverged" and t == 0:
                out.append("the loss at the start is not a finite number below 1e12: "
                           "choose a start closer to the fit")
            elif reason == "diverged":
                why = {"nonfinite": "the loss or the parameters stopped being finite numbers",
                       "loss_above": "the loss exceeded 1e12",
                       "loss_below": "the loss fell below −1e12"}.get(detail, detail)
                out.append(f"diverged at step {t}: {why}; the point shown is the last "
                           f"finite one (η = {_lr_text(self, t)} is too large here); lower η "
                           f"and press reset")
            elif reason == "max_steps":
                out.append(f"reached the step limit {t}; press reset (R) to run again, or "
                           f"move (w, b) to start from another point")
            else:
                out.append(f"stopped at step {t}: {reason}")
        return out


def _lr_text(session: ModelsSession, t: int) -> str:
    """The learning rate of step ``t`` as shown (3-4 digits)."""
    h = session.history.records
    return num(h.lr[min(t, len(h) - 1), 0], 3)
