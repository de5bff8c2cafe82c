"""The surfaces' one-pass ``loss_and_grad``: the same numbers as ``loss`` and ``grad``
(bit for bit, so the runner's trajectories do not depend on which path it takes) and as
torch autograd (the stored vectors of ``tests/reference/make_problem_vectors.py``)."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from descentlab.engine import problems as P
from descentlab.engine import surfaces as S

REF = np.load(Path(__file__).resolve().parents[1] / "reference" / "problems.npz")
CASES = {k[: -len("_case")]: tuple(json.loads(str(REF[k])))
         for k in REF.files if k.endswith("_case")}


def _same(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("key", sorted(CASES))
def test_loss_and_grad_equals_loss_grad_and_torch(key):
    name, params = CASES[key]
    p = P.get(name, **params)
    X = REF[f"{key}_points"]
    loss, grad = p.loss_and_grad(X)
    assert _same(loss, p.loss(X)) and _same(grad, p.grad(X))
    assert grad.flags.c_contiguous
    np.testing.assert_allclose(loss, REF[f"{key}_loss"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad, REF[f"{key}_grad"], rtol=1e-11, atol=1e-11)


@given(name=st.sampled_from(P.names()),
       pts=st.lists(st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)),
                    min_size=1, max_size=80))
def test_loss_and_grad_is_bitwise_loss_and_grad(name, pts):
    """Any points, including overflow to inf/NaN and the > 64-row contiguous path."""
    p = P.get(name)
    X = np.array(pts, dtype=np.float64)
    before = X.copy()
    with np.errstate(all="ignore"):
        loss, grad = p.loss_and_grad(X)
        assert _same(loss, p.loss(X)) and _same(grad, p.grad(X))
    assert np.array_equal(X, before)  # inputs untouched


def test_every_named_surface_has_loss_and_grad_and_custom_has_none():
    for name in P.names():
        assert callable(P.get(name).loss_and_grad)
    assert S.Problem("p", None, None, ((0, 1), (0, 1)), np.zeros(2), np.zeros((0, 2)),
                     {}).loss_and_grad is None
    assert P.custom(lambda q: (q * q).sum(axis=1)).loss_and_grad is None
