"""models.logits / probabilities / fit / loss_slice / loss_plane / gradient_check.

References: hand formulas (X w + b, the sigmoid, the softmax), scikit-learn's
LinearRegression, Ridge and LogisticRegression for the fitted parameters, central
differences for gradients.
"""

import numpy as np
import pytest

from descentlab.engine import data, models

sk = pytest.importorskip("sklearn.linear_model")


@pytest.fixture(scope="module")
def reg():
    return data.make_dataset("linear", n=80, seed=1)


@pytest.fixture(scope="module")
def moons():
    return data.make_dataset("moons", n=200, noise=0.3, seed=2)  # not separable


@pytest.fixture(scope="module")
def iris():
    return data.make_dataset("iris", seed=0)


# ---------------------------------------------------------------------------- scores


def test_logits_and_probabilities_by_hand(moons, iris):
    rng = np.random.default_rng(0)
    X = moons.X_train
    theta = rng.normal(size=(3, 3))
    z = X @ theta[:, :2].T + theta[:, 2]
    np.testing.assert_allclose(models.logits(models.logistic_regression(), theta, X), z.T,
                               rtol=1e-14)
    np.testing.assert_allclose(models.probabilities(models.logistic_regression(), theta, X),
                               1 / (1 + np.exp(-z.T)), rtol=1e-13)
    K, F = 3, iris.X_train.shape[1]
    theta = rng.normal(size=(2, (F + 1) * K))
    Z = np.stack([iris.X_train @ t.reshape(F + 1, K)[:F] + t.reshape(F + 1, K)[F]
                  for t in theta])
    sm = models.softmax_regression(K)
    np.testing.assert_allclose(models.logits(sm, theta, iris.X_train), Z, rtol=1e-13)
    e = np.exp(Z)
    np.testing.assert_allclose(models.probabilities(sm, theta, iris.X_train),
                               e / e.sum(axis=2, keepdims=True), rtol=1e-13)
    with pytest.raises(ValueError, match="no logits"):
        models.logits(models.linear_regression(), np.zeros((1, 2)), np.zeros((3, 1)))


# ---------------------------------------------------------------------------- fit


def test_fit_linear_equals_sklearn(reg):
    X, y = reg.X_train, reg.y_train
    ours = models.fit(models.linear_regression(), X, y)
    lr = sk.LinearRegression().fit(X, y)
    np.testing.assert_allclose(ours, np.r_[lr.coef_, lr.intercept_], rtol=1e-12, atol=1e-13)
    lam, N = 0.3, X.shape[0]
    ours = models.fit(models.linear_regression(l2=lam), X, y)
    ridge = sk.Ridge(alpha=lam * N / 2).fit(X, y)   # sum r^2 + alpha |w|^2 = N (mean + lam/2)
    np.testing.assert_allclose(ours, np.r_[ridge.coef_, ridge.intercept_], rtol=1e-10)


@pytest.mark.parametrize("lam", [0.0, 0.05])
def test_fit_logistic_equals_sklearn(moons, lam):
    X, y = moons.X_train, moons.y_train
    N = X.shape[0]
    ours = models.fit(models.logistic_regression(l2=lam), X, y)
    kw = {"C": 1.0 / (N * lam)} if lam else {"C": np.inf}
    with np.errstate(all="ignore"):
        ref = sk.LogisticRegression(tol=1e-12, max_iter=10_000, **kw).fit(X, y)
    np.testing.assert_allclose(ours, np.r_[ref.coef_[0], ref.intercept_], rtol=1e-6, atol=1e-7)


