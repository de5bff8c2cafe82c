"""The player: ONE asyncio task drives time -- play, pause, single step, speed, frame rate.

Each frame calls ``frame(k)`` (advance the engine ``k = speed`` steps and redraw) and
then sleeps until the next frame is due, at most ``fps`` frames per second.  ``frame``
returns False when there is nothing left to do (every run stopped); the player pauses.

At most one task is ever alive: ``play`` starts a task only when none is running, and
``pause`` only lowers the ``playing`` flag, which the task reads after its sleep (a
pause followed by a play inside one frame keeps the same task).  ``close`` cancels it.
Nothing starts on construction: a new player is paused.

Pacing (``clock``, a :class:`~.clock.FrameClock`): after each frame the player counts it
on the clock; before the next one it waits (``await``, never blocking) while the browser
has not acknowledged enough frames.  The engine waits too -- it does not step ahead of
what is shown, so the run on screen is the run in the kernel and *pause* is immediate.
With no clock, or a clock no browser view acknowledges (headless), frames are unpaced.
When a view that was acknowledging stops (tab closed or hidden: ``clock.stalled``) the
player pauses and calls ``on_stall``: nothing runs on the server for a page nobody sees.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import traitlets as T

from .timing import running_loop

__all__ = ["Player", "next_due"]

POLL = 0.004  # seconds between looks at the clock while the browser catches up
CATCH_UP = 8  # periods a frame may start late and still be made up by the next ones


def next_due(due: float, start: float, period: float) -> float:
    """When the frame after one due at ``due`` and started at ``start`` may start.

    Frames start on a fixed grid of ``period``: a sleep that wakes late does not push
    every later frame back (counting the next frame from the late start drew 27.5
    frames/s at a cap of 30), and a frame held up to ``CATCH_UP`` periods (waiting for
    the browser's acknowledgments) is made up by the next ones, started as soon as the
    clock allows.  A frame later than that (the browser or the kernel fell well behind)
    restarts the grid from its start instead of catching up in a long burst."""
    return due + period if start - due < CATCH_UP * period else start + period


class Player(T.HasTraits):
    """Frame loop over ``frame(k) -> bool``.  Traits: ``playing``, ``speed``, ``fps``."""

    playing = T.Bool(False)
    speed = T.Int(1, help="engine steps per frame")
    fps = T.Float(30.0, help="target frames per second")
    frames = T.Int(0, help="frames drawn so far")

    def __init__(self, frame: Callable[[int], bool], clock=None, **kwargs):
        super().__init__(**kwargs)
        self._frame = frame
        self.clock = clock
        self.waits = 0        # polls spent waiting for the browser (diagnostics, tests)
        self._task: asyncio.Task | None = None
        self.on_stop: Callable[[], object] | None = None
        self.on_error: Callable[[Exception], object] | None = None
        self.on_stall: Callable[[], object] | None = None

    @T.validate("speed")
    def _check_speed(self, proposal):
        v = proposal["value"]
        if not 1 <= v <= 100_000:
            raise T.TraitError(f"speed must be an integer in [1, 100000], got {v}")
        return v

    @T.validate("fps")
    def _check_fps(self, proposal):
        v = proposal["value"]
        if not 0.5 <= v <= 120:
            raise T.TraitError(f"fps must be in [0.5, 120]; got {v:g}")
        return v

    @property
    def task(self) -> asyncio.Task | None:
        """The live frame task, or None."""
        return self._task if self._task is not None and not self._task.done() else None

    def play(self) -> None:
        """Start (or keep) playing.  Needs a running event loop (a kernel has one)."""
        self.playing = True
        if self.task is None:
            loop = running_loop()
            if loop is None:
                self.playing = False
                raise RuntimeError("play needs a running asyncio event loop (a Jupyter "
                                   "kernel has one); use step() outside a kernel")
            self._task = loop.create_task(self._run())

    def pause(self) -> None:
        self.playing = False

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def tick(self, k: int | None = None) -> bool:
        """One frame of ``k`` (default ``speed``) steps, right now."""
        self.frames += 1
        try:
            return bool(self._frame(self.speed if k is None else k))
        finally:
            if self.clock is not None:
                self.clock.sent()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()           # when the next frame may start (the fps cap)
        try:
            while self.playing:
                if self.clock is not None and not self.clock.ready():
                    if self.clock.stalled:      # the page went away: pause, run nothing
                        self.playing = False
                        if self.on_stall is not None:
                            self.on_stall()
                        break
                    self.waits += 1
                    await asyncio.sleep(POLL)   # the browser is behind: draw nothing, step
                    continue                    # nothing (pause is read on every poll)
                t0 = loop.time()
                if t0 < due:                    # the browser kept up: wait out the cap
                    await asyncio.sleep(due - t0)   # (waiting for it counted toward it)
                    continue
                due = next_due(due, t0, 1.0 / self.fps)
                try:
                    more = self.tick()
                except Exception as err:  # shown in the app's error line, never lost
                    self.playing = False
                    if self.on_error is None:
                        raise
                    self.on_error(err)
                    break
                if not more:
                    self.playing = False
                    if self.on_stop is not None:
                        self.on_stop()
                    break
                await asyncio.sleep(0)          # let the acknowledgments in
        finally:
            if self._task is asyncio.current_task():
                self._task = None

    def close(self) -> None:
        """Stop for good: cancel the task (if any)."""
        self.playing = False
        if self._task is not None:
            self._task.cancel()
            self._task = None
