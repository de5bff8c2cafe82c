"""problems.tanh_net: a real network's loss on a plane of its parameter space.

Its loss and plane gradient equal torch (live: nn.Sequential with the weights
theta(a, b), backpropagated, projected on d1 and d2; stored: the problems.npz case, by
autograd through a and b); the plane passes through the fitted minimum and its
unit-swapped twin, two minima of equal loss, with a saddle on the ridge between them and
a midpoint that breaks the convexity inequality."""

import importlib

import numpy as np
import pytest
from helpers import strict_local_minima

from descentlab.engine import kinds, models
from descentlab.engine import problems as P

MK = importlib.import_module("reference.make_model_vectors")


@pytest.fixture(scope="module")
def p():
    return P.get("tanh_net")


@pytest.fixture(scope="module")
def plane():
    return P.net_plane()


def plane_hessian(problem, point, h=1e-5):
    """The 2 x 2 Hessian of the surface at ``point`` by central differences of its
    analytic gradient (symmetrized)."""
    x = np.asarray(point, dtype=np.float64)
    E = h * np.eye(2)
    G = problem.grad(np.concatenate([x + E, x - E]))
    H = (G[:2] - G[2:]) / (2 * h)
    return 0.5 * (H + H.T)


# ---------------------------------------------------------------------------- torch


def test_loss_and_plane_gradient_equal_live_torch_backprop(p, plane):
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # tiny tensors: threads only cost time on a shared machine
    try:
        (x0, x1), (y0, y1) = p.domain
        rng = np.random.default_rng(23)
        pts = np.column_stack([rng.uniform(x0, x1, 12), rng.uniform(y0, y1, 12)])
        pts = np.concatenate([pts, p.minima, [[0.0, 0.0], [0.0, -0.4355]]])
        loss, grad = MK.torch_plane_points(torch, plane, pts)
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_allclose(p.loss(pts), loss, rtol=1e-12, atol=0)
    np.testing.assert_allclose(p.grad(pts), grad, rtol=1e-12, atol=1e-13)
    value, g = p.loss_and_grad(pts)
    np.testing.assert_array_equal(value, p.loss(pts))
    np.testing.assert_array_equal(g, p.grad(pts))


def test_the_gradient_is_the_networks_gradient_on_the_plane(p, plane):
    """dL/da = d1 . grad L(theta), dL/db = d2 . grad L(theta), theta = c + a d1 + b d2;
    and the plane really is a plane of the network: the loss is the mlp's MSE there."""
    pts = np.array([[0.3, -0.2], [-1.7, 1.1], [2.2, 0.4]])
    theta = plane.center + pts[:, :1] * plane.d1 + pts[:, 1:] * plane.d2
    full = plane.model.grad(theta, plane.X, plane.y)
    np.testing.assert_allclose(p.grad(pts), np.stack([full @ plane.d1, full @ plane.d2], 1),
                               rtol=1e-15, atol=1e-15)
    z = np.tanh(plane.X @ theta[:, None, :2] + theta[:, None, 2:4])     # (R, N, 2)
    z = (z * theta[:, None, 4:6]).sum(-1) + theta[:, 6:]
    np.testing.assert_allclose(p.loss(pts), np.mean((z - plane.y) ** 2, axis=1),
                               rtol=1e-13)


# ---------------------------------------------------------------------------- the network


def test_the_data_model_and_fit(plane):
    assert plane.X.shape == (24, 1) and plane.y.shape == (24,)
    assert np.all(np.diff(plane.X[:, 0]) > 0) and np.all(np.abs(plane.X) <= 3)
    assert plane.model.hidden == 2 and plane.theta.shape == (7,)
    g = plane.model.grad(plane.theta[None], plane.X, plane.y)[0]
    assert np.linalg.norm(g) <= 1e-12
    # a strict local minimum of the network in all 7 dimensions, not a saddle
    E = 1e-5 * np.eye(7)
    G = plane.model.grad(np.concatenate([plane.theta + E, plane.theta - E]), plane.X, plane.y)
    H = (G[:7] - G[7:]) / 2e-5
    assert np.linalg.eigvalsh(0.5 * (H + H.T)).min() > 1e-4
    # better than the curve the data came from (it fits the noise too)
    curve = np.array(P.NET_CURVE)
    assert plane.model.loss(plane.theta[None], plane.X, plane.y)[0] < \
        plane.model.loss(curve[None], plane.X, plane.y)[0]
    for a in plane:
        if isinstance(a, np.ndarray):
            assert not a.flags.writeable
    assert P.net_plane() is plane                                    # computed once


