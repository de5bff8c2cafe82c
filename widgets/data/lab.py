r"""The data labs: :class:`DataLab` (the shape every data app shares) and one subclass per
app with its own controls.

Controls -> :class:`~.config.DataModel` (validated; a rejected value is shown under its
control and the last good state is kept; what validation built is cached) ->
:meth:`DataSession.update <.session.DataSession.update>` (restart for a change of what a
run *is*, live retune otherwise) -> :meth:`~descentlab.widgets.core.lab.Lab.configure`
(style) -> :meth:`~descentlab.widgets.core.lab.Lab.render` (one :class:`~.session.View`
drawn by the charts on screen).  Builds paused at iteration 0.
"""

from __future__ import annotations

import html

import ipywidgets as W
import numpy as np
import traitlets as T

from descentlab.engine import batching, kinds
from descentlab.engine import data as D
from descentlab.widgets.core.lab import Lab, Layout, Scene
from descentlab.widgets.ui.controls import BOX, STYLE, Field, field
from descentlab.widgets.ui.format import num
from descentlab.widgets.ui.palette import ColorBook, class_color, ramp_colors
from descentlab.widgets.ui.parse import parse_floats, parse_ints
from descentlab.widgets.ui.upload import upload_field

from .build import upload_dataset
from .charts import (
    POINT_COLORS,
    DataChart,
    DataStyle,
    EffectiveSteps,
    Points,
    TrainValChart,
    WeightTraces,
    epoch_loss,
    iteration_loss,
)
from .config import DataModel, with_field
from .panels import BatchSurface, DerivationPanel, MetricsPanel, NoiseChart
from .session import DataSession

__all__ = ["DataLab", "BatchSizeLab", "EarlyStoppingLab", "RegularizationLab",
           "HighDimLab", "with_lambda", "with_lr", "same_config", "CHARTS", "PANELS",
           "GENERATED"]

NEEDS = {"data": "fit", "surface": "surface", "noise": "noise", "effstep": "internals"}
"""What a chart needs its views to compute (:data:`.session.EXTRAS`)."""

CHARTS = {"data": DataChart, "loss": iteration_loss, "loss_epoch": epoch_loss,
          "epochs": TrainValChart, "surface": BatchSurface, "noise": NoiseChart,
          "traces": WeightTraces, "effstep": EffectiveSteps}
"""Every chart a data lab can show, by name; a lab builds only those in its layout."""

PANELS = {"metrics": MetricsPanel, "derivation": DerivationPanel}
"""Every panel a data lab can show under its transport, by name (``layout.bottom``)."""

GENERATED = ("linear", "polynomial", "moons", "circles", "blobs2")
"""Data sets made by a generator (they take ``n``)."""


# ---------------------------------------------------------------------------- the lab


