r"""The composed data apps, each built in one line by a notebook.

>>> from descentlab.widgets import batch_size_explorer
>>> batch_size_explorer()                 # doctest: +SKIP

Each returns its lab (displayable), built paused at iteration 0.
"""

from __future__ import annotations

import html

import bqplot as bq
import ipywidgets as W
import numpy as np
import traitlets as T

from descentlab.engine import batching, data, tuning

from .charts import TICKS, _figure
from .ui.controls import ErrorLine, bind, button
from .data_lab import DataLab
from .data_model import KINDS, DataModel
from .ui.export import csv_link

__all__ = ["batch_size_explorer", "early_stopping_trainer", "regularization_explorer",
           "tuning_board", "TuningBoard", "parse_ints", "upload_dataset"]

_STYLE = {"description_width": "120px"}
_BOX = W.Layout(width="290px")


def parse_ints(text: str, name: str = "batch sizes") -> list[int]:
    """``"1, 8, 32"`` -> ``[1, 8, 32]``; ValueError naming ``name`` otherwise."""
    try:
        out = [int(v) for v in str(text).replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"{name} must be integers separated by commas; got {text!r}") \
            from None
    if not out:
        raise ValueError(f"{name} must list at least one integer; got {text!r}")
    return out


def _layout(lab: DataLab, title: str, controls, tabs, extra=()) -> W.VBox:
    present = [(t, lab.charts[n].figure) for t, n in tabs if n in lab.charts]
    tab = W.Tab(children=[f for _, f in present])
    for i, (t, _) in enumerate(present):
        tab.set_title(i, t)
    lab.watch_tabs(tab, [n for _, n in tabs if n in lab.charts])
    left = [lab.charts["data"].figure] if "data" in lab.charts else []
    main = W.HBox([W.VBox(list(controls), layout=W.Layout(width="310px")), *left, tab],
                  layout=W.Layout(flex_flow="row wrap"))
    bottom = [lab.metrics.widget] if lab.metrics is not None else []
    lab.widget = W.VBox([W.HTML(f"<h3 style='margin:4px 0'>{html.escape(title)}</h3>"), main,
                         lab.transport(), lab.timeline, lab.errors.widget, lab.status.widget,
                         *extra, W.HBox([*bottom, lab.export.widget],
                                        layout=W.Layout(flex_flow="row wrap")), lab.clock])
    return lab


def _lr_text(model: DataModel, errors: ErrorLine) -> W.FloatText:
    """One learning rate for every run (typed, so bad values reach the validator)."""
    return bind(W.FloatText(description="learning rate η", style=_STYLE, layout=_BOX),
                model, "runs", errors, to_model=lambda v: [(r[0], v, *r[2:])
                                                           for r in model.runs],
                from_model=lambda runs: runs[0][1])


def upload_dataset(content: bytes, name: str = "uploaded.csv", seed: int = 0) -> data.Dataset:
    """CSV bytes -> a split, standardized Dataset (last column the target).  A malformed
    file raises the engine's ValueError naming the row / column."""
    table = data.load_csv(content)
    return data.from_arrays(table.X, table.y, name=name, feature_names=table.feature_names,
                            target_name=table.target_name, seed=seed)


def _upload(lab: DataLab) -> W.FileUpload:
    up = W.FileUpload(accept=".csv", multiple=False, description="upload CSV")

    def changed(change):
        files = change["new"]
        if not files:
            return
        f = files[0]
        try:
            lab.model.custom = upload_dataset(bytes(f["content"]), f["name"], lab.model.seed)
            lab.errors.clear()
        except (ValueError, T.TraitError) as err:
            lab.errors.show(str(err))

    up.observe(changed, "value")
    lab.upload = changed
    return up


# ---------------------------------------------------------------------------- apps


