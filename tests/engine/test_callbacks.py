"""Early stopping (constructed curves) and reduce-on-plateau (= torch ReduceLROnPlateau)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from descentlab.engine import callbacks as cb

REF = Path(__file__).parents[1] / "reference"
MODES = (("min", "rel"), ("min", "abs"), ("max", "rel"), ("max", "abs"))


def engine_plateau(mode, tmode, inp, active=None):
    cfg = cb.reduce_on_plateau(mode=mode, factor=inp["factor"], patience=inp["patience"],
                               threshold=inp["threshold"], threshold_mode=tmode,
                               cooldown=inp["cooldown"], min_lr=inp["min_lr"], eps=inp["eps"])
    state = cb.plateau_init(cfg, inp["lr0"])
    out = []
    for v in inp["values"]:
        state = cb.plateau_update(cfg, state, v, active)
        out.append(state.lr)
    return np.array(out), state


# ---------------------------------------------------------------------------- plateau


@pytest.mark.parametrize("mode, tmode", MODES)
def test_plateau_equals_stored_torch(mode, tmode):
    ref = np.load(REF / "training.npz")
    pre = f"plateau_{mode}_{tmode}_"
    inp = {k[len(pre):]: ref[k] for k in ref.files if k.startswith(pre)}
    lrs, state = engine_plateau(mode, tmode, inp)
    np.testing.assert_array_equal(lrs, inp["lrs"])
    np.testing.assert_array_equal(state.reductions, (np.diff(
        np.vstack([inp["lr0"], inp["lrs"]]), axis=0) != 0).sum(axis=0))
    assert (np.diff(inp["lrs"], axis=0) != 0).any()            # the vectors do reduce


@pytest.mark.parametrize("mode, tmode", MODES)
def test_plateau_equals_live_torch(mode, tmode):
    torch = pytest.importorskip("torch")
    mk = importlib.import_module("reference.make_training_vectors")
    for seed in (1, 2):
        inp = mk.plateau_inputs(mode, tmode, seed)
        np.testing.assert_array_equal(engine_plateau(mode, tmode, inp)[0],
                                      mk.torch_plateau(torch, mode, tmode, inp))


@given(values=st.lists(st.sampled_from([1.0, 0.99, 0.9, 1.1, 0.5, 2.0, float("nan")]),
                       min_size=1, max_size=25),
       patience=st.integers(0, 3), cooldown=st.integers(0, 2),
       factor=st.sampled_from([0.1, 0.5]), min_lr=st.sampled_from([0.0, 0.02]),
       mode=st.sampled_from(["min", "max"]), tmode=st.sampled_from(["rel", "abs"]))
def test_plateau_matches_live_torch_hypothesis(values, patience, cooldown, factor, min_lr,
                                               mode, tmode):
    torch = pytest.importorskip("torch")
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=1.0)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode=mode, factor=factor, patience=patience, cooldown=cooldown, min_lr=min_lr,
        threshold_mode=tmode)
    cfg = cb.reduce_on_plateau(mode=mode, factor=factor, patience=patience, cooldown=cooldown,
                               min_lr=min_lr, threshold_mode=tmode)
    state = cb.plateau_init(cfg, [1.0])
    for v in values:
        sched.step(v)
        state = cb.plateau_update(cfg, state, v)
        assert state.lr[0] == opt.param_groups[0]["lr"]


def test_plateau_constructed_patience_and_cooldown():
    # constant metric, patience 2, cooldown 1: epoch 1 sets the best, epochs 2, 3 are bad
    # (count 1, 2), epoch 4 makes count 3 > 2: reduce; epoch 5 is cooldown (count reset);
    # epochs 6, 7, 8 bad -> reduce at epoch 8
    cfg = cb.reduce_on_plateau(factor=0.5, patience=2, cooldown=1)
    s = cb.plateau_init(cfg, [1.0])
    lrs = []
    for _ in range(8):
        s = cb.plateau_update(cfg, s, 3.0)
        lrs.append(float(s.lr[0]))
    assert lrs == [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25]


def test_plateau_inactive_runs_are_frozen():
    ref = np.load(REF / "training.npz")
    pre = "plateau_min_rel_"
    inp = {k[len(pre):]: ref[k] for k in ref.files if k.startswith(pre)}
    active = np.arange(12) % 2 == 0
    lrs, _ = engine_plateau("min", "rel", inp, active)
    np.testing.assert_array_equal(lrs[:, active], inp["lrs"][:, active])
    np.testing.assert_array_equal(lrs[:, ~active], np.broadcast_to(inp["lr0"][~active],
                                                                   (40, 6)))


@pytest.mark.parametrize("kw, match", [
    ({"factor": 1.0}, r"factor must be in \(0, 1\)"),
    ({"factor": 1.5}, r"factor must be in \(0, 1\)"),
    ({"factor": 0.0}, r"factor must be in \(0, 1\)"),
    ({"patience": -1}, r"patience must be an integer in \[0, inf\)"),
    ({"patience": 1.5}, "patience must be an integer"),
    ({"cooldown": -2}, r"cooldown must be an integer in \[0, inf\)"),
    ({"threshold": -1e-4}, r"threshold must be in \[0, inf\)"),
    ({"min_lr": -1.0}, r"min_lr must be in \[0, inf\)"),
    ({"eps": -1.0}, r"eps must be in \[0, inf\)"),
    ({"mode": "minimum"}, "mode must be one of"),
    ({"threshold_mode": "relative"}, "threshold_mode must be one of"),
    ({"metric": ""}, "metric must be"),
])
def test_plateau_bad_input(kw, match):
    with pytest.raises(ValueError, match=match):
        cb.reduce_on_plateau(**kw)


# ---------------------------------------------------------------------------- early stopping


def run_early(cfg, values, P=2):
    """Feed a (E, R) curve; params at epoch e are all e (so restore shows the epoch)."""
    values = np.asarray(values, dtype=float)
    R = values.shape[1]
    s = cb.early_stopping_init(cfg, np.zeros((R, P)))
    for e, v in enumerate(values, start=1):
        s = cb.early_stopping_update(cfg, s, v, e, np.full((R, P), float(e)), ~s.stopped)
    return s


def test_early_stopping_constructed_curve():
    # best 3.0 at epoch 3; epochs 4, 5, 6 do not beat it -> patience 3 stops at epoch 6
    curve = [5.0, 4.0, 3.0, 3.5, 3.2, 3.0, 2.0, 1.0]
    s = run_early(cb.early_stopping(patience=3), np.array(curve)[:, None])
    assert s.stopped[0] and s.stop_epoch[0] == 6 and s.best_epoch[0] == 3
    assert s.best[0] == 3.0
    np.testing.assert_array_equal(s.best_params, np.full((1, 2), 3.0))


def test_early_stopping_per_run_patience_min_delta_and_mode():
    curve = np.array([5.0, 4.0, 3.95, 3.9, 3.85, 3.8, 3.75, 3.7])
    values = np.stack([curve, curve, curve, -curve, curve], axis=1)
    cfgs = [cb.early_stopping(patience=[2, 2, 0, 2, 10], min_delta=[0.0, 0.1, 0.0, 0.0, 0.0])]
    s = run_early(cfgs[0], values)
    # run 0: always improves; run 1: gains of 0.05 < 0.1 do not count: best epoch 2, stop 4;
    # run 2: patience 0 but always improves; run 3: decreasing curve in mode "min" of the
    # negated values = getting worse: best epoch 1, stop at epoch 3; run 4: never stops
    assert s.stopped.tolist() == [False, True, False, True, False]
    assert s.stop_epoch.tolist() == [-1, 4, -1, 3, -1]
    assert s.best_epoch.tolist() == [8, 2, 8, 1, 8]
    s_max = run_early(cb.early_stopping(patience=2, mode="max"), curve[:, None])
    assert s_max.stop_epoch[0] == 3 and s_max.best_epoch[0] == 1


def test_early_stopping_patience_zero_and_nan():
    s = run_early(cb.early_stopping(patience=0), np.array([[1.0], [1.0]]))
    assert s.stop_epoch[0] == 2 and s.best_epoch[0] == 1
    s = run_early(cb.early_stopping(patience=2), np.array([[1.0], [np.nan], [np.nan]]))
    assert s.stop_epoch[0] == 3 and s.best_epoch[0] == 1


def test_early_stopping_stopped_runs_stay_frozen():
    cfg = cb.early_stopping(patience=1)
    s = run_early(cfg, np.array([[1.0], [2.0], [0.1], [0.05]]))
    assert s.stop_epoch[0] == 2 and s.best[0] == 1.0 and s.best_epoch[0] == 1


@pytest.mark.parametrize("kw, match", [
    ({"patience": -1}, r"patience must be an integer in \[0, inf\)"),
    ({"patience": 2.5}, "patience must be an integer"),
    ({"patience": True}, "patience must be an integer"),
    ({"min_delta": -0.1}, r"min_delta must be in \[0, inf\)"),
    ({"mode": "down"}, "mode must be one of"),
    ({"metric": 3}, "metric must be"),
])
def test_early_stopping_bad_input(kw, match):
    with pytest.raises(ValueError, match=match):
        cb.early_stopping(**kw)
