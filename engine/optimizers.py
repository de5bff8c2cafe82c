r"""The torch optimizers over a runs axis, built from :mod:`.transforms` with ``chain``.

Each constructor takes ``torch.optim``'s argument names and defaults and reproduces
its float64 trajectory (single-tensor code path, torch 2.13)::

    opt = adam(lr=1e-3)                      # or lr=np.array([...]) one per run,
    state = opt.init(params)                 # or lr=lambda count: schedule value
    updates, state = opt.update(grads, state, params)
    params = apply_updates(params, updates)

Every numeric hyperparameter is a scalar or an ``(R,)`` array; ``lr`` may also be a
schedule ``lr(count)``, ``count`` = updates already done.  :func:`race` runs several
optimizers side by side on consecutive blocks of the runs axis as one transformation.
:func:`current_lr`, :func:`set_lr_scale` and :func:`quantities` read and adjust any of
these states, through :func:`race` too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from . import transforms as T
from .base import ChainState, GradientTransformation, chain, common_runs, sub_states
from .checks import check_grads, check_int, check_params, hparam
from .transforms import ScaleByLearningRateState

__all__ = [
    "sgd",
    "adagrad",
    "rmsprop",
    "adam",
    "adamw",
    "nadam",
    "adamax",
    "adadelta",
    "OPTIMIZERS",
    "race",
    "RaceState",
    "current_lr",
    "set_lr_scale",
    "quantities",
    "internals",
]


def _optimizer(*transforms: GradientTransformation | None,
               unused: GradientTransformation | None = None) -> GradientTransformation:
    """Chain the given transforms (``None`` = skipped) and check shapes at the boundary.

    ``unused`` is a validated but skipped transform whose per-run arrays still count.
    """
    inner = chain(*(t for t in transforms if t is not None))
    runs = common_runs(inner.runs, unused.runs if unused is not None else None)
    inner_init, inner_update = inner.init, inner.update

    def init(params):
        return inner_init(check_params(params))

    def update(grads, state, params):
        try:
            grads, params = check_grads(grads, params)
        except ValueError:
            check_params(params)  # a malformed params array is the better message
            raise
        return inner_update(grads, state, params)

    update.unchecked = inner_update  # for race, which checks the whole batch once
    return GradientTransformation(init, update, runs, inner.describe)


def _nonzero(value) -> bool:
    """False only for the scalar 0 (a transform that would do nothing is skipped)."""
    return not (np.ndim(value) == 0 and float(value) == 0.0)


def _decay(weight_decay) -> GradientTransformation | None:
    r"""The weight decay :math:`g + \lambda\theta`, or None for the scalar 0."""
    return T.add_decayed_weights(weight_decay) if _nonzero(weight_decay) else None


def _coupled(maximize, weight_decay) -> tuple:
    """torch's first two steps: flip the gradient for ``maximize``, then add L2 decay."""
    return T.negate() if maximize else None, _decay(weight_decay)


def _betas(betas):
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair (beta1, beta2), each in [0, 1); got {betas!r}")\
            from None
    return b1, b2


def sgd(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
        maximize=False) -> GradientTransformation:
    r"""Stochastic gradient descent with momentum; equals ``torch.optim.SGD``.

    .. math::

        g \leftarrow g + \lambda\theta, \quad
        v_1 = g_1,\ v_t = \mu v_{t-1} + (1-\tau) g_t, \quad
        \theta \leftarrow \theta - \eta\,(g + \mu v \text{ if Nesterov else } v)
    """
    momentum_ = T.trace(momentum, dampening, nesterov)  # validates even when unused
    return _optimizer(
        *_coupled(maximize, weight_decay),
        momentum_ if _nonzero(momentum) else None,
        T.scale_by_learning_rate(lr),
        unused=None if _nonzero(momentum) else momentum_,
    )


def adagrad(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
            maximize=False) -> GradientTransformation:
    r"""Adagrad; equals ``torch.optim.Adagrad``.

    .. math::

        s_t = s_{t-1} + g_t^2, \qquad
        \theta \leftarrow \theta - \frac{\eta_t}{1 + (t-1)\,\delta}\,
        \frac{g_t}{\sqrt{s_t} + \epsilon}

    with :math:`\delta` = ``lr_decay`` and :math:`s_0` = ``initial_accumulator_value``.
    The decayed rate is the learning rate the state reports (:func:`current_lr`).
    """
    delta = hparam(lr_decay, "lr_decay", 0.0)
    rate = lr
    if _nonzero(delta):
        base = lr if callable(lr) else hparam(lr, "lr", 0.0)

        def rate(count):
            return (base(count) if callable(base) else base) / (1.0 + count * delta)

    return _optimizer(
        *_coupled(maximize, weight_decay),
        T.scale_by_adagrad(initial_accumulator_value, eps),
        T.scale_by_learning_rate(rate),
    )


def rmsprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
            maximize=False) -> GradientTransformation:
    r"""RMSprop; equals ``torch.optim.RMSprop``.

    .. math::

        v_t = \alpha v_{t-1} + (1-\alpha) g_t^2, \quad
        d_t = \frac{g_t}{\sqrt{v_t - \bar g_t^2 \,[\text{centered}]} + \epsilon}, \quad
        b_t = \mu b_{t-1} + d_t, \quad \theta \leftarrow \theta - \eta\, b_t
    """
    return _optimizer(
        *_coupled(maximize, weight_decay),
        T.scale_by_rms(alpha, eps, centered),
        T.trace(momentum) if _nonzero(momentum) else None,
        T.scale_by_learning_rate(lr),
    )


def adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
         maximize=False) -> GradientTransformation:
    r"""Adam (coupled L2 weight decay); equals ``torch.optim.Adam``.

    .. math::

        g \leftarrow g + \lambda\theta, \quad
        \theta \leftarrow \theta - \eta\,
        \frac{m_t/(1-\beta_1^t)}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}
    """
    b1, b2 = _betas(betas)
    return _optimizer(
        *_coupled(maximize, weight_decay),
        T.scale_by_adam(b1, b2, eps, amsgrad),
        T.scale_by_learning_rate(lr),
    )


def adamw(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
          maximize=False) -> GradientTransformation:
    r"""AdamW (decoupled weight decay); equals ``torch.optim.AdamW``.

    .. math::

        \theta \leftarrow \theta(1 - \eta\lambda) - \eta\,
        \frac{m_t/(1-\beta_1^t)}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    The decay goes through the learning-rate transform, so schedules and ``lr_scale``
    apply to it exactly as torch's ``lr * weight_decay`` does.
    """
    b1, b2 = _betas(betas)
    return _optimizer(
        T.negate() if maximize else None,
        T.scale_by_adam(b1, b2, eps, amsgrad),
        _decay(weight_decay),
        T.scale_by_learning_rate(lr),
    )


def nadam(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
          decoupled_weight_decay=False, maximize=False) -> GradientTransformation:
    r"""NAdam (Nesterov-accelerated Adam); equals ``torch.optim.NAdam``.

    See :func:`.transforms.scale_by_nadam` for the step; weight decay is coupled
    (L2 into the gradient) or, with ``decoupled_weight_decay=True``, AdamW-style.
    """
    b1, b2 = _betas(betas)
    wd = _decay(weight_decay)
    return _optimizer(
        T.negate() if maximize else None,
        None if decoupled_weight_decay else wd,
        T.scale_by_nadam(b1, b2, eps, momentum_decay),
        wd if decoupled_weight_decay else None,
        T.scale_by_learning_rate(lr),
    )


def adamax(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
           maximize=False) -> GradientTransformation:
    r"""Adamax; equals ``torch.optim.Adamax``.

    .. math:: \theta \leftarrow \theta - \frac{\eta}{1-\beta_1^t}\,\frac{m_t}{u_t},
              \quad u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon)
    """
    b1, b2 = _betas(betas)
    return _optimizer(
        *_coupled(maximize, weight_decay),
        T.scale_by_adamax(b1, b2, eps),
        T.scale_by_learning_rate(lr),
    )


def adadelta(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0,
             maximize=False) -> GradientTransformation:
    r"""Adadelta; equals ``torch.optim.Adadelta``.

    .. math:: \theta \leftarrow \theta - \eta\,
              \frac{\sqrt{a_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t
    """
    return _optimizer(
        *_coupled(maximize, weight_decay),
        T.scale_by_adadelta(rho, eps),
        T.scale_by_learning_rate(lr),
    )


OPTIMIZERS = {
    "sgd": sgd,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
    "adamw": adamw,
    "nadam": nadam,
    "adamax": adamax,
    "adadelta": adadelta,
}
"""Constructors by lower-case torch name."""


