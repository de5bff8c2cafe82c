"""Reduce-on-plateau on a surface: the runner steps torch's ReduceLROnPlateau on each run's
loss (engine.callbacks' state machine), and equals torch run by run -- stored vectors
(tests/reference/make_runner_vectors.py) and live."""

import importlib
import json
from pathlib import Path

import numpy as np
import pytest

from descentlab.engine import callbacks as cb
from descentlab.engine import optimizers as O
from descentlab.engine import problems, runner, schedules
from descentlab.engine.runner import History, init_run, plateau, run, step_run

REF = Path(__file__).parents[1] / "reference" / "runner.npz"


def engine_case(case):
    """The engine's race of one PLATEAU case: History of R runs in one call."""
    surface, skw, start, name, okw, lrs, pkw, every, steps = case
    prob = problems.get(surface, **skw)
    lr = np.array(lrs, dtype=np.float64)
    opt = O.adam(lr, **okw) if name == "adam" else O.sgd(lr, **okw)
    return History(run(prob, opt, np.array(start), steps, plateau=plateau(**pkw, every=every)))


def check_case(case, t_params, t_loss, t_lrs):
    h = engine_case(case)
    steps = case[-1]
    assert len(h) == steps + 1
    np.testing.assert_allclose(h.lr[1:], t_lrs, rtol=1e-12, atol=0)
    np.testing.assert_allclose(h.params, t_params, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h.loss, t_loss, rtol=1e-12, atol=1e-12)
    # every reduction is an event at the step whose loss triggered it
    drops = np.flatnonzero((np.diff(t_lrs, axis=0) != 0).any(axis=1)) + 1
    events = [e for e in h.events if e.param == runner.PLATEAU_EVENT]
    assert [e.step for e in events] == drops.tolist()
    for e in events:
        for r in e.runs:
            assert e.new[r] == pytest.approx(t_lrs[e.step, r], rel=1e-15)
            assert e.old[r] == pytest.approx(t_lrs[e.step - 1, r], rel=1e-15)
    return h


def test_plateau_matches_stored_torch():
    ref = np.load(REF)
    cases = json.loads(str(ref["plateau_cases"]))
    assert len(cases) == 3
    for i, case in enumerate(cases):
        t_lrs = ref[f"plateau{i}_lrs"]
        assert (np.diff(t_lrs, axis=0) != 0).any()          # the vectors do reduce
        check_case(case, ref[f"plateau{i}_params"], ref[f"plateau{i}_loss"], t_lrs)
    assert np.unique(ref["plateau2_lrs"]).min() == 5e-3       # min_lr reached and held


def test_plateau_matches_live_torch():
    pytest.importorskip("torch")
    mod = importlib.import_module("reference.make_runner_vectors")
    for case in mod.PLATEAU:
        check_case(case, *mod.plateau_case(case))


def test_plateau_with_a_race_of_kinds_and_live_torch_rule_on_the_same_losses():
    """A race (SGD block + Adam block): each run's rate is the callbacks' machine fed with
    that run's own loss sequence, read back from the history."""
    prob = problems.get("rosenbrock")
    opt = O.race([O.sgd(np.array([1e-3, 5e-4]), momentum=0.9), O.adam(0.05)], [2, 1])
    rule = plateau(factor=0.5, patience=4, threshold=1e-3, cooldown=1)
    h = History(run(prob, opt, prob.start, 120, plateau=rule))
    state = cb.plateau_init(rule.rule, h.lr[1])
    for t in range(1, 120):
        state = cb.plateau_update(rule.rule, state, h.loss[t])
        np.testing.assert_allclose(h.lr[t + 1], state.lr, rtol=1e-15)
    assert (np.diff(h.lr[1:], axis=0) != 0).any()


def test_plateau_composes_with_a_schedule_as_a_multiplier():
    prob = problems.get("bowl")
    sched = schedules.cosine(0.2, 100)
    rule = plateau(factor=0.5, patience=0, threshold=0.9)
    h = History(run(prob, O.sgd(sched), prob.start, 6, plateau=rule))
    # the first evaluation (after step 1) is better than +inf; every later one is bad
    # (never 90 % lower), so with patience 0 the scale after step t >= 1 is 0.5^(t-1)
    t = np.arange(2, 7)
    assert h.lr[1, 0] == sched(0)
    np.testing.assert_allclose(h.lr[2:, 0], sched(t - 1) * 0.5 ** (t - 2), rtol=1e-14)


