r"""Labs that train models on data: the DATA family.

What its labs show: R runs of one model (linear, logistic or softmax regression, by the
data's task) trained with mini-batches on one data set -- the data and every run's fit,
the mini-batch loss per iteration and per epoch, training vs validation loss per epoch
with early stopping's best epoch, the task's metrics with their formulas, (batch-size
app) the gradient noise and the mini-batch's own loss surface, and (high-dimension app)
every weight's trace and each optimizer's step size per coordinate.

Roles (every family has the same):

* ``config``  -- :class:`~.config.DataModel` (traitlets, no widgets) and the
  :class:`~.config.Run` record (kind, lr, batch_size, l2, weight_decay);
* ``build``   -- config -> engine objects (:class:`~.build.Built`), built once per
  validation and reused by the session; an upload's CSV as a data set (the control
  and its check are the shared :mod:`descentlab.widgets.ui.upload`); gradient-noise helpers;
* ``session`` -- :class:`~.session.DataSession`: the training stepped a frame at a time,
  restart vs live retune (events), :class:`~.session.View` of plain arrays, messages;
* ``charts``, ``panels`` -- every chart and panel: ``configure(style)``, ``draw(view)``;
* ``lab``     -- :class:`~.lab.DataLab` and one subclass per app (its controls);
* ``apps``    -- the public app functions.
"""

from .apps import (
    batch_size_explorer,
    early_stopping_trainer,
    high_dimensions_explorer,
    regularization_explorer,
)
from .build import upload_dataset
from .config import DataModel, Run
from .lab import BatchSizeLab, DataLab, EarlyStoppingLab, HighDimLab, RegularizationLab
from .session import DataSession, View

__all__ = ["batch_size_explorer", "early_stopping_trainer", "regularization_explorer",
           "high_dimensions_explorer", "DataModel", "Run", "DataLab", "BatchSizeLab",
           "EarlyStoppingLab", "RegularizationLab", "HighDimLab", "DataSession", "View",
           "upload_dataset"]
