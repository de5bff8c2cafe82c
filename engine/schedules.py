r"""Learning-rate schedules: ``schedule(step) -> lr``, equal to ``torch.optim.lr_scheduler``.

``step`` is the number of optimizer updates already done (0 for the first update), so
``schedule(t)`` is the learning rate torch's optimizer uses for update ``t + 1`` after
``t`` calls of ``scheduler.step()``: the value of ``optimizer.param_groups[0]["lr"]``
read before the ``(t + 1)``-th ``optimizer.step()``.  Every constructor here is checked
against torch 2.13 to 1e-9 relative over thousands of steps (tests/engine/test_schedules.py).

Shapes.  Float arguments (``lr``, ``gamma``, ``eta_min``, ``max_lr``, ...) are scalars or
``(R,)`` arrays, one value per run; integer arguments (step sizes, horizons) are shared.

================  ==============================  ===================
``step``          every argument a scalar          some ``(R,)`` argument
================  ==============================  ===================
an int            a Python float                   ``(R,)``
an array ``S``    ``S``                            ``(R,) + S``
================  ==============================  ===================

so ``schedule(np.arange(T))`` is ``(R, T)``: one row per run, ready for one plot mark.
``stack([s1, s2, ...])`` races different schedules: its runs are theirs, concatenated.

Torch's schedulers are recursive (each value is the previous one times a factor).
Where that recursion equals a closed form to rounding (step, multistep, exponential)
we use the closed form; :func:`linear` tabulates torch's product and :func:`cosine`
follows torch's recursion past ``T_max``.  Learning rates below the normal float range
(< 2.2e-308, e.g. ``exponential(1, 0.1)`` after 308 steps) are subnormal and equal
torch's only to that absolute precision.  Bad arguments raise ``ValueError`` naming the
parameter and its allowed range, when the schedule is built.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import numpy as np

from .base import common_runs
from .checks import check_int, hparam, runs_of

__all__ = [
    "Schedule",
    "constant",
    "step",
    "multistep",
    "exponential",
    "cosine",
    "linear",
    "cyclic",
    "one_cycle",
    "warmup_cosine",
    "cosine_restarts",
    "stack",
    "names",
    "get",
    "parameters",
    "LATEX",
]


# ---------------------------------------------------------------- the callable


def _steps(step) -> np.ndarray:
    """``step`` as an int64 array; ValueError unless every entry is an integer >= 0."""
    if isinstance(step, (int, np.integer)) and not isinstance(step, bool) and step >= 0:
        return np.array(step, dtype=np.int64)              # the optimizer's per-step call
    arr = np.asarray(step)
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise ValueError(f"step must be an integer >= 0 or an array of them, got {step!r}")
    if arr.dtype.kind == "f":
        if not (np.all(np.isfinite(arr)) and np.all(arr == np.floor(arr))):
            raise ValueError(f"step must be an integer >= 0 or an array of them, got {step!r}")
    if np.any(arr < 0):
        raise ValueError(f"step must be in [0, inf); got {int(np.min(arr))}")
    return arr.astype(np.int64)


class Schedule:
    """A learning-rate schedule: call it with a step count (int or integer array).

    ``name`` and ``params`` say how it was built (``get(s.name, **s.params)`` rebuilds
    it, except for a :func:`stack`), ``latex`` is its formula, ``runs`` is R when some
    argument is an ``(R,)`` array (else ``None``).  ``fn`` maps a flat int64 array of
    steps ``(N,)`` to ``(N,)`` or ``(R, N)`` learning rates (per-run arguments are stored
    as ``(R, 1)`` columns).
    """

    __slots__ = ("name", "params", "latex", "runs", "_fn")

    def __init__(self, name: str, params: dict, runs: int | None,
                 fn: Callable[[np.ndarray], np.ndarray]):
        self.name, self.params, self.runs, self._fn = name, params, runs, fn
        self.latex = LATEX.get(name, "")

    def __call__(self, step):
        t = _steps(step)
        lead = () if self.runs is None else (self.runs,)
        out = np.broadcast_to(np.asarray(self._fn(t.reshape(-1)), dtype=np.float64),
                              lead + (t.size,))
        out = out.reshape(lead + t.shape)
        return float(out) if out.ndim == 0 else out.copy()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.name}({args})"


def _c(value):
    """A validated float argument as a scalar or an ``(R, 1)`` column (broadcasts on steps)."""
    return value if isinstance(value, float) else value[:, None]


def _runs(*values) -> int | None:
    return common_runs(*(runs_of(v) for v in values))


def _make(name: str, fn, **params) -> Schedule:
    floats = [v for v in params.values() if isinstance(v, (float, np.ndarray))]
    return Schedule(name, params, _runs(*floats), fn)


def _cos_factor(t, T):
    r""":math:`1 + \cos(\pi t / T)` evaluated as torch does (``math.pi * t / T``)."""
    return 1.0 + np.cos(np.pi * t / T)


# ---------------------------------------------------------------- schedules


def constant(lr) -> Schedule:
    r""":math:`\eta_t = \eta`.  torch: no scheduler (``optimizer.param_groups[0]["lr"]``)."""
    lr = hparam(lr, "lr", 0.0)
    lr_c = _c(lr)
    return _make("constant", lambda t: lr_c * np.ones(t.shape), lr=lr)


def step(lr, step_size: int, gamma=0.1) -> Schedule:
    r"""Step decay :math:`\eta_t = \eta\,\gamma^{\lfloor t / s \rfloor}`.

    torch: ``StepLR(optimizer, step_size=s, gamma=gamma)``.
    """
    lr = hparam(lr, "lr", 0.0)
    step_size = check_int(step_size, "step_size", 1)
    gamma = hparam(gamma, "gamma", 0.0, lo_open=True)
    lr_c, g_c = _c(lr), _c(gamma)
    return _make("step", lambda t: lr_c * g_c ** (t // step_size),
                 lr=lr, step_size=step_size, gamma=gamma)


def multistep(lr, milestones: Sequence[int], gamma=0.1) -> Schedule:
    r"""Decay by :math:`\gamma` at each milestone: :math:`\eta_t = \eta\,\gamma^{\#\{m_i \le t\}}`.

    A milestone listed twice decays twice, as in torch:
    ``MultiStepLR(optimizer, milestones, gamma=gamma)``.
    """
    lr = hparam(lr, "lr", 0.0)
    if isinstance(milestones, (int, np.integer)) or np.ndim(milestones) != 1:
        raise ValueError(f"milestones must be a list of integers >= 0, got {milestones!r}")
    ms = sorted(check_int(m, "each milestone", 0) for m in milestones)
    gamma = hparam(gamma, "gamma", 0.0, lo_open=True)
    lr_c, g_c, ms_a = _c(lr), _c(gamma), np.asarray(ms, dtype=np.int64)
    return _make("multistep", lambda t: lr_c * g_c ** np.searchsorted(ms_a, t, side="right"),
                 lr=lr, milestones=ms, gamma=gamma)


def exponential(lr, gamma) -> Schedule:
    r""":math:`\eta_t = \eta\,\gamma^t`.  torch: ``ExponentialLR(optimizer, gamma)``."""
    lr = hparam(lr, "lr", 0.0)
    gamma = hparam(gamma, "gamma", 0.0, lo_open=True)
    lr_c, g_c = _c(lr), _c(gamma)
    return _make("exponential", lambda t: lr_c * g_c ** t, lr=lr, gamma=gamma)


def _cosine_fn(lr_c, eta_c, T: int):
    """torch's CosineAnnealingLR as a function of ``t`` (see :func:`cosine`)."""
    anchor = (lr_c - eta_c) * (1.0 - np.cos(np.pi / T)) / 2

    def fn(t):
        first = eta_c + (lr_c - eta_c) * _cos_factor(t, T) / 2
        if t.size == 0 or t.max() <= T:
            return first
        a = t - (t - T - 1) % (2 * T)          # the restart of t's later half-period
        later = eta_c + anchor * _cos_factor(t, T) / _cos_factor(a, T)
        return np.where(t <= T, first, later)

    return fn


