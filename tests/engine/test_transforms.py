"""descentlab.engine.transforms: each transform's equations, state and validation.

The expected values are the update equations of torch.optim written out by hand for the
first step(s), where they reduce to closed forms; full trajectories against torch live
in test_optimizers.py.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from descentlab.engine import chain
from descentlab.engine import transforms as T

G = np.array([[0.5, -2.0, 3.0], [-1.0, 0.25, 4.0]])
X = np.array([[1.0, 2.0, -3.0], [0.5, -0.5, 2.0]])

finite = st.floats(-10, 10, allow_nan=False)
grads = arrays(np.float64, (3, 2), elements=finite)


def steps(transform, gs, params=X):
    state = transform.init(params)
    outs = []
    for g in gs:
        u, state = transform.update(g, state, params)
        outs.append(u)
    return outs, state


def test_negate_scale_and_decayed_weights():
    (u,), _ = steps(T.negate(), [G])
    np.testing.assert_array_equal(u, -G)
    (u,), _ = steps(T.scale(np.array([2.0, -1.0])), [G])
    np.testing.assert_array_equal(u, G * np.array([[2.0], [-1.0]]))
    (u,), _ = steps(T.add_decayed_weights(np.array([0.1, 0.0])), [G])
    np.testing.assert_array_equal(u, G + np.array([[0.1], [0.0]]) * X)


def test_trace_first_step_is_the_gradient_then_damped():
    g2 = G[::-1].copy()
    (u1, u2), s = steps(T.trace(0.9, dampening=0.5), [G, g2])
    np.testing.assert_array_equal(u1, G)                    # no dampening on step 1
    np.testing.assert_allclose(u2, 0.9 * G + 0.5 * g2, rtol=1e-15)
    np.testing.assert_array_equal(s.velocity, u2)
    assert s.count == 2


def test_trace_nesterov_and_zero_momentum_runs():
    g2 = G[::-1].copy()
    (u1, u2), _ = steps(T.trace(0.9, nesterov=True), [G, g2])
    np.testing.assert_allclose(u1, G + 0.9 * G, rtol=1e-15)
    np.testing.assert_allclose(u2, g2 + 0.9 * (0.9 * G + g2), rtol=1e-15)
    # a run with momentum 0 passes the gradient through, dampening ignored (as torch)
    (u1, u2), _ = steps(T.trace(np.array([0.0, 0.5]), dampening=0.3), [G, g2])
    np.testing.assert_array_equal(u2[0], g2[0])
    np.testing.assert_allclose(u2[1], 0.5 * G[1] + 0.7 * g2[1], rtol=1e-15)


def test_scale_by_adagrad():
    (u1, u2), s = steps(T.scale_by_adagrad(0.5, eps=1e-3), [G, G])
    np.testing.assert_allclose(u1, G / (np.sqrt(0.5 + G**2) + 1e-3), rtol=1e-15)
    np.testing.assert_allclose(u2, G / (np.sqrt(0.5 + 2 * G**2) + 1e-3), rtol=1e-15)
    np.testing.assert_allclose(s.sum_sq, 0.5 + 2 * G**2, rtol=1e-15)


def test_scale_by_rms_plain_and_centered():
    (u,), s = steps(T.scale_by_rms(alpha=0.9, eps=1e-4), [G])
    np.testing.assert_allclose(u, G / (np.sqrt(0.1 * G**2) + 1e-4), rtol=1e-14)
    np.testing.assert_allclose(s.square_avg, 0.1 * G**2, rtol=1e-15)
    assert s.grad_avg is None
    (u,), s = steps(T.scale_by_rms(alpha=0.9, eps=1e-4, centered=True), [G])
    np.testing.assert_allclose(u, G / (np.sqrt(0.1 * G**2 - 0.01 * G**2) + 1e-4), rtol=1e-14)
    np.testing.assert_allclose(s.grad_avg, 0.1 * G, rtol=1e-15)


@given(g=grads)
def test_scale_by_adam_first_step_is_normalized_gradient(g):
    # bias correction makes m_1 = g and v_1 = g^2 for any betas
    (u,), s = steps(T.scale_by_adam(0.8, 0.95, eps=1e-8), [g], params=np.zeros((3, 2)))
    np.testing.assert_allclose(u, g / (np.abs(g) + 1e-8), rtol=1e-12, atol=1e-12)
    assert s.count == 1 and s.nu_max is None


def test_scale_by_adam_second_step_and_amsgrad():
    g2 = 0.1 * G
    (_, u2), s = steps(T.scale_by_adam(0.9, 0.99, eps=1e-8, amsgrad=True), [G, g2])
    m = 0.9 * 0.1 * G + 0.1 * g2
    v = 0.99 * 0.01 * G**2 + 0.01 * g2**2
    vmax = np.maximum(0.01 * G**2, v)               # AMSGrad keeps the larger raw moment
    expected = (m / (1 - 0.9**2)) / (np.sqrt(vmax) / np.sqrt(1 - 0.99**2) + 1e-8)
    np.testing.assert_allclose(u2, expected, rtol=1e-13)
    np.testing.assert_allclose(s.nu_max, vmax, rtol=1e-14)


def test_scale_by_nadam_first_step():
    b1, b2, psi, eps = 0.9, 0.999, 4e-3, 1e-8
    (u,), s = steps(T.scale_by_nadam(b1, b2, eps, psi), [G])
    mu1 = b1 * (1 - 0.5 * 0.96 ** psi)
    mu2 = b1 * (1 - 0.5 * 0.96 ** (2 * psi))
    denom = np.abs(G) + eps                          # sqrt(v_1 / (1 - b2)) = |g|
    expected = (1 - mu1) / (1 - mu1) * G / denom + mu2 / (1 - mu1 * mu2) * (1 - b1) * G / denom
    np.testing.assert_allclose(u, expected, rtol=1e-13)
    assert s.mu_product == pytest.approx(mu1, rel=1e-15)


def test_scale_by_adamax_and_adadelta_first_step():
    (u,), s = steps(T.scale_by_adamax(0.9, 0.999, eps=1e-8), [G])
    np.testing.assert_allclose(u, G / (np.abs(G) + 1e-8), rtol=1e-14)
    np.testing.assert_allclose(s.exp_inf, np.abs(G) + 1e-8, rtol=1e-15)
    (u,), s = steps(T.scale_by_adadelta(rho=0.9, eps=1e-6), [G])
    expected = np.sqrt(1e-6) / np.sqrt(0.1 * G**2 + 1e-6) * G
    np.testing.assert_allclose(u, expected, rtol=1e-14)
    np.testing.assert_allclose(s.acc_delta, 0.1 * expected**2, rtol=1e-14)


def test_learning_rate_state_contract():
    t = T.scale_by_learning_rate(lambda count: np.array([0.1, 0.2]) / (1 + count))
    s = t.init(X)
    assert s.count == 0
    np.testing.assert_array_equal(s.lr, [0.1, 0.2])     # the lr the first update will use
    np.testing.assert_array_equal(s.lr_scale, [1.0, 1.0])
    u, s = t.update(G, s, X)
    np.testing.assert_array_equal(u, -np.array([[0.1], [0.2]]) * G)
    s = s._replace(lr_scale=np.array([1.0, 0.5]))       # how set_lr_scale lowers a run's lr
    u, s = t.update(G, s, X)
    np.testing.assert_array_equal(s.lr, [0.05, 0.05])
    np.testing.assert_array_equal(u, -np.array([[0.05], [0.05]]) * G)
    assert s.count == 2


def test_chain_of_transforms_is_sgd_with_weight_decay():
    opt = chain(T.add_decayed_weights(0.1), T.trace(0.9), T.scale_by_learning_rate(0.01))
    (u,), _ = steps(opt, [G])
    np.testing.assert_allclose(u, -0.01 * (G + 0.1 * X), rtol=1e-15)


def test_runs_and_per_run_lengths():
    assert T.scale_by_adam(np.array([0.9, 0.8])).runs == 2
    assert T.scale_by_adam().runs is None
    assert T.scale_by_learning_rate(np.ones(4)).runs == 4
    assert T.scale_by_learning_rate(lambda c: np.ones(5)).runs == 5
    with pytest.raises(ValueError, match="betas\\[1\\] has 3 values but there are 2 runs"):
        T.scale_by_adam(0.9, np.array([0.9, 0.99, 0.999])).init(X)
    with pytest.raises(ValueError, match="runs"):
        T.scale_by_adam(np.array([0.9, 0.8]), np.array([0.9, 0.99, 0.999]))


@pytest.mark.parametrize("make, match", [
    (lambda: T.trace(-0.1), "momentum"),
    (lambda: T.trace(0.5, dampening=2.0), "dampening"),
    (lambda: T.trace(0.0, nesterov=True), "nesterov"),
    (lambda: T.scale_by_adagrad(-1.0), "initial_accumulator_value"),
    (lambda: T.scale_by_adagrad(eps=0.0), "eps"),
    (lambda: T.scale_by_rms(alpha=1.1), "alpha"),
    (lambda: T.scale_by_adam(b1=np.array([0.5, 1.0])), r"betas\[0\]"),
    (lambda: T.scale_by_nadam(momentum_decay=-1.0), "momentum_decay"),
    (lambda: T.scale_by_adamax(b2=1.0), r"betas\[1\]"),
    (lambda: T.scale_by_adadelta(rho=2.0), "rho"),
    (lambda: T.add_decayed_weights(float("nan")), "weight_decay"),
    (lambda: T.scale_by_learning_rate(-1.0), "lr"),
])
def test_validation(make, match):
    with pytest.raises(ValueError, match=match):
        make()
