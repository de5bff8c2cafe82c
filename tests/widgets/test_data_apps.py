"""Data apps headless: marks equal the engine's TrainHistory (after decimation), timeline,
error line with the last good state kept, messages per frame, one live task."""

import asyncio
import base64
import re

import numpy as np
import pytest

from descentlab.widgets import (
    batch_size_explorer,
    display_indices,
    early_stopping_trainer,
    regularization_explorer,
    tuning_board,
)

APPS = [batch_size_explorer, early_stopping_trainer, regularization_explorer]


def eq(mark, expected):
    expected = np.asarray(expected, dtype=float)
    np.testing.assert_allclose(np.reshape(np.asarray(mark, dtype=float), expected.shape),
                               expected, rtol=0, atol=0, equal_nan=True)


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
        h_params = h.params[min(step, len(h) - 1)]
        np.testing.assert_array_equal(s.params.data[step][list(g.index)], h_params)
    if "loss" in names:
        eq(lab.charts["loss"].lines.x, idx)
        eq(lab.charts["loss"].lines.y, np.maximum(loss, 1e-16).T)
    if "loss_epoch" in names:
        eq(lab.charts["loss_epoch"].lines.x,
           np.where(np.isfinite(loss.T), idx / s.per_epoch[:, None], np.nan))
    if "epochs" in names:
        y = np.reshape(lab.charts["epochs"].lines.y, (2 * R, -1))
        for g, h in zip(s.groups, s.histories, strict=True):
            keep = h.epoch_iteration <= step
            val = h.metric("val_loss")[keep]
            for j, r in enumerate(g.index):
                eq(y[2 * r + 1, : len(val)], val[:, j])
    if "data" in names:
        chart = lab.charts["data"]
        if chart.mode == "curve":
            P = s.params.data[step]
            yhat = s.groups[0].model.predict(P, s.features(chart.xs))
            eq(chart.fits.y, yhat)
    assert lab.timeline.value == step and lab.timeline.max == max(s.step, s.horizon)


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
    np.testing.assert_allclose(lab.session.params.data[6][1], theta, rtol=1e-12)
    x, y = lab.charts["data"].fit_lines(lab.session.view())
    np.testing.assert_allclose(y[1], theta[0] * x + theta[1], rtol=1e-12)


def test_metrics_panel_equals_sklearn():
    skm = pytest.importorskip("sklearn.metrics")
    lab = batch_size_explorer(batch_sizes=(8, 32))
    lab.frame(12)
    lab.flush()
    ds, P = lab.session.dataset, lab.session.params.data[12]
    v = lab.metrics.values
    for r in range(2):
        pred = ds.X_val[:, 0] * P[r, 0] + P[r, 1]
        assert v["val_mse"][r] == pytest.approx(skm.mean_squared_error(ds.y_val, pred), 1e-12)
        assert v["val_mae"][r] == pytest.approx(skm.mean_absolute_error(ds.y_val, pred), 1e-12)
        assert v["val_r2"][r] == pytest.approx(skm.r2_score(ds.y_val, pred), 1e-12)
    assert "MSE" in lab.metrics.widget.value and "iteration 12" in lab.metrics.widget.value


def test_classification_accuracy_and_boundary():
    skm = pytest.importorskip("sklearn.metrics")
    lab = batch_size_explorer(dataset="moons", batch_sizes=(16, 64), lr=0.5)
    lab.frame(40)
    lab.flush()
    ds, P = lab.session.dataset, lab.session.params.data[40]
    chart = lab.charts["data"]
    assert chart.mode == "boundary"
    x, y = chart.fit_lines(lab.session.view())
    for r in range(2):
        pts = np.stack([x[r], y[r]], axis=1)
        pts = pts[np.isfinite(pts).all(axis=1)]
        assert len(pts) > 10
        np.testing.assert_allclose(pts @ P[r, :2] + P[r, 2], 0.0, atol=1e-6 * np.abs(P[r]).sum()
                                   + 1e-9)
        pred = (ds.X_val @ P[r, :2] + P[r, 2] > 0).astype(int)
        assert lab.metrics.values["val_accuracy"][r] == skm.accuracy_score(ds.y_val, pred)


def test_timeline_restores_an_earlier_step():
    lab = early_stopping_trainer()
    lab.frame(60)
    lab.timeline.value = 17
    assert_marks_show(lab, 17)
    lab.flush()
    assert "iteration 17" in lab.metrics.widget.value
    lab.timeline.value = 60
    assert_marks_show(lab, 60)


def test_minibatch_surface_gradients():
    lab = batch_size_explorer(batch_sizes=(8, 32))
    lab.frame(5)
    tab = lab.widget.children[1].children[-1]
    assert tab.get_title(2) == "mini-batch surface" and "surface" in lab.hidden
    tab.selected_index = 2                    # its tab selected: drawn up to date
    assert "surface" not in lab.hidden
    s, surf = lab.session, lab.charts["surface"]
    full, batch, rows = surf.gradients(s, 5, 0)
    ds, P = s.dataset, s.params.data[5]
    X = np.hstack([ds.X_train, np.ones((len(ds.y_train), 1))])
    by_hand = (2.0 / len(ds.y_train)) * (X @ P.T - ds.y_train[:, None]).T @ X
    np.testing.assert_allclose(full, by_hand, rtol=1e-12)
    Xb, yb = X[rows], ds.y_train[rows]
    assert len(rows) == 8
    np.testing.assert_allclose(batch, (2.0 / 8) * (Xb @ P.T - yb[:, None]).T @ Xb, rtol=1e-12)
    # the batch the engine drew at iteration 5 is the one highlighted
    h = s.histories[0]
    assert h.params.shape[0] == 6
    heat = surf.panels[1]["heat"].color
    ws, bs = surf.panels[1]["heat"].x, surf.panels[1]["heat"].y
    Wg, Bg = np.meshgrid(ws, bs)
    L = np.mean((Wg[..., None] * Xb[:, 0] + Bg[..., None] - yb) ** 2, axis=-1)
    np.testing.assert_allclose(heat, np.log10(L + 1e-3), rtol=1e-10)


