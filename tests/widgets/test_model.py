"""The model rejects bad values with the engine's message and keeps its last good state."""

import numpy as np
import pytest
import traitlets as T

from descentlab.engine import optimizers as O
from descentlab.engine import schedules
from descentlab.widgets.model import (
    KINDS,
    LabModel,
    blocks,
    lr_of_schedule,
    make_optimizer,
    schedule_kwargs,
)


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
])
def test_bad_values_are_rejected_with_a_message_and_nothing_changes(name, value, words):
    m = LabModel(problem="quadratic") if name == "problem_params" else LabModel()
    before = m.config()
    with pytest.raises(T.TraitError, match=None) as info:
        setattr(m, name, value)
    assert words in str(info.value)
    assert m.config() == before


def test_bad_lr_message_is_the_engines():
    m = LabModel()
    with pytest.raises(T.TraitError) as info:
        m.set_lr(-1)
    assert str(info.value) == "lr must be in [0, inf); got -1"
    assert m.runs[m.selected][1] > 0


def test_unknown_kind_and_selected_range():
    m = LabModel()
    with pytest.raises(T.TraitError, match="optimizer kind must be one of"):
        m.runs = [("Lion", 0.1)]
    with pytest.raises(T.TraitError, match="selected must be an integer in"):
        m.selected = len(m.runs)
    m.set_kinds(["Adam"])
    assert m.selected == 0 and m.runs[0][0] == "Adam"


def test_blocks_group_consecutive_kinds():
    b = blocks([("GD", 0.1), ("GD", 0.2), ("Adam", 0.01), ("GD", 0.3)])
    assert [k for k, _ in b] == ["GD", "Adam", "GD"]
    np.testing.assert_array_equal(b[0][1], [0.1, 0.2])


def test_race_equals_each_engine_optimizer_alone():
    """The model's race gives each run exactly the engine optimizer built by hand."""
    m = LabModel(momentum=0.8, b1=0.85, weight_decay=0.01,
                 runs=[(k, 0.01) for k in KINDS])
    race = make_optimizer(m.config())
    rng = np.random.default_rng(0)
    params = rng.normal(size=(len(KINDS), 2))
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


def test_schedule_plan_equals_engine_schedule():
    m = LabModel(runs=[("GD", 0.1), ("GD", 0.05)], schedule="cosine", max_steps=50)
    steps = np.arange(50)
    plan = lr_of_schedule(m.config(), steps)
    ref = schedules.cosine(np.array([0.1, 0.05]), 50)(steps)
    np.testing.assert_allclose(plan, ref, rtol=0, atol=0)
    assert schedule_kwargs("one_cycle", 0.1, 100)["max_lr"] == 0.1
