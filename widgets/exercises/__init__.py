"""descentlab.widgets.exercises: ``check(name, fn)``, the notebook face of the engine's
self-checking exercises (:mod:`descentlab.engine.exercises`).

Imports only ipywidgets, bqplot and the engine.
"""

from .view import CheckView, check, check_view

__all__ = ["CheckView", "check", "check_view"]