def batch_size_explorer(dataset: str = "linear", batch_sizes=(1, 8, 32, 128, None),
                        kind: str = "GD", lr: float = 0.05, epochs: int = 10, n: int = 400,
                        seed: int = 0) -> DataLab:
    r"""Mini-batch SGD with several batch sizes on the same data, same seed (a fair race).

    ``None`` in ``batch_sizes`` is the full batch :math:`B = N`.  Loss per iteration shows
    the noise of small batches; loss per epoch compares equal passes over the data; an
    epoch is :math:`\lceil N/B \rceil` iterations.
    """
    params = {"n": n} if dataset in ("linear", "polynomial", "moons", "circles", "blobs2") \
        else {}
    probe = DataModel(dataset=dataset, dataset_params=params, seed=seed,
                      runs=[(kind, lr, 1, 0.0, 0.0)])
    N = _n_train(probe)
    sizes = [N if b is None else int(b) for b in batch_sizes]
    model = DataModel(dataset=dataset, dataset_params=params, epochs=epochs, seed=seed,
                      runs=[(kind, lr, B, 0.0, 0.0) for B in sizes])
    lab = DataLab(model, sequential=True, filename=f"batch_sizes_{dataset}.csv")
    e = lab.errors
    info = W.HTML()

    def explain(_=None):
        s = lab.session
        items = ", ".join(f"B={g.batch_size}: {batching.iterations_per_epoch(s.N, g.batch_size)}"
                          for g in s.groups)
        info.value = (f"<span style='font-size:14px'>N = {s.N} training rows; iterations per "
                      f"epoch ⌈N/B⌉ — {html.escape(items)}</span>")

    model.observe(explain, "runs")
    explain()
    controls = [
        bind(W.Text(description="batch sizes", style=_STYLE, layout=_BOX), model, "runs", e,
             to_model=lambda t: [(*model.runs[0][:2], B, 0.0, 0.0) for B in parse_ints(t)],
             from_model=lambda runs: ", ".join(str(r[2]) for r in runs)),
        info,
        bind(W.Dropdown(options=KINDS, description="optimizer", style=_STYLE, layout=_BOX),
             model, "runs", e, to_model=lambda k: [(k, *r[1:]) for r in model.runs],
             from_model=lambda runs: runs[0][0]),
        _lr_text(model, e),
        bind(W.IntText(description="epochs", style=_STYLE, layout=_BOX), model, "epochs", e),
    ]
    lab.info = info
    return _layout(lab, "Batch size: noise per iteration, progress per epoch", controls,
                   [("loss / iteration", "loss"), ("loss / epoch", "loss_epoch"),
                    ("mini-batch surface", "surface"), ("train vs val", "epochs")])


def _n_train(model: DataModel) -> int:
    from .data_model import make_data
    return make_data(model.config()).dataset.X_train.shape[0]


def early_stopping_trainer(degree: int = 12, kind: str = "Adam", lrs=(0.01, 0.003),
                           batch_size: int = 8, patience: int = 20, min_delta: float = 0.0,
                           epochs: int = 1000, seed: int = 0) -> DataLab:
    """Polynomial features of a high degree on 24 points overfit: the validation loss turns
    up while the training loss keeps falling.  Early stopping watches the validation loss,
    marks the best epoch and (restore best) puts its parameters back."""
    model = DataModel(dataset="polynomial", degree=degree, epochs=epochs, seed=seed,
                      early_stopping=True, patience=patience, min_delta=min_delta,
                      runs=[(kind, float(v), batch_size, 0.0, 0.0) for v in lrs])
    lab = DataLab(model, charts=("data", "epochs", "loss", "metrics"),
                  filename="early_stopping.csv")
    e = lab.errors
    controls = [
        bind(W.IntSlider(min=1, max=20, description="degree d", style=_STYLE, layout=_BOX),
             model, "degree", e),
        bind(W.IntText(description="patience", style=_STYLE, layout=_BOX), model,
             "patience", e),
        bind(W.FloatText(description="min_delta", style=_STYLE, layout=_BOX), model,
             "min_delta", e),
        bind(W.Checkbox(description="restore best"), model, "restore_best", e),
        bind(W.Checkbox(description="early stopping"), model, "early_stopping", e),
        _lr_text(model, e),
        bind(W.IntText(description="max epochs", style=_STYLE, layout=_BOX), model,
             "epochs", e),
    ]
    return _layout(lab, "Early stopping: stop when validation stops improving", controls,
                   [("train vs val", "epochs"), ("loss / iteration", "loss")])


def regularization_explorer(lam: float = 1e-2, degree: int = 12, lr: float = 0.01,
                            batch_size: int = 8, epochs: int = 600,
                            lam_range=(1e-4, 1e-2), seed: int = 0) -> DataLab:
    r"""L2 penalty in the loss (Adam on :math:`L + \frac{\lambda}{2}\lVert w\rVert^2`)
    next to decoupled weight decay (AdamW, :math:`\theta \leftarrow \theta(1-\eta\lambda)`)
    and no regularization, on polynomial features that overfit."""
    def runs(v):
        return [("Adam", lr, batch_size, 0.0, 0.0), ("Adam", lr, batch_size, v, 0.0),
                ("AdamW", lr, batch_size, 0.0, v)]

    model = DataModel(dataset="polynomial", degree=degree, epochs=epochs, seed=seed,
                      runs=runs(lam))
    lab = DataLab(model, charts=("data", "epochs", "loss", "metrics"),
                  filename="regularization.csv")
    e = lab.errors
    lo, hi = np.log10(lam_range[0]), np.log10(lam_range[1])
    controls = [
        bind(W.FloatLogSlider(base=10, min=lo, max=hi, step=0.1, description="λ",
                              readout_format=".1e", style=_STYLE, layout=_BOX),
             model, "runs", e, to_model=runs, from_model=lambda rs: max(rs[1][3], 10 ** lo)),
        bind(W.IntSlider(min=1, max=20, description="degree d", style=_STYLE, layout=_BOX),
             model, "degree", e),
        W.HTML("<span style='font-size:14px'>Adam + L2 penalty: the penalty's gradient "
               "λw is rescaled by Adam's 1/√v; AdamW shrinks every weight by ηλ per step, "
               "whatever its gradient history.</span>"),
    ]
    return _layout(lab, "L2 penalty vs decoupled weight decay", controls,
                   [("train vs val", "epochs"), ("loss / iteration", "loss")])