def cosine(lr, T_max: int, eta_min=0.0) -> Schedule:
    r"""Cosine annealing from :math:`\eta` to :math:`\eta_{\min}` over :math:`T` steps.

    .. math::
        \eta_t = \eta_{\min} + \tfrac12(\eta - \eta_{\min})\bigl(1 + \cos(\pi t / T)\bigr),
        \qquad 0 \le t \le T.

    torch: ``CosineAnnealingLR(optimizer, T_max=T, eta_min=eta_min)``.  Torch updates
    recursively, :math:`\eta_{t} = \eta_{\min} + (\eta_{t-1} - \eta_{\min})
    \frac{1 + \cos(\pi t/T)}{1 + \cos(\pi (t-1)/T)}`, and does not stop at :math:`T`:
    the lr climbs back to :math:`\eta` at :math:`2T` and keeps oscillating with period
    :math:`2T`.  At each :math:`t = (2k+1)T + 1` torch restarts the recursion from
    :math:`\eta_{\min} + \tfrac12(\eta - \eta_{\min})(1 - \cos(\pi/T))`.  This function
    uses that same anchor.  Measured against torch 2.13 it agrees to ~1e-14 relative; the
    plain closed form above, used for every :math:`t`, would agree to ~1e-12 (2.3e-13 over
    :math:`0 \le t < 1000` with :math:`T = 100`), drift from the re-anchored recursion.
    """
    lr = hparam(lr, "lr", 0.0)
    T_max = check_int(T_max, "T_max", 1)
    eta_min = hparam(eta_min, "eta_min", 0.0)
    _runs(lr, eta_min)
    return _make("cosine", _cosine_fn(_c(lr), _c(eta_min), T_max),
                 lr=lr, T_max=T_max, eta_min=eta_min)


