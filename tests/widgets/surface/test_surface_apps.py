"""The surface apps headless: marks equal the History (after decimation), the timeline,
errors next to their control, messages per frame, colours that follow the run, the
equations panel's truth, and the learning rate's path from a slider to the chart."""

import base64
import io
import re

import numpy as np
import pytest
import traitlets as T

from descentlab.engine import problems
from descentlab.widgets.core.decimate import display_indices
from descentlab.widgets.surface import config as config_module
from descentlab.widgets.surface import lr_explorer, race_app, schedule_explorer
from descentlab.widgets.surface.charts import loss_gap
from descentlab.widgets.surface.colors import KIND_COLORS
from descentlab.widgets.surface.config import Run, SurfaceModel
from descentlab.widgets.surface.lab import SurfaceLab


def eq(mark_array, expected):
    """bqplot squeezes (1, n) arrays to (n,): compare up to that squeeze."""
    expected = np.asarray(expected)
    np.testing.assert_array_equal(np.reshape(mark_array, expected.shape), expected)


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
    if "surface" in names:
        surf = lab.charts["surface"]
        eq(surf.paths.x, P[:, :, 0].T)
        eq(surf.paths.y, P[:, :, 1].T)
        eq(surf.points.x, h.params[step, :, 0])
        eq(surf.points.y, h.params[step, :, 1])
    if "loss" in names:
        loss = lab.charts["loss"].series.lines
        eq(loss.x, h.steps[idx])
        y = np.reshape(loss.y, (len(lab.session.cfg.runs), len(idx)))
        gap = loss_gap(h.loss[idx], lab.session.problem.f_min).T
        np.testing.assert_array_equal(y[gap > 0], gap[gap > 0])
    if "norm" in names:
        norm = np.linalg.norm(h.update[idx], axis=2).T
        mark = lab.charts["norm"].series.lines.y
        if (norm > 0).any():
            eq(np.reshape(mark, norm.shape)[norm > 0], norm[norm > 0])
        else:                           # nothing to draw on a log axis: an empty mark
            assert np.size(mark) == 0
    if "traces" in names:
        y = lab.charts["traces"].series.lines.y
        eq(y[0::2], P[:, :, 0].T)
        eq(y[1::2], P[:, :, 1].T)
    if "lr" in names:
        lr = h.lr[idx].T
        mark = lab.charts["lr"].series.lines.y
        if (np.isfinite(lr) & (lr > 0)).any():
            eq(np.reshape(mark, lr.shape)[lr > 0], lr[lr > 0])
        else:
            assert np.size(mark) == 0
    # the timeline spans the step limit (a progress bar), or further if a run went past it
    assert lab.timeline.slider.value == step
    assert lab.timeline.slider.max == max(lab.session.step, lab.session.cfg.max_steps)


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


@pytest.mark.parametrize("build", [race_app, lr_explorer, schedule_explorer])
def test_a_lab_creates_only_the_charts_it_shows(build):
    lab = build()
    shown = set(lab.layout.left) | {n for _, n in lab.layout.tabs}
    assert set(lab.charts) == shown
    lab.close()


def test_timeline_restores_an_earlier_step_exactly():
    lab = race_app(max_steps=500)
    lab.frame(300)
    before = lab.charts["surface"].paths.x.copy()
    lab.timeline.slider.value = 37                          # the user scrubs
    assert_marks_show(lab, 37)
    r = lab.model.selected
    assert "<code>37</code>" in lab.panels["math"].numbers.value
    assert f"{lab.session.history.loss[37, r]:.6g}" in lab.panels["math"].numbers.value
    lab.timeline.slider.value = 300                         # back to the latest
    np.testing.assert_array_equal(lab.charts["surface"].paths.x, before)
    lab.frame(1)                                            # playing follows the latest
    assert_marks_show(lab, 301)


