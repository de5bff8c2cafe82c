"""TuningConfig and the plan: each setting validated once with a message naming it; the
rounds of each search as the engine's searches train them; step 2 needs step 1's lr."""

import pytest
import traitlets as T

from descentlab.widgets.tuning import build as B
from descentlab.widgets.tuning.config import TuningConfig


@pytest.mark.parametrize("name, value, words", [
    ("lr_lo", 0.0, "the lr range must satisfy 0 < lr from < lr to; got [0, 1]"),
    ("lr_hi", 1e-4, "the lr range must satisfy 0 < lr from < lr to; got [0.001, 0.0001]"),
    ("trials", 100, "configs must be an integer in 2..81; got 100"),
    ("epochs", 0, "epochs must be an integer in 1..243; got 0"),
    ("batch_size", 0, "batch_size"),
    ("batch_sizes", "", "batch sizes must list at least one integer"),
    ("search", "bayes", "search must be one of ['grid', 'random', 'successive halving', "
                        "'hyperband']; got 'bayes'"),
    ("stage", "batch size", "step 2 needs the best learning rate of step 1"),
    ("dataset", "nope", "unknown data set 'nope'"),
])
def test_a_rejected_setting_names_itself_and_keeps_the_plan(name, value, words):
    m = TuningConfig()
    plan = m.plan()
    with pytest.raises(T.TraitError) as err:
        setattr(m, name, value)
    assert words in str(err.value)
    assert m.plan() is plan


def test_the_plan_is_built_once_per_setting(monkeypatch):
    m = TuningConfig()
    calls = []
    orig = B.plan
    monkeypatch.setattr(B, "plan", lambda *a, **k: (calls.append(1), orig(*a, **k))[1])
    m.trials = 5
    assert len(calls) == 1 and len(m.config().plan.rounds) == 5 and len(calls) == 1
    m.trials = 9
    m.trials = 5                                             # seen before: reused
    assert len(calls) == 2


def test_rounds_of_each_search():
    built = B.load("linear")
    grid = B.plan(built, "grid", 1e-3, 1.0, 9, 5, 16)
    assert len(grid.rounds) == 9 and [len(r.configs) for r in grid.rounds] == [1] * 9
    assert grid.rounds[0].configs[0]["lr"] == 1e-3 and grid.rounds[-1].configs[0]["lr"] == 1.0
    sh = B.plan(built, "successive halving", 1e-3, 1.0, 27, 1, 16)
    assert [(len(r.configs) or r.keep, r.epochs, r.rung) for r in sh.rounds] == [
        (27, 1, 0), (9, 3, 1), (3, 9, 2), (1, 27, 3)]
    assert B.bracket(27) == (27, 1) and B.bracket(9) == (9, 1) and B.bracket(5) == (3, 1)
    step2 = B.plan(built, "grid", 1e-3, 1.0, 9, 5, 16, stage="batch size", best_lr=0.1,
                   batch_sizes=(4, 64))
    assert [r.configs for r in step2.rounds] == [({"lr": 0.1, "batch_size": 4},),
                                                 ({"lr": 0.1, "batch_size": 64},)]


def test_rank_puts_the_top_rung_first_and_diverged_runs_last():
    rows = [{"score": 0.5, "rung": 0, "stop_reason": "max_epochs"},
            {"score": 0.1, "rung": 0, "stop_reason": "diverged"},
            {"score": float("nan"), "rung": 1, "stop_reason": "max_epochs"},
            {"score": 0.9, "rung": 1, "stop_reason": "max_epochs"},
            {"score": 0.2, "rung": 0, "stop_reason": "max_epochs"}]
    got = [(r["rung"], r["score"]) for r in B.rank(rows)]
    assert got[0] == (1, 0.9) and got[2:] == [(0, 0.2), (0, 0.5), (0, 0.1)]
