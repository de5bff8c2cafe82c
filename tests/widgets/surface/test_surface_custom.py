"""Race your own: a from-scratch step function runs beside the engine's optimizers."""

import numpy as np
import pytest

from descentlab.engine import exercises
from descentlab.widgets import race_app
from descentlab.widgets.surface.colors import CUSTOM_COLORS, KIND_COLORS


def student_adam():
    ns = {"np": np}
    exec(exercises.solution("adam_step"), ns)
    return ns["adam_step"]


@pytest.mark.parametrize("problem", ["rosenbrock", "booth"])
def test_a_correct_adam_step_races_exactly_like_the_engines_adam(problem):
    lab = race_app(problem=problem, optimizers=("Adam",), custom={"my adam": student_adam()})
    for _ in range(10):
        lab.frame(20)
    P = lab.session.history.params
    assert P.shape[1] == 2 and lab.session.step == 200
    np.testing.assert_allclose(P[:, 1], P[:, 0], rtol=1e-12, atol=1e-12)
    assert lab.status.messages == []
    lab.close()


def test_code_that_raises_stops_only_its_run_and_the_status_says_why():
    def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):
        raise NotImplementedError

    lab = race_app(optimizers=("Adam", "GD"), custom={"my adam": adam_step})
    lab.frame(10)
    s = lab.session.state
    assert list(s.stop_reason) == ["", "", "diverged"] and s.active[:2].all()
    msg = next(m for m in lab.status.messages if m.startswith("my adam"))
    assert "stopped at step 1" in msg and "not implemented yet" in msg
    assert "η" not in msg.split("stopped")[1]          # no learning-rate story for it
    lab.close()


def test_a_custom_kind_has_its_colour_its_slider_and_is_named_in_messages():
    lab = race_app(optimizers=("Adam",), custom={"my adam": student_adam()})
    style = lab.style()
    assert style.colors[0] == KIND_COLORS["Adam"] and style.colors[1] in CUSTOM_COLORS
    assert "my adam" in lab.sliders
    with pytest.raises(Exception, match="one of GD, .*Adadelta, my adam; got 'nope'"):
        lab.model.runs = [lab.model.runs[0]._replace(kind="nope")]
    lab.close()
