"""The network's plane (problems.tanh_net) in the surface apps: every app can open it, the
chart draws the engine's surface, runs move on it by the engine's steps, the race scene
"two minima (tanh net)" ends in two different minima of equal loss, and the lesson under
the surface says why the loss is not convex."""

import numpy as np
import pytest

from descentlab.engine import problems
from descentlab.widgets.surface import lr_explorer, race_app, schedule_explorer
from descentlab.widgets.surface.landscape_notes import lesson
from descentlab.widgets.surface.surface_chart import GRID_N, surface_color


def test_every_surface_app_opens_on_the_network_plane():
    p = problems.get("tanh_net")
    for lab in (race_app(problem="tanh_net"), lr_explorer(problem="tanh_net"),
                schedule_explorer(problem="tanh_net")):
        assert lab.errors.message == "" and lab.session.problem.name == "tanh_net"
        chart = lab.charts["surface"]
        xs, ys, Z = problems.grid(p, GRID_N)
        C, label = surface_color(p, Z)
        np.testing.assert_array_equal(np.asarray(chart.heat.color), C)
        assert label == "log₁₀(L − L_min)" and np.isfinite(C).all()
        assert (chart.sx.min, chart.sx.max, chart.sy.min, chart.sy.max) == (-2.5, 2.5, -1.5, 1.5)
        np.testing.assert_array_equal(chart.minima.x, [-1.0, 1.0])
        np.testing.assert_array_equal(chart.minima.y, [0.0, 0.0])
        assert chart.figure.title == "tanh net · colour: log₁₀(L − L_min)"
        assert chart.ax.label.startswith("a: θ* at +1") and chart.ay.label == "b: the output bias"
        lab.frame(5)
        h = lab.session.history                                  # the runs move on it
        np.testing.assert_array_equal(h.loss[:6], p.loss(h.params[:6].reshape(-1, 2))
                                      .reshape(6, -1))
        lab.close()


def test_the_race_scene_two_minima_ends_in_both_twins():
    lab = race_app()
    lab.apply_scene("two-minima")
    assert lab.errors.message == "" and lab.model.problem == "tanh_net"
    assert [r.kind for r in lab.model.runs] == ["GD", "Momentum", "Adam"]
    np.testing.assert_array_equal(lab.session.history.params[0], [[-2.1, -1.0]] * 3)
    while lab.frame(200):
        pass
    theta = lab.session.view().theta
    np.testing.assert_allclose(theta, [[-1, 0], [1, 0], [-1, 0]], atol=1e-6)
    final = lab.session.view().loss[-1]
    f_min = lab.session.problem.f_min
    np.testing.assert_allclose(final, f_min, rtol=1e-9)
    assert "converged" in lab.status.widget.value
    assert "Momentum" in lab.scene_note and "twin" in lab.scene_note
    lab.close()


def test_the_lesson_and_formula_follow_the_surface():
    lab = race_app()
    lab.model.problem = "tanh_net"
    assert lab.title == "Optimizer race on tanh net"
    text = lesson("tanh_net")
    assert "convex" in text and "saddle" in text and "swapped" in text
    assert text[:40] in lab.lesson.value
    assert problems.get("tanh_net").latex in lab.lesson.value
    lab.close()


@pytest.mark.parametrize("how", ["click", "argument"])
def test_a_start_on_the_ridge_stops_at_the_saddle(how):
    """Started on the ridge a = 0 (by a click, or race_app's start as lab/nonconvex.ipynb
    says), GD slides to the saddle and the gradient rule calls it converged: the status says
    so, and the point is not a minimum."""
    kw = {"start": (0.0, 1.2)} if how == "argument" else {}
    lab = race_app(problem="tanh_net", optimizers=("GD",), lrs={"GD": 0.1}, **kw)
    if how == "click":
        lab.pick_start(0.0, 1.2)
    np.testing.assert_array_equal(lab.session.history.params[0], [[0.0, 1.2]])
    while lab.frame(200):
        pass
    theta = lab.session.view().theta[0]
    assert abs(theta[0]) < 1e-9 and theta[1] == pytest.approx(-0.4355, abs=1e-4)
    assert "converged" in lab.status.widget.value
    assert lab.session.view().loss[-1, 0] > 25 * lab.session.problem.f_min
    lab.close()
