"""models_lab headless: marks, loss and metrics at hand-set (w, b) equal the engine / sklearn /
formulas computed here; gradient check; dataset and model switches; CSV upload the way
ipywidgets 8 delivers it; error line keeps the last good state; messages per change."""

import asyncio
import datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from descentlab.engine import metrics, models
from descentlab.widgets import models_lab

skm = pytest.importorskip("sklearn.metrics")


@pytest.fixture(scope="module")
def lab():
    return models_lab()


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def central_diff(f, theta, h=1e-6):
    g = np.zeros_like(theta)
    for d in range(len(theta)):
        e = np.zeros_like(theta)
        e[d] = h
        g[d] = (f(theta + e) - f(theta - e)) / (2 * h)
    return g


def upload_value(content: bytes, name: str):
    """FileUpload.value as ipywidgets 8 holds it after a browser upload."""
    return ({"name": name, "type": "text/csv", "size": len(content),
             "last_modified": datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
             "content": memoryview(content)},)


def test_builds_static_at_zero_with_the_engine_surface(lab):
    ds = lab.dataset
    assert lab.model.name == "linear_regression" and lab.pair == (0, 1)
    assert lab.theta.tolist() == [0.0, 0.0]
    assert [s.value for s in lab.sliders] == [0.0, 0.0]
    assert "application/vnd.jupyter.widget-view+json" in lab._repr_mimebundle_()
    ws, bs, Z = models.loss_grid(lab.model, ds.X_train, ds.y_train, *lab.ranges, n=60)
    np.testing.assert_array_equal(lab.slice_view.heat.x, ws)
    np.testing.assert_array_equal(lab.slice_view.heat.y, bs)
    np.testing.assert_array_equal(lab.slice_view.Z, Z)
    # a slice row at fixed b is the MSE of the line w x + b (sklearn)
    a = 17
    for c in (0, 29, 59):
        want = skm.mean_squared_error(ds.y_train, ws[c] * ds.X_train[:, 0] + bs[a])
        assert Z[a, c] == pytest.approx(want, rel=1e-12)
    for lo, hi in lab.ranges:
        assert lo < 0 < hi
    assert "convex" in lab.convexity.value and "global minimum" in lab.convexity.value