class DataLab(Lab):
    """What every data app shares: model, session, the charts of its layout, colours that
    follow the runs, live retuning.  Subclasses set ``layout``, ``title`` and
    :meth:`controls`."""

    step_name = "iteration"
    sweep: str | None = None
    key_title = "runs"

    def __init__(self, model: DataModel, filename: str = "training.csv"):
        self.model = model
        self.filename = filename
        self.initial = model.config()           # the app's settings: what its scenes vary
        self.initial_n = model.built().n_train  # N of the app's data set (built already)
        self.book = ColorBook()
        names = {*self.layout.left, *(n for _, n in self.layout.tabs)}
        self.charts = {n: CHARTS[n]() for n in CHARTS if n in names}
        self.panels = {n: PANELS[n]() for n in self.layout.bottom if n in PANELS}
        extras = {NEEDS[n] for n in self.charts if n in NEEDS}
        extras |= {"metrics"} if "metrics" in self.panels else set()
        self.session = DataSession(model.config(), model.builder, extras)
        self.session.selected = model.selected
        watched = [n for n in model.trait_names() if n not in ("selected",)
                   and not n.startswith("_")]
        model.observe(self._changed, watched)
        model.observe(self._selected, "selected")
        self.start()

    # ---- model -> session -> charts

    def _changed(self, change) -> None:
        """Any setting but ``selected``: restart or retune the session, once per edit --
        an edit of several traits (``hold_trait_notifications``) notifies once per trait,
        and only the first finds a configuration the session does not have yet."""
        cfg = self.model.config()
        if same_config(cfg, self.session.cfg):
            return
        try:
            restarted = self.session.update(cfg)
        except ValueError as err:          # validated already; never lose the last state
            self.errors.show(str(err))
            return
        self.configure()
        if restarted:
            self.show_step(0)              # the new runs, from their start
        else:
            self.render()                  # the step on screen stays
        self.refresh()

    def _selected(self, change) -> None:
        self.session.selected = change["new"]
        self.render()

    def refresh(self) -> None:
        """Update the lab's own texts after a change (subclasses)."""

    def render(self, step: int | None = None, everything: bool = False) -> None:
        """As :meth:`Lab.render`; views compute only what the charts on screen (and the
        panels) draw."""
        shown = set(self.charts) if everything else set(self.charts) - self.hidden
        self.session.wanted = frozenset({NEEDS[n] for n in shown if n in NEEDS}
                                        | ({"metrics"} if "metrics" in self.panels
                                           else set()))
        super().render(step, everything)

    # ---- style

    def run_colors(self, runs, n_train: int) -> list[str]:
        r"""Colours that follow the run, not its list position.  Sweeping the batch size:
        its place on the sequential ramp, :math:`\log B / \log N` (same B, same colour,
        whatever else is in the list).  Otherwise the Okabe-Ito colour first given to
        what the run is -- its kind, batch size, and whether it has an L2 penalty or weight
        decay (:class:`~descentlab.widgets.ui.palette.ColorBook`)."""
        if self.sweep == "batch_size":
            return ramp_colors([r.batch_size for r in runs], 1, max(n_train, 2))
        return self.book.colors((r.kind, r.batch_size, r.l2 > 0, r.weight_decay > 0)
                                for r in runs)

    def style(self) -> DataStyle:
        """The runs' colours (:meth:`run_colors`) and labels, the data's points, grids and
        ranges: what every chart's ``configure`` receives."""
        s = self.session
        ds, prep = s.dataset, s.built.prepared
        runs = s.start_cfg.runs
        colors = tuple(self.run_colors(runs, s.N))
        classify = ds.task != "regression"
        if classify:
            F = ds.X_train.shape[1]
            j = min(1, F - 1)
            tx, ty, vx, vy = ds.X_train[:, 0], ds.X_train[:, j], ds.X_val[:, 0], ds.X_val[:, j]
            cols = [class_color(k) for k in range(max(ds.n_classes, 2))]
            train = Points(tx, ty, [cols[int(c)] for c in ds.y_train])
            val = Points(vx, vy, [cols[int(c)] for c in ds.y_val])
            classes = tuple((f"class {k}", cols[k]) for k in range(max(ds.n_classes, 2)))
            names = (ds.feature_names[0], ds.feature_names[j])
        else:
            tx, ty, vx, vy = ds.X_train[:, 0], ds.y_train, ds.X_val[:, 0], ds.y_val
            train, val = Points(tx, ty, [POINT_COLORS[0]]), Points(vx, vy, [POINT_COLORS[1]])
            classes = ()
            names = (ds.feature_names[0], ds.target_name)
        if prep.mode in ("curve", "boundary"):
            x_range = (float(prep.xs[0]), float(prep.xs[-1]))
        else:
            x_range = _span(tx, vx, 0.05)
        y_range = (float(prep.ys[0]), float(prep.ys[-1])) if prep.mode == "boundary" \
            else _span(ty, vy, 0.15)
        ramp = ("batch size", [r.batch_size for r in runs]) if self.sweep == "batch_size" \
            else None
        return DataStyle(colors, tuple(s.labels), self.key_title, ramp, prep.mode, prep.xs,
                         prep.ys, names, train, val, classes, x_range, y_range,
                         tuple(s.rules.metrics), tuple(r.batch_size for r in runs), s.N,
                         s.surface_box, tuple(ds.feature_names))

    # ---- shared controls

    def runs_field(self, description: str, field_name: str, parse, show) -> Field:
        """A text box for one field of every run (``"1, 8, 32"``), under its own error line."""
        m = self.model
        return field(W.Text(description=description, style=STYLE, layout=BOX,
                            continuous_update=False), m, "runs",
                     to_model=lambda t: with_field(m.runs, field_name, parse(t)),
                     from_model=lambda runs: ", ".join(show(getattr(r, field_name))
                                                       for r in runs))

    def lrs_field(self) -> Field:
        """Each run's learning rate (one value: all runs); changed while training, a live
        retune (an event on the charts), else a restart."""
        return self.runs_field("learning rates η", "lr",
                               lambda t: parse_floats(t, len(self.model.runs)),
                               lambda v: num(v))

    def selected_field(self) -> Field:
        """Which run's mini-batch is ringed on the data (and drawn on the surface)."""
        dd = W.Dropdown(description="show batch of", style=STYLE, layout=BOX)
        box = Field(dd)
        busy = {"on": False}      # new options make the dropdown pick their first: not a choice

        def relabel():
            opts = [(lab, i) for i, lab in enumerate(self.session.labels)]
            busy["on"] = True
            try:
                if list(dd.options) != opts:
                    dd.options = opts
                dd.value = self.model.selected
            finally:
                busy["on"] = False

        def push(change):
            if busy["on"] or change["new"] is None:
                return
            try:
                self.model.selected = int(change["new"])
            except T.TraitError as err:
                box.errors.show(str(err))

        relabel()
        dd.observe(push, "value")
        self._relabel = relabel
        return box

    def upload_field(self) -> Field:
        """The one upload path: a CSV file (:func:`descentlab.widgets.ui.upload.upload_field`
        checks what the browser sent) -> :func:`.build.upload_dataset` -> the model's
        ``custom`` data set.  Its messages appear under it; the app keeps its state."""
        box = upload_field(self.upload)
        self.upload_box, self.upload_control = box, box.control
        return box

    def upload(self, content: bytes, name: str = "uploaded.csv") -> None:
        """Use an uploaded CSV (last column the target); ValueError with the engine's
        message (row, column) when it is malformed, and nothing changes."""
        self._upload_to_model(upload_dataset(content, name, self.model.seed))

    def _upload_to_model(self, dataset) -> None:
        self.model.custom = dataset

    def configure(self) -> None:
        super().configure()
        relabel = getattr(self, "_relabel", None)
        if relabel is not None:
            relabel()


