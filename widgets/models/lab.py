r"""The models lab: put :math:`\theta` by hand, then let gradient descent go from there.

:class:`ModelsLab` subclasses :class:`descentlab.widgets.core.lab.Lab`: the config is a
:class:`~.config.ModelsConfig`, the session a :class:`~.session.ModelsSession`, the charts
:class:`~.charts.FitChart` and :class:`~.charts.SliceChart`, the panels
:class:`~.panels.NumbersPanel` and :class:`~.panels.CheckPanel`.  The keyboard (Space, →,
←, R), the step counter, the timeline and the CSV export come from the base.

Moving a hand coordinate (slider or box) changes the start: the run restarts there.  The
learning rate (log slider, default ``engine.kinds.FIELD_LR["GD"]``) is tuned live while a
run goes (an event in the history, shown in the path's label); before the first step or
after the run stopped, it restarts the run with the new rate.
"""

from __future__ import annotations

import ipywidgets as W
import traitlets as T

from descentlab.engine import data
from descentlab.widgets.core.lab import Lab, Layout, Scene
from descentlab.widgets.ui.controls import BOX, STYLE, Field, button, field, on_edit
from descentlab.widgets.ui.upload import upload_field

from . import build as B
from .charts import FitChart, LossChart, SliceChart, Style
from .config import RUN_TRAITS, ModelsConfig
from .panels import CheckPanel, NumbersPanel
from .session import ModelsSession

__all__ = ["ModelsLab"]


