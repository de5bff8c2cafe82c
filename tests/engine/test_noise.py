"""Gradient noise on surfaces: g~_t = grad L(theta_t) + sigma xi_t, xi_t from
default_rng([seed, t]); deterministic, per run, and able to leave a saddle point."""

import numpy as np
import pytest

from descentlab.engine import optimizers, problems, runner
from descentlab.engine.runner import History, run


def test_noise_is_a_pure_function_of_seed_and_step():
    prob = problems.get("rosenbrock")
    sigma = np.array([0.0, 0.1, 1.0])
    recs = list(run(prob, optimizers.sgd(lr=1e-4), prob.start, 20, grad_noise=sigma, seed=42,
                    runs=3))
    again = list(run(prob, optimizers.sgd(lr=1e-4), prob.start, 20, grad_noise=sigma,
                     seed=42, runs=3))
    other = list(run(prob, optimizers.sgd(lr=1e-4), prob.start, 20, grad_noise=sigma, seed=7,
                     runs=3))
    for t, (a, b) in enumerate(zip(recs, again, strict=True)):
        np.testing.assert_array_equal(a.params, b.params)
        xi = np.random.default_rng([42, t]).standard_normal((3, 2))
        np.testing.assert_array_equal(a.grad, a.true_grad + xi * sigma[:, None])
        np.testing.assert_array_equal(a.true_grad, prob.grad(a.params))
    assert not np.array_equal(recs[-1].params[1:], other[-1].params[1:])
    # sigma = 0 is plain gradient descent, bit for bit
    plain = list(run(prob, optimizers.sgd(lr=1e-4), prob.start, 20, runs=3))
    np.testing.assert_array_equal(recs[-1].params[0], plain[-1].params[0])


def test_the_optimizer_steps_along_the_noisy_gradient():
    prob = problems.get("bowl")
    recs = list(run(prob, optimizers.sgd(lr=0.1), [1.0, 1.0], 5, grad_noise=0.5, seed=1))
    for prev, rec in zip(recs, recs[1:], strict=False):
        np.testing.assert_allclose(rec.update, -0.1 * prev.grad, rtol=1e-15)
        assert not np.allclose(prev.grad, prev.true_grad)
    h = History(recs)
    np.testing.assert_array_equal(h.true_grad[3], recs[3].true_grad)
    np.testing.assert_array_equal(h.grad[3], recs[3].grad)
    np.testing.assert_array_equal(h.at(3).true_grad, recs[3].true_grad)
    quiet = History(run(prob, optimizers.sgd(lr=0.1), [1.0, 1.0], 2))
    assert quiet.true_grad is not None and np.array_equal(quiet.true_grad, quiet.grad)


def test_noise_escapes_the_saddle_plain_descent_does_not():
    saddle = problems.get("saddle")
    opt = optimizers.sgd(lr=0.1)
    still = list(run(saddle, opt, [0.0, 0.0], 300, max_loss=1e3))
    assert still[-1].stop_reason[0] == "max_steps"
    np.testing.assert_array_equal(still[-1].params, [[0.0, 0.0]])   # grad 0: never moves
    moved = list(run(saddle, opt, [0.0, 0.0], 300, max_loss=1e3, grad_noise=1e-3, seed=0))
    last = moved[-1]
    # y grows like 1.2^t: it falls off the saddle, down the unbounded direction
    assert last.stop_reason[0] == "diverged" and last.stop_detail[0] == "loss_below"
    assert abs(last.params[0, 1]) > 1e3 ** 0.5 / 1.2 and abs(last.params[0, 0]) < 0.01


def test_grad_tol_watches_the_true_gradient_and_bad_sigma_is_refused():
    saddle = problems.get("saddle")
    state = runner.init_run(saddle, optimizers.sgd(lr=0.1), [0.0, 0.0],
                            stopping=runner.Stopping(grad_tol=1e-6), grad_noise=1.0, seed=0)
    assert state.stop_reason.tolist() == ["grad_tol"]   # true gradient 0 at the origin
    assert np.linalg.norm(state.grad) > 0.1
    with pytest.raises(ValueError, match="grad_noise"):
        runner.init_run(saddle, optimizers.sgd(lr=0.1), [0.0, 0.0], grad_noise=-1.0)
    with pytest.raises(ValueError, match="grad_noise has 2 values"):
        runner.init_run(saddle, optimizers.sgd(lr=0.1), [0.0, 0.0], runs=3,
                        grad_noise=np.ones(2))
