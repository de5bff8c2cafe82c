"""Time helpers on the running asyncio loop: no threads, no blocking sleeps, no tasks.

``Debouncer`` runs a function once, ``delay`` seconds after the last of a burst of
calls (surface grids, contours).  ``Throttle`` runs it at most once per ``interval``,
with a trailing call so the last value is always shown (math panel, numbers).
Both use ``loop.call_later`` timer handles, so they never add an asyncio task; without
a running loop (plain Python, tests that do not await) they call through at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["running_loop", "Debouncer", "Throttle"]


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop (the kernel's, in JupyterLab and Voila), else None."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class _Timed:
    """The one pending ``loop.call_later`` handle of a timed call (None: nothing pending)."""

    _handle: asyncio.TimerHandle | None = None

    @property
    def pending(self) -> bool:
        return self._handle is not None

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class Debouncer(_Timed):
    """``call()`` schedules ``fn()`` for ``delay`` s later, replacing any pending call."""

    def __init__(self, fn: Callable[[], object], delay: float = 0.15):
        self.fn, self.delay = fn, float(delay)

    def call(self) -> None:
        self.cancel()
        loop = running_loop()
        if loop is None:
            self.fn()
            return
        self._handle = loop.call_later(self.delay, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self.fn()

    def flush(self) -> None:
        """Run a pending call now."""
        if self._handle is not None:
            self.cancel()
            self.fn()


class Throttle(_Timed):
    """``call()`` runs ``fn()`` now if ``interval`` s have passed since the last run,
    else once at the end of the interval (the trailing call)."""

    def __init__(self, fn: Callable[[], object], interval: float = 0.25,
                 clock: Callable[[], float] = time.monotonic):
        self.fn, self.interval, self.clock = fn, float(interval), clock
        self._last = -float("inf")

    def call(self) -> None:
        now = self.clock()
        wait = self._last + self.interval - now
        loop = running_loop()
        if wait <= 0 or loop is None:
            self.cancel()
            self._run(now)
        elif self._handle is None:
            self._handle = loop.call_later(wait, self._trailing)

    def _trailing(self) -> None:
        self._handle = None
        self._run(self.clock())

    def _run(self, now: float) -> None:
        self._last = now
        self.fn()

    def flush(self) -> None:
        """Run now, whatever the interval (on pause, on scrubbing)."""
        self.cancel()
        self._run(self.clock())
