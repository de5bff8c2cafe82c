r"""The engine run behind a surface lab, stepped a frame at a time.

``restart(cfg)`` takes the engine objects the model built for ``cfg`` (no second build)
and records step 0; ``update(cfg)`` decides what an edit means:

* a change of what a run *is* (problem, start, seed, kinds, number of runs, sweep range)
  -- or any change before the first step -- restarts;
* a live tuning change (learning rates, momentum, betas, alpha, rho, weight decay)
  swaps the optimizer between steps *keeping the run and its state*, and is
  recorded as an :class:`~descentlab.engine.records.Event` (step, parameter, old -> new,
  runs): the past is never relabelled, the labels say what changed when;
* a change of the schedule or of one of its arguments re-runs from step 0 to the same
  step under the new schedule (so the lr chart is one schedule's curve, never a splice);
* after every run has stopped, another tuning change is kept for the next reset and the
  status says so; a larger ``max_steps`` resumes the runs the step limit stopped.

Reduce-on-plateau (schedule ``"reduce_on_plateau"``) is the runner's: each reduction is a
history event ``plateau_lr`` (:data:`descentlab.engine.runner.PLATEAU_EVENT`), drawn on
the lr chart (``View.drops``), not a live change of a person (not in ``View.events``).

``view(step)`` is what every chart draws (plain arrays, :class:`View`);
``messages(step)`` explains every stop by its true cause.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from descentlab.engine import exercises, runner
from descentlab.engine import optimizers as O
from descentlab.widgets.core.decimate import MAX_POINTS, display_indices
from descentlab.widgets.ui.format import num

from .build import blocks, bounded_below, describe, stable_bound, uses
from .config import RERUNS, RESTARTS, TUNING, Config

__all__ = ["SurfaceSession", "View", "Inspect", "QuantityLog", "SYMBOLS", "RERUN_LIMIT"]

SYMBOLS = {"lr": "η", "momentum": "μ", "b1": "β₁", "b2": "β₂", "alpha": "α", "rho": "ρ",
           "weight_decay": "λ", "schedule": "schedule", "schedule_params": "schedule",
           runner.PLATEAU_EVENT: "η (plateau)"}
USES = {"momentum": "momentum", "b1": "betas", "b2": "betas", "alpha": "alpha",
        "rho": "rho"}   # config field -> the kinds.uses name (others concern every run)
RERUN_LIMIT = 50_000
"""A schedule change after the runs ended re-runs at once up to this many steps."""


def structure(state):
    """The type tree of an optimizer state (two states with equal trees are swappable)."""
    if isinstance(state, tuple):
        return (type(state).__name__, tuple(structure(s) for s in state))
    return type(state).__name__ if not isinstance(state, np.ndarray) else ("array", state.shape)


class QuantityLog:
    """Per-step ``(R, D)`` optimizer quantities (the engine's), in growing buffers."""

    def __init__(self):
        self._buf: dict[str, np.ndarray] = {}
        self._n = 0

    def append(self, q: dict) -> None:
        q = {k: v for k, v in q.items() if isinstance(v, np.ndarray) and v.ndim == 2}
        for k, v in q.items():
            buf = self._buf.get(k)
            if buf is None:
                buf = self._buf[k] = np.full((max(64, 2 * self._n),) + v.shape, np.nan)
            elif self._n >= buf.shape[0]:
                new = np.full((2 * self._n,) + v.shape, np.nan)
                new[: buf.shape[0]] = buf
                buf = self._buf[k] = new
            buf[self._n] = v
        self._n += 1

    def __len__(self) -> int:
        return self._n

    def at(self, i: int) -> dict[str, np.ndarray]:
        """The quantities after step ``i``."""
        return {k: v[i] for k, v in self._buf.items() if i < v.shape[0]}


class Inspect(NamedTuple):
    """The last step run ``run`` really took by the shown step (the math panel)."""

    run: int
    kind: str
    label: str
    step: int                # the step taken (0: nothing taken yet)
    theta_prev: np.ndarray   # (D,) θ before it
    grad: np.ndarray         # (D,) g = ∇L(θ_prev)
    update: np.ndarray       # (D,) u = θ - θ_prev
    theta: np.ndarray        # (D,) θ after it
    lr: float                # η of that step
    loss: float
    quantities: dict         # (D,) rows of the engine's optimizer quantities after it
    stop: str                # why the run stopped ("" while it runs)
    momentum: float
    weight_decay: float
    grad_noise: float = 0.0  # σ: g is the noisy gradient the optimizer saw


class View(NamedTuple):
    """What every chart draws for one step: decimated series up to ``step`` and the
    rows at ``step``.  Plain arrays, computed once per frame, shared by all charts."""

    step: int
    latest: int
    steps: np.ndarray        # (n,)
    params: np.ndarray       # (n, R, D)
    loss: np.ndarray         # (n, R)
    update_norm: np.ndarray  # (n, R)
    lr: np.ndarray           # (n, R) the lr each step actually used
    theta: np.ndarray        # (R, D) at step
    grad: np.ndarray         # (R, D) at step
    last_update: np.ndarray  # (R, D) the last update really taken by step
    next_update: np.ndarray  # (R, D) the engine's next update (NaN for stopped runs)
    hits: np.ndarray         # (R,) first step within tolerance, -1 if none by step
    events: tuple            # steps (<= step) where a setting changed live
    inspect: Inspect | None  # the selected run's last real step
    lr_now: np.ndarray | None = None  # (R,) the lr the shown step used
    drops: tuple = ()        # (step, run, old, new): plateau reductions in force by step
    #                          (decided after `step`, the new rate used from step + 1 on)
    plateau: object = None   # (latest step, engine PlateauState) or None (no plateau)


class SurfaceSession:
    """The engine objects of a lab (from ``built(cfg)``) and the growing history."""

    def __init__(self, cfg: Config, built):
        self.built_for = built
        self.selected = 0
        self.note = ""
        self.restart(cfg)

    # ---- building

    def restart(self, cfg: Config) -> None:
        """Start over from step 0 with ``cfg`` (the engine objects the model built)."""
        b = self.built_for(cfg)
        self.cfg, self.problem, self.optimizer, self.stopping = cfg, b.problem, \
            b.optimizer, b.stopping
        R = len(cfg.runs)
        self.state = runner.init_run(b.problem, b.optimizer, b.start, R, b.stopping,
                                     grad_noise=b.grad_noise, seed=cfg.seed,
                                     plateau=b.plateau)
        self.history = runner.History([runner.start_record(self.state)])
        self.events = self.history      # live changes: History.add_event / .events
        self.quantities = QuantityLog()
        self.quantities.append(self._quantities(self.state.opt_state))
        self._structure = structure(self.state.opt_state)
        self._hits = np.full(R, -1, dtype=np.int64)
        self._seen = 0
        self.base_lrs = tuple(r.lr for r in cfg.runs)
        self.labels = self._labels()
        self.note = ""

    def _quantities(self, opt_state) -> dict:
        """The engine's account of the last update (moments, corrections, eff_lr, ...)."""
        return O.internals(self.optimizer, opt_state, self.state.params)

    def update(self, cfg: Config) -> str:
        """Apply an edit: ``"same"``, ``"restarted"``, ``"retuned"``, ``"rerun"`` or
        ``"pending"`` (the runs ended; the change waits for a reset, said in the status)."""
        old = self.cfg
        if cfg == old:
            return "same"
        changed = {f for f in Config._fields if getattr(cfg, f) != getattr(old, f)}
        if (self.step == 0 or changed & set(RESTARTS)
                or [r.kind for r in cfg.runs] != [r.kind for r in old.runs]):
            self.restart(cfg)
            return "restarted"
        if changed & set(RERUNS):
            return self._rerun(cfg)
        tuned = (changed & set(TUNING)) | ({"lr"} if cfg.runs != old.runs else set())
        if not self.running:
            resumes = ("max_steps" in changed and cfg.max_steps > self.step and
                       bool((self.state.stop_reason == "max_steps").any()))
            if not resumes and tuned:
                names = ", ".join(sorted(SYMBOLS[p] for p in tuned))
                self.note = (f"the runs have ended: the new {names} takes effect when you "
                             f"press reset (R)")
                return "pending"
        return self._retune(cfg, tuned)

    def _rerun(self, cfg: Config) -> str:
        steps, old = self.step, self.cfg
        ended = "" if self.running else " after the runs ended"
        if cfg.schedule != old.schedule:
            what = f"schedule changed ({old.schedule} → {cfg.schedule})"
        else:
            a, b = dict(describe(old).values), dict(describe(cfg).values)
            keys = [k for k in b if a.get(k) != b[k]]
            what = f"{cfg.schedule}: " + ", ".join(
                f"{k} {_value(a.get(k))} → {_value(b[k])}" for k in keys)
        self.restart(cfg)
        if steps <= RERUN_LIMIT:
            self.advance(steps)
            self.note = f"{what}{ended}: re-ran from step 0 under the new schedule"
        else:
            self.note = f"{what}{ended}: restarted at step 0; press play"
        return "rerun"

    def _retune(self, cfg: Config, tuned: set) -> str:
        b = self.built_for(cfg)
        fresh = b.optimizer.init(self.state.params)
        if structure(fresh) != self._structure:       # cannot carry the state over
            self.restart(cfg)
            self.note = "the new settings need a fresh optimizer state: restarted"
            return "restarted"
        old, t, s = self.cfg, self.step, self.state
        resume = (s.stop_reason == "max_steps") & (s.step < cfg.max_steps)
        if resume.any():
            reason = np.where(resume, "", s.stop_reason).astype(object)
            s = self.state = s._replace(active=s.active | resume, stop_reason=reason,
                                        stop_step=np.where(resume, -1, s.stop_step))
        idle = set()             # stopped runs: a change reaches them only after a reset
        for p in sorted(tuned):
            if p == "lr":
                before = np.array([r.lr for r in old.runs])
                after = np.array([r.lr for r in cfg.runs])
                changed = before != after
            else:
                changed = np.zeros(len(cfg.runs), dtype=bool)
                changed[list(self._runs_using(p, cfg))] = True
            runs = tuple(int(i) for i in np.flatnonzero(changed & s.active))
            idle |= {cfg.runs[i].kind for i in np.flatnonzero(changed & ~s.active)}
            if runs and p == "lr":
                self.events.add_event(t, "lr", before, after, runs)
            elif runs:
                self.events.add_event(t, p, getattr(old, p), getattr(cfg, p), runs)
        self.cfg, self.optimizer, self.stopping = cfg, b.optimizer, b.stopping
        self.note = (f"{', '.join(sorted(idle))} had stopped: the change reaches "
                     f"{'it' if len(idle) == 1 else 'them'} after reset (R)") if idle else ""
        if cfg.tolerance != old.tolerance:
            self._hits[:] = -1
            self._seen = 0
        self.labels = self._labels()
        return "retuned"

    def _runs_using(self, param: str, cfg: Config) -> tuple[int, ...]:
        need = USES.get(param)
        return tuple(i for i, r in enumerate(cfg.runs)
                     if need is None or need in uses(r.kind))

    # ---- labels: what each run is, and what changed when

    def _labels(self) -> list[str]:
        """``"Adam η 0.05"`` (the lr it started with), then each live change it took:
        ``"Adam η 0.05→0.1 @85"``, ``"Momentum η 5e-4, μ 0.9→0.5 @40"``."""
        out = []
        for i, run in enumerate(self.cfg.runs):
            text = f"{run.kind} η {num(self.base_lrs[i], 3)}"
            for e in self.events.events:
                if (e.runs is not None and i not in e.runs) or e.param == runner.PLATEAU_EVENT:
                    continue
                if e.param == "lr":
                    text += f"→{num(np.asarray(e.new)[i], 3)} @{e.step}"
                else:
                    text += f", {SYMBOLS[e.param]} {_value(e.old)}→{_value(e.new)} @{e.step}"
            out.append(text)
        return out

    # ---- stepping

    @property
    def running(self) -> bool:
        return bool(self.state.active.any())

    @property
    def step(self) -> int:
        return int(self.state.step)

    @property
    def horizon(self) -> int:
        return max(self.step, int(self.cfg.max_steps))

    def advance(self, k: int) -> bool:
        """Up to ``k`` steps (fewer when every run stops).  True while some run is active."""
        problem, optimizer, stopping = self.problem, self.optimizer, self.stopping
        state, history, qlog = self.state, self.history, self.quantities
        for _ in range(int(k)):
            if not state.active.any():
                break
            state, record = runner.step_run(problem, optimizer, state, stopping)
            history.append(record)
            qlog.append(self._quantities(record.opt_state))
        self.state = state
        return bool(state.active.any())

    # ---- steps to tolerance (scans only the rows new since the last look)

    def hits(self, step: int) -> np.ndarray:
        """``(R,)`` the first step within tolerance (``L − L* ≤ tol``, or ``‖∇L‖ ≤ tol``
        on a surface without a known minimum), -1 when none by ``step``."""
        h, n = self.history, len(self.history)
        if n > self._seen:
            rows = slice(self._seen, n)
            f_min = self.problem.f_min
            vals = (h.loss[rows] - f_min if f_min is not None
                    else np.linalg.norm(h.true_grad[rows], axis=2))
            hit = vals <= self.cfg.tolerance
            first = np.where(hit.any(axis=0), np.argmax(hit, axis=0) + self._seen, -1)
            todo = (self._hits < 0) & (first >= 0)
            self._hits[todo] = first[todo]
            self._seen = n
        return np.where((self._hits >= 0) & (self._hits <= step), self._hits, -1)

    # ---- what charts draw

    def taken(self, step: int) -> np.ndarray:
        """``(R,)`` the last step each run really took by ``step`` (a diverged step is
        not taken: the run keeps its last finite θ)."""
        s = self.state
        stopped = (s.stop_step >= 0) & (s.stop_step <= step)
        last = np.where(s.stop_reason == "diverged", s.stop_step - 1, s.stop_step)
        return np.where(stopped, np.maximum(last, 0), step)

    def view(self, step: int | None = None, max_points: int = MAX_POINTS) -> View:
        """What every chart draws at ``step`` (default: the latest), as plain arrays."""
        h = self.history
        step = self.step if step is None else int(step)
        idx = display_indices(step + 1, max_points)
        R = len(self.cfg.runs)
        rows = np.arange(R)
        taken = self.taken(step)
        last_update = h.update[taken, rows]
        nxt = np.full_like(last_update, np.nan)
        active = h.active[step]
        if step < self.step:
            nxt = np.where(active[:, None], h.update[step + 1], np.nan)
        elif self.running:
            with np.errstate(all="ignore"):
                u, _ = self.optimizer.update(self.state.grad, self.state.opt_state,
                                             self.state.params)
            nxt = np.where(self.state.active[:, None], u, np.nan)
        live = [e for e in self.events.events if e.param != runner.PLATEAU_EVENT]
        events = tuple(sorted({e.step for e in live if e.step <= step}))
        pl = self.state.plateau
        return View(step, self.step, h.steps[idx], h.params[idx], h.loss[idx],
                    np.linalg.norm(h.update[idx], axis=2), h.lr[idx], h.params[step],
                    h.grad[step], last_update, nxt, self.hits(step), events,
                    self.inspect(step, min(self.selected, R - 1)), h.lr[step],
                    self.drops(step), None if pl is None else (self.step, pl.state))

    def drops(self, step: int) -> tuple:
        """``(step, run, old, new)`` of every plateau reduction in force by ``step``:
        decided after ``step`` (the loss there), the rate ``new`` from ``step + 1`` on."""
        return tuple((e.step, r, float(e.old[r]), float(e.new[r]))
                     for e in self.events.events
                     if e.param == runner.PLATEAU_EVENT and e.step < step for r in e.runs)

    def inspect(self, step: int, r: int) -> Inspect:
        """The last step run ``r`` really took by ``step``, with its own η and numbers."""
        h, cfg = self.history, self.cfg
        t = int(self.taken(step)[r])
        prev = max(t - 1, 0)
        q = {k: v[r] for k, v in self.quantities.at(t).items()
             if not np.all(np.isnan(v[r]))}     # a race's other blocks: NaN rows
        stop = self.stop_text(r) if 0 <= self.state.stop_step[r] <= step else ""
        return Inspect(r, cfg.runs[r].kind, self.labels[r], t, h.params[prev, r],
                       h.grad[prev, r], h.update[t, r], h.params[t, r], float(h.lr[t, r]),
                       float(h.loss[t, r]), q, stop, cfg.momentum, cfg.weight_decay,
                       cfg.grad_noise)

    # ---- words

    def messages(self, step: int | None = None) -> list[str]:
        """One sentence per stop by ``step`` naming its true cause, then notes."""
        step = self.step if step is None else step
        s = self.state
        out, limit = [], []
        for r in np.flatnonzero((s.stop_step >= 0) & (s.stop_step <= step)):
            if s.stop_reason[r] == "max_steps" and not self._falling(r):
                limit.append(self.labels[r])
            else:
                out.append(self.stop_text(r))
        if limit:
            out.append(f"reached max steps {self.cfg.max_steps}: {', '.join(limit)}")
        if self.note:
            out.append(self.note)
        return out

    def _falling(self, r: int) -> bool:
        """Still falling on a surface unbounded below (the step limit stopped a fall)."""
        h, t = self.history, int(self.state.stop_step[r])
        return (not bounded_below(self.problem) and t >= 1
                and h.loss[t, r] < h.loss[t - 1, r])

    def _custom_error(self, r: int) -> str:
        """The message a custom (student) step left for run ``r``'s block, if any."""
        errors = [st.error for st in _walk(self.state.opt_state)
                  if isinstance(st, exercises.StepState)]
        custom = [k for k, _ in blocks(self.cfg.runs) if k in self.cfg.custom]
        kind = self.cfg.runs[r].kind
        if len(errors) == len(custom) and kind in custom:
            return errors[custom.index(kind)]
        return next((e for e in errors if e), "")

    def stop_text(self, r: int) -> str:
        """Why run ``r`` stopped, in words: the true cause."""
        s, cfg, h = self.state, self.cfg, self.history
        t, reason, label = int(s.stop_step[r]), s.stop_reason[r], self.labels[r]
        detail = "" if s.stop_detail is None else s.stop_detail[r]
        if reason == "diverged" and cfg.runs[r].kind in cfg.custom:
            said = self._custom_error(r)
            if said:                    # the student's code failed: say that, not "η"
                return f"{label} stopped at step {t}: {said}"
        if reason == "grad_tol":
            g = np.linalg.norm(h.true_grad[t, r])
            return (f"{label} stopped at step {t}: ‖∇L‖ = {num(g, 3)} ≤ "
                    f"{num(cfg.grad_tol, 3)} (converged)")
        if reason == "loss_tol":
            d = abs(h.loss[t, r] - h.loss[max(t - 1, 0), r])
            return (f"{label} stopped at step {t}: the loss changed by {num(d, 3)} ≤ "
                    f"{num(cfg.loss_tol, 3)} in one step")
        if reason == "max_steps":
            if self._falling(r):
                return (f"{label} reached max steps {cfg.max_steps} with the loss still "
                        f"falling without bound (L = {num(h.loss[t, r], 3)}): the surface "
                        f"is unbounded below")
            return f"{label} reached max steps {cfg.max_steps}"
        if detail == "loss_below":
            return (f"{label} stopped at step {t}: the loss fell below −max_loss = "
                    f"{num(-cfg.max_loss, 3)}; the surface has no minimum in that "
                    f"direction (it is unbounded below)")
        lr = float(h.lr[t, r]) if np.isfinite(h.lr[t, r]) else cfg.runs[r].lr
        why = (f"the loss exceeded max_loss = {num(cfg.max_loss, 3)}"
               if detail == "loss_above" else "the loss or θ stopped being a finite number")
        text = f"{label} diverged at step {t}: {why}"
        bound = stable_bound(self.problem, cfg.runs[r].kind, cfg.momentum)
        if bound is not None and lr > bound[0]:
            L = self.problem.curvature
            text += (f" — η = {num(lr, 3)} is above the stable bound {bound[1]} = "
                     f"{num(bound[0], 3)} (L = {num(L, 3)}, the largest curvature)")
        elif bound is None and bounded_below(self.problem):
            text += " — the steps outgrew the curvature along the path; try a smaller η"
        return text + "."


def _value(v) -> str:
    if isinstance(v, tuple):
        return "(" + ", ".join(_value(x) for x in v) + ")"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, str):
        return v
    return num(v, 3)


def _walk(state):
    """Every sub-state of an optimizer state (races and chains are tuples of states)."""
    yield state
    if isinstance(state, tuple):
        for sub in state:
            if isinstance(sub, tuple):
                yield from _walk(sub)
