"""descentlab.widgets: live ipywidgets + bqplot views over the engine.

A notebook is one line: ``from descentlab.widgets import race_app; race_app()``.
Apps build paused at step 0; one asyncio task per app drives time while playing.
"""

from .app import CHARTS, SurfaceLab
from .apps import lr_explorer, race_app, schedule_explorer
from .charts import LossChart, ScheduleChart, ToleranceBars, TraceChart, UpdateNormChart
from .controls import ErrorLine, bind
from .decimate import MAX_POINTS, display_indices
from .export import CsvExport, csv_link
from .mathpanel import MathPanel
from .model import KINDS, LabModel
from .palette import OKABE_ITO, run_colors
from .player import Player
from .session import SurfaceSession, View
from .surface import SurfaceChart
from .timing import Debouncer, Throttle

__all__ = [
    "CHARTS",
    "KINDS",
    "MAX_POINTS",
    "OKABE_ITO",
    "CsvExport",
    "Debouncer",
    "ErrorLine",
    "LabModel",
    "LossChart",
    "MathPanel",
    "Player",
    "ScheduleChart",
    "SurfaceChart",
    "SurfaceLab",
    "SurfaceSession",
    "Throttle",
    "ToleranceBars",
    "TraceChart",
    "UpdateNormChart",
    "View",
    "bind",
    "csv_link",
    "display_indices",
    "lr_explorer",
    "race_app",
    "run_colors",
    "schedule_explorer",
]
