r"""The data labs' model: a validated ``traitlets.HasTraits`` configuration, no widgets.

A data lab trains R runs of one model family on one data set.  Run ``r`` is
``(kind, lr, batch_size, l2, weight_decay)``: the optimizer kind (as in the surface labs),
its learning rate, its mini-batch size, the L2 penalty :math:`\frac{\lambda}{2}\lVert w
\rVert^2` *in the loss* and the optimizer's ``weight_decay`` (coupled for SGD / Adam,
decoupled for AdamW: :math:`\theta \leftarrow \theta(1 - \eta\lambda)`).

Runs sharing ``(batch_size, l2)`` form one *group*: one model, one batch stream and one
:func:`descentlab.engine.optimizers.race` over the group's runs -- one vectorized
:func:`~descentlab.engine.training.train_step` per group per iteration.  Every group sees the
same batch order (same ``seed``): a fair race.

Every trait is validated by building what it feeds (the data set, the optimizers, the
batch streams, early stopping), so a bad value is rejected with the engine's own message
("batch_size must be an integer in [1, 80], got 0") and the trait keeps its last good value.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import traitlets as T

from descentlab.engine import batching, callbacks, data, models
from descentlab.engine import optimizers as O

from .model import KINDS, check_selected

__all__ = ["DataConfig", "DataModel", "Prepared", "make_data", "make_model", "make_groups",
           "make_rules", "run_label"]


class DataConfig(NamedTuple):
    """An immutable snapshot of a :class:`DataModel`."""

    dataset: str
    dataset_params: dict
    degree: int
    runs: tuple
    epochs: int
    early_stopping: bool
    patience: int
    min_delta: float
    restore_best: bool
    momentum: float
    max_loss: float
    seed: int
    custom: Any


class Prepared(NamedTuple):
    """A data set plus ``features(u)``: the model's inputs at points ``u`` of the plotted
    first feature (None when the fitted curve cannot be drawn: several raw features)."""

    dataset: data.Dataset
    features: Any


def _poly_data(cfg: DataConfig) -> Prepared:
    r"""The polynomial data set with features :math:`u, u^2, \dots, u^d` of the standardized
    input :math:`u` (``d`` = ``cfg.degree``), each column standardized on the training rows.
    Keeping both scalers lets the data view draw the fitted curve."""
    p = dict(cfg.dataset_params)
    rng = np.random.default_rng(cfg.seed)
    x, y = data.polynomial(p.get("n", 30), p.get("degree", 3), p.get("noise", 0.3), rng)
    s = data.split(x, y, p.get("val_fraction", 0.2), rng, stratify=False)
    u_train, u_val = data.standardize(s.X_train, s.X_val).arrays
    d = cfg.degree or p.get("degree", 3)
    F = data.standardize(data.polynomial_features(u_train, d),
                         data.polynomial_features(u_val, d))
    mean, std = F.mean, F.std

    def features(u):
        return (data.polynomial_features(np.asarray(u, dtype=np.float64), d) - mean) / std

    names = ("u",) + tuple(f"u^{k}" for k in range(2, d + 1))
    ds = data.Dataset(F.arrays[0], s.y_train, F.arrays[1], s.y_val, "regression", 0, names,
                      "y", f"polynomial (degree {d} features)")
    return Prepared(ds, features)


def make_data(cfg: DataConfig) -> Prepared:
    """The data set the runs train on, by name (or ``cfg.custom``, an uploaded one)."""
    if cfg.custom is not None:
        ds = cfg.custom
    elif cfg.dataset == "polynomial":
        return _poly_data(cfg)
    else:
        if cfg.degree:
            raise ValueError("degree applies to the polynomial data set only; got degree "
                             f"{cfg.degree} for {cfg.dataset!r}")
        ds = data.make_dataset(cfg.dataset, seed=cfg.seed, **cfg.dataset_params)
    one = ds.X_train.shape[1] == 1
    return Prepared(ds, (lambda u: np.asarray(u, dtype=np.float64)[:, None]) if one else None)


def make_model(dataset: data.Dataset, l2: float) -> models.Model:
    """Linear regression, logistic regression or softmax regression, by the data's task."""
    if dataset.task == "regression":
        return models.linear_regression(l2)
    if dataset.task == "binary":
        return models.logistic_regression(l2)
    return models.softmax_regression(dataset.n_classes, l2)


_CTOR = {"GD": "sgd", "Momentum": "sgd", "Nesterov": "sgd", "AdaGrad": "adagrad",
         "RMSprop": "rmsprop", "Adam": "adam", "AdamW": "adamw", "NAdam": "nadam",
         "Adamax": "adamax", "Adadelta": "adadelta"}


def _optimizer(kind: str, lrs: np.ndarray, wds: np.ndarray, momentum: float):
    """One block of runs of one kind: ``(n,)`` learning rates and weight decays."""
    if kind not in KINDS:
        raise ValueError(f"optimizer kind must be one of {', '.join(KINDS)}; got {kind!r}")
    kw = {"lr": lrs, "weight_decay": wds}
    if kind in ("Momentum", "Nesterov"):
        kw["momentum"] = np.full(len(lrs), momentum)
        kw["nesterov"] = kind == "Nesterov"
    return O.OPTIMIZERS[_CTOR[kind]](**kw)


