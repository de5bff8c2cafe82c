"""models_lab headless (ported from the flat test_models_app): the slice, fit, loss, metrics
and gradient check at hand-set (w, b) equal the engine / sklearn / torch / formulas
computed here; data set and model switches; messages per slider move."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from descentlab.engine import metrics, models
from descentlab.widgets.models import models_lab

skm = pytest.importorskip("sklearn.metrics")


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def central_diff(f, theta, h=1e-6):
    g = np.zeros_like(theta)
    for d in range(len(theta)):
        e = np.zeros_like(theta)
        e[d] = h
        g[d] = (f(theta + e) - f(theta - e)) / (2 * h)
    return g


def shown(lab):
    lab.flush()
    return lab.session.view(lab.shown)


def test_builds_paused_at_zero_with_the_engine_surface(lab):
    m = lab.model
    ds, model = m.built.dataset, m.built.model
    assert model.name == "linear_regression" and (m.first, m.second) == (0, 1)
    assert shown(lab).theta.tolist() == [0.0, 0.0] and lab.session.step == 0
    assert [s.value for s in lab.sliders] == [0.0, 0.0] and not lab.player.playing
    assert "application/vnd.jupyter.widget-view+json" in lab._repr_mimebundle_()
    plane = m.plane()
    sl = lab.charts["slice"]
    ws, bs, Z = models.loss_grid(model, ds.X_train, ds.y_train, *plane.ranges, n=60)
    np.testing.assert_array_equal(sl.heat.x, ws)
    np.testing.assert_array_equal(sl.heat.y, bs)
    np.testing.assert_array_equal(plane.Z, Z)
    a = 17                          # a slice row at fixed b is the MSE of the line w x + b
    for c in (0, 29, 59):
        want = skm.mean_squared_error(ds.y_train, ws[c] * ds.X_train[:, 0] + bs[a])
        assert Z[a, c] == pytest.approx(want, rel=1e-12)
    for lo, hi in plane.ranges:
        assert lo < 0 < hi
    text = lab.panels["numbers"].widget.value
    assert "convex" in text and "global minimum" in text


def test_moving_w_and_b_updates_fit_loss_and_metrics(lab):
    ds = lab.model.built.dataset
    lab.sliders[0].value = 1.25
    lab.sliders[1].value = -0.5
    w, b = 1.25, -0.5
    v = shown(lab)
    assert v.theta.tolist() == [w, b] and [t.value for t in lab.texts] == [w, b]
    fit = lab.charts["fit"].fit
    np.testing.assert_allclose(np.ravel(fit.y), w * np.asarray(fit.x) + b, rtol=1e-12)
    sl = lab.charts["slice"]
    assert sl.point.x.tolist() == [w] and sl.point.y.tolist() == [b]
    for part, X, y in (("train", ds.X_train, ds.y_train), ("val", ds.X_val, ds.y_val)):
        pred = w * X[:, 0] + b
        got = {k: v.values[f"{part}_{k}"] for k in ("loss", "mse", "rmse", "mae", "r2")}
        assert got["loss"] == pytest.approx(skm.mean_squared_error(y, pred), rel=1e-12)
        assert got["mse"] == pytest.approx(np.mean((y - pred) ** 2), rel=1e-12)
        assert got["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)),
                                            rel=1e-12)
        assert got["mae"] == pytest.approx(skm.mean_absolute_error(y, pred), rel=1e-12)
        assert got["r2"] == pytest.approx(skm.r2_score(y, pred), rel=1e-10)
        assert f"{got['mse']:.4g}" in lab.panels["numbers"].widget.value   # 4 digits
    for m in ("mse", "rmse", "mae", "r2"):
        assert metrics.FORMULAS[m] in lab.panels["numbers"].widget.value
    lab.texts[1].value = 0.75                              # a typed value moves the slider
    assert lab.sliders[1].value == 0.75 and shown(lab).theta[1] == 0.75


def test_gradient_check_equals_the_derivative_and_finite_differences(lab):
    ds = lab.model.built.dataset
    lab.move((0.3, -1.1))
    v = shown(lab)
    X, y = ds.X_train[:, 0], ds.y_train
    r = 0.3 * X - 1.1 - y
    by_hand = np.array([2 * np.mean(r * X), 2 * np.mean(r)])    # dMSE/dw, dMSE/db
    ga, gn, rel = v.check
    np.testing.assert_allclose(ga, by_hand, rtol=1e-12)
    fd = central_diff(lambda t: skm.mean_squared_error(y, t[0] * X + t[1]), v.theta)
    np.testing.assert_allclose(gn, fd, rtol=1e-6)
    assert rel == pytest.approx(np.linalg.norm(ga - gn)
                                / (np.linalg.norm(ga) + np.linalg.norm(gn)))
    text = lab.panels["check"].widget.value
    assert rel < 1e-8 and "agree" in text
    assert f"{ga[0]:.8g}" in text and f"{gn[1]:.8g}" in text


def test_gradient_arrows_point_up_and_down_hill(lab):
    lab.move((0.3, -1.1))
    v = shown(lab)
    g = v.check[0]
    sl = lab.charts["slice"]
    x, y = np.asarray(sl.arrows.x), np.asarray(sl.arrows.y)
    for row, sign in ((0, 1.0), (1, -1.0)):
        tail, head = np.array([x[row, 0], y[row, 0]]), np.array([x[row, 1], y[row, 1]])
        np.testing.assert_allclose(tail, [0.3, -1.1])
        d = head - tail
        assert d[0] * g[1] - d[1] * g[0] == pytest.approx(0.0, abs=1e-9)   # parallel to g
        assert sign * d @ g > 0
    ds, model = lab.model.built.dataset, lab.model.built.model
    step = v.theta - 1e-3 * g                  # a small step against the gradient: lower
    assert model.loss(step[None], ds.X_train, ds.y_train)[0] < v.values["train_loss"]


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.floats(-4, 4), st.floats(-4, 4))
def test_any_hand_point_matches_sklearn(lab, w, b):
    lab.move((w, b))
    ds = lab.model.built.dataset
    pred = w * ds.X_val[:, 0] + b
    assert lab.session.view(0).values["val_loss"] == pytest.approx(
        skm.mean_squared_error(ds.y_val, pred), rel=1e-12, abs=1e-15)


def test_logistic_on_two_features_draws_the_boundary_and_log_loss():
    lab = models_lab("blobs2")
    m = lab.model
    ds = m.built.dataset
    assert m.built.model.name == "logistic_regression" and lab.charts["fit"].mode == "boundary"
    assert (m.first, m.second) == (0, 2) and m.names == ("w[x1]", "b")
    lab.move((1.5, 0.4))
    v = shown(lab)
    theta = v.theta
    assert theta[1] == m.built.fitted[1]                   # held at the fitted value
    fit = lab.charts["fit"].fit
    x, y = np.asarray(fit.x, float), np.asarray(fit.y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    assert ok.sum() > 10
    z = theta[0] * x[ok] + theta[1] * y[ok] + theta[2]
    assert np.max(np.abs(z)) < 1e-9 * max(1.0, np.abs(theta).max()) + 1e-6
    for part, X, yt in (("train", ds.X_train, ds.y_train), ("val", ds.X_val, ds.y_val)):
        p = sigmoid(X @ theta[:2] + theta[2])
        assert v.values[f"{part}_log_loss"] == pytest.approx(skm.log_loss(yt, p), rel=1e-10)
        assert v.values[f"{part}_loss"] == pytest.approx(skm.log_loss(yt, p), rel=1e-10)
        assert v.values[f"{part}_accuracy"] == skm.accuracy_score(yt, p > 0.5)
    Xb = np.c_[ds.X_train, np.ones(len(ds.X_train))]
    by_hand = Xb.T @ (sigmoid(Xb @ theta) - ds.y_train) / len(ds.y_train)
    np.testing.assert_allclose(v.check[0], by_hand, rtol=1e-10, atol=1e-14)
    fd = central_diff(lambda t: skm.log_loss(ds.y_train, sigmoid(Xb @ t)), theta)
    np.testing.assert_allclose(v.check[1], fd, rtol=1e-5, atol=1e-9)
    lab.close()


def test_classes_get_okabe_ito_colours_never_grey_and_the_key_is_beside_the_data():
    from descentlab.widgets.ui.palette import OKABE_ITO
    lab = models_lab("iris")
    chart = lab.charts["fit"]
    colors = set(chart.train.colors) | set(chart.val.colors)
    assert len(colors) == 3 and colors <= set(OKABE_ITO)
    for c in colors:
        r, g, b = (int(c[i:i + 2], 16) for i in (1, 3, 5))
        assert not (r == g == b)                            # no grey shade
    assert chart.widget.children[0] is chart.figure        # the key beside, not on it
    assert chart.key.widget in chart.widget.children[1].children
    assert "class 0" in chart.key.widget.value and "class 2" in chart.key.widget.value
    lab.close()


def test_softmax_on_iris_and_model_picker_matches_task():
    torch = pytest.importorskip("torch")
    lab = models_lab("iris")
    assert lab.model_box.options == ("softmax regression (cross-entropy)",)
    ds = lab.model.built.dataset
    lab.move((0.7, -0.2))
    v = shown(lab)
    K = 3
    Wb = v.theta.reshape(-1, K)
    logits = ds.X_val @ Wb[:-1] + Wb[-1]
    want = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(ds.y_val))
    assert v.values["val_loss"] == pytest.approx(float(want), rel=1e-10)
    e = np.exp(logits - logits.max(1, keepdims=True))
    prob = e / e.sum(1, keepdims=True)
    assert v.values["val_log_loss"] == pytest.approx(skm.log_loss(ds.y_val, prob), rel=1e-10)
    assert v.values["val_accuracy"] == skm.accuracy_score(ds.y_val, prob.argmax(1))
    assert lab.charts["fit"].mode == "boundary"
    assert np.isfinite(np.asarray(lab.charts["fit"].fit.x, float)).any()
    assert "not strictly" in lab.panels["numbers"].widget.value
    lab.data_box.value = "moons"            # binary data offers logistic and softmax (K = 2)
    assert len(lab.model_box.options) == 2
    assert lab.model.built.model.name == "logistic_regression"
    lab.model_box.value = lab.model_box.options[1]
    assert lab.model.built.model.name == "softmax_regression"
    assert shown(lab).theta.shape == (6,)
    assert all(f.errors.message == "" for f in lab.fields.values())
    lab.close()


def test_multi_feature_regression_holds_the_rest_and_slices_through_theta():
    lab = models_lab("polynomial")
    m = lab.model
    ds = m.built.dataset
    X, y = ds.X_train, ds.y_train
    F = X.shape[1]
    assert F == 3 and (m.first, m.second) == (0, F)
    lstsq = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)[0]
    np.testing.assert_allclose(m.built.fitted, lstsq, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(shown(lab).theta[1:F], m.built.fitted[1:F])
    lab.rest_box.value = "zero"
    assert shown(lab).theta[1:F].tolist() == [0.0] * (F - 1)
    lab.rest_box.value = "fitted"
    lab.pair_boxes[0].value = 1                                # slider 1 now moves w[x^2]
    assert (m.first, m.second) == (1, F) and lab.sliders[0].description == "w[x^2]"
    lab.sliders[0].value = 0.5
    v = shown(lab)
    assert v.theta[1] == 0.5
    plane = m.plane()
    Z, ws, bs = plane.Z, lab.charts["slice"].heat.x, lab.charts["slice"].heat.y
    for a, c in ((0, 0), (13, 41), (59, 7)):
        t = v.theta.copy()
        t[1], t[F] = ws[c], bs[a]
        assert Z[a, c] == pytest.approx(skm.mean_squared_error(y, X @ t[:F] + t[F]), rel=1e-12)
    pred = X @ v.theta[:F] + v.theta[F]
    assert v.values["train_r2"] == pytest.approx(skm.r2_score(y, pred), rel=1e-10)
    lab.close()


def test_polynomial_data_draws_the_fitted_curve_not_a_straight_line():
    """Issue: on polynomial data the fit was a straight line along x.  Now the curve is
    the model's prediction from ALL its features (x, x^2, x^3) at the data, along x."""
    lab = models_lab("polynomial")
    lab.to_fitted()
    lab.flush()
    ds = lab.model.built.dataset
    v = lab.session.view(0)
    fit = lab.charts["fit"]
    X = np.concatenate([ds.X_train, ds.X_val])
    order = np.argsort(X[:, 0], kind="stable")
    np.testing.assert_allclose(np.asarray(fit.fit.x), X[order, 0])
    want = X[order] @ v.theta[:3] + v.theta[3]
    np.testing.assert_allclose(np.ravel(fit.fit.y), want, rtol=1e-12)
    slopes = np.diff(want) / np.diff(X[order, 0])
    assert np.ptp(slopes[np.isfinite(slopes)]) > 0.5          # not a straight line
    assert "x, x^2, x^3" in fit.caption.value and "along x" in fit.caption.value
    lab.close()


