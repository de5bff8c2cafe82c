"""Tests of the streaming runner and History.

Expected numbers come from closed forms (gradient descent on a diagonal quadratic is
theta_t = (1 - lr a)^t theta_0), from running runs alone vs together, and from torch.
"""

import importlib.util
import io
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from descentlab.engine import base, optimizers, problems, runner
from descentlab.engine.runner import History, Stopping, init_run, run, step_run

# ----------------------------------------------------------------------------- fixtures


class Quadratic:
    """L(theta) = 1/2 sum_d a_d theta_d^2 over runs."""

    def __init__(self, a):
        self.a = np.asarray(a, dtype=np.float64)
        self.dim = self.a.shape[0]

    def loss(self, params):
        return 0.5 * np.sum(self.a * params**2, axis=1)

    def grad(self, params):
        return self.a * params


def gd(lr, momentum=0.0):
    """torch's SGD: heavy ball b_1 = g_1, b_t = m b_{t-1} + g_t; theta -= lr b."""
    return optimizers.sgd(lr=lr, momentum=momentum)


def Rosenbrock():
    """(1 - x)^2 + 100 (y - x^2)^2: the reference script's function, from the engine."""
    return problems.get("rosenbrock", a=1.0, b=100.0)


REF = Path(__file__).parents[1] / "reference" / "runner.npz"


def race_optimizer(names, lrs):
    """One optimizer per consecutive block of equal names, as the reference builds them."""
    makers = {"sgd": lambda lr: optimizers.sgd(lr=lr, momentum=0.9),
              "adam": lambda lr: optimizers.adam(lr=lr),
              "rmsprop": lambda lr: optimizers.rmsprop(lr=lr)}
    blocks, sizes = [], []
    for name in dict.fromkeys(names):
        idx = [i for i, n in enumerate(names) if n == name]
        blocks.append(makers[name](np.asarray(lrs)[idx]))
        sizes.append(len(idx))
    return optimizers.race(blocks, sizes)


def collect(gen):
    return list(gen)


# ----------------------------------------------------------------------------- basics


