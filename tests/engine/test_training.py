"""Training on data: equals torch (stored + live), stop reasons, early stopping, history."""

import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from descentlab.engine import callbacks as cb
from descentlab.engine import data, models, optimizers, training

REF = Path(__file__).parents[1] / "reference"


MK = importlib.import_module("reference.make_training_vectors")


def dataset_of(inp):
    return data.Dataset(inp["X"], inp["y"], inp["Xv"], inp["yv"], "binary", 2,
                        ("a", "b", "c"), "y", "ref")


def engine_case(name, inp):
    kind, kw, lrs, B, E, shared, drop_last, plat = MK.CASES[name]
    opt = optimizers.OPTIMIZERS[kind](lr=np.array(lrs), **kw)
    h = training.TrainHistory(training.train(
        models.logistic_regression(), dataset_of(inp), opt, epochs=E, batch_size=B,
        shared_batches=shared, drop_last=drop_last, seed=int(inp["seed"]),
        plateau=None if plat is None else cb.reduce_on_plateau(**plat)))
    return h, E, len(lrs)


def check_against(h, E, R, ref):
    np.testing.assert_allclose(h.epoch_params, ref["epoch_params"], rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(h.train_loss[1:], ref["batch_loss"], rtol=1e-12, atol=1e-14)
    lr_used = h.lr[1:].reshape(E, -1, R)[:, 0]          # lr of each epoch's first step
    np.testing.assert_allclose(lr_used, ref["epoch_lr"][:-1], rtol=1e-14)
    assert h.epoch_index.tolist() == list(range(E + 1))


@pytest.mark.parametrize("name", list(MK.CASES))
def test_training_equals_stored_torch(name):
    ref = np.load(REF / "training.npz")
    inp = {k: ref["train_" + k] for k in ("X", "y", "Xv", "yv", "seed")}
    h, E, R = engine_case(name, inp)
    out = {k: ref[f"train_{name}_{k}"] for k in ("epoch_params", "batch_loss", "epoch_lr")}
    check_against(h, E, R, out)
    if name == "plateau":
        assert (np.diff(out["epoch_lr"], axis=0) < 0).any()   # the plateau did reduce


@pytest.mark.parametrize("name", list(MK.CASES))
def test_training_equals_live_torch(name):
    torch = pytest.importorskip("torch")
    inp = MK.training_inputs(seed=21)
    h, E, R = engine_case(name, inp)
    check_against(h, E, R, MK.torch_training(torch, name, inp))


# ---------------------------------------------------------------------------- records


def blobs():
    return data.make_dataset("blobs2", n=100, seed=3)     # 80 train rows, 20 validation


def test_records_counters_and_epoch_metrics_equal_sklearn():
    ds = blobs()
    m = models.logistic_regression()
    recs = list(training.train(m, ds, optimizers.sgd(lr=np.array([0.1, 0.5])), epochs=3,
                               batch_size=32))
    assert len(recs) == 1 + 3 * 3                              # ceil(80 / 32) = 3 per epoch
    assert [r.iteration for r in recs] == list(range(10))
    assert [r.epoch for r in recs] == [0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert [r.epoch_end for r in recs] == [True] + [False, False, True] * 3
    assert [len(r.batch) for r in recs[1:4]] == [32, 32, 16]
    last = recs[-1]
    assert last.stop_reason.tolist() == ["max_epochs"] * 2 and last.stop_step.tolist() == [9, 9]
    assert not last.active.any()
    for part, X, y in (("train", ds.X_train, ds.y_train), ("val", ds.X_val, ds.y_val)):
        p = m.predict(last.params, X)
        for r in range(2):
            assert last.metrics[f"{part}_accuracy"][r] == skm.accuracy_score(y, p[r] > 0.5)
            assert np.isclose(last.metrics[f"{part}_log_loss"][r], skm.log_loss(y, p[r]),
                              rtol=1e-12)
    # the batch loss is the loss of the recorded batch at the previous params
    r = recs[5]
    np.testing.assert_allclose(r.train_loss, m.loss(recs[4].params, ds.X_train[r.batch],
                                                    ds.y_train[r.batch]), rtol=1e-14)


def test_regression_metrics_equal_sklearn():
    ds = data.make_dataset("linear", n=60, seed=0)
    m = models.linear_regression()
    last = list(training.train(m, ds, optimizers.adam(lr=0.05), epochs=2, batch_size=8))[-1]
    p = m.predict(last.params, ds.X_val)[0]
    assert np.isclose(last.metrics["val_mse"][0], skm.mean_squared_error(ds.y_val, p))
    assert np.isclose(last.metrics["val_rmse"][0], skm.root_mean_squared_error(ds.y_val, p))
    assert np.isclose(last.metrics["val_mae"][0], skm.mean_absolute_error(ds.y_val, p))
    assert np.isclose(last.metrics["val_r2"][0], skm.r2_score(ds.y_val, p))


def test_per_run_batches_differ_and_runs_match_solo_runs():
    ds = blobs()
    m = models.logistic_regression()
    lrs = np.array([0.05, 0.3, 1.0])
    recs = list(training.train(m, ds, optimizers.sgd(lr=lrs), epochs=2, batch_size=10,
                               shared_batches=True))
    for r, lr in enumerate(lrs):     # a shared-batch race equals each run alone
        solo = list(training.train(m, ds, optimizers.sgd(lr=lr), epochs=2, batch_size=10))
        np.testing.assert_allclose(recs[-1].params[r], solo[-1].params[0], rtol=1e-13)
    per = list(training.train(m, ds, optimizers.sgd(lr=np.array([0.3, 0.3])), epochs=1,
                              batch_size=10, shared_batches=False))
    assert per[1].batch.shape == (2, 10)
    assert not np.array_equal(per[-1].params[0], per[-1].params[1])


def test_train_step_can_swap_the_optimizer():
    ds = blobs()
    m = models.logistic_regression()
    rules = training.TrainRules(epochs=5).validated(ds.task)
    s = training.init_train(m, ds, optimizers.sgd(lr=0.1), batch_size=16, rules=rules)
    s, r1 = training.train_step(m, ds, optimizers.sgd(lr=0.1), s, rules)
    s, r2 = training.train_step(m, ds, optimizers.sgd(lr=0.4), s, rules)
    np.testing.assert_allclose(r1.update, -0.1 * r1.grad, rtol=1e-15)
    np.testing.assert_allclose(r2.update, -0.4 * r2.grad, rtol=1e-15)
    assert r2.lr.tolist() == [0.4] and r2.iteration == 2


# ---------------------------------------------------------------------------- stopping


def flipped():
    """Validation labels are the training labels flipped: fitting the training set makes the
    validation loss rise from epoch 1 on."""
    ds = data.make_dataset("blobs2", n=100, seed=5)
    return ds._replace(X_val=ds.X_train, y_val=1 - ds.y_train)


def test_early_stopping_stops_at_the_right_epoch_and_restores_best():
    ds = flipped()
    es = cb.early_stopping(patience=np.array([1, 3]))
    h = training.TrainHistory(training.train(
        models.logistic_regression(), ds, optimizers.sgd(lr=np.array([0.5, 0.5])), epochs=20,
        batch_size=40, early_stopping=es))
    val = h.metric("val_loss")[1:, 1]                       # epochs 1..4 of run 1
    assert len(val) == 4 and np.all(np.diff(val) > 0)       # the constructed rising curve
    # a stopped run keeps the scores of its last epoch
    np.testing.assert_array_equal(h.metric("val_loss")[2:, 0], h.metric("val_loss")[2, 0])
    assert h.stop_reason.tolist() == ["early_stopping"] * 2
    assert h.stop_epoch.tolist() == [2, 4] and h.best_epoch.tolist() == [1, 1]
    final = h.params[-1]
    np.testing.assert_array_equal(final, h.epoch_params[1])  # best (epoch 1) params restored
    assert h.active[-1].tolist() == [False, False]


def test_restore_best_at_max_epochs_and_without_restore():
    ds = flipped()
    kw = dict(epochs=3, batch_size=40)
    m, opt = models.logistic_regression(), optimizers.sgd(lr=0.5)
    h = training.TrainHistory(training.train(m, ds, opt, early_stopping=cb.early_stopping(
        patience=10), **kw))
    assert h.stop_reason.tolist() == ["max_epochs"] and h.best_epoch.tolist() == [1]
    np.testing.assert_array_equal(h.params[-1], h.epoch_params[1])
    h2 = training.TrainHistory(training.train(m, ds, opt, early_stopping=cb.early_stopping(
        patience=1, restore_best=False), **kw))
    assert h2.stop_reason.tolist() == ["early_stopping"] and h2.stop_epoch.tolist() == [2]
    np.testing.assert_array_equal(h2.params[-1], h2.epoch_params[2])


def test_divergence_is_frozen_and_does_not_touch_other_runs():
    ds = data.make_dataset("linear", n=50, seed=1)
    m = models.linear_regression()
    recs = list(training.train(m, ds, optimizers.sgd(lr=np.array([0.05, 50.0])), epochs=4,
                               batch_size=8, max_loss=1e6))
    last = recs[-1]
    assert last.stop_reason.tolist() == ["max_epochs", "diverged"]
    t = last.stop_step[1]
    assert 0 < t < last.iteration and last.stop_epoch[1] >= 1
    for r in recs:
        assert np.all(np.isfinite(r.params))                  # NaN never leaks
    frozen = [r.params[1] for r in recs[t:]]
    assert all(np.array_equal(frozen[0], p) for p in frozen)
    assert recs[t].update[1].tolist() == [0.0, 0.0]
    solo = list(training.train(m, ds, optimizers.sgd(lr=0.05), epochs=4, batch_size=8))
    np.testing.assert_allclose(last.params[0], solo[-1].params[0], rtol=1e-13)


def test_grad_tol_and_loss_tol_on_the_full_training_objective():
    ds = data.make_dataset("linear", n=50, seed=2)
    m = models.linear_regression()
    N = ds.X_train.shape[0]
    h = training.TrainHistory(training.train(m, ds, optimizers.sgd(lr=0.3), epochs=200,
                                             batch_size=N, grad_tol=1e-4))
    assert h.stop_reason.tolist() == ["grad_tol"]
    e = h.stop_epoch[0]
    g = np.linalg.norm(m.grad(h.epoch_params[:, 0], ds.X_train, ds.y_train), axis=1)
    assert g[e] <= 1e-4 < g[e - 1]
    h = training.TrainHistory(training.train(m, ds, optimizers.sgd(lr=0.3), epochs=200,
                                             batch_size=N, loss_tol=1e-6))
    assert h.stop_reason.tolist() == ["loss_tol"]
    e = h.stop_epoch[0]
    L = m.loss(h.epoch_params[:, 0], ds.X_train, ds.y_train)
    assert abs(L[e] - L[e - 1]) <= 1e-6 < abs(L[e - 1] - L[e - 2])
    assert h.metric("train_loss")[e] == pytest.approx(L[e], rel=1e-14)


def test_zero_epochs_and_start_record():
    recs = list(training.train(models.logistic_regression(), blobs(), optimizers.sgd(lr=0.1),
                               epochs=0))
    assert len(recs) == 1 and recs[0].stop_reason.tolist() == ["max_epochs"]
    assert recs[0].metrics["train_loss"][0] == pytest.approx(np.log(2))


# ---------------------------------------------------------------------------- history and input


def test_history_arrays_and_csv():
    ds = blobs()
    h = training.TrainHistory(training.train(models.logistic_regression(), ds,
                                             optimizers.adam(lr=np.array([0.01, 0.1])),
                                             epochs=2, batch_size=20))
    assert h.params.shape == (9, 2, 3) and h.train_loss.shape == (9, 2)
    assert h.metric("val_accuracy").shape == (3, 2) and h.epoch_iteration.tolist() == [0, 4, 8]
    buf = io.StringIO()
    h.to_csv(buf)
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("epoch,iteration,run,train_loss") and len(lines) == 1 + 3 * 2
    buf = io.StringIO()
    h.to_csv(buf, level="iteration")
    assert len(buf.getvalue().splitlines()) == 1 + 9 * 2
    with pytest.raises(ValueError, match="level must be"):
        h.to_csv(io.StringIO(), level="step")
    with pytest.raises(ValueError, match="metric must be one of"):
        h.metric("val_r2")


@pytest.mark.parametrize("kw, match", [
    ({"batch_size": 0}, r"batch_size must be an integer in \[1, 80\]"),
    ({"batch_size": 81}, r"batch_size must be an integer in \[1, 80\]"),
    ({"epochs": -1}, r"epochs must be an integer in \[0, inf\)"),
    ({"grad_tol": -1.0}, r"grad_tol must be in \[0, inf\)"),
    ({"max_loss": 0.0}, r"max_loss must be in \(0, inf\)"),
    ({"metrics": ("r2",)}, "metrics for a binary task must be among"),
    ({"early_stopping": cb.early_stopping(metric="val_r2")}, "watched metric must be one of"),
    ({"early_stopping": 5}, "early_stopping must be None or"),
    ({"runs": 3}, "the number of runs R disagrees"),
    ({"init": np.zeros(4)}, r"init must have shape \(3,\) or \(R, 3\)"),
    ({"init": np.array([0.0, np.nan, 0.0])}, "init must be finite"),
])
def test_bad_input(kw, match):
    args = dict(epochs=1, batch_size=8)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        list(training.train(models.logistic_regression(), blobs(),
                            optimizers.sgd(lr=np.array([0.1, 0.2])), **args))


def test_model_and_task_must_fit():
    with pytest.raises(ValueError, match="model linear_regression is for regression"):
        list(training.train(models.linear_regression(), blobs(), optimizers.sgd(lr=0.1),
                            epochs=1))


def test_overflowing_predictions_give_nan_metrics_and_diverged_not_errors():
    ds = data.make_dataset("blobs", n=60, seed=0)
    m = models.softmax_regression(3)
    init = np.zeros((2, m.n_params(2, 3)))
    init[1] = 1e308                                        # finite, but the logits overflow
    scores = training.evaluate(m, ds, init)
    assert np.isnan(scores["val_log_loss"][1]) and np.isnan(scores["val_accuracy"][1])
    assert scores["val_log_loss"][0] == pytest.approx(np.log(3))
    recs = list(training.train(m, ds, optimizers.sgd(lr=0.1), epochs=2, batch_size=16,
                               init=init))
    assert recs[-1].stop_reason.tolist() == ["max_epochs", "diverged"]
    assert recs[-1].stop_step.tolist()[1] == 0


@settings(max_examples=25)
@given(n=st.integers(5, 40), b=st.integers(1, 40), drop=st.booleans(), epochs=st.integers(0, 3),
       shared=st.booleans())
def test_iteration_and_epoch_counts(n, b, drop, epochs, shared):
    rng = np.random.default_rng(n)
    X = rng.standard_normal((n + 3, 2))
    ds = data.from_arrays(X, rng.standard_normal(n + 3), val_fraction=3 / (n + 3), seed=0)
    N = ds.X_train.shape[0]
    b = min(b, N)
    per = N // b if drop else -(-N // b)
    recs = list(training.train(models.linear_regression(), ds,
                               optimizers.sgd(lr=np.array([0.01, 0.02])), epochs=epochs,
                               batch_size=b, drop_last=drop, shared_batches=shared))
    assert len(recs) == 1 + epochs * per
    ends = [r.iteration for r in recs if r.epoch_end]
    assert ends == [e * per for e in range(epochs + 1)]
    assert [r.epoch for r in recs[1:]] == [1 + i // per for i in range(epochs * per)]
    for r in recs[1:]:
        assert r.batch.shape[-1] == (b if drop or r.iteration % per else N - (per - 1) * b)
        assert r.batch.ndim == (1 if shared else 2)
