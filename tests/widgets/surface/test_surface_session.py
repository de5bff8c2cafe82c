"""The surface session: the engine's runner a frame at a time; restarts, live retunes
recorded as events, re-runs after max steps and stop explanations with the true cause."""

import numpy as np

from descentlab.engine import optimizers as O
from descentlab.engine import problems, runner, schedules
from descentlab.widgets.surface.config import Run, SurfaceModel
from descentlab.widgets.surface.session import SurfaceSession


def session(**kw):
    m = SurfaceModel(**kw)
    return m, SurfaceSession(m.config(), m.built)


def test_session_history_equals_runner_run():
    m, s = session(problem="rosenbrock", runs=[("Momentum", 5e-4), ("Adam", 0.05)],
                   max_steps=40, grad_tol=0.0)
    for k in (1, 7, 3, 100):
        s.advance(k)
    p = problems.get("rosenbrock")
    opt = O.race([O.sgd(5e-4, momentum=0.9), O.adam(0.05)], [1, 1])
    ref = runner.History(runner.run(p, opt, p.start, 40))
    assert len(s.history) == len(ref) == 41
    np.testing.assert_array_equal(s.history.params, ref.params)
    np.testing.assert_array_equal(s.history.loss, ref.loss)
    assert list(s.state.stop_reason) == ["max_steps", "max_steps"]


def test_retune_keeps_state_applies_the_new_lr_from_the_next_step_and_records_it():
    m, s = session(problem="quadratic", runs=[("Momentum", 0.01)], max_steps=100)
    s.advance(5)
    m.set_lr(0.03)
    assert s.update(m.config()) == "retuned"            # no restart
    s.advance(5)
    p = problems.get("quadratic")
    a, b = O.sgd(0.01, momentum=0.9), O.sgd(0.03, momentum=0.9)
    st = runner.init_run(p, a, p.start)
    for t in range(10):
        st, _ = runner.step_run(p, a if t < 5 else b, st)
    np.testing.assert_array_equal(s.state.params, st.params)
    assert s.step == 10
    (e,) = s.events.events
    assert (e.step, e.param, e.runs) == (5, "lr", (0,))
    assert float(e.old[0]) == 0.01 and float(e.new[0]) == 0.03
    assert s.labels == ["Momentum η 0.01→0.03 @5"]
    # the lr chart's rows: the lr each step actually used (the history), not a plan
    np.testing.assert_array_equal(s.history.lr[1:6, 0], 0.01)
    np.testing.assert_array_equal(s.history.lr[6:11, 0], 0.03)
    v = s.view()
    assert v.events == (5,)
    np.testing.assert_array_equal(v.lr, s.history.lr)


def test_a_tuning_event_names_only_the_runs_that_use_the_parameter():
    m, s = session(problem="bowl", runs=[("GD", 0.1), ("Momentum", 0.05), ("Adam", 0.05)],
                   max_steps=50)
    s.advance(4)
    m.momentum = 0.5
    assert s.update(m.config()) == "retuned"
    (e,) = s.events.events
    assert e.param == "momentum" and e.runs == (1,) and (e.old, e.new) == (0.9, 0.5)
    assert s.labels[1] == "Momentum η 0.05, μ 0.9→0.5 @4"
    assert s.labels[0] == "GD η 0.1" and s.labels[2] == "Adam η 0.05"


def test_restart_on_new_kind_or_start_and_resume_when_max_steps_grows():
    m, s = session(problem="bowl", runs=[("GD", 0.01)], max_steps=3, grad_tol=0.0)
    assert not s.advance(10) and s.step == 3
    m.max_steps = 6
    assert s.update(m.config()) == "retuned"
    assert s.running and s.advance(10) is False and s.step == 6
    m.start = (1.0, 1.0)
    assert s.update(m.config()) == "restarted" and s.step == 0
    np.testing.assert_array_equal(s.state.params, [[1.0, 1.0]])
    s.advance(2)
    m.runs = [Run("Adam", 0.01)]
    assert s.update(m.config()) == "restarted" and s.step == 0


def test_a_sweep_range_change_restarts_and_never_relabels_the_past():
    """Bug 1: "lr to" 0.2 -> 10 at step 85 relabelled the old runs.  Now it restarts."""
    m, s = session(problem="quadratic", runs=[("GD", 0.01)], sweeping=True,
                   sweep_from=0.01, sweep_to=0.2, sweep_n=6, max_steps=300)
    s.advance(85)
    m.sweep_to = 10.0
    assert s.update(m.config()) == "restarted" and s.step == 0
    assert len(s.history) == 1 and not s.events.events
    np.testing.assert_allclose([r.lr for r in s.cfg.runs], np.geomspace(0.01, 10, 6))
    s.advance(300)
    # every explanation names the lr its run really had
    for msg in s.messages():
        if "diverged" in msg:
            r = s.labels.index(msg.split(" diverged")[0])
            assert s.cfg.runs[r].lr > 0.2


def test_a_schedule_change_after_max_steps_reruns_the_runs():
    """Bug 2: one_cycle and cosine_restarts showed the old trajectory under new labels."""
    m, s = session(problem="quadratic", runs=[("Momentum", 0.05)], schedule="one_cycle",
                   max_steps=60)
    s.advance(100)
    assert not s.running and s.step == 60
    before = s.history.params.copy()
    m.schedule = "cosine_restarts"
    assert s.update(m.config()) == "rerun"
    assert s.step == 60 and not s.events.events
    assert not np.array_equal(s.history.params, before)
    plan = schedules.get("cosine_restarts", lr=0.05, T_0=15)(np.arange(60))
    np.testing.assert_allclose(s.history.lr[1:, 0], plan, rtol=1e-15)
    assert any("re-ran from step 0" in msg for msg in s.messages())