def test_typed_non_finite_value_is_rejected_beneath_its_box_and_state_kept(lab):
    lab.move((0.2, 0.1))
    before = shown(lab).theta.copy()
    lab.texts[0].value = float("nan")
    assert lab.text_fields[0].errors.message == "w[x] must be a finite number; got nan"
    assert lab.texts[0].value == 0.2 and lab.sliders[0].value == 0.2
    np.testing.assert_array_equal(shown(lab).theta, before)
    lab.texts[0].value = 9.0                                   # beyond the slider: widened
    assert lab.text_fields[0].errors.message == ""
    assert shown(lab).theta[0] == 9.0 and lab.sliders[0].value == 9.0
    lab.pair_boxes[0].value = 1                                # same coordinate twice
    assert "different coordinates" in lab.fields["first"].errors.message
    assert (lab.model.first, lab.model.second) == (0, 1) and lab.pair_boxes[0].value == 0
    with pytest.raises(ValueError, match="finite"):
        lab.move((float("inf"), 0.0))
    assert shown(lab).theta[0] == 9.0


def test_one_message_per_mark_per_slider_move(sends):
    lab = models_lab("blobs2")
    lab.move((0.1, 0.1))
    for v in (0.5, -0.3, 2.0):
        sends.clear()
        lab.sliders[0].value = v
        sent = dict(sends)
        assert sent and max(sent.values()) == 1
        sl, fit = lab.charts["slice"], lab.charts["fit"]
        for mark in (fit.fit, sl.point, sl.arrows):
            assert sends[mark.model_id] == 1
        assert sl.heat.model_id not in sent                    # the slice is not redrawn
        assert fit.train.model_id not in sent                  # nor the data
    lab.close()


