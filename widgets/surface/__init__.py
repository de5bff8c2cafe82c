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
