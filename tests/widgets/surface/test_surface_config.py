"""The surface model rejects bad values with the engine's message, keeps its last good
state, and builds the engine objects once per validated configuration."""

import numpy as np
import pytest
import traitlets as T

from descentlab.engine import kinds, schedules
from descentlab.engine import optimizers as O
from descentlab.widgets.surface import config as config_module
from descentlab.widgets.surface.build import blocks, build, schedule_kwargs
from descentlab.widgets.surface.config import Run, SurfaceModel
from descentlab.widgets.surface.session import SurfaceSession


@pytest.mark.parametrize("name, value, words", [
    ("problem", "nope", "unknown problem 'nope'"),
    ("momentum", -0.5, "momentum"),
    ("b1", 1.5, "b1 must be in [0, 1)"),
    ("b2", -0.1, "b2 must be in [0, 1)"),
    ("weight_decay", -1.0, "weight_decay"),
    ("max_steps", 0, "max_steps must be an integer in [1, 10000000]"),
    ("grad_tol", -1.0, "grad_tol must be in [0, inf)"),
    ("tolerance", 0.0, "tolerance must be in (0, inf)"),
    ("schedule", "sometimes", "schedule must be one of"),
    ("problem_params", {"condition": -3.0}, "condition"),
    ("sweep_n", 0, "runs must be an integer in [1, 32]"),
])
def test_bad_values_are_rejected_with_a_message_and_nothing_changes(name, value, words):
    m = SurfaceModel(problem="quadratic") if name == "problem_params" else SurfaceModel()
    before = m.config()
    with pytest.raises(T.TraitError) as info:
        setattr(m, name, value)
    assert words in str(info.value)
    assert m.config() == before


def test_bad_lr_message_is_the_engines():
    m = SurfaceModel()
    with pytest.raises(T.TraitError) as info:
        m.set_lr(-1)
    assert str(info.value) == "lr must be in [0, inf); got -1"
    assert m.runs[m.selected].lr > 0


def test_runs_are_named_records_and_unknown_kinds_are_refused():
    m = SurfaceModel(runs=[("GD", 0.1), ("Adam", 0.01)])
    assert m.runs == [Run("GD", 0.1), Run("Adam", 0.01)]
    assert m.runs[1].kind == "Adam" and m.runs[1].lr == 0.01
    with pytest.raises(T.TraitError, match="optimizer kind must be one of"):
        m.runs = [Run("Lion", 0.1)]
    with pytest.raises(T.TraitError, match="selected must be an integer in"):
        m.selected = len(m.runs)
    m.selected = 1
    m.runs = [Run("Adam", 0.01)]
    assert m.selected == 0


def test_blocks_group_consecutive_kinds():
    b = blocks([Run("GD", 0.1), Run("GD", 0.2), Run("Adam", 0.01), Run("GD", 0.3)])
    assert [k for k, _ in b] == ["GD", "Adam", "GD"]
    np.testing.assert_array_equal(b[0][1], [0.1, 0.2])


def test_race_equals_each_engine_optimizer_alone():
    """The race gives each run exactly the engine optimizer of its kind (engine.kinds)."""
    m = SurfaceModel(momentum=0.8, b1=0.85, weight_decay=0.01,
                     runs=[(k, 0.01) for k in kinds.names()])
    race = build(m.config()).optimizer
    rng = np.random.default_rng(0)
    params = rng.normal(size=(len(kinds.names()), 2))
    alone = [O.sgd(0.01, weight_decay=0.01), O.sgd(0.01, momentum=0.8, weight_decay=0.01),
             O.sgd(0.01, momentum=0.8, weight_decay=0.01, nesterov=True),
             O.adagrad(0.01, weight_decay=0.01), O.rmsprop(0.01, weight_decay=0.01),
             O.adam(0.01, betas=(0.85, 0.999), weight_decay=0.01),
             O.adamw(0.01, betas=(0.85, 0.999), weight_decay=0.01),
             O.nadam(0.01, betas=(0.85, 0.999), weight_decay=0.01),
             O.adamax(0.01, betas=(0.85, 0.999), weight_decay=0.01),
             O.adadelta(0.01, weight_decay=0.01)]
    s = race.init(params)
    states = [o.init(params[i:i + 1]) for i, o in enumerate(alone)]
    for _ in range(5):
        g = rng.normal(size=params.shape)
        u, s = race.update(g, s, params)
        for i, o in enumerate(alone):
            ui, states[i] = o.update(g[i:i + 1], states[i], params[i:i + 1])
            np.testing.assert_array_equal(u[i], ui[0])
        params = params + u


def test_the_lr_each_step_used_equals_the_engine_schedule():
    m = SurfaceModel(problem="quadratic", runs=[("GD", 0.1), ("GD", 0.05)],
                     schedule="cosine", max_steps=50)
    s = SurfaceSession(m.config(), m.built)
    s.advance(50)
    ref = schedules.cosine(np.array([0.1, 0.05]), 50)(np.arange(50))
    np.testing.assert_allclose(s.history.lr[1:].T, ref, rtol=0, atol=0)
    assert schedule_kwargs("one_cycle", 0.1, 100)["max_lr"] == 0.1


def test_validation_builds_once_and_the_session_reuses_it(monkeypatch):
    m = SurfaceModel(problem="quadratic", runs=[("Adam", 0.01)])
    s = SurfaceSession(m.config(), m.built)
    s.advance(3)
    builds = []
    real = config_module.build
    monkeypatch.setattr(config_module, "build", lambda cfg: builds.append(cfg) or real(cfg))
    m.set_lr(0.02)
    assert len(builds) == 1
    s.update(m.config())
    assert len(builds) == 1                                  # the session took it
    assert s.optimizer is m.built().optimizer


def test_a_sweep_is_runs_log_spaced_over_its_range():
    m = SurfaceModel(runs=[("GD", 0.1)], sweeping=True, sweep_from=0.001, sweep_to=0.1,
                     sweep_n=3)
    assert m.runs == [Run("GD", 0.001), Run("GD", 0.01), Run("GD", 0.1)]
    m.sweep_n = 2
    assert [r.lr for r in m.runs] == [0.001, 0.1]
    with pytest.raises(T.TraitError, match=r"lr from must be in \(0, 0.1\]"):
        m.sweep_from = 1.0
    assert m.config().sweep == (0.001, 0.1, 2)
