"""A data lab: :class:`~.data_model.DataModel` + :class:`~.data_session.DataSession` +
player + charts + timeline, wired like :class:`~.app.SurfaceLab`.

Controls -> model (validated; a rejected value shows the engine's message in the error line
and keeps the last good state) -> session restart -> :class:`~.data_session.DataView` ->
charts.  Any configuration change restarts training (a new data set, batch size or penalty
changes what a run *is*).  Builds paused at iteration 0.  Frames are paced by the browser
(:attr:`DataLab.clock`) and charts in unselected tabs wait until their tab is selected
(:meth:`DataLab.watch_tabs`), as in :class:`~.app.SurfaceLab`.
"""

from __future__ import annotations

from types import SimpleNamespace

import ipywidgets as W

from .charts import LossChart
from .core.clock import FrameClock
from .ui.controls import ErrorLine, StatusLine
from .data_charts import BatchSurface, DataChart, EpochChart, MetricsPanel
from .data_model import DataModel
from .data_session import DataSession
from .ui.export import CsvExport
from .core.lab_old import Lab
from .ui.palette import run_colors
from .core.player import Player
from .core.timeline import Timeline
from .core.timing import Throttle

__all__ = ["DataLab", "DATA_CHARTS"]

DATA_CHARTS = ("data", "loss", "loss_epoch", "epochs", "surface", "metrics")
_LOSS_AXIS = SimpleNamespace(f_min=0.0)   # log axis of the loss itself (losses are >= 0)


class DataLab(Lab):
    """The engine of every data app.  ``widget`` is what a notebook displays."""

    def __init__(self, model: DataModel | None = None, charts=DATA_CHARTS,
                 sequential: bool = False, filename: str = "training.csv",
                 metrics_interval: float = 0.25):
        self.model = model if model is not None else DataModel()
        self.sequential = sequential
        self.errors = ErrorLine()
        self.status = StatusLine()
        self.session = DataSession(self.model.config())
        self.clock = FrameClock()
        self.hidden: set[str] = set()       # charts in unselected tabs: not drawn per frame
        self.player = Player(self.frame, clock=self.clock)
        self.player.on_error = lambda err: self.errors.show(f"{type(err).__name__}: {err}")
        self.player.on_stop = lambda: self._panel_later.flush()
        self.charts: dict = {}
        if "data" in charts:
            self.charts["data"] = DataChart()
        if "loss" in charts:
            self.charts["loss"] = LossChart(x_label="iteration t",
                                            title="mini-batch loss per iteration")
        if "loss_epoch" in charts:
            self.charts["loss_epoch"] = LossChart(x_label="epoch",
                                                  title="mini-batch loss per epoch")
        if "epochs" in charts:
            self.charts["epochs"] = EpochChart()
        if "surface" in charts:
            self.charts["surface"] = BatchSurface()
        self.metrics = MetricsPanel() if "metrics" in charts else None
        self.timeline = W.IntSlider(0, min=0, max=0, description="iteration",
                                    layout=W.Layout(width="100%"),
                                    style={"description_width": "60px"})
        self._scrub = Timeline(self.timeline, self._scrubbed, lambda: self.player.playing)
        self.export = CsvExport(lambda: self.session, filename)
        self._panel_later = Throttle(self._draw_metrics, metrics_interval)
        self._view_step: int | None = None
        self.model.observe(self._changed, [n for n in self.model.trait_names()
                                           if n not in ("selected",)])
        self.model.observe(lambda _: self.render(self._view_step), "selected")
        self._configure()
        self.render()
        self.widget = None

    def close(self) -> None:
        self.player.close()
        self._panel_later.cancel()

    def flush(self) -> None:
        """Draw every chart now, hidden tabs included, and the metrics panel."""
        self.render(self._view_step, everything=True)
        self._panel_later.flush()

    # ---- the frame

    def render(self, step: int | None = None, everything: bool = False) -> None:
        """Draw the shown iteration in every visible chart (``everything``: hidden too)."""
        if step is not None:
            self._view_step = step
        view = self.session.view(self.shown)
        r = self.model.selected
        for name, chart in self.charts.items():
            if name in self.hidden and not everything:
                continue
            if name == "loss_epoch":
                chart.update(SimpleNamespace(steps=view.epoch, loss=view.loss))
            elif name in ("data", "surface"):
                chart.update(view, r)
            else:
                chart.update(view)
        self._scrub.show(view.step, self.session.step, self.session.horizon)
        self._panel_later.call()
        self.status.show(self.session.messages(view.step))

    def _draw_metrics(self) -> None:
        if self.metrics is not None:
            self.metrics.render(self.session, self.shown, self.colors)

    # ---- configuration

    def _configure(self) -> None:
        s = self.session
        self.colors = colors = run_colors(len(s.cfg.runs), self.sequential)
        for name, chart in self.charts.items():
            if name == "data":
                chart.set_data(s, colors)
            elif name in ("loss", "loss_epoch"):
                chart.set_runs(_LOSS_AXIS, colors, s.labels)
                chart.ay.label = "mini-batch loss"
            elif name == "epochs":
                chart.set_runs(colors, s.labels)
            elif name == "surface":
                chart.set_runs(s, colors)

    def _changed(self, change) -> None:
        try:
            self.session.restart(self.model.config())
        except ValueError as err:           # validated already; never lose the last state
            self.errors.show(str(err))
            return
        self._view_step = None
        self._configure()
        self.render()
