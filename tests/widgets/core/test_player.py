"""The player: one asyncio task at most, however fast controls change."""

import asyncio

import pytest

from descentlab.widgets.core.player import CATCH_UP, Player, next_due


def frame_tasks():
    return [t for t in asyncio.all_tasks() if t.get_coro().__qualname__ == "Player._run"]


def test_built_paused_and_play_needs_a_loop():
    p = Player(lambda k: True)
    assert not p.playing and p.task is None
    with pytest.raises(RuntimeError, match="running asyncio event loop"):
        p.play()
    assert not p.playing


async def test_plays_frames_at_speed_and_pauses():
    calls = []
    p = Player(lambda k: calls.append(k) or True, fps=120, speed=3)
    p.play()
    await asyncio.sleep(0.1)
    p.pause()
    await asyncio.sleep(0.05)
    assert calls and set(calls) == {3}
    n = len(calls)
    await asyncio.sleep(0.05)
    assert len(calls) == n and p.task is None


async def test_stops_when_frame_says_done():
    left = [3]

    def frame(k):
        left[0] -= 1
        return left[0] > 0

    p = Player(frame, fps=120)
    p.play()
    await asyncio.sleep(0.2)
    assert not p.playing and left[0] == 0 and p.task is None


async def test_frame_errors_reach_on_error_and_stop():
    seen = []
    p = Player(lambda k: 1 / 0, fps=120)
    p.on_error = seen.append
    p.play()
    await asyncio.sleep(0.05)
    assert isinstance(seen[0], ZeroDivisionError) and not p.playing and p.task is None


def test_frames_keep_a_fixed_grid_when_sleeps_wake_late():
    period = 1 / 30
    due, starts = 0.0, []
    for _ in range(300):  # every sleep wakes 2 ms late, as asyncio's often do
        start = max(due, starts[-1] if starts else 0.0) + 0.002
        starts.append(start)
        due = next_due(due, start, period)
    assert due == pytest.approx(300 * period)  # 30 frames per second, not 1 / (period + 2 ms)
    assert starts[-1] - starts[0] == pytest.approx(299 * period)


def test_a_late_frame_is_made_up_but_one_far_behind_restarts_the_grid():
    period = 0.05
    assert next_due(1.0, 1.01, period) == pytest.approx(1.05)   # on time: the grid holds
    assert next_due(1.0, 1.12, period) == pytest.approx(1.05)   # held 2.4 periods: made up
    late = 1.0 + (CATCH_UP + 1) * period                          # fell behind: no burst
    assert next_due(1.0, late, period) == pytest.approx(late + period)
