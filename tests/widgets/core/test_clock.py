"""Frame pacing headless: the browser's acknowledgments are simulated by setting ``ack``.

With acks lagging the player neither draws nor steps the engine; when acks arrive it
resumes; with no acks ever (no frontend) it runs unpaced; when acks stop for
``stale_after`` (tab closed or hidden) the clock is stalled and the player PAUSES -- a
page nobody sees must not keep a run going on the server; one live frame task throughout.
"""

import asyncio

import pytest

from descentlab.widgets.core.clock import FrameClock
from descentlab.widgets.core.player import Player


def frame_tasks():
    return [t for t in asyncio.all_tasks() if t.get_coro().__qualname__ == "Player._run"]


class FakeTime:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_clock_counts_in_flight_and_paces_only_after_a_first_ack():
    now = FakeTime()
    c = FrameClock(max_in_flight=2, stale_after=2.0, clock=now)
    for _ in range(10):                       # headless: never paced
        assert c.ready() and not c.paced
        c.sent()
    assert c.frame == 10 and c.in_flight == 10
    c.ack = 10                                # a browser view shows up
    assert c.paced and c.in_flight == 0 and c.ready()
    c.sent()
    assert c.ready()                          # 1 in flight < 2
    c.sent()
    assert not c.ready() and c.in_flight == 2
    now.t += 1.9
    assert not c.ready()                      # still waiting for the browser
    c.ack = 11
    assert c.ready() and c.in_flight == 1
    c.sent()
    assert not c.stalled
    now.t += 2.1                              # acks stopped (tab closed): stalled
    assert c.stalled and not c.ready()
    c.ack = 13                                # they come back: paced again
    assert c.paced and not c.stalled and c.ready()


def test_stale_counts_from_the_first_unacked_send_not_from_an_old_ack():
    """A long pause with nothing in flight is not a stalled browser."""
    now = FakeTime()
    c = FrameClock(max_in_flight=1, clock=now)
    c.sent()
    c.ack = 1
    now.t += 60.0                             # paused for a minute
    assert c.paced and c.ready() and not c.stalled
    c.sent()
    assert not c.ready() and not c.stalled    # waits for the ack of the new frame


def test_a_rendered_view_says_hello_and_pacing_starts_before_any_frame_ack():
    """The view's first message (what the JS sends on render) holds the frame it saw."""
    now = FakeTime()
    c = FrameClock(max_in_flight=2, clock=now)
    c.sent()
    c._handle_custom_msg({"event": "descentlab-clock-hello", "frame": 1}, [])
    assert c.paced and c.ack == 1 and c.ready()
    c._handle_custom_msg({"event": "something else", "frame": 99}, [])
    assert c.ack == 1
    c.sent()
    c.sent()
    assert not c.ready()


@pytest.mark.parametrize("kw", [{"max_in_flight": 0}, {"max_in_flight": 1.5},
                                {"stale_after": 0.0}, {"stale_after": -1}])
def test_bad_clock_settings_raise_naming_the_parameter(kw):
    name = next(iter(kw))
    with pytest.raises(ValueError, match=f"{name} must be"):
        FrameClock(**kw)


async def test_player_waits_for_acks_without_stepping_and_resumes():
    clock = FrameClock(max_in_flight=2, stale_after=5.0)
    calls = []
    p = Player(lambda k: calls.append(k) or True, clock=clock, fps=120)
    p.tick()                                  # one frame, acknowledged: paced from now
    clock.ack = clock.frame
    p.play()
    await asyncio.sleep(0.15)
    assert len(calls) == 3                    # 1 + 2 in flight, then nothing
    assert clock.in_flight == 2 and p.playing and p.waits > 0
    assert len(frame_tasks()) == 1
    for _ in range(5):                        # the browser acknowledges, frame by frame
        clock.ack = clock.frame
        before = len(calls)
        await asyncio.sleep(0.1)
        assert len(calls) == before + 2 and clock.in_flight == 2
        assert len(frame_tasks()) == 1
    p.pause()                                 # pause while waiting: the task ends
    await asyncio.sleep(0.02)
    assert p.task is None and frame_tasks() == []
    n = len(calls)
    clock.ack = clock.frame
    await asyncio.sleep(0.05)
    assert len(calls) == n


async def test_no_acks_ever_runs_unpaced():
    clock = FrameClock(max_in_flight=1)
    calls = []
    p = Player(lambda k: calls.append(k) or True, clock=clock, fps=120)
    p.play()
    await asyncio.sleep(0.2)
    p.pause()
    assert len(calls) >= 10 and clock.frame == len(calls) and clock.ack == 0
    assert p.waits == 0


async def test_acks_stop_then_the_player_pauses_and_says_why():
    clock = FrameClock(max_in_flight=1, stale_after=0.15)
    calls, stalls = [], []
    p = Player(lambda k: calls.append(k) or True, clock=clock, fps=120)
    p.on_stall = lambda: stalls.append(clock.frame)
    p.tick()
    clock.ack = clock.frame
    p.play()
    await asyncio.sleep(0.08)
    assert len(calls) == 2                    # waiting on the browser
    await asyncio.sleep(0.3)
    assert len(calls) == 2                    # it went away: nothing more runs
    assert not p.playing and p.task is None and stalls == [2]
    assert frame_tasks() == []
    clock.ack = clock.frame                   # the page comes back; play resumes pacing
    p.play()
    await asyncio.sleep(0.05)
    assert len(calls) > 2
    p.pause()
    await asyncio.sleep(0.02)
    assert frame_tasks() == []


async def test_toy_lab_does_not_step_ahead_of_the_browser(toy):
    toy.model.limit = 5000
    toy.reset()
    toy.player.fps = 120
    toy.step()
    toy.clock.ack = toy.clock.frame           # a live view acknowledged the first frame
    toy.player.play()
    await asyncio.sleep(0.2)
    assert toy.session.step == 1 + toy.clock.max_in_flight      # engine waited too
    assert toy.timeline.slider.value == toy.session.step
    shown = toy.session.step
    toy.clock.ack = toy.clock.frame
    await asyncio.sleep(0.2)
    assert toy.session.step == shown + toy.clock.max_in_flight
    toy.player.pause()
    await asyncio.sleep(0.02)
    assert toy.player.task is None


async def test_toy_lab_pauses_with_a_message_when_the_page_goes_away(toy):
    toy.model.limit = 5000
    toy.reset()
    toy.clock.stale_after = 0.1
    toy.player.fps = 120
    toy.step()
    toy.clock.ack = toy.clock.frame
    toy.player.play()
    await asyncio.sleep(0.4)
    assert not toy.player.playing and toy.session.step == 1 + toy.clock.max_in_flight
    assert "browser stopped drawing" in toy.errors.message