def same_config(a, b) -> bool:
    """Whether two :class:`~.config.DataConfig` are the same settings (an uploaded data
    set compared by identity: its arrays have no plain ``==``)."""
    return a.custom is b.custom and a._replace(custom=None) == b._replace(custom=None)


def _span(a, b, pad: float) -> tuple[float, float]:
    lo = float(min(np.min(a), np.min(b) if len(b) else np.inf))
    hi = float(max(np.max(a), np.max(b) if len(b) else -np.inf))
    p = pad * (hi - lo + 1e-12)
    return lo - p, hi + p


def with_lr(runs, index: int, lr) -> list:
    """``runs`` with run ``index``'s learning rate set to ``lr`` (the others as they are)."""
    rs = list(runs)
    rs[index] = rs[index]._replace(lr=lr)
    return rs


def with_lambda(runs, lam: float) -> list:
    """The regularization app's runs at ``lam``: run 1's L2 penalty and run 2's decoupled
    weight decay (run 0 stays unpenalised)."""
    rs = list(runs)
    rs[1] = rs[1]._replace(l2=float(lam))
    rs[2] = rs[2]._replace(weight_decay=float(lam))
    return rs


# ---------------------------------------------------------------------------- the apps' labs


class BatchSizeLab(DataLab):
    """Batch size from 1 (SGD) to N (full-batch GD), each with its own learning rate."""

    title = "Batch size: noise per iteration, progress per epoch"
    sweep = "batch_size"
    key_title = "batch size"
    layout = Layout(left=("data",), tabs=(("loss / iteration", "loss"),
                                          ("loss / epoch", "loss_epoch"),
                                          ("gradient noise", "noise"),
                                          ("mini-batch surface", "surface"),
                                          ("train vs val", "epochs")),
                    bottom=("metrics",))

    def __init__(self, model: DataModel, filename: str = "batch_sizes.csv", n: int = 400):
        self.n = n            # rows of a generated data set picked in the data-set box
        super().__init__(model, filename)

    def controls(self) -> list[W.Widget]:
        m = self.model
        self.info = W.HTML()
        self.refresh()
        data_box = W.Dropdown(options=[*D.names(), "uploaded"], description="data set",
                              style=STYLE, layout=BOX,
                              value="uploaded" if m.custom is not None else m.dataset)
        data_field = Field(data_box)
        data_box.observe(lambda ch: self.choose_dataset(ch["new"], data_field), "value")
        self.data_box = data_box
        self.boxes = {
            "batch_sizes": self.runs_field("batch sizes", "batch_size", parse_ints, str),
            "lrs": self.lrs_field(),
            "kind": field(W.Dropdown(options=kinds.names(), description="optimizer",
                                     style=STYLE, layout=BOX), m, "runs",
                          to_model=lambda k: with_field(m.runs, "kind", k),
                          from_model=lambda runs: runs[0].kind),
            "momentum": field(W.FloatText(description="momentum μ", style=STYLE,
                                          layout=BOX,
                                          tooltip="used by Momentum and Nesterov"),
                              m, "momentum"),
            "epochs": field(W.IntText(description="epochs", style=STYLE, layout=BOX), m,
                            "epochs"),
            "data": data_field, "upload": self.upload_field(),
            "selected": self.selected_field(),
        }
        b = self.boxes
        return [b["batch_sizes"], b["lrs"], b["kind"], b["momentum"], b["epochs"], self.info,
                b["data"], b["upload"], b["selected"]]

    def choose_dataset(self, name: str, box: Field) -> None:
        """A named data set (generated ones with the lab's ``n``); "uploaded" waits for
        a file.  A rejected choice is shown under the box, which goes back."""
        if name in ("uploaded", self._dataset_choice()):   # waits for a file / no change
            return
        try:
            self.switch_data(custom=None, dataset=name,
                             dataset_params={"n": self.n} if name in GENERATED else {})
        except (ValueError, T.TraitError) as err:
            box.errors.show(str(err))
            self._show_dataset()
            return
        box.errors.clear()

    def switch_data(self, **traits) -> None:
        """Set the data traits together, the runs' batch sizes carried over: the full
        batch stays the full batch (B = N), larger ones are cut to the new N (a run that
        then repeats another is dropped).  One restart; the new data set is built once
        (validation reuses it)."""
        m = self.model
        old_n = self.session.N
        n = m.builder.data(m.config(**traits)).dataset.X_train.shape[0]
        runs = []
        for r in m.runs:
            r = r._replace(batch_size=n if r.batch_size == old_n else min(r.batch_size, n))
            if r not in runs:               # a size cut to N may repeat the full batch
                runs.append(r)
        with m.hold_trait_notifications():  # several traits, one restart (see _changed)
            for name, value in traits.items():
                setattr(m, name, value)
            m.runs = runs

    def _upload_to_model(self, dataset) -> None:
        self.switch_data(custom=dataset)

    def _dataset_choice(self) -> str:
        """What the data-set box shows for the model: its data set, or "uploaded"."""
        return "uploaded" if self.model.custom is not None else self.model.dataset

    def _show_dataset(self) -> None:
        """The data-set box follows the model (choosing what it has changes nothing)."""
        self.data_box.value = self._dataset_choice()

    def scenes(self) -> dict[str, Scene]:
        """The course's scenes (``?scene=``): SGD's noise, typical batches with the linear
        scaling rule, and the full batch as GD in one step (on the app's data set)."""
        N, base = self.initial_n, self.initial.runs[0]

        def runs(*pairs) -> dict:
            return {"runs": [base._replace(batch_size=B, lr=lr) for B, lr in pairs]}

        lr = base.lr
        full = [r._replace(lr=0.5) if r.batch_size == N else r for r in self.initial.runs]
        return {
            "sgd-noise": Scene(
                "SGD noise (B = 1)", {**runs((1, lr), (32, lr), (N, lr)), "selected": 0},
                "on loss / iteration B = 1 is the noisiest line: step (→) a few iterations "
                "and each step follows the one ringed row's gradient", speed=1),
            "typical-batches": Scene(
                "typical batches 32–128", runs((32, lr), (64, 2 * lr), (128, 4 * lr)),
                f"η scaled with B ({num(lr)}, {num(2 * lr)}, {num(4 * lr)}: the linear "
                "scaling rule) brings the loss / epoch curves close together (at one η "
                "they would end at about 0.30, 0.59 and 1.0)", speed=1),
            "full-batch": Scene(
                "full batch", {"runs": full},
                f"B = N = {N} is full-batch GD: at η = 0.5 its first step lands on the "
                "minimum (the Hessian of the MSE is 2I on this standardised data); "
                "compare the small batches per epoch", speed=8),
        }

    def refresh(self) -> None:
        s = self.session
        items = ", ".join(f"B={g.batch_size}: {batching.iterations_per_epoch(s.N, g.batch_size)}"
                          for g in s.groups)
        self.info.value = (
            f"<span style='font-size:14px'>N = {s.N} training rows; iterations per epoch "
            f"⌈N/B⌉ — {html.escape(items)}. B = 1 is SGD, B = N full-batch GD; typical "
            "batch sizes in practice are 32–128. Give each batch size its own learning "
            "rate to compare stability: small batches need smaller steps.</span>")
        if hasattr(self, "data_box"):
            self._show_dataset()


