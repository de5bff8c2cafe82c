r"""The shape of an optimizer: a pair of pure functions over a NamedTuple state.

.. math::

    s_0 = \mathrm{init}(\theta_0), \qquad
    (u_t, s_t) = \mathrm{update}(g_t, s_{t-1}, \theta_{t-1}), \qquad
    \theta_t = \theta_{t-1} + u_t

``params``, ``grads`` and ``updates`` are float64 arrays of shape ``(R, D)``: the
leading axis is the runs axis, so many runs with different hyperparameters are one
computation.  Nothing here mutates its inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "GradientTransformation",
    "EmptyState",
    "ChainState",
    "chain",
    "common_runs",
    "apply_updates",
    "merge_descriptions",
    "find_state",
    "replace_state",
    "sub_states",
]


class GradientTransformation(NamedTuple):
    """``init(params) -> state`` and ``update(grads, state, params) -> (updates, state)``.

    ``runs`` is the number of runs R its hyperparameter arrays ask for (``None`` when
    every hyperparameter is a scalar); the runner uses it to broadcast a shared start.
    ``describe(state) -> dict`` (optional) names what the state means with this
    transform's own hyperparameters (moments, bias-corrected moments, the per-coordinate
    ``"factor"`` it multiplies its input by); :func:`.optimizers.internals` reads it.
    """

    init: Callable[[np.ndarray], Any]
    update: Callable[[np.ndarray, Any, np.ndarray], tuple[np.ndarray, Any]]
    runs: int | None = None
    describe: Callable[[Any], dict] | None = None


class EmptyState(NamedTuple):
    """State of a stateless transform."""


class ChainState(NamedTuple):
    """The states of a chain's transforms, in order."""

    inner: tuple


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    r"""Compose transforms: the updates of one are the gradients of the next.

    .. math:: u = T_k(\dots T_2(T_1(g)))
    """

    runs = common_runs(*(t.runs for t in transforms))

    def init(params):
        return ChainState(tuple(t.init(params) for t in transforms))

    updates_fns = tuple(t.update for t in transforms)

    def update(grads, state, params):
        new_states = []
        updates = grads
        for fn, s in zip(updates_fns, state.inner, strict=True):
            updates, s = fn(updates, s, params)
            new_states.append(s)
        return updates, ChainState(tuple(new_states))

    # the usual optimizers are 1-3 transforms: the same result in fewer Python steps
    if len(updates_fns) == 1:
        (f1,) = updates_fns

        def update(grads, state, params):  # noqa: F811
            (s1,) = state.inner
            u, s1 = f1(grads, s1, params)
            return u, ChainState((s1,))
    elif len(updates_fns) == 2:
        f1, f2 = updates_fns

        def update(grads, state, params):  # noqa: F811
            s1, s2 = state.inner
            u, s1 = f1(grads, s1, params)
            u, s2 = f2(u, s2, params)
            return u, ChainState((s1, s2))
    elif len(updates_fns) == 3:
        f1, f2, f3 = updates_fns

        def update(grads, state, params):  # noqa: F811
            s1, s2, s3 = state.inner
            u, s1 = f1(grads, s1, params)
            u, s2 = f2(u, s2, params)
            u, s3 = f3(u, s3, params)
            return u, ChainState((s1, s2, s3))

    describes = tuple(t.describe for t in transforms)

    def describe(state):
        return merge_descriptions(d(s) for d, s in zip(describes, state.inner, strict=True)
                                  if d is not None)

    return GradientTransformation(init, update, runs,
                                  describe if any(d is not None for d in describes) else None)


def merge_descriptions(parts) -> dict:
    r"""One description from the descriptions of a chain's transforms, in order: the first
    value of each name wins, except ``"factor"``, the per-coordinate factor each transform
    multiplies its input by, which multiplies: :math:`f = \prod_k f_k`."""
    out: dict = {}
    factor = None
    for part in parts:
        for k, v in part.items():
            if k == "factor":
                factor = v if factor is None else factor * v
            else:
                out.setdefault(k, v)
    if factor is not None:
        out["factor"] = factor
    return out


def common_runs(*counts: int | None) -> int | None:
    """The one run count R shared by all non-None ``counts``; ValueError if they differ."""
    found = {int(c) for c in counts if c is not None}
    if len(found) > 1:
        raise ValueError(f"hyperparameter arrays disagree on the number of runs: {sorted(found)}; "
                         "every per-run array must have the same length R")
    return found.pop() if found else None


def apply_updates(params: np.ndarray, updates: np.ndarray) -> np.ndarray:
    r"""Return :math:`\theta + u` as a new array."""
    return np.asarray(params, dtype=np.float64) + updates


def sub_states(state):
    """``state`` and, when it is a chain, every sub-state inside it, depth first in chain order."""
    yield state
    if isinstance(state, ChainState):
        for s in state.inner:
            yield from sub_states(s)


def find_state(state, kind: type):
    """The first sub-state of type ``kind`` inside a (possibly chained) state, or None."""
    for s in sub_states(state):
        if isinstance(s, kind):
            return s
    return None


def replace_state(state, kind: type, fn: Callable[[Any], Any]):
    """A copy of ``state`` with every sub-state of type ``kind`` replaced by ``fn(sub)``."""
    if isinstance(state, kind):
        return fn(state)
    if isinstance(state, ChainState):
        return ChainState(tuple(replace_state(s, kind, fn) for s in state.inner))
    return state