def fields(lab):
    """control description -> its Field (control + own error line)."""
    out = {}

    def walk(w):
        if hasattr(w, "control") and hasattr(w, "errors"):
            out[w.control.description] = w
        for c in getattr(w, "children", ()):
            walk(c)

    walk(lab.widget)
    return out


def test_bad_input_shows_the_error_next_to_its_control_and_keeps_the_state():
    lab = schedule_explorer()
    lab.frame(10)
    snapshot = (lab.model.config(), lab.session.state.params.copy(), lab.session.step)
    f = fields(lab)
    lr = f["lr η (inspected)"]
    old = lr.control.value
    lr.control.value = -1.0
    assert "lr must be in [0, inf); got -1" in lr.errors.widget.value
    assert lr.control.value == old                          # control reverted
    assert lab.model.config() == snapshot[0]
    np.testing.assert_array_equal(lab.session.state.params, snapshot[1])
    assert lab.session.step == snapshot[2]
    wd = f["weight decay λ"]
    wd.control.value = -1.0
    assert "weight_decay" in wd.errors.widget.value and wd.control.value == 0.0
    assert lr.errors.widget.value.count("⚠") == 1           # each error under its control
    lr.control.value = 0.002                                # a good value clears it
    assert lr.errors.widget.value == "" and lab.model.runs[lab.model.selected].lr == 0.002
    assert lab.session.step == 10                           # retuned, not restarted
    race = race_app()
    b2 = fields(race)["Adam β₂"]
    b2.control.value = 1.0
    assert "b2 must be in [0, 1); got 1" in b2.errors.widget.value and b2.control.value == 0.999


def test_the_sweep_range_is_checked_next_to_its_box():
    lab = lr_explorer()
    f = fields(lab)
    f["lr to"].control.value = f["lr from"].control.value / 2
    assert "lr to must be in [" in f["lr to"].errors.widget.value
    f["lr to"].control.value = 10.0                         # a restart, not a relabel
    assert f["lr to"].errors.widget.value == "" and lab.session.step == 0
    np.testing.assert_allclose(lab.session.cfg.runs[-1].lr, 10.0)


def test_click_on_surface_sets_start_and_restarts():
    lab = race_app()
    lab.frame(5)
    overlay = lab.charts["surface"].overlay
    overlay._handle_custom_msgs(None, {"event": "element_click",
                                       "data": {"click_x": 0.5, "click_y": -0.25}})
    assert lab.model.start == (0.5, -0.25) and lab.session.step == 0
    np.testing.assert_array_equal(lab.session.state.params[0], [0.5, -0.25])
    np.testing.assert_array_equal(lab.charts["surface"].start.x, [0.5])


def test_new_problem_restarts_redraws_the_surface_and_the_heading_follows():
    lab = race_app()
    lab.pick_start(0.5, 0.5)                                # a start of its own
    lab.frame(5)
    lab.model.problem = "himmelblau"
    assert lab.session.step == 0
    p = problems.get("himmelblau")
    heat = lab.charts["surface"].heat
    assert heat.x[0] == p.domain[0][0] and heat.x[-1] == p.domain[0][1]
    np.testing.assert_array_equal(lab.charts["surface"].minima.x, p.minima[:, 0])
    assert "Optimizer race on himmelblau" in lab.head.value


def test_divergence_is_explained_in_words():
    lab = lr_explorer()
    lab.frame(400)
    assert "diverged at step" in lab.status.widget.value
    assert "above the stable bound 2/L = 0.1" in lab.status.widget.value


def test_at_most_one_message_per_mark_per_frame_with_8_runs(sends):
    m = SurfaceModel(problem="rosenbrock", runs=[("Adam", 0.01 * (i + 1)) for i in range(8)])
    lab = SurfaceLab(m)
    lab.frame(1)
    for _ in range(20):
        sends.clear()
        lab.frame(1)
        assert sends and max(sends.values()) == 1, sends
    marks = {lab.charts["surface"].paths.model_id, lab.charts["loss"].series.lines.model_id}
    assert marks <= set(sends)