class Group(NamedTuple):
    """Runs sharing a batch size and an L2 penalty: ``index`` their positions in the lab."""

    batch_size: int
    l2: float
    index: tuple
    model: models.Model
    optimizer: Any


def make_groups(cfg: DataConfig, dataset: data.Dataset) -> list[Group]:
    """The groups of ``cfg.runs`` (first-appearance order), each with its model and race."""
    N = dataset.X_train.shape[0]
    where: dict[tuple, list[int]] = {}
    for i, (_, _, B, l2, _) in enumerate(cfg.runs):
        where.setdefault((int(B), float(l2)), []).append(i)
    out = []
    for (B, l2), idx in where.items():
        batching.check_batch_size(B, N)
        model = make_model(dataset, l2)
        parts, sizes = [], []
        for i in idx:
            kind, lr, _, _, wd = cfg.runs[i]
            if parts and parts[-1][0] == kind:
                parts[-1][1].append(lr)
                parts[-1][2].append(wd)
            else:
                parts.append((kind, [lr], [wd]))
        opts = []
        for kind, lrs, wds in parts:
            opts.append(_optimizer(kind, np.array(lrs, float), np.array(wds, float),
                                   cfg.momentum))
            sizes.append(len(lrs))
        out.append(Group(B, l2, tuple(idx), model, O.race(opts, sizes)))
    return out


def make_rules(cfg: DataConfig):
    from descentlab.engine.training import TrainRules
    early = (callbacks.early_stopping(cfg.patience, cfg.min_delta,
                                      restore_best=cfg.restore_best)
             if cfg.early_stopping else None)
    return TrainRules(cfg.epochs, max_loss=cfg.max_loss, early_stopping=early)


def run_label(run, N: int | None = None) -> str:
    """``"GD B=32"``, ``"Adam λ=0.001"``: the kind plus whatever is set on the run."""
    kind, lr, B, l2, wd = run
    parts = [kind, f"η={lr:g}"]
    parts.append("B=N" if N is not None and B == N else f"B={B}")
    if l2:
        parts.append(f"L2 λ={l2:g}")
    if wd:
        parts.append(f"wd={wd:g}")
    return " ".join(parts)


class DataModel(T.HasTraits):
    """The configuration of a data lab, validated by the engine.  Knows nothing of widgets."""

    dataset = T.Unicode("linear")
    dataset_params = T.Dict()
    degree = T.Int(0, help="polynomial feature degree (polynomial data set; 0: its own)")
    runs = T.List(T.Tuple(T.Unicode(), T.Float(), T.Int(), T.Float(), T.Float()),
                  default_value=[("GD", 0.05, 32, 0.0, 0.0)], minlen=1)
    selected = T.Int(0)
    epochs = T.Int(20)
    early_stopping = T.Bool(False)
    patience = T.Int(10)
    min_delta = T.Float(0.0)
    restore_best = T.Bool(True)
    momentum = T.Float(0.9)
    max_loss = T.Float(1e12)
    seed = T.Int(0)
    custom = T.Any(None, help="an uploaded Dataset (None: the named data set)")

    def config(self, **override) -> DataConfig:
        values = {name: getattr(self, name) for name in DataConfig._fields}
        values.update(override)
        values["runs"] = tuple(tuple(r) for r in values["runs"])
        values["dataset_params"] = dict(values["dataset_params"])
        return DataConfig(**values)

    def _check(self, name, value):
        try:
            cfg = self.config(**{name: value})
            prep = make_data(cfg)
            make_groups(cfg, prep.dataset)
            make_rules(cfg).validated(prep.dataset.task)
        except (ValueError, TypeError) as err:
            raise T.TraitError(str(err)) from None
        return value

    @T.validate("dataset", "dataset_params", "degree", "runs", "epochs", "patience",
                "min_delta", "momentum", "max_loss", "seed", "custom", "early_stopping",
                "restore_best")
    def _v(self, proposal):
        name, v = proposal["trait"].name, proposal["value"]
        if name == "degree" and not 0 <= v <= 30:
            raise T.TraitError(f"degree must be an integer in [0, 30], got {v}")
        if name == "epochs" and not 1 <= v <= 100_000:
            raise T.TraitError(f"epochs must be an integer in [1, 100000], got {v}")
        if name == "seed" and v < 0:
            raise T.TraitError(f"seed must be an integer in [0, inf), got {v}")
        return self._check(name, v)

    @T.validate("selected")
    def _v_selected(self, proposal):
        return check_selected(proposal["value"], len(self.runs))

    @T.observe("runs")
    def _clamp(self, change):
        if self.selected >= len(change["new"]):
            self.selected = len(change["new"]) - 1

    def set_field(self, field: str, values) -> None:
        """Set one field of every run: ``set_field("batch_size", [1, 8, 32])`` (one run per
        value when the count differs) or a scalar for all runs."""
        pos = {"kind": 0, "lr": 1, "batch_size": 2, "l2": 3, "weight_decay": 4}[field]
        runs = [list(r) for r in self.runs]
        vals = list(values) if isinstance(values, (list, tuple, np.ndarray)) else None
        if vals is None:
            for r in runs:
                r[pos] = values
        else:
            if len(vals) != len(runs):
                runs = [list(runs[min(i, len(runs) - 1)]) for i in range(len(vals))]
            for r, v in zip(runs, vals, strict=True):
                r[pos] = v
        self.runs = [tuple(r) for r in runs]