def test_moving_w_and_b_updates_fit_loss_and_metrics(lab):
    ds = lab.dataset
    lab.sliders[0].value = 1.25
    lab.sliders[1].value = -0.5
    w, b = 1.25, -0.5
    assert lab.theta.tolist() == [w, b] and [t.value for t in lab.texts] == [w, b]
    np.testing.assert_allclose(np.ravel(lab.fit_view.fit.y), w * lab.fit_view.fit.x + b,
                               rtol=1e-12)
    assert lab.slice_view.point.x.tolist() == [w] and lab.slice_view.point.y.tolist() == [b]
    for part, X, y in (("train", ds.X_train, ds.y_train), ("val", ds.X_val, ds.y_val)):
        pred = w * X[:, 0] + b
        v = {k: lab.values[f"{part}_{k}"][0] for k in ("loss", "mse", "rmse", "mae", "r2")}
        assert v["loss"] == pytest.approx(skm.mean_squared_error(y, pred), rel=1e-12)
        assert v["mse"] == pytest.approx(np.mean((y - pred) ** 2), rel=1e-12)
        assert v["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)), rel=1e-12)
        assert v["mae"] == pytest.approx(skm.mean_absolute_error(y, pred), rel=1e-12)
        assert v["r2"] == pytest.approx(skm.r2_score(y, pred), rel=1e-10)
        assert f"{v['mse']:.6g}" in lab.numbers.value
    for m in ("mse", "rmse", "mae", "r2"):
        assert metrics.FORMULAS[m] in lab.numbers.value
    lab.texts[1].value = 0.75                              # typed value moves the slider
    assert lab.sliders[1].value == 0.75 and lab.theta[1] == 0.75


def test_gradient_check_equals_the_derivative_and_finite_differences(lab):
    ds = lab.dataset
    lab.move((0.3, -1.1))
    X, y = ds.X_train[:, 0], ds.y_train
    r = 0.3 * X - 1.1 - y
    by_hand = np.array([2 * np.mean(r * X), 2 * np.mean(r)])    # dMSE/dw, dMSE/db
    ga, gn, rel = lab.check
    np.testing.assert_allclose(ga, by_hand, rtol=1e-12)
    np.testing.assert_array_equal(ga, lab.model.grad(lab.theta[None], ds.X_train, y)[0])
    fd = central_diff(lambda t: skm.mean_squared_error(y, t[0] * X + t[1]), lab.theta)
    np.testing.assert_allclose(gn, fd, rtol=1e-6)
    assert rel == pytest.approx(np.linalg.norm(ga - gn)
                                / (np.linalg.norm(ga) + np.linalg.norm(gn)))
    assert rel < 1e-8 and "agree" in lab.check_panel.value
    assert f"{ga[0]:.8g}" in lab.check_panel.value and f"{gn[1]:.8g}" in lab.check_panel.value


def test_gradient_arrows_point_up_and_down_hill(lab):
    lab.move((0.3, -1.1))
    g = lab.check[0]
    x, y = np.asarray(lab.slice_view.arrows.x), np.asarray(lab.slice_view.arrows.y)
    for row, sign in ((0, 1.0), (1, -1.0)):
        tail = np.array([x[row, 0], y[row, 0]])
        head = np.array([x[row, 1], y[row, 1]])
        np.testing.assert_allclose(tail, [0.3, -1.1])
        d = head - tail
        assert d[0] * g[1] - d[1] * g[0] == pytest.approx(0.0, abs=1e-9)   # parallel to g
        assert sign * d @ g > 0
    # a small step against the gradient lowers the loss
    ds = lab.dataset
    step = lab.theta - 1e-3 * g
    assert lab.model.loss(step[None], ds.X_train, ds.y_train)[0] < lab.values["train_loss"][0]


@settings(max_examples=15)
@given(st.floats(-4, 4), st.floats(-4, 4))
def test_any_slider_point_matches_sklearn(lab, w, b):
    lab.move((w, b))
    ds = lab.dataset
    pred = w * ds.X_val[:, 0] + b
    assert lab.values["val_loss"][0] == pytest.approx(skm.mean_squared_error(ds.y_val, pred),
                                                      rel=1e-12, abs=1e-15)


def test_logistic_on_two_features_draws_the_boundary_and_log_loss():
    lab = models_lab("blobs2")
    ds = lab.dataset
    assert lab.model.name == "logistic_regression" and lab.fit_view.mode == "boundary"
    assert lab.pair == (0, 2) and lab.slider_names() == ("w[x1]", "b")
    lab.move((1.5, 0.4))
    theta = lab.theta
    assert theta[1] == lab.fitted[1]                      # held at the fitted value
    x, y = np.asarray(lab.fit_view.fit.x, float), np.asarray(lab.fit_view.fit.y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    assert ok.sum() > 10
    z = theta[0] * x[ok] + theta[1] * y[ok] + theta[2]
    assert np.max(np.abs(z)) < 1e-9 * max(1.0, np.abs(theta).max()) + 1e-6
    for part, X, yt in (("train", ds.X_train, ds.y_train), ("val", ds.X_val, ds.y_val)):
        p = sigmoid(X @ theta[:2] + theta[2])
        assert lab.values[f"{part}_log_loss"][0] == pytest.approx(skm.log_loss(yt, p),
                                                                  rel=1e-10)
        assert lab.values[f"{part}_loss"][0] == pytest.approx(skm.log_loss(yt, p), rel=1e-10)
        assert lab.values[f"{part}_accuracy"][0] == skm.accuracy_score(yt, p > 0.5)
    Xb = np.c_[ds.X_train, np.ones(len(ds.X_train))]
    by_hand = Xb.T @ (sigmoid(Xb @ theta) - ds.y_train) / len(ds.y_train)
    np.testing.assert_allclose(lab.check[0], by_hand, rtol=1e-10, atol=1e-14)
    fd = central_diff(lambda t: skm.log_loss(ds.y_train, sigmoid(Xb @ t)), theta)
    np.testing.assert_allclose(lab.check[1], fd, rtol=1e-5, atol=1e-9)


def test_softmax_on_iris_and_model_picker_matches_task():
    torch = pytest.importorskip("torch")
    lab = models_lab("iris")
    assert lab.model_box.options == ("softmax regression (cross-entropy)",)
    ds = lab.dataset
    lab.move((0.7, -0.2))
    K = 3
    Wb = lab.theta.reshape(-1, K)
    logits = ds.X_val @ Wb[:-1] + Wb[-1]
    want = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(ds.y_val))
    assert lab.values["val_loss"][0] == pytest.approx(float(want), rel=1e-10)
    e = np.exp(logits - logits.max(1, keepdims=True))
    prob = e / e.sum(1, keepdims=True)
    assert lab.values["val_log_loss"][0] == pytest.approx(skm.log_loss(ds.y_val, prob),
                                                          rel=1e-10)
    assert lab.values["val_accuracy"][0] == skm.accuracy_score(ds.y_val, prob.argmax(1))
    assert lab.fit_view.mode == "boundary" and np.isfinite(np.asarray(lab.fit_view.fit.x,
                                                                       float)).any()
    assert "not strictly" in lab.convexity.value
    # binary data offers both logistic and softmax (K = 2)
    lab.data_box.value = "moons"
    assert len(lab.model_box.options) == 2 and lab.model.name == "logistic_regression"
    lab.model_box.value = lab.model_box.options[1]
    assert lab.model.name == "softmax_regression" and lab.theta.shape == (6,)
    assert lab.errors.message == ""


def test_multi_feature_regression_holds_the_rest_and_slices_through_theta():
    lab = models_lab("polynomial")
    ds = lab.dataset
    X, y = ds.X_train, ds.y_train
    F = X.shape[1]
    assert F == 3 and lab.pair == (0, F)
    lstsq = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)[0]
    np.testing.assert_allclose(lab.fitted, lstsq, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(lab.theta[1:F], lab.fitted[1:F])
    lab.rest_box.value = "zero"
    assert lab.theta[1:F].tolist() == [0.0] * (F - 1)
    lab.rest_box.value = "fitted"
    lab.pair_boxes[0].value = 1                                # slider 1 now moves w[x^2]
    assert lab.pair == (1, F) and lab.sliders[0].description == "w[x^2]"
    lab.sliders[0].value = 0.5
    assert lab.theta[1] == 0.5
    Z, ws, bs = lab.slice_view.Z, lab.slice_view.heat.x, lab.slice_view.heat.y
    for a, c in ((0, 0), (13, 41), (59, 7)):
        t = lab.theta.copy()
        t[1], t[F] = ws[c], bs[a]
        assert Z[a, c] == pytest.approx(skm.mean_squared_error(y, X @ t[:F] + t[F]), rel=1e-12)
    pred = X @ lab.theta[:F] + lab.theta[F]
    assert lab.values["train_r2"][0] == pytest.approx(skm.r2_score(y, pred), rel=1e-10)


def test_typed_non_finite_value_is_rejected_and_state_kept(lab):
    lab.move((0.2, 0.1))
    before = lab.theta.copy()
    lab.texts[0].value = float("nan")
    assert lab.errors.message == "w[x] must be a finite number; got nan"
    assert lab.texts[0].value == 0.2 and lab.sliders[0].value == 0.2
    np.testing.assert_array_equal(lab.theta, before)
    lab.texts[0].value = 9.0                                   # beyond the slider: widened
    assert lab.errors.message == "" and lab.theta[0] == 9.0 and lab.sliders[0].value == 9.0
    lab.pair_boxes[0].value = 1                                # same coordinate twice
    assert "different coordinates" in lab.errors.message
    assert lab.pair == (0, 1) and lab.pair_boxes[0].value == 0


def test_csv_upload_good_target_choice_and_classes():
    lab = models_lab()
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=60), rng.normal(size=60)
    t = 3 * a - b + 0.1 * rng.normal(size=60)
    text = "a,b,t\n" + "\n".join(f"{x},{y},{z}" for x, y, z in zip(a, b, t, strict=True))
    lab.upload.value = upload_value(text.encode(), "mine.csv")
    assert lab.errors.message == ""
    assert lab.dataset.name == "mine.csv" and lab.dataset.task == "regression"
    assert lab.dataset.X_train.shape == (48, 2) and lab.data_box.value == "upload: mine.csv"
    assert lab.target_box.options == ("a", "b", "t") and lab.target_box.value == "t"
    assert not lab.target_box.disabled and lab.model.name == "linear_regression"
    lab.target_box.value = "a"
    assert lab.dataset.target_name == "a" and lab.dataset.feature_names == ("b", "t")
    lab.data_box.value = "linear"
    assert lab.target_box.disabled and lab.dataset.name == "linear"
    lab.data_box.value = "upload: mine.csv"
    assert lab.dataset.target_name == "a"
    labels = "x1,x2,pet\n" + "\n".join(f"{x},{y},{'cat' if x + y > 0 else 'dog'}"
                                       for x, y in zip(a, b, strict=True))
    lab.load_csv_bytes(labels.encode(), "pets.csv")
    assert lab.dataset.task == "binary" and lab.classes_box.value
    assert lab.model.name == "logistic_regression" and lab.fit_view.mode == "boundary"


