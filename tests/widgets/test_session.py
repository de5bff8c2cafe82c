"""The session is the engine's runner, stepped a frame at a time; retuning keeps the run."""

import numpy as np

from descentlab.engine import optimizers as O
from descentlab.engine import problems, runner
from descentlab.widgets.model import LabModel
from descentlab.widgets.session import SurfaceSession


def test_session_history_equals_runner_run():
    m = LabModel(problem="rosenbrock", runs=[("Momentum", 5e-4), ("Adam", 0.05)],
                 max_steps=40, grad_tol=0.0)
    s = SurfaceSession(m.config())
    for k in (1, 7, 3, 100):
        s.advance(k)
    p = problems.get("rosenbrock")
    opt = O.race([O.sgd(5e-4, momentum=0.9), O.adam(0.05)], [1, 1])
    ref = runner.History(runner.run(p, opt, p.start, 40))
    assert len(s.history) == len(ref) == 41
    np.testing.assert_array_equal(s.history.params, ref.params)
    np.testing.assert_array_equal(s.history.loss, ref.loss)
    assert list(s.state.stop_reason) == ["max_steps", "max_steps"]


def test_retune_keeps_state_and_applies_the_new_lr_from_the_next_step():
    m = LabModel(problem="quadratic", runs=[("Momentum", 0.01)], max_steps=100)
    s = SurfaceSession(m.config())
    s.advance(5)
    m.set_lr(0.03)
    assert s.retune(m.config()) is False            # no restart
    s.advance(5)
    p = problems.get("quadratic")
    a, b = O.sgd(0.01, momentum=0.9), O.sgd(0.03, momentum=0.9)
    st = runner.init_run(p, a, p.start)
    for t in range(10):
        st, _ = runner.step_run(p, a if t < 5 else b, st)
    np.testing.assert_array_equal(s.state.params, st.params)
    assert s.step == 10


def test_restart_on_new_kind_or_start_and_resume_when_max_steps_grows():
    m = LabModel(problem="bowl", runs=[("GD", 0.01)], max_steps=3, grad_tol=0.0)
    s = SurfaceSession(m.config())
    assert not s.advance(10) and s.step == 3
    m.max_steps = 6
    s.retune(m.config())
    assert s.running and s.advance(10) is False and s.step == 6
    m.start = (1.0, 1.0)
    assert s.retune(m.config()) is True and s.step == 0
    np.testing.assert_array_equal(s.state.params, [[1.0, 1.0]])


def test_divergence_is_explained_with_the_stable_bound():
    m = LabModel(problem="quadratic", problem_params={"condition": 20.0},
                 runs=[("GD", 0.05), ("GD", 0.15)], max_steps=500)
    s = SurfaceSession(m.config())
    s.advance(500)
    msgs = s.messages()
    assert len(msgs) == 1
    assert "diverged at step" in msgs[0] and "2/L = 0.1" in msgs[0] and "above" in msgs[0]
    assert s.state.stop_reason[1] == "diverged"


def test_quantities_are_logged_per_step():
    m = LabModel(problem="bowl", runs=[("Momentum", 0.1)], max_steps=10)
    s = SurfaceSession(m.config())
    s.advance(4)
    # heavy-ball buffer: b_1 = g_1, b_t = mu b_{t-1} + g_t with g_t = grad at theta_{t-1}
    h, b = s.history, np.zeros(2)
    for t in range(1, 5):
        g = h.grad[t - 1, 0]
        b = g if t == 1 else 0.9 * b + g
        np.testing.assert_allclose(s.quantities.at(t)["velocity"][0], b, rtol=1e-15)
