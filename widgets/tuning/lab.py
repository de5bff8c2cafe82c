r"""The tuning board: a search played a round a frame on the core Lab base.

:class:`TuningLab` subclasses :class:`descentlab.widgets.core.lab.Lab` (keyboard, step
counter "round k / n", timeline, CSV export of the full log).  The field's workflow is
two steps: **step 1** searches the learning rate at one batch size; **step 2** trains the
listed batch sizes at the best learning rate of step 1 (its rows stay on the chart).
"""

from __future__ import annotations

import ipywidgets as W
import traitlets as T

from descentlab.engine import data
from descentlab.widgets.core.lab import Lab, Layout, Scene
from descentlab.widgets.ui.controls import BOX, STYLE, ErrorLine, button, field

from . import build as B
from .charts import ScoreChart, Style, TablePanel
from .config import PLAN_TRAITS, TuningConfig
from .session import TuningSession

__all__ = ["TuningLab"]

BUDGET_HELP = {
    "grid": "epochs: what each configuration trains",
    "random": "epochs: what each configuration trains",
    "successive halving": "epochs: the first rung; each later rung ×3 for a third",
    "hyperband": "epochs: the most a configuration trains (R of one bracket)",
}


class TuningLab(Lab):
    """Hyperparameter search, a round a frame: the learning rate first, then the batch
    size at the best learning rate."""

    title = "Hyperparameter search: tune the learning rate first, then the batch size"
    step_name = "round"
    filename = "tuning_log.csv"
    layout = Layout(left=("scores",), bottom=("table",))

    def __init__(self, dataset: str = "linear", epochs: int = 5, batch_size: int = 16,
                 seed: int = 0):
        self.model = TuningConfig(dataset, seed, epochs=epochs, batch_size=batch_size)
        self.session = TuningSession(self.model.config())
        self.charts = {"scores": ScoreChart()}
        self.panels = {"table": TablePanel()}
        self._make_controls()
        self.model.observe(self._changed, names=list(PLAN_TRAITS))
        self.start()

    def _make_controls(self) -> None:
        m = self.model
        s = dict(style=STYLE, layout=BOX)
        self.fields = {
            "dataset": field(W.Dropdown(options=data.names(), description="data set", **s),
                             m, "dataset"),
            "search": field(W.Dropdown(options=B.SEARCHES, description="search", **s),
                            m, "search"),
            "lr_lo": field(W.FloatText(description="lr from", **s), m, "lr_lo"),
            "lr_hi": field(W.FloatText(description="lr to", **s), m, "lr_hi"),
            "trials": field(W.IntText(description="configs", **s), m, "trials"),
            "epochs": field(W.IntText(description="epochs (budget)", **s), m, "epochs"),
            "batch_size": field(W.IntText(description="batch size", **s), m, "batch_size"),
            "batch_sizes": field(W.Text(description="step 2 sizes", continuous_update=False,
                                        **s), m, "batch_sizes"),
        }
        self.help = W.HTML()
        self.stage_line = W.HTML()
        self.stage_errors = ErrorLine(compact=True)
        self.step1 = button("step 1: lr", "search", self.to_step1,
                            "search the learning rate at one batch size", self.stage_errors)
        self.step2 = button("step 2: batch size at the best lr", "arrow-right", self.to_step2,
                            "train the step-2 batch sizes at the best lr of step 1",
                            self.stage_errors)
        m.observe(lambda _: self._describe(), names=list(PLAN_TRAITS))
        self._describe()

    def _describe(self) -> None:
        m = self.model
        self.help.value = (f"<div style='font-size:13px;color:#333'>"
                           f"{BUDGET_HELP[m.search]}</div>")
        if m.stage == "batch size":
            self.stage_line.value = (f"<b>step 2</b>: batch sizes {m.batch_sizes} at the best "
                                     f"lr of step 1, η = {m.best_lr:.3g}")
        else:
            self.stage_line.value = (f"<b>step 1</b>: {m.search} search over the learning rate"
                                     f" at batch size {m.batch_size}")
        for name in ("search", "lr_lo", "lr_hi", "trials"):
            self.fields[name].control.disabled = m.stage == "batch size"

    def controls(self) -> list[W.Widget]:
        """The controls on the left, each with its own error line."""
        f = self.fields
        return [self.stage_line, f["dataset"], f["search"], f["lr_lo"], f["lr_hi"],
                f["trials"], f["epochs"], self.help, f["batch_size"], f["batch_sizes"],
                W.HBox([self.step1]), W.HBox([self.step2]), self.stage_errors.widget]

    # ---- the two steps

    def to_step2(self) -> None:
        """Step 2: the step-2 batch sizes at the best lr of the finished step 1."""
        s = self.session
        if s.cfg.stage == "batch size":
            raise ValueError("this is step 2 already; press 'step 1: lr' to search the "
                             "learning rate again")
        if not s.done:
            raise ValueError(f"step 1 is not finished (round {s.step} of {s.horizon}); "
                             f"play it to the end first")
        best = s.view(s.step).best
        self.model.prior = tuple(dict(r) for r in s.history.rows)
        try:
            with self.model.hold_trait_notifications():
                self.model.best_lr = float(best.lr)
                self.model.stage = "batch size"
        except T.TraitError as err:          # e.g. a step-2 batch size the data cannot take
            self.model.prior = ()
            raise ValueError(str(err)) from None
        self.stage_errors.clear()

    def to_step1(self) -> None:
        """Back to step 1 (the learning-rate search)."""
        self.model.prior = ()
        self.model.stage = "lr"
        self.stage_errors.clear()

    # ---- reacting to the config

    def _changed(self, change) -> None:
        if change["name"] == "dataset" and self.model.stage == "batch size":
            self.to_step1()                  # step 2 belongs to step 1's data set
            return
        try:
            self.reset()                     # every setting changes what the search is
        except (T.TraitError, ValueError) as err:     # pragma: no cover - validated already
            self.errors.show(str(err))

    def scenes(self) -> dict[str, Scene]:
        """Prepared situations (the scene picker and ``?scene=``)."""
        return {
            "grid": Scene("a grid of 9 learning rates, 1e-3 to 1",
                          {"search": "grid", "trials": 9},
                          "at 5 epochs the validation loss falls about 9-fold from η = 1e-3 "
                          "to the best (η ≈ 0.18) and rises again towards η = 1"),
            "halving": Scene("successive halving", {"search": "successive halving"},
                             "9 configurations at 5 epochs, the best 3 at 15, the best at "
                             "45: 135 epochs in all"),
            "hyperband": Scene("one Hyperband bracket", {"search": "hyperband",
                                                         "epochs": 27},
                               "the most exploratory bracket: 27 configurations for 1 epoch, "
                               "then the best 9 for 3, 3 for 9 and 1 for 27"),
            "too wide": Scene("an lr range that diverges", {"lr_hi": 10.0},
                              "the largest rates diverge: they rank last"),
        }

    def style(self) -> Style:
        """The record the chart and table are configured with (batch sizes, lr range)."""
        m, cfg = self.model, self.session.cfg
        sizes = {m.batch_size, *B.parse_sizes(m.batch_sizes)} | {
            r["batch_size"] for r in cfg.prior}
        lo, hi = m.lr_lo, m.lr_hi
        if m.best_lr is not None:
            lo, hi = min(lo, m.best_lr), max(hi, m.best_lr)
        return Style(tuple(sorted(sizes)), (lo, hi), cfg.metric, cfg.stage, cfg.search)
