"""Schedules equal torch.optim.lr_scheduler: stored vectors everywhere, live torch where installed.

The torch driver and the list of cases live in tests/reference/make_schedule_vectors.py
(imported here by path); it records ``optimizer.param_groups[0]["lr"]`` before each
``optimizer.step()``, i.e. the lr torch uses after ``t`` calls of ``scheduler.step()``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from descentlab.engine import schedules as S
from descentlab.engine.transforms import scale_by_learning_rate

REF = Path(__file__).resolve().parents[1] / "reference"
M = importlib.import_module("reference.make_schedule_vectors")

RTOL = 1e-9
TINY = np.finfo(float).tiny       # below it floats are subnormal: only absolute precision


def build(name: str, kwargs: dict) -> S.Schedule:
    """Our schedule for a reference case: list-valued float arguments become (R,) arrays."""
    kw = {k: (np.asarray(v, dtype=float) if k in M.PER_RUN and isinstance(v, list) else v)
          for k, v in kwargs.items()}
    return S.get(name, **kw)


def assert_close(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=TINY)


CASE_IDS = [f"{i}-{name}" for i, (name, _, _) in enumerate(M.CASES)]


# ---------------------------------------------------------------- stored torch vectors


@pytest.fixture(scope="module")
def stored():
    return np.load(REF / "schedules.npz")


def test_stored_vectors_cover_the_script_cases(stored):
    assert json.loads(str(stored["cases"])) == json.loads(json.dumps(M.CASES))
    assert {name for name, _, _ in M.CASES} == set(S.names())


@pytest.mark.parametrize("i", range(len(M.CASES)), ids=CASE_IDS)
def test_equals_stored_torch_vectors(stored, i):
    name, kwargs, n = M.CASES[i]
    assert_close(build(name, kwargs)(np.arange(n)), stored[f"case{i}"])


@pytest.mark.parametrize("i", range(len(M.CASES)), ids=CASE_IDS)
def test_scalar_calls_equal_stored_torch_vectors(stored, i):
    name, kwargs, n = M.CASES[i]
    sched, ref = build(name, kwargs), stored[f"case{i}"]
    for t in sorted({0, 1, 2, n // 3, n // 2, n - 2, n - 1}):
        assert_close(sched(t), ref[..., t])


# ---------------------------------------------------------------- live torch


@pytest.mark.parametrize("i", range(len(M.CASES)), ids=CASE_IDS)
def test_equals_live_torch(i):
    pytest.importorskip("torch")
    name, kwargs, n = M.CASES[i]
    assert_close(build(name, kwargs)(np.arange(n)), M.torch_lrs(name, kwargs, n))


lrs = st.floats(1e-4, 2.0)
fractions = st.floats(0.05, 1.0)
case_strategies = {
    "step": st.fixed_dictionaries({"lr": lrs, "step_size": st.integers(1, 40),
                                   "gamma": st.floats(0.05, 1.5)}),
    "multistep": st.fixed_dictionaries({"lr": lrs, "gamma": st.floats(0.05, 1.5),
                                        "milestones": st.lists(st.integers(0, 250),
                                                               max_size=5)}),
    "exponential": st.fixed_dictionaries({"lr": lrs, "gamma": st.floats(0.9, 1.01)}),
    "cosine": st.fixed_dictionaries({"lr": lrs, "T_max": st.integers(1, 120),
                                     "eta_min": st.floats(0.0, 1e-3)}),
    "linear": st.fixed_dictionaries({"lr": lrs, "start_factor": fractions,
                                     "end_factor": st.floats(0.0, 1.0),
                                     "total_iters": st.integers(1, 150)}),
    "cyclic": st.fixed_dictionaries({"base_lr": st.floats(0.0, 1e-2),
                                     "max_lr": st.floats(1e-2, 1.0),
                                     "step_size_up": st.integers(1, 40),
                                     "step_size_down": st.none() | st.integers(0, 40),
                                     "mode": st.sampled_from(["triangular", "triangular2",
                                                              "exp_range"]),
                                     "gamma": st.floats(0.9, 1.0)}),
    "one_cycle": st.fixed_dictionaries({"max_lr": lrs, "total_steps": st.integers(20, 250),
                                        "pct_start": st.floats(0.1, 0.45),
                                        "anneal_strategy": st.sampled_from(["cos", "linear"]),
                                        "div_factor": st.floats(1.0, 100.0),
                                        "final_div_factor": st.floats(1.0, 1e4),
                                        "three_phase": st.booleans()}),
    "warmup_cosine": st.fixed_dictionaries({"lr": lrs, "warmup_steps": st.integers(0, 30),
                                            "total_steps": st.integers(31, 150),
                                            "eta_min": st.floats(0.0, 1e-3)}),
    "cosine_restarts": st.fixed_dictionaries({"lr": lrs, "T_0": st.integers(1, 30),
                                              "T_mult": st.integers(1, 3),
                                              "eta_min": st.floats(0.0, 1e-3)}),
}


@pytest.mark.parametrize("name", sorted(case_strategies))
def test_random_arguments_equal_live_torch(name):
    pytest.importorskip("torch")

    @settings(max_examples=12)
    @given(case_strategies[name])
    def check(kwargs):
        n = kwargs["total_steps"] + 1 if name == "one_cycle" else 300
        assert_close(S.get(name, **kwargs)(np.arange(n)), M.torch_lrs(name, kwargs, n))

    check()


def test_one_cycle_holds_torchs_last_value_where_torch_raises():
    sched = S.one_cycle(0.1, total_steps=50)
    last = sched(50)
    assert_close(sched(np.arange(51, 400)), np.full(349, last))
    torch = pytest.importorskip("torch")
    ref = M.torch_lrs("one_cycle", {"max_lr": 0.1, "total_steps": 50}, 51)
    assert_close(last, ref[-1])
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    sch = torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=50, cycle_momentum=False)
    for _ in range(50):
        opt.step()
        sch.step()
    with pytest.raises(ValueError, match="Tried to step"):
        sch.step()


def test_cosine_past_t_max_climbs_back_like_torch():
    # the lr is back at its start after 2 T_max and at eta_min after 3 T_max
    sched = S.cosine(0.1, 100, eta_min=0.001)
    assert sched(100) == pytest.approx(0.001, rel=1e-12)
    assert sched(200) == pytest.approx(0.1, rel=1e-12)
    assert sched(300) == pytest.approx(0.001, rel=1e-12)


# ---------------------------------------------------------------- shapes and vectorization


def test_shape_rules():
    shared = S.cosine(0.1, 10)
    per_run = S.cosine(np.array([0.1, 0.2, 0.3]), 10)
    assert type(shared(3)) is float and type(shared(np.int64(3))) is float
    assert shared(np.arange(5)).shape == (5,)
    assert shared(np.zeros((2, 4), dtype=int)).shape == (2, 4)
    assert per_run(3).shape == (3,)
    assert per_run(np.arange(5)).shape == (3, 5)
    assert per_run(np.zeros((2, 4), dtype=int)).shape == (3, 2, 4)
    assert per_run.runs == 3 and shared.runs is None
    assert shared(np.arange(0)).shape == (0,) and per_run(np.arange(0)).shape == (3, 0)


def test_constant_shapes_and_values():
    assert S.constant(0.3)(7) == 0.3
    np.testing.assert_array_equal(S.constant(0.3)(np.arange(4)), np.full(4, 0.3))
    np.testing.assert_array_equal(S.constant([0.1, 0.2])(np.arange(3)),
                                  [[0.1] * 3, [0.2] * 3])


@settings(max_examples=40)
@given(i=st.integers(0, len(M.CASES) - 1),
       steps=st.lists(st.integers(0, 5000), min_size=1, max_size=12),
       two_d=st.booleans())
def test_array_steps_equal_scalar_calls(i, steps, two_d):
    name, kwargs, _ = M.CASES[i]
    sched = build(name, kwargs)
    t = np.asarray(steps)
    if two_d and t.size % 2 == 0:
        t = t.reshape(2, -1)
    got = sched(t)
    want = np.array([sched(int(s)) for s in t.reshape(-1)])      # (N,) or (N, R)
    want = np.moveaxis(want, 0, -1).reshape(got.shape)
    # the array path may round differently by an ulp or so (numpy 2.4.6: 1 ulp)
    np.testing.assert_array_max_ulp(got, want, maxulp=4)


@settings(max_examples=30)
@given(i=st.integers(0, len(M.CASES) - 1), t=st.integers(0, 2000))
def test_per_run_rows_equal_scalar_schedules(i, t):
    name, kwargs, _ = M.CASES[i]
    R = M.runs_of_case(kwargs)
    if R is None:
        return
    sched = build(name, kwargs)
    for r in range(R):
        kw = {k: (v[r] if k in M.PER_RUN and isinstance(v, list) else v)
              for k, v in kwargs.items()}
        # numpy's array and scalar power may differ by an ulp (e.g. 0.1 ** 2)
        np.testing.assert_array_max_ulp(sched(t)[r], S.get(name, **kw)(t), maxulp=4)


@pytest.mark.parametrize(("name", "kwargs", "per_run"), [
    ("linear", {"lr": [0.1, 0.3], "start_factor": 0.2, "end_factor": 0.0,
                "total_iters": 9}, "lr"),
    ("linear", {"lr": 0.1, "start_factor": [0.2, 1.0], "total_iters": 9}, "start_factor"),
    ("cosine", {"lr": [0.1, 0.3, 1.0], "T_max": 30, "eta_min": 0.01}, "lr"),
    ("cyclic", {"base_lr": [0.0, 0.01], "max_lr": 0.1, "step_size_up": 7,
                "mode": "triangular2"}, "base_lr"),
    ("one_cycle", {"max_lr": 0.5, "total_steps": 60, "pct_start": [0.2, 0.4],
                   "three_phase": True}, "pct_start"),
    ("warmup_cosine", {"lr": 0.5, "warmup_steps": 4, "total_steps": 30,
                       "eta_min": [0.0, 0.1]}, "eta_min"),
    ("cosine_restarts", {"lr": [0.5, 0.1], "T_0": 3, "T_mult": 2}, "lr"),
])
def test_mixed_shared_and_per_run_arguments(name, kwargs, per_run):
    R = len(kwargs[per_run])
    sched = build(name, kwargs)
    t = np.arange(150)
    out = sched(t)
    assert out.shape == (R, 150) and sched.runs == R
    for r in range(R):
        row = S.get(name, **{**kwargs, per_run: kwargs[per_run][r]})
        np.testing.assert_array_equal(out[r], row(t))


def test_inputs_are_not_mutated():
    lr = np.array([0.1, 0.2])
    eta = np.array([0.0, 0.01])
    t = np.arange(10)
    before = (lr.copy(), eta.copy(), t.copy())
    sched = S.cosine(lr, 5, eta_min=eta)
    sched(t)
    for a, b in zip((lr, eta, t), before, strict=True):
        np.testing.assert_array_equal(a, b)
    out = sched(t)
    out[:] = -1.0                                   # the result is not a view of shared state
    assert np.all(sched(t) >= 0)


def test_stack_concatenates_runs():
    a = S.cosine(0.1, 50)
    b = S.constant([0.01, 0.02])
    c = S.one_cycle(np.array([0.5, 1.0]), 80)
    race = S.stack([a, b, c])
    assert race.runs == 5
    t = np.arange(120)
    out = race(t)
    assert out.shape == (5, 120)
    np.testing.assert_array_equal(out[0], a(t))
    np.testing.assert_array_equal(out[1:3], b(t))
    np.testing.assert_array_equal(out[3:], c(t))
    assert race(7).shape == (5,)
    np.testing.assert_array_equal(race(7), out[:, 7])


def test_stack_rejects_non_schedules():
    with pytest.raises(ValueError, match="schedules"):
        S.stack([])
    with pytest.raises(ValueError, match="schedules"):
        S.stack([lambda t: 0.1])


def test_drives_scale_by_learning_rate_per_run():
    sched = S.stack([S.exponential(0.5, 0.5), S.step(1.0, 2, gamma=0.1)])
    tx = scale_by_learning_rate(sched)
    params = np.zeros((2, 3))
    state = tx.init(params)
    lrs = []
    for _ in range(4):
        u, state = tx.update(np.ones((2, 3)), state, params)
        lrs.append(-u[:, 0])
    np.testing.assert_allclose(np.array(lrs).T, [[0.5, 0.25, 0.125, 0.0625],
                                                 [1.0, 1.0, 0.1, 0.1]], rtol=1e-15)


# ---------------------------------------------------------------- the picker


def test_names_get_parameters_latex():
    assert S.names() == ("constant", "step", "multistep", "exponential", "cosine", "linear",
                         "cyclic", "one_cycle", "warmup_cosine", "cosine_restarts")
    for name in S.names():
        assert S.LATEX[name].startswith(r"\eta_t")
        params = S.parameters(name)
        assert params and all(isinstance(k, str) for k in params)
    assert S.parameters("cosine") == {"lr": None, "T_max": None, "eta_min": 0.0}
    sched = S.get("cosine", lr=0.1, T_max=100)
    assert sched.latex == S.LATEX["cosine"] and sched.name == "cosine"
    assert sched(50) == S.cosine(0.1, 100)(50)


@pytest.mark.parametrize("i", range(len(M.CASES)), ids=CASE_IDS)
def test_get_rebuilds_from_name_and_params(i):
    name, kwargs, n = M.CASES[i]
    sched = build(name, kwargs)
    again = S.get(sched.name, **sched.params)
    np.testing.assert_array_equal(again(np.arange(n)), sched(np.arange(n)))
    assert repr(sched).startswith(name + "(")


def test_get_errors_list_valid_choices():
    with pytest.raises(ValueError, match="one of constant, step, .*cosine_restarts"):
        S.get("cosine_annealing", lr=0.1)
    with pytest.raises(ValueError, match="'cosine' takes lr, T_max, eta_min"):
        S.get("cosine", lr=0.1, T_max=10, gamma=0.5)
    with pytest.raises(ValueError, match="'step' takes"):
        S.get("step", lr=0.1)
    with pytest.raises(ValueError, match="one of"):
        S.parameters("nope")


# ---------------------------------------------------------------- validation


BAD = [
    (S.constant, {"lr": -1.0}, r"lr must be in \[0, inf\)"),
    (S.constant, {"lr": np.nan}, "lr must be finite"),
    (S.constant, {"lr": np.ones((2, 2))}, "lr must be a scalar or a 1-D array"),
    (S.step, {"lr": 0.1, "step_size": 0}, r"step_size must be an integer in \[1, inf\)"),
    (S.step, {"lr": 0.1, "step_size": 2.5}, "step_size must be an integer"),
    (S.step, {"lr": 0.1, "step_size": 3, "gamma": 0.0}, r"gamma must be in \(0, inf\)"),
    (S.multistep, {"lr": 0.1, "milestones": 5}, "milestones must be a list"),
    (S.multistep, {"lr": 0.1, "milestones": [3, -1]}, r"each milestone must be an integer"),
    (S.exponential, {"lr": 0.1, "gamma": -0.5}, r"gamma must be in \(0, inf\)"),
    (S.exponential, {"lr": [0.1, 0.2], "gamma": [0.9, 0.9, 0.9]}, "disagree on the number"),
    (S.cosine, {"lr": 0.1, "T_max": 0}, r"T_max must be an integer in \[1, inf\)"),
    (S.cosine, {"lr": 0.1, "T_max": 10, "eta_min": -1e-3}, r"eta_min must be in \[0, inf\)"),
    (S.linear, {"lr": 0.1, "start_factor": 0.0}, r"start_factor must be in \(0, 1\]"),
    (S.linear, {"lr": 0.1, "end_factor": 1.5}, r"end_factor must be in \[0, 1\]"),
    (S.linear, {"lr": 0.1, "total_iters": 0}, r"total_iters must be an integer in \[1, inf\)"),
    (S.cyclic, {"base_lr": 0.1, "max_lr": 0.01}, "max_lr must be >= base_lr"),
    (S.cyclic, {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 0}, "step_size_up must be"),
    (S.cyclic, {"base_lr": 0.01, "max_lr": 0.1, "step_size_down": -1},
     r"step_size_down must be an integer in \[0, inf\)"),
    (S.cyclic, {"base_lr": 0.01, "max_lr": 0.1, "mode": "sine"},
     "mode must be one of triangular, triangular2, exp_range"),
    (S.cyclic, {"base_lr": 0.01, "max_lr": 0.1, "gamma": 1.5}, r"gamma must be in \(0, 1\]"),
    (S.one_cycle, {"max_lr": 0.1, "total_steps": 0}, "total_steps must be an integer"),
    (S.one_cycle, {"max_lr": 0.1, "total_steps": 100, "pct_start": 1.0},
     r"pct_start must be in \(0, 1\)"),
    (S.one_cycle, {"max_lr": 0.1, "total_steps": 3}, r"pct_start \* total_steps must be > 1"),
    (S.one_cycle, {"max_lr": 0.1, "total_steps": 100, "pct_start": 0.6, "three_phase": True},
     "three_phase needs pct_start <"),
    (S.one_cycle, {"max_lr": 0.1, "total_steps": 100, "anneal_strategy": "cosine"},
     "anneal_strategy must be one of cos, linear"),
    (S.one_cycle, {"max_lr": 0.1, "total_steps": 100, "div_factor": 0.0},
     r"div_factor must be in \(0, inf\)"),
    (S.warmup_cosine, {"lr": 0.1, "warmup_steps": -1, "total_steps": 10},
     r"warmup_steps must be an integer in \[0, inf\)"),
    (S.warmup_cosine, {"lr": 0.1, "warmup_steps": 10, "total_steps": 10},
     r"total_steps must be an integer in \[11, inf\)"),
    (S.cosine_restarts, {"lr": 0.1, "T_0": 0}, r"T_0 must be an integer in \[1, inf\)"),
    (S.cosine_restarts, {"lr": 0.1, "T_0": 5, "T_mult": 0}, r"T_mult must be an integer"),
]


@pytest.mark.parametrize(("fn", "kwargs", "message"), BAD,
                         ids=[f"{f.__name__}-{m[:20]}" for f, _, m in BAD])
def test_bad_arguments_raise_naming_the_parameter(fn, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fn(**kwargs)


MISMATCHED = [
    ("step", {"lr": [0.1, 0.2], "step_size": 3, "gamma": [0.5, 0.5, 0.5]}),
    ("multistep", {"lr": [0.1, 0.2], "milestones": [3], "gamma": [0.5, 0.5, 0.5]}),
    ("exponential", {"lr": [0.1, 0.2], "gamma": [0.9, 0.9, 0.9]}),
    ("cosine", {"lr": [0.1, 0.2], "T_max": 5, "eta_min": [0.0, 0.0, 0.0]}),
    ("linear", {"lr": [0.1, 0.2], "start_factor": [0.5, 0.5, 0.5]}),
    ("cyclic", {"base_lr": [0.0, 0.0], "max_lr": [0.1, 0.1, 0.1]}),
    ("cyclic", {"base_lr": [0.0, 0.0], "max_lr": 0.1, "mode": "exp_range",
                "gamma": [0.9, 0.9, 0.9]}),
    ("one_cycle", {"max_lr": [0.1, 0.2], "total_steps": 50, "div_factor": [5.0, 5.0, 5.0]}),
    ("warmup_cosine", {"lr": [0.1, 0.2], "warmup_steps": 2, "total_steps": 9,
                       "eta_min": [0.0, 0.0, 0.0]}),
    ("cosine_restarts", {"lr": [0.1, 0.2], "T_0": 3, "eta_min": [0.0, 0.0, 0.0]}),
]


@pytest.mark.parametrize(("name", "kwargs"), MISMATCHED,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(MISMATCHED)])
def test_per_run_arguments_of_different_lengths_raise(name, kwargs):
    with pytest.raises(ValueError, match="disagree on the number of runs"):
        build(name, kwargs)


@pytest.mark.parametrize("step", [-1, np.array([0, 3, -2]), 1.5, True, "3", np.nan, None])
def test_bad_steps_raise(step):
    with pytest.raises(ValueError, match="step must be"):
        S.cosine(0.1, 10)(step)


def test_integral_float_steps_are_accepted():
    sched = S.exponential(0.1, 0.9)
    assert sched(3.0) == sched(3)
    np.testing.assert_array_equal(sched(np.array([0.0, 2.0])), sched(np.array([0, 2])))
