"""The models lab's configuration: a validated ``traitlets`` model that knows no widgets.

A :class:`ModelsConfig` holds the data set (a named one or an upload, its target column
and whether that column holds class labels), the model matched to the task, the two
coordinates of :math:`\\theta` moved by hand (``first``, ``second``), their values ``w`` and
``b`` (the start of gradient descent), what the other coordinates are held at (``rest``),
the learning rate and the step limit.

Validate once: every validator calls :meth:`ModelsConfig.plane` with the proposed value,
which builds what the new value needs (:func:`~.build.load`, :func:`~.build.build`,
:func:`~.build.plane`) once and caches it; :meth:`ModelsConfig.config` hands the session a
:class:`Config` record holding the validated :class:`~.build.Plane`.  A rejected value
raises a ``TraitError`` with the engine's message (naming the parameter and its range)
and leaves every trait as it was (a block of several edits is refused whole).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import traitlets as T

from descentlab.engine import kinds
from descentlab.widgets.ui.format import num
from descentlab.widgets.ui.traits import refused, validates

from . import build as B

__all__ = ["ModelsConfig", "Config", "DEFAULT_LR", "MAX_STEPS"]

DEFAULT_LR = kinds.FIELD_LR["GD"]
MAX_STEPS = 100_000
MAX_LOSS = 1e12
"""The runner's divergence bound (``engine.runner.Stopping.max_loss``)."""
DATA_TRAITS = ("dataset", "target", "classes")
RUN_TRAITS = ("dataset", "target", "classes", "model", "first", "second", "w", "b", "rest",
              "steps")
"""A change of any of these alters what the run IS (data, model, start): restart."""


class Config(NamedTuple):
    """One validated run: gradient descent (``kind`` "GD") with ``lr`` from ``start`` on
    the plane ``plane`` of the hand coordinates, for at most ``steps`` steps."""

    kind: str
    lr: float
    start: tuple
    steps: int
    plane: B.Plane