class ModelsLab(Lab):
    """Models, losses and metrics by hand, and gradient descent from the hand point."""

    title = "Models and losses: put θ by hand, then run gradient descent"
    step_name = "step"
    filename = "models_gd.csv"
    layout = Layout(left=("fit", "slice", "loss"), bottom=("numbers", "check"))

    def __init__(self, dataset: str = "linear", seed: int = 0):
        self.model = ModelsConfig(dataset, seed)
        self.session = ModelsSession(self.model.config())
        self.charts = {"fit": FitChart(), "slice": SliceChart(), "loss": LossChart()}
        self.panels = {"numbers": NumbersPanel(), "check": CheckPanel()}
        # _sync shows the config in the controls: a new options list makes a dropdown pick
        # its first option on the way, which must not reach the config as a choice
        self._syncing = False
        self._make_controls()
        self.model.observe(self._changed, names=list(RUN_TRAITS))
        self.model.observe(self._retuned, names="lr")
        self.start()

    # ---- controls

    def _choice(self, widget: W.Widget, name: str) -> Field:
        """A dropdown (or checkbox) whose options follow the config: a rejected choice
        shows its message beneath it and the control snaps back."""
        box = Field(widget)
        on_edit(widget, lambda v: setattr(self.model, name, v), box.errors, self._sync,
                lambda: self._syncing)
        return box

    def _make_controls(self) -> None:
        m = self.model
        s = dict(style=STYLE, layout=BOX)
        self.data_box = W.Dropdown(options=data.names(), description="data set", **s)
        self.upload_field = upload_field(self.model.add_upload)
        self.upload = self.upload_field.control
        self.target_box = W.Dropdown(options=[], description="target column", **s)
        self.classes_box = W.Checkbox(description="target is class labels")
        self.model_box = W.Dropdown(description="model", **s)
        self.pair_boxes = (W.Dropdown(description="slider 1 moves", **s),
                           W.Dropdown(description="slider 2 moves", **s))
        self.rest_box = W.Dropdown(options=("fitted", "zero"), description="hold the rest at",
                                   **s)
        self.sliders = tuple(W.FloatSlider(description=d, continuous_update=True,
                                           readout_format=".3g", **s) for d in ("w", "b"))
        self.fields = {
            "dataset": self._choice(self.data_box, "dataset"),
            "target": self._choice(self.target_box, "target"),
            "classes": self._choice(self.classes_box, "classes"),
            "model": self._choice(self.model_box, "model"),
            "first": self._choice(self.pair_boxes[0], "first"),
            "second": self._choice(self.pair_boxes[1], "second"),
            "rest": self._choice(self.rest_box, "rest"),
        }
        self.slider_fields = (self._choice(self.sliders[0], "w"),
                              self._choice(self.sliders[1], "b"))
        self.text_fields = (field(W.FloatText(description="w =", **s), m, "w"),
                            field(W.FloatText(description="b =", **s), m, "b"))
        self.texts = tuple(f.control for f in self.text_fields)
        # one event per release, not one per pixel of a drag
        self.lr_field = field(W.FloatLogSlider(value=m.lr, base=10, min=-4, max=1,
                                               description="learning rate η",
                                               readout_format=".3g", continuous_update=False,
                                               **s), m, "lr")
        self.steps_field = field(W.BoundedIntText(value=m.steps, min=1, max=100_000,
                                                  description="max steps", **s), m, "steps")
        self.model.observe(lambda _: self._sync(), names=[*RUN_TRAITS, "uploads"])
        self._sync()

    def controls(self) -> list[W.Widget]:
        """The controls on the left, each with its own error line."""
        f = self.fields
        to_fit = button("to the fitted values", "bullseye", self.to_fitted,
                        "put both hand coordinates at the fitted values", self.errors)
        to_zero = button("to zero", "undo", lambda: self.move((0.0, 0.0)),
                         "put both hand coordinates at 0", self.errors)
        return [f["dataset"], self.upload_field, f["target"], f["classes"], f["model"],
                f["first"], f["second"], f["rest"], self.slider_fields[0],
                self.text_fields[0], self.slider_fields[1], self.text_fields[1],
                W.HBox([to_fit, to_zero]), self.lr_field, self.steps_field]

    def _sync(self) -> None:
        """Every choice control shows the config (options first, then the value)."""
        m, built = self.model, self.model.built
        up = m.dataset.startswith(B.UPLOAD_PREFIX)
        self._syncing = True
        try:
            opts = (*data.names(), *(B.UPLOAD_PREFIX + k for k in m.uploads))
            if tuple(self.data_box.options) != opts:
                self.data_box.options = opts
            self.data_box.value = m.dataset
            cols = m.uploads[m.dataset[len(B.UPLOAD_PREFIX):]].columns if up else ()
            if tuple(self.target_box.options) != tuple(cols):
                self.target_box.options = cols
            self.target_box.value = m.target if up else None
            self.classes_box.value = bool(m.classes)
            self.target_box.disabled = self.classes_box.disabled = not up
            labels = B.models_for(built.dataset.task)
            if tuple(self.model_box.options) != labels:
                self.model_box.options = labels
            self.model_box.value = m.model
            pairs = [(n, i) for i, n in enumerate(built.names)]
            for box, v in zip(self.pair_boxes, (m.first, m.second), strict=True):
                if list(box.options) != pairs:
                    box.options = pairs
                box.value = v
            self.rest_box.value = m.rest
            plane = m.plane()
            for k, (slider, v) in enumerate(zip(self.sliders, (m.w, m.b), strict=True)):
                lo, hi = plane.ranges[k]
                with slider.hold_sync():
                    if lo > slider.max:
                        slider.max, slider.min = hi, lo
                    else:
                        slider.min, slider.max = lo, hi
                    slider.step = (hi - lo) / 400
                    slider.value = v
                    slider.description = m.names[k]
                self.texts[k].description = f"{m.names[k]} ="
        finally:
            self._syncing = False

    # ---- what a person does

    def move(self, values) -> None:
        """Put the two hand coordinates at ``values`` (the new start; ValueError when not
        finite, nothing changed)."""
        w, b = (float(v) for v in values)
        self.model.plane(w=w, b=b)                   # validate both before changing either
        with self.model.hold_trait_notifications():
            self.model.w, self.model.b = w, b
        self.errors.clear()

    def to_fitted(self) -> None:
        """Put both hand coordinates at their fitted values (the new start)."""
        built = self.model.built
        self.move(built.fitted[[self.model.first, self.model.second]])

    def load_csv_bytes(self, content: bytes, name: str = "uploaded.csv") -> None:
        """What an upload does once its value is checked: read the CSV (last column the
        target) and switch to it; a malformed file shows the engine's message beneath the
        upload control and keeps the last good data set."""
        try:
            self.model.add_upload(content, name)
        except (T.TraitError, ValueError) as err:
            self.upload_field.errors.show(str(err))
        else:
            self.upload_field.errors.clear()

    # ---- reacting to the config

    def _changed(self, change) -> None:
        """Data, model, hand coordinates, start or step limit: a new run (once per edit,
        however many traits the edit set)."""
        cfg = self.model.config()
        old = self.session.cfg
        if cfg.plane is old.plane and cfg.start == old.start and cfg.steps == old.steps:
            return
        self.reset()

    def _retuned(self, change) -> None:
        """η while the run goes: a live retune (an event); before the first step or after
        the run stopped: the run starts over with it."""
        s = self.session
        if s.step > 0 and s.active:
            s.retune(change["new"])
            self.show_step(self.shown)          # redrawn, panels too, at the step on screen
        else:
            self.reset()

    def scenes(self) -> dict[str, Scene]:
        """Prepared situations (the scene picker and ``?scene=``; the course links
        ``linear-fit``, ``logistic`` and ``softmax``)."""
        logistic = "logistic regression (binary cross-entropy)"
        softmax = "softmax regression (cross-entropy)"
        return {
            "linear-fit": Scene("a linear fit: GD down the MSE bowl",
                                {"dataset": "linear", "w": -2.0, "b": 2.5},
                                "press Space: GD walks from (−2, 2.5) to the fit (η = 0.5 "
                                "lands in one step, 0.9 zigzags, 1.2 diverges); at the fit, "
                                "moving b by 1 raises the training MSE by exactly 1"),
            "logistic": Scene("logistic regression at zero",
                              {"dataset": "moons", "model": logistic, "first": 0,
                               "second": 2, "rest": "zero"},
                              "every p = 1/2: the log-loss is log 2 ≈ 0.6931 on train and "
                              "validation, and the check's ∂L/∂b = 1/2 − ȳ = 0"),
            "softmax": Scene("softmax regression at zero",
                             {"dataset": "blobs", "model": softmax, "first": 0, "second": 6,
                              "rest": "zero"},
                             "every p = 1/3: the cross-entropy is log 3 ≈ 1.099 and the "
                             "accuracy 1/3"),
            "zigzag": Scene("a large η zig-zags", {"dataset": "linear", "w": -2.0, "b": 2.5,
                                                   "lr": 0.9},
                            "just below 2/L = 1 each step overshoots the valley floor"),
            "diverge": Scene("too large η diverges", {"dataset": "linear", "w": 0.5,
                                                      "b": 0.5, "lr": 1.2},
                             "above 2/L = 1 every step lands farther out: the run stops "
                             "as diverged"),
            "curve": Scene("polynomial features", {"dataset": "polynomial"},
                           "ŷ uses x, x², x³: the fit is a curve along x"),
        }

    def apply_scene(self, name: str) -> None:
        """The base's scene, then its settings that depend on the data set (model, hand
        coordinates, start, η), which a new data set had reset to its own defaults."""
        super().apply_scene(name)
        scene = self.scenes().get(name)
        if scene is None or self.errors.message:
            return
        if self.assign(name, {k: v for k, v in scene.settings.items() if k != "dataset"}):
            self.reset()

    def style(self) -> Style:
        """The record every chart and panel is configured with (data, plane, names)."""
        plane = self.session.cfg.plane
        built = plane.built
        ds, g = built.dataset, plane.grid
        classify = ds.task != "regression"
        a = g.cols[0]
        if g.mode == "boundary":
            b = g.cols[1]
            tr = (ds.X_train[:, a], ds.X_train[:, b], ds.y_train)
            va = (ds.X_val[:, a], ds.X_val[:, b], ds.y_val)
            labels = (ds.feature_names[a], ds.feature_names[b])
        else:
            tr = (ds.X_train[:, a], ds.y_train.astype(float), ds.y_train if classify else None)
            va = (ds.X_val[:, a], ds.y_val.astype(float), ds.y_val if classify else None)
            labels = (ds.feature_names[a], ds.target_name)
        K = max(ds.n_classes, 2) if classify else 0
        classes = tuple(str(k) for k in range(K))
        names = tuple(built.names[i] for i in plane.pair)
        return Style(names, plane.pair, built.names, built.model.name, ds.task, g.mode,
                     g.caption, labels, tr, va, classes, plane.ranges, plane.ws, plane.bs,
                     plane.Z, plane.grad_scale)
