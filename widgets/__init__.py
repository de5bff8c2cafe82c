"""descentlab.widgets: live ipywidgets + bqplot labs over the engine, and ``check()``.

A notebook cell is one import and one call::

    from descentlab.widgets import race_app
    race_app()

Every app returns its lab (displayable itself), built paused at step 0.  The labs come
in families of the same shape (``surface/``, ``data/``, ``models/``, ``tuning/``; see each
package's docstring) over shared frame machinery (``core/``) and building blocks
(``ui/``); ``exercises/`` shows the engine's self-checking exercises.
"""

from .data import (
    batch_size_explorer,
    early_stopping_trainer,
    high_dimensions_explorer,
    regularization_explorer,
)
from .exercises import check
from .models import models_lab
from .surface import lr_explorer, race_app, schedule_explorer
from .tuning import tuning_board

__all__ = [
    "batch_size_explorer",
    "check",
    "early_stopping_trainer",
    "high_dimensions_explorer",
    "lr_explorer",
    "models_lab",
    "race_app",
    "regularization_explorer",
    "schedule_explorer",
    "tuning_board",
]
