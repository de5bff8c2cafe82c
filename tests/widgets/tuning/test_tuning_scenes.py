"""The course's scenes of the tuning board: every ``tuning.ipynb?scene=NAME`` that the
notebook and the course map link exists, applies headless (no error, round 0, paused, its
note in the status line) and shows what the note says."""

import numpy as np
import pytest

from descentlab.widgets.tuning import tuning_board


@pytest.fixture
def board():
    lab = tuning_board()
    yield lab
    lab.close()


def test_every_linked_scene_exists_and_applies(board, course_scenes):
    names = course_scenes("tuning")
    assert names == ["grid", "halving", "hyperband"]
    assert set(names) <= set(board.scenes())
    for name in names:
        board.frame(2)
        board.apply_scene(name)
        scene = board.scenes()[name]
        assert board.errors.message == "" and board.scene == name, name
        assert board.session.step == 0 and not board.player.playing
        assert board.status.messages[0] == f"{scene.title}: {scene.note}"
        for key, value in scene.settings.items():
            assert getattr(board.model, key) == value, (name, key)
        board.frame(1)
        assert board.errors.message == ""
    board.apply_url({"scene": "grid"})
    assert board.scene == "grid" and board.model.search == "grid"


def test_the_grid_falls_about_ninefold_to_its_best_and_rises_again(board):
    board.apply_scene("grid")
    while board.session.advance(10):
        pass
    v = board.session.view(board.session.step)
    assert len(v.lr) == 9 and v.lr[0] == pytest.approx(1e-3) and v.lr[-1] == pytest.approx(1)
    best = int(np.argmin(v.score))
    assert v.lr[best] == pytest.approx(0.18, abs=0.01)
    assert v.score[0] / v.score[best] == pytest.approx(9, abs=0.5)
    assert v.score[-1] > v.score[best] and best < 8
    assert all(t.stop_reason != "diverged" for t in v.ranked)
