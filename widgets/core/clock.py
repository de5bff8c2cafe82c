"""The frame clock: the browser acknowledges frames, so the kernel never runs ahead of it.

A kernel can produce frames faster than a browser can draw them; the surplus queues up in
the websocket and the browser keeps animating long after *pause* (measured in Voila +
Chromium: 12.7 s).  :class:`FrameClock` is a tiny invisible ``anywidget`` (JavaScript
inline, no build step) that closes the loop:

1. the kernel sends a frame's chart updates, then increments ``frame``;
2. the browser's view, on ``change:frame``, waits for ``requestAnimationFrame`` (the
   earlier messages are applied and the page is about to paint) and a macrotask after it
   (painted), then sets ``ack = frame`` and saves;
3. before the next frame the player asks :meth:`FrameClock.ready`: at most
   ``max_in_flight`` frames may be sent and not yet acknowledged.

A view says hello when it renders (a custom message); that, or a first ``ack``, starts
pacing -- so the very first frames after *play* are paced too.  Headless (tests, nbclient,
a kernel with no live view) nothing ever acknowledges, so frames stay unpaced.  If
acknowledgments stop for ``stale_after`` seconds while frames are waiting (the tab was
closed or hidden for good), the clock is *stalled*: it sends nothing more, and the player
pauses: a closed tab must not leave a race running unpaced on the server, buffering
output nobody reads.  ``stale_after`` is 10 s by default: with ten races playing on one
2-core server, 2 s paused 3 of the ten as "stalled" while their tabs were open and drawing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import anywidget
import ipywidgets as W
import traitlets as T

__all__ = ["FrameClock"]

_ESM = """
function render({ model, el }) {
  el.style.display = "none";
  let latest = -1;
  const ack = (f) => {
    if (f <= latest) return;
    latest = f;
    model.set("ack", f);
    model.save_changes();
  };
  const later = () => {
    const f = model.get("frame");
    requestAnimationFrame(() => setTimeout(() => ack(f), 0));
  };
  model.on("change:frame", later);
  model.send({ event: "descentlab-clock-hello", frame: model.get("frame") });
  return () => model.off("change:frame", later);
}
export default { render };
"""


class FrameClock(anywidget.AnyWidget):
    """Frames sent (``frame``) and acknowledged by a browser view (``ack``).

    ``ready()`` is True when another frame may be sent now: no view has ever
    acknowledged (headless), or     fewer than ``max_in_flight`` frames are unacknowledged.
    """

    _esm = _ESM
    frame = T.Int(0).tag(sync=True)
    ack = T.Int(0).tag(sync=True)

    def __init__(self, max_in_flight: int = 4, stale_after: float = 10.0,
                 clock: Callable[[], float] = time.monotonic, **kwargs):
        kwargs.setdefault("layout", W.Layout(display="none"))
        super().__init__(**kwargs)
        if not (isinstance(max_in_flight, int) and max_in_flight >= 1):
            raise ValueError(f"max_in_flight must be an integer in [1, inf); "
                             f"got {max_in_flight!r}")
        if not stale_after > 0:
            raise ValueError(f"stale_after must be in (0, inf); got {stale_after!r}")
        self.max_in_flight = max_in_flight
        self.stale_after = float(stale_after)
        self.clock = clock
        self.acked_at: float | None = None      # when the last acknowledgment arrived
        self._progress = 0.0                    # last ack, or a send into an empty pipe
        self.observe(self._acked, "ack")
        self.on_msg(self._hello)

    def send_state(self, key=None) -> None:
        # anywidget adds its traits before the comm opens; ipywidgets then drops the
        # message anyway -- skip building it (and keep Widget._send wrappers comm-safe)
        if self.comm is not None:
            super().send_state(key)

    def _acked(self, change) -> None:
        self.acked_at = self._progress = self.clock()

    def _hello(self, widget, content, buffers) -> None:
        """A view rendered: it holds the state up to ``frame`` -- pace from now on."""
        if isinstance(content, dict) and content.get("event") == "descentlab-clock-hello":
            self.acked_at = self._progress = self.clock()
            self.ack = max(self.ack, min(int(content.get("frame", 0)), self.frame))

    @property
    def in_flight(self) -> int:
        """Frames sent and not yet acknowledged."""
        return max(0, self.frame - self.ack)

    @property
    def paced(self) -> bool:
        """A browser view has acknowledged frames (pacing is on)."""
        return self.acked_at is not None

    @property
    def stalled(self) -> bool:
        """A view acknowledged once, frames are waiting, and no acknowledgment came for
        ``stale_after`` seconds: the tab was closed or hidden.  The player pauses."""
        return (self.paced and self.in_flight > 0
                and self.clock() - self._progress > self.stale_after)

    def ready(self) -> bool:
        """May the kernel send another frame now?  (Never while stalled.)"""
        return not self.paced or self.in_flight < self.max_in_flight

    def sent(self) -> None:
        """A frame's chart updates went out: count it (the browser acknowledges it)."""
        if self.in_flight == 0:
            self._progress = self.clock()
        self.frame += 1
