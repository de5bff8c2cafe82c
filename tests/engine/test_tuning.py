"""Tuning: best-first tables, seeded, one vectorized batch per round (counted)."""

import io
from collections import deque

import numpy as np
import pytest

from descentlab.engine import callbacks as cb
from descentlab.engine import data, models, optimizers, training
from descentlab.engine import tuning as U

DS = data.make_dataset("moons", n=120, seed=0)       # 96 training rows
M = models.logistic_regression()


@pytest.fixture
def calls(monkeypatch):
    """Record the number of runs R of every training.train call."""
    seen = []
    real = training.train

    def counting(model, dataset, optimizer, **kw):
        seen.append(optimizer.runs)
        return real(model, dataset, optimizer, **kw)

    monkeypatch.setattr(training, "train", counting)
    return seen


def solo_score(config, epochs, batch_size=32, metric="val_loss", seed=0):
    """Train one configuration alone, outside the tuner."""
    c = dict(config)
    fn = optimizers.OPTIMIZERS[c.pop("optimizer", "sgd")]
    B = c.pop("batch_size", batch_size)
    last = deque(training.train(M, DS, fn(**c), epochs=epochs, batch_size=B, seed=seed),
                 maxlen=1)[0]
    return training.evaluate(M, DS, last.params)[metric][0]


def test_grid_search_is_one_batch_best_first_and_equals_solo_runs(calls):
    grid = {"lr": [0.01, 0.1, 1.0], "momentum": [0.0, 0.9]}
    tab = U.grid_search(M, DS, grid, epochs=2)
    assert calls == [6]                                    # all 6 configurations, one call
    rows = tab.rows()
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5, 6]
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores)
    assert sorted((r["lr"], r["momentum"]) for r in rows) == sorted(
        (a, b) for a in grid["lr"] for b in grid["momentum"])
    for r in rows:
        assert r["steps"] == 2 * 3 and r["stop_reason"] == "max_epochs" and r["epochs"] == 2
        assert r["score"] == pytest.approx(solo_score({"lr": r["lr"],
                                                       "momentum": r["momentum"]}, 2),
                                           rel=1e-12)
    assert tab.best == rows[0] and len(tab.log) == 6


def test_grid_search_mode_max_on_accuracy():
    tab = U.grid_search(M, DS, {"lr": [1e-3, 0.03, 0.5]}, epochs=2, metric="val_accuracy",
                        mode="max")
    s = [r["score"] for r in tab.rows()]
    assert s == sorted(s, reverse=True) and tab.rows()[0]["metric"] == "val_accuracy"
    lo = U.grid_search(M, DS, {"lr": [1e-3, 0.03, 0.5]}, epochs=2, mode="min")
    hi = U.grid_search(M, DS, {"lr": [1e-3, 0.03, 0.5]}, epochs=2, mode="max")
    assert [r["lr"] for r in lo.rows()] == [r["lr"] for r in hi.rows()][::-1]


def test_mixed_optimizers_race_in_one_batch_and_batch_sizes_split(calls):
    grid = {"optimizer": ["sgd", "adam"], "lr": [0.01, 0.1]}
    tab = U.grid_search(M, DS, grid, epochs=1)
    assert calls == [4]
    for r in tab.rows():
        assert r["score"] == pytest.approx(solo_score(
            {"optimizer": r["optimizer"], "lr": r["lr"]}, 1), rel=1e-12)
    calls.clear()
    U.grid_search(M, DS, {"lr": [0.01, 0.1], "batch_size": [16, 48]}, epochs=1)
    assert sorted(calls) == [2, 2]                         # one batch per batch size


def test_random_search_seeded_log_uniform_and_one_batch(calls):
    space = {"lr": U.log_uniform(1e-4, 1.0), "momentum": U.uniform(0.0, 0.9),
             "nesterov": U.choice(False)}
    a = U.random_search(M, DS, space, 10, epochs=1, seed=5)
    b = U.random_search(M, DS, space, 10, epochs=1, seed=5)
    c = U.random_search(M, DS, space, 10, epochs=1, seed=6)
    assert calls == [10, 10, 10]
    assert a.rows() == b.rows() and a.rows() != c.rows()
    lrs = np.array([r["lr"] for r in a.rows()])
    assert np.all((lrs >= 1e-4) & (lrs <= 1.0))
    big = U.sample_configs({"lr": U.log_uniform(1e-4, 1.0)}, 4000, 0)
    logs = np.log10([x["lr"] for x in big])
    assert abs(np.mean(logs < -2) - 0.5) < 0.04             # uniform in log scale
    assert abs(np.mean(logs) + 2) < 0.05


