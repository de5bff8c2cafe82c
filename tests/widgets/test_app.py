"""Apps headless: marks equal the History (after decimation), timeline, errors, messages."""

import base64
import io
import re

import numpy as np
import pytest

from descentlab.engine import problems
from descentlab.widgets import (
    LabModel,
    SurfaceLab,
    display_indices,
    lr_explorer,
    race_app,
    schedule_explorer,
)
from descentlab.widgets.charts import loss_gap


def eq(mark_array, expected):
    """bqplot squeezes (1, n) arrays to (n,): compare up to that squeeze."""
    expected = np.asarray(expected)
    np.testing.assert_array_equal(np.reshape(mark_array, expected.shape), expected)
    assert np.shape(mark_array) in (expected.shape, np.squeeze(expected).shape)


def assert_marks_show(lab, step):
    """Every chart's arrays are the History's rows 0..step, decimated by the rule: the
    charts drawn per frame as they are, then (after ``flush``) those in hidden tabs."""
    _assert_charts_show(lab, step, set(lab.charts) - lab.hidden)
    lab.flush()
    _assert_charts_show(lab, step, set(lab.charts))


def _assert_charts_show(lab, step, names):
    h = lab.session.history
    idx = display_indices(step + 1)
    if len(idx) == 1:
        idx = np.repeat(idx, 2)
    P = h.params[idx]
    assert {"surface", "loss"} <= set(lab.charts)
    if "surface" in names:
        surf = lab.charts["surface"]
        eq(surf.paths.x, P[:, :, 0].T)
        eq(surf.paths.y, P[:, :, 1].T)
        eq(surf.points.x, h.params[step, :, 0])
        eq(surf.points.y, h.params[step, :, 1])
    if "loss" in names:
        loss = lab.charts["loss"].lines
        eq(loss.x, h.steps[idx])
        f_min = lab.session.problem.f_min
        eq(loss.y, loss_gap(h.loss[idx], f_min).T)
    if "norm" in names:
        norm = np.linalg.norm(h.update[idx], axis=2).T
        y = np.reshape(lab.charts["norm"].lines.y, norm.shape)
        eq(y[norm > 0], norm[norm > 0])
    if "traces" in names:
        y = lab.charts["traces"].lines.y
        eq(y[0::2], P[:, :, 0].T)
        eq(y[1::2], P[:, :, 1].T)
    # the timeline spans the step limit (a progress bar), or further if a run went past it
    assert lab.timeline.value == step
    assert lab.timeline.max == max(lab.session.step, lab.session.cfg.max_steps)


@pytest.mark.parametrize("build", [race_app, lr_explorer, schedule_explorer])
def test_apps_build_paused_at_step_0_and_frames_match_history(build):
    lab = build()
    assert lab.session.step == 0 and not lab.player.playing and lab.player.task is None
    assert_marks_show(lab, 0)
    assert "application/vnd.jupyter.widget-view+json" in lab._repr_mimebundle_()
    for k in (1, 5, 20):
        lab.frame(k)
    assert lab.session.step == 26
    assert_marks_show(lab, 26)
    lab.close()


def test_timeline_restores_an_earlier_step_exactly():
    lab = race_app(max_steps=500)
    lab.frame(300)
    before = lab.charts["surface"].paths.x.copy()
    lab.timeline.value = 37                                  # the user scrubs
    assert_marks_show(lab, 37)
    r = lab.model.selected
    np.testing.assert_array_equal(lab.charts["schedule"].now.y if "schedule" in lab.charts
                                  else lab.session.history.lr[37], lab.session.history.lr[37])
    lab.flush()
    assert "<code>37</code>" in lab.math.numbers.value
    assert f"{lab.session.history.loss[37, r]:.6g}" in lab.math.numbers.value
    lab.timeline.value = 300                                 # back to the latest
    np.testing.assert_array_equal(lab.charts["surface"].paths.x, before)
    lab.frame(1)                                             # playing follows the latest
    assert_marks_show(lab, 301)


