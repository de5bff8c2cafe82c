"""The tuning family: hyperparameter search boards played a round a frame.

:func:`tuning_board` searches the learning rate (grid, random, successive halving or one
Hyperband bracket, :mod:`descentlab.engine.tuning`), then -- the field's workflow --
trains a few batch sizes at the best learning rate.  Each frame trains the next round;
the chart (score vs lr on log axes, coloured by batch size) and the ranked table grow
live; the full log exports as CSV.

Roles (the same in every family):

* ``config.py`` -- :class:`~.config.TuningConfig`, the validated settings; the
  :class:`~.config.Config` and :class:`~.config.Trial` records;
* ``build.py`` -- config -> engine objects (data set, model) and the search's rounds;
* ``session.py`` -- :class:`~.session.TuningSession`, a round a step, its view and log;
* ``charts.py`` -- the score chart and the ranked table;
* ``lab.py`` -- :class:`~.lab.TuningLab` on the core Lab base;
* ``apps.py`` -- :func:`tuning_board`.
"""

from .apps import tuning_board
from .lab import TuningLab

__all__ = ["tuning_board", "TuningLab"]
