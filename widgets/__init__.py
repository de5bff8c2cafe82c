"""descentlab.widgets: live ipywidgets + bqplot views over the engine.

A notebook is one line: ``from descentlab.widgets import race_app; race_app()``.
Apps build paused at step 0; one asyncio task per app drives time while playing.
"""

from .app import CHARTS, SurfaceLab
from .apps import lr_explorer, race_app, schedule_explorer
from .charts import LossChart, ScheduleChart, ToleranceBars, TraceChart, UpdateNormChart
from .ui.controls import ErrorLine, bind
from .data_apps import (
    TuningBoard,
    batch_size_explorer,
    early_stopping_trainer,
    regularization_explorer,
    tuning_board,
    upload_dataset,
)
from .data_lab import DataLab
from .data_model import DataModel
from .data_session import DataSession
from .core.decimate import MAX_POINTS, display_indices
from .ui.export import CsvExport, csv_link
from .mathpanel import MathPanel
from .model import KINDS, LabModel
from .models_app import models_lab
from .ui.palette import OKABE_ITO, run_colors
from .core.player import Player
from .session import SurfaceSession, View
from .surface import SurfaceChart
from .core.timing import Debouncer, Throttle

__all__ = [
    "CHARTS",
    "KINDS",
    "MAX_POINTS",
    "OKABE_ITO",
    "CsvExport",
    "DataLab",
    "DataModel",
    "DataSession",
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
    "TuningBoard",
    "ToleranceBars",
    "TraceChart",
    "UpdateNormChart",
    "View",
    "batch_size_explorer",
    "bind",
    "csv_link",
    "display_indices",
    "early_stopping_trainer",
    "lr_explorer",
    "models_lab",
    "race_app",
    "regularization_explorer",
    "run_colors",
    "schedule_explorer",
    "tuning_board",
    "upload_dataset",
]