def test_bad_input_shows_the_error_line_and_keeps_the_state():
    lab = race_app()
    lab.frame(10)
    snapshot = (lab.model.config(), lab.session.state.params.copy(), lab.session.step)
    lr_box = next(w for w in lab.widget.children[1].children[0].children
                  if getattr(w, "description", "") == "lr η (selected)")
    old = lr_box.value
    lr_box.value = -1.0
    assert "lr must be in [0, inf); got -1" in lab.errors.widget.value
    assert lr_box.value == old                               # control reverted
    assert lab.model.config() == snapshot[0]
    np.testing.assert_array_equal(lab.session.state.params, snapshot[1])
    assert lab.session.step == snapshot[2]
    b2 = next(w for w in lab.widget.children[1].children[0].children
              if getattr(w, "description", "") == "Adam β₂")
    b2.value = 1.0
    assert "b2 must be in [0, 1); got 1" in lab.errors.widget.value and b2.value == 0.999
    lr_box.value = 0.002                                     # a good value clears it
    assert lab.errors.widget.value == "" and lab.model.runs[lab.model.selected][1] == 0.002
    assert lab.session.step == 10                            # retuned, not restarted


def test_click_on_surface_sets_start_and_restarts():
    lab = race_app()
    lab.frame(5)
    overlay = lab.charts["surface"].overlay
    # what bqplot's Image view sends on click: the point in data coordinates
    overlay._handle_custom_msgs(None, {"event": "element_click",
                                       "data": {"click_x": 0.5, "click_y": -0.25}})
    assert lab.model.start == (0.5, -0.25) and lab.session.step == 0
    np.testing.assert_array_equal(lab.session.state.params[0], [0.5, -0.25])
    np.testing.assert_array_equal(lab.charts["surface"].start.x, [0.5])


def test_new_problem_restarts_and_redraws_the_surface_debounced():
    lab = race_app()
    lab.frame(5)
    lab.model.problem = "himmelblau"
    assert lab.session.step == 0
    lab.flush()
    p = problems.get("himmelblau")
    heat = lab.charts["surface"].heat
    assert heat.x[0] == p.domain[0][0] and heat.x[-1] == p.domain[0][1]
    np.testing.assert_array_equal(lab.charts["surface"].minima.x, p.minima[:, 0])


def test_divergence_is_explained_in_words():
    lab = lr_explorer()
    lab.frame(400)
    assert "diverged at step" in lab.status.widget.value and "2/L = 0.1" in lab.status.widget.value


def test_at_most_one_message_per_mark_per_frame_with_8_runs(sends):
    m = LabModel(problem="rosenbrock", runs=[("Adam", 0.01 * (i + 1)) for i in range(8)])
    lab = SurfaceLab(m)
    lab.frame(1)
    for _ in range(20):
        sends.clear()
        lab.frame(1)
        assert sends and max(sends.values()) == 1, sends
    marks = {lab.charts["surface"].paths.model_id, lab.charts["loss"].lines.model_id}
    assert marks <= set(sends)


def test_long_run_keeps_display_arrays_bounded():
    m = LabModel(problem="bowl", runs=[("GD", 1e-5)], max_steps=100_000, grad_tol=0.0)
    lab = SurfaceLab(m, charts=("surface", "loss", "norm", "traces"))
    while lab.frame(20_000):
        pass
    assert lab.session.step == 100_000 and len(lab.session.history) == 100_001
    assert lab.charts["surface"].paths.x.shape[-1] <= 2000
    assert lab.charts["loss"].lines.x.shape[-1] <= 2000
    assert lab.charts["norm"].lines.y.shape[-1] <= 2000
    assert_marks_show(lab, 100_000)


def test_csv_export_is_a_data_link_of_the_history():
    lab = race_app(max_steps=5)
    lab.frame(5)
    lab.export.refresh()
    href = re.search(r'href="data:text/csv;base64,([^"]+)"', lab.export.link.value).group(1)
    text = base64.b64decode(href).decode()
    buf = io.StringIO()
    lab.session.history.to_csv(buf)
    assert text == buf.getvalue() and text.startswith("step,run,theta_0")
    assert 'download="race_rosenbrock.csv"' in lab.export.link.value
