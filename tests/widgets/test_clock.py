"""Frame pacing headless: the browser's acknowledgments are simulated by setting ``ack``.

With acks lagging the player neither draws nor steps the engine; when acks arrive it
resumes; with no acks ever (no frontend) it runs unpaced; when acks stop it falls back to
unpaced after ``stale_after``; one live frame task throughout.  Charts in unselected tabs
wait for their tab.
"""

import asyncio

import numpy as np
import pytest

from descentlab.widgets import Player, race_app
from descentlab.widgets.clock import FrameClock


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
    now.t += 2.1                              # acks stopped (tab closed): unpaced
    assert not c.paced and c.ready()
    c.ack = 13                                # they come back: paced again
    assert c.paced and c.ready()


def test_stale_counts_from_the_first_unacked_send_not_from_an_old_ack():
    """A long pause with nothing in flight is not a stalled browser."""
    now = FakeTime()
    c = FrameClock(max_in_flight=1, clock=now)
    c.sent()
    c.ack = 1
    now.t += 60.0                             # paused for a minute
    assert c.paced and c.ready()
    c.sent()
    assert not c.ready()                      # waits for the ack of the new frame


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


async def test_acks_stop_then_unpaced_after_stale_after():
    clock = FrameClock(max_in_flight=1, stale_after=0.15)
    calls = []
    p = Player(lambda k: calls.append(k) or True, clock=clock, fps=120)
    p.tick()
    clock.ack = clock.frame
    p.play()
    await asyncio.sleep(0.08)
    assert len(calls) == 2                    # waiting on the browser
    await asyncio.sleep(0.25)
    assert len(calls) > 5                     # it went away: frames flow again
    assert len(frame_tasks()) == 1
    p.pause()
    await asyncio.sleep(0.02)
    assert frame_tasks() == []


async def test_lab_engine_does_not_step_ahead_of_the_browser():
    lab = race_app(max_steps=5000)
    lab.player.fps = 120
    lab.step()
    lab.clock.ack = lab.clock.frame           # a live view acknowledged the first frame
    lab.player.play()
    await asyncio.sleep(0.2)
    assert lab.session.step == 1 + lab.clock.max_in_flight      # engine waited too
    assert lab.timeline.value == lab.session.step
    shown = lab.session.step
    lab.clock.ack = lab.clock.frame
    await asyncio.sleep(0.2)
    assert lab.session.step == shown + lab.clock.max_in_flight
    lab.player.pause()
    await asyncio.sleep(0.02)
    assert lab.player.task is None
    lab.close()


def test_every_app_displays_its_clock():
    from descentlab.widgets import (
        batch_size_explorer,
        early_stopping_trainer,
        lr_explorer,
        regularization_explorer,
        schedule_explorer,
    )

    def tree(w):
        yield w
        for c in getattr(w, "children", ()):
            yield from tree(c)

    for build in (race_app, lr_explorer, schedule_explorer, batch_size_explorer,
                  early_stopping_trainer, regularization_explorer):
        lab = build()
        assert lab.clock in list(tree(lab.widget)), build.__name__
        assert lab.player.clock is lab.clock
        lab.close()


def test_hidden_tab_charts_wait_and_catch_up_when_selected():
    lab = race_app(max_steps=500)
    tab = lab.widget.children[1].children[-1]
    assert tab.selected_index == 0 and lab.hidden == {"bars", "traces", "norm"}
    traces = lab.charts["traces"].lines
    before = np.array(traces.y, copy=True)
    lab.frame(40)
    np.testing.assert_array_equal(traces.y, before)           # hidden: not drawn
    assert len(lab.charts["loss"].lines.x) == 41               # selected: drawn
    tab.selected_index = 2                                     # "parameters"
    assert lab.hidden == {"loss", "bars", "norm"}
    P = lab.session.history.params
    np.testing.assert_array_equal(np.reshape(traces.y, (14, -1))[0::2], P[:, :, 0].T)
    np.testing.assert_array_equal(traces.x, lab.session.history.steps)
    loss_x = np.array(lab.charts["loss"].lines.x, copy=True)
    lab.frame(10)
    assert np.shape(traces.x) == (51,)
    np.testing.assert_array_equal(lab.charts["loss"].lines.x, loss_x)  # now hidden
    lab.close()
