"""engine.models: gradients vs finite differences and torch autograd, losses vs sklearn."""

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn import metrics as skm

from descentlab.engine import models as M

REF = np.load(Path(__file__).parents[1] / "reference" / "metrics.npz")
K = 3
KINDS = ("linear", "logistic", "softmax")


def make(kind, l2=0.0, k=K):
    if kind == "linear":
        return M.linear_regression(l2)
    if kind == "logistic":
        return M.logistic_regression(l2)
    return M.softmax_regression(k, l2)


def targets(kind, rng, shape, k=K):
    if kind == "linear":
        return rng.normal(size=shape)
    return rng.integers(0, 2 if kind == "logistic" else k, size=shape)


def finite_difference(model, theta, X, y, h=1e-6):
    fd = np.zeros_like(theta)
    for j in range(theta.shape[1]):
        e = np.zeros(theta.shape[1])
        e[j] = h
        fd[:, j] = (model.loss(theta + e, X, y) - model.loss(theta - e, X, y)) / (2 * h)
    return fd


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize("kind", KINDS)
@given(R=st.integers(1, 3), N=st.integers(1, 8), F=st.integers(1, 3), per_run=st.booleans(),
       l2=st.sampled_from([0.0, 0.01, 1.0]), seed=st.integers(0, 2**32 - 1))
def test_grad_matches_finite_differences(kind, R, N, F, per_run, l2, seed):
    rng = np.random.default_rng(seed)
    model = make(kind, l2)
    theta = rng.normal(size=(R, model.n_params(F)))
    X = rng.normal(size=(R, N, F) if per_run else (N, F))
    y = targets(kind, rng, (R, N) if per_run else (N,))
    g = model.grad(theta, X, y)
    assert g.shape == theta.shape
    np.testing.assert_allclose(g, finite_difference(model, theta, X, y), rtol=1e-5, atol=1e-6)
    loss, g2 = model.loss_and_grad(theta, X, y)
    np.testing.assert_array_equal(loss, model.loss(theta, X, y))
    np.testing.assert_array_equal(g2, g)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("l2", [False, True])