@pytest.mark.parametrize("content, words", [
    (b"x,y\n1,2\n2,oops\n3,4\n4,5\n5,6\n6,7", ("row 2", "'y'", "not a number")),
    (b"x,y\n1,2\n2,3", ("2 data rows", "at least 5")),
    (b"x,y\n1,2\n2,3\n3\n4,5\n5,6\n6,7", ("row 3", "1 fields")),
])
def test_malformed_csv_keeps_the_last_good_dataset(content, words):
    lab = models_lab()
    lab.move((0.4, 0.3))
    before, theta = lab.dataset, lab.theta.copy()
    lab.upload.value = upload_value(content, "bad.csv")
    for w in words:
        assert w in lab.errors.message
    assert lab.dataset is before and lab.data_box.value == "linear"
    np.testing.assert_array_equal(lab.theta, theta)
    lab.move((0.5, 0.3))
    assert lab.errors.message == ""


def test_one_message_per_mark_per_slider_move(sends):
    lab = models_lab("blobs2")
    lab.move((0.1, 0.1))
    for v in (0.5, -0.3, 2.0):
        sends.clear()
        lab.sliders[0].value = v
        sent = dict(sends)
        assert sent and max(sent.values()) == 1
        touched = set(sent)
        for mark in (lab.fit_view.fit, lab.slice_view.point, lab.slice_view.arrows):
            assert mark.model_id in touched
        assert lab.slice_view.heat.model_id not in touched        # surface not recomputed
        assert len(touched) <= 8


async def test_dataset_switches_debounce_the_surface():
    lab = models_lab()
    drawn = []
    original = lab.slice_view.set_slice
    lab.slice_view.set_slice = lambda *a: (drawn.append(a[2]), original(*a))
    for name in ("moons", "circles", "blobs2"):
        lab.data_box.value = name
    assert drawn == [] and lab._slice_later.pending
    assert lab.values["train_loss"][0] > 0                   # numbers are already current
    await asyncio.sleep(0.3)
    assert len(drawn) == 1 and lab.dataset.name == "blobs2"
    ds = lab.dataset
    t = lab.theta.copy()
    t[0], t[2] = lab.slice_view.heat.x[5], lab.slice_view.heat.y[9]
    assert drawn[0][9, 5] == pytest.approx(lab.model.loss(t[None], ds.X_train, ds.y_train)[0])
