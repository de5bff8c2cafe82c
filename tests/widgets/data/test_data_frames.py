"""Data apps headless: the marks equal the engine's TrainHistory (after decimation), the
timeline, metrics equal sklearn, fits and boundaries, the mini-batch surface from the
engine's batch rows and gradients, messages per frame, one live task."""

import asyncio
import base64
import re

import numpy as np
import pytest

from descentlab.widgets.core.decimate import display_indices
from descentlab.widgets.data import (
    batch_size_explorer,
    early_stopping_trainer,
    high_dimensions_explorer,
    regularization_explorer,
)
from descentlab.widgets.ui.figures import ChartTabs, log_color

APPS = [batch_size_explorer, early_stopping_trainer, regularization_explorer,
        high_dimensions_explorer]


def eq(mark, expected):
    """The mark holds ``expected`` exactly; one more column at the end is the closing point
    ``figures.drawable`` adds when a line ends on NaN (each line's last finite point
    again: bqplot places a line's label at its last point), so it is left out."""
    expected = np.asarray(expected, dtype=float)
    got = np.asarray(mark, dtype=float)
    if got.ndim and expected.ndim and got.shape[-1] == expected.shape[-1] + 1:
        got = got[..., :-1]
    np.testing.assert_allclose(np.reshape(got, expected.shape),
                               expected, rtol=0, atol=0, equal_nan=True)


def find_tab(widget):
    """The lab's Tab of charts."""
    if isinstance(widget, ChartTabs):
        return widget
    for child in getattr(widget, "children", ()):
        found = find_tab(child)
        if found is not None:
            return found
    return None


def decimated(step):
    idx = display_indices(step + 1)
    return np.repeat(idx, 2) if len(idx) == 1 else idx


def assert_marks_show(lab, step):
    """Loss lines, epoch lines and fits are the groups' TrainHistory rows up to ``step``:
    the charts drawn per frame as they are, then (after ``flush``) those in hidden tabs."""
    _assert_charts_show(lab, step, set(lab.charts) - lab.hidden)
    lab.flush()
    _assert_charts_show(lab, step, set(lab.charts))


def _assert_charts_show(lab, step, names):
    s = lab.session
    idx = decimated(step)
    R = len(s.cfg.runs)
    loss = np.full((len(idx), R), np.nan)
    for g, h in zip(s.groups, s.histories, strict=True):
        ok = idx < len(h)
        loss[np.ix_(ok, list(g.index))] = h.train_loss[idx[ok]]
        np.testing.assert_array_equal(s.view(step).params[list(g.index)],
                                      h.params[min(step, len(h) - 1)])
    if "loss" in names:
        eq(lab.charts["loss"].chart.lines.x, idx)
        eq(lab.charts["loss"].chart.lines.y, loss.T)
    if "loss_epoch" in names:
        eq(lab.charts["loss_epoch"].chart.lines.x,
           np.where(np.isfinite(loss.T), idx / s.per_epoch[:, None], np.nan))
    if "epochs" in names:
        y = np.reshape(lab.charts["epochs"].chart.lines.y, (2 * R, -1))
        for g, h in zip(s.groups, s.histories, strict=True):
            keep = h.epoch_iteration <= step
            val = h.metric("val_loss")[keep]
            for j, r in enumerate(g.index):
                eq(y[2 * r + 1, : len(val)], val[:, j])
    if "data" in names:
        chart = lab.charts["data"]
        if chart.mode == "curve":
            P = s.view(step).params
            yhat = s.groups[0].model.predict(P, s.built.prepared.features)
            eq(chart.fits.y, yhat)
    t = lab.timeline.slider
    assert t.value == step and t.max == max(s.step, s.horizon)


@pytest.mark.parametrize("build", APPS)
def test_apps_build_paused_and_frames_match_history(build):
    lab = build()
    assert lab.session.step == 0 and not lab.player.playing and lab.player.task is None
    assert_marks_show(lab, 0)
    assert "application/vnd.jupyter.widget-view+json" in lab._repr_mimebundle_()
    for k in (1, 4, 30):
        lab.frame(k)
    assert lab.session.step == 35
    assert_marks_show(lab, 35)
    lab.close()


def test_full_batch_run_is_gradient_descent_by_hand():
    """The B = N run equals plain GD on the MSE, derived here by hand (not the engine)."""
    lab = batch_size_explorer(batch_sizes=(8, None), lr=0.1)
    lab.frame(6)
    ds = lab.session.dataset
    X = np.hstack([ds.X_train, np.ones((len(ds.y_train), 1))])
    theta = np.zeros(2)
    for _ in range(6):
        theta = theta - 0.1 * (2.0 / len(ds.y_train)) * X.T @ (X @ theta - ds.y_train)
    view = lab.session.view()
    np.testing.assert_allclose(view.params[1], theta, rtol=1e-12)
    x, y = lab.charts["data"].fit_lines(view)
    np.testing.assert_allclose(y[1], theta[0] * x + theta[1], rtol=1e-12)


def test_metrics_panel_equals_sklearn():
    skm = pytest.importorskip("sklearn.metrics")
    lab = batch_size_explorer(batch_sizes=(8, 32))
    lab.frame(12)
    lab.flush()
    ds, P = lab.session.dataset, lab.session.view(12).params
    v = lab.panels["metrics"].values
    for r in range(2):
        pred = ds.X_val[:, 0] * P[r, 0] + P[r, 1]
        assert v["val_mse"][r] == pytest.approx(skm.mean_squared_error(ds.y_val, pred), 1e-12)
        assert v["val_mae"][r] == pytest.approx(skm.mean_absolute_error(ds.y_val, pred), 1e-12)
        assert v["val_r2"][r] == pytest.approx(skm.r2_score(ds.y_val, pred), 1e-12)
    html = lab.panels["metrics"].widget.value
    assert "MSE" in html and "iteration 12" in html