def linear(lr, start_factor=1.0 / 3, end_factor=1.0, total_iters: int = 5) -> Schedule:
    r"""Linear ramp of the factor from :math:`a` to :math:`b` over :math:`n` steps, then held.

    .. math:: \eta_t = \eta\,\bigl(a + (b - a)\min(t, n)/n\bigr)

    With the defaults a warm-up from :math:`\eta/3` to :math:`\eta` in 5 steps.  torch:
    ``LinearLR(optimizer, start_factor=a, end_factor=b, total_iters=n)`` (same ranges:
    :math:`a \in (0, 1]`, :math:`b \in [0, 1]`).  Torch multiplies the lr by
    :math:`1 + \frac{b - a}{n a + (t - 1)(b - a)}` at each step :math:`t \le n`; the product
    telescopes to the formula above but, with :math:`b = 0`, ends at ~1e-17 :math:`\eta`
    rather than 0.  To equal torch everywhere the :math:`n + 1` values are that product
    (``np.cumprod``, torch's order), tabulated when the schedule is built.
    """
    lr = hparam(lr, "lr", 0.0)
    start_factor = hparam(start_factor, "start_factor", 0.0, 1.0, lo_open=True)
    end_factor = hparam(end_factor, "end_factor", 0.0, 1.0)
    total_iters = check_int(total_iters, "total_iters", 1)
    n, a, b = total_iters, _c(start_factor), _c(end_factor)
    k = np.arange(1, n + 1)
    R = _runs(lr, start_factor, end_factor)
    lead = () if R is None else (R,)
    factors = 1.0 + (b - a) / (n * a + (k - 1) * (b - a))
    first = np.broadcast_to(_c(lr) * a, lead + (1,))
    table = np.cumprod(np.concatenate([first, np.broadcast_to(factors, lead + (n,))], -1), -1)
    return _make("linear", lambda t: table[..., np.minimum(t, n)],
                 lr=lr, start_factor=start_factor, end_factor=end_factor, total_iters=n)


_CYCLIC_MODES = ("triangular", "triangular2", "exp_range")


