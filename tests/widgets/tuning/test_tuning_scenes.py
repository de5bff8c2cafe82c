"""The course's scenes of the tuning tb: every ``tuning.ipynb?scene=NAME`` that the
notebook and the course map link exists, applies headless (no error, round 0, paused, its
note in the status line) and shows what the note says."""

import numpy as np
import pytest


def test_every_linked_scene_exists_and_applies(tb, linked_apply):
    assert linked_apply(tb, "tuning") == ["grid", "halving", "hyperband"]
    assert tb.model.search == "grid"                     # ?scene=grid from the address


def test_the_grid_falls_about_ninefold_to_its_best_and_rises_again(tb):
    tb.apply_scene("grid")
    while tb.session.advance(10):
        pass
    v = tb.session.view(tb.session.step)
    assert len(v.lr) == 9 and v.lr[0] == pytest.approx(1e-3) and v.lr[-1] == pytest.approx(1)
    best = int(np.argmin(v.score))
    assert v.lr[best] == pytest.approx(0.18, abs=0.01)
    assert v.score[0] / v.score[best] == pytest.approx(9, abs=0.5)
    assert v.score[-1] > v.score[best] and best < 8
    assert all(t.stop_reason != "diverged" for t in v.ranked)
