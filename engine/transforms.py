r"""Small gradient transformations, each a screenful, composed into optimizers with ``chain``.

A transform maps incoming directions :math:`g` (gradients, or the output of the
previous transform) to outgoing directions, keeping its own NamedTuple state.  Every
array has a leading runs axis: :math:`g, \theta \in \mathbb{R}^{R \times D}`.  Numeric
hyperparameters are scalars (shared) or ``(R,)`` arrays (one value per run); they are
validated and shaped once, at construction, so an update is a handful of numpy calls.

The equations and their order are those of ``torch.optim``'s single-tensor code
paths (torch 2.13), so the named optimizers in :mod:`descentlab.engine.optimizers`
reproduce torch's trajectories in float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .base import EmptyState, GradientTransformation, common_runs
from .checks import hparam, per_run, runs_of

__all__ = [
    "scale",
    "negate",
    "add_decayed_weights",
    "trace",
    "scale_by_adagrad",
    "scale_by_rms",
    "scale_by_adam",
    "scale_by_nadam",
    "scale_by_adamax",
    "scale_by_adadelta",
    "scale_by_learning_rate",
    "TraceState",
    "ScaleByAdagradState",
    "ScaleByRmsState",
    "ScaleByAdamState",
    "ScaleByNadamState",
    "ScaleByAdamaxState",
    "ScaleByAdadeltaState",
    "ScaleByLearningRateState",
]


# ---------------------------------------------------------------- helpers


def _col(value):
    """A validated hyperparameter shaped to multiply ``(R, D)``: float or ``(R, 1)``."""
    return value if isinstance(value, float) else value[:, None]


_TORCH_NAMES = {"b1": "betas[0]", "b2": "betas[1]"}


def _full(*values):
    """``get(shape)``: the hyperparameters broadcast to read-only arrays of ``shape``, made
    once per shape.  Same-shape operands are numpy's fastest path for small ``(R, D)``
    arrays (a scalar or an ``(R, 1)`` column costs 1.5-2.5x more per operation)."""
    memo: dict = {}

    def get(shape):
        out = memo.get(shape)
        if out is None:
            out = []
            for v in values:
                a = np.array(np.broadcast_to(_col(v), shape))
                a.flags.writeable = False
                out.append(a)
            out = memo[shape] = tuple(out)
        return out

    return get


def _make(init, update, describe=None, **hparams) -> GradientTransformation:
    """Wrap ``init`` so it checks every per-run hyperparameter has length R (once)."""
    runs = common_runs(*(runs_of(v) for v in hparams.values()))

    def checked_init(params):
        R = np.shape(params)[0]
        for name, v in hparams.items():
            per_run(v, R, _TORCH_NAMES.get(name, name))
        return init(params)

    return GradientTransformation(checked_init, update, runs, describe)


def _zeros(params):
    return np.zeros(np.shape(params))


def _no_state(params):
    """The ``init`` of a stateless transform."""
    return EmptyState()


def _unset(value, count):
    """``value``, or NaN of its shape before the first update (``count == 0``)."""
    return np.full(value.shape, np.nan) if count == 0 else value


def _unset_all(out: dict, like, *names: str) -> dict:
    """``out`` with NaN (of the shape of ``like``) for each derived quantity in ``names``:
    what a description shows before the first update."""
    return {**out, **dict.fromkeys(names, np.full(like.shape, np.nan))}


def _adam_hparams(b1, b2, eps) -> tuple:
    """The betas and eps of the Adam family, each checked (torch's ``betas``, ``eps``)."""
    return (hparam(b1, "betas[0]", 0.0, 1.0, hi_open=True),
            hparam(b2, "betas[1]", 0.0, 1.0, hi_open=True),
            hparam(eps, "eps", 0.0, lo_open=True))


# ---------------------------------------------------------------- stateless


def scale(factor) -> GradientTransformation:
    r"""Multiply the directions by a fixed factor: :math:`u = c\,g`."""
    c = hparam(factor, "factor")
    full = _full(c)

    def update(g, state, params):
        (cf,) = full(g.shape)
        return g * cf, state

    def describe(state):
        return {"factor": _col(c)}

    return _make(_no_state, update, describe, factor=c)


def negate() -> GradientTransformation:
    r"""Ascent instead of descent, torch's ``maximize=True``: :math:`u = -g`."""

    def update(g, state, params):
        return -g, state

    return GradientTransformation(_no_state, update)


def add_decayed_weights(weight_decay) -> GradientTransformation:
    r"""Weight decay: :math:`u = g + \lambda\,\theta`.

    Placed before a scaling transform this is the *coupled* L2 penalty of
    ``torch.optim.SGD/Adam/RMSprop(weight_decay=...)``.  Placed after it and before
    :func:`scale_by_learning_rate` it is the *decoupled* decay of ``torch.optim.AdamW``:
    :math:`\theta \leftarrow \theta - \eta\lambda\theta - \eta\,d`, which equals torch's
    ``param.mul_(1 - lr * weight_decay)`` followed by the step.
    """
    wd = hparam(weight_decay, "weight_decay", 0.0)
    full = _full(wd)

    def update(g, state, params):
        (wdf,) = full(g.shape)
        return g + wdf * params, state

    return _make(_no_state, update, weight_decay=wd)


# ---------------------------------------------------------------- momentum


class TraceState(NamedTuple):
    count: int
    velocity: np.ndarray  # (R, D) momentum buffer
    lookahead: np.ndarray | None = None  # (R, D) Nesterov's direction g_t + mu v_t (else None)


def trace(momentum, dampening=0.0, nesterov: bool = False) -> GradientTransformation:
    r"""Heavy-ball momentum, as in ``torch.optim.SGD``.

    .. math::

        v_1 = g_1, \qquad v_t = \mu\, v_{t-1} + (1 - \tau)\, g_t, \qquad
        u_t = \begin{cases} g_t + \mu\, v_t & \text{Nesterov} \\ v_t & \text{otherwise}
        \end{cases}

    (no dampening on the first step).  Runs with :math:`\mu = 0` pass :math:`g` through,
    as torch does.  Also the momentum of ``torch.optim.RMSprop``, whose buffer starts at
    zero: :math:`\mu \cdot 0 + d_1 = d_1`, the same first step.
    """
    mu = hparam(momentum, "momentum", 0.0)
    tau = hparam(dampening, "dampening", 0.0, 1.0)
    nesterov = bool(nesterov)
    if nesterov and (np.any(np.asarray(mu) <= 0) or np.any(np.asarray(tau) != 0)):
        raise ValueError("nesterov=True requires momentum > 0 and dampening = 0 (as in torch); "
                         f"got momentum={momentum!r}, dampening={dampening!r}")
    # torch ignores dampening when there is no momentum buffer (momentum == 0)
    keep = 1.0 - np.where(np.asarray(mu) == 0, 0.0, tau)
    keep = float(keep) if keep.ndim == 0 else keep
    full = _full(mu, keep)
    undamped = bool(np.all(np.asarray(keep) == 1.0))

    def init(params):
        return TraceState(0, _zeros(params), _zeros(params) if nesterov else None)

    def update(g, state, params):
        muf, keepf = full(g.shape)
        if state.count == 0:
            v = np.array(g, dtype=np.float64)
        elif undamped:
            v = state.velocity * muf + g
        else:
            v = state.velocity * muf + keepf * g
        if nesterov:
            out = g + muf * v
            return out, TraceState(state.count + 1, v, out)
        return v, TraceState(state.count + 1, v)

    def describe(state):
        out = {"velocity": state.velocity}
        if nesterov:
            out["lookahead"] = _unset(state.lookahead, state.count)
        return out

    return _make(init, update, describe, momentum=mu, dampening=tau)


# ---------------------------------------------------------------- adaptive scalings


class ScaleByAdagradState(NamedTuple):
    sum_sq: np.ndarray  # (R, D) running sum of squared gradients


def scale_by_adagrad(initial_accumulator_value=0.0, eps=1e-10) -> GradientTransformation:
    r"""Adagrad's scaling, as in ``torch.optim.Adagrad``.

    .. math:: s_0 = s_{\mathrm{init}}, \quad s_t = s_{t-1} + g_t^2, \quad
              u_t = \frac{g_t}{\sqrt{s_t} + \epsilon}

    (torch's ``lr_decay`` is a learning-rate factor; see ``optimizers.adagrad``).
    """
    s0 = hparam(initial_accumulator_value, "initial_accumulator_value", 0.0)
    eps = hparam(eps, "eps", 0.0, lo_open=True)
    full = _full(s0, eps)

    def init(params):
        return ScaleByAdagradState(np.array(full(np.shape(params))[0]))

    def update(g, state, params):
        epsf = full(g.shape)[1]
        s = state.sum_sq + g * g
        return g / (np.sqrt(s) + epsf), ScaleByAdagradState(s)

    def describe(state):
        return {"sum_sq": state.sum_sq, "factor": 1.0 / (np.sqrt(state.sum_sq) + _col(eps))}

    return _make(init, update, describe, initial_accumulator_value=s0, eps=eps)


class ScaleByRmsState(NamedTuple):
    square_avg: np.ndarray        # (R, D) EMA of g^2
    grad_avg: np.ndarray | None   # (R, D) EMA of g (centered only)


def scale_by_rms(alpha=0.99, eps=1e-8, centered: bool = False) -> GradientTransformation:
    r"""RMSprop's scaling, as in ``torch.optim.RMSprop``.

    .. math::

        v_t = \alpha v_{t-1} + (1-\alpha) g_t^2, \qquad
        \bar g_t = \alpha \bar g_{t-1} + (1-\alpha) g_t \ \text{(centered)}, \\
        u_t = \frac{g_t}{\sqrt{v_t - \bar g_t^2} + \epsilon}
        \quad\Big(\text{or } \frac{g_t}{\sqrt{v_t} + \epsilon}\Big)

    with :math:`v_0 = \bar g_0 = 0` (no bias correction).
    """
    alpha = hparam(alpha, "alpha", 0.0, 1.0)
    eps = hparam(eps, "eps", 0.0, lo_open=True)
    centered = bool(centered)
    full = _full(alpha, 1.0 - alpha, eps)

    def init(params):
        return ScaleByRmsState(_zeros(params), _zeros(params) if centered else None)

    def update(g, state, params):
        af, omaf, epsf = full(g.shape)
        v = state.square_avg * af + omaf * (g * g)
        if centered:
            m = state.grad_avg + omaf * (g - state.grad_avg)
            avg = np.sqrt(v - m * m) + epsf
        else:
            m = None
            avg = np.sqrt(v) + epsf
        return g / avg, ScaleByRmsState(v, m)

    def describe(state):
        v, m = state.square_avg, state.grad_avg
        out = {"v": v}
        if centered:
            out["grad_avg"] = m
            avg = np.sqrt(v - m * m) + _col(eps)
        else:
            avg = np.sqrt(v) + _col(eps)
        out["factor"] = 1.0 / avg
        return out

    return _make(init, update, describe, alpha=alpha, eps=eps)


class ScaleByAdamState(NamedTuple):
    count: int
    mu: np.ndarray                # (R, D) first moment, EMA of g
    nu: np.ndarray                # (R, D) second moment, EMA of g^2
    nu_max: np.ndarray | None     # (R, D) running max of nu (amsgrad only)


def scale_by_adam(b1=0.9, b2=0.999, eps=1e-8, amsgrad: bool = False) -> GradientTransformation:
    r"""Adam's scaling with bias correction, as in ``torch.optim.Adam``.

    .. math::

        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \\
        u_t = \frac{m_t / (1-\beta_1^t)}{\sqrt{\hat v_t} / \sqrt{1-\beta_2^t} + \epsilon}

    with :math:`\hat v_t = v_t`, or :math:`\max(\hat v_{t-1}, v_t)` for AMSGrad.
    :math:`\epsilon` is added *outside* the square root of the bias-corrected moment.
    """
    b1, b2, eps = _adam_hparams(b1, b2, eps)
    amsgrad = bool(amsgrad)
    b1c, b2c = _col(b1), _col(b2)
    full = _full(b2, 1.0 - b1, 1.0 - b2, eps)
    sqrt = math.sqrt if isinstance(b2, float) else np.sqrt

    def init(params):
        return ScaleByAdamState(0, _zeros(params), _zeros(params),
                                _zeros(params) if amsgrad else None)

    def update(g, state, params):
        b2f, omb1f, omb2f, epsf = full(g.shape)
        t = state.count + 1
        mu = state.mu + omb1f * (g - state.mu)
        nu = state.nu * b2f + omb2f * (g * g)
        nu_max = np.maximum(state.nu_max, nu) if amsgrad else None
        denom = np.sqrt(nu_max if amsgrad else nu) / sqrt(1.0 - b2c ** t) + epsf
        return mu / denom / (1.0 - b1c ** t), ScaleByAdamState(t, mu, nu, nu_max)

    def describe(state):
        t = state.count
        out = {"m": state.mu, "v": state.nu}
        if amsgrad:
            out["v_max"] = state.nu_max
        if t == 0:
            return _unset_all(out, state.mu, "m_hat", "v_hat", "factor")
        second = state.nu_max if amsgrad else state.nu
        out["m_hat"] = state.mu / (1.0 - b1c ** t)
        out["v_hat"] = second / (1.0 - b2c ** t)
        out["factor"] = 1.0 / (np.sqrt(second) / sqrt(1.0 - b2c ** t) + _col(eps))
        return out

    return _make(init, update, describe, b1=b1, b2=b2, eps=eps)


class ScaleByNadamState(NamedTuple):
    count: int
    mu_product: float | np.ndarray  # prod of momentum coefficients mu_1 ... mu_t
    mu: np.ndarray                  # (R, D) first moment
    nu: np.ndarray                  # (R, D) second moment
    m_hat: np.ndarray | None = None  # (R, D) the Nesterov-corrected moment of the last step


def scale_by_nadam(b1=0.9, b2=0.999, eps=1e-8, momentum_decay=4e-3) -> GradientTransformation:
    r"""NAdam's scaling (Dozat 2016), as in ``torch.optim.NAdam``.

    .. math::

        \mu_t = \beta_1\big(1 - \tfrac12\, 0.96^{t\psi}\big), \qquad
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \\
        u_t = \frac{1}{\sqrt{v_t / (1-\beta_2^t)} + \epsilon}\left(
        \frac{(1-\mu_t)\, g_t}{1 - \prod_{i\le t}\mu_i}
        + \frac{\mu_{t+1}\, m_t}{1 - \prod_{i\le t+1}\mu_i}\right)

    where :math:`\psi` is torch's ``momentum_decay``.
    """
    b1, b2, eps = _adam_hparams(b1, b2, eps)
    psi = hparam(momentum_decay, "momentum_decay", 0.0)
    b1c, b2c, psic = _col(b1), _col(b2), _col(psi)
    full = _full(b2, 1.0 - b1, 1.0 - b2, eps)

    def init(params):
        return ScaleByNadamState(0, 1.0, _zeros(params), _zeros(params), _zeros(params))

    def update(g, state, params):
        t = state.count + 1
        mu_t = b1c * (1.0 - 0.5 * 0.96 ** (t * psic))
        mu_next = b1c * (1.0 - 0.5 * 0.96 ** ((t + 1) * psic))
        prod = state.mu_product * mu_t
        b2f, omb1f, omb2f, epsf = full(g.shape)
        m = state.mu + omb1f * (g - state.mu)
        v = state.nu * b2f + omb2f * (g * g)
        denom = np.sqrt(v / (1.0 - b2c ** t)) + epsf
        m_hat = g * ((1.0 - mu_t) / (1.0 - prod)) + m * (mu_next / (1.0 - prod * mu_next))
        return m_hat / denom, ScaleByNadamState(t, prod, m, v, m_hat)

    def describe(state):
        out = {"m": state.mu, "v": state.nu}
        if state.count == 0:
            return _unset_all(out, state.mu, "m_hat", "v_hat", "factor")
        v_hat = state.nu / (1.0 - b2c ** state.count)
        return {**out, "m_hat": state.m_hat, "v_hat": v_hat,
                "factor": 1.0 / (np.sqrt(v_hat) + _col(eps))}

    return _make(init, update, describe, b1=b1, b2=b2, eps=eps, momentum_decay=psi)


class ScaleByAdamaxState(NamedTuple):
    count: int
    mu: np.ndarray       # (R, D) first moment
    exp_inf: np.ndarray  # (R, D) exponentially weighted infinity norm


def scale_by_adamax(b1=0.9, b2=0.999, eps=1e-8) -> GradientTransformation:
    r"""Adamax's scaling (Adam in the infinity norm), as in ``torch.optim.Adamax``.

    .. math::

        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        u^\infty_t = \max(\beta_2 u^\infty_{t-1},\ |g_t| + \epsilon), \qquad
        u_t = \frac{m_t}{(1-\beta_1^t)\, u^\infty_t}
    """
    b1, b2, eps = _adam_hparams(b1, b2, eps)
    b1c = _col(b1)
    full = _full(b2, eps, 1.0 - b1)

    def init(params):
        return ScaleByAdamaxState(0, _zeros(params), _zeros(params))

    def update(g, state, params):
        b2f, epsf, omb1f = full(g.shape)
        t = state.count + 1
        mu = state.mu + omb1f * (g - state.mu)
        u_inf = np.maximum(state.exp_inf * b2f, np.abs(g) + epsf)
        return mu / u_inf / (1.0 - b1c ** t), ScaleByAdamaxState(t, mu, u_inf)

    def describe(state):
        out = {"m": state.mu, "u_inf": state.exp_inf}
        if state.count == 0:
            return _unset_all(out, state.mu, "m_hat", "factor")
        m_hat = state.mu / (1.0 - b1c ** state.count)
        return {**out, "m_hat": m_hat, "factor": 1.0 / state.exp_inf}

    return _make(init, update, describe, b1=b1, b2=b2, eps=eps)


class ScaleByAdadeltaState(NamedTuple):
    square_avg: np.ndarray  # (R, D) EMA of g^2
    acc_delta: np.ndarray   # (R, D) EMA of squared steps
    ratio: np.ndarray | None = None  # (R, D) sqrt(a_{t-1} + eps) / sqrt(v_t + eps), last step


def scale_by_adadelta(rho=0.9, eps=1e-6) -> GradientTransformation:
    r"""Adadelta's scaling (Zeiler 2012), as in ``torch.optim.Adadelta``.

    .. math::

        v_t = \rho v_{t-1} + (1-\rho) g_t^2, \qquad
        u_t = \frac{\sqrt{a_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t, \qquad
        a_t = \rho a_{t-1} + (1-\rho) u_t^2
    """
    rho = hparam(rho, "rho", 0.0, 1.0)
    eps = hparam(eps, "eps", 0.0, lo_open=True)
    full = _full(rho, 1.0 - rho, eps)

    def init(params):
        return ScaleByAdadeltaState(_zeros(params), _zeros(params), _zeros(params))

    def update(g, state, params):
        rf, omrf, epsf = full(g.shape)
        v = state.square_avg * rf + omrf * (g * g)
        ratio = np.sqrt(state.acc_delta + epsf) / np.sqrt(v + epsf)
        delta = ratio * g
        acc = state.acc_delta * rf + omrf * (delta * delta)
        return delta, ScaleByAdadeltaState(v, acc, ratio)

    def describe(state):
        return {"v": state.square_avg, "acc_delta": state.acc_delta, "factor": state.ratio}

    return _make(init, update, describe, rho=rho, eps=eps)


# ---------------------------------------------------------------- learning rate


class ScaleByLearningRateState(NamedTuple):
    count: int              # updates done so far
    lr: np.ndarray          # (R,) effective lr of the most recent update (before any: of the first)
    lr_scale: np.ndarray    # (R,) per-run multiplier (ReduceLROnPlateau); ones by default


def scale_by_learning_rate(lr: float | np.ndarray | Callable) -> GradientTransformation:
    r"""The descent step :math:`u_t = -\eta_t\, d_t` with :math:`\eta_t = \eta(t)\, s`.

    ``lr`` is a scalar, an ``(R,)`` array, or a schedule ``lr(count)`` returning either,
    where ``count`` is the number of updates already done (0 for the first) -- the value
    a ``torch.optim.lr_scheduler`` stepped once after each optimizer step gives torch.
    :math:`s` is the per-run ``lr_scale`` of the state (ones; lowered by plateau logic).
    A schedule is validated once, on ``lr(0)``.
    """
    if callable(lr):
        fn = lr
        first = hparam(fn(0), "lr", 0.0)
    else:
        fn = None
        first = hparam(lr, "lr", 0.0)
    const = first
    neg = _full(-first) if fn is None else None
    defaults: dict = {}  # R -> (ones, lr): init's lr_scale (recognised by identity) and lr
    fast: dict = {}      # (R, D) -> (-lr as (R, D), ones, lr) for a constant lr

    def default(R):
        out = defaults.get(R)
        if out is None:
            ones = np.ones(R)
            lr0 = np.broadcast_to(first, (R,)) * ones
            ones.flags.writeable = lr0.flags.writeable = False
            out = defaults[R] = (ones, lr0)
        return out

    def init(params):
        ones, lr0 = default(np.shape(params)[0])
        return ScaleByLearningRateState(0, lr0, ones)

    def update(d, state, params):
        if neg is not None:  # constant lr and the untouched default scale: one multiply
            hit = fast.get(d.shape)
            if hit is None and d.shape[0] in defaults:
                hit = fast[d.shape] = (neg(d.shape)[0],) + defaults[d.shape[0]]
            if hit is not None and state.lr_scale is hit[1]:
                return d * hit[0], ScaleByLearningRateState(state.count + 1, hit[2], hit[1])
        lr_t = (const if fn is None else fn(state.count)) * state.lr_scale
        u = d * lr_t[:, None]
        np.negative(u, out=u)  # -(lr d) == (-lr) d exactly, as torch's add_(d, alpha=-lr)
        return u, ScaleByLearningRateState(state.count + 1, lr_t, state.lr_scale)

    def describe(state):
        return {"lr": state.lr, "count": np.full(state.lr.shape[0], state.count)}

    return _make(init, update, describe, lr=first)
