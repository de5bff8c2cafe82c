"""A surface lab: model + session + player + charts + timeline, wired together.

Data flow (DESIGN.md): controls -> :class:`~.model.LabModel` (validated) -> the session
(engine) -> :class:`~.session.View` -> charts.  The player's one task calls
:meth:`SurfaceLab.frame`; tests call it directly.  The lab builds paused at step 0.

* Tuning changes (learning rates, momentum, betas, weight decay, schedule, stopping)
  swap the optimizer between frames and keep the run; the reset button restarts.
* Changing the problem, the start point, the racing kinds or the seed restarts; the
  surface grid and contours (the expensive part) are recomputed debounced.
* The timeline slider shows any earlier step in every chart (it pauses the player).
* Frames are paced by the browser: :attr:`SurfaceLab.clock` (a
  :class:`~.clock.FrameClock`, part of the displayed tree) acknowledges what was drawn.
* Charts in a ``Tab`` child that is not selected (:meth:`SurfaceLab.watch_tabs`) are not
  updated per frame; selecting their tab brings them up to date, and :meth:`flush`
  renders every chart.
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np

from .charts import LossChart, ScheduleChart, ToleranceBars, TraceChart, UpdateNormChart
from .core.clock import FrameClock
from .ui.controls import ErrorLine, StatusLine
from .ui.export import CsvExport
from .core.lab_old import Lab
from .mathpanel import MathPanel
from .model import LabModel, lr_of_schedule
from .ui.palette import run_colors
from .core.player import Player
from .session import SurfaceSession
from .surface import SurfaceChart
from .core.timeline import Timeline
from .core.timing import Debouncer, Throttle

__all__ = ["SurfaceLab", "CHARTS"]

CHARTS = ("surface", "loss", "bars", "traces", "norm", "schedule", "math")
_TUNING = ("runs", "momentum", "b1", "b2", "alpha", "rho", "weight_decay", "schedule",
           "schedule_params", "max_steps", "grad_tol", "loss_tol", "max_loss", "tolerance")
_RESTART = ("problem", "problem_params", "start", "seed")


class SurfaceLab(Lab):
    """The engine of every surface app.  ``widget`` is what a notebook displays."""

    def __init__(self, model: LabModel | None = None, charts=CHARTS, sequential: bool = False,
                 filename: str = "history.csv", math_interval: float = 0.25):
        self.model = model if model is not None else LabModel()
        self.sequential = sequential
        self.errors = ErrorLine()
        self.status = StatusLine()
        self.session = SurfaceSession(self.model.config())
        self.clock = FrameClock()
        self.hidden: set[str] = set()       # charts in unselected tabs: not drawn per frame
        self.player = Player(self.frame, clock=self.clock)
        self.player.on_stop = self._stopped
        self.player.on_error = lambda err: self.errors.show(f"{type(err).__name__}: {err}")
        self.charts = {}
        if "surface" in charts:
            self.charts["surface"] = SurfaceChart(on_pick=self.pick_start)
        if "loss" in charts:
            self.charts["loss"] = LossChart()
        if "bars" in charts:
            self.charts["bars"] = ToleranceBars()
        if "traces" in charts:
            self.charts["traces"] = TraceChart()
        if "norm" in charts:
            self.charts["norm"] = UpdateNormChart()
        if "schedule" in charts:
            self.charts["schedule"] = ScheduleChart()
        self.math = MathPanel() if "math" in charts else None
        self.timeline = W.IntSlider(0, min=0, max=0, description="step",
                                    continuous_update=True,
                                    layout=W.Layout(width="100%"),
                                    style={"description_width": "40px"})
        self._scrub = Timeline(self.timeline, self._scrubbed, lambda: self.player.playing)
        self.export = CsvExport(lambda: self.session.history, filename)
        self._surface_later = Debouncer(self._draw_surface, 0.2)
        self._panel_later = Throttle(self._draw_math, math_interval)
        self._view_step: int | None = None   # None: follow the latest step
        self.model.observe(self._tuned, list(_TUNING))
        self.model.observe(self._restarted, list(_RESTART))
        self.model.observe(self._selected, "selected")
        self._draw_surface()
        self._configure()
        self.render()
        self.widget = None  # composed by the app functions

    # ---- the start point

    def pick_start(self, x: float, y: float) -> None:
        """A click on the surface: the new start point (restarts the run)."""
        try:
            self.model.start = (x, y)
        except Exception as err:  # noqa: BLE001 - shown, never raised into the frontend
            self.errors.show(str(err))

    def close(self) -> None:
        self.player.close()
        self._surface_later.cancel()
        self._panel_later.cancel()

    # ---- the frame

    def render(self, step: int | None = None, everything: bool = False) -> None:
        """Draw the shown step in every visible chart (``everything``: hidden ones too)."""
        if step is not None:
            self._view_step = step
        s, shown = self.session, self.shown
        view = s.view(shown)
        cfg, r = s.cfg, self.model.selected
        for name, chart in self.charts.items():
            if name in self.hidden and not everything:
                continue
            if name == "surface":
                chart.update(view, r, cfg.runs[r][0], cfg)
            else:
                chart.update(view)
        self._scrub.show(shown, s.step, s.cfg.max_steps)
        self._panel_later.call()
        self.status.show(s.messages())

    def _draw_math(self) -> None:
        if self.math is None:
            return
        self.math.render(self.session, self.shown, self.model.selected)

    def _stopped(self) -> None:
        self._panel_later.flush()

    # ---- configuration changes

    def _configure(self) -> None:
        """Colors, labels, scales and plans of the current runs (no grid recompute)."""
        s, cfg = self.session, self.session.cfg
        R = len(cfg.runs)
        colors = run_colors(R, self.sequential)
        self.colors = colors
        start = s.state.params[0] if len(s.history) == 1 else s.history.params[0, 0]
        for name, chart in self.charts.items():
            if name == "surface":
                chart.set_runs(colors, start)
            elif name == "loss":
                chart.set_runs(s.problem, colors, s.labels)
            elif name == "bars":
                chart.set_runs(s.problem, colors, s.labels, cfg.tolerance)
            elif name in ("traces", "norm"):
                chart.set_runs(colors, s.labels)
            elif name == "schedule":
                steps = np.arange(cfg.max_steps)
                chart.set_plan(steps, lr_of_schedule(cfg, steps), colors,
                               f"learning rate η_t ({cfg.schedule})")

    def _draw_surface(self) -> None:
        chart = self.charts.get("surface")
        if chart is not None:
            chart.set_problem(self.session.problem, self.session.history.params[0, 0])

    def _tuned(self, change) -> None:
        restarted = self.session.retune(self.model.config())
        if restarted:
            self._view_step = None
        self._configure()
        self.render()

    def _restarted(self, change) -> None:
        cfg = self.model.config()
        new_surface = (cfg.problem, cfg.problem_params) != (self.session.cfg.problem,
                                                            self.session.cfg.problem_params)
        self.session.restart(cfg)
        self._view_step = None
        if new_surface:
            self._surface_later.call()
        self._configure()
        self.render()

    def _selected(self, change) -> None:
        self.render(self._view_step)
        self._panel_later.flush()

    def flush(self) -> None:
        """Run pending debounced / throttled redraws now and draw every chart, hidden
        tabs included (tests, export)."""
        self._surface_later.flush()
        self.render(self._view_step, everything=True)
        self._panel_later.flush()