def test_fit_softmax_equals_sklearn(iris):
    X, y = iris.X_train, iris.y_train
    lam, N, K = 0.02, X.shape[0], 3
    model = models.softmax_regression(K, l2=lam)
    ours = models.fit(model, X, y)
    ref = sk.LogisticRegression(C=1.0 / (N * lam), tol=1e-12, max_iter=10_000).fit(X, y)
    W = ours.reshape(-1, K)[:-1]
    np.testing.assert_allclose(W, ref.coef_.T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(models.probabilities(model, ours[None], X)[0],
                               ref.predict_proba(X), atol=1e-7)


def test_fit_reaches_the_tolerance_even_on_separable_data():
    ds = data.make_dataset("blobs2", n=100, separation=8.0, seed=0)
    model = models.logistic_regression()
    theta = models.fit(model, ds.X_train, ds.y_train, tol=1e-9)
    assert np.linalg.norm(model.grad(theta[None], ds.X_train, ds.y_train)) <= 1e-9
    assert model.loss(theta[None], ds.X_train, ds.y_train)[0] < 1e-8  # far along the valley
    with pytest.raises(ValueError, match="Newton steps"):
        models.fit(model, ds.X_train, ds.y_train, tol=1e-300, max_iter=3)


# ---------------------------------------------------------------------------- slices


def test_loss_slice_holds_the_other_coordinates(moons):
    model = models.logistic_regression(l2=0.1)
    X, y = moons.X_train, moons.y_train
    theta = np.array([0.5, -1.0, 0.2])
    vals = np.linspace(-2, 2, 7)
    s = models.loss_slice(model, X, y, theta, 1, vals)
    for v, L in zip(vals, s.loss, strict=True):
        np.testing.assert_allclose(L, model.loss(np.array([[0.5, v, 0.2]]), X, y)[0],
                                   rtol=1e-14)
    assert s.loss_at == model.loss(theta[None], X, y)[0]
    h = 1e-5
    fd = (model.loss(np.array([[0.5, -1 + h, 0.2]]), X, y)
          - model.loss(np.array([[0.5, -1 - h, 0.2]]), X, y))[0] / (2 * h)
    assert s.slope == pytest.approx(fd, rel=1e-7) and s.grad[1] == s.slope
    with pytest.raises(ValueError, match="index"):
        models.loss_slice(model, X, y, theta, 3, vals)


def test_loss_plane_is_the_loss_at_each_point(reg):
    model = models.linear_regression()
    X, y = reg.X_train[:, :1], reg.y_train
    a, b, Z = models.loss_plane(model, X, y, np.zeros(2), [1.0, 0.0], [0.0, 1.0], (-1, 3),
                                (-2, 2), 9)
    ws, bs, G = models.loss_grid(model, X, y, (-1, 3), (-2, 2), 9)
    np.testing.assert_allclose(Z, G, rtol=1e-14)
    c, d1, d2 = np.array([0.3, 0.1]), np.array([1.0, 2.0]), np.array([-0.5, 0.25])
    a, b, Z = models.loss_plane(model, X, y, c, d1, d2, (-1, 1), (0, 2), 5)
    want = model.loss((c + a[3] * d1 + b[1] * d2)[None], X, y)[0]
    np.testing.assert_allclose(Z[1, 3], want, rtol=1e-14)


# ---------------------------------------------------------------------------- gradient check


def test_gradient_check_passes_every_model_and_catches_a_wrong_one(reg, moons, iris):
    rng = np.random.default_rng(3)
    cases = [(models.linear_regression(l2=0.2), reg),
             (models.logistic_regression(l2=0.1), moons),
             (models.softmax_regression(3, l2=0.05), iris)]
    for model, ds in cases:
        P = model.n_params(ds.X_train.shape[1], ds.n_classes if ds.task == "multiclass" else 0)
        theta = rng.normal(size=P)
        chk = models.gradient_check(model, ds.X_train, ds.y_train, theta)
        assert chk.analytic.shape == chk.numerical.shape == (P,)
        assert chk.rel_error < 1e-8, model.name
        batch = models.gradient_check(model, ds.X_train, ds.y_train, rng.normal(size=(2, P)))
        assert batch.rel_error.shape == (2,) and (batch.rel_error < 1e-8).all()
    model, ds = cases[1]
    wrong = model._replace(grad=lambda p, X, y: 1.01 * model.grad(p, X, y))
    chk = models.gradient_check(wrong, ds.X_train, ds.y_train, np.array([0.3, -0.2, 0.1]))
    assert chk.rel_error == pytest.approx(0.01 / 2.01, rel=1e-4)