def test_every_number_is_the_engines_fit_plane_logits_and_gradient_check():
    lab = models_lab("iris")
    m = lab.model
    ds, model = m.built.dataset, m.built.model
    np.testing.assert_array_equal(m.built.fitted, models.fit(model, ds.X_train, ds.y_train))
    lab.move((0.5, -0.25))
    v = shown(lab)
    gc = models.gradient_check(model, ds.X_train, ds.y_train, v.theta)
    np.testing.assert_array_equal(v.check.analytic, gc.analytic)
    np.testing.assert_array_equal(v.check.numerical, gc.numerical)
    assert v.check.rel_error == gc.rel_error
    plane = m.plane()
    c, d1, d2 = plane.held.copy(), np.zeros(len(v.theta)), np.zeros(len(v.theta))
    c[list(plane.pair)] = 0.0
    d1[plane.pair[0]], d2[plane.pair[1]] = 1.0, 1.0
    ws, bs, Z = models.loss_plane(model, ds.X_train, ds.y_train, c, d1, d2, *plane.ranges)
    np.testing.assert_array_equal(plane.Z, Z)
    Zl = models.logits(model, v.theta[None], plane.grid.points)[0]         # (m, K)
    winner = Zl.argmax(axis=1)
    k = 1
    inside = v.margins[k].ravel() > 0
    np.testing.assert_array_equal(inside, winner == k)      # boundary of class k from logits
    lab.close()


def test_the_arrows_shrink_to_nothing_at_the_fit(lab):
    sl = lab.charts["slice"]
    lab.move((1.0, -1.0))
    x = np.asarray(sl.arrows.x, float)
    far = abs(x[0, 1] - x[0, 0])
    assert far > 0
    lab.to_fitted()
    x, y = np.asarray(sl.arrows.x, float), np.asarray(sl.arrows.y, float)
    if x.size == 0:                              # no arrow at all: an empty mark
        length = np.zeros(0)
    else:
        tails, heads = np.c_[x[:, 0], y[:, 0]], np.c_[x[:, 1], y[:, 1]]
        length = np.nan_to_num(np.linalg.norm(heads - tails, axis=1))
    assert x.size == 0 or np.all(length < 1e-6 * far)  # no arrow in a random direction
