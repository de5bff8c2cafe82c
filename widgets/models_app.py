r"""Models, losses and metrics by hand (syllabus topics 1-3): :func:`models_lab`.

>>> from descentlab.widgets import models_lab
>>> models_lab()                          # doctest: +SKIP

Pick a data set (the engine's synthetic and real sets, or an uploaded CSV with a chosen
target column) and a model matched to its task: linear regression (MSE), logistic regression
(binary cross-entropy) or softmax regression (cross-entropy).  Two sliders move two
coordinates of :math:`\theta` -- by default the first weight and its bias, :math:`(w, b)`;
any pair can be chosen.  With one feature and a linear or logistic model these are ALL the
parameters; otherwise the other coordinates are held at their fitted values
(:func:`~.models_parts.fitted_params`) or at zero ("hold the rest at").

Everything is static (no player): each slider move updates, in place, the fit in data
space, the current point and :math:`\pm\nabla L` on the loss slice, the loss and the task's
metrics on training AND validation data with their formulas, and the gradient check
(analytic gradient next to central finite differences).  The loss slice is recomputed
(debounced) only when the data set, model, pair or held values change.  A rejected input
(a non-finite typed value, a malformed CSV) shows the engine's message in the error line
and keeps the last good state.
"""

from __future__ import annotations

import html

import ipywidgets as W
import numpy as np

from descentlab.engine import data, metrics, training

from .ui.controls import ErrorLine, button
from .models_charts import FitView, SliceView
from .models_parts import (
    CONVEXITY,
    LOSS_TEX,
    default_pair,
    fitted_params,
    gradient_check,
    make,
    models_for,
    param_names,
    slice_grid,
    slider_range,
)
from .core.timing import Debouncer

__all__ = ["ModelsLab", "models_lab", "read_upload", "UPLOAD_PREFIX", "MAX_CHECK_ROWS"]

_STYLE = {"description_width": "110px"}
_BOX = W.Layout(width="300px")
UPLOAD_PREFIX = "upload: "
MAX_CHECK_ROWS = 16
SLICE_N = 60


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_upload(content: bytes, name: str = "uploaded.csv", target: str | None = None,
                classes: bool | None = None, seed: int = 0):
    """CSV bytes -> ``(Dataset, columns, classes)``.

    ``target`` names the target column (default: the last).  ``classes`` says whether its
    values are class labels; by default: yes when none of them is a number (names such as
    "cat", "dog"), or when they are numbers taking at most 10 distinct integer values.
    Numeric labels are numbered in increasing order, names in sorted order, as ``0..K-1``.
    A malformed file raises the engine's ValueError naming the row and column (a target
    mixing numbers and words is malformed, not categorical).
    """
    try:
        table = data.load_csv(content, target=target)
    except ValueError as err:
        if classes is False:
            raise
        try:
            named = data.load_csv(content, target=target, categorical_target=True)
        except ValueError:
            raise err from None
        if classes is None and any(_numeric(c) for c in named.classes):
            raise err from None
        table, classes = named, True
    else:
        y = table.y
        levels, labels = np.unique(y, return_inverse=True)
        if classes is None:
            classes = len(levels) <= 10 and bool(np.all(levels == np.round(levels)))
        if classes:
            table = table._replace(y=labels.astype(np.int64))
    ds = data.from_arrays(table.X, table.y, name=name, feature_names=table.feature_names,
                          target_name=table.target_name, seed=seed)
    return ds, (*table.feature_names, table.target_name), bool(classes)


def _fmt(v: float) -> str:
    return "—" if not np.isfinite(v) else f"{v:.6g}"


