"""The models lab plays: the point put by hand is the start, play / step / → take
gradient-descent steps on the hand plane with the learning-rate control (default SGD's
1e-2), a live η change is an event (label, history, CSV), a stop is said in words."""

import io

import numpy as np
import pytest

from descentlab.engine import kinds


def by_hand_grad(ds, w, b):
    x, y = ds.X_train[:, 0], ds.y_train
    r = w * x + b - y
    return np.array([2 * np.mean(r * x), 2 * np.mean(r)])


def test_the_learning_rate_is_a_log_slider_at_the_fields_sgd_default(lab):
    slider = lab.lr_field.control
    assert type(slider).__name__ == "FloatLogSlider" and slider.base == 10
    assert lab.model.lr == kinds.FIELD_LR["GD"] == 1e-2 and slider.value == 1e-2
    slider.value = 0.1
    assert lab.model.lr == pytest.approx(0.1)


def test_a_step_is_gradient_descent_from_the_point_put_by_hand(lab):
    ds = lab.model.built.dataset
    lab.move((1.5, -0.5))
    assert lab.session.step == 0
    lab.step()
    v = lab.session.view(1)
    g0 = by_hand_grad(ds, 1.5, -0.5)
    np.testing.assert_allclose(v.point, np.array([1.5, -0.5]) - 0.01 * g0, rtol=1e-12)
    np.testing.assert_allclose(v.grad, by_hand_grad(ds, *v.point), rtol=1e-12)
    np.testing.assert_allclose(v.path, [[1.5, -0.5], v.point])
    lab.flush()
    sl = lab.charts["slice"]
    assert sl.point.x.tolist() == [v.point[0]]                 # the point moved ...
    np.testing.assert_allclose(np.asarray(sl.path.x), v.path[:, 0])
    fit = lab.charts["fit"].fit                                 # ... and so did the fit
    np.testing.assert_allclose(np.ravel(fit.y), v.point[0] * np.asarray(fit.x) + v.point[1],
                               rtol=1e-12)
    assert [s.value for s in lab.sliders] == [1.5, -0.5]      # the sliders hold the start
    text = lab.panels["numbers"].widget.value                 # the step that was taken
    assert "step 1" in text and "0.01" in text


def test_keyboard_and_step_counter_come_from_the_base(lab):
    lab.keys.press("ArrowRight")
    lab.keys.press("ArrowRight")
    assert lab.session.step == 2 and "step 2 / 200" in lab.counter.value
    assert "descentlab-step" in lab.counter._dom_classes
    lab.keys.press("ArrowLeft")
    assert lab.shown == 1 and lab.charts["slice"].point.x.tolist() == [
        lab.session.view(1).point[0]]
    lab.keys.press("r")
    assert lab.session.step == 0


def test_frames_descend_and_moving_the_start_restarts_there(lab):
    lab.move((2.0, 2.0))
    lab.frame(30)
    loss = lab.session.history.records.loss[:, 0]
    assert lab.session.step == 30 and np.all(np.diff(loss) < 0)
    lab.sliders[0].value = -0.5                                # a new start: a new run
    assert lab.session.step == 0
    np.testing.assert_array_equal(lab.session.view(0).point, [-0.5, 2.0])
    lab.frame(3)
    assert lab.session.view(3).path[0].tolist() == [-0.5, 2.0]


def test_a_live_learning_rate_change_is_an_event_in_label_history_and_csv(lab):
    ds = lab.model.built.dataset
    lab.move((1.0, 1.0))
    lab.frame(3)
    p3 = lab.session.view(3).point
    lab.model.lr = 0.1
    assert lab.session.step == 3                               # the run goes on
    (e,) = lab.session.history.events
    assert (e.step, e.param, e.old, e.new) == (3, "lr", 0.01, 0.1)
    lab.step()
    np.testing.assert_allclose(lab.session.view(4).point, p3 - 0.1 * by_hand_grad(ds, *p3),
                               rtol=1e-12)
    assert lab.session.view(4).label == "GD η 0.01→0.1 @3"
    assert lab.session.view(2).label == "GD η 0.01"           # the past is not relabelled
    lab.flush()
    assert "GD η 0.01→0.1 @3" in lab.charts["slice"].key.widget.value
    assert any("changed live 0.01 → 0.1" in m for m in lab.status.messages)
    text = lab.export.text()
    rows = text.strip().split("\n")
    assert rows[0].split(",")[:3] == ["step", "w[x]", "b"] and len(rows) == 6
    assert "lr: 0.01 -> 0.1" in rows[4]
    buf = io.StringIO()
    lab.session.history.to_csv(buf)
    assert buf.getvalue() == text


def test_divergence_is_said_and_the_panel_shows_the_last_step_really_taken(lab):
    lab.move((1.0, 1.0))
    lab.model.lr = 5.0
    more = lab.frame(200)
    s = lab.session
    assert not more and s.state.stop_reason[0] == "diverged"
    lab.flush()
    msg = " ".join(lab.status.messages)
    assert "diverged at step" in msg and "η = 5" in msg and "lower η" in msg
    v = s.view(s.step)
    assert np.all(np.isfinite(v.point))
    text = lab.panels["numbers"].widget.value
    assert f"step {s.step}" in text and "nan" not in text.lower().replace("nan(", "")


