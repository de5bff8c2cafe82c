"""engine.problems: analytic gradients vs finite differences and torch autograd, minima,
curvature of quadratics, get/names validation, custom problems, the chart grid."""

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
from helpers import strict_local_minima
from hypothesis import given, settings
from hypothesis import strategies as st

from descentlab.engine import problems as P

REF_DIR = Path(__file__).parents[1] / "reference"
REF = np.load(REF_DIR / "problems.npz")
NAMES = P.names()
REQUIRED = {"bowl", "quadratic", "rosenbrock", "beale", "himmelblau", "rastrigin", "saddle",
            "six_hump_camel", "plateau", "goldstein_price", "ackley"}


def finite_difference(loss, theta, h=1e-6):
    """Plain central differences, one coordinate at a time (independent of the engine)."""
    fd = np.zeros_like(theta)
    for d in range(theta.shape[1]):
        e = np.zeros(theta.shape[1])
        e[d] = h
        fd[:, d] = (loss(theta + e) - loss(theta - e)) / (2 * h)
    return fd


def fd_hessian(loss, theta, h=1e-4):
    """Hessian of a scalar function of one point ``theta (D,)`` by second differences."""
    D = theta.size
    H = np.zeros((D, D))
    E = np.eye(D) * h
    f = lambda p: loss(p[None])[0]  # noqa: E731
    for i in range(D):
        for j in range(D):
            H[i, j] = (f(theta + E[i] + E[j]) - f(theta + E[i] - E[j])
                       - f(theta - E[i] + E[j]) + f(theta - E[i] - E[j])) / (4 * h * h)
    return H


def points_in(domain, u):
    """Map ``u`` in [0, 1]^(R, 2) into the rectangle ``domain``."""
    (x0, x1), (y0, y1) = domain
    return np.column_stack([x0 + (x1 - x0) * u[:, 0], y0 + (y1 - y0) * u[:, 1]])


unit_points = st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=6)


# ---------------------------------------------------------------- the catalogue


def test_names_cover_the_syllabus():
    assert REQUIRED <= set(NAMES)
    assert len(NAMES) == len(set(NAMES)) >= 15
    for name in NAMES:
        assert P.get(name).name == name


@pytest.mark.parametrize("name", NAMES)
def test_problem_fields(name):
    p = P.get(name)
    assert isinstance(p, P.Problem)
    (x0, x1), (y0, y1) = p.domain
    assert x0 < x1 and y0 < y1
    assert p.start.shape == (2,) and p.dim == 2
    assert x0 < p.start[0] < x1 and y0 < p.start[1] < y1
    assert p.minima.ndim == 2 and p.minima.shape[1] == 2
    for m in p.minima:
        assert x0 <= m[0] <= x1 and y0 <= m[1] <= y1
    assert isinstance(p.params, dict) and isinstance(p.latex, str) and p.latex
    assert isinstance(p.log_scale, bool)
    assert p.curvature is None or p.curvature > 0
    assert (p.f_min is None) == (len(p.minima) == 0)
    # immutable arrays: the lab cannot move a surface's start or minima by accident
    with pytest.raises(ValueError):
        p.start[0] = 0.0
    # the start is not already a stationary point, so every optimizer has work to do
    assert np.linalg.norm(p.grad(p.start[None])) > 1e-4


@pytest.mark.parametrize("name", NAMES)
def test_runs_are_independent_and_inputs_untouched(name):
    p = P.get(name)
    X = points_in(p.domain, np.random.default_rng(1).uniform(size=(7, 2)))
    before = X.copy()
    loss, grad = p.loss(X), p.grad(X)
    np.testing.assert_array_equal(X, before)
    assert loss.shape == (7,) and grad.shape == (7, 2)
    for r in range(7):
        np.testing.assert_allclose(p.loss(X[r:r + 1]), loss[r:r + 1], rtol=1e-14, atol=0)
        np.testing.assert_allclose(p.grad(X[r:r + 1]), grad[r:r + 1], rtol=1e-14, atol=1e-300)
    # a big batch (the grid path) gives the same numbers as a small one
    big = np.concatenate([X] * 20)
    np.testing.assert_allclose(p.loss(big)[:7], loss, rtol=1e-14, atol=0)
    np.testing.assert_allclose(p.grad(big)[:7], grad, rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("name", NAMES)
def test_wrong_shape_is_rejected(name):
    p = P.get(name)
    for bad in (np.zeros(2), np.zeros((3, 3)), np.zeros((1, 2, 2))):
        with pytest.raises(ValueError, match="params"):
            p.loss(bad)
        with pytest.raises(ValueError, match="params"):
            p.grad(bad)


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=30)
@given(u=unit_points)
def test_grad_matches_finite_differences(name, u):
    p = P.get(name)
    X = points_in(p.domain, np.array(u))
    if name == "ackley":  # not differentiable at the origin
        X = X[np.linalg.norm(X, axis=1) > 1e-3]
        if not len(X):
            return
    g = p.grad(X)
    fd = finite_difference(p.loss, X)
    # central differences: O(h^2) truncation plus eps * |L| / h rounding
    scale = 1.0 + np.abs(p.loss(X))[:, None]
    assert np.all(np.abs(g - fd) <= 1e-5 * np.abs(g) + 1e-8 * scale + 1e-6), (g, fd)


