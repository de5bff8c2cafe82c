"""The high-dimension app headless: breast_cancer standardized on the training split, the
step-size chart equal to the engine's ``internals`` (live and scrubbed back, against an
independent engine run), the weight traces equal to the history's parameters, metrics
equal to sklearn, the scenes' notes true, bad input refused under its control."""

import numpy as np
import pytest
import traitlets as T
from helpers import played
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import accuracy_score, log_loss
from sklearn.preprocessing import StandardScaler

from descentlab import widgets
from descentlab.engine import batching, data, kinds, training
from descentlab.engine import optimizers as O
from descentlab.widgets.core.decimate import display_indices
from descentlab.widgets.data import HighDimLab, high_dimensions_explorer
from descentlab.widgets.data.charts import rank_colors, single_step, weight_ranks


@pytest.fixture(scope="module")
def lab():
    app = high_dimensions_explorer()
    yield app
    app.close()


def fresh(lab):
    lab.apply_scene("sgd-vs-adam")
    assert lab.errors.message == ""
    return lab


def test_public_and_built_paused_with_the_fields_defaults(lab):
    assert widgets.high_dimensions_explorer is high_dimensions_explorer
    assert "high_dimensions_explorer" in widgets.__all__
    fresh(lab)
    assert isinstance(lab, HighDimLab) and not lab.player.playing
    s = lab.session
    assert [(r.kind, r.lr, r.batch_size) for r in lab.model.runs] == [
        ("GD", 1e-2, 32), ("Momentum", 1e-2, 32), ("RMSprop", 1e-2, 32), ("Adam", 1e-3, 32)]
    assert kinds.FIELD_LR["GD"] == 1e-2 and kinds.FIELD_LR["Adam"] == 1e-3
    assert s.dataset.X_train.shape == (455, 30) and s.dataset.X_val.shape == (114, 30)
    assert s.groups[0].model.name == "logistic_regression" and len(s.groups) == 1
    assert s.horizon == 30 * batching.iterations_per_epoch(455, 32) == 450


def test_features_are_standardized_on_the_training_split_as_sklearn(lab):
    fresh(lab)
    ds = lab.session.dataset
    raw = data.make_dataset("breast_cancer", seed=0, standardize_features=False)
    sk = StandardScaler().fit(raw.X_train)                       # fitted on train rows only
    np.testing.assert_allclose(ds.X_train, sk.transform(raw.X_train), atol=1e-12)
    np.testing.assert_allclose(ds.X_val, sk.transform(raw.X_val), atol=1e-12)
    assert not np.allclose(ds.X_val.std(axis=0), 1.0)           # not refitted on val
    bunch = load_breast_cancer()
    assert ds.feature_names == tuple(bunch.feature_names)
    np.testing.assert_allclose(lab.scales, sk.scale_, rtol=1e-12)
    panel = lab.panels["derivation"].widget.value
    i, j = int(np.argmin(sk.scale_)), int(np.argmax(sk.scale_))
    assert f"#{i + 1} {bunch.feature_names[i]}" in panel and "0.00252" in panel
    assert f"#{j + 1} {bunch.feature_names[j]}" in panel and "566" in panel
    assert r"\nabla_w L = \frac1N X^\top\bigl(\sigma(Xw+b) - y\bigr)" in panel
    assert r"\frac{\eta}{\sqrt{\hat v_{t,i}} + \epsilon}" in panel
    assert "<b>standardized</b>" in panel


