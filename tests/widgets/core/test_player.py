"""The player: one asyncio task at most, however fast controls change."""

import asyncio

import pytest

from descentlab.widgets.core.player import Player


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