def test_plateau_every_k_steps_and_stopped_runs_are_frozen():
    prob = problems.get("bowl")
    rule = plateau(factor=0.5, patience=0, threshold=0.9, every=3)
    h = History(run(prob, O.sgd(np.array([0.1, 0.05])), prob.start, 10, plateau=rule))
    assert [e.step for e in h.events] == [6, 9]     # step 3: the first value, "better"
    np.testing.assert_array_equal(h.lr[1:, 0], [0.1] * 6 + [0.05] * 3 + [0.025])
    np.testing.assert_array_equal(h.lr[1:, 1], [0.05] * 6 + [0.025] * 3 + [0.0125])
    # the step limit ends the runs at step 9: no reduction is taken after the last step
    h9 = History(run(prob, O.sgd(np.array([0.1, 0.05])), prob.start, 9, plateau=rule))
    assert [e.step for e in h9.events] == [6]
    # a run stopped by grad_tol keeps its rate and plateau state
    st = init_run(prob, O.sgd(np.array([0.5, 0.1])), prob.start,
                  stopping=runner.Stopping(grad_tol=1e-9), plateau=plateau(patience=0,
                                                                            threshold=0.9))
    for _ in range(2):
        st, _ = step_run(prob, O.sgd(np.array([0.5, 0.1])), st,
                         runner.Stopping(grad_tol=1e-9))
    assert list(st.active) == [False, True]           # lr 0.5 lands on the minimum
    assert st.plateau.state.lr[0] == 0.5 and st.plateau.state.reductions[0] == 0
    assert st.plateau.state.lr[1] == pytest.approx(0.01)   # step 2 was bad: 0.1 -> 0.01


def test_live_retune_keeps_the_reductions_as_a_scale():
    prob = problems.get("bowl")
    rule = plateau(factor=0.5, patience=0, threshold=0.9)
    st = init_run(prob, O.sgd(0.1), prob.start, plateau=rule)
    for _ in range(2):
        st, _ = step_run(prob, O.sgd(0.1), st)          # reduced after step 2: scale 0.5
    st, rec = step_run(prob, O.sgd(0.3), st)            # a new rate, the scale carried over
    assert rec.lr[0] == pytest.approx(0.15)


def test_start_record_and_csv_carry_the_plateau():
    prob = problems.get("bowl")
    h = History(run(prob, O.sgd(0.1), prob.start, 3,
                    plateau=plateau(factor=0.5, patience=0, threshold=0.9)))
    rows = h.to_rows()
    assert [r["events"] for r in rows] == ["", "", "plateau_lr: 0.1 -> 0.05", ""]
    assert [r["lr"] for r in rows] == [0.1, 0.1, 0.1, 0.05]


@pytest.mark.parametrize("kwargs, match", [
    ({"factor": 1.0}, r"factor must be in \(0, 1\); got 1"),
    ({"factor": 0.0}, r"factor must be in \(0, 1\); got 0"),
    ({"patience": -1}, r"patience must be an integer in \[0, inf\)"),
    ({"patience": 2.5}, r"patience must be an integer in \[0, inf\)"),
    ({"cooldown": -2}, r"cooldown must be an integer in \[0, inf\)"),
    ({"threshold": -1e-3}, r"threshold must be in \[0, inf\)"),
    ({"min_lr": -1.0}, r"min_lr must be in \[0, inf\)"),
    ({"eps": -1.0}, r"eps must be in \[0, inf\)"),
    ({"threshold_mode": "relative"}, r"threshold_mode must be one of \['rel', 'abs'\]"),
    ({"every": 0}, r"every must be an integer in \[1, inf\)"),
])
def test_bad_plateau_arguments_name_the_parameter_and_range(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plateau(**kwargs)


def test_bad_plateau_use_is_refused():
    prob = problems.get("bowl")
    with pytest.raises(ValueError, match="plateau must be None"):
        init_run(prob, O.sgd(0.1), prob.start, plateau={"factor": 0.5})
    with pytest.raises(ValueError, match="plateau factor has 3 values but there are 2 runs"):
        init_run(prob, O.sgd(np.array([0.1, 0.2])), prob.start,
                 plateau=plateau(factor=np.array([0.1, 0.2, 0.5])))
    # a callbacks config is accepted as is (evaluated every step)
    st = init_run(prob, O.sgd(0.1), prob.start, plateau=cb.reduce_on_plateau(patience=0))
    assert st.plateau.config.every == 1
