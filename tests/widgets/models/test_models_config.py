"""ModelsConfig: the validated settings.  A rejected value names the parameter and keeps
every trait; a block of edits with one bad value is refused whole; new data brings its
task's first model, the default pair and the start at 0; each edit builds once."""

import pytest
import traitlets as T

from descentlab.widgets.models.config import DEFAULT_LR, ModelsConfig


def test_defaults_follow_the_data_and_the_field():
    m = ModelsConfig()
    assert (m.dataset, m.model, m.first, m.second, m.w, m.b) == (
        "linear", "linear regression (MSE)", 0, 1, 0.0, 0.0)
    assert m.lr == DEFAULT_LR == 1e-2 and m.names == ("w[x]", "b")
    m.w = 1.5
    m.dataset = "iris"
    assert m.model == "softmax regression (cross-entropy)" and (m.first, m.second) == (0, 12)
    assert (m.w, m.b) == (0.0, 0.0) and m.names == ("W[sepal length (cm), 0]", "b[0]")
    m.dataset = "blobs2"
    assert m.model == "logistic regression (binary cross-entropy)"


@pytest.mark.parametrize("name, value, words", [
    ("w", float("nan"), "w[x] must be a finite number; got nan"),
    ("second", 0, "the two sliders must move different coordinates; both move w[x]"),
    ("first", 7, "a hand coordinate must be in 0..1; got 7"),
    ("model", "softmax regression (cross-entropy)", "model must be one of"),
    ("dataset", "nope", "or an uploaded CSV; got 'nope'"),
    ("lr", -1.0, "learning rate η must be in (0, 10]; got -1.0"),
    ("steps", 0, "max steps must be an integer in 1..100000; got 0"),
    ("rest", "middle", "hold the rest at must be 'fitted' or 'zero'"),
])
def test_a_rejected_value_names_the_parameter_and_keeps_everything(name, value, words):
    m = ModelsConfig()
    before = m.config()
    with pytest.raises(T.TraitError) as err:
        setattr(m, name, value)
    assert words in str(err.value)
    after = m.config()
    assert (after.lr, after.start, after.steps) == (before.lr, before.start, before.steps)
    assert after.plane is before.plane


def test_a_block_of_edits_with_one_bad_value_is_refused_whole():
    m = ModelsConfig()
    with pytest.raises(T.TraitError, match="different coordinates"):
        with m.hold_trait_notifications():
            m.w = 1.0
            m.second = 0
    assert (m.w, m.first, m.second) == (0.0, 0, 1)


def test_the_plane_is_built_once_per_pair_and_reused_within_its_range():
    m = ModelsConfig()
    p = m.plane()
    m.w = 0.5
    assert m.plane() is p                                  # inside the slice: reused
    m.w = 50.0                                             # beyond it: a wider slice
    assert m.plane() is not p and m.plane().ranges[0][1] > 50.0


def test_a_start_whose_loss_overflows_is_refused_with_its_cause():
    m = ModelsConfig()
    with pytest.raises(T.TraitError) as err:
        m.w = 1e200
    assert "(w[x], b) = (1e+200, 0) gives the loss" in str(err.value)
    assert "|L| <= 1e+12" in str(err.value) and m.w == 0.0