# ---------------------------------------------------------------- race


class RaceState(NamedTuple):
    """The states of a race's optimizers; block i covers runs ``offsets[i]:offsets[i+1]``."""

    inner: tuple
    offsets: tuple


def race(optimizers: Sequence[GradientTransformation], sizes: Sequence[int]
         ) -> GradientTransformation:
    r"""Several optimizers side by side: block :math:`i` of the runs axis
    (``sizes[i]`` consecutive runs) is updated by ``optimizers[i]``.

    .. math:: u_{[o_i, o_{i+1})} = \mathrm{update}_i(g_{[o_i, o_{i+1})}, s_i,
              \theta_{[o_i, o_{i+1})})

    One transformation over :math:`R = \sum_i` ``sizes[i]`` runs, so a runner makes one
    gradient evaluation per step for the whole race.
    """
    optimizers = tuple(optimizers)
    sizes = tuple(check_int(s, f"sizes[{i}]", 1) for i, s in enumerate(sizes))
    if not optimizers or len(optimizers) != len(sizes):
        raise ValueError(f"race needs one size per optimizer and at least one optimizer; got "
                         f"{len(optimizers)} optimizers and {len(sizes)} sizes")
    for i, (opt, n) in enumerate(zip(optimizers, sizes, strict=True)):
        if opt.runs is not None and opt.runs != n:
            raise ValueError(f"optimizers[{i}] has per-run hyperparameters for {opt.runs} runs "
                             f"but sizes[{i}] is {n}; they must match")
    offsets = tuple(int(o) for o in np.concatenate([[0], np.cumsum(sizes)]))
    R = offsets[-1]
    blocks = tuple(zip(offsets[:-1], offsets[1:], strict=True))
    updates_fns = tuple(getattr(opt.update, "unchecked", opt.update) for opt in optimizers)

    def init(params):
        params = check_params(params)
        if params.shape[0] != R:
            raise ValueError(f"params has {params.shape[0]} runs but the race's sizes add up "
                             f"to {R}; they must match")
        return RaceState(tuple(opt.init(params[a:b]) for opt, (a, b)
                               in zip(optimizers, blocks, strict=True)), offsets)

    def update(grads, state, params):
        if type(grads) is not np.ndarray or grads.dtype != np.float64:
            grads = np.asarray(grads, dtype=np.float64)
        if type(params) is not np.ndarray or params.dtype != np.float64:
            params = np.asarray(params, dtype=np.float64)
        if grads.shape != params.shape or grads.shape[0] != R:
            raise ValueError(f"grads has shape {grads.shape} and params has shape "
                             f"{params.shape}; they must match with {R} runs")
        ups, states = [], []
        for fn, s, (a, b) in zip(updates_fns, state.inner, blocks, strict=True):
            u, s = fn(grads[a:b], s, params[a:b])
            ups.append(u)
            states.append(s)
        return np.concatenate(ups), RaceState(tuple(states), offsets)

    def describe(state):
        return _stack([internals(opt, s) for opt, s in zip(optimizers, state.inner,
                                                           strict=True)], np.diff(offsets))

    return GradientTransformation(init, update, R, describe)


# ---------------------------------------------------------------- reading the state


def _lr_states(state):
    """The learning-rate states of one optimizer (non-race), in chain order."""
    return (s for s in sub_states(state) if isinstance(s, ScaleByLearningRateState))


def current_lr(state) -> np.ndarray:
    r"""The ``(R,)`` effective learning rates :math:`\eta_t` of the most recent update
    (before any update: of the first).  For Adagrad the decayed
    :math:`\eta / (1 + (t-1)\delta)`; through :func:`race`, all blocks concatenated."""
    if isinstance(state, RaceState):
        return np.concatenate([current_lr(s) for s in state.inner])
    if isinstance(state, ChainState):  # fast path for the usual flat chain
        for s in state.inner:
            if isinstance(s, ScaleByLearningRateState):
                return s.lr
            if isinstance(s, ChainState):
                break
    for s in _lr_states(state):
        return s.lr
    raise ValueError("state has no learning rate (no scale_by_learning_rate inside)")


def _runs(state) -> int:
    if isinstance(state, RaceState):
        return state.offsets[-1]
    return current_lr(state).shape[0]