def test_long_run_keeps_display_arrays_bounded():
    m = SurfaceModel(problem="bowl", runs=[("GD", 1e-5)], max_steps=100_000, grad_tol=0.0)
    lab = SurfaceLab(m, tabs=("loss", "norm", "traces"))
    while lab.frame(20_000):
        pass
    assert lab.session.step == 100_000 and len(lab.session.history) == 100_001
    assert lab.charts["surface"].paths.x.shape[-1] <= 2000
    assert lab.charts["loss"].series.lines.x.shape[-1] <= 2000
    assert lab.charts["norm"].series.lines.y.shape[-1] <= 2000
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


# ---- bug 5: colours follow the run

def test_a_kind_keeps_its_colour_in_every_chart_and_across_selections():
    assert len(set(KIND_COLORS.values())) == len(KIND_COLORS) == 10
    seven = race_app()
    three = race_app(optimizers=("GD", "Adam", "NAdam"))
    for lab in (seven, three):
        lab.flush()
        colors = [KIND_COLORS[r.kind] for r in lab.session.cfg.runs]
        assert list(lab.charts["surface"].paths.colors) == colors
        assert list(lab.charts["loss"].series.lines.colors) == colors
        assert list(lab.charts["traces"].series.lines.colors) == [c for c in colors
                                                                  for _ in (0, 1)]
    adam = KIND_COLORS["Adam"]
    assert seven.style().colors[seven.session.cfg.runs.index(Run("Adam", 0.05))] == adam
    assert three.style().colors[1] == adam
    three.model.runs = [Run("Adam", 0.05), Run("GD", 0.001)]  # a new selection, same colour
    assert three.style().colors == (adam, KIND_COLORS["GD"])


def test_a_sweep_colours_by_value_and_its_key_is_a_ramp_when_long():
    six, many = lr_explorer(lr_min=0.01, lr_max=0.1, n=6), lr_explorer(lr_min=0.01,
                                                                      lr_max=0.1, n=12)
    assert six.style().colors[0] == many.style().colors[0]
    assert six.style().colors[-1] == many.style().colors[-1]
    assert "linear-gradient" not in six.charts["loss"].series.key.widget.value
    assert "linear-gradient" in many.charts["loss"].series.key.widget.value
    before = six.style().colors
    six.frame(5)
    six.model.set_lr(0.05, 0)                               # a live change keeps colours
    assert six.style().colors == before


# ---- bug 3: the equations panel prints only what holds

def numbers(latex: str, name: str) -> list[np.ndarray]:
    """The column vectors in the LaTeX line starting with ``name``."""
    line = next(x for x in latex.split("$$") if x.startswith(name) and "pmatrix" in x)
    vecs = re.findall(r"\\begin\{pmatrix\}(.*?)\\end\{pmatrix\}", line)

    def val(s):
        m = re.fullmatch(r"(-?[\d.]+)\\times10\^\{(-?\d+)\}", s)
        return float(m.group(1)) * 10 ** int(m.group(2)) if m else float(s)

    return [np.array([val(s) for s in v.split(r"\\")]) for v in vecs], line


def test_after_a_divergence_the_panel_shows_the_last_step_really_taken():
    lab = lr_explorer()
    lab.frame(400)
    s = lab.session
    r = int(np.flatnonzero(s.state.stop_reason == "diverged")[-1])
    lab.model.selected = r
    lab.flush()
    panel = lab.panels["math"]
    d = int(s.state.stop_step[r])
    h = s.history
    assert f"diverged at step {d}" in panel.head.value
    assert f"The last step really taken was step {d - 1}" in panel.head.value
    (now, prev, g), line = numbers(panel.math.value, r"\theta_t = \theta_{t-1} - \eta")
    lr = float(re.search(r"- ([\d.e\-\\times{}^]+)\\,\\begin", line).group(1)
               .replace(r"\times10^{", "e").replace("}", ""))
    assert lr == pytest.approx(h.lr[d - 1, r], rel=1e-3)
    np.testing.assert_allclose(now, prev - lr * g, rtol=2e-3, atol=1e-3 * np.abs(prev).max())
    np.testing.assert_allclose(now, h.params[d - 1, r], rtol=1e-3)
    assert np.linalg.norm(h.update[d - 1, r]) > 0                 # a real step, ‖u‖ > 0
    assert f"<code>{d - 1}</code>" in panel.numbers.value


