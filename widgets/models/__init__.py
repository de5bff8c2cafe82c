r"""The models family: move :math:`\theta` by hand, then let gradient descent go.

:func:`models_lab` (syllabus topics 1-3) picks a data set (a named one or an uploaded
CSV), a model matched to its task (linear / logistic / softmax regression) and two
coordinates of :math:`\theta` moved by hand; the point put by hand is the start of
gradient descent on the plane of those two coordinates (the rest held at their fitted
values or at zero), played a step a frame with a live learning rate.

Roles (the same in every family):

* ``config.py`` -- :class:`~.config.ModelsConfig`, the validated traitlets settings, and
  the :class:`~.config.Config` run record;
* ``build.py`` -- config -> engine objects (data set, model, fitted :math:`\theta`, the
  plane's problem and slice), built once per validated config; the CSV reader;
* ``session.py`` -- :class:`~.session.ModelsSession`, the engine run stepped a frame at a
  time, its :class:`~.session.View` and CSV history;
* ``charts.py`` / ``panels.py`` -- the fit and the loss slice; loss, metrics and the
  gradient check (each ``configure(style)``, ``draw(view)``, ``widget``);
* ``lab.py`` -- :class:`~.lab.ModelsLab` on the core Lab base (the CSV upload control
  and its check are the shared :mod:`descentlab.widgets.ui.upload`);
* ``apps.py`` -- :func:`models_lab`.
"""

from .apps import models_lab
from .lab import ModelsLab

__all__ = ["models_lab", "ModelsLab"]