class ModelsLab:
    """The app: controls, the two figures, numbers, gradient check.  ``widget`` is what a
    notebook displays.  State: ``dataset``, ``model``, ``fitted (P,)``, ``theta (P,)``,
    ``pair (i, j)`` (the slider coordinates), ``values`` (loss and metrics, train and val)
    and ``check`` (analytic gradient, numerical gradient, relative difference)."""

    def __init__(self, dataset: str = "linear", seed: int = 0):
        self.seed = seed
        self.errors = ErrorLine()
        self._quiet = False
        self._stale = True
        self.uploads: dict[str, dict] = {}
        self.fit_view = FitView()
        self.slice_view = SliceView()
        self._slice_later = Debouncer(self._draw_slice, 0.15)

        self.data_box = W.Dropdown(options=data.names(), description="data set",
                                   style=_STYLE, layout=_BOX)
        self.upload = W.FileUpload(accept=".csv", multiple=False, description="upload CSV")
        self.target_box = W.Dropdown(options=[], description="target column", style=_STYLE,
                                     layout=_BOX, disabled=True)
        self.classes_box = W.Checkbox(description="target is class labels", disabled=True)
        self.model_box = W.Dropdown(description="model", style=_STYLE,
                                    layout=W.Layout(width="300px"))
        self.pair_boxes = (W.Dropdown(description="slider 1 moves", style=_STYLE, layout=_BOX),
                           W.Dropdown(description="slider 2 moves", style=_STYLE, layout=_BOX))
        self.rest_box = W.Dropdown(options=("fitted", "zero"), description="hold the rest at",
                                   style=_STYLE, layout=_BOX)
        self.sliders = tuple(W.FloatSlider(description=d, style=_STYLE, layout=_BOX,
                                           continuous_update=True, readout_format=".3f")
                             for d in ("w", "b"))
        self.texts = tuple(W.FloatText(description=d, style=_STYLE, layout=_BOX)
                           for d in ("w =", "b ="))
        self.numbers = W.HTMLMath(layout=W.Layout(min_width="420px"))
        self.check_panel = W.HTMLMath(layout=W.Layout(min_width="420px"))
        self.convexity = W.HTMLMath(layout=W.Layout(max_width="520px"))

        ds = data.make_dataset(dataset, seed=seed)
        self.data_box.value = dataset
        self._set_data(ds, models_for(ds.task)[0])

        self.data_box.observe(self._on_data, "value")
        self.upload.observe(self._on_upload, "value")
        self.target_box.observe(self._on_target, "value")
        self.classes_box.observe(self._on_target, "value")
        self.model_box.observe(self._on_model, "value")
        for box in self.pair_boxes:
            box.observe(self._on_pair, "value")
        self.rest_box.observe(self._on_rest, "value")
        for k in range(2):
            self.sliders[k].observe(lambda ch, k=k: self._on_slider(k, ch), "value")
            self.texts[k].observe(lambda ch, k=k: self._on_text(k, ch), "value")

        to_fit = button("to the fitted values", "bullseye", lambda: self.move(
            self.fitted[list(self.pair)]), "put both sliders at the fitted values",
            self.errors)
        to_zero = button("to zero", "undo", lambda: self.move((0.0, 0.0)),
                         "put both sliders at 0", self.errors)
        controls = W.VBox([self.data_box, self.upload, self.target_box, self.classes_box,
                           self.model_box, *self.pair_boxes, self.rest_box,
                           self.sliders[0], self.texts[0], self.sliders[1], self.texts[1],
                           W.HBox([to_fit, to_zero])], layout=W.Layout(width="320px"))
        self.widget = W.VBox([
            W.HTML("<h3 style='margin:4px 0'>Models and losses: move θ by hand</h3>"),
            W.HBox([controls, self.fit_view.figure,
                    W.VBox([self.slice_view.figure, self.convexity])],
                   layout=W.Layout(flex_flow="row wrap")),
            self.errors.widget,
            W.HBox([self.numbers, self.check_panel], layout=W.Layout(flex_flow="row wrap")),
        ])

    def slider_names(self) -> tuple[str, str]:
        """The names of the two coordinates the sliders move."""
        return tuple(self.names[p] for p in self.pair)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # ---------------------------------------------------------------- configuration

    def _set_data(self, ds: data.Dataset, label: str, pair=None) -> None:
        """New data set and/or model: everything is computed first, then committed, so a
        failure leaves the last good state untouched."""
        model = make(label, ds)
        X, y = ds.X_train, ds.y_train
        fitted = fitted_params(model, X, y)
        names = param_names(model, ds.feature_names)
        pair = default_pair(model, X.shape[1]) if pair is None else tuple(pair)
        training.evaluate(model, ds, fitted[None])        # raises on data the model rejects
        self.dataset, self.model, self.fitted, self.names = ds, model, fitted, names
        self.theta = fitted.copy() if self.rest_box.value == "fitted" else np.zeros_like(fitted)
        self.theta[list(pair)] = 0.0
        self._quiet = True
        try:
            with self.model_box.hold_sync():
                self.model_box.options = models_for(ds.task)
                self.model_box.value = label
            for box, p in zip(self.pair_boxes, pair, strict=True):
                with box.hold_sync():
                    box.options = [(n, i) for i, n in enumerate(names)]
                    box.value = p
        finally:
            self._quiet = False
        self._set_pair(pair)
        self.convexity.value = (f"<div style='font-size:14px'><b>Convexity.</b> "
                                f"{html.escape(CONVEXITY[model.name])}</div>")

    def _set_pair(self, pair) -> None:
        """Sliders on the coordinates ``pair``; their ranges hold 0 and the fitted values."""
        self.pair = tuple(int(p) for p in pair)
        self.ranges = tuple(slider_range(self.fitted[p]) for p in self.pair)
        self._quiet = True
        try:
            for k, p in enumerate(self.pair):
                lo, hi = self.ranges[k]
                v = float(self.theta[p])
                self._slider_to(k, lo, hi, v, self.names[p])
                with self.texts[k].hold_sync():
                    self.texts[k].description = f"{self.names[p]} ="
                    self.texts[k].value = v
        finally:
            self._quiet = False
        self.fit_view.set_data(self.dataset, self.model, self.pair)
        self._new_slice()

    def _new_slice(self) -> None:
        """Numbers now; the slice (heavy) debounced, its point and arrows drawn with it."""
        self._stale = True
        self.redraw()
        self._slice_later.call()

    def _slider_to(self, k: int, lo: float, hi: float, v: float, name: str) -> None:
        s = self.sliders[k]
        lo, hi = min(lo, v), max(hi, v)
        with s.hold_sync():
            if lo > s.max:
                s.max = hi
                s.min = lo
            else:
                s.min = lo
                s.max = hi
            s.step = (hi - lo) / 400
            s.value = v
            s.description = name

    def _draw_slice(self) -> None:
        self._stale = False
        ws, bs, Z = slice_grid(self.model, self.dataset.X_train, self.dataset.y_train,
                               self.theta, self.pair, *self.ranges, n=SLICE_N)
        self.slice_view.set_slice(ws, bs, Z, self.slider_names())
        self.slice_view.update(self.theta[list(self.pair)], self.check[0][list(self.pair)])

    # ---------------------------------------------------------------- the light path

    def move(self, values) -> None:
        """Put the two slider coordinates at ``values`` (finite) and redraw in place."""
        values = [float(v) for v in values]
        for k, v in enumerate(values):
            if not np.isfinite(v):
                raise ValueError(f"{self.names[self.pair[k]]} must be a finite number; "
                                 f"got {v}")
        self.theta[list(self.pair)] = values
        self._quiet = True
        try:
            for k, v in enumerate(values):
                s = self.sliders[k]
                if not s.min <= v <= s.max:
                    self._slider_to(k, s.min, s.max, v, s.description)
                else:
                    s.value = v
                self.texts[k].value = v
        finally:
            self._quiet = False
        self.errors.clear()
        self.redraw()

    def redraw(self) -> None:
        """Fit, point and arrows, numbers and the gradient check at ``theta``."""
        ds, model, theta = self.dataset, self.model, self.theta
        self.check = gradient_check(model, ds.X_train, ds.y_train, theta)
        self.values = training.evaluate(model, ds, theta[None])
        self.fit_view.update(theta)
        if not self._stale:
            self.slice_view.update(theta[list(self.pair)], self.check[0][list(self.pair)])
        self._render_numbers()
        self._render_check()

    def _render_numbers(self) -> None:
        v, names = self.values, training.DEFAULT_METRICS[self.dataset.task]
        rows = [("loss L", v["train_loss"][0], v["val_loss"][0])]
        rows += [(m, v[f"train_{m}"][0], v[f"val_{m}"][0]) for m in names]
        body = "".join(f"<tr><td style='text-align:left'>{m}</td><td>{_fmt(a)}</td>"
                       f"<td><b>{_fmt(b)}</b></td></tr>" for m, a, b in rows)
        formulas = "".join(f"<div>${metrics.FORMULAS[m]}$</div>" for m in names)
        self.numbers.value = (
            "<div style='font-size:14px'><b>loss and metrics at the current θ</b>"
            "<table style='text-align:right'><tr><th></th><th style='padding:0 10px'>train"
            "</th><th style='padding:0 10px'>validation</th></tr>"
            f"{body}</table><div>${LOSS_TEX[self.model.name]}$</div>{formulas}</div>")

    def _render_check(self) -> None:
        ga, gn, rel = self.check
        P = len(ga)
        idx = list(range(P)) if P <= MAX_CHECK_ROWS else list(self.pair)
        body = "".join(f"<tr><td style='text-align:left'>{html.escape(self.names[i])}</td>"
                       f"<td>{ga[i]:.8g}</td><td>{gn[i]:.8g}</td></tr>" for i in idx)
        note = "" if P <= MAX_CHECK_ROWS else (f"<div>showing the 2 slider coordinates of "
                                                f"{P}; the difference is over all {P}</div>")
        verdict = "agree" if rel < 1e-6 else "DISAGREE"
        self.check_panel.value = (
            "<div style='font-size:14px'><b>gradient check</b>"
            r"<div>$\frac{\partial L}{\partial \theta_d} \approx "
            r"\frac{L(\theta + h e_d) - L(\theta - h e_d)}{2h}$</div>"
            "<table style='text-align:right'><tr><th></th><th style='padding:0 10px'>"
            "analytic ∇L</th><th style='padding:0 10px'>finite difference</th></tr>"
            f"{body}</table>{note}"
            r"<div>relative difference $\frac{\lVert g_a - g_n\rVert}"
            r"{\lVert g_a\rVert + \lVert g_n\rVert}$ = "
            f"<b>{rel:.2e}</b> ({verdict})</div></div>")

    # ---------------------------------------------------------------- handlers

    def _guarded(self, action) -> None:
        if self._quiet:
            return
        try:
            action()
        except ValueError as err:
            self.errors.show(str(err))
            self._restore()
        else:
            self.errors.clear()

    def _restore(self) -> None:
        """Controls back to the last good state (no recomputation)."""
        self._quiet = True
        try:
            name = self.dataset.name
            self.data_box.value = (name if name in self.data_box.options
                                   else UPLOAD_PREFIX + name)
            self.model_box.value = next(k for k in self.model_box.options
                                        if make(k, self.dataset).name == self.model.name)
            for box, p in zip(self.pair_boxes, self.pair, strict=True):
                box.value = p
            for k, p in enumerate(self.pair):
                self.sliders[k].value = float(self.theta[p])
                self.texts[k].value = float(self.theta[p])
        finally:
            self._quiet = False

    def _on_data(self, change) -> None:
        def act():
            name = change["new"]
            if name.startswith(UPLOAD_PREFIX):
                up = self.uploads[name[len(UPLOAD_PREFIX):]]
                ds, _, _ = read_upload(up["content"], up["name"], up["target"],
                                       up["classes"], self.seed)
                self._show_upload(up)
            else:
                ds = data.make_dataset(name, seed=self.seed)
                self._enable_upload_boxes(False)
            self._set_data(ds, models_for(ds.task)[0])
        self._guarded(act)

    def _enable_upload_boxes(self, on: bool) -> None:
        self.target_box.disabled = not on
        self.classes_box.disabled = not on

    def _on_upload(self, change) -> None:
        files = change["new"]
        if not files:
            return
        f = files[0]
        self.load_csv_bytes(bytes(f["content"]), f["name"])

    def load_csv_bytes(self, content: bytes, name: str = "uploaded.csv") -> None:
        """What an upload does: read the CSV (last column the target), fill the target
        dropdown from its header and switch to it; a malformed file shows the engine's
        message and keeps the last good data set."""
        def act():
            ds, columns, classes = read_upload(content, name, seed=self.seed)
            up = self.uploads[name] = {"content": bytes(content), "name": name,
                                       "columns": columns, "target": ds.target_name,
                                       "classes": classes}
            self._quiet = True
            try:
                self.data_box.options = (*data.names(),
                                         *(UPLOAD_PREFIX + k for k in self.uploads))
                self.data_box.value = UPLOAD_PREFIX + name
            finally:
                self._quiet = False
            self._show_upload(up)
            self._set_data(ds, models_for(ds.task)[0])
        self._guarded(act)

    def _show_upload(self, up: dict) -> None:
        """The target dropdown and class-label box show this upload's settings."""
        self._quiet = True
        try:
            self.target_box.options = up["columns"]
            self.target_box.value = up["target"]
            self.classes_box.value = up["classes"]
        finally:
            self._quiet = False
        self._enable_upload_boxes(True)

    def _on_target(self, change) -> None:
        def act():
            up = self.uploads[self.data_box.value[len(UPLOAD_PREFIX):]]
            classes = self.classes_box.value if change["owner"] is self.classes_box else None
            ds, _, classes = read_upload(up["content"], up["name"], self.target_box.value,
                                         classes, self.seed)
            self._set_data(ds, models_for(ds.task)[0])
            up["target"], up["classes"] = self.target_box.value, classes
            self._show_upload(up)
        if self.data_box.value.startswith(UPLOAD_PREFIX):
            self._guarded(act)

    def _on_model(self, change) -> None:
        self._guarded(lambda: self._set_data(self.dataset, change["new"]))

    def _on_pair(self, change) -> None:
        def act():
            pair = tuple(box.value for box in self.pair_boxes)
            if pair[0] == pair[1]:
                raise ValueError(f"the two sliders must move different coordinates; both "
                                 f"move {self.names[pair[0]]}")
            self._set_pair(pair)
        self._guarded(act)

    def _on_rest(self, change) -> None:
        def act():
            held = self.fitted if change["new"] == "fitted" else np.zeros_like(self.fitted)
            keep = self.theta[list(self.pair)]
            self.theta = held.copy()
            self.theta[list(self.pair)] = keep
            self._new_slice()
        self._guarded(act)

    def _on_slider(self, k: int, change) -> None:
        def act():
            values = self.theta[list(self.pair)].copy()
            values[k] = change["new"]
            self.move(values)
        self._guarded(act)

    def _on_text(self, k: int, change) -> None:
        def act():
            values = self.theta[list(self.pair)].copy()
            values[k] = change["new"]
            self.move(values)
        self._guarded(act)


def models_lab(dataset: str = "linear", seed: int = 0) -> ModelsLab:
    r"""Move :math:`(w, b)` by hand and watch the fit, the loss (MSE, binary or softmax
    cross-entropy), the metrics on train and validation, the loss surface with
    :math:`\pm\nabla L`, and the gradient checked by finite differences."""
    return ModelsLab(dataset, seed)