def cyclic(base_lr, max_lr, step_size_up: int = 2000, step_size_down: int | None = None,
           mode: str = "triangular", gamma=1.0) -> Schedule:
    r"""Cyclical learning rate: up from ``base_lr`` to ``max_lr`` and back, periodically.

    With :math:`u` = ``step_size_up``, :math:`d` = ``step_size_down`` (default :math:`u`),
    cycle :math:`c = \lfloor 1 + t/(u+d) \rfloor`, position :math:`x = 1 + t/(u+d) - c`,
    :math:`h = x/r` if :math:`x \le r = u/(u+d)` else :math:`(x-1)/(r-1)`:

    .. math:: \eta_t = \eta_{\mathrm{base}} + (\eta_{\max} - \eta_{\mathrm{base}})\,h\,s

    with :math:`s = 1` (``"triangular"``), :math:`s = 2^{1-c}` (``"triangular2"``) or
    :math:`s = \gamma^t` (``"exp_range"``).  torch: ``CyclicLR(optimizer, base_lr, max_lr,
    step_size_up, step_size_down, mode, gamma, cycle_momentum=False)``, which sets the
    optimizer's lr to ``base_lr`` itself (the optimizer's own lr is ignored).
    """
    base_lr = hparam(base_lr, "base_lr", 0.0)
    max_lr = hparam(max_lr, "max_lr", 0.0)
    _runs(base_lr, max_lr)
    if np.any(np.asarray(max_lr) < np.asarray(base_lr)):
        raise ValueError(f"max_lr must be >= base_lr; got max_lr={max_lr!r}, "
                         f"base_lr={base_lr!r}")
    step_size_up = check_int(step_size_up, "step_size_up", 1)
    if step_size_down is not None:
        step_size_down = check_int(step_size_down, "step_size_down", 0)
    if mode not in _CYCLIC_MODES:
        raise ValueError(f"mode must be one of {', '.join(_CYCLIC_MODES)}; got {mode!r}")
    gamma = hparam(gamma, "gamma", 0.0, 1.0, lo_open=True)
    up = float(step_size_up)
    total = up + (up if step_size_down is None else float(step_size_down))
    ratio = up / total
    lo, hi, g_c = _c(base_lr), _c(max_lr), _c(gamma)

    def fn(t):
        cycle = np.floor(1 + t / total)
        x = 1.0 + t / total - cycle
        with np.errstate(divide="ignore", invalid="ignore"):   # ratio == 1: no way down
            h = np.where(x <= ratio, x / ratio, (x - 1) / (ratio - 1))
        if mode == "triangular":
            s = 1.0
        elif mode == "triangular2":
            s = 1 / (2.0 ** (cycle - 1))
        else:
            s = g_c ** t
        return lo + (hi - lo) * h * s

    return _make("cyclic", fn, base_lr=base_lr, max_lr=max_lr, step_size_up=step_size_up,
                 step_size_down=step_size_down, mode=mode, gamma=gamma)


def one_cycle(max_lr, total_steps: int, pct_start=0.3, anneal_strategy: str = "cos",
              div_factor=25.0, final_div_factor=1e4, three_phase: bool = False) -> Schedule:
    r"""The 1cycle policy: warm up to ``max_lr``, then anneal far below the start.

    Start :math:`\eta_0 = \eta_{\max}/\mathrm{div}`, end
    :math:`\eta_{\min} = \eta_0/\mathrm{final\_div}`.  Phases end at steps
    :math:`e_1 = pT - 1` and :math:`T - 1` (three-phase: :math:`pT-1`, :math:`2pT-2`,
    :math:`T-1`); within a phase from :math:`(s, \eta_a)` to :math:`(e, \eta_b)`,
    :math:`q = (t - s)/(e - s)` and

    .. math::
        \eta_t = \eta_b + \tfrac12(\eta_a - \eta_b)(1 + \cos \pi q)
        \quad\text{or (linear)}\quad \eta_t = \eta_a + (\eta_b - \eta_a)\,q.

    torch: ``OneCycleLR(optimizer, max_lr, total_steps, pct_start, anneal_strategy,
    div_factor=..., final_div_factor=..., three_phase=..., cycle_momentum=False)``, equal
    for :math:`0 \le t \le T` (torch allows :math:`T` scheduler steps; at :math:`t = T`
    it extrapolates the last phase one step).  Past :math:`T` torch raises; here the lr
    holds torch's last value, :math:`\eta_{\min(t, T)}`.
    """
    max_lr = hparam(max_lr, "max_lr", 0.0)
    total_steps = check_int(total_steps, "total_steps", 1)
    pct_start = hparam(pct_start, "pct_start", 0.0, 1.0, lo_open=True, hi_open=True)
    if anneal_strategy not in ("cos", "linear"):
        raise ValueError(f"anneal_strategy must be one of cos, linear; got {anneal_strategy!r}")
    div_factor = hparam(div_factor, "div_factor", 0.0, lo_open=True)
    final_div_factor = hparam(final_div_factor, "final_div_factor", 0.0, lo_open=True)
    _runs(max_lr, pct_start, div_factor, final_div_factor)
    three_phase = bool(three_phase)
    T = total_steps
    warm = np.asarray(pct_start) * T
    if np.any(warm <= 1):
        raise ValueError(f"pct_start * total_steps must be > 1 (a warm-up phase of positive "
                         f"length); got pct_start={pct_start!r}, total_steps={T}")
    if three_phase and np.any(2 * warm - 2 >= T - 1):
        raise ValueError(f"three_phase needs pct_start < (total_steps + 1) / (2 total_steps) "
                         f"= {(T + 1) / (2 * T):g}; got pct_start={pct_start!r}")
    top = _c(max_lr)
    start = top / _c(div_factor)
    bottom = start / _c(final_div_factor)
    e1 = float(pct_start) * T - 1 if isinstance(pct_start, float) else _c(pct_start) * T - 1
    e2 = 2 * e1 if three_phase else None          # float(2 p T) - 2 == 2 (p T - 1) exactly

    def anneal(a, b, q):
        if anneal_strategy == "cos":
            return b + (a - b) / 2.0 * (np.cos(np.pi * q) + 1)
        return (b - a) * q + a

    def fn(t):
        t = np.minimum(t, T)
        if three_phase:
            return np.where(t <= e1, anneal(start, top, (t - 0.0) / (e1 - 0.0)),
                            np.where(t <= e2, anneal(top, start, (t - e1) / (e2 - e1)),
                                     anneal(start, bottom, (t - e2) / (T - 1 - e2))))
        return np.where(t <= e1, anneal(start, top, (t - 0.0) / (e1 - 0.0)),
                        anneal(top, bottom, (t - e1) / (T - 1 - e1)))

    return _make("one_cycle", fn, max_lr=max_lr, total_steps=T, pct_start=pct_start,
                 anneal_strategy=anneal_strategy, div_factor=div_factor,
                 final_div_factor=final_div_factor, three_phase=three_phase)


