"""Data family behaviour: named Run records, validate once (no second data-set build),
live retune vs restart, events on the charts and in the labels, one View of plain arrays
per step, true stop causes, colours that follow the run, the field's numbers."""

import re

import numpy as np
import pytest
import traitlets as T

from descentlab.engine import kinds
from descentlab.widgets.data import (
    DataModel,
    Run,
    View,
    batch_size_explorer,
    early_stopping_trainer,
    regularization_explorer,
)
from descentlab.widgets.data.build import batch_noise, gradient_noise

# ---------------------------------------------------------------------------- runs


def test_runs_are_named_records_edited_by_field_name():
    m = DataModel(runs=[Run("GD", 0.05, 8), Run("Adam", 1e-3, 32, 0.01)])
    assert m.runs[1].batch_size == 32 and m.runs[1].l2 == 0.01
    m.set_field("batch_size", [4, 16, 64])               # one run per value
    assert [r.batch_size for r in m.runs] == [4, 16, 64]
    assert [r.kind for r in m.runs] == ["GD", "Adam", "Adam"]
    m.set_run(0, lr=0.2)
    assert m.runs[0] == Run("GD", 0.2, 4) and m.runs[2].lr == 1e-3
    m.set_field("weight_decay", 0.5)
    assert all(r.weight_decay == 0.5 for r in m.runs)
    with pytest.raises(T.TraitError, match="batch_size must be an integer"):
        m.set_run(0, batch_size="eight")
    with pytest.raises(T.TraitError, match=r"lr must be in \[0, inf\); got -1"):
        m.set_run(0, lr=-1.0)
    assert m.runs[0] == Run("GD", 0.2, 4, 0.0, 0.5)      # last good state kept


def test_kinds_come_from_the_engine_table():
    m = DataModel(runs=[Run(k, 0.01, 8) for k in kinds.names()])
    groups = m.built().groups
    assert len(groups) == 1 and groups[0].blocks == tuple((k, 1) for k in kinds.names())
    with pytest.raises(T.TraitError, match="optimizer kind must be one of"):
        m.set_run(0, kind="Lion")


# ---------------------------------------------------------------------------- validate once


def test_a_batch_size_edit_builds_no_data_set_and_the_session_reuses_validation():
    lab = batch_size_explorer()
    b = lab.model.builder
    before = b.data_builds
    box = lab.boxes["batch_sizes"].control
    box.value = "4, 16"                                   # control -> model -> session
    assert [r.batch_size for r in lab.model.runs] == [4, 16]
    assert b.data_builds == before                        # the data set was not rebuilt
    assert lab.session.built is lab.model.built()         # what validation built, reused
    assert lab.session.dataset is lab.model.built().dataset
    assert lab.charts["loss"].chart.key.widget.value.count("B=") == 2


def test_a_data_edit_builds_the_data_set_once():
    lab = early_stopping_trainer()
    b = lab.model.builder
    before = b.data_builds
    lab.boxes["degree"].control.value = 7
    assert b.data_builds == before + 1
    assert lab.session.dataset.X_train.shape[1] == 7


@pytest.mark.parametrize("text", ["0", "8, 0", "8, 100000", "eight"])
def test_bad_batch_sizes_show_the_error_under_the_control_and_keep_state(text):
    lab = batch_size_explorer()
    lab.frame(7)
    before = (lab.model.runs, lab.session.step, lab.session.view().params.copy())
    field = lab.boxes["batch_sizes"]
    assert field.control.description == "batch sizes"
    field.control.value = text
    assert "batch" in field.errors.message
    if text != "eight":
        assert re.search(r"batch_size must be an integer in \[1, \d+\]", field.errors.message)
    assert lab.model.runs == before[0] and lab.session.step == before[1]
    np.testing.assert_array_equal(lab.session.view().params, before[2])
    assert field.control.value == ", ".join(str(r.batch_size) for r in before[0])
    field.control.value = "4, 16"
    assert field.errors.message == "" and [r.batch_size for r in lab.model.runs] == [4, 16]


def test_negative_lr_shows_the_engine_message_under_its_control():
    lab = early_stopping_trainer()
    lab.frame(3)
    f = lab.boxes["lrs"]
    f.control.value = "-1"
    assert f.errors.message == "lr must be in [0, inf); got -1"
    assert lab.session.step == 3 and f.control.value == "0.05, 0.01"
    f.control.value = "0.05, 0.01, 0.3"
    assert "one per run (2 runs)" in f.errors.message


# ---------------------------------------------------------------------------- retune / restart