def test_records_follow_closed_form_gradient_descent():
    prob = Quadratic([1.0, 3.0])
    x0 = np.array([1.0, -2.0])
    lr = np.array([0.1, 0.2, 0.3])
    recs = collect(run(prob, gd(lr), x0, 6))
    assert [r.step for r in recs] == list(range(7))
    for t, r in enumerate(recs):
        want = (1 - lr[:, None] * prob.a) ** t * x0
        np.testing.assert_allclose(r.params, want, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(r.loss, 0.5 * (prob.a * want**2).sum(1), rtol=1e-12)
        np.testing.assert_allclose(r.grad, prob.a * want, rtol=1e-13, atol=1e-15)
        np.testing.assert_array_equal(r.lr, lr)
        assert r.params.shape == (3, 2) and r.loss.shape == (3,) and r.active.shape == (3,)
    np.testing.assert_array_equal(recs[0].update, 0.0)
    np.testing.assert_allclose(recs[3].update, recs[3].params - recs[2].params, atol=1e-15)
    assert recs[-1].stop_reason.tolist() == ["max_steps"] * 3
    assert recs[-1].stop_step.tolist() == [6] * 3
    assert not recs[-1].active.any() and recs[-2].active.all()
    assert recs[2].stop_reason.tolist() == [""] * 3 and recs[2].stop_step.tolist() == [-1] * 3


def test_runs_from_start_optimizer_or_argument():
    prob = Quadratic([1.0, 1.0])
    assert init_run(prob, gd(0.1), [1.0, 2.0]).params.shape == (1, 2)
    assert init_run(prob, gd(0.1), np.ones((4, 2))).params.shape == (4, 2)
    assert init_run(prob, gd(np.full(5, 0.1)), [1.0, 2.0]).params.shape == (5, 2)
    assert init_run(prob, gd(0.1), [1.0, 2.0], runs=3).params.shape == (3, 2)
    s = init_run(prob, gd(np.full(2, 0.1)), [[1.0, 2.0], [3.0, 4.0]], runs=2)
    np.testing.assert_array_equal(s.params, [[1, 2], [3, 4]])


def test_zero_steps_yields_only_the_start():
    recs = collect(run(Quadratic([1.0]), gd(0.1), [2.0], 0))
    assert len(recs) == 1 and recs[0].step == 0
    assert recs[0].stop_reason.tolist() == ["max_steps"] and recs[0].stop_step.tolist() == [0]


# ----------------------------------------------------------------------------- stopping


def test_grad_tol_stops_at_first_step_under_tolerance():
    # lr 0.5 on a = 1 halves theta each step: ||g_t|| = 0.5^t ||theta_0||.
    prob = Quadratic([1.0, 1.0])
    x0 = np.array([0.6, 0.8])  # norm 1
    tols = np.array([1e-1, 1e-3, 1e-6])
    hist = History(run(prob, gd(0.5), x0, 100, grad_tol=tols, runs=3))
    want = [math.ceil(math.log(t) / math.log(0.5)) for t in tols]  # 4, 10, 20
    assert hist.stop_step.tolist() == want
    assert hist.stop_reason.tolist() == ["grad_tol"] * 3
    assert len(hist) == max(want) + 1
    for r, w in enumerate(want):
        # frozen from its stop on, at exactly the closed-form point
        np.testing.assert_allclose(hist.params[w:, r], np.broadcast_to(0.5**w * x0, (
            len(hist) - w, 2)), rtol=1e-14)
        assert hist.active[: w, r].all() and not hist.active[w:, r].any()
        np.testing.assert_array_equal(hist.update[w + 1:, r], 0.0)


def test_loss_tol_stops_when_loss_change_is_small():
    prob = Quadratic([2.0])
    x0 = np.array([1.0])
    lr, tol = 0.1, 1e-4
    hist = History(run(prob, gd(lr), x0, 500, loss_tol=tol))
    losses = [0.5 * 2.0 * ((1 - lr * 2.0) ** t) ** 2 for t in range(500)]
    want = next(t for t in range(1, 500) if abs(losses[t] - losses[t - 1]) <= tol)
    assert hist.stop_reason.tolist() == ["loss_tol"] and hist.stop_step.tolist() == [want]
    assert len(hist) == want + 1


def test_first_rule_wins_grad_tol_before_max_steps():
    prob = Quadratic([1.0])
    hist = History(run(prob, gd(0.5), [1.0], 3, grad_tol=0.125))
    assert hist.stop_reason.tolist() == ["grad_tol"] and hist.stop_step.tolist() == [3]


def test_start_with_small_gradient_stops_at_step_zero():
    recs = collect(run(Quadratic([1.0, 1.0]), gd(0.1), [0.0, 0.0], 10, grad_tol=0.0))
    assert len(recs) == 1 and recs[0].stop_reason.tolist() == ["grad_tol"]


def test_divergence_freezes_the_run_and_spares_the_others():
    prob = Quadratic([1.0, 4.0])
    x0 = np.array([1.0, 1.0])
    lrs = np.array([0.1, 10.0, 0.3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hist = History(run(prob, gd(lrs, momentum=0.9), x0, 40))
    assert hist.stop_reason.tolist() == ["max_steps", "diverged", "max_steps"]
    s = int(hist.stop_step[1])
    # With lr = 10 the coordinate a = 4 grows; it blows past max_loss = 1e12 at step s.
    assert 1 <= s < 40
    assert np.isfinite(hist.params).all() and np.isfinite(hist.loss).all()
    assert np.all(np.abs(hist.loss[:, 1]) <= 1e12)
    np.testing.assert_array_equal(hist.params[s:, 1], np.broadcast_to(hist.params[s - 1, 1],
                                                                        (len(hist) - s, 2)))
    assert hist.active[s - 1, 1] and not hist.active[s:, 1].any()
    # by hand (no runner): heavy ball with lr 10 first exceeds max_loss at step s
    theta, b, losses = x0.copy(), np.zeros(2), [0.5 * (prob.a * x0**2).sum()]
    path = [theta]
    for t in range(1, 40):
        g = prob.a * theta
        b = g if t == 1 else 0.9 * b + g
        theta = theta - 10.0 * b
        path.append(theta)
        losses.append(0.5 * (prob.a * theta**2).sum())
    assert s == next(t for t, v in enumerate(losses) if v > 1e12)
    np.testing.assert_allclose(hist.params[s - 1, 1], path[s - 1], rtol=1e-12)
    # the other runs are identical to running them alone
    for r in (0, 2):
        alone = History(run(prob, gd(lrs[r], momentum=0.9), x0, 40))
        np.testing.assert_array_equal(hist.params[:, r], alone.params[:, 0])
        np.testing.assert_array_equal(hist.loss[:, r], alone.loss[:, 0])


def test_overflow_to_inf_and_nan_never_raises_or_leaks():
    class Nasty(Quadratic):
        def loss(self, params):  # NaN once the first coordinate is large
            out = super().loss(params)
            return np.where(params[:, 0] > 1e30, np.nan, out)

    prob = Nasty([1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hist = History(run(prob, gd(np.array([0.5, 3.0, 1e200])), [1.0, 1.0], 200,
                                    max_loss=1e308))
    assert hist.stop_reason.tolist() == ["max_steps", "diverged", "diverged"]
    assert np.isfinite(hist.params).all() and np.isfinite(hist.grad).all()
    np.testing.assert_allclose(hist.params[-1, 0], 0.5**200, rtol=1e-12)
    # lr 1e200 overflows in the very first step: frozen at the start
    assert hist.stop_step[2] == 1
    np.testing.assert_array_equal(hist.params[:, 2], 1.0)


def test_frozen_runs_keep_their_optimizer_state_rows():
    prob = Quadratic([1.0])
    st0 = init_run(prob, gd(np.array([0.5, 0.5]), momentum=0.9), [[1.0], [1e-9]])
    stopping = Stopping(grad_tol=1e-6)
    st1, rec1 = step_run(prob, gd(np.array([0.5, 0.5]), momentum=0.9), st0, stopping)
    assert rec1.stop_reason.tolist() == ["", "grad_tol"]
    buf1 = rec1.opt_state.inner[0].velocity.copy()
    st2, rec2 = step_run(prob, gd(np.array([0.5, 0.5]), momentum=0.9), st1, stopping)
    buf2 = rec2.opt_state.inner[0].velocity
    assert buf2[1, 0] == buf1[1, 0] and buf2[0, 0] != buf1[0, 0]
    assert rec2.update[1, 0] == 0.0 and rec2.params[1, 0] == rec1.params[1, 0]
    assert int(rec2.opt_state.inner[1].count) == 2  # shared scalar counter still advances


@given(st.lists(st.floats(1e-3, 2.5), min_size=1, max_size=6),
       st.lists(st.floats(-5, 5), min_size=2, max_size=2))
def test_runs_are_independent(lrs, x0):
    prob = Quadratic([1.0, 0.5])
    lrs = np.array(lrs)
    together = History(run(prob, gd(lrs, momentum=0.7), x0, 25, grad_tol=1e-3))
    for r, lr in enumerate(lrs):
        alone = History(run(prob, gd(lr, momentum=0.7), x0, 25, grad_tol=1e-3))
        n = len(alone)
        np.testing.assert_array_equal(together.params[:n, r], alone.params[:, 0])
        np.testing.assert_array_equal(together.params[n:, r], np.broadcast_to(
            alone.params[-1, 0], (len(together) - n, 2)))
        assert together.stop_reason[r] == alone.stop_reason[0]
        assert together.stop_step[r] == alone.stop_step[0]


def test_inputs_are_not_mutated():
    prob = Quadratic([1.0, 2.0])
    x0 = np.array([[1.0, 2.0], [3.0, 4.0]])
    x0_copy = x0.copy()
    state = init_run(prob, gd(np.array([0.1, 5.0]), 0.5), x0)
    snapshot = [np.copy(a) for a in (state.params, state.loss, state.grad, state.active,
                                     state.stop_step)]
    buf = state.opt_state.inner[0].velocity.copy()
    for _ in range(12):
        new, _rec = step_run(prob, gd(np.array([0.1, 5.0]), 0.5), state)
    for a, b in zip(snapshot, (state.params, state.loss, state.grad, state.active,
                               state.stop_step), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(state.opt_state.inner[0].velocity, buf)
    np.testing.assert_array_equal(x0, x0_copy)
    assert new.step == 1


def test_swapping_the_optimizer_between_steps_keeps_its_state():
    # heavy ball, by hand: b_t = m b_{t-1} + g_t, theta_t = theta_{t-1} - lr_t b_t
    prob = Quadratic([1.0])
    m = 0.9
    state = init_run(prob, gd(0.1, m), [1.0])
    theta, b = 1.0, 0.0
    for t, lr in enumerate([0.1, 0.1, 0.3, 0.3, 0.05], start=1):
        state, rec = step_run(prob, gd(lr, m), state)
        b = theta if t == 1 else m * b + theta
        theta = theta - lr * b
        assert rec.params[0, 0] == pytest.approx(theta, rel=1e-14)
        assert rec.lr[0] == lr  # the learning rate this step used
    assert state.step == 5


# ----------------------------------------------------------------------------- History


def test_history_shapes_growth_and_at():
    prob = Quadratic([1.0, 2.0, 3.0])
    recs = collect(run(prob, gd(np.linspace(0.01, 0.1, 4)), np.ones(3), 150))
    hist = History()
    for r in recs:
        hist.append(r)
    assert len(hist) == 151
    assert hist.params.shape == (151, 4, 3) and hist.grad.shape == (151, 4, 3)
    assert hist.update.shape == (151, 4, 3)
    assert hist.loss.shape == (151, 4) and hist.lr.shape == (151, 4)
    assert hist.active.shape == (151, 4) and hist.active.dtype == bool
    np.testing.assert_array_equal(hist.steps, np.arange(151))
    for t in (0, 1, 64, 65, 150):
        rec = hist.at(t)
        assert rec.step == t
        np.testing.assert_array_equal(rec.params, recs[t].params)
        np.testing.assert_array_equal(rec.loss, recs[t].loss)
        np.testing.assert_array_equal(rec.update, recs[t].update)
        np.testing.assert_array_equal(rec.stop_reason, recs[t].stop_reason)
        np.testing.assert_array_equal(rec.stop_step, recs[t].stop_step)
    assert hist.at(-1).step == 150
    with pytest.raises(ValueError, match="step must be an integer in"):
        hist.at(151)
    with pytest.raises(ValueError):
        hist.params[0, 0, 0] = 1.0  # read-only views
    assert hist.stop_reason.tolist() == ["max_steps"] * 4


def test_history_amortized_storage_and_append_checks():
    prob = Quadratic([1.0])
    recs = collect(run(prob, gd(0.1), [1.0], 300))
    hist = History()
    bases = set()
    for r in recs:
        hist.append(r)
        bases.add(id(hist.params.base))  # the buffer the read-only view looks into
    assert len(bases) <= 4  # 64 -> 128 -> 256 -> 512: reallocated only geometrically
    with pytest.raises(ValueError, match="record step must be 301"):
        hist.append(recs[5])
    other = collect(run(prob, gd(0.1), [1.0], 1, runs=2))
    with pytest.raises(ValueError, match="shape"):
        History(other[:1]).append(recs[1]._replace(step=1))


def test_history_rows_and_csv():
    prob = Quadratic([1.0, 1.0])
    hist = History(run(prob, gd(np.array([0.5, 0.25])), [3.0, 4.0], 3,
                                grad_tol=2.0))
    rows = hist.to_rows()
    assert len(rows) == len(hist) * 2
    first = rows[0]
    assert first["step"] == 0 and first["run"] == 0
    assert (first["theta_0"], first["theta_1"]) == (3.0, 4.0)
    assert first["loss"] == 12.5 and first["grad_norm"] == 5.0 and first["lr"] == 0.5
    # run 0: ||g|| = 5 * 0.5^t <= 2 first at t = 2
    r0 = [r for r in rows if r["run"] == 0]
    assert [r["stop_reason"] for r in r0] == ["", "", "grad_tol", "grad_tol"]
    buf = io.StringIO()
    hist.to_csv(buf)
    lines = buf.getvalue().splitlines()
    assert lines[0] == "step,run,theta_0,theta_1,loss,lr,grad_norm,active,stop_reason"
    assert lines[1].startswith("0,0,3.0,4.0,12.5,0.5,5.0,True,")
    assert len(lines) == 1 + len(rows)


def test_history_csv_to_path(tmp_path):
    hist = History(run(Quadratic([1.0]), gd(0.1), [1.0], 2))
    path = tmp_path / "h.csv"
    hist.to_csv(path)
    assert path.read_text().splitlines()[-1].startswith("2,0,0.81")


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"steps": -1}, r"steps must be an integer in \[0, inf\)"),
        ({"steps": 2.5}, r"steps must be an integer"),
        ({"grad_tol": -1.0}, r"grad_tol must be in \[0, inf\)"),
        ({"grad_tol": float("nan")}, r"grad_tol must be finite"),
        ({"loss_tol": float("inf")}, r"loss_tol must be finite"),
        ({"max_loss": 0.0}, r"max_loss must be in \(0, inf\)"),
        ({"start": [1.0, float("nan")]}, r"start must be finite"),
        ({"start": [1.0, 2.0, 3.0]}, r"start has 3 coordinates but the problem has D = 2"),
        ({"start": np.ones((2, 2, 2))}, r"start must have shape \(D,\) or \(R, D\)"),
        ({"start": np.ones((3, 2)), "lr": np.full(4, 0.1)},
         r"the number of runs R disagrees: start = 3, optimizer.runs = 4"),
        ({"runs": 2, "lr": np.full(4, 0.1)}, r"optimizer.runs = 4, runs = 2"),
        ({"runs": 0}, r"runs must be an integer in \[1, inf\)"),
        ({"grad_tol": np.array([0.1, 0.2]), "runs": 3},
         r"grad_tol has 2 values but there are 3 runs"),
    ],
)
def test_bad_input_messages(kwargs, match):
    args = {"steps": 5, "start": [1.0, 2.0], "lr": 0.1} | kwargs
    opt = gd(args.pop("lr"))
    prob = Quadratic([1.0, 1.0])
    with pytest.raises(ValueError, match=match):
        run(prob, opt, args.pop("start"), args.pop("steps"), **args)


def test_step_run_checks_stopping_and_optimizer_runs():
    prob = Quadratic([1.0])
    state = init_run(prob, gd(0.1), [1.0], runs=2)
    with pytest.raises(ValueError, match=r"grad_tol must be in \[0, inf\)"):
        step_run(prob, gd(0.1), state, Stopping(grad_tol=-1.0))
    with pytest.raises(ValueError, match="optimizer has 3 runs but the run state has R = 2"):
        step_run(prob, gd(np.full(3, 0.1)), state)


def test_module_exports():
    for name in ("History", "StepRecord", "Stopping", "run", "init_run", "step_run"):
        assert name in runner.__all__


# ----------------------------------------------------------------------------- torch


def check_against_torch(names, lrs, start, t_params, t_loss):
    """The engine's race equals torch run by run; the run torch blows up is 'diverged',
    frozen at torch's last point below max_loss."""
    steps = t_params.shape[0] - 1
    hist = History(run(Rosenbrock(), race_optimizer(list(names), lrs), start, steps))
    assert len(hist) == steps + 1
    for r in range(len(names)):
        blown = ~np.isfinite(t_loss[:, r]) | (np.abs(t_loss[:, r]) > 1e12)
        if not blown.any():
            assert hist.stop_reason[r] == "max_steps"
            np.testing.assert_allclose(hist.params[:, r], t_params[:, r], rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(hist.loss[:, r], t_loss[:, r], rtol=1e-8)
        else:
            s = int(np.argmax(blown))
            assert hist.stop_reason[r] == "diverged" and hist.stop_step[r] == s
            np.testing.assert_allclose(hist.params[:s, r], t_params[:s, r], rtol=1e-9)
            np.testing.assert_allclose(hist.params[s:, r], np.broadcast_to(
                t_params[s - 1, r], (steps + 1 - s, 2)), rtol=1e-9)
    return hist


def check_swap_against_torch(lrs, start, t_params):
    prob = Rosenbrock()
    state = init_run(prob, optimizers.adam(lr=lrs[0]), start)
    params = [state.params[0]]
    for lr in lrs:
        state, rec = step_run(prob, optimizers.adam(lr=float(lr)), state)
        assert rec.lr[0] == lr
        params.append(rec.params[0])
    np.testing.assert_allclose(np.array(params), t_params[:, 0], rtol=1e-9)


def test_race_matches_stored_torch_trajectories():
    ref = np.load(REF)
    hist = check_against_torch(ref["race_names"].tolist(), ref["race_lrs"], ref["start"],
                               ref["race_params"], ref["race_loss"])
    np.testing.assert_array_equal(hist.lr[1], ref["race_lrs"])


def test_swapping_learning_rate_matches_stored_torch():
    ref = np.load(REF)
    check_swap_against_torch(ref["swap_lrs"], ref["start"], ref["swap_params"])


def test_race_and_swap_match_live_torch():
    pytest.importorskip("torch")
    mod = importlib.import_module("reference.make_runner_vectors")
    with np.errstate(all="ignore"):
        race = [mod.trajectory(n, [lr] * mod.RACE_STEPS) for n, lr in mod.RACE]
        swap = mod.trajectory("adam", mod.SWAP_LRS)
    check_against_torch([n for n, _ in mod.RACE], [lr for _, lr in mod.RACE], mod.START,
                        np.stack([p for p, _ in race], 1), np.stack([v for _, v in race], 1))
    check_swap_against_torch(np.array(mod.SWAP_LRS), mod.START, swap[0][:, None])


def test_frozen_runs_inside_a_race_keep_their_state_rows():
    prob = Rosenbrock()
    opt = race_optimizer(["sgd", "sgd", "adam", "adam"], [1e-3, 1e-2, 0.01, 0.05])
    recs = collect(run(prob, opt, [-1.5, 2.0], 12))
    s = int(recs[-1].stop_step[1])
    assert recs[-1].stop_reason.tolist() == ["max_steps", "diverged", "max_steps", "max_steps"]
    v_stop = recs[s].opt_state.inner[0].inner[0].velocity
    v_before = recs[s - 1].opt_state.inner[0].inner[0].velocity
    v_end = recs[-1].opt_state.inner[0].inner[0].velocity
    np.testing.assert_array_equal(v_stop[1], v_before[1])
    np.testing.assert_array_equal(v_end[1], v_before[1])
    assert not np.array_equal(v_end[0], v_before[0])


def test_optimizer_without_learning_rate_records_nan_lr():
    def init(params):
        return base.EmptyState()

    def update(g, state, params):
        return -0.1 * g, state

    recs = collect(run(Quadratic([1.0]), base.GradientTransformation(init, update), [1.0], 2))
    assert np.isnan(recs[1].lr).all()
    np.testing.assert_allclose(recs[2].params, [[0.81]])


@given(st.lists(st.floats(1e-4, 1e-1), min_size=1, max_size=5), st.integers(0, 150))
def test_history_equals_stacked_records(tols, steps):
    prob = Quadratic([1.0, 0.3])
    recs = collect(run(prob, gd(0.4, momentum=0.5), [2.0, -1.0], steps, grad_tol=np.array(tols),
                       runs=len(tols)))
    hist = History(recs)
    assert len(hist) == len(recs)
    for name in ("params", "loss", "grad", "lr", "update", "active"):
        np.testing.assert_array_equal(getattr(hist, name), np.stack([getattr(r, name)
                                                                     for r in recs]))
    for t in range(len(recs)):
        np.testing.assert_array_equal(hist.at(t).stop_reason, recs[t].stop_reason)
        np.testing.assert_array_equal(hist.at(t).stop_step, recs[t].stop_step)
