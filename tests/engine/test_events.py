"""Live tuning events kept in History and TrainHistory and exported with the CSV."""

import csv
import io

import numpy as np
import pytest

from descentlab.engine import data, models, optimizers, problems, runner, training
from descentlab.engine.records import Event


def tuned_history():
    """Two runs on the bowl; after step 3 the lr of both goes 0.1 -> 0.05, after step 5 the
    momentum of run 1 only goes 0 -> 0.5 (given per run)."""
    prob = problems.get("bowl")
    opt = optimizers.sgd(lr=0.1, momentum=np.array([0.0, 0.0]))
    state = runner.init_run(prob, opt, prob.start, runs=2)
    h = runner.History([runner.start_record(state)])
    for t in range(1, 8):
        if t == 4:
            opt = optimizers.sgd(lr=0.05, momentum=np.array([0.0, 0.0]))
            h.add_event(3, "lr", 0.1, 0.05)
        if t == 6:
            opt = optimizers.sgd(lr=0.05, momentum=np.array([0.0, 0.5]))
            h.add_event(5, "momentum", np.array([0.0, 0.0]), np.array([0.0, 0.5]), runs=[1])
        state, rec = runner.step_run(prob, opt, state)
        h.append(rec)
    return h


def test_events_are_named_records():
    h = tuned_history()
    assert h.events[0] == Event(3, "lr", 0.1, 0.05, None)
    e = h.events[1]
    assert (e.step, e.param, e.runs) == (5, "momentum", (1,))
    np.testing.assert_array_equal(e.new, [0.0, 0.5])
    # the history's own lr column agrees: the new rate applies from step 4 on
    np.testing.assert_array_equal(h.lr[3], [0.1, 0.1])
    np.testing.assert_array_equal(h.lr[4], [0.05, 0.05])


def test_events_column_in_the_csv():
    h = tuned_history()
    buf = io.StringIO()
    h.to_csv(buf)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert list(rows[0])[-1] == "events"
    text = {(int(r["step"]), int(r["run"])): r["events"] for r in rows}
    assert text[(3, 0)] == text[(3, 1)] == "lr: 0.1 -> 0.05"
    assert text[(5, 1)] == "momentum: 0.0 -> 0.5" and text[(5, 0)] == ""
    assert sum(bool(v) for v in text.values()) == 3
    assert h.event_rows()[1] == {"step": 5, "param": "momentum", "old": "[0.0 0.0]",
                                 "new": "[0.0 0.5]", "runs": "1"}


def test_no_events_no_column():
    h = runner.History(runner.run(problems.get("bowl"), optimizers.sgd(lr=0.1), [1.0, 1.0], 2))
    assert "events" not in h.to_rows()[0] and h.events == []


def test_event_values_are_copies_and_bad_events_are_refused():
    h = runner.History()
    lr = np.array([0.1, 0.2])
    h.add_event(0, "lr", lr, lr / 2)
    lr[0] = 9.0
    assert h.events[0].old[0] == 0.1
    with pytest.raises(ValueError, match="step"):
        h.add_event(-1, "lr", 1, 2)
    with pytest.raises(ValueError, match="param"):
        h.add_event(1, "", 1, 2)
    with pytest.raises(ValueError, match="runs"):
        h.add_event(1, "lr", 1, 2, runs=[-1])


def test_train_history_events_in_iteration_and_epoch_rows():
    ds = data.make_dataset("linear", n=25, seed=0)  # 20 training rows: 4 iterations / epoch
    model = models.linear_regression()
    recs = list(training.train(model, ds, optimizers.sgd(lr=0.01), epochs=3, batch_size=5))
    h = training.TrainHistory(recs)
    h.add_event(6, "schedule", "constant", "cosine")
    h.add_event(6, "lr", 0.01, 0.02)
    it = [r for r in h.iteration_rows() if r["events"]]
    assert [r["iteration"] for r in it] == [6]
    assert it[0]["events"] == "schedule: constant -> cosine; lr: 0.01 -> 0.02"
    ep = {r["epoch"]: r["events"] for r in h.epoch_rows()}
    assert ep == {0: "", 1: "", 2: "schedule: constant -> cosine; lr: 0.01 -> 0.02", 3: ""}
    buf = io.StringIO()
    h.to_csv(buf, level="iteration")
    assert buf.getvalue().splitlines()[0].endswith(",active,events")
