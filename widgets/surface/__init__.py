r"""The SURFACE family: labs on a 2-D loss surface (issue 7, "one lab shape").

What the labs show: optimizers started at one point of a named surface -- a race of
kinds (:func:`race_app`), one kind at a sweep of learning rates (:func:`lr_explorer`),
runs driven by a learning-rate schedule (:func:`schedule_explorer`) -- with the surface
(trajectories, arrows), loss, steps to tolerance, parameters, update sizes, the
learning rate each run actually used, and the inspected run's equations.

The roles (the same in every family):

* ``config``  -- :class:`~.config.Run` (kind, lr) and :class:`~.config.SurfaceModel`
  (traits, no widgets; the validator builds the engine objects once and keeps them);
* ``build``   -- config -> engine objects (:func:`~.build.build`, through
  ``engine.kinds.build``);
* ``session`` -- the engine run a frame at a time: restart, live retune (events),
  re-run after max steps, ``view(step)`` (plain arrays), ``messages`` (true causes);
* ``charts``, ``surface_chart``, ``panels`` -- every chart and the equations panel:
  ``configure(style)``, ``draw(view)``, ``widget``; ``colors`` -- colours follow the run;
* ``lab``     -- :class:`~.lab.SurfaceLab` and one subclass per app (with the course's
  scenes); ``landscape_notes`` -- one sentence per surface, shown with its formula;
* ``apps``    -- the public app functions, each returning its lab.
"""

from .apps import lr_explorer, race_app, schedule_explorer
from .config import Run, SurfaceModel
from .lab import RaceLab, ScheduleLab, SurfaceLab, SweepLab

__all__ = ["race_app", "lr_explorer", "schedule_explorer", "Run", "SurfaceModel",
           "SurfaceLab", "RaceLab", "SweepLab", "ScheduleLab"]

# ---- until integration: this package shadows the old flat module widgets/surface.py,
# which widgets/app.py still imports (`from .surface import SurfaceChart`).  Its names
# are served lazily from that file; the lead deletes this block with the flat modules.
_FLAT = ("SurfaceChart", "surface_color", "contour_path", "arrow_path", "VECTOR_LABELS",
         "vectors_for", "VECTOR_COLORS", "GRID_N")


def __getattr__(name):
    if name not in _FLAT:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib.util
    import pathlib
    import sys

    key = "descentlab.widgets.flat_surface_until_integration"
    mod = sys.modules.get(key)
    if mod is None:
        path = pathlib.Path(__file__).resolve().parent.parent / "surface.py"
        spec = importlib.util.spec_from_file_location(key, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[key] = mod
        spec.loader.exec_module(mod)
    return getattr(mod, name)