def test_an_lr_change_while_training_retunes_live_with_an_event():
    lab = batch_size_explorer(batch_sizes=(8, 32), lr=0.05)
    lab.frame(20)
    s = lab.session
    state_before = s.states[0].opt_state
    lab.boxes["lrs"].control.value = "0.05, 0.2"          # run 1 only
    assert s.step == 20                                   # kept, not restarted
    assert s.states[0].opt_state is state_before          # optimizer state kept
    ev = s.events
    assert len(ev) == 1 and (ev[0].step, ev[0].param, ev[0].old, ev[0].new, ev[0].runs) == \
        (20, "lr", 0.05, 0.2, (1,))
    assert s.labels[1] == "GD B=32 η=0.05 η→0.2 @20" and s.labels[0] == "GD B=8 η=0.05"
    lab.frame(3)
    lr = s.view().lr
    assert lr[1, 20] == 0.05 and lr[1, 21] == 0.2 and lr[0, 21] == 0.05   # lr actually used
    lab.flush()
    eq_rule = lab.charts["loss"].chart.events.x
    np.testing.assert_array_equal(np.reshape(eq_rule, (-1, 2)), [[20.0, 20.0]])  # dashed
    assert "η→0.2 @20" in lab.charts["loss"].chart.key.widget.value
    assert "η→0.2 @20" in lab.charts["loss_epoch"].chart.key.widget.value
    # the past is not relabelled: at step 10 no rule yet, the label still carries the event
    assert s.view(10).event_steps.size == 0
    # the event is in the CSV export
    rows = s.history.rows()
    assert any("lr: 0.05 -> 0.2" in r["events"] for r in rows if r["run"] == 1)


def test_weight_decay_and_momentum_retune_live():
    lab = regularization_explorer()
    lab.frame(9)
    s = lab.session
    lab.model.set_run(2, weight_decay=0.3)                 # AdamW's decay: tuning
    assert s.step == 9 and s.events[-1].param == "weight_decay"
    assert "wd→0.3 @9" in s.labels[2]
    lab2 = batch_size_explorer(batch_sizes=(8, 8), kind="GD")
    lab2.boxes["kind"].control.value = "Momentum"               # a kind: restart
    lab2.model.set_run(1, kind="GD")
    lab2.frame(4)
    lab2.boxes["momentum"].control.value = 0.5                  # momentum: live
    e = lab2.session.events[-1]
    assert lab2.session.step == 4 and (e.param, e.old, e.new, e.runs) == ("momentum", 0.9,
                                                                          0.5, (0,))


@pytest.mark.parametrize("edit", [
    lambda m: m.set_run(0, batch_size=2),                # batch size
    lambda m: m.set_run(1, l2=0.5),                      # L2 penalty in the loss
    lambda m: m.set_run(0, kind="AdamW"),                # kind
    lambda m: m.set_field("lr", [0.05, 0.05, 0.05]),     # number of runs
    lambda m: setattr(m, "seed", 4),
    lambda m: setattr(m, "degree", 9),
    lambda m: setattr(m, "epochs", 1),                   # below the current epoch
])
def test_changes_of_what_a_run_is_restart(edit):
    lab = early_stopping_trainer()
    lab.frame(12)
    edit(lab.model)
    assert lab.session.step == 0 and lab.session.events == []


def test_after_every_run_stopped_a_change_reruns_and_the_status_says_so():
    lab = early_stopping_trainer(epochs=3)
    while lab.frame(50):
        pass
    assert "press reset" in lab.status.widget.value
    lab.boxes["lrs"].control.value = "0.02, 0.01"
    assert lab.session.step == 0 and lab.session.events == []


# ---------------------------------------------------------------------------- views


def test_one_view_of_plain_arrays_per_step_and_messages_for_that_step():
    lab = batch_size_explorer(batch_sizes=(8,), lr=50.0)
    lab.frame(30)
    s = lab.session
    v = s.view(3)
    assert isinstance(v, View) and v.step == 3
    for name, value in v._asdict().items():
        assert not hasattr(value, "session"), name
        assert isinstance(value, (int, np.ndarray, dict, tuple)) or value is None, name
    assert v.params.shape == (1, 2) and v.loss.shape == (1, 4)
    t = s.stops()[0][3]
    assert s.messages(t - 1) == [] and "diverged" in s.messages(t)[0]


def test_charts_are_only_those_the_lab_shows_and_hidden_ones_wait():
    lab = batch_size_explorer()
    assert set(lab.charts) == {"data", "loss", "loss_epoch", "noise", "surface", "epochs"}
    assert "noise" in lab.hidden
    lab.frame(3)
    assert len(lab.charts["noise"].points.x) == 0          # hidden: not drawn
    lab.flush()
    assert len(lab.charts["noise"].points.x) == 4          # drawn when everything is
    lab = early_stopping_trainer()
    assert set(lab.charts) == {"data", "epochs", "loss"}
    assert lab.session.view().surface is None and lab.session.view().noise is None


