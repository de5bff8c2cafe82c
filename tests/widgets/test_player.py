"""The player: one asyncio task at most, however fast controls change."""

import asyncio
import gc
import tracemalloc

import pytest

from descentlab.widgets import LabModel, Player, SurfaceLab, race_app


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


async def test_hammer_one_task_bounded_memory_final_state_matches_controls():
    m = LabModel(problem="quadratic", runs=[("Momentum", 0.01), ("Adam", 0.05)],
                 max_steps=100_000, grad_tol=0.0)
    lab = SurfaceLab(m)
    lab.player.fps = 120
    gc.collect()
    tracemalloc.start()
    base = None
    lrs = [0.001 * (1 + i % 17) for i in range(1000)]
    for i in range(1000):
        op = i % 10
        if op == 0:
            lab.player.play()
        elif op == 1:
            lab.player.pause()
        elif op == 2:
            lab.player.play()
        elif op == 3:
            lab.model.set_lr(lrs[i])
        elif op == 4:
            lab.player.speed = 1 + i % 5
        elif op == 5 and i % 100 == 5:
            lab.reset()
        elif op == 6:
            lab.model.momentum = 0.5 + (i % 40) / 100
        elif op == 7:
            lab.player.toggle()
        elif op == 8:
            lab.model.selected = i % 2
        assert len(frame_tasks()) <= 1
        if i % 50 == 0:
            await asyncio.sleep(0)     # let the frame task run now and then
        if i == 200:
            gc.collect()
            base = tracemalloc.get_traced_memory()[0]
    lab.player.play()
    await asyncio.sleep(0.05)
    assert len(frame_tasks()) == 1
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert grown < 20_000_000, grown
    lab.player.pause()
    await asyncio.sleep(0.05)
    assert frame_tasks() == []
    # the engine runs exactly what the controls say now
    cfg = lab.session.cfg
    assert cfg == m.config()
    assert cfg.runs[0][1] == lrs[993] and cfg.momentum == 0.5 + (996 % 40) / 100
    assert lab.player.speed == 1 + 994 % 5
    assert lab.timeline.value == lab.session.step and lab.session.step > 0
    lab.close()


async def test_browser_echo_of_the_timeline_does_not_pause_but_a_scrub_does():
    """A browser slider sends back values the kernel just set (an echo, or a value clamped
    to the old max when max and value arrive together): playing must go on.  A value the
    lab never sent is a person scrubbing: it pauses and shows that step."""
    lab = race_app(max_steps=5000)
    lab.player.speed = 5
    lab.player.play()
    while lab.session.step < 50:
        await asyncio.sleep(0.01)
    lab.timeline.value = lab.session.step - 5          # what the browser sends back
    await asyncio.sleep(0.05)
    assert lab.player.playing and lab.player.task is not None
    lab.timeline.value = 3                             # never sent: a scrub
    assert not lab.player.playing
    await asyncio.sleep(0.1)
    assert lab.player.task is None and lab.timeline.value == 3
    assert lab.charts["surface"].points.x.tolist() == lab.session.history.params[3, :, 0].tolist()
    lab.close()
