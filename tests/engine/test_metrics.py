"""engine.metrics against sklearn.metrics: stored vectors (tests/reference/metrics.npz, written
by make_metric_vectors.py) and live comparisons on random inputs."""

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn import metrics as skm

from descentlab.engine import metrics as M

REF = np.load(Path(__file__).parents[1] / "reference" / "metrics.npz")
TOL = dict(rtol=1e-12, atol=1e-12)

REGRESSION = {"mse": M.mse, "rmse": M.rmse, "mae": M.mae, "r2": M.r2}
SK_REGRESSION = {
    "mse": skm.mean_squared_error,
    "rmse": skm.root_mean_squared_error,
    "mae": skm.mean_absolute_error,
    "r2": skm.r2_score,
}
BINARY = {"accuracy": M.accuracy, "precision": M.precision, "recall": M.recall, "f1": M.f1}
SK_BINARY = {
    "accuracy": skm.accuracy_score,
    "precision": lambda y, p: skm.precision_score(y, p, zero_division=0.0),
    "recall": lambda y, p: skm.recall_score(y, p, zero_division=0.0),
    "f1": lambda y, p: skm.f1_score(y, p, zero_division=0.0),
}


# ---------------------------------------------------------------- stored reference vectors


@pytest.mark.parametrize("name", REGRESSION)
def test_regression_stored(name):
    got = REGRESSION[name](REF["reg_y"], REF["reg_p"])
    assert got.shape == (REF["reg_p"].shape[0],)
    np.testing.assert_allclose(got, REF[f"reg_{name}"], **TOL)


def test_r2_constant_target_stored():
    np.testing.assert_array_equal(M.r2(REF["const_y"], REF["const_p"]), REF["const_r2"])
    assert list(REF["const_r2"]) == [1.0, 0.0]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("as_labels", [False, True])
def test_binary_stored(name, as_labels):
    pred = REF["bin_labels"] if as_labels else REF["bin_p"]
    np.testing.assert_allclose(BINARY[name](REF["bin_y"], pred), REF[f"bin_{name}"], **TOL)


def test_binary_log_loss_stored_and_finite_at_0_and_1():
    got = M.log_loss(REF["bin_y"], REF["bin_p"])
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, REF["bin_log_loss"], **TOL)


def test_multiclass_stored():
    np.testing.assert_allclose(M.log_loss(REF["multi_y"], REF["multi_p"]),
                               REF["multi_log_loss"], **TOL)
    np.testing.assert_allclose(M.accuracy(REF["multi_y"], REF["multi_p"]),
                               REF["multi_accuracy"], **TOL)


# ---------------------------------------------------------------- live against sklearn



@given(st.integers(1, 30), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_regression_live(n, R, seed):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n) * rng.uniform(0.1, 100)
    P = y + rng.normal(size=(R, n)) * rng.uniform(0, 10)
    for name, f in REGRESSION.items():
        if name == "r2" and n < 2:
            assert np.all(np.isnan(f(y, P)))
            continue
        want = np.array([SK_REGRESSION[name](y, p) for p in P])
        np.testing.assert_allclose(f(y, P), want, **TOL)
        got1 = f(y, P[0])
        assert isinstance(got1, float)
        np.testing.assert_allclose(got1, want[0], **TOL)


@given(st.integers(1, 40), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_binary_live(n, R, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = rng.uniform(size=(R, n))
    p[rng.uniform(size=(R, n)) < 0.2] = 0.5
    p[rng.uniform(size=(R, n)) < 0.1] = 1.0
    labels = (p > 0.5).astype(int)
    for name, f in BINARY.items():
        want = np.array([SK_BINARY[name](y, q) for q in labels])
        np.testing.assert_allclose(f(y, p), want, **TOL)
        np.testing.assert_allclose(f(y, labels), want, **TOL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = np.array([skm.log_loss(y, q, labels=[0, 1]) for q in p])
    np.testing.assert_allclose(M.log_loss(y, p), want, **TOL)
    assert isinstance(M.log_loss(y, p[0]), float)


@given(st.integers(1, 30), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_multiclass_live(n, K, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, n)
    p = rng.dirichlet(np.ones(K) * 0.3, size=(2, n))
    p[1, : n // 2] = np.eye(K)[rng.integers(0, K, n // 2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = np.array([skm.log_loss(y, q, labels=range(K)) for q in p])
    np.testing.assert_allclose(M.log_loss(y, p), want, **TOL)
    np.testing.assert_allclose(M.accuracy(y, p),
                               [skm.accuracy_score(y, q.argmax(1)) for q in p], **TOL)
    labels = p.argmax(2).astype(float)  # integral floats are labels
    np.testing.assert_allclose(M.accuracy(y, labels),
                               [skm.accuracy_score(y, q) for q in labels], **TOL)


# ---------------------------------------------------------------- edge cases


def test_perfect_predictions():
    y = np.array([0.5, -2.0, 3.0, 7.0])
    assert M.mse(y, y) == 0.0 and M.rmse(y, y) == 0.0 and M.mae(y, y) == 0.0
    assert M.r2(y, y) == 1.0 == skm.r2_score(y, y)
    yb = np.array([0, 1, 1, 0])
    for f in BINARY.values():
        assert f(yb, yb) == 1.0
    assert M.log_loss(yb, yb.astype(float)) == pytest.approx(skm.log_loss(yb, yb.astype(float)),
                                                            abs=1e-15)


def test_log_loss_at_certain_wrong_probability_is_finite_and_clipped():
    eps = np.finfo(np.float64).eps
    got = M.log_loss(np.array([1, 0]), np.array([0.0, 1.0]))
    assert got == pytest.approx(-np.log(eps), rel=1e-12)
    assert got == pytest.approx(skm.log_loss([1, 0], [0.0, 1.0]), rel=1e-12)


def test_shape_mismatch_names_the_shapes():
    with pytest.raises(ValueError, match=r"\(3, 5\).*\(4,\)"):
        M.mse(np.zeros(4), np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"y_prob has shape \(4, 3\)"):
        M.log_loss(np.zeros(4, int), np.full((4, 3), 1 / 3))
    with pytest.raises(ValueError, match="y_true must have shape"):
        M.accuracy(np.zeros((2, 2), int), np.zeros((2, 2), int))


def test_bad_values_are_rejected():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        M.log_loss(np.array([0, 1]), np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match="binary"):
        M.precision(np.array([0, 2, 1]), np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="labels"):
        M.accuracy(np.array([0, 1]), np.array([0.5, 3.2]))
    with pytest.raises(ValueError, match="only 2 classes"):
        M.log_loss(np.array([0, 2]), np.full((1, 2, 2), 0.5))


def test_inputs_not_mutated():
    y, p = np.array([0, 1, 1]), np.array([[0.0, 1.0, 0.3]])
    y0, p0 = y.copy(), p.copy()
    for f in (M.log_loss, M.accuracy, M.f1):
        f(y, p)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(p, p0)


def test_formulas_cover_every_metric_and_docstrings_carry_them():
    names = {"mse", "rmse", "mae", "r2", "accuracy", "log_loss", "precision", "recall", "f1"}
    assert set(M.FORMULAS) == names
    for name in names:
        doc = getattr(M, name).__doc__
        assert ".. math::" in doc and "sklearn.metrics" in doc
