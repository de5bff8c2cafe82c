r"""A surface session: the engine run behind a lab, stepped a frame at a time.

``restart(cfg)`` builds the problem, the race of optimizers and the stopping rules and
records step 0; ``retune(cfg)`` swaps in a new optimizer (new learning rates, momentum,
betas, schedule, ...) and stopping rules *keeping the optimizer state and the run*;
``advance(k)`` takes up to ``k`` steps with :func:`descentlab.engine.runner.step_run`.
The :class:`~descentlab.engine.runner.History` keeps every step; the optimizer's own
quantities (velocity, first and second moments, ...) are logged alongside, per step,
so the timeline can show them at any earlier step.
"""

from __future__ import annotations

import numpy as np

from descentlab.engine import optimizers as O
from descentlab.engine import runner

from .core.decimate import MAX_POINTS, display_indices
from .model import Config, make_optimizer, make_problem, make_stopping, run_labels

__all__ = ["SurfaceSession", "QuantityLog", "View", "structure", "divergence_message"]


def structure(state):
    """The type tree of an optimizer state (two states with equal trees are swappable)."""
    if isinstance(state, tuple):
        return (type(state).__name__, tuple(structure(s) for s in state))
    return type(state).__name__ if not isinstance(state, np.ndarray) else ("array", state.shape)


class QuantityLog:
    """Per-step ``(R, D)`` optimizer quantities, in geometrically grown buffers."""

    def __init__(self):
        self._buf: dict[str, np.ndarray] = {}
        self._n = 0

    def append(self, q: dict) -> None:
        q = {k: v for k, v in q.items() if isinstance(v, np.ndarray) and v.ndim == 2}
        if self._n and set(q) != set(self._buf):
            raise ValueError("optimizer quantities changed between steps")
        for k, v in q.items():
            buf = self._buf.get(k)
            if buf is None:
                buf = self._buf[k] = np.full((64,) + v.shape, np.nan)
            elif self._n == buf.shape[0]:
                new = np.full((2 * self._n,) + v.shape, np.nan)
                new[: self._n] = buf[: self._n]
                buf = self._buf[k] = new
            buf[self._n] = v
        self._n += 1

    def __len__(self) -> int:
        return self._n

    def at(self, i: int) -> dict[str, np.ndarray]:
        """The quantities after step ``i``."""
        return {k: v[i] for k, v in self._buf.items()}


class View:
    """What every chart draws for one step: decimated series up to ``step`` and the
    record at ``step``.  Computed once per frame and shared by all charts."""

    def __init__(self, session: SurfaceSession, step: int, max_points: int = MAX_POINTS):
        h = session.history
        self.step = int(step)
        self.latest = len(h) - 1
        self.index = display_indices(self.step + 1, max_points)
        self.steps = h.steps[self.index]
        self.params = h.params[self.index]      # (n, R, D)
        self.loss = h.loss[self.index]          # (n, R)
        self.update = h.update[self.index]      # (n, R, D)
        self.lr = h.lr[self.index]              # (n, R)
        self.record = h.at(self.step)
        self.quantities = session.quantities.at(self.step)
        self.session = session


class SurfaceSession:
    """The engine objects of a lab and its growing history."""

    def __init__(self, cfg: Config):
        self.restart(cfg)

    # ---- building

    def restart(self, cfg: Config) -> None:
        """Start over from step 0 with ``cfg`` (new problem, start, runs or seed)."""
        self.cfg = cfg
        self.problem = make_problem(cfg)
        self.optimizer = make_optimizer(cfg)
        self.stopping = make_stopping(cfg)
        self.labels = run_labels(cfg.runs)
        start = self.problem.start if cfg.start is None else np.array(cfg.start)
        self.state = runner.init_run(self.problem, self.optimizer, start, len(cfg.runs),
                                     self.stopping)
        self.history = runner.History([runner.start_record(self.state)])
        self.quantities = QuantityLog()
        # plain GD has no state worth drawing: skip the per-step walk of its state
        self._log = any(kind != "GD" for kind, _ in cfg.runs)
        self.quantities.append(self._quantities(self.state.opt_state))
        self._structure = structure(self.state.opt_state)

    def needs_restart(self, cfg: Config) -> bool:
        """Whether ``cfg`` changes what a run *is* (not only how it is tuned)."""
        old = self.cfg
        return (cfg.problem != old.problem or cfg.problem_params != old.problem_params
                or cfg.start != old.start or cfg.seed != old.seed
                or [k for k, _ in cfg.runs] != [k for k, _ in old.runs])

    def retune(self, cfg: Config) -> bool:
        """Swap in ``cfg``'s optimizer and stopping rules, keeping the run and the optimizer
        state.  Runs stopped only by the step limit resume when ``max_steps`` grows.
        Restarts instead (returning True) when the change needs it."""
        if self.needs_restart(cfg):
            self.restart(cfg)
            return True
        optimizer = make_optimizer(cfg)
        fresh = optimizer.init(self.state.params)
        if structure(fresh) != self._structure:
            self.restart(cfg)
            return True
        self.cfg, self.optimizer = cfg, optimizer
        self.stopping = make_stopping(cfg)
        self.labels = run_labels(cfg.runs)
        s = self.state
        resume = (s.stop_reason == "max_steps") & (s.step < cfg.max_steps)
        if resume.any():
            reason = np.where(resume, "", s.stop_reason).astype(object)
            self.state = s._replace(active=s.active | resume, stop_reason=reason,
                                    stop_step=np.where(resume, -1, s.stop_step))
        return False

    # ---- stepping

    def _quantities(self, opt_state) -> dict:
        return O.quantities(opt_state) if self._log else {}

    @property
    def running(self) -> bool:
        return bool(self.state.active.any())

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

    @property
    def step(self) -> int:
        return int(self.state.step)

    def view(self, step: int | None = None, max_points: int = MAX_POINTS) -> View:
        return View(self, self.step if step is None else step, max_points)

    # ---- words

    def messages(self) -> list[str]:
        """One sentence per diverged run, explaining it instead of showing NaN."""
        s = self.state
        out = []
        for r in np.flatnonzero(s.stop_reason == "diverged"):
            out.append(divergence_message(self.labels[r], self.cfg.runs[r], int(s.stop_step[r]),
                                          self.cfg, self.problem))
        return out


def divergence_message(label, run, step, cfg: Config, problem) -> str:
    kind, lr = run
    name = label if "η=" in label else f"{label} (lr={lr:g})"
    text = (f"{name} diverged at step {step}: the loss exceeded "
            f"{cfg.max_loss:g} or stopped being a finite number")
    L = problem.curvature
    if L:
        bound = 2.0 / L
        if kind == "GD":
            rel = "above" if lr > bound else "below"
            text += (f" — the learning rate is {rel} the stable bound 2/L = {bound:.4g}"
                     f" (L = {L:.4g}, the largest curvature)")
        elif kind in ("Momentum", "Nesterov"):
            hb = 2.0 * (1.0 + cfg.momentum) / L
            text += (f" — with momentum {cfg.momentum:g} heavy-ball GD is stable for "
                     f"lr < 2(1+μ)/L = {hb:.4g} (L = {L:.4g})")
        else:
            text += f"; plain GD would be stable for lr < 2/L = {bound:.4g}"
    else:
        text += " — the learning rate is too large for the curvature along the path; " \
                "try a smaller one"
    return text + "."