@pytest.mark.parametrize("text", ["0", "8, 0", "8, 100000", "eight"])
def test_bad_batch_sizes_show_the_error_and_keep_state(text):
    lab = batch_size_explorer()
    lab.frame(7)
    before = (lab.model.runs, lab.session.step, lab.session.params.data.copy())
    box = lab.widget.children[1].children[0].children[0]
    assert box.description == "batch sizes"
    box.value = text
    assert "batch" in lab.errors.message
    if text != "eight":
        assert re.search(r"batch_size must be an integer in \[1, \d+\]", lab.errors.message)
    assert lab.model.runs == before[0] and lab.session.step == before[1]
    np.testing.assert_array_equal(lab.session.params.data, before[2])
    assert box.value == ", ".join(str(r[2]) for r in before[0])
    box.value = "4, 16"
    assert lab.errors.message == "" and [r[2] for r in lab.model.runs] == [4, 16]


def test_negative_lr_shows_the_engine_message():
    lab = early_stopping_trainer()
    lab.frame(3)
    lr_box = next(w for w in lab.widget.children[1].children[0].children
                  if getattr(w, "description", "") == "learning rate η")
    lr_box.value = -1.0
    assert lab.errors.message == "lr must be in [0, inf); got -1"
    assert lab.session.step == 3 and lr_box.value == lab.model.runs[0][1]


def test_malformed_csv_keeps_the_last_good_dataset():
    lab = batch_size_explorer()
    from descentlab.widgets.data_apps import _upload
    _upload(lab)
    before = lab.session.dataset
    lab.upload({"new": [{"name": "bad.csv", "content": b"x,y\n1,2\n2,oops\n3,4\n4,5\n5,6\n6,7"}]})
    assert "row" in lab.errors.message and "y" in lab.errors.message
    assert lab.session.dataset is before
    rows = "x,y\n" + "\n".join(f"{i},{2 * i + 1}" for i in range(400))
    lab.upload({"new": [{"name": "good.csv", "content": rows.encode()}]})
    assert lab.errors.message == "" and lab.session.dataset.name == "good.csv"
    assert lab.session.N == 320 and lab.session.step == 0


def test_divergence_is_explained_in_words():
    lab = batch_size_explorer(batch_sizes=(8,), lr=50.0)
    lab.frame(30)
    status = lab.status.widget.value
    assert "diverged at iteration" in status and "too large" in status


def test_early_stopping_explains_the_stop_and_marks_the_best_epoch():
    lab = early_stopping_trainer(lrs=(0.05,), patience=5, epochs=400)
    while lab.frame(200):
        pass
    s = lab.session
    h = s.histories[0]
    assert h.stop_reason[0] == "early_stopping"
    best = int(h.best_epoch[0])
    val = h.metric("val_loss")[:, 0]
    assert val[best] == val[1:].min() or best == int(np.argmin(val[1:]) + 1)
    assert f"best epoch {best}" in lab.status.widget.value and "restored" in lab.status.widget.value
    bx, by = lab.charts["epochs"].best.x, lab.charts["epochs"].best.y
    assert bx[0] == best and by[0] == val[best]
    np.testing.assert_array_equal(s.params.data[-1][0], h.epoch_params[best][0])


def test_csv_export_has_every_epoch_of_every_run():
    lab = regularization_explorer()
    lab.frame(30)
    lab.export.refresh()
    b64 = re.search(r"base64,([^\"]+)", lab.export.link.value).group(1)
    text = base64.b64decode(b64).decode()
    rows = text.strip().split("\n")
    E = len(lab.session.histories[0].epoch_index)
    assert len(rows) - 1 == 3 * E and rows[0].startswith("epoch,iteration,run,label")


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
    slider = next(w for w in lab.widget.children[1].children[0].children
                  if getattr(w, "description", "") == "λ")
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
    assert lab.model.runs[1][3] == pytest.approx(slider.value)


def test_tuning_board_table_chart_and_csv():
    tb = tuning_board()
    assert tb.result is None                       # nothing trained at build
    for method in tb.METHODS:
        tb.method.value = method
        tb.run()
        rows = tb.result.rows()
        scores = [r["score"] for r in rows if r["rung"] == rows[0]["rung"]]
        assert scores == sorted(scores)
        log = tb.result.log
        np.testing.assert_array_equal(tb.points.x, [r["lr"] for r in log])
        text = base64.b64decode(re.search(r"base64,([^\"]+)", tb.link.value).group(1)).decode()
        assert len(text.strip().split("\n")) == len(log) + 1
    tb.lr_lo.value = -1
    tb.widget.children[1].children[0].children[-1].click()
    assert "lr range" in tb.errors.message and len(tb.result.log) == len(log)