def test_step_size_chart_equals_the_engines_internals(lab):
    fresh(lab)
    assert lab.hidden == set()                     # every chart on screen, drawn per frame
    chart = lab.charts["effstep"]
    lab.frame(0)
    assert not chart.bars.visible                  # adaptive runs: no step before t = 1
    eq_rules = np.asarray(chart.rules.y, dtype=float)
    np.testing.assert_array_equal(eq_rules, [[0.01, 0.01], [0.01, 0.01]])
    for _ in range(7):
        lab.frame(3)
    s = lab.session
    g, st = s.groups[0], s.states[0]
    q = O.internals(g.optimizer, st.opt_state, st.params)
    eff = q["eff_lr"][:, :30]
    np.testing.assert_array_equal(s.view().eff_lr, q["eff_lr"])
    # RMSprop and Adam: bars, one row each; GD and Momentum: one η for every coordinate
    assert list(single_step(s.view().eff_lr)) == [True, True, False, False]
    assert chart.bars.visible
    np.testing.assert_array_equal(np.asarray(chart.bars.y, dtype=float), eff[[2, 3]])
    np.testing.assert_array_equal(np.asarray(chart.bars.x, dtype=float), np.arange(1, 31))
    np.testing.assert_array_equal(np.asarray(chart.rules.y, dtype=float),
                                  [[0.01, 0.01], [0.01, 0.01]])
    assert list(chart.bars.colors) == [lab.style().colors[r] for r in (2, 3)]
    # Adam's bar is η / (√v̂ + ε) with the engine's own v̂: the formula on the page
    np.testing.assert_allclose(eff[3], 1e-3 / (np.sqrt(q["v_hat"][3, :30]) + 1e-8),
                               rtol=1e-12)
    assert chart.sy.min <= np.nanmin(eff) and chart.sy.max >= np.nanmax(eff)
    note = chart.note.value
    k, m = int(np.argmax(eff[3])), int(np.argmin(eff[3]))
    names = s.dataset.feature_names
    assert f"largest {float(eff[3, k]):.3g} (#{k + 1} {names[k]})" in note
    assert f"smallest {float(eff[3, m]):.3g} (#{m + 1} {names[m]})" in note


def test_scrubbed_back_the_steps_are_those_of_an_independent_engine_run(lab):
    fresh(lab)
    for _ in range(10):
        lab.frame(4)
    s = lab.session
    g = s.groups[0]
    rules = s.rules
    state = training.init_train(g.model, s.dataset, g.optimizer, batch_size=32, seed=0,
                                runs=4, rules=rules)
    for _ in range(17):
        state, _ = training.train_step(g.model, s.dataset, g.optimizer, state, rules)
    want = O.internals(g.optimizer, state.opt_state, state.params)["eff_lr"]
    lab.show_step(17)
    assert lab.counter.value.count("iteration 17 /") == 1
    np.testing.assert_allclose(s.view(17).eff_lr, want, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(lab.charts["effstep"].bars.y, dtype=float),
                               want[[2, 3], :30], rtol=1e-12)


def test_weight_traces_are_the_historys_parameters(lab):
    fresh(lab)
    for _ in range(20):
        lab.frame(5)
    lab.render()
    s, chart = lab.session, lab.charts["traces"]
    h = s.histories[0]
    r = lab.model.selected
    assert s.cfg.runs[r].kind == "Adam"
    idx = display_indices(s.step + 1)
    np.testing.assert_array_equal(np.asarray(chart.lines.x, dtype=float), idx)
    np.testing.assert_array_equal(np.asarray(chart.lines.y, dtype=float),
                                  h.params[idx, r, :30].T)
    w = h.params[s.step, r, :30]
    ramp = rank_colors(30)
    assert ramp[0] == "#440154" and ramp[-1] == "#B4DE2C" and len(set(ramp)) == 30
    order = np.argsort(-np.abs(w))
    assert chart.lines.colors[order[0]] == ramp[0]               # the largest: darkest
    assert chart.lines.colors[order[-1]] == ramp[-1]
    assert list(weight_ranks(w)[order]) == list(range(30))
    key = chart.key.widget.value
    names = s.dataset.feature_names
    for i in order[:6]:
        assert f"#{i + 1} {names[i]}" in key
    assert f"#{order[6] + 1} {names[order[6]]}<" not in key
    assert chart.figure.title == f"the 30 weights of {s.labels[r]}"
    lab.model.selected = 0                                       # inspect SGD instead
    np.testing.assert_array_equal(np.asarray(chart.lines.y, dtype=float),
                                  h.params[idx, 0, :30].T)
    assert chart.figure.title.endswith(s.labels[0])