def warmup_cosine(lr, warmup_steps: int, total_steps: int, eta_min=0.0) -> Schedule:
    r"""Linear warm-up over :math:`w` steps, then cosine annealing to :math:`\eta_{\min}` at T.

    .. math::
        \eta_t = \eta\,\frac{t + 1}{w + 1} \quad (t < w), \qquad
        \eta_t = \eta_{\min} + \tfrac12(\eta - \eta_{\min})
                 \Bigl(1 + \cos\frac{\pi (t - w)}{T - w}\Bigr) \quad (w \le t \le T).

    torch: ``SequentialLR(optimizer, [LinearLR(optimizer, start_factor=1/(w+1),
    total_iters=w), CosineAnnealingLR(optimizer, T_max=T-w, eta_min=eta_min)],
    milestones=[w])``.  Past :math:`T` it follows torch's cosine (see :func:`cosine`).
    ``warmup_steps=0`` is plain cosine annealing.
    """
    lr = hparam(lr, "lr", 0.0)
    warmup_steps = check_int(warmup_steps, "warmup_steps", 0)
    total_steps = check_int(total_steps, "total_steps", warmup_steps + 1)
    eta_min = hparam(eta_min, "eta_min", 0.0)
    _runs(lr, eta_min)
    w = warmup_steps
    lr_c = _c(lr)
    a = 1.0 / (w + 1)
    anneal = _cosine_fn(lr_c, _c(eta_min), total_steps - w)

    def fn(t):
        warm = lr_c * (a + (1.0 - a) * np.minimum(t, w) / max(w, 1))
        return np.where(t < w, warm, anneal(np.maximum(t - w, 0)))

    return _make("warmup_cosine", fn, lr=lr, warmup_steps=w, total_steps=total_steps,
                 eta_min=eta_min)


def cosine_restarts(lr, T_0: int, T_mult: int = 1, eta_min=0.0) -> Schedule:
    r"""Cosine annealing with warm restarts (SGDR); period :math:`T_i = T_0 T_{\mathrm{mult}}^i`.

    .. math::
        \eta_t = \eta_{\min} + \tfrac12(\eta - \eta_{\min})
                 \bigl(1 + \cos(\pi\, T_{\mathrm{cur}} / T_i)\bigr)

    with :math:`T_{\mathrm{cur}}` the steps since the last restart.  torch:
    ``CosineAnnealingWarmRestarts(optimizer, T_0, T_mult, eta_min)``.
    """
    lr = hparam(lr, "lr", 0.0)
    T_0 = check_int(T_0, "T_0", 1)
    T_mult = check_int(T_mult, "T_mult", 1)
    eta_min = hparam(eta_min, "eta_min", 0.0)
    lr_c, eta_c = _c(lr), _c(eta_min)

    def fn(t):
        if T_mult == 1:
            t_cur, t_i = t % T_0, np.full(t.shape, T_0)
        else:                            # restarts at T_0 (m^n - 1) / (m - 1), n = 0, 1, ...
            top = int(t.max(initial=0))
            starts, period = [0], T_0
            while starts[-1] <= top:
                starts.append(starts[-1] + period)
                period *= T_mult
            starts_a = np.asarray(starts, dtype=np.int64)
            n = np.searchsorted(starts_a, t, side="right") - 1
            t_cur, t_i = t - starts_a[n], T_0 * np.asarray(T_mult, np.int64) ** n
        return eta_c + (lr_c - eta_c) * (1 + np.cos(np.pi * t_cur / t_i)) / 2

    return _make("cosine_restarts", fn, lr=lr, T_0=T_0, T_mult=T_mult, eta_min=eta_min)


