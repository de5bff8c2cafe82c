"""The timeline: a step slider the kernel moves every frame and a person drags to scrub.

Its range is the run's step limit (a progress bar); the part past the latest step is
not yet run, and a drag there shows the latest step.

A browser's slider sends some of the kernel's own values back: when ``max`` and ``value``
arrive together it may clamp the new value to the old ``max`` and report that, and a
stale value can cross a fresh one on the wire.  Such a value is one this lab set a moment
ago.  While playing, or when it lies behind the latest step, it is not a person scrubbing:
it must neither pause the player nor pull the view back.  The slider is put back on the
step shown instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import ipywidgets as W

__all__ = ["ECHO_WINDOW", "Timeline"]

ECHO_WINDOW = 1.0  # seconds within which a value coming back is taken for our own


class Timeline:
    """Drive ``slider`` with :meth:`show`; a person's drag calls ``on_scrub(step)``."""

    def __init__(self, slider: W.IntSlider, on_scrub: Callable[[int], object],
                 playing: Callable[[], bool], clock: Callable[[], float] = time.monotonic):
        self.slider, self.on_scrub, self.playing, self.clock = slider, on_scrub, playing, clock
        self.shown = self.latest = 0
        self._sent: dict[int, float] = {}
        self._syncing = False
        slider.observe(self._changed, "value")

    def show(self, shown: int, latest: int, horizon: int | None = None) -> None:
        """Put the slider on ``shown``; its range is ``0..max(latest, horizon)``.

        With a ``horizon`` (the step limit) the range is fixed while a run plays, so a
        frame sends one message (the value) and a browser never clamps it.  When the range
        must grow it is sent first, in a message of its own, for the same reason.
        """
        now = self.clock()
        self.shown, self.latest = shown, latest
        self._sent[shown] = now
        if len(self._sent) > 256:
            self._sent = {v: t for v, t in self._sent.items() if now - t < ECHO_WINDOW}
        top = max(latest, horizon or 0)
        s = self.slider
        self._syncing = True
        try:
            if top > s.max:
                s.max = top
            s.value = shown
            if top < s.max:
                s.max = top
        finally:
            self._syncing = False

    def is_echo(self, value: int) -> bool:
        """``value`` is one this timeline sent less than ``ECHO_WINDOW`` seconds ago."""
        sent = self._sent.get(value)
        return sent is not None and self.clock() - sent < ECHO_WINDOW

    def _changed(self, change) -> None:
        if self._syncing:
            return
        new = int(change["new"])
        if self.is_echo(new) and (self.playing() or new < self.latest):
            if new != self.shown:
                self._put_back()
            return
        self.on_scrub(new)
        if new > self.latest:          # past the steps run so far: the latest is shown
            self._put_back()

    def _put_back(self) -> None:
        self._syncing = True
        try:
            self.slider.value = self.shown
        finally:
            self._syncing = False
