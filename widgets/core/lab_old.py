"""What every lab shares: the transport buttons, one step, reset, the frame, the timeline's
scrub, tabs drawn only when selected.

A lab subclass has ``model``, ``session`` (``step``, ``advance(k)``, ``restart(cfg)``),
``player``, ``errors``, ``hidden`` (chart names not drawn per frame), ``_panel_later``
(the throttled text panel: equations or metrics), and defines ``render(step, everything)``
and ``_configure()``.  ``_view_step`` is the step a person scrubbed to (None: follow the
latest).
"""

from __future__ import annotations

import ipywidgets as W

from descentlab.widgets.ui.controls import button

__all__ = ["Lab"]


class Lab:
    """Shared behaviour of :class:`~.app.SurfaceLab` and :class:`~.data_lab.DataLab`."""

    _view_step: int | None = None

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def shown(self) -> int:
        """The step on screen: the scrubbed one, or the latest."""
        s = self.session
        return s.step if self._view_step is None else min(self._view_step, s.step)

    def transport(self) -> W.HBox:
        e = self.errors
        play = button("play", "play", self.player.play, "run the engine live", e)
        pause = button("pause", "pause", self.player.pause, "", e)
        step = button("step", "step-forward", self.step, "one engine step", e)
        reset = button("reset", "undo", self.reset, "start the run over", e)
        speed = W.BoundedIntText(self.player.speed, min=1, max=100_000,
                                 description="steps/frame",
                                 style={"description_width": "80px"},
                                 layout=W.Layout(width="170px"))
        W.link((speed, "value"), (self.player, "speed"))
        return W.HBox([play, pause, step, reset, speed])

    def step(self) -> bool:
        """Pause and advance exactly one step."""
        self.player.pause()
        self._view_step = None
        return self.player.tick(1)

    def reset(self) -> None:
        self.session.restart(self.model.config())
        self._view_step = None
        self._configure()
        self.render()

    def frame(self, k: int) -> bool:
        """Advance ``k`` steps and redraw the latest.  False when every run stopped."""
        more = self.session.advance(k)
        self._view_step = None
        self.render()
        return more

    def _scrubbed(self, new: int) -> None:
        """A person moved the timeline: pause and show that step (the latest: follow)."""
        self.player.pause()
        self._view_step = None if new >= self.session.step else new
        self.render()
        self._panel_later.flush()

    def watch_tabs(self, tab: W.Tab, names) -> W.Tab:
        """``tab.children[i]`` shows chart ``names[i]``: only the selected one is drawn
        per frame; selecting a tab brings its chart up to date."""
        names = list(names)

        def selected(_=None):
            i = tab.selected_index
            self.hidden = {n for j, n in enumerate(names) if j != i}
            if _ is not None:
                self.render(self._view_step)

        tab.observe(selected, "selected_index")
        selected()
        return tab