class EarlyStoppingLab(DataLab):
    """Overfitting polynomial features and early stopping on the validation loss."""

    title = "Early stopping: stop when validation stops improving"
    layout = Layout(left=("data",), tabs=(("train vs val", "epochs"),
                                          ("loss / iteration", "loss")),
                    bottom=("metrics",))

    def controls(self) -> list[W.Widget]:
        m = self.model
        self.rule = W.HTMLMath()
        self.refresh()
        self.boxes = {
            "degree": field(W.IntSlider(min=1, max=20, description="degree d", style=STYLE,
                                        layout=BOX), m, "degree"),
            "early_stopping": field(W.Checkbox(description="early stopping"), m,
                                    "early_stopping"),
            "patience": field(W.IntText(description="patience", style=STYLE, layout=BOX), m,
                              "patience"),
            "min_delta": field(W.FloatText(description="min_delta", style=STYLE,
                                           layout=BOX), m, "min_delta"),
            "restore_best": field(W.Checkbox(description="restore best"), m,
                                  "restore_best"),
            "lrs": self.lrs_field(),
            "epochs": field(W.IntText(description="max epochs", style=STYLE, layout=BOX), m,
                            "epochs"),
        }
        return [*self.boxes.values(), self.rule]

    def scenes(self) -> dict[str, Scene]:
        """The course's scenes (``?scene=``): the rule at patience 5, no early stopping
        (overfitting in full), and the stop epoch's parameters kept (restore best off)."""
        p = self.initial.patience
        return {
            "patience-5": Scene(
                "patience 5", {"early_stopping": True, "patience": 5, "restore_best": True},
                "on train vs val each run stops exactly 5 epochs after its best epoch ◆ "
                "(lr 0.05: best 54, stop 59; lr 0.01: best 230, stop 235) and gets that "
                "epoch's parameters back", speed=3),
            "no-early-stopping": Scene(
                "no early stopping", {"early_stopping": False},
                "the training loss keeps falling for all 1000 epochs while the validation "
                "loss turns up: the lr-0.05 run ends near 8, over twenty times its best "
                "(about 0.26)", speed=6),
            "restore-best": Scene(
                "restore best off", {"early_stopping": True, "restore_best": False},
                f"each run keeps the parameters of its stop epoch, {p} epochs past its best "
                "◆, with a validation loss a little above the best; tick restore best and "
                "the fit goes back to the best epoch's", speed=3),
        }

    def refresh(self) -> None:
        m = self.model
        if not m.early_stopping:
            text = "Early stopping is off: every run trains for its max epochs."
        else:
            text = (f"Rule: after each epoch e, the validation loss v<sub>e</sub> improves "
                    f"when v<sub>e</sub> &lt; v* − min_delta (v* the best so far, "
                    f"min_delta = {num(m.min_delta)}); a run stops after patience = "
                    f"{m.patience} epochs in a row without improvement"
                    + (", and its parameters go back to the best epoch's (restore best)."
                       if m.restore_best else "."))
        self.rule.value = f"<span style='font-size:14px'>{text}</span>"