def test_the_plane_goes_through_theta_star_and_its_swapped_twin(p, plane):
    c, d1, d2 = plane.center, plane.d1, plane.d2
    np.testing.assert_allclose(c + d1, plane.theta, rtol=1e-15, atol=1e-15)
    twin = c - d1
    W1, b1, w2, b2 = plane.theta[:2], plane.theta[2:4], plane.theta[4:6], plane.theta[6]
    np.testing.assert_allclose(twin, [*W1[::-1], *b1[::-1], *w2[::-1], b2], rtol=1e-15)
    np.testing.assert_allclose(plane.model.predict(twin[None], plane.X),
                               plane.model.predict(plane.theta[None], plane.X), rtol=1e-14)
    assert d1 @ d2 == 0 and d2.tolist() == [0.0] * 6 + [1.0]
    mid = c                                   # a = 0: both hidden units are the same
    assert mid[0] == mid[1] and mid[2] == mid[3] and mid[4] == mid[5]


# ---------------------------------------------------------------------------- non-convexity


def test_two_minima_of_equal_loss_found_by_descent_from_two_starts(p):
    starts = np.array([[-2.0, 1.0], [2.0, 1.0]])
    theta = starts.copy()
    for _ in range(3000):                     # plain GD, eta below 2/L at the minima
        theta = theta - 0.1 * p.grad(theta)
    np.testing.assert_allclose(theta, [[-1.0, 0.0], [1.0, 0.0]], atol=1e-9)
    np.testing.assert_allclose(p.minima, [[-1.0, 0.0], [1.0, 0.0]])
    loss = p.loss(theta)
    assert loss[0] == pytest.approx(loss[1], rel=1e-14) == pytest.approx(p.f_min, rel=1e-14)
    assert np.linalg.norm(theta[0] - theta[1]) == pytest.approx(2.0)
    for m in p.minima:                        # strict minima of the surface
        assert np.linalg.eigvalsh(plane_hessian(p, m)).min() > 0.5
    # mirror symmetry: L(a, b) = L(-a, b)
    pts = np.random.default_rng(4).uniform(-2, 2, (20, 2))
    np.testing.assert_allclose(p.loss(pts), p.loss(pts * [-1, 1]), rtol=1e-13)
    # the grid sees exactly these two local minima
    xs, ys, Z = P.grid(p, 201)
    i, j = strict_local_minima(Z)
    np.testing.assert_allclose(sorted(xs[j]), [-1.0, 1.0], atol=0.03)
    np.testing.assert_allclose(ys[i], [0.0, 0.0], atol=0.03)


def test_the_midpoint_breaks_convexity_and_the_ridge_holds_a_saddle(p):
    mid = p.loss(np.array([[0.0, 0.0]]))[0]
    # convex L would give L(midpoint) <= (L(theta*) + L(twin)) / 2 = f_min
    assert mid > 0.5 * p.loss(p.minima).sum() + 0.5 and mid > 40 * p.f_min
    lam = np.linalg.eigvalsh(plane_hessian(p, [0.0, 0.0]))
    assert lam[0] < -1.0 and lam[1] > 1.0          # indefinite: no convex function has it
    # the saddle: the lowest point of the ridge a = 0 (Newton along b; L is quadratic in b)
    b = 0.0
    for _ in range(5):
        b -= p.grad(np.array([[0.0, b]]))[0, 1] / 2.0
    s = np.array([0.0, b])
    g = p.grad(s[None])[0]
    assert abs(g[0]) < 1e-16 and abs(g[1]) < 1e-12  # stationary (a = 0 by symmetry)
    lam = np.linalg.eigvalsh(plane_hessian(p, s))
    assert lam[0] < -1.0 and lam[1] == pytest.approx(2.0, rel=1e-6)   # d2L/db2 = 2 (MSE)
    assert b == pytest.approx(-0.4355, abs=1e-4)
    assert p.f_min < p.loss(s[None])[0] < mid
    # started on the ridge, GD slides down it and stops at the saddle as "converged"
    # (the lab's rule ||grad L|| <= 1e-8): the gradient test cannot tell it from a minimum
    theta, steps = np.array([[0.0, 1.2]]), 0
    while np.linalg.norm(p.grad(theta)) > 1e-8 and steps < 500:
        theta, steps = theta - 0.1 * p.grad(theta), steps + 1
    assert steps < 150
    np.testing.assert_allclose(theta[0], s, atol=1e-8)


