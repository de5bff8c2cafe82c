r"""The data labs' configuration: a validated ``traitlets`` model and the :class:`Run` record.

A data lab trains R runs of one model family on one data set.  Each run is a :class:`Run`
record -- its optimizer ``kind``, learning rate ``lr``, mini-batch size ``batch_size``,
the L2 penalty :math:`\frac{\lambda}{2}\lVert w\rVert^2` *in the loss* (``l2``) and the
optimizer's ``weight_decay`` (coupled for SGD / Adam, decoupled for AdamW:
:math:`\theta \leftarrow \theta(1 - \eta\lambda)`).  Runs are edited by field name
(:meth:`DataModel.set_field`, :meth:`DataModel.set_run`), never by position.

Every trait is validated by building what it feeds (:class:`.build.Builder`): a bad value
is rejected with the engine's own message ("batch_size must be an integer in [1, 80], got
0") and the trait keeps its last good value.  What validation built is kept
(:meth:`DataModel.built`) and reused by the session: a control edit builds once.  The model
knows nothing of widgets.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import traitlets as T

from descentlab.widgets.ui.format import num  # plain number formatting, no widgets
from descentlab.widgets.ui.traits import RunChoice, refused, validates

__all__ = ["Run", "DataConfig", "DataModel", "as_run", "RESTART_FIELDS", "TUNING_FIELDS"]


class Run(NamedTuple):
    """One run of a data lab, by name."""

    kind: str = "GD"
    lr: float = 1e-2
    batch_size: int = 32
    l2: float = 0.0
    weight_decay: float = 0.0

    def label(self, n_train: int | None = None) -> str:
        """``"GD B=32 η=0.01"``, ``"Adam B=8 η=0.01 L2 λ=0.01"``: the kind and its settings."""
        parts = [self.kind, "B=N" if n_train is not None and self.batch_size == n_train
                 else f"B={self.batch_size}", f"η={num(self.lr, 3)}"]
        if self.l2:
            parts.append(f"L2 λ={num(self.l2, 3)}")
        if self.weight_decay:
            parts.append(f"wd={num(self.weight_decay, 3)}")
        return " ".join(parts)


def as_run(value) -> Run:
    """A :class:`Run` from a Run, a dict of its fields or a tuple in field order.
    ValueError naming the field on a value of the wrong type."""
    if isinstance(value, Run):
        r = value
    elif isinstance(value, dict):
        unknown = sorted(set(value) - set(Run._fields))
        if unknown:
            raise ValueError(f"a run has the fields {list(Run._fields)}; got {unknown}")
        r = Run(**value)
    elif isinstance(value, (tuple, list)) and len(value) == len(Run._fields):
        r = Run(*value)
    else:
        raise ValueError(f"a run must be a Run record with fields {list(Run._fields)}; "
                         f"got {value!r}")
    if not isinstance(r.kind, str):
        raise ValueError(f"kind must be an optimizer name; got {r.kind!r}")
    out = {}
    for name in ("lr", "l2", "weight_decay"):
        v = getattr(r, name)
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise ValueError(f"{name} must be a number; got {v!r}")
        out[name] = float(v)
    B = r.batch_size
    if isinstance(B, (float, np.floating)) and float(B).is_integer():
        B = int(B)
    if isinstance(B, bool) or not isinstance(B, (int, np.integer)):
        raise ValueError(f"batch_size must be an integer in [1, N], got {B!r}")
    return r._replace(batch_size=int(B), **out)


class DataConfig(NamedTuple):
    """An immutable snapshot of a :class:`DataModel` (``runs`` a tuple of :class:`Run`)."""

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


RESTART_FIELDS = ("dataset", "dataset_params", "degree", "seed", "custom", "early_stopping")
"""Config fields that change what every run *is*: a change restarts training."""

TUNING_FIELDS = ("lr", "weight_decay")
"""Run fields tuned live (with ``momentum``): the run and its optimizer state are kept."""

_VALIDATED = ("dataset", "dataset_params", "degree", "runs", "epochs", "patience",
              "min_delta", "momentum", "max_loss", "seed", "custom", "early_stopping",
              "restore_best")


class DataModel(RunChoice):
    """The configuration of a data lab, validated by the engine.  Knows nothing of widgets."""

    dataset = T.Unicode("linear")
    dataset_params = T.Dict()
    degree = T.Int(0, help="polynomial feature degree (polynomial data set; 0: its own)")
    runs = T.List(T.Instance(Run), default_value=[Run()], minlen=1)
    selected = T.Int(0, help="the run whose mini-batch the data and surface charts show")
    epochs = T.Int(20)
    early_stopping = T.Bool(False)
    patience = T.Int(5, help="epochs without improvement before early stopping")
    min_delta = T.Float(0.0)
    restore_best = T.Bool(True)
    momentum = T.Float(0.9)
    max_loss = T.Float(1e12)
    seed = T.Int(0)
    custom = T.Any(None, help="an uploaded Dataset (None: the named data set)")

    def __init__(self, **kw):
        from .build import Builder
        self.builder = Builder()
        if "runs" in kw:
            kw["runs"] = [as_run(r) for r in kw["runs"]]
        super().__init__(**kw)

    def config(self, **override) -> DataConfig:
        """The current configuration (with ``override`` applied) as a snapshot."""
        values = {name: getattr(self, name) for name in DataConfig._fields}
        values.update(override)
        values["runs"] = tuple(values["runs"])
        values["dataset_params"] = dict(values["dataset_params"])
        return DataConfig(**values)

    def built(self):
        """The engine objects of the current configuration (built once, when validated)."""
        return self.builder.build(self.config())

    # ---- validation

    @validates(*_VALIDATED)
    def _v(self, name, v):
        if name == "runs":
            with refused(ValueError, TypeError):
                v = [as_run(r) for r in v]
        limits = {"degree": (0, 30), "epochs": (1, 100_000), "seed": (0, None),
                  "patience": (0, 10_000)}
        if name in limits:
            lo, hi = limits[name]
            if v < lo or (hi is not None and v > hi):
                rng = f"[{lo}, {'inf)' if hi is None else f'{hi}]'}"
                raise T.TraitError(f"{name} must be an integer in {rng}, got {v}")
        with refused(ValueError, TypeError):
            self.builder.build(self.config(**{name: v}))
        return v

    # ---- edits by field name

    def set_field(self, field: str, values) -> None:
        """Set one field of every run: ``set_field("batch_size", [1, 8, 32])`` (one run per
        value; the run list grows or shrinks to match) or a scalar for all runs."""
        self.runs = with_field(self.runs, field, values)

    def set_run(self, index: int, **fields) -> None:
        """Change fields of run ``index``: ``set_run(1, lr=0.1)``."""
        runs = list(self.runs)
        runs[index] = runs[index]._replace(**fields)
        self.runs = runs


def with_field(runs, field: str, values) -> list[Run]:
    """``runs`` with ``field`` set: one value for all, or one per run (the list is cut or
    extended by repeating its last run when the count differs)."""
    if field not in Run._fields:
        raise ValueError(f"a run's fields are {list(Run._fields)}; got {field!r}")
    runs = list(runs)
    if isinstance(values, (list, tuple, np.ndarray)):
        vals = list(values)
        if not vals:
            raise ValueError(f"{field} needs at least one value")
        runs = [runs[min(i, len(runs) - 1)] for i in range(len(vals))]
        return [r._replace(**{field: v}) for r, v in zip(runs, vals, strict=True)]
    return [r._replace(**{field: values}) for r in runs]