def test_the_panel_rules_cover_every_raced_kind_and_only_those():
    from descentlab.engine import kinds
    from descentlab.widgets.surface.panels import RULES
    assert set(RULES) == set(kinds.names())
    lab = race_app(optimizers=("GD", "Adam"))
    rules = lab.panels["math"].rules.value
    assert "<b>GD</b>" in rules and "<b>Adam</b>" in rules and "<b>NAdam</b>" not in rules


def test_adam_panel_numbers_are_the_engines_bias_corrected_moments():
    lab = race_app(optimizers=("NAdam",), max_steps=50)
    lab.frame(10)
    lab.flush()
    ins = lab.session.view().inspect
    assert "m_hat" in ins.quantities and "eff_lr" in ins.quantities
    (now, prev, eff, m_hat), _ = numbers(lab.panels["math"].math.value, r"\theta_t = ")
    np.testing.assert_allclose(now, prev - eff * m_hat, rtol=2e-3, atol=1e-4)


# ---- the learning rate from the slider to the chart

def test_an_lr_slider_retunes_live_builds_once_and_marks_the_change(monkeypatch):
    lab = race_app(optimizers=("GD", "Adam"), max_steps=500)
    lab.frame(85)
    builds = []
    real = config_module.build
    monkeypatch.setattr(config_module, "build", lambda cfg: builds.append(cfg) or real(cfg))
    slider = fields(lab)["η Adam"].control
    slider.value = 0.1
    assert len(builds) == 1                                   # validate once, build once
    assert lab.session.step == 85                             # kept the run
    assert lab.session.labels[1] == "Adam η 0.05→0.1 @85"
    assert "Adam η 0.05→0.1 @85" in lab.charts["loss"].series.key.widget.value
    lab.frame(5)
    lab.flush()                                               # the lr tab too
    events = lab.charts["loss"].series.events
    np.testing.assert_array_equal(np.ravel(events.x), [85, 85])
    lr = np.reshape(lab.charts["lr"].series.lines.y, (2, -1))
    np.testing.assert_array_equal(lr[1, :86], 0.05)           # the past keeps its lr
    np.testing.assert_array_equal(lr[1, 86:], 0.1)
    assert len(builds) == 1


def test_the_speed_chart_is_empty_until_a_run_reaches_the_tolerance():
    lab = race_app(problem="bowl", optimizers=("GD", "Adam"), lrs={"GD": 0.1}, max_steps=400)
    lab.flush()
    bars = lab.charts["speed"].bars
    assert list(bars.x) == [] and np.size(bars.y) == 0
    while lab.frame(10) and (lab.session.view().hits < 0).all():
        pass
    lab.flush()
    hits = lab.session.view().hits
    assert len(bars.x) == int((hits >= 0).sum()) >= 1
    np.testing.assert_array_equal(bars.y, hits[hits >= 0])


def test_the_surface_key_is_beside_the_figure_never_on_it():
    lab = race_app()
    chart = lab.charts["surface"]
    assert chart.widget.children[0] is chart.figure
    assert not any(getattr(m, "display_legend", False) for m in chart.figure.marks)


def test_a_schedule_change_after_max_steps_reruns_and_says_so():
    lab = schedule_explorer(schedule="one_cycle", max_steps=60)
    while lab.frame(20):
        pass
    before = lab.session.history.params.copy()
    lab.model.schedule = "cosine_restarts"
    assert lab.session.step == 60 and not np.array_equal(lab.session.history.params, before)
    assert "re-ran from step 0 under the new schedule" in lab.status.widget.value
    assert_marks_show(lab, 60)