@given(condition=st.floats(1, 1e3), angle=st.floats(-360, 360), u=unit_points)
def test_quadratic_grad_any_parameters(condition, angle, u):
    p = P.get("quadratic", condition=condition, angle=angle)
    X = points_in(p.domain, np.array(u))
    g = p.grad(X)
    assert np.all(np.abs(g - finite_difference(p.loss, X))
                  <= 1e-6 * (1 + np.abs(g) + np.abs(p.loss(X))[:, None]))


@given(a=st.floats(-3, 3), b=st.floats(0.1, 200), u=unit_points)
def test_rosenbrock_grad_any_parameters(a, b, u):
    p = P.get("rosenbrock", a=a, b=b)
    X = points_in(p.domain, np.array(u))
    g = p.grad(X)
    assert np.all(np.abs(g - finite_difference(p.loss, X))
                  <= 1e-6 * (1 + np.abs(g) + np.abs(p.loss(X))[:, None]))
    np.testing.assert_allclose(p.minima, [[a, a * a]])


STORED_CASES = {k[: -len("_case")]: tuple(json.loads(str(REF[k])))
                for k in REF.files if k.endswith("_case")}


@pytest.mark.parametrize("key", sorted(STORED_CASES))
def test_stored_torch_vectors(key):
    name, params = STORED_CASES[key]
    p = P.get(name, **params)
    X = REF[f"{key}_points"]
    np.testing.assert_allclose(p.loss(X), REF[f"{key}_loss"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(p.grad(X), REF[f"{key}_grad"], rtol=1e-11, atol=1e-11)


def test_stored_vectors_cover_every_surface():
    assert {name for name, _ in STORED_CASES.values()} == set(NAMES)
    assert (REF_DIR / "problems.npz").stat().st_size < 1_000_000


@pytest.mark.parametrize("key", sorted(STORED_CASES))
def test_live_torch_autograd(key):
    pytest.importorskip("torch")
    ref = importlib.import_module("reference.make_problem_vectors")
    name, params = ref.CASES[key]
    p = P.get(name, **params)
    X = points_in(p.domain, np.random.default_rng(7).uniform(size=(9, 2)))
    loss, grad = ref.torch_loss_and_grad(name, params, X)
    np.testing.assert_allclose(p.loss(X), loss, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(p.grad(X), grad, rtol=1e-11, atol=1e-11)


# ---------------------------------------------------------------- minima

DOCUMENTED_MIN = {  # literature values (Jamil & Yang 2013; Surjanovic & Bingham)
    "six_hump_camel": -1.0316,
    "goldstein_price": 3.0,
    "styblinski_tang": 2 * -39.16617,
    "himmelblau": 0.0,
    "rosenbrock": 0.0,
    "beale": 0.0,
    "ackley": 0.0,
    "rastrigin": 0.0,
}


@pytest.mark.parametrize("name", [n for n in NAMES if len(P.get(n).minima)])
def test_minima_are_stationary_and_lowest(name):
    p = P.get(name)
    losses = p.loss(p.minima)
    np.testing.assert_allclose(losses, p.f_min, rtol=1e-12, atol=1e-12)
    if name in DOCUMENTED_MIN:
        assert p.f_min == pytest.approx(DOCUMENTED_MIN[name], rel=1e-4, abs=1e-12)
    if name != "ackley":  # ackley's minimum is a kink; its subgradient 0 is returned
        assert np.all(np.abs(p.grad(p.minima)) < 1e-9)
    else:
        np.testing.assert_array_equal(p.grad(p.minima), 0.0)
    # lowest on a fine grid around each minimum ...
    for m in p.minima:
        xs, ys, Z = P.grid(p, 101, ((m[0] - 0.05, m[0] + 0.05), (m[1] - 0.05, m[1] + 0.05)))
        assert Z.min() >= p.f_min - 1e-12
    # ... and on the whole plotting domain: they are the global minima there
    _, _, Z = P.grid(p, 401)
    assert Z.min() >= p.f_min - 1e-12


def test_surfaces_without_minima_are_unbounded_below():
    for name in ("saddle", "monkey_saddle"):
        p = P.get(name)
        assert p.minima.shape == (0, 2) and p.f_min is None
        np.testing.assert_array_equal(p.grad(np.zeros((1, 2))), 0.0)  # a stationary point
        assert p.loss(np.array([[0.0, 1e3], [-1e3, 0.0]])).min() < -1e5


def test_himmelblau_has_four_distinct_minima():
    p = P.get("himmelblau")
    assert p.minima.shape == (4, 2)
    d = np.linalg.norm(p.minima[:, None] - p.minima[None], axis=2)
    assert d[~np.eye(4, dtype=bool)].min() > 1.0


def test_rastrigin_has_many_local_minima():
    p = P.get("rastrigin")
    _, _, Z = P.grid(p, 201)
    i, _ = strict_local_minima(Z)
    assert len(i) >= 50


def descend(problem, optimizer, steps=500):
    """Final params of ``optimizer`` run from the problem's default start."""
    theta = problem.start[None].copy()
    state = optimizer.init(theta)
    for _ in range(steps):
        updates, state = optimizer.update(problem.grad(theta), state, theta)
        theta = theta + updates
    return theta[0]


def test_default_starts_separate_the_optimizers():
    """The documented races: different optimizers end in different minima."""
    O = pytest.importorskip("descentlab.engine.optimizers")
    p = P.get("himmelblau")
    np.testing.assert_allclose(descend(p, O.sgd(0.01)), p.minima[3], atol=1e-6)
    np.testing.assert_allclose(descend(p, O.adam(0.1)), p.minima[0], atol=1e-6)
    g = P.get("goldstein_price")
    heavy_ball = descend(g, O.sgd(1e-6, momentum=0.9))
    assert g.loss(heavy_ball[None])[0] == pytest.approx(3.0, abs=0.1)
    adam = descend(g, O.adam(0.05))
    assert g.loss(adam[None])[0] == pytest.approx(30.0, abs=0.1)


def test_plateau_is_flat_away_from_the_well():
    p = P.get("plateau", width=0.5)
    assert np.linalg.norm(p.grad(p.start[None])) < 1e-2
    assert p.domain == ((-2.0, 2.0), (-2.0, 2.0))


# ---------------------------------------------------------------- curvature


@given(condition=st.floats(1, 100), angle=st.floats(-180, 180))
def test_quadratic_curvature_and_eigenvectors(condition, angle):
    p = P.get("quadratic", condition=condition, angle=angle)
    H = fd_hessian(p.loss, np.array([0.3, -0.7]))
    lam, vec = np.linalg.eigh(H)
    assert p.curvature == pytest.approx(lam[-1], rel=1e-5)
    assert p.curvature == pytest.approx(condition, rel=1e-12)
    assert p.condition == pytest.approx(condition, rel=1e-9)
    assert p.condition == pytest.approx(lam[-1] / lam[0], rel=1e-4)
    assert p.stable_lr == pytest.approx(2.0 / condition)
    assert p.params == {"condition": condition, "angle": angle}
    if condition > 1.01:  # distinct eigenvalues: the flat axis is (cos phi, sin phi)
        phi = math.radians(angle)
        flat = np.array([math.cos(phi), math.sin(phi)])
        assert abs(vec[:, 0] @ flat) == pytest.approx(1.0, abs=1e-6)
        steep = np.array([-math.sin(phi), math.cos(phi)])
        assert abs(vec[:, 1] @ steep) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("name", [n for n in NAMES if P.get(n).curvature is not None])
def test_constant_curvature_is_the_hessians_largest_eigenvalue(name):
    p = P.get(name)
    rng = np.random.default_rng(3)
    for theta in points_in(p.domain, rng.uniform(size=(3, 2))):
        lam = np.linalg.eigvalsh(fd_hessian(p.loss, theta, h=1e-3))
        assert p.curvature == pytest.approx(lam[-1], rel=1e-5)
        if p.condition is not None:
            assert p.condition == pytest.approx(lam[-1] / lam[0], rel=1e-4)


@pytest.mark.parametrize("condition", [1.0, 10.0, 100.0])
def test_gradient_descent_stable_below_two_over_L(condition):
    p = P.get("quadratic", condition=condition, angle=25.0)
    theta = np.tile(p.start, (2, 1))
    lr = np.array([[0.95], [1.05]]) * p.stable_lr
    for _ in range(2000):
        theta = theta - lr * p.grad(theta)
    losses = p.loss(theta)
    assert losses[0] < 1e-6 * p.loss(p.start[None])[0]  # converges (slowly when flat)
    assert losses[1] > p.loss(p.start[None])[0]          # diverges


def test_rotation_changes_nothing_but_the_direction():
    a, b = P.get("quadratic", condition=20, angle=0), P.get("quadratic", condition=20, angle=90)
    X = np.random.default_rng(0).normal(size=(5, 2))
    rot = X @ np.array([[0.0, 1.0], [-1.0, 0.0]])  # rows rotated by +90 degrees
    np.testing.assert_allclose(b.loss(rot), a.loss(X), rtol=1e-12)
    np.testing.assert_allclose(a.loss(np.array([[1.0, 0.0], [0.0, 1.0]])), [0.5, 10.0])


# ---------------------------------------------------------------- get / names


def test_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match="valid names are: .*rosenbrock"):
        P.get("rosenbrok")
    with pytest.raises(ValueError, match="unknown problem"):
        P.get(None)


@pytest.mark.parametrize("name, params, match", [
    ("quadratic", {"condition": 0.5}, r"condition must be in \[1, 1e\+12\]"),
    ("quadratic", {"condition": float("nan")}, "condition must be finite"),
    ("quadratic", {"condition": float("inf")}, "condition must be finite"),
    ("quadratic", {"condition": [2.0, 3.0]}, "condition must be a single number"),
    ("quadratic", {"condition": "ten"}, "condition must be a number"),
    ("quadratic", {"angle": float("nan")}, "angle must be finite"),
    ("rosenbrock", {"b": 0.0}, r"b must be in \(0, "),
    ("rosenbrock", {"a": float("-inf")}, "a must be finite"),
    ("rastrigin", {"A": -1.0}, r"A must be in \[0, "),
    ("plateau", {"width": 0.0}, r"width must be in \(0, "),
    ("quadratic", {"kappa": 3.0}, "has parameters condition, angle; got unknown kappa"),
    ("bowl", {"scale": 2.0}, "has no parameters; got unknown scale"),
])
def test_bad_parameters_raise(name, params, match):
    with pytest.raises(ValueError, match=match):
        P.get(name, **params)


def test_parameters_reach_the_surface():
    p = P.get("rastrigin", A=0.0)   # A = 0: the plain bowl x^2 + y^2
    X = np.array([[0.3, -1.2]])
    np.testing.assert_allclose(p.loss(X), [0.09 + 1.44])
    q = P.get("plateau", width=2.0)
    np.testing.assert_allclose(q.loss(np.array([[2.0, 0.0]])), [1 - math.exp(-0.5)])


# ---------------------------------------------------------------- custom


def test_custom_with_analytic_grad():
    calls = []

    def loss(t):
        return np.sin(t[:, 0]) * np.cos(t[:, 1]) + 0.1 * (t ** 2).sum(1)

    def grad(t):
        calls.append(t.shape)
        return np.stack([np.cos(t[:, 0]) * np.cos(t[:, 1]) + 0.2 * t[:, 0],
                         -np.sin(t[:, 0]) * np.sin(t[:, 1]) + 0.2 * t[:, 1]], axis=1)

    p = P.custom(loss, grad, name="wave", domain=((-4, 4), (-2, 2)), minima=[[-1.3, 0.0]])
    assert p.name == "wave" and p.domain == ((-4.0, 4.0), (-2.0, 2.0))
    assert p.start.shape == (2,) and p.minima.shape == (1, 2)
    X = np.random.default_rng(0).uniform(-2, 2, size=(5, 2))
    np.testing.assert_array_equal(p.grad(X), grad(X))
    np.testing.assert_array_equal(p.loss(X), loss(X))
    assert p.f_min == pytest.approx(loss(np.array([[-1.3, 0.0]]))[0])
    _, _, Z = P.grid(p, 50)
    assert Z.shape == (50, 50)


@given(R=st.integers(1, 5), D=st.integers(1, 4), seed=st.integers(0, 2**32 - 1),
       scale=st.sampled_from([1e-2, 1.0, 1e3, 1e6]))
def test_custom_without_grad_uses_batched_central_differences(R, D, seed, scale):
    calls = []
    w = np.arange(1.0, D + 1.0)

    def loss(t):
        calls.append(t.shape)
        return (w * t ** 2).sum(1) + np.sin(t / scale).sum(1)

    X = np.random.default_rng(seed).uniform(-2, 2, size=(R, D)) * scale
    p = P.custom(loss, start=X[0])
    calls.clear()
    g = p.grad(X)
    assert calls == [(2 * D * R, D)]  # one batched call
    exact = 2 * w * X + np.cos(X / scale) / scale
    # error: O(h^2) truncation + rounding eps * |L| / h, with h = eps^(1/3) max(1, |x|)
    # relative to |x|, so huge coordinates are as accurate as small ones
    rounding = 1e-10 * np.abs(loss(X))[:, None] / np.maximum(1.0, np.abs(X))
    assert np.all(np.abs(g - exact) <= 1e-6 * np.abs(exact) + 1e-6 + rounding)
    assert p.dim == D


def test_numerical_grad_matches_analytic_on_every_surface():
    for name in NAMES:
        p = P.get(name)
        X = points_in(p.domain, np.random.default_rng(5).uniform(size=(8, 2)))
        g = p.grad(X)
        assert np.all(np.abs(P.numerical_grad(p.loss, X) - g)
                      <= 1e-6 * (1 + np.abs(g) + np.abs(p.loss(X))[:, None])), name


def test_custom_rejects_bad_functions_and_arguments():
    with pytest.raises(ValueError, match=r"loss must return shape \(R,\)"):
        P.custom(lambda t: t.sum())                         # a scalar, not one per run
    with pytest.raises(ValueError, match=r"loss must return shape \(R,\)"):
        P.custom(lambda t: t.sum(1, keepdims=True))         # (R, 1)
    with pytest.raises(ValueError, match=r"grad must return shape \(R, D\)"):
        P.custom(lambda t: (t ** 2).sum(1), lambda t: t[:, 0])
    with pytest.raises(ValueError, match="loss must be a function"):
        P.custom(3.0)
    with pytest.raises(ValueError, match="domain must be"):
        P.custom(lambda t: (t ** 2).sum(1), domain=((1, -1), (0, 1)))
    with pytest.raises(ValueError, match="domain must be"):
        P.custom(lambda t: (t ** 2).sum(1), domain=(0, 1))
    with pytest.raises(ValueError, match="start must be"):
        P.custom(lambda t: (t ** 2).sum(1), start=[np.nan, 0.0])
    with pytest.raises(ValueError, match="curvature must be"):
        P.custom(lambda t: (t ** 2).sum(1), curvature=-1)
    p = P.custom(lambda t: (t ** 2).sum(1))
    with pytest.raises(ValueError, match="params must have shape"):
        p.loss(np.zeros(2))
    with pytest.raises(ValueError, match=r"eps must be in \(0, 1\]"):
        P.numerical_grad(p.loss, np.ones((1, 2)), eps=0.0)


# ---------------------------------------------------------------- grid


@pytest.mark.parametrize("name", NAMES)
def test_grid_is_finite_and_matches_pointwise_loss(name):
    p = P.get(name)
    xs, ys, Z = P.grid(p)
    assert xs.shape == (200,) and ys.shape == (200,) and Z.shape == (200, 200)
    assert np.all(np.isfinite(Z))
    (x0, x1), (y0, y1) = p.domain
    assert (xs[0], xs[-1], ys[0], ys[-1]) == (x0, x1, y0, y1)
    rng = np.random.default_rng(11)
    i, j = rng.integers(0, 200, 25), rng.integers(0, 200, 25)
    for a, b in zip(i, j, strict=True):
        assert Z[a, b] == pytest.approx(p.loss(np.array([[xs[b], ys[a]]]))[0], rel=1e-13,
                                        abs=1e-13)


def test_grid_options_and_validation():
    p = P.get("rosenbrock")
    xs, ys, Z = P.grid(p, n=7, domain=((0, 3), (-1, 1)))
    np.testing.assert_array_equal(xs, np.linspace(0, 3, 7))
    np.testing.assert_array_equal(ys, np.linspace(-1, 1, 7))
    np.testing.assert_array_equal(Z[2, 5], p.loss(np.array([[xs[5], ys[2]]]))[0])
    with pytest.raises(ValueError, match="n must be an integer"):
        P.grid(p, n=1)
    with pytest.raises(ValueError, match="n must be an integer"):
        P.grid(p, n=2.5)
    with pytest.raises(ValueError, match="domain must be"):
        P.grid(p, domain=((0, 0), (0, 1)))
    three_d = P.custom(lambda t: (t ** 2).sum(1), start=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="2-D problem"):
        P.grid(three_d)