class RegularizationLab(DataLab):
    """No penalty vs an L2 penalty in the loss (Adam) vs decoupled weight decay (AdamW)."""

    title = "L2 penalty vs decoupled weight decay"
    layout = Layout(left=("data",), tabs=(("train vs val", "epochs"),
                                          ("loss / iteration", "loss")),
                    bottom=("metrics",))
    lam_range = (1e-5, 1.0)

    def scenes(self) -> dict[str, Scene]:
        """The course's scenes (``?scene=``): λ so small that all three runs overfit alike,
        the default λ where L2 and AdamW part, and λ = 1 where AdamW underfits."""
        def at(lam: float) -> dict:
            return {"runs": with_lambda(self.initial.runs, lam)}

        return {
            "overfit": Scene(
                "overfitting (λ = 1e-5)", at(1e-5),
                "the three runs coincide (training MSE about 0.20, validation about 4.5): "
                "the curves pass through the training points", speed=6),
            "l2-vs-adamw": Scene(
                "L2 vs AdamW (λ = 0.1)", at(0.1),
                "read the validation MSEs in the metrics: about 4.5 without a penalty, "
                "0.35 with L2 and 0.29 with AdamW", speed=6),
            "over-regularized": Scene(
                "over-regularized (λ = 1)", at(1.0),
                "AdamW shrinks every weight by ηλ per step (ηλT = 90): its curve is nearly "
                "flat (training MSE about 2); the L2 run underfits more mildly (about 0.4)",
                speed=6),
        }

    def controls(self) -> list[W.Widget]:
        m = self.model
        lo, hi = (float(np.log10(v)) for v in self.lam_range)

        self.boxes = {
            "lam": field(W.FloatLogSlider(base=10, min=lo, max=hi, step=0.05,
                                          description="λ", readout_format=".1e",
                                          style=STYLE, layout=BOX, continuous_update=False),
                         m, "runs", to_model=lambda v: with_lambda(m.runs, v),
                         from_model=lambda rs: rs[1].l2),
            "degree": field(W.IntSlider(min=1, max=20, description="degree d", style=STYLE,
                                        layout=BOX), m, "degree"),
            "lrs": self.lrs_field(),
            "epochs": field(W.IntText(description="epochs", style=STYLE, layout=BOX), m,
                            "epochs"),
        }
        return [
            *self.boxes.values(),
            W.HTMLMath("<span style='font-size:14px'>Adam + L2 minimises "
                       "L + (λ/2)‖w‖²: the penalty's gradient λw is rescaled by Adam's "
                       "1/√v like every gradient. AdamW shrinks every weight by ηλ per step "
                       "whatever its gradient history (decoupled weight decay). λ is "
                       "typically 1e-4 to 1e-2; the slider goes to 1 so that "
                       "over-regularizing (underfitting) is reachable.</span>"),
        ]


