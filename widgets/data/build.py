r"""Config -> engine objects, built once per validation and reused by the session.

:class:`Builder` turns a :class:`~.config.DataConfig` into a :class:`Built`: the data set
(:class:`Prepared`, with the grids the data chart draws fits on), the *groups* of runs and
the training rules.  Runs sharing ``(batch_size, l2)`` form one :class:`Group`: one model,
one batch stream and one :func:`~descentlab.engine.optimizers.race` of
:func:`descentlab.engine.kinds.build` optimizers -- one vectorized
:func:`~descentlab.engine.training.train_step` per group per iteration.  Every group sees
the same batch order (same ``seed``): a fair race.

The builder keeps the last data set it built: an edit that does not touch the data (a
batch size, a learning rate) builds no data set at all, and the session reuses the
:class:`Built` that validation made.

Also here, until the engine has them (see the family docstring): :func:`gradient_noise`,
the variance of the mini-batch gradient around the full one; and :func:`upload_dataset`,
an upload's CSV bytes (checked by :func:`descentlab.widgets.ui.upload.check_upload`) as a
data set.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from descentlab.engine import batching, callbacks, data, kinds, models, training
from descentlab.engine import optimizers as O
from descentlab.widgets.ui.upload import MAX_UPLOAD_BYTES, check_upload

from .config import DataConfig

__all__ = ["Prepared", "Group", "Built", "Builder", "make_data", "make_model", "make_groups",
           "make_optimizer", "make_rules", "gradient_noise", "batch_noise",
           "upload_dataset", "GRID", "BOUNDARY_GRID"]

GRID = 200           # points of a fitted curve
BOUNDARY_GRID = 80   # points per side of the decision-boundary grid


class Prepared(NamedTuple):
    """A data set and where its fits are drawn.

    ``mode``: "curve" (regression on one plotted input: ``xs (G,)`` and ``features (G, F)``,
    the model's inputs there), "boundary" (binary task, two features: ``xs``, ``ys`` and
    ``features (m*m, 2)`` the grid points) or "none" (no fit is drawn)."""

    dataset: data.Dataset
    mode: str
    xs: np.ndarray
    ys: np.ndarray
    features: np.ndarray | None


class Group(NamedTuple):
    """Runs sharing a batch size and an L2 penalty: ``index`` their positions in the lab;
    ``blocks`` the consecutive runs of one kind, ``(kind, n)``."""

    batch_size: int
    l2: float
    index: tuple
    blocks: tuple
    model: models.Model
    optimizer: Any


class Built(NamedTuple):
    """Everything a session needs for ``cfg``."""

    cfg: DataConfig
    prepared: Prepared
    groups: tuple
    rules: training.TrainRules

    @property
    def dataset(self) -> data.Dataset:
        return self.prepared.dataset

    @property
    def n_train(self) -> int:
        return self.prepared.dataset.X_train.shape[0]


# ---------------------------------------------------------------------------- data


def _span(*arrays, pad: float) -> tuple[float, float]:
    lo = min(float(np.min(a)) for a in arrays if len(a))
    hi = max(float(np.max(a)) for a in arrays if len(a))
    p = pad * (hi - lo + 1e-12)
    return lo - p, hi + p


def _polynomial(cfg: DataConfig) -> tuple[data.Dataset, Any]:
    r"""Features :math:`u, u^2, \dots, u^d` of the standardized input :math:`u`
    (``d`` = ``cfg.degree``), each column standardized on the training rows; returns the
    data set and ``features(u)`` (both scalers kept, so fits can be drawn over ``u``)."""
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
    return ds, features


def make_data(cfg: DataConfig) -> Prepared:
    """The data set the runs train on, by name (or ``cfg.custom``, an uploaded one), and
    the grid its fits are drawn on."""
    features = None
    if cfg.custom is not None:
        ds = cfg.custom
    elif cfg.dataset == "polynomial":
        ds, features = _polynomial(cfg)
    else:
        if cfg.degree:
            raise ValueError("degree applies to the polynomial data set only; got degree "
                             f"{cfg.degree} for {cfg.dataset!r}")
        ds = data.make_dataset(cfg.dataset, seed=cfg.seed, **cfg.dataset_params)
    F = ds.X_train.shape[1]
    empty = np.zeros(0)
    if ds.task == "regression" and (features is not None or F == 1):
        xs = np.linspace(*_span(ds.X_train[:, 0], ds.X_val[:, 0], pad=0.05), GRID)
        feat = features(xs) if features is not None else xs[:, None]
        return Prepared(ds, "curve", xs, empty, feat)
    if ds.task == "binary" and F == 2:
        xs = np.linspace(*_span(ds.X_train[:, 0], ds.X_val[:, 0], pad=0.05), BOUNDARY_GRID)
        ys = np.linspace(*_span(ds.X_train[:, 1], ds.X_val[:, 1], pad=0.05), BOUNDARY_GRID)
        gx, gy = np.meshgrid(xs, ys)
        return Prepared(ds, "boundary", xs, ys, np.stack([gx.ravel(), gy.ravel()], axis=1))
    return Prepared(ds, "none", empty, empty, None)


def make_model(dataset: data.Dataset, l2: float) -> models.Model:
    """Linear regression, logistic regression or softmax regression, by the data's task."""
    return models.for_task(dataset.task, dataset.n_classes, l2)