def set_lr_scale(state, scale):
    r"""A copy of ``state`` whose learning rates are multiplied by ``scale`` (a scalar or an
    ``(R,)`` array in [0, inf)) from the next update on -- ReduceLROnPlateau's lever.
    The scale replaces the previous one (it is not compounded)."""
    scale = hparam(scale, "scale", 0.0)
    R = _runs(state)
    arr = np.broadcast_to(np.asarray(scale, dtype=np.float64), (R,)) \
        if np.ndim(scale) == 0 or np.shape(scale)[0] == R else None
    if arr is None:
        raise ValueError(f"scale has {np.shape(scale)[0]} values but there are {R} runs; "
                         f"give a scalar or an array of length {R}")
    return _with_scale(state, arr)


def _with_scale(state, arr):
    if isinstance(state, RaceState):
        o = state.offsets
        return RaceState(tuple(_with_scale(s, arr[o[i]:o[i + 1]])
                               for i, s in enumerate(state.inner)), o)
    if isinstance(state, ScaleByLearningRateState):
        return state._replace(lr_scale=np.array(arr, dtype=np.float64))
    if isinstance(state, ChainState):
        return ChainState(tuple(_with_scale(s, arr) for s in state.inner))
    return state


# not raw (R, D) moments: mu_product is (R, 1) with per-run betas; the others are the
# last step's derived directions kept for :func:`internals`
_NOT_RAW = frozenset({"mu_product", "m_hat", "lookahead", "ratio"})


def quantities(state) -> dict[str, np.ndarray]:
    r"""The optimizer's internals by name, for display: ``(R, D)`` arrays such as
    ``"velocity"`` (momentum buffer), ``"mu"`` / ``"nu"`` (Adam moments), ``"nu_max"``
    (AMSGrad), ``"sum_sq"`` (Adagrad), ``"square_avg"`` / ``"grad_avg"`` (RMSprop,
    Adadelta), ``"exp_inf"`` (Adamax), ``"acc_delta"`` (Adadelta); plus ``"count"``
    (``(R,)`` updates done) and ``"lr"`` (``(R,)``, as :func:`current_lr`).  Through
    :func:`race`, blocks without a quantity get NaN rows."""
    if isinstance(state, RaceState):
        parts = [quantities(s) for s in state.inner]
        sizes = np.diff(state.offsets)
        keys = list(dict.fromkeys(k for p in parts for k in p))
        out = {}
        for k in keys:
            like = next(p[k] for p in parts if k in p)
            out[k] = np.concatenate([
                p[k] if k in p else np.full((n,) + like.shape[1:], np.nan)
                for p, n in zip(parts, sizes, strict=True)
            ])
        return out
    out: dict[str, np.ndarray] = {}
    lr_state = None
    for s in sub_states(state):
        if isinstance(s, ScaleByLearningRateState):
            lr_state = lr_state or s
            continue
        if not hasattr(s, "_fields"):
            continue
        for name in s._fields:
            value = getattr(s, name)
            if isinstance(value, np.ndarray) and value.ndim == 2 and name not in out \
                    and name not in _NOT_RAW:
                out[name] = value
    if lr_state is not None:
        R = lr_state.lr.shape[0]
        out["count"] = np.full(R, lr_state.count)
        out["lr"] = lr_state.lr
    return out


# ---------------------------------------------------------------- what a step means