def test_classification_accuracy_boundary_and_class_colours():
    skm = pytest.importorskip("sklearn.metrics")
    lab = batch_size_explorer(dataset="moons", batch_sizes=(16, 64), lr=0.5)
    lab.frame(40)
    lab.flush()
    ds, view = lab.session.dataset, lab.session.view()
    P = view.params
    chart = lab.charts["data"]
    assert chart.mode == "boundary"
    x, y = chart.fit_lines(view)
    for r in range(2):
        pts = np.stack([x[r], y[r]], axis=1)
        pts = pts[np.isfinite(pts).all(axis=1)]
        assert len(pts) > 10
        # on the boundary p(y=1|x) = 1/2: the logit w.x + b = 0
        np.testing.assert_allclose(pts @ P[r, :2] + P[r, 2], 0.0,
                                   atol=1e-6 * np.abs(P[r]).sum() + 1e-9)
        pred = (ds.X_val @ P[r, :2] + P[r, 2] > 0).astype(int)
        assert lab.panels["metrics"].values["val_accuracy"][r] == \
            skm.accuracy_score(ds.y_val, pred)
    # classes are coloured (Okabe-Ito), never grey, and the key says which is which
    cols = set(chart.train.colors)
    assert cols == {"#E69F00", "#56B4E9"}
    assert "class 0" in chart.points_key.widget.value and "validation" in \
        chart.points_key.widget.value


def test_timeline_restores_an_earlier_step():
    lab = early_stopping_trainer()
    lab.frame(60)
    lab.timeline.slider.value = 17
    assert_marks_show(lab, 17)
    assert "iteration 17" in lab.panels["metrics"].widget.value
    lab.timeline.slider.value = 60
    assert_marks_show(lab, 60)


def test_minibatch_surface_uses_the_engines_batch_and_gradients():
    lab = batch_size_explorer(batch_sizes=(8, 32))
    lab.frame(5)
    tab = find_tab(lab.widget)
    titles = [tab.get_title(i) for i in range(len(tab.stack.children))]
    i = titles.index("mini-batch surface")
    assert "surface" in lab.hidden
    tab.selected_index = i                     # its tab selected: drawn up to date
    assert "surface" not in lab.hidden
    s = lab.session
    view = s.view(5)
    sv = view.surface
    ds = s.dataset
    rows = s.histories[0].batch_rows[5, 0]
    rows = rows[rows >= 0]
    np.testing.assert_array_equal(sv.rows, rows)       # the batch the engine drew
    assert len(rows) == 8
    P = s.histories[0].params[4]                        # theta_{t-1}
    np.testing.assert_array_equal(sv.point[0], P[0])
    X = np.hstack([ds.X_train, np.ones((len(ds.y_train), 1))])
    full = (2.0 / len(ds.y_train)) * (X @ P[0] - ds.y_train) @ X
    np.testing.assert_allclose(sv.full_grad[0], full, rtol=1e-12)
    Xb, yb = X[rows], ds.y_train[rows]
    np.testing.assert_allclose(sv.batch_grad[0], (2.0 / 8) * (Xb @ P[0] - yb) @ Xb,
                               rtol=1e-12)
    heat = lab.charts["surface"].panels[1]["heat"]
    Wg, Bg = np.meshgrid(heat.x, heat.y)
    L = np.mean((Wg[..., None] * Xb[:, 0] + Bg[..., None] - yb) ** 2, axis=-1)
    np.testing.assert_allclose(sv.loss, L, rtol=1e-10)            # the engine's loss
    np.testing.assert_allclose(heat.color, log_color(L), rtol=1e-10)   # drawn scaled
    # the ring on the data chart is the same batch
    eq(lab.charts["data"].batch.x, ds.X_train[rows, 0])


def test_csv_export_has_every_epoch_of_every_run():
    lab = regularization_explorer()
    lab.frame(30)
    lab.export.refresh()
    b64 = re.search(r"base64,([^\"]+)", lab.export.link.value).group(1)
    text = base64.b64decode(b64).decode()
    rows = text.strip().split("\n")
    E = sum(len(h.epoch_index) * len(g.index)
            for g, h in zip(lab.session.groups, lab.session.histories, strict=True))
    assert len(rows) - 1 == E and rows[0].startswith("epoch,iteration,run,label")


async def test_at_most_one_message_per_widget_per_frame(sends):
    lab = batch_size_explorer()
    lab.frame(3)
    for _ in range(5):
        sends.clear()
        lab.frame(1)
        sent = dict(sends)
        await asyncio.sleep(0)
        assert sent and max(sent.values()) <= 1
    lab.close()


async def test_hammer_of_control_changes_leaves_one_task():
    lab = regularization_explorer()
    lab.player.fps = 120
    lab.player.play()
    slider = lab.boxes["lam"].control
    for i in range(300):
        slider.value = 10 ** (-4 + 2 * (i % 17) / 16)
        if i % 50 == 0:
            lab.player.pause()
            lab.player.play()
        if i % 10 == 0:
            await asyncio.sleep(0)
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()
             and "Player._run" in repr(t.get_coro())]
    assert len(tasks) == 1 and lab.player.task is tasks[0]
    lab.close()
    await asyncio.sleep(0)
    assert lab.model.runs[1].l2 == pytest.approx(slider.value)
    assert lab.model.runs[2].weight_decay == pytest.approx(slider.value)