def test_metrics_panel_equals_sklearn(lab):
    v = played(lab, "sgd-vs-adam")
    s = lab.session
    X, y = s.dataset.X_val, s.dataset.y_val
    for r in range(4):
        w, b = v.params[r, :30], v.params[r, 30]
        p = 1 / (1 + np.exp(-(X @ w + b)))
        assert v.metrics["val_accuracy"][r] == pytest.approx(accuracy_score(y, p > 0.5))
        assert v.metrics["val_log_loss"][r] == pytest.approx(log_loss(y, p), rel=1e-9)
    assert "accuracy" in lab.panels["metrics"].widget.value


def test_the_scenes_show_what_their_notes_say(lab):
    v = played(lab, "sgd-vs-adam")
    sgd, adam = 0, 3
    acc, vl = v.metrics["val_accuracy"], v.metrics["val_log_loss"]
    assert acc[sgd] == pytest.approx(0.97, abs=0.006)
    assert acc[adam] == pytest.approx(0.97, abs=0.006)
    np.testing.assert_allclose(vl, [0.136, 0.070, 0.054, 0.158], atol=6e-4)  # Try this 1
    e = v.eff_lr[adam, :30]
    assert e.min() == pytest.approx(0.0075, abs=5e-5) and e.max() == pytest.approx(0.023, abs=3e-4)

    v = played(lab, "sgd-lr-too-large")
    assert lab.model.runs[sgd].lr == 30.0 and lab.model.selected == sgd
    loss = lab.session.series.view("loss")
    assert 4.5 < np.nanmax(loss[150:, sgd]) < 5.5                        # jumps, up to ~5
    assert np.nanmax(loss[150:, 1:]) < 0.5
    w = np.abs(lab.session.series.view("params")[:, :, :30])
    assert 20 < w[:, sgd].max() < 28 and w[:, 1:].max() < 1.2           # ~24 vs < 1.2

    v = played(lab, "adam-per-coordinate")
    assert lab.model.dataset_params == {"standardize_features": False}
    ds = lab.session.dataset
    sc = ds.X_train.std(axis=0)
    assert 1.5e5 < sc.max() / sc.min() < 3e5                              # 2e5-fold
    acc = v.metrics["val_accuracy"]
    assert acc[sgd] == pytest.approx(0.61, abs=0.01) and acc[adam] == pytest.approx(0.93, abs=0.01)
    e = v.eff_lr[adam, :30]
    assert 1e4 < e.max() / e.min() < 1e6                                  # ~5 orders
    names = ds.feature_names
    assert e.max() == pytest.approx(2.8, abs=0.05) and names[np.argmax(e)] == \
        "fractal dimension error"
    assert e.min() == pytest.approx(1.5e-5, abs=5e-7) and names[np.argmin(e)] == "worst area"
    ratio = (e.max() / e.min()) / (lab.scales.max() / lab.scales.min())
    assert 0.5 < ratio < 2                          # close to the scales' ratio (Try this 3)
    assert "<b>raw</b>" in lab.panels["derivation"].widget.value
    fresh(lab)
    assert lab.model.dataset_params == {"standardize_features": True}


def test_the_full_batch_does_less_in_30_epochs(lab):
    """Try this 4: B = N takes 30 iterations; Adam ends at 92%, SGD at 93%."""
    fresh(lab)
    lab.boxes["batch_size"].control.value = 455
    while lab.session.advance(5000):
        pass
    v = lab.session.view()
    assert lab.session.step == 30
    acc = v.metrics["val_accuracy"]
    assert acc[0] == pytest.approx(0.93, abs=0.005) and acc[3] == pytest.approx(0.92, abs=0.005)
    fresh(lab)


@pytest.mark.parametrize("text", ["-0.01", "nan", "-inf"])
def test_a_bad_learning_rate_is_refused_under_its_control(lab, text):
    fresh(lab)
    lab.frame(5)
    runs, step = list(lab.model.runs), lab.session.step
    box = lab.boxes["lrs"]
    box.control.value = f"0.01, 0.01, 0.01, {text}"
    msg = box.errors.message
    assert msg.startswith("lr must be") and "[0, inf); got" in msg, msg   # name, range
    assert lab.model.runs == runs and lab.session.step == step
    assert box.control.value == "0.01, 0.01, 0.01, 0.001"     # the control snaps back
    box.control.value = "0.01, 0.01, 0.01, 0.002"
    assert box.errors.message == "" and lab.model.runs[3].lr == 0.002
    fresh(lab)