def internals(optimizer: GradientTransformation, state, params=None) -> dict[str, np.ndarray]:
    r"""What the last update of ``optimizer`` did, by name, with its own hyperparameters.

    ``state`` is the state after update :math:`t` (``count``); every quantity is ``(R, D)``
    except ``"lr"`` and ``"count"`` ``(R,)``.  Each optimizer gives the names it has:

    * ``"lr"``: :math:`\eta_t`, as :func:`current_lr`; ``"count"``: :math:`t`;
    * ``"eff_lr"``: the per-coordinate step size, the elementwise factor :math:`\eta^{\rm
      eff}_t` with :math:`u_t = -\eta^{\rm eff}_t \odot d_t`, where :math:`d_t` is the
      (corrected) first moment, the momentum buffer or the gradient: SGD :math:`\eta`;
      AdaGrad :math:`\eta_t / (\sqrt{G_t} + \epsilon)`; RMSprop
      :math:`\eta / (\sqrt{v_t} + \epsilon)` (centered: :math:`\sqrt{v_t - \bar g_t^2}`);
      Adam, AdamW :math:`\eta / (\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon)` (AMSGrad:
      :math:`\max_{s \le t} v_s`); NAdam :math:`\eta / (\sqrt{\hat v_t} + \epsilon)`;
      Adamax :math:`\eta / u_t`; Adadelta :math:`\eta \sqrt{a_{t-1} + \epsilon} /
      \sqrt{v_t + \epsilon}`.  (Weight decay, decoupled or not, is not part of it.)
    * ``"velocity"``: the momentum buffer :math:`b_t = \mu b_{t-1} + (1-\tau) g_t` (SGD with
      momentum; RMSprop's buffer of :math:`g / (\sqrt v + \epsilon)`);
    * ``"lookahead"``: Nesterov's direction :math:`g_t + \mu b_t`, the one torch steps along;
    * ``"m"``, ``"v"``: the raw moments :math:`m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t`,
      :math:`v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2` (RMSprop, Adadelta: their
      :math:`v_t`); ``"v_max"`` (AMSGrad) :math:`\max_{s\le t} v_s`; ``"grad_avg"``
      (centered RMSprop) :math:`\bar g_t`; ``"sum_sq"`` (AdaGrad) :math:`G_t`;
      ``"u_inf"`` (Adamax) :math:`u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon)`, not
      bias-corrected; ``"acc_delta"`` (Adadelta) :math:`a_t`;
    * ``"m_hat"``, ``"v_hat"``: the bias-corrected moments the step uses.  Adam, AdamW:
      :math:`\hat m_t = m_t / (1-\beta_1^t)`, :math:`\hat v_t = v_t / (1-\beta_2^t)`
      (AMSGrad: ``v_max`` in place of :math:`v_t`).  NAdam:
      :math:`\hat m_t = \frac{(1-\mu_t)\, g_t}{1 - \prod_{i\le t}\mu_i} +
      \frac{\mu_{t+1}\, m_t}{1 - \prod_{i\le t+1}\mu_i}`, :math:`\hat v_t = v_t /
      (1-\beta_2^t)`.  Adamax: :math:`\hat m_t = m_t / (1-\beta_1^t)` only.

    So :math:`u_t = -\,\eta^{\rm eff}_t \odot \hat m_t` for the Adam family without weight
    decay, :math:`-\eta^{\rm eff}_t \odot b_t` for heavy ball and :math:`-\eta^{\rm
    eff}_t \odot g_t` for plain SGD and RMSprop.  Before the first update (:math:`t = 0`)
    every quantity of "the last step" (``eff_lr`` of an adaptive method, ``m_hat``,
    ``v_hat``, ``lookahead``) is NaN; SGD's ``eff_lr`` is then the first step's
    :math:`\eta`.  Through :func:`race`, blocks without a quantity get NaN rows.
    ``params`` (only its shape is read) sets D for optimizers whose state has no ``(R, D)``
    array (plain SGD); without it their ``eff_lr`` is ``(R, 1)``.  An optimizer built
    outside the engine (no ``describe``) gives ``{}``.
    """
    describe = getattr(optimizer, "describe", None)
    if describe is None:
        return {}
    q = dict(describe(state))
    if not isinstance(state, RaceState):
        factor = q.pop("factor", None)
        lr = q.get("lr")
        if lr is not None:
            eff = lr[:, None] if factor is None else lr[:, None] * factor
            if factor is not None and q["count"].size and q["count"][0] == 0:
                eff = np.full(np.shape(eff), np.nan)
            q["eff_lr"] = eff
    eff = q.get("eff_lr")
    if eff is not None:
        D = np.shape(params)[1] if params is not None else max(
            (v.shape[1] for v in q.values() if v.ndim == 2), default=1)
        if eff.shape[1] != D:
            q["eff_lr"] = np.broadcast_to(eff, (eff.shape[0], D)).copy()
    return q


def _stack(parts, sizes) -> dict:
    """Per-block quantities concatenated over the runs axis; NaN rows where a block has
    none; (n, 1) columns broadcast to the widest block."""
    keys = list(dict.fromkeys(k for p in parts for k in p))
    out = {}
    for k in keys:
        tail = max((p[k].shape[1:] for p in parts if k in p), key=lambda s: (len(s), s))
        out[k] = np.concatenate([
            np.broadcast_to(p[k], (n,) + tail) if k in p else np.full((n,) + tail, np.nan)
            for p, n in zip(parts, sizes, strict=True)])
    return out