# ---------------------------------------------------------------- races and the picker


def stack(schedules: Sequence[Schedule]) -> Schedule:
    """Several schedules as one: the runs of each (1 if it has none), concatenated in order.

    ``stack([cosine(0.1, 100), constant([0.1, 0.01])])(t)`` has shape ``(3,)`` for an int
    ``t`` and ``(3,) + S`` for a step array of shape ``S``.
    """
    schedules = list(schedules)
    if not schedules or not all(isinstance(s, Schedule) for s in schedules):
        raise ValueError("schedules must be a non-empty list of Schedule objects "
                         "(from descentlab.engine.schedules)")
    R = sum(1 if s.runs is None else s.runs for s in schedules)

    def fn(t):
        rows = [np.broadcast_to(s._fn(t), ((1,) if s.runs is None else (s.runs,)) + t.shape)
                for s in schedules]
        return np.concatenate(rows, axis=0)

    out = Schedule("stack", {"schedules": schedules}, R, fn)
    out.latex = r" \mid ".join(s.latex for s in schedules)
    return out


LATEX = {
    "constant": r"\eta_t = \eta",
    "step": r"\eta_t = \eta\,\gamma^{\lfloor t/s \rfloor}",
    "multistep": r"\eta_t = \eta\,\gamma^{\#\{i:\,m_i \le t\}}",
    "exponential": r"\eta_t = \eta\,\gamma^{t}",
    "cosine": r"\eta_t = \eta_{\min} + \tfrac12(\eta - \eta_{\min})(1 + \cos(\pi t/T))",
    "linear": r"\eta_t = \eta\,(a + (b - a)\min(t, n)/n)",
    "cyclic": r"\eta_t = \eta_{\mathrm{base}} + (\eta_{\max} - \eta_{\mathrm{base}})\,h_t\,s_t",
    "one_cycle": r"\eta_t = \eta_b + \tfrac12(\eta_a - \eta_b)(1 + \cos \pi q)",
    "warmup_cosine": r"\eta_t = \eta\tfrac{t+1}{w+1}\ (t<w);\ "
                     r"\eta_{\min} + \tfrac12(\eta - \eta_{\min})(1 + \cos\tfrac{\pi(t-w)}{T-w})",
    "cosine_restarts": r"\eta_t = \eta_{\min} + \tfrac12(\eta - \eta_{\min})"
                       r"(1 + \cos(\pi T_{\mathrm{cur}}/T_i))",
}

_REGISTRY: dict[str, Callable[..., Schedule]] = {
    "constant": constant,
    "step": step,
    "multistep": multistep,
    "exponential": exponential,
    "cosine": cosine,
    "linear": linear,
    "cyclic": cyclic,
    "one_cycle": one_cycle,
    "warmup_cosine": warmup_cosine,
    "cosine_restarts": cosine_restarts,
}


def names() -> tuple[str, ...]:
    """The schedule names :func:`get` knows, simplest first (for a picker)."""
    return tuple(_REGISTRY)


def _constructor(name: str):
    if name not in _REGISTRY:
        raise ValueError(f"schedule must be one of {', '.join(_REGISTRY)}; got {name!r}")
    return _REGISTRY[name]


def parameters(name: str) -> dict:
    """``{argument: default}`` of schedule ``name``; required arguments map to ``None``."""
    sig = inspect.signature(_constructor(name))
    return {p.name: (None if p.default is p.empty else p.default)
            for p in sig.parameters.values()}


def get(name: str, **kwargs) -> Schedule:
    """Build schedule ``name`` from keyword arguments, e.g. ``get("cosine", lr=0.1, T_max=100)``.

    ValueError on an unknown name (listing the valid ones) or on unknown / missing arguments.
    """
    fn = _constructor(name)
    try:
        inspect.signature(fn).bind(**kwargs)
    except TypeError as err:
        raise ValueError(f"schedule {name!r} takes {', '.join(parameters(name))}; "
                         f"{err}") from None
    return fn(**kwargs)