# ---------------------------------------------------------------------------- stops in words


def test_divergence_names_its_true_cause():
    lab = batch_size_explorer(batch_sizes=(8,), lr=50.0)
    lab.frame(60)
    status = lab.status.widget.value
    s = lab.session
    detail = s.stops()[0][2]
    assert detail in ("nonfinite", "loss_above")
    cause = {"nonfinite": "overflowed", "loss_above": "exceeded max_loss"}[detail]
    assert "diverged at iteration" in status and cause in status and "too large" in status
    m = DataModel(runs=[Run("GD", 3.0, 8)], max_loss=100.0)
    from descentlab.widgets.data.lab import BatchSizeLab
    lab2 = BatchSizeLab(m)
    lab2.frame(40)
    assert lab2.session.stops()[0][2] == "loss_above"
    assert "exceeded max_loss = 100" in lab2.status.widget.value


def test_early_stopping_states_its_rule_and_marks_the_best_epoch():
    lab = early_stopping_trainer(lrs=(0.05,), epochs=400)
    assert lab.model.patience == 5
    rule = lab.rule.value
    assert "patience = 5" in rule and "min_delta = 0" in rule
    while lab.frame(200):
        pass
    s = lab.session
    h = s.histories[0]
    assert h.stop_reason[0] == "early_stopping"
    best = int(h.best_epoch[0])
    val = h.metric("val_loss")[:, 0]
    assert best == int(np.argmin(val[1:]) + 1)
    status = lab.status.widget.value
    assert f"best epoch {best}" in status and "restored" in status
    assert "patience" in status and "min_delta = 0" in status
    lab.flush()
    bx, by = lab.charts["epochs"].best.x, lab.charts["epochs"].best.y
    assert bx[0] == best and by[0] == val[best]
    np.testing.assert_array_equal(s.view().params[0], h.epoch_params[best][0])
    lab.boxes["patience"].control.value = 3
    assert "patience = 3" in lab.rule.value


# ---------------------------------------------------------------------------- colours


def test_colours_follow_the_run():
    lab = batch_size_explorer(batch_sizes=(1, 8, 32, None))
    colours = dict(zip([r.batch_size for r in lab.model.runs],
                       lab.charts["loss"].chart.lines.colors, strict=True))
    lab.boxes["batch_sizes"].control.value = "8, 32"       # a batch size keeps its colour
    assert lab.charts["loss"].chart.lines.colors == [colours[8], colours[32]]
    reg = regularization_explorer()
    before = list(reg.charts["epochs"].chart.lines.colors)
    assert len(set(before[::2])) == 3                      # three runs, three colours
    reg.boxes["lam"].control.value = 0.5                   # λ changes: colours stay
    assert list(reg.charts["epochs"].chart.lines.colors) == before
    es = early_stopping_trainer()
    c0 = list(es.charts["loss"].chart.lines.colors)
    es.boxes["lrs"].control.value = "0.02, 0.001"
    assert list(es.charts["loss"].chart.lines.colors) == c0


def test_every_multi_run_chart_has_a_key_beside_the_data():
    lab = batch_size_explorer()
    for name in ("loss", "loss_epoch", "epochs"):
        key = lab.charts[name].chart.key.widget.value
        assert "B=1" in key and "B=N" in key, name
    assert "B=8" in lab.charts["data"].runs_key.widget.value
    assert "train (dots)" in lab.charts["data"].points_key.widget.value
    assert "B=8" in lab.charts["noise"].key.widget.value
    assert "B=8" in lab.charts["surface"].key.widget.value


# ---------------------------------------------------------------------------- field numbers


def test_the_fields_numbers_are_the_defaults():
    lab = batch_size_explorer()
    assert all(r.lr == kinds.FIELD_LR["GD"] == 1e-2 for r in lab.model.runs)
    assert "32–128" in lab.info.value
    adam = batch_size_explorer(kind="Adam", batch_sizes=(8,))
    assert adam.model.runs[0].lr == 1e-3
    es = early_stopping_trainer()
    assert es.model.patience == 5 and DataModel().patience == 5
    reg = regularization_explorer()
    lam = reg.boxes["lam"].control
    assert 10 ** lam.min <= 1e-5 and 10 ** lam.max >= 1.0
    assert lam.value == pytest.approx(0.1) and lam.value < 10 ** lam.max
    assert reg.model.runs[1].l2 == reg.model.runs[2].weight_decay == pytest.approx(0.1)


def test_each_batch_size_has_its_own_learning_rate():
    lab = batch_size_explorer(batch_sizes=(1, None), lrs=(0.01, 0.5))
    assert [r.lr for r in lab.model.runs] == [0.01, 0.5]
    lab.boxes["lrs"].control.value = "0.02, 0.9"
    assert [r.lr for r in lab.model.runs] == [0.02, 0.9]
    lab.frame(5)
    np.testing.assert_array_equal(lab.session.view().lr[:, -1], [0.02, 0.9])