def test_the_engine_raises_valueerror_naming_the_parameter(lab):
    with pytest.raises(ValueError, match="lr"):
        kinds.build("Adam", -1e-3, 1)
    with pytest.raises(ValueError, match="lr"):
        kinds.build("GD", float("nan"), 1)
    with pytest.raises(ValueError, match=r"batch_size must be an integer in \[1, 455\]"):
        batching.check_batch_size(0, 455)
    with pytest.raises(ValueError, match="batch_size"):
        batching.check_batch_size(456, 455)
    fresh(lab)
    with pytest.raises(T.TraitError, match=r"lr must be in \[0, inf\); got -0.001"):
        lab.model.set_run(3, lr=-1e-3)
    assert lab.model.runs[3].lr == 1e-3


@pytest.mark.parametrize("B", [0, 456, -3])
def test_a_bad_batch_size_is_refused_under_its_control(lab, B):
    fresh(lab)
    lab.frame(5)
    runs, step = list(lab.model.runs), lab.session.step
    box = lab.boxes["batch_size"]
    box.control.value = B
    assert "batch_size must be an integer in [1, 455]" in box.errors.message
    assert lab.model.runs == runs and lab.session.step == step and box.control.value == 32
    box.control.value = 455                                      # the full batch is allowed
    assert box.errors.message == "" and lab.session.groups[0].batch_size == 455
    assert lab.session.horizon == 30
    fresh(lab)


def test_an_lr_slider_while_training_retunes_live_and_keeps_the_past(lab):
    fresh(lab)
    lab.frame(20)
    before = np.array(lab.session.series.view("eff_lr")[:21])
    slider = lab.boxes["lr3"].control
    assert slider.description == "η Adam" and slider.value == pytest.approx(1e-3)
    slider.value = 1e-2
    s = lab.session
    assert s.step == 20 and [(e.step, e.param, e.new) for e in s.events] == [(20, "lr", 1e-2)]
    assert "η→0.01 @20" in s.labels[3]
    lab.frame(5)
    np.testing.assert_array_equal(s.series.view("eff_lr")[:21], before)   # past kept
    q = O.internals(s.groups[0].optimizer, s.states[0].opt_state, s.states[0].params)
    np.testing.assert_allclose(q["eff_lr"][3], 1e-2 / (np.sqrt(q["v_hat"][3]) + 1e-8),
                               rtol=1e-12)
    np.testing.assert_array_equal(s.view().eff_lr, q["eff_lr"])
    fresh(lab)


def test_the_standardize_box_restarts_on_raw_features(lab):
    fresh(lab)
    lab.frame(10)
    box = lab.boxes["standardize"]
    assert box.control.value is True
    box.control.value = False
    s = lab.session
    assert s.step == 0 and lab.model.dataset_params == {"standardize_features": False}
    raw = load_breast_cancer().data
    assert s.dataset.X_train.std(axis=0).max() > 500                     # worst area
    assert set(map(tuple, s.dataset.X_train)) <= set(map(tuple, raw))
    fresh(lab)
    assert lab.boxes["standardize"].control.value is True


def test_every_chart_has_a_key_beside_its_data(lab):
    fresh(lab)
    lab.frame(3)
    for name in ("traces", "effstep"):
        chart = lab.charts[name]
        row = chart.widget if name == "traces" else chart.widget.children[0]
        assert row.children[0] is chart.figure and row.children[1] is chart.key.widget
        assert chart.key.widget.value
    key = lab.charts["effstep"].key.widget.value
    assert all(lab.session.labels[r] in key for r in range(4))


def test_projector_mode_widens_the_controls_and_back(lab):
    fresh(lab)
    slider = lab.boxes["lr0"].control
    assert lab.column.layout.width == "300px" and slider.layout.width == "290px"
    lab.set_projector(True)
    assert lab.column.layout.width == lab.column.layout.min_width == "420px"
    assert all(lab.boxes[n].control.layout.width == "400px"
               for n in ("lr0", "lr3", "lrs", "batch_size", "epochs", "selected"))
    assert "descentlab-projector" in lab.widget._dom_classes
    lab.set_projector(False)
    assert lab.column.layout.width == "300px" and slider.layout.width == "290px"