# ---------------------------------------------------------------------------- runs


def blocks_of(runs) -> tuple:
    """``(kind, n)`` for each stretch of consecutive runs of one kind."""
    out: list[list] = []
    for r in runs:
        if out and out[-1][0] == r.kind:
            out[-1][1] += 1
        else:
            out.append([r.kind, 1])
    return tuple((k, n) for k, n in out)


def make_optimizer(runs, momentum: float):
    """One race over ``runs`` (consecutive runs of one kind share a block), each block
    :func:`descentlab.engine.kinds.build` with per-run ``lr`` and ``weight_decay``."""
    opts, sizes, i = [], [], 0
    for kind, n in blocks_of(runs):
        part = runs[i:i + n]
        opts.append(kinds.build(kind, np.array([r.lr for r in part], dtype=np.float64), n,
                                momentum=momentum,
                                weight_decay=np.array([r.weight_decay for r in part])))
        sizes.append(n)
        i += n
    return O.race(opts, sizes)


def make_groups(cfg: DataConfig, dataset: data.Dataset) -> tuple[Group, ...]:
    """The groups of ``cfg.runs`` (first-appearance order), each with its model and race."""
    N = dataset.X_train.shape[0]
    where: dict[tuple, list[int]] = {}
    for i, r in enumerate(cfg.runs):
        where.setdefault((r.batch_size, r.l2), []).append(i)
    out = []
    for (B, l2), idx in where.items():
        batching.check_batch_size(B, N)
        runs = [cfg.runs[i] for i in idx]
        out.append(Group(B, l2, tuple(idx), blocks_of(runs), make_model(dataset, l2),
                         make_optimizer(runs, cfg.momentum)))
    return tuple(out)


def make_rules(cfg: DataConfig, task: str) -> training.TrainRules:
    early = (callbacks.early_stopping(cfg.patience, cfg.min_delta,
                                      restore_best=cfg.restore_best)
             if cfg.early_stopping else None)
    return training.TrainRules(cfg.epochs, max_loss=cfg.max_loss,
                               early_stopping=early).validated(task)


def _data_key(cfg: DataConfig) -> tuple:
    return (cfg.dataset, tuple(sorted(cfg.dataset_params.items())), cfg.degree, cfg.seed,
            id(cfg.custom))


