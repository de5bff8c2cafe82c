r"""Optimizer *kinds* by the names a person picks (``"GD"``, ``"Momentum"``, ``"Adam"``, ...).

One table for every lab: the kind's ``torch.optim`` counterpart, the hyperparameters it
uses besides ``lr``, and the starting learning rate the field uses (Adam 1e-3, SGD 1e-2).
:func:`build` turns a kind and its settings into the engine optimizer; it is the only
kind -> optimizer mapping in the project.

Every hyperparameter may be a scalar or an ``(n,)`` array (one per run).  Momentum and
weight decay are always passed on (as arrays when they are scalars) so the optimizer's
state keeps its structure when they change from 0 during a run: a live retune never has
to restart.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import optimizers as O

__all__ = ["Kind", "KINDS", "names", "build", "uses", "FIELD_LR"]


class Kind(NamedTuple):
    """One kind: the constructor in :mod:`.optimizers`, fixed arguments, the
    hyperparameters a person may tune (besides ``lr`` and ``weight_decay``), the torch
    class it equals, and the field's usual starting learning rate."""

    ctor: str
    fixed: dict
    uses: tuple
    torch: str
    lr: float


KINDS: dict[str, Kind] = {
    "GD": Kind("sgd", {}, (), "torch.optim.SGD", 1e-2),
    "Momentum": Kind("sgd", {}, ("momentum",), "torch.optim.SGD(momentum=μ)", 1e-2),
    "Nesterov": Kind("sgd", {"nesterov": True}, ("momentum",),
                     "torch.optim.SGD(momentum=μ, nesterov=True)", 1e-2),
    "AdaGrad": Kind("adagrad", {}, (), "torch.optim.Adagrad", 1e-2),
    "RMSprop": Kind("rmsprop", {}, ("alpha",), "torch.optim.RMSprop", 1e-2),
    "Adam": Kind("adam", {}, ("betas",), "torch.optim.Adam", 1e-3),
    "AdamW": Kind("adamw", {}, ("betas",), "torch.optim.AdamW", 1e-3),
    "NAdam": Kind("nadam", {}, ("betas",), "torch.optim.NAdam", 2e-3),
    "Adamax": Kind("adamax", {}, ("betas",), "torch.optim.Adamax", 2e-3),
    "Adadelta": Kind("adadelta", {}, ("rho",), "torch.optim.Adadelta", 1.0),
}
"""Every kind a run can have, in the order the pickers list them."""

FIELD_LR = {name: k.lr for name, k in KINDS.items()}
"""The field's usual starting learning rates (torch's defaults; SGD's 1e-2 by practice)."""


def names() -> tuple[str, ...]:
    return tuple(KINDS)


def uses(kind: str) -> tuple[str, ...]:
    """The hyperparameters ``kind`` reads besides ``lr`` and ``weight_decay``."""
    return _kind(kind).uses


def _kind(kind: str) -> Kind:
    try:
        return KINDS[kind]
    except (KeyError, TypeError):
        raise ValueError(f"optimizer kind must be one of {', '.join(KINDS)}; got {kind!r}") \
            from None


def build(kind: str, lr, n: int, *, momentum=0.9, betas=(0.9, 0.999), alpha=0.99, rho=0.9,
          weight_decay=0.0, eps=None):
    r"""The optimizer of ``n`` runs of ``kind`` with learning rate(s) ``lr`` (a scalar, an
    ``(n,)`` array or a schedule ``lr(count)``).  Arguments a kind does not use are
    ignored; a bad value raises the engine's ``ValueError`` naming it and its range."""
    k = _kind(kind)
    kw = dict(k.fixed)
    kw["lr"] = lr
    kw["weight_decay"] = np.broadcast_to(np.asarray(weight_decay, float), (n,)).copy()
    if "momentum" in k.uses:
        kw["momentum"] = np.broadcast_to(np.asarray(momentum, float), (n,)).copy()
    if "betas" in k.uses:
        kw["betas"] = betas
    if "alpha" in k.uses:
        kw["alpha"] = alpha
    if "rho" in k.uses:
        kw["rho"] = rho
    if eps is not None:
        kw["eps"] = eps
    return O.OPTIMIZERS[k.ctor](**kw)
