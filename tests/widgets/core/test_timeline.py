"""The timeline tells a browser's echo of its own values from a person scrubbing."""

import ipywidgets as W

from descentlab.widgets.core.timeline import ECHO_WINDOW, Timeline


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def make(playing=False):
    clock, scrubs = Clock(), []
    t = Timeline(W.IntSlider(0, min=0, max=0), scrubs.append, lambda: playing, clock)
    return t, scrubs, clock


def test_show_moves_value_and_max_without_calling_back():
    t, scrubs, _ = make()
    t.show(5, 5)
    t.show(2, 9)
    assert (t.slider.value, t.slider.max) == (2, 9) and scrubs == []


def test_a_value_clamped_to_the_old_max_is_put_back_while_paused():
    t, scrubs, _ = make(playing=False)
    t.show(0, 0)
    t.show(1, 1)                      # a step click
    t.slider.value = 0                # the browser clamped 1 to its old max 0
    assert scrubs == [] and t.slider.value == 1


def test_while_playing_every_recent_value_is_an_echo():
    t, scrubs, _ = make(playing=True)
    for k in range(10):
        t.show(k, k)
    t.slider.value = 4
    t.slider.value = 9
    assert scrubs == [] and t.slider.value == 9


def test_a_person_scrubs_to_new_values_old_values_and_the_latest():
    t, scrubs, clock = make(playing=False)
    for k in range(10):
        t.show(k, k)
    t.slider.value = 30 - 27          # 3 was sent: but it is an echo only within the window
    assert scrubs == []
    clock.t += ECHO_WINDOW + 0.1
    t.slider.value = 2                # sent long ago: a person
    t.show(2, 9)
    t.slider.value = 9                # back to the latest, even though just sent
    assert scrubs == [2, 9]


def test_a_lab_after_a_paused_step_keeps_showing_that_step(toy):
    toy.step()
    toy.timeline.slider.value = 0     # what a browser sends back after the step click
    assert toy.timeline.slider.value == 1 and toy._view_step is None
    assert toy.charts["a"].views[-1].step == 1


def test_with_a_horizon_the_range_is_fixed_and_a_drag_past_the_latest_shows_the_latest():
    t, scrubs, clock = make(playing=False)
    t.show(0, 0, horizon=100)
    assert t.slider.max == 100
    for k in range(1, 6):
        t.show(k, k, horizon=100)
    assert (t.slider.value, t.slider.max) == (5, 100)
    clock.t += ECHO_WINDOW + 0.1
    t.slider.value = 60                # not run yet
    assert scrubs == [60] and t.slider.value == 5
    t.show(130, 130, horizon=100)      # a run past its limit widens the range
    assert (t.slider.value, t.slider.max) == (130, 130)