def test_momentum_crosses_the_ridge_where_gd_and_adam_do_not(p):
    """The race scene "two minima (tanh net)": one start, the same loss, two answers."""
    ends = {}
    for kind, lr in (("GD", 0.1), ("Momentum", 0.02), ("Adam", 0.05)):
        opt = kinds.build(kind, lr, 1, momentum=0.9)
        theta = p.start[None].copy()
        state = opt.init(theta)
        for _ in range(1500):
            update, state = opt.update(p.grad(theta), state, theta)
            theta = theta + update
        ends[kind] = theta[0]
    np.testing.assert_allclose(ends["GD"], [-1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(ends["Adam"], [-1.0, 0.0], atol=1e-4)
    np.testing.assert_allclose(ends["Momentum"], [1.0, 0.0], atol=1e-6)


def test_registered_last_with_its_facts(p):
    assert P.names()[-1] == "tanh_net"
    assert p.log_scale and p.curvature is None and P.bounded_below(p) is True
    assert P.stable_lr(p) is None
    assert p.domain == ((-2.5, 2.5), (-1.5, 1.5))
    assert r"\tanh" in p.latex and "d_1" in p.latex
    with pytest.raises(ValueError, match=r"params must have shape \(R, 2\)"):
        p.loss(np.zeros((1, 7)))
    with pytest.raises(ValueError, match="has no parameters"):
        P.get("tanh_net", hidden=3)
    assert isinstance(models.mlp(2), models.Model)


def test_the_numbers_the_course_quotes(p):
    """lab/nonconvex.ipynb states these; they must stay true."""
    s = np.array([[0.0, -0.4355086]])
    assert p.f_min == pytest.approx(0.01212, rel=1e-3)
    assert p.loss(np.array([[0.0, 0.0]]))[0] == pytest.approx(0.5476, rel=1e-3)
    assert p.loss(s)[0] == pytest.approx(0.3580, rel=1e-3)
    np.testing.assert_allclose(np.linalg.eigvalsh(plane_hessian(p, [1.0, 0.0])),
                               [0.8456, 5.115], rtol=1e-3)
    np.testing.assert_allclose(np.linalg.eigvalsh(plane_hessian(p, s[0])), [-1.680, 2.0],
                               rtol=1e-3)
    np.testing.assert_allclose(np.linalg.eigvalsh(plane_hessian(p, [0.0, 0.0])),
                               [-2.402, 2.0], rtol=1e-3)
    assert p.loss(p.start[None])[0] == pytest.approx(12.18, rel=1e-3)
    assert np.linalg.eigvalsh(plane_hessian(p, p.start))[0] == pytest.approx(-5.80, rel=1e-3)
    ends = []
    for lr in (0.34, 0.35):      # 2/L at the minimum is 0.391, yet GD from θ0 diverges at 0.35
        theta = p.start[None].copy()
        with np.errstate(all="ignore"):
            for _ in range(3000):
                theta = theta - lr * p.grad(theta)
        ends.append(p.loss(theta)[0])
    assert ends[0] == pytest.approx(p.f_min, rel=1e-9) and not ends[1] < 1e3