class ModelsConfig(T.HasTraits):
    """The validated settings of the models lab (see the module docstring)."""

    dataset = T.Unicode("linear")
    target = T.Unicode("")
    classes = T.Bool(False)
    model = T.Unicode("")
    first = T.Int(0)
    second = T.Int(1)
    w = T.Float(0.0)
    b = T.Float(0.0)
    rest = T.Unicode("fitted")
    lr = T.Float(DEFAULT_LR)
    steps = T.Int(200)
    uploads = T.Dict()

    def __init__(self, dataset: str = "linear", seed: int = 0, **kw):
        self.seed = seed
        self._data: dict = {}
        self._built: dict = {}
        self._planes: dict = {}
        super().__init__()
        ds = self._dataset(dataset, "", False)
        label = B.models_for(ds.task)[0]
        built = self._model(ds, dataset, "", False, label)
        i, j = B.default_pair(built.model, ds.X_train.shape[1])
        with self.hold_trait_notifications():
            self.dataset, self.model, self.first, self.second = dataset, label, i, j
            for k, v in kw.items():
                setattr(self, k, v)

    # ---- the cached builds

    def _dataset(self, dataset, target, classes):
        key = (dataset, target, classes)
        if key not in self._data:
            self._data[key] = B.load(dataset, self.uploads, target, classes, self.seed)
        return self._data[key]

    def _model(self, ds, dataset, target, classes, label):
        key = (dataset, target, classes, label)
        if key not in self._built:
            self._built[key] = B.build(ds, label)
        return self._built[key]

    def plane(self, **override) -> B.Plane:
        """The validated plane of the current settings with ``override`` (built once)."""
        s = {k: getattr(self, k) for k in ("dataset", "target", "classes", "model", "first",
                                           "second", "rest", "w", "b")}
        s.update(override)
        ds = self._dataset(s["dataset"], s["target"], s["classes"])
        built = self._model(ds, s["dataset"], s["target"], s["classes"], s["model"])
        start = (s["w"], s["b"])
        P = len(built.names)
        names = [built.names[s[k]] if 0 <= s[k] < P else k for k in ("first", "second")]
        for name, v in zip(names, start, strict=True):
            if not math.isfinite(v):
                raise ValueError(f"{name} must be a finite number; got {v}")
        key = (s["dataset"], s["target"], s["classes"], s["model"], s["first"], s["second"],
               s["rest"])
        old = self._planes.get(key)
        if old is not None:
            (lo0, hi0), (lo1, hi1) = old.ranges
            if lo0 <= start[0] <= hi0 and lo1 <= start[1] <= hi1:
                return old
        with np.errstate(all="ignore"):
            p = B.plane(built, (s["first"], s["second"]), s["rest"], start)
            loss = float(p.problem.loss(np.array([start], dtype=np.float64))[0])
        if not (math.isfinite(loss) and abs(loss) <= MAX_LOSS):
            raise ValueError(f"({names[0]}, {names[1]}) = ({num(start[0])}, {num(start[1])}) "
                             f"gives the loss {num(loss)}: a run starts where |L| <= "
                             f"{MAX_LOSS:.0e}; choose smaller values")
        self._planes[key] = p
        return p

    # ---- validators: each builds what the proposal needs, once

    def _check(self, name, value):
        try:
            self.plane(**{name: value})
        except ValueError:
            raise
        except (TypeError, KeyError, IndexError) as err:       # never past this point
            raise ValueError(f"{name}: {err}") from None
        return value

    # (an engine ValueError is refused as a TraitError with its message: traitlets rolls
    # back every trait of a hold_trait_notifications block on a TraitError only, so an
    # edit of several traits is refused whole)

    @validates("dataset", "target", "classes")
    def _valid_data(self, name, value):
        s = {k: getattr(self, k) for k in DATA_TRAITS}
        s[name] = value
        with refused():
            ds = self._dataset(s["dataset"], s["target"], s["classes"])
            # what the new data will get (its first model, default pair, start 0): built
            # now, so a data set whose model cannot be fitted is refused before anything
            # changes
            label = B.models_for(ds.task)[0]
            built = self._model(ds, s["dataset"], s["target"], s["classes"], label)
            i, j = B.default_pair(built.model, ds.X_train.shape[1])
            self.plane(**s, model=label, first=i, second=j, w=0.0, b=0.0)
        return value

    @validates("model", "first", "second", "rest", "w", "b")
    def _valid_plane(self, name, value):
        with refused():
            return self._check(name, value)

    @validates("lr")
    def _valid_lr(self, name, lr):
        with refused():
            if not (math.isfinite(lr) and 0 < lr <= 10):
                raise ValueError(f"learning rate η must be in (0, 10]; got {lr}")
            kinds.build("GD", lr, 1)
        return lr

    @validates("steps")
    def _valid_steps(self, name, n):
        if not 1 <= n <= MAX_STEPS:
            raise T.TraitError(f"max steps must be an integer in 1..{MAX_STEPS}; got {n}")
        return n

    @T.observe("dataset", "target", "classes")
    def _new_data(self, change):
        """New data: the task's first model, its default pair, both hand values at 0."""
        ds = self._dataset(self.dataset, self.target, self.classes)
        label = B.models_for(ds.task)[0]
        built = self._model(ds, self.dataset, self.target, self.classes, label)
        i, j = B.default_pair(built.model, ds.X_train.shape[1])
        with self.hold_trait_notifications():
            self.model, self.first, self.second, self.w, self.b = label, i, j, 0.0, 0.0

    @T.observe("model")
    def _new_model(self, change):
        built = self.built
        i, j = B.default_pair(built.model, built.dataset.X_train.shape[1])
        if (i, j) != (self.first, self.second):
            with self.hold_trait_notifications():
                self.first, self.second = i, j

    # ---- uploads

    def add_upload(self, content: bytes, name: str) -> None:
        """Read an uploaded CSV (last column the target) and switch to it; a malformed
        file raises the engine's ValueError naming the row and column, a data set whose
        model cannot be built a TraitError with the engine's message (nothing changes)."""
        ds, columns, classes = B.read_csv(content, name, seed=self.seed)
        key = (B.UPLOAD_PREFIX + name, ds.target_name, classes)
        self._data[key] = ds
        for k in [k for k in self._data if k[0] == key[0] and k != key]:
            del self._data[k]                       # a new file under an old name
        for cache in (self._built, self._planes):
            for k in [k for k in cache if k[0] == key[0]]:
                del cache[k]
        before = self.uploads
        self.uploads = {**before, name: B.Upload(bytes(content), name, columns)}
        try:
            with self.hold_trait_notifications():
                self.dataset, self.target, self.classes = key
        except T.TraitError:
            self.uploads = before
            raise

    # ---- what the session gets

    @property
    def built(self) -> B.Built:
        """The validated data set, model and fitted parameters of the current settings."""
        ds = self._dataset(self.dataset, self.target, self.classes)
        return self._model(ds, self.dataset, self.target, self.classes, self.model)

    @property
    def names(self) -> tuple:
        """The names of the two hand coordinates."""
        n = self.built.names
        return n[self.first], n[self.second]

    def config(self) -> Config:
        """The validated run record (the plane is built already)."""
        return Config("GD", float(self.lr), (float(self.w), float(self.b)), int(self.steps),
                      self.plane())
