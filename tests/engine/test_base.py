from typing import NamedTuple

import numpy as np
import pytest

from descentlab.engine import base


class Count(NamedTuple):
    n: int


def scale(c):
    def init(params):
        return Count(0)

    def update(g, s, params):
        return c * g, Count(s.n + 1)

    return base.GradientTransformation(init, update)


def test_chain_composes_in_order_and_keeps_states():
    opt = base.chain(scale(2.0), scale(-0.5))
    p = np.ones((3, 2))
    s = opt.init(p)
    u, s = opt.update(np.full((3, 2), 4.0), s, p)
    np.testing.assert_array_equal(u, -4.0)
    assert s.inner == (Count(1), Count(1))
    assert base.find_state(s, Count) == Count(1)
    s2 = base.replace_state(s, Count, lambda c: Count(c.n + 10))
    assert s2.inner == (Count(11), Count(11)) and s.inner == (Count(1), Count(1))


def test_apply_updates_returns_new_array():
    p = np.zeros((2, 2))
    out = base.apply_updates(p, np.ones((2, 2)))
    assert np.all(out == 1) and np.all(p == 0)


def test_runs_must_agree():
    a = base.GradientTransformation(None, None, 3)
    b = base.GradientTransformation(None, None, None)
    assert base.chain(a, b).runs == 3
    with pytest.raises(ValueError, match="disagree on the number of runs"):
        base.chain(a, base.GradientTransformation(None, None, 4))