def test_after_the_step_limit_the_lab_says_so_and_a_new_rate_reruns(lab):
    lab.model.steps = 3
    assert not lab.frame(10) and lab.session.step == 3
    assert any("step limit 3" in m and "reset" in m for m in lab.status.messages)
    lab.model.lr = 0.05                                        # finished: runs again
    assert lab.session.step == 0 and lab.session.lr == 0.05
    assert list(lab.session.history.events) == []


def test_an_edit_restarts_once_and_validates_once(lab, monkeypatch):
    from descentlab.widgets.models import build as B
    calls = {"plane": 0, "build": 0, "restart": 0}
    for name in ("plane", "build"):
        orig = getattr(B, name)
        monkeypatch.setattr(B, name, lambda *a, _o=orig, _n=name, **k: (
            calls.__setitem__(_n, calls[_n] + 1), _o(*a, **k))[1])
    orig_restart = lab.session.restart
    monkeypatch.setattr(lab.session, "restart", lambda cfg: (
        calls.__setitem__("restart", calls["restart"] + 1), orig_restart(cfg)))
    lab.data_box.value = "moons"                # data, model, pair and start all change
    assert calls == {"plane": 1, "build": 1, "restart": 1}
    lab.sliders[0].value = 0.5                  # within the slice: nothing rebuilt
    assert calls == {"plane": 1, "build": 1, "restart": 2}


def test_every_scene_applies_and_the_course_scenes_say_what_the_course_says(lab, applies):
    for name in lab.scenes():
        applies(lab, name)
    lab.apply_scene("diverge")
    lab.frame(500)
    assert lab.session.state.stop_reason[0] == "diverged"
    lab.apply_scene("logistic")
    lab.apply_scene("linear-fit")                # back from moons: the start is the scene's
    assert lab.model.dataset == "linear" and lab.session.cfg.start == (-2.0, 2.5)
    assert lab.model.lr == 1e-2
    lab.apply_scene("logistic")
    v = lab.session.view(0)
    assert lab.model.dataset == "moons" and lab.model.rest == "zero"
    assert not v.theta.any()
    assert v.values["train_log_loss"] == pytest.approx(np.log(2))
    assert v.values["val_log_loss"] == pytest.approx(np.log(2))
    lab.apply_scene("softmax")
    v = lab.session.view(0)
    assert lab.model.dataset == "blobs" and not v.theta.any()
    assert v.values["train_loss"] == pytest.approx(np.log(3))


def test_the_loss_chart_draws_the_run_and_marks_the_live_change(lab):
    lab.move((1.0, 1.0))
    lab.frame(3)
    lab.model.lr = 0.1
    lab.frame(2)
    chart = lab.charts["loss"].series
    h = lab.session.history.records
    np.testing.assert_array_equal(np.ravel(chart.lines.x), np.arange(6))
    np.testing.assert_allclose(np.ravel(chart.lines.y), h.loss[:, 0])
    np.testing.assert_array_equal(np.ravel(chart.events.x), [3.0, 3.0])
    assert "GD η 0.01→0.1 @3" in chart.key.widget.value
    lab.keys.press("ArrowLeft")
    lab.keys.press("ArrowLeft")
    lab.keys.press("ArrowLeft")                     # step 2: before the change
    assert np.isnan(np.asarray(chart.events.x, float)).all()
    assert "GD η 0.01</span>" in chart.key.widget.value


def test_after_divergence_the_panel_shows_the_last_step_really_taken_and_why(lab):
    lab.move((1.0, 1.0))
    lab.model.lr = 5.0
    lab.frame(500)
    s = lab.session
    t = int(s.state.stop_step[0])
    v = s.view(s.step)
    h = s.history.records
    assert v.taken == t - 1 and f"step {t} was not taken" in v.stop
    np.testing.assert_allclose(v.eq_point, v.eq_prev - v.eq_lr * v.eq_grad, rtol=1e-9)
    np.testing.assert_array_equal(v.eq_point, h.params[t - 1, 0])
    lab.flush()
    text = lab.panels["numbers"].widget.value
    assert f"step {t - 1} (the last step taken" in text and f"step {t} was not taken" in text


def test_the_equation_holds_at_every_step_of_a_long_run(lab):
    lab.model.steps = 5000
    lab.move((2.0, -2.0))
    lab.frame(3000)                                   # the path is decimated; the step is not
    v = lab.session.view(2999)
    h = lab.session.history.records
    np.testing.assert_array_equal(v.eq_prev, h.params[2998, 0])
    np.testing.assert_allclose(v.eq_point, v.eq_prev - 0.01 * v.eq_grad, rtol=1e-12)


def test_a_frame_sends_at_most_one_message_per_widget(lab, sends):
    lab.frame(1)
    sends.clear()
    lab.frame(1)
    assert sends and max(sends.values()) == 1
    events = lab.charts["loss"].series.events
    assert events.model_id not in sends                # no live change: rules not resent