def test_regularization_runs_differ_at_the_defaults():
    lab = regularization_explorer()
    while lab.frame(500):
        pass
    val = lab.session.view().metrics["val_mse"]
    assert val[0] > 3 * max(val[1], val[2])              # no penalty overfits plainly
    assert abs(val[1] - val[2]) > 0.02                   # L2 and AdamW differ


def test_gradient_noise_is_the_variance_of_the_minibatch_gradient():
    lab = batch_size_explorer(batch_sizes=(1, 8, 32, None))
    lab.frame(3)
    s = lab.session
    assert s.view().noise is None                        # its tab is hidden: not computed
    lab.flush()                                          # every chart drawn: computed
    v = s.view()
    ds, P = s.dataset, v.params
    X = np.hstack([ds.X_train, np.ones((s.N, 1))])
    per = 2.0 * (X @ P[0] - ds.y_train)[:, None] * X              # per-example gradients
    sigma2 = np.mean(np.sum((per - per.mean(0)) ** 2, axis=1))
    model = s.groups[0].model
    assert gradient_noise(model, P[:1], ds.X_train, ds.y_train)[0] == pytest.approx(sigma2,
                                                                                   1e-12)
    # E||g_B - g||^2 for B rows without replacement, checked by exhaustive B = 2 pairs
    sub = per[:6]
    pairs = [(i, j) for i in range(6) for j in range(i + 1, 6)]
    dev = [np.sum(((sub[i] + sub[j]) / 2 - sub.mean(0)) ** 2) for i, j in pairs]
    s2 = np.mean(np.sum((sub - sub.mean(0)) ** 2, axis=1))
    assert batch_noise(s2, 6, 2) == pytest.approx(np.mean(dev), 1e-12)
    noise = v.noise.noise
    assert noise[0] > noise[1] > noise[2] > 0 and noise[3] == 0      # falls with B, 0 at N
    lab.flush()
    pts = lab.charts["noise"].points
    np.testing.assert_array_equal(pts.x, [1, 8, 32])                  # B = N has no point


def test_a_stopped_run_is_not_relabelled_and_the_status_says_reset():
    lab = batch_size_explorer(batch_sizes=(8, 32), lrs=(50.0, 0.05))
    lab.frame(40)
    s = lab.session
    assert s.stops()[0][0] == 0 and s.running                # run 0 diverged, run 1 runs
    label0 = s.labels[0]
    lab.boxes["lrs"].control.value = "0.01, 0.1"
    assert s.step == 40 and s.labels[0] == label0           # not relabelled
    assert [e.runs for e in s.events] == [(1,)]             # the running run's event only
    assert "has stopped: its new lr takes effect after a reset" in lab.status.widget.value


def test_choosing_a_data_set_keeps_the_full_batch_and_builds_once():
    lab = batch_size_explorer()
    lab.frame(4)
    b = lab.model.builder
    before = b.data_builds
    lab.data_box.value = "iris"
    s = lab.session
    assert b.data_builds == before + 1 and s.dataset.name == "iris" and s.step == 0
    assert [r.batch_size for r in lab.model.runs] == [1, 8, 32, 120]     # 128 -> N = 120
    assert s.labels[-1].startswith("GD B=N") and lab.boxes["data"].errors.message == ""
    assert lab.charts["data"].mode == "none" and s.view().surface is None
    lab.boxes["batch_sizes"].control.value = "8, 200"
    assert "batch_size must be an integer in [1, 120], got 200" in \
        lab.boxes["batch_sizes"].errors.message
    lab.data_box.value = "circles"
    assert lab.charts["data"].mode == "boundary" and lab.session.N == 320


def test_an_edit_of_several_traits_restarts_once_and_the_same_choice_changes_nothing(
        monkeypatch):
    lab = batch_size_explorer()
    lab.frame(4)
    restarts = []
    original = lab.session.restart
    monkeypatch.setattr(lab.session, "restart",
                        lambda cfg: (restarts.append(cfg), original(cfg))[1])
    lab.data_box.value = "circles"           # data set, its parameters and the runs at once
    assert len(restarts) == 1 and lab.session.dataset.name == "circles"
    lab.frame(3)
    lab.choose_dataset("circles", lab.boxes["data"])        # what it has: nothing happens
    assert len(restarts) == 1 and lab.session.step == 3
    lab.apply_scene("typical-batches")       # data set and runs back: once, then its reset
    assert len(restarts) == 3 and lab.session.dataset.name == "linear"
    lab.close()