# ---------------------------------------------------------------------------- tuning


class TuningBoard:
    """Searches of :mod:`descentlab.engine.tuning` over the learning rate (and momentum):
    the table best first, validation metric against lr (log axis), every run exportable.
    A search runs on its button (nothing at build)."""

    METHODS = ("grid", "random", "successive halving")

    def __init__(self, dataset: str = "linear", epochs: int = 5, batch_size: int = 16,
                 seed: int = 0):
        self.errors = ErrorLine()
        self.dataset = data.make_dataset(dataset, seed=seed)
        from .data_model import make_model
        self.model_ = make_model(self.dataset, 0.0)
        self.method = W.Dropdown(options=self.METHODS, description="search", style=_STYLE,
                                 layout=_BOX)
        self.lr_lo = W.FloatText(1e-3, description="lr from", style=_STYLE, layout=_BOX)
        self.lr_hi = W.FloatText(1.0, description="lr to", style=_STYLE, layout=_BOX)
        self.trials = W.IntSlider(9, min=2, max=60, description="configs", style=_STYLE,
                                  layout=_BOX)
        self.epochs = W.IntText(epochs, description="epochs", style=_STYLE, layout=_BOX)
        self.batch = W.IntText(batch_size, description="batch size", style=_STYLE,
                               layout=_BOX)
        self.seed = seed
        self.sx, self.sy = bq.LogScale(), bq.LogScale()
        self.points = bq.Scatter(x=np.ones(1), y=np.ones(1), default_size=60,
                                 scales={"x": self.sx, "y": self.sy}, colors=["#0072B2"])
        ax = bq.Axis(scale=self.sx, label="learning rate η", tick_format=".0e",
                     tick_style=TICKS)
        ay = bq.Axis(scale=self.sy, side="left", label="validation loss", tick_format=".1e",
                     tick_style=TICKS)
        self.figure = _figure([self.points], [ax, ay], "validation loss vs lr")
        self.table = W.HTML()
        self.link = W.HTML()
        self.result = None
        run = button("run search", "play", self.run, "train every configuration", self.errors)
        self.widget = W.VBox([
            W.HTML("<h3 style='margin:4px 0'>Hyperparameter search</h3>"),
            W.HBox([W.VBox([self.method, self.lr_lo, self.lr_hi, self.trials, self.epochs,
                            self.batch, run]), self.figure, self.table],
                   layout=W.Layout(flex_flow="row wrap")),
            self.errors.widget, self.link])

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def run(self) -> None:
        lo, hi, n = self.lr_lo.value, self.lr_hi.value, self.trials.value
        if not (lo > 0 and hi > lo):
            raise ValueError(f"the lr range must satisfy 0 < lr from < lr to; got "
                             f"[{lo:g}, {hi:g}]")
        kw = {"epochs": self.epochs.value, "batch_size": self.batch.value, "seed": self.seed}
        batching.check_batch_size(self.batch.value, self.dataset.X_train.shape[0])
        m, ds = self.model_, self.dataset
        if self.method.value == "grid":
            res = tuning.grid_search(m, ds, {"lr": [float(v) for v in np.geomspace(lo, hi, n)]},
                                     **kw)
        elif self.method.value == "random":
            res = tuning.random_search(m, ds, {"lr": tuning.log_uniform(lo, hi)}, n, **kw)
        else:
            kw.pop("epochs")
            res = tuning.successive_halving(m, ds, {"lr": tuning.log_uniform(lo, hi)},
                                            n_configs=n, eta=3, min_epochs=self.epochs.value,
                                            **kw)
        self.result = res
        self.errors.clear()
        self.draw()

    def draw(self) -> None:
        res = self.result
        log = res.log
        x = np.array([r["lr"] for r in log], dtype=float)
        y = np.array([r["score"] for r in log], dtype=float)
        y = np.where(np.isfinite(y) & (y > 0), y, np.nan)
        with self.points.hold_sync():
            self.points.x, self.points.y = x, y
            self.points.opacities = [0.35 + 0.65 * (r["rung"] == max(q["rung"] for q in log))
                                     for r in log]
        rows = res.rows()
        cols = ["rank", "lr", "score", "epochs", "steps", "stop_reason", "rung"]
        head = "".join(f"<th style='padding:0 6px'>{c}</th>" for c in cols)
        body = "".join("<tr>" + "".join(
            f"<td style='padding:0 6px'>{r[c]:.4g}</td>" if isinstance(r[c], float)
            else f"<td style='padding:0 6px'>{html.escape(str(r[c]))}</td>" for c in cols)
            + "</tr>" for r in rows[:15])
        self.table.value = (f"<div style='font-size:14px'><b>best first ({res.metric})</b>"
                            f"<table>{head}{body}</table></div>")
        self.link.value = csv_link(res.to_csv(which="log"), "tuning_log.csv",
                                   f"({len(log)} runs)")


def tuning_board(dataset: str = "linear", **kw) -> TuningBoard:
    """Grid / random / successive-halving search over the learning rate as a table."""
    return TuningBoard(dataset, **kw)