@pytest.mark.parametrize("batch", ["shared", "per_run"])
def test_loss_and_grad_equal_stored_torch(kind, l2, batch):
    model = make(kind, float(REF["model_l2"]) if l2 else 0.0)
    theta = REF[f"model_{kind}_theta"]
    tag = f"{kind}_l2" if l2 else kind
    sfx = "_b" if batch == "per_run" else ""
    X = REF["model_Xb"] if batch == "per_run" else REF["model_X"]
    y = REF[f"model_{kind}_yb"] if batch == "per_run" else REF[f"model_{kind}_y"]
    np.testing.assert_allclose(model.loss(theta, X, y), REF[f"model_{tag}_loss{sfx}"],
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(model.grad(theta, X, y), REF[f"model_{tag}_grad{sfx}"],
                               rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("kind", KINDS)
def test_loss_and_grad_equal_live_torch(kind):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    R, N, F, l2 = 3, 9, 2, 0.05
    model = make(kind, l2)
    theta = rng.normal(size=(R, model.n_params(F))) * 3
    X, y = rng.normal(size=(N, F)), targets(kind, rng, (N,))
    for r in range(R):
        t = torch.tensor(theta[r], requires_grad=True)
        Xt = torch.tensor(X)
        if kind == "softmax":
            Wb = t.reshape(F + 1, K)
            W = Wb[:F]
            loss = torch.nn.functional.cross_entropy(Xt @ W + Wb[F], torch.tensor(y))
        else:
            W = t[:F]
            z = Xt @ W + t[F]
            fn = (torch.nn.functional.mse_loss if kind == "linear"
                  else torch.nn.functional.binary_cross_entropy_with_logits)
            loss = fn(z, torch.tensor(y, dtype=torch.float64))
        loss = loss + l2 / 2 * (W * W).sum()
        loss.backward()
        np.testing.assert_allclose(model.loss(theta, X, y)[r], loss.item(), rtol=1e-12)
        np.testing.assert_allclose(model.grad(theta, X, y)[r], t.grad.numpy(), rtol=1e-11,
                                   atol=1e-14)


# ---------------------------------------------------------------- extreme logits


def test_logistic_extreme_logits_stored_torch():
    model = M.logistic_regression()
    theta = REF["model_extreme_theta"]
    for label in (0, 1):
        y = np.array([label])
        loss = model.loss(theta, np.ones((1, 1)), y)
        grad = model.grad(theta, np.ones((1, 1)), y)
        assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
        np.testing.assert_allclose(loss, REF["model_extreme_loss"][label], rtol=1e-12, atol=0)
        np.testing.assert_allclose(grad, REF["model_extreme_grad"][label], rtol=1e-12, atol=0)
    p = model.predict(theta, np.ones((1, 1)))
    assert p[0, 0] == 1.0 and p[1, 0] == 0.0


def test_softmax_extreme_logits_finite():
    model = M.softmax_regression(3)
    theta = np.zeros((1, 6))
    theta[0, 3:] = [1e4, -1e4, 0.0]  # biases
    X = np.zeros((3, 1))
    y = np.array([0, 1, 2])
    loss = model.loss(theta, X, y)
    # rows: correct at logit 1e4 -> 0; wrong -> 2e4 and 1e4
    np.testing.assert_allclose(loss, [(0 + 2e4 + 1e4) / 3], rtol=1e-12)
    assert np.all(np.isfinite(model.grad(theta, X, y)))
    p = model.predict(theta, X)
    assert np.all(np.isfinite(p)) and np.allclose(p.sum(axis=2), 1.0)


# ---------------------------------------------------------------- against sklearn.metrics


def test_losses_equal_sklearn_metrics():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(20, 2))
    lin = M.linear_regression()
    theta = rng.normal(size=(4, 3))
    y = rng.normal(size=20)
    pred = lin.predict(theta, X)
    np.testing.assert_allclose(lin.loss(theta, X, y),
                               [skm.mean_squared_error(y, p) for p in pred], rtol=1e-12)
    log = M.logistic_regression()
    yb = rng.integers(0, 2, 20)
    pb = log.predict(theta, X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = [skm.log_loss(yb, p, labels=[0, 1]) for p in pb]
    np.testing.assert_allclose(log.loss(theta, X, yb), want, rtol=1e-12)
    sm = M.softmax_regression(4)
    ts = rng.normal(size=(2, sm.n_params(2)))
    ym = rng.integers(0, 4, 20)
    pm = sm.predict(ts, X)
    assert pm.shape == (2, 20, 4)
    np.testing.assert_allclose(sm.loss(ts, X, ym),
                               [skm.log_loss(ym, p, labels=range(4)) for p in pm], rtol=1e-12)


# ---------------------------------------------------------------- layout, shapes, errors


def test_parameter_layout():
    X = np.array([[1.0, 2.0], [0.0, -1.0]])
    lin = M.linear_regression()
    np.testing.assert_allclose(lin.predict(np.array([[3.0, 5.0, 7.0]]), X), [[20.0, 2.0]])
    sm = M.softmax_regression(2)
    theta = np.array([[1.0, 0.0, 0.0, 1.0, 10.0, 20.0]])  # W = I, b = [10, 20] (last row)
    logits = np.array([[11.0, 22.0], [10.0, 19.0]])
    e = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(sm.predict(theta, X)[0], e / e.sum(1, keepdims=True))
    assert sm.n_params(2) == 6 and lin.n_params(2) == 3


@pytest.mark.parametrize("kind", KINDS)
def test_init_params_and_metadata(kind):
    model = make(kind, 0.1)
    n_classes = {"linear": 0, "logistic": 2, "softmax": K}[kind]
    z = model.init_params(4, n_classes, runs=5)
    assert z.shape == (5, model.n_params(4)) and not np.any(z)
    assert model.l2 == 0.1 and model.n_classes == n_classes
    assert model.task == {"linear": "regression", "logistic": "binary",
                          "softmax": "multiclass"}[kind]


def test_l2_does_not_touch_bias():
    model = M.linear_regression(l2=10.0)
    X, y = np.zeros((3, 1)), np.zeros(3)
    theta = np.array([[0.0, 4.0]])  # w = 0, b = 4
    np.testing.assert_allclose(model.loss(theta, X, y), [16.0])
    np.testing.assert_allclose(model.grad(theta, X, y), [[0.0, 8.0]])
    theta = np.array([[2.0, 0.0]])
    np.testing.assert_allclose(model.loss(theta, X, y), [20.0])  # 10/2 * 2^2


def test_bad_inputs_raise_clear_errors():
    lin = M.linear_regression()
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\)"):
        lin.loss(np.zeros((1, 3)), np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match=r"y must have shape \(4,\)"):
        lin.loss(np.zeros((1, 3)), np.zeros((4, 2)), np.zeros(5))
    with pytest.raises(ValueError, match=r"class labels in 0\.\.1"):
        M.logistic_regression().loss(np.zeros((1, 2)), np.zeros((2, 1)), np.array([0, 2]))
    with pytest.raises(ValueError, match=r"l2 must be in \[0, inf\)"):
        M.linear_regression(l2=-1.0)
    with pytest.raises(ValueError, match="n_classes"):
        M.softmax_regression(1)


def test_inputs_not_mutated():
    rng = np.random.default_rng(0)
    sm = M.softmax_regression(3, 0.1)
    theta, X, y = rng.normal(size=(2, 9)), rng.normal(size=(5, 2)), rng.integers(0, 3, 5)
    copies = [a.copy() for a in (theta, X, y)]
    sm.loss_and_grad(theta, X, y)
    sm.predict(theta, X)
    for a, c in zip((theta, X, y), copies, strict=True):
        np.testing.assert_array_equal(a, c)


# ---------------------------------------------------------------- loss surface


def test_loss_grid_matches_pointwise_losses():
    rng = np.random.default_rng(1)
    x = rng.normal(size=30)
    y = 2 * x + 1 + rng.normal(size=30) * 0.1
    model = M.linear_regression()
    ws, bs, Z = M.loss_grid(model, x, y, (-1, 4), (-2, 3), n=7)
    assert ws.shape == bs.shape == (7,) and Z.shape == (7, 7)
    for i, j in [(0, 0), (2, 5), (6, 3)]:
        want = np.mean((ws[j] * x + bs[i] - y) ** 2)
        np.testing.assert_allclose(Z[i, j], want, rtol=1e-12)
    # a mini-batch: just its rows
    _, _, Zb = M.loss_grid(model, x[:4, None], y[:4], (-1, 4), (-2, 3), n=7)
    np.testing.assert_allclose(Zb[3, 3], np.mean((ws[3] * x[:4] + bs[3] - y[:4]) ** 2))


def test_loss_grid_logistic_and_errors():
    x, y = np.array([-1.0, 0.5, 2.0]), np.array([0, 1, 1])
    _, _, Z = M.loss_grid(M.logistic_regression(), x, y, (-5, 5), (-5, 5), n=20)
    assert np.all(np.isfinite(Z)) and Z.shape == (20, 20)
    with pytest.raises(ValueError, match="one feature"):
        M.loss_grid(M.linear_regression(), np.zeros((3, 2)), np.zeros(3), (0, 1), (0, 1))
    with pytest.raises(ValueError, match="2 parameters"):
        M.loss_grid(M.softmax_regression(3), x, y, (0, 1), (0, 1))
    with pytest.raises(ValueError, match="w_range"):
        M.loss_grid(M.linear_regression(), x, y, (1, 0), (0, 1))


def test_for_task_picks_the_convex_model_of_each_task():
    assert M.for_task("regression").name == M.linear_regression().name
    assert M.for_task("binary", l2=0.1).name == M.logistic_regression(0.1).name
    soft = M.for_task("multiclass", 3)
    X, y = np.eye(3), np.array([0, 1, 2])
    P = soft.init_params(3, 3, runs=1)
    np.testing.assert_array_equal(soft.loss(P, X, y), M.softmax_regression(3).loss(P, X, y))
    with pytest.raises(ValueError, match="task must be one of regression, binary"):
        M.for_task("ranking")