class HighDimLab(DataLab):
    r"""Logistic regression on many features (breast_cancer: 30): every weight's trace, and
    each optimizer's step size per coordinate -- SGD's one η against Adam's
    :math:`\eta/(\sqrt{\hat v_i}+\epsilon)`."""

    title = "High dimension: 30 weights, one η or one per coordinate"
    key_title = "runs"
    layout = Layout(left=("traces", "effstep", "epochs", "loss"),
                    bottom=("metrics", "derivation"))
    """Every chart on screen at once (no tabs): the scenes talk about all four."""
    lr_range = (1e-5, 1e2)

    def __init__(self, model: DataModel, filename: str = "high_dimensions.csv"):
        raw = D.make_dataset(model.dataset, seed=model.seed, standardize_features=False)
        self.scales = D.standardize(raw.X_train).std       # the engine's statistics
        super().__init__(model, filename)

    def run_colors(self, runs, n_train: int) -> list[str]:
        """One Okabe-Ito colour per optimizer kind (a batch-size change keeps them)."""
        return self.book.colors((r.kind,) for r in runs)

    def style(self) -> DataStyle:
        on = bool(self.model.dataset_params.get("standardize_features", True))
        return super().style()._replace(scales=self.scales, standardized=on)

    CONTROL_WIDTH = {False: ("300px", "290px"), True: ("420px", "400px")}
    """(column, control) widths, normal and in projector mode (its labels are 9.5em wide)."""

    def box(self) -> W.Layout:
        """A control's own layout (projector mode widens it)."""
        lay = W.Layout(width=self.CONTROL_WIDTH[False][1])
        self.layouts = [*getattr(self, "layouts", []), lay]
        return lay

    def set_projector(self, on: bool) -> None:
        """As :meth:`Lab.set_projector`, with a wider control column (the charts beside it
        wrap to the next row)."""
        super().set_projector(on)
        column, control = self.CONTROL_WIDTH[bool(on)]
        self.column.layout.width = self.column.layout.min_width = column
        for lay in self.layouts:
            lay.width = control

    def lr_slider(self, i: int) -> Field:
        """Run ``i``'s learning rate on a log slider (1e-5 to 100); moved while training,
        a live retune marked on the charts."""
        m = self.model
        lo, hi = (float(np.log10(v)) for v in self.lr_range)
        return field(W.FloatLogSlider(base=10, min=lo, max=hi, step=0.05,
                                      description=f"η {m.runs[i].kind}", readout_format=".2e",
                                      style=STYLE, layout=self.box(), continuous_update=False),
                     m, "runs", to_model=lambda v: with_lr(m.runs, i, float(v)),
                     from_model=lambda runs: runs[i].lr)

    def controls(self) -> list[W.Widget]:
        m = self.model
        self.info = W.HTML()
        sliders = {f"lr{i}": self.lr_slider(i) for i in range(len(m.runs))}
        self.boxes = {
            **sliders,
            "lrs": self.lrs_field(),
            "batch_size": field(W.IntText(description="batch size B", style=STYLE,
                                          layout=self.box()), m, "runs",
                                to_model=lambda B: with_field(m.runs, "batch_size", B),
                                from_model=lambda runs: runs[0].batch_size),
            "standardize": field(W.Checkbox(description="standardize features (train split)",
                                            indent=False),
                                 m, "dataset_params",
                                 to_model=lambda on: {**m.dataset_params,
                                                      "standardize_features": bool(on)},
                                 from_model=lambda p: bool(p.get("standardize_features",
                                                                 True))),
            "epochs": field(W.IntText(description="epochs", style=STYLE, layout=self.box()), m,
                            "epochs"),
            "selected": self.selected_field(),
        }
        self.boxes["selected"].control.description = "weights of"
        for name in ("lrs", "selected"):            # their own layouts (projector mode)
            self.boxes[name].control.layout = self.box()
        self.refresh()
        return [*self.boxes.values(), self.info]

    def refresh(self) -> None:
        s = self.session
        B = self.model.runs[0].batch_size
        self.info.value = (
            f"<span style='font-size:14px'>{s.dataset.X_train.shape[1]} features, N = {s.N} "
            f"training rows, {len(s.dataset.y_val)} validation rows; B = {B}: "
            f"{batching.iterations_per_epoch(s.N, B)} iterations per epoch (typical B "
            f"32–128; B = {s.N} is the full batch). The field starts SGD at η = 0.01 and "
            "Adam at 0.001.</span>")

    def scenes(self) -> dict[str, Scene]:
        """The course's scenes (``?scene=``): SGD at 1e-2 against Adam at 1e-3 (the field's
        starts), SGD's η far too large, and raw features where Adam's per-coordinate steps
        span orders of magnitude."""
        base = list(self.initial.runs)
        sgd = next((i for i, r in enumerate(base) if r.kind == "GD"), 0)
        adam = next((i for i, r in enumerate(base) if r.kind == "Adam"), len(base) - 1)
        big = with_lr(base, sgd, 30.0)
        return {
            "sgd-vs-adam": Scene(
                "SGD 1e-2 vs Adam 1e-3", {"runs": base, "selected": adam},
                "both reach about 97% validation accuracy in 30 epochs, "
                "SGD's loss a little lower (0.136 vs 0.158 validation log-loss)", speed=3),
            "sgd-lr-too-large": Scene(
                "SGD lr too large (η = 30)", {"runs": big, "selected": sgd},
                "one η for all 30 weights, 3000 times the usual: SGD's "
                "mini-batch loss keeps jumping (up to about 5) and its weights grow to about "
                "24 while the other runs' stay below 1.2", speed=3),
            "adam-per-coordinate": Scene(
                "Adam per-coordinate steps (raw features)",
                {"dataset_params": {**self.initial.dataset_params,
                                    "standardize_features": False},
                 "selected": adam},
                "unstandardized, the features' scales differ 2e5-fold: SGD's single η = 0.01 "
                "is far too large for worst area (it ends near 61% validation accuracy) while "
                "Adam's ηᵢ span about five orders of magnitude and it reaches about 93%",
                speed=3),
        }