def test_convergence_criteria_controls_stop_runs_and_the_stop_is_stated():
    lab = race_app(problem="bowl", optimizers=("GD",), lrs={"GD": 0.1}, max_steps=5000)
    fields(lab)["‖∇L‖ tolerance"].control.value = 1e-6
    while lab.frame(200):
        pass
    t = int(lab.session.state.stop_step[0])
    assert f"stopped at step {t}: ‖∇L‖" in lab.status.widget.value


def test_bad_values_never_raise_into_the_frontend():
    lab = race_app()
    with pytest.raises(T.TraitError):
        lab.model.set_lr(-1)
    lab.pick_start(float("nan"), 0.0)
    assert "start must be a finite point" in lab.errors.widget.value


def test_the_schedule_chart_draws_the_lr_used_and_dashed_the_schedule_ahead():
    from descentlab.engine import schedules
    lab = schedule_explorer(schedule="cosine", lr=0.05, max_steps=200)
    lab.frame(50)
    lab.model.set_lr(0.1, 0)                                 # live: an event at step 50
    lab.frame(10)
    lab.flush()
    chart = lab.charts["lr"]
    used = np.reshape(chart.series.lines.y, (2, -1))
    np.testing.assert_array_equal(used, lab.session.history.lr.T)
    np.testing.assert_array_equal(np.ravel(chart.plan.x)[:2], [51, 52])
    ahead = schedules.get("cosine", lr=np.array([0.1, 0.0125]), T_max=200)(np.arange(50, 200))
    np.testing.assert_allclose(np.reshape(chart.plan.y, (2, -1)), ahead, rtol=1e-15)
    np.testing.assert_allclose(used[0, 51:61], ahead[0, :10], rtol=1e-15)


def test_the_surface_lesson_and_formula_follow_the_surface():
    from descentlab.widgets.surface.landscape_notes import lesson
    lab = race_app()
    assert lesson("rosenbrock") in lab.lesson.value
    assert problems.get("rosenbrock").latex in lab.lesson.value
    lab.model.problem = "saddle"
    assert lesson("saddle")[:40] in lab.lesson.value


@pytest.mark.parametrize("build, scenes", [
    (race_app, ("saddle-escape", "adam-vs-adamw", "lr-too-large", "two-minima")),
    (lr_explorer, ("below-2-over-L", "kappa-100", "above-2-over-L")),
    (schedule_explorer, ("cosine", "one-cycle", "step-decay", "plateau")),
])
def test_every_course_scene_applies_twice_the_same(build, scenes):
    lab = build()
    assert tuple(lab.scenes()) == scenes
    for name in scenes:
        lab.apply_scene(name)
        first = lab.model.config()
        lab.apply_scene(name)
        assert lab.errors.message == "" and lab.model.config() == first
        assert lab.session.step == 0 and lab.session.cfg == first
        assert lab.scene_note in lab.status.messages
    lab.close()


def test_the_scenes_say_what_the_course_says():
    lab = lr_explorer()
    lab.apply_scene("above-2-over-L")
    while lab.frame(500):
        pass
    assert "GD η 0.101 diverged at step 585" in lab.status.widget.value
    lab.apply_scene("below-2-over-L")
    while lab.frame(500):
        pass
    assert 400 < lab.session.view().hits[0] < 500                 # "about 450 steps"
    race = race_app()
    race.apply_scene("lr-too-large")
    race.frame(10)
    assert "Momentum η 0.005 diverged at step 4" in race.status.widget.value
    sched = schedule_explorer()
    sched.apply_scene("cosine")
    sched.frame(101)
    assert sched.session.history.lr[101, 0] == pytest.approx(0.025)  # half the peak