def test_successive_halving_rungs(calls):
    space = {"lr": U.log_uniform(1e-3, 1.0)}
    tab = U.successive_halving(M, DS, space, n_configs=9, eta=3, seed=1)
    assert calls == [9, 3, 1]                              # each rung one batch
    log = tab.log
    assert [r["rung"] for r in log] == [0] * 9 + [1] * 3 + [2]
    assert [r["epochs"] for r in log] == [1] * 9 + [3] * 3 + [9]
    rung0 = sorted(log[:9], key=lambda r: r["score"])
    assert {r["trial"] for r in log[9:12]} == {r["trial"] for r in rung0[:3]}
    rung1 = sorted(log[9:12], key=lambda r: r["score"])
    assert log[12]["trial"] == rung1[0]["trial"]
    rows = tab.rows()
    assert len(rows) == 9 and rows[0]["rung"] == 2 and rows[0]["steps"] == 9 * 3
    assert [r["rung"] for r in rows] == [2, 1, 1] + [0] * 6
    assert rows[0]["score"] == pytest.approx(solo_score({"lr": rows[0]["lr"]}, 9, seed=1),
                                             rel=1e-12)


def test_hyperband_bracket_sizes(calls):
    space = {"lr": U.log_uniform(1e-3, 1.0)}
    tab = U.hyperband_bracket(M, DS, space, max_epochs=9, eta=3, seed=0)
    assert calls == [9, 3, 1] and tab.log[0]["epochs"] == 1 and tab.log[-1]["epochs"] == 9
    calls.clear()
    tab = U.hyperband_bracket(M, DS, space, max_epochs=9, eta=3, bracket=1, seed=0)
    assert calls == [5, 1] and [r["epochs"] for r in tab.log] == [3] * 5 + [9]


def test_diverged_runs_rank_last_and_early_stopping_is_logged():
    ds = data.make_dataset("linear", n=60, seed=0)
    m = models.linear_regression()
    tab = U.grid_search(m, ds, {"lr": [0.01, 0.1, 100.0]}, epochs=5, batch_size=8,
                        max_loss=1e6, early_stopping=cb.early_stopping(patience=1))
    rows = tab.rows()
    assert rows[-1]["lr"] == 100.0 and rows[-1]["stop_reason"] == "diverged"
    assert all(r["best_epoch"] >= 0 for r in rows[:2])


def test_table_csv():
    tab = U.grid_search(M, DS, {"lr": [0.01, 0.1]}, epochs=1)
    buf = io.StringIO()
    text = tab.to_csv(buf)
    assert buf.getvalue() == text
    lines = text.splitlines()
    assert lines[0].split(",")[:3] == ["rank", "lr", "score"] and len(lines) == 3
    assert len(tab.to_csv(which="log").splitlines()) == 3


@pytest.mark.parametrize("call, match", [
    (lambda: U.grid_search(M, DS, {"lr": 0.1}), "must be a non-empty list"),
    (lambda: U.grid_search(M, DS, {"lr": [0.1]}, mode="best"), "mode must be"),
    (lambda: U.grid_search(M, DS, {"optimizer": ["sgdd"], "lr": [0.1]}, epochs=1),
     "optimizer must be one of"),
    (lambda: U.grid_search(M, DS, {"lr": [0.1]}, epochs=1, metric="val_r2"),
     "watched|metric must be one of"),
    (lambda: U.random_search(M, DS, {"lr": U.log_uniform(1e-3, 1)}, 0), "n_trials must be"),
    (lambda: U.log_uniform(0.0, 1.0), r"lo must be in \(0, inf\)"),
    (lambda: U.uniform(2.0, 1.0), "lo <= hi"),
    (lambda: U.successive_halving(M, DS, {"lr": [0.1]}, eta=1), "eta must be"),
    (lambda: U.hyperband_bracket(M, DS, {"lr": [0.1]}, max_epochs=9, bracket=3),
     r"bracket must be an integer in \[0, 2\]"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