def test_another_change_after_the_runs_ended_says_reset_is_needed():
    m, s = session(problem="bowl", runs=[("Momentum", 0.05)], max_steps=20)
    s.advance(50)
    m.momentum = 0.3
    assert s.update(m.config()) == "pending"
    assert any("press reset (R)" in msg and "μ" in msg for msg in s.messages())
    s.restart(m.config())
    assert s.cfg.momentum == 0.3 and s.step == 0


def test_divergence_is_explained_with_the_stable_bound_only_above_it():
    m, s = session(problem="quadratic", problem_params={"condition": 20.0},
                   runs=[("GD", 0.05), ("GD", 0.15)], max_steps=500)
    s.advance(500)
    msgs = [x for x in s.messages() if "diverged" in x]
    assert len(msgs) == 1
    assert msgs[0].startswith("GD η 0.15 diverged at step")
    assert "above the stable bound 2/L = 0.1" in msgs[0]
    assert s.state.stop_reason[1] == "diverged"


def test_the_saddle_blames_the_unbounded_surface_not_the_learning_rate():
    """Bug 4: a run at lr 5e-4 on the saddle was told "lr < 2(1+μ)/L = 1.9"."""
    m, s = session(problem="saddle", runs=[("Momentum", 5e-4), ("GD", 0.1)],
                   max_steps=5000, grad_tol=0.0)
    s.advance(5000)
    for msg in s.messages():
        assert "2(1+μ)/L" not in msg and "2/L" not in msg
        assert "unbounded below" in msg
    assert any("fell below −max_loss" in msg for msg in s.messages())


def test_a_max_steps_stop_while_falling_forever_is_said_so():
    """Bug 4: momentum at −8.2e11 on the saddle was a plain max_steps stop."""
    m, s = session(problem="saddle", runs=[("Momentum", 5e-4)], max_steps=1500,
                   grad_tol=0.0)
    s.advance(1500)
    assert s.state.stop_reason[0] == "max_steps"
    (msg,) = s.messages()
    assert "still falling without bound" in msg and "unbounded below" in msg


def test_gradient_norm_and_loss_change_stops_are_stated():
    m, s = session(problem="bowl", runs=[("GD", 0.1)], max_steps=5000, grad_tol=1e-6)
    s.advance(5000)
    t = int(s.state.stop_step[0])
    assert s.messages() == [f"GD η 0.1 stopped at step {t}: ‖∇L‖ = "
                            f"{np.linalg.norm(s.history.grad[t, 0]):.3g} ≤ 1e-06 (converged)"]
    m, s = session(problem="bowl", runs=[("GD", 0.1)], max_steps=5000, grad_tol=0.0,
                   loss_tol=1e-9)
    s.advance(5000)
    (msg,) = s.messages()
    assert f"stopped at step {int(s.state.stop_step[0])}: the loss changed by" in msg
    assert "≤ 1e-09" in msg


def test_quantities_are_the_engines_logged_per_step():
    m, s = session(problem="bowl", runs=[("Momentum", 0.1)], max_steps=10)
    s.advance(4)
    h, b = s.history, np.zeros(2)
    for t in range(1, 5):
        g = h.grad[t - 1, 0]
        b = g if t == 1 else 0.9 * b + g
        np.testing.assert_allclose(s.quantities.at(t)["velocity"][0], b, rtol=1e-15)


def test_view_is_plain_arrays_and_the_next_update_is_the_engines():
    m, s = session(problem="rosenbrock", runs=[("Adam", 0.05), ("NAdam", 0.05)],
                   max_steps=100)
    s.advance(10)
    v = s.view(4)
    assert not any(isinstance(x, SurfaceSession) for x in v)
    np.testing.assert_array_equal(v.next_update, s.history.update[5])
    latest = s.view()
    s.advance(1)
    np.testing.assert_array_equal(latest.next_update, s.history.update[11])


def test_a_change_for_a_stopped_run_is_not_put_on_its_label_and_is_explained():
    m, s = session(problem="quadratic", runs=[("GD", 0.05), ("Adam", 0.5)],
                   max_steps=500, grad_tol=0.0)
    m.runs = [Run("GD", 0.5), Run("Adam", 0.05)]       # GD at 0.5 > 2/L = 0.2 diverges
    s.restart(m.config())
    s.advance(60)
    assert s.state.stop_reason[0] == "diverged" and s.running
    m.runs = [Run("GD", 0.01), Run("Adam", 0.05)]
    assert s.update(m.config()) == "retuned"
    assert not s.events.events and s.labels[0] == "GD η 0.5"
    assert "GD had stopped: the change reaches it after reset (R)" in s.messages()


def test_gradient_noise_escapes_the_saddle_and_a_noise_change_restarts():
    m, s = session(problem="saddle", runs=[("GD", 0.01)], start=(-1.8, 0.0), max_steps=300,
                   grad_tol=0.0)
    s.advance(300)
    assert s.state.params[0, 1] == 0.0                  # exactly on the axis: never leaves
    m.grad_noise = 0.1
    assert s.update(m.config()) == "restarted"
    s.advance(300)
    assert abs(s.state.params[0, 1]) > 0.5              # noise escapes
    np.testing.assert_array_equal(s.history.true_grad[:, 0, 1],
                                  -2 * s.history.params[:, 0, 1])