class Builder:
    """Builds :class:`Built` records and remembers the last data set and the last few
    :class:`Built` (so validating a value and then starting the session builds once)."""

    KEEP = 4

    def __init__(self):
        self._data: tuple | None = None          # (key, custom, Prepared)
        self._built: list[tuple] = []            # [(cfg key, custom, Built)]
        self.data_builds = 0                     # how many data sets were built (tests)

    def data(self, cfg: DataConfig) -> Prepared:
        key = _data_key(cfg)
        if self._data is not None and self._data[0] == key and self._data[1] is cfg.custom:
            return self._data[2]
        prepared = make_data(cfg)
        self.data_builds += 1
        self._data = (key, cfg.custom, prepared)
        return prepared

    def build(self, cfg: DataConfig) -> Built:
        """The engine objects of ``cfg``; ValueError (the engine's message) when invalid."""
        key = cfg._replace(dataset_params=tuple(sorted(cfg.dataset_params.items())),
                           custom=id(cfg.custom))
        for k, custom, built in self._built:
            if k == key and custom is cfg.custom:
                return built
        prepared = self.data(cfg)
        ds = prepared.dataset
        groups = make_groups(cfg, ds)
        rules = make_rules(cfg, ds.task)
        built = Built(cfg, prepared, groups, rules)
        self._built = [(key, cfg.custom, built)] + self._built[: self.KEEP - 1]
        return built


# ---------------------------------------------------------------------------- noise


def gradient_noise(model: models.Model, params: np.ndarray, X: np.ndarray,
                   y: np.ndarray) -> np.ndarray:
    r"""``(R,)`` the per-example gradient variance
    :math:`\sigma^2 = \frac1N\sum_n \lVert \nabla\ell_n(\theta) - \nabla L(\theta)\rVert^2`
    at each run's ``params (R, P)`` (the L2 term is the same for every example and cancels).

    Per-example gradients come from the model itself: each row is a batch of one
    (``X (R*N, 1, F)``), so the numbers are the engine's.  To be moved to the engine."""
    R, P = params.shape
    N = X.shape[0]
    rep = np.repeat(params, N, axis=0)                        # (R*N, P)
    Xr = np.broadcast_to(X[None], (R, N, X.shape[1])).reshape(R * N, 1, X.shape[1])
    yr = np.broadcast_to(y[None], (R, N)).reshape(R * N, 1)
    with np.errstate(all="ignore"):
        g = model.grad(rep, Xr, yr).reshape(R, N, P)
        full = g.mean(axis=1, keepdims=True)
        return np.mean(np.sum((g - full) ** 2, axis=2), axis=1)


def batch_noise(sigma2, n: int, batch_size) -> np.ndarray:
    r""":math:`\mathbb{E}\lVert g_{\mathcal B} - \nabla L\rVert^2 = \frac{N-B}{N-1}\,
    \frac{\sigma^2}{B}` for a batch of :math:`B` rows drawn without replacement (one batch
    of an epoch's random order), :math:`\sigma^2` from :func:`gradient_noise`: zero at the
    full batch, :math:`\sigma^2` at :math:`B = 1`.  To be moved to the engine."""
    B = np.asarray(batch_size, dtype=np.float64)
    factor = (n - B) / (n - 1) if n > 1 else np.zeros_like(B)
    return np.asarray(sigma2) * factor / B


# ---------------------------------------------------------------------------- upload


def upload_dataset(content: bytes, name: str = "uploaded.csv", seed: int = 0,
                   max_bytes: int = MAX_UPLOAD_BYTES) -> data.Dataset:
    """CSV bytes -> a split, standardized Dataset (last column the target).  ``content``
    and ``name`` are checked as an upload (:func:`descentlab.widgets.ui.upload.check_upload`:
    a number is refused, never read as that many zero bytes); a malformed file raises the
    engine's ValueError naming the row / column."""
    name, content = check_upload({"name": name, "content": content}, max_bytes)
    table = data.load_csv(content)
    return data.from_arrays(table.X, table.y, name=name, feature_names=table.feature_names,
                            target_name=table.target_name, seed=seed)
