"""Divergence causes (stop_detail) in the runner and in training; stable learning rates.

Expected steps come from closed forms: gradient descent on the bowl x^2 + y^2 is
theta_t = (1 - 2 lr)^t theta_0, on the saddle x^2 - y^2 the y coordinate grows as
(1 + 2 lr)^t y_0.
"""

import io
import math

import numpy as np
import pytest

from descentlab.engine import data, models, optimizers, problems, runner, training
from descentlab.engine.runner import History, run


def first_step(predicate, limit=10_000):
    return next(t for t in range(limit) if predicate(t))


def test_runner_says_loss_above_loss_below_or_nonfinite():
    bowl = problems.get("bowl")
    x0 = np.array([1.0, 1.0])
    # lr 1.5: theta_t = (-2)^t x0, L_t = 2 * 4^t; first t with L_t > 1e6
    h = History(run(bowl, optimizers.sgd(lr=1.5), x0, 100, max_loss=1e6))
    assert h.stop_reason.tolist() == ["diverged"] and h.stop_detail.tolist() == ["loss_above"]
    assert h.stop_step[0] == first_step(lambda t: 2 * 4.0**t > 1e6)
    # saddle: L_t = x_t^2 - y_t^2 with x_t = 0.6^t x0, y_t = 1.4^t y0 (lr 0.2)
    saddle = problems.get("saddle")
    h = History(run(saddle, optimizers.sgd(lr=0.2), [0.5, 0.1], 200, max_loss=1e3))
    want = first_step(lambda t: (0.6**t * 0.5) ** 2 - (1.4**t * 0.1) ** 2 < -1e3)
    assert h.stop_detail.tolist() == ["loss_below"] and h.stop_step[0] == want
    # a loss that turns NaN for x > 2: gradient descent on -x walks right one unit per step
    walk = problems.custom(lambda p: np.where(p[:, 0] > 2, np.nan, -p[:, 0]),
                           lambda p: np.tile([-1.0, 0.0], (p.shape[0], 1)), start=(0.0, 0.0))
    recs = list(run(walk, optimizers.sgd(lr=1.0), [0.0, 0.0], 10))
    assert recs[-1].stop_detail.tolist() == ["nonfinite"] and recs[-1].stop_step[0] == 3
    np.testing.assert_array_equal(recs[-1].params, [[2.0, 0.0]])  # last finite point kept


def test_stop_detail_is_per_run_and_empty_for_other_stops():
    bowl = problems.get("bowl")
    opt = optimizers.sgd(lr=np.array([0.1, 1.5, 0.3]))
    recs = list(run(bowl, opt, [1.0, 1.0], 40, max_loss=1e6, grad_tol=1e-3))
    last = recs[-1]
    assert last.stop_reason.tolist() == ["grad_tol", "diverged", "grad_tol"]
    assert last.stop_detail.tolist() == ["", "loss_above", ""]
    h = History(recs)
    t = int(h.stop_step[1])
    assert h.at(t - 1).stop_detail.tolist() == ["", "", ""]
    assert h.at(t).stop_detail.tolist()[1] == "loss_above"
    buf = io.StringIO()
    h.to_csv(buf)
    header = buf.getvalue().splitlines()[0].split(",")
    assert header[-2:] == ["stop_reason", "stop_detail"]
    assert {r["stop_detail"] for r in h.to_rows() if r["run"] == 1 and r["step"] >= t} == \
        {"loss_above"}


def test_divergence_at_the_start_has_a_cause():
    state = runner.init_run(problems.get("bowl"), optimizers.sgd(lr=0.1), [1e4, 0.0],
                            stopping=runner.Stopping(max_loss=1e6))
    assert state.stop_reason.tolist() == ["diverged"] and state.stop_detail.tolist() == \
        ["loss_above"]
    assert runner.start_record(state).stop_detail.tolist() == ["loss_above"]


def test_training_records_the_cause():
    ds = data.make_dataset("linear", n=60, seed=0)
    model = models.linear_regression()
    lrs = np.array([0.01, 50.0])
    recs = list(training.train(model, ds, optimizers.sgd(lr=lrs), epochs=30,
                               batch_size=ds.X_train.shape[0], max_loss=1e8))
    last = recs[-1]
    assert last.stop_reason.tolist() == ["max_epochs", "diverged"]
    assert last.stop_detail[0] == "" and last.stop_detail[1] in ("loss_above", "nonfinite")
    # full batch: every iteration ends an epoch, whose full training loss is checked
    h = training.TrainHistory(recs)
    e = int(last.stop_epoch[1])
    L = h.metric("train_loss")[list(h.epoch_index).index(e), 1]
    assert last.stop_detail[1] == ("loss_above" if np.isfinite(L) else "nonfinite")
    assert not L <= 1e8
    before = h.metric("train_loss")[: list(h.epoch_index).index(e), 1]
    assert np.all(before <= 1e8)
    h = training.TrainHistory(recs)
    assert h.stop_detail.tolist() == last.stop_detail.tolist()
    assert "stop_detail" in h.epoch_rows()[0]


def test_stable_lr_values_and_unknown_curvature():
    assert problems.stable_lr(problems.get("bowl")) == 1.0
    assert problems.stable_lr(problems.get("quadratic", condition=50)) == pytest.approx(0.04)
    assert problems.stable_lr(problems.get("bowl"), momentum=0.9) == pytest.approx(1.9)
    assert problems.stable_lr(problems.get("rosenbrock")) is None
    with pytest.raises(ValueError, match="momentum"):
        problems.stable_lr(problems.get("bowl"), momentum=1.0)


@pytest.mark.parametrize("mu", [0.0, 0.5, 0.9])
def test_stable_lr_separates_convergence_from_divergence(mu):
    prob = problems.get("quadratic", condition=20.0, angle=30.0)
    bound = problems.stable_lr(prob, momentum=mu)
    lrs = np.array([0.97, 1.03]) * bound
    last = list(run(prob, optimizers.sgd(lr=lrs, momentum=mu), prob.start, 3000))[-1]
    assert last.loss[0] < 1e-6 * prob.loss(prob.start[None])[0]
    assert last.stop_reason[1] == "diverged" or last.loss[1] > 1e6


def test_bounded_below():
    assert problems.bounded_below(problems.get("saddle")) is False
    assert problems.bounded_below(problems.get("monkey_saddle")) is False
    assert problems.bounded_below(problems.get("bowl")) is True
    assert problems.bounded_below(problems.get("rosenbrock")) is True
    mine = problems.custom(lambda p: -np.sum(p * p, axis=1))
    assert problems.bounded_below(mine) is None
    assert problems.get("saddle").f_min is None and math.isfinite(problems.get("bowl").f_min)
