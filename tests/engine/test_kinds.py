"""Optimizer kinds: the one name -> engine optimizer mapping every lab uses."""

import numpy as np
import pytest

from descentlab.engine import kinds
from descentlab.engine import optimizers as O

DIRECT = {
    "GD": lambda lr: O.sgd(lr),
    "Momentum": lambda lr: O.sgd(lr, momentum=0.9),
    "Nesterov": lambda lr: O.sgd(lr, momentum=0.9, nesterov=True),
    "AdaGrad": lambda lr: O.adagrad(lr),
    "RMSprop": lambda lr: O.rmsprop(lr),
    "Adam": lambda lr: O.adam(lr),
    "AdamW": lambda lr: O.adamw(lr, weight_decay=0.0),
    "NAdam": lambda lr: O.nadam(lr),
    "Adamax": lambda lr: O.adamax(lr),
    "Adadelta": lambda lr: O.adadelta(lr),
}


def trajectory(opt, steps=25):
    theta = np.array([[1.5, -0.7], [0.3, 2.0]])
    state = opt.init(theta)
    out = []
    for _ in range(steps):
        g = np.array([4.0, 1.0]) * theta ** 3 - theta
        u, state = opt.update(g, state, theta)
        theta = theta + u
        out.append(theta)
    return np.array(out)


@pytest.mark.parametrize("kind", kinds.names())
def test_every_kind_equals_its_constructor(kind):
    lr = np.array([1e-3, 3e-3])
    np.testing.assert_array_equal(trajectory(kinds.build(kind, lr, 2)),
                                  trajectory(DIRECT[kind](lr)))


def test_the_table_covers_ten_kinds_with_the_fields_starting_rates():
    assert kinds.names() == tuple(DIRECT)
    assert kinds.FIELD_LR["Adam"] == 1e-3 and kinds.FIELD_LR["GD"] == 1e-2
    assert kinds.uses("Momentum") == ("momentum",) and kinds.uses("GD") == ()


@pytest.mark.parametrize("kind, mu0", [("Momentum", 0.0), ("Nesterov", 0.3), ("Adam", 0.0)])
def test_momentum_and_decay_from_zero_keep_the_state_structure(kind, mu0):
    """A live retune (momentum mu0 -> 0.5, decay 0 -> 0.1) swaps optimizers without a
    restart (Nesterov needs momentum > 0, as in torch)."""
    theta = np.ones((3, 2))
    a = kinds.build(kind, 0.01, 3, momentum=mu0, weight_decay=0.0).init(theta)
    b = kinds.build(kind, 0.01, 3, momentum=0.5, weight_decay=0.1).init(theta)

    def shape(s):
        if isinstance(s, tuple):
            return (type(s).__name__, tuple(shape(x) for x in s))
        return type(s).__name__
    assert shape(a) == shape(b)


def test_bad_kind_and_bad_values_name_the_parameter():
    with pytest.raises(ValueError, match="optimizer kind must be one of GD, Momentum"):
        kinds.build("SGDD", 0.1, 1)
    with pytest.raises(ValueError, match="lr"):
        kinds.build("Adam", -1.0, 1)
    with pytest.raises(ValueError, match="beta"):
        kinds.build("Adam", 0.1, 1, betas=(0.9, 1.0))
