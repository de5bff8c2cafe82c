r"""Config -> engine objects for the models lab, built once per validated config.

* :func:`load` -- a named data set or an uploaded CSV (:func:`read_csv`) as an engine
  :class:`~descentlab.engine.data.Dataset`;
* :class:`Built` -- the data, the engine model matched to its task, the fitted
  :math:`\theta` and the coordinate names (one per data set and model);
* :class:`Plane` -- the two coordinates moved by hand, the rest held, the engine
  :class:`~descentlab.engine.problems.Problem` of the loss on that plane (what gradient
  descent runs on), its slice grid and the fit geometry (one per pair / held values).

The numbers are the engine's: ``models.fit`` (the fitted :math:`\theta`),
``models.loss_plane`` (the slice), ``models.logits`` (the boundaries); the session adds
``models.gradient_check``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from descentlab.engine import data, models, problems

__all__ = ["MODELS", "LOSS_TEX", "CONVEXITY", "UPLOAD_PREFIX",
           "models_for", "make", "param_names", "default_pair", "slider_range", "load",
           "read_csv", "Upload", "Built", "Plane", "FitGrid", "build",
           "plane", "margins", "SLICE_N"]

MODELS = {
    "linear regression (MSE)": "regression",
    "logistic regression (binary cross-entropy)": "binary",
    "softmax regression (cross-entropy)": "multiclass",
}
"""Model label -> the task it is for (softmax also fits a binary task, with K = 2)."""

LOSS_TEX = {
    "linear_regression": r"L(w, b) = \frac{1}{N}\sum_n (w^\top x_n + b - y_n)^2",
    "logistic_regression": r"L(w, b) = -\frac{1}{N}\sum_n \big[y_n \log \sigma(z_n) + "
                           r"(1 - y_n)\log(1 - \sigma(z_n))\big],\ z_n = w^\top x_n + b",
    "softmax_regression": r"L(W, b) = -\frac{1}{N}\sum_n \log "
                          r"\frac{e^{z_{n y_n}}}{\sum_k e^{z_{nk}}},\ z_n = W^\top x_n + b",
}

CONVEXITY = {
    "linear_regression": "MSE of a linear model is convex in (w, b) (a quadratic bowl): every "
                         "local minimum is the global minimum, and this slice is a bowl too.",
    "logistic_regression": "Log-loss of a linear model is convex in (w, b): any minimum is the "
                           "global one. On linearly separable data there is no finite minimum "
                           "(the loss keeps falling as ‖w‖ grows).",
    "softmax_regression": "Cross-entropy of a linear softmax model is convex in (W, b), but "
                          "not strictly: adding the same vector to every class's column leaves "
                          "the loss unchanged, so the minima form a flat valley.",
}

UPLOAD_PREFIX = "upload: "
SLICE_N = 60
GRID = 200
BOUNDARY_GRID = 80


# ---------------------------------------------------------------------------- models


def models_for(task: str) -> tuple[str, ...]:
    """Model labels matched to a task: regression -> linear; binary -> logistic or softmax
    (K = 2); multiclass -> softmax."""
    if task == "binary":
        return tuple(k for k, t in MODELS.items() if t in ("binary", "multiclass"))
    return tuple(k for k, t in MODELS.items() if t == task)


def make(label: str, dataset: data.Dataset) -> models.Model:
    """The engine model named ``label`` for ``dataset`` (no L2 penalty)."""
    if label not in models_for(dataset.task):
        raise ValueError(f"model must be one of {list(models_for(dataset.task))} for a "
                         f"{dataset.task} data set; got {label!r}")
    return models.for_task(MODELS[label], dataset.n_classes)


def param_names(model: models.Model, feature_names) -> tuple[str, ...]:
    """One name per coordinate of ``theta`` in the engine's layout: ``w[f]`` then ``b``, or
    for softmax ``W[f, k]`` row-major then ``b[k]``."""
    feats = tuple(feature_names)
    if model.task == "multiclass":
        K = model.n_classes
        return tuple(f"W[{f}, {k}]" for f in feats for k in range(K)) + tuple(
            f"b[{k}]" for k in range(K))
    return tuple(f"w[{f}]" for f in feats) + ("b",)


def default_pair(model: models.Model, n_features: int) -> tuple[int, int]:
    """The hand coordinates at build: the first weight and its bias."""
    K = model.n_classes if model.task == "multiclass" else 1
    return 0, n_features * K


def slider_range(center: float, value: float = 0.0) -> tuple[float, float]:
    """A range holding 0, ``center`` (the fitted value) and ``value`` (the start):
    ``[min - pad, max + pad]`` with ``pad = max(1, |c| / 2)``."""
    c = float(center)
    pad = max(1.0, 0.5 * abs(c))
    lo, hi = min(c, 0.0) - pad, max(c, 0.0) + pad
    v = float(value)
    if v < lo:
        lo = v - 0.25 * pad
    if v > hi:
        hi = v + 0.25 * pad
    return lo, hi


# ---------------------------------------------------------------------------- data


class Upload(NamedTuple):
    """An uploaded CSV: its bytes, file name and column names."""

    content: bytes
    name: str
    columns: tuple


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_csv(content: bytes, name: str = "uploaded.csv", target: str | None = None,
                classes: bool | None = None, seed: int = 0):
    """CSV bytes -> ``(Dataset, columns, classes)``.

    ``target`` names the target column (default: the last).  ``classes`` says whether its
    values are class labels; by default: yes when none of them is a number, or when they
    are numbers taking at most 10 distinct integer values.  A malformed file raises the
    engine's ValueError naming the row and column.
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
        levels, labels = np.unique(table.y, return_inverse=True)
        if classes is None:
            classes = len(levels) <= 10 and bool(np.all(levels == np.round(levels)))
        if classes:
            table = table._replace(y=labels.astype(np.int64))
    ds = data.from_arrays(table.X, table.y, name=name, feature_names=table.feature_names,
                          target_name=table.target_name, seed=seed)
    return ds, (*table.feature_names, table.target_name), bool(classes)


def load(dataset: str, uploads: dict, target: str = "", classes: bool = False,
         seed: int = 0) -> data.Dataset:
    """The engine data set named ``dataset``: one of :func:`engine.data.names` or
    ``"upload: <file>"`` read with ``target`` and ``classes``."""
    if dataset.startswith(UPLOAD_PREFIX):
        up = uploads.get(dataset[len(UPLOAD_PREFIX):])
        if up is None:
            raise ValueError(f"data set {dataset!r} has not been uploaded")
        return read_csv(up.content, up.name, target or None, classes, seed)[0]
    if dataset not in data.names():
        raise ValueError(f"data set must be one of {list(data.names())} or an uploaded "
                         f"CSV; got {dataset!r}")
    return data.make_dataset(dataset, seed=seed)


# ---------------------------------------------------------------------------- built


class Built(NamedTuple):
    """One data set and model: the engine objects and the fitted parameters."""

    dataset: data.Dataset
    label: str
    model: models.Model
    fitted: np.ndarray      # (P,)
    names: tuple            # one per coordinate


def build(ds: data.Dataset, label: str) -> Built:
    """The model ``label`` for ``ds``, fitted (ValueError when they do not fit)."""
    model = make(label, ds)
    fitted = models.fit(model, ds.X_train, ds.y_train)
    names = param_names(model, ds.feature_names)
    return Built(ds, label, model, fitted, names)


class FitGrid(NamedTuple):
    """Where the fit is drawn in data space: ``mode`` ("line", "curve", "boundary",
    "probability"), the plotted feature columns ``cols``, grid ``xs``, ``ys`` and the
    feature rows ``points`` at which the model is evaluated; ``order`` sorts the rows of
    ``points`` along the plotted feature (mode "curve": the data rows themselves)."""

    mode: str
    cols: tuple
    xs: np.ndarray
    ys: np.ndarray
    points: np.ndarray
    caption: str


class Plane(NamedTuple):
    """The two hand coordinates ``pair`` with the other coordinates held at ``held``: the
    engine problem of the loss on that plane (gradient descent runs on it), its slice."""

    built: Built
    pair: tuple
    rest: str
    held: np.ndarray        # (P,) the full theta, the pair's entries irrelevant
    ranges: tuple           # ((lo, hi), (lo, hi))
    problem: problems.Problem
    ws: np.ndarray
    bs: np.ndarray
    Z: np.ndarray           # (n, n), rows follow the second coordinate
    grid: FitGrid
    grad_scale: float       # the largest |grad L| / span over the slice's corners

    def theta(self, point) -> np.ndarray:
        """The full ``(P,)`` parameters at ``point = (first, second)``."""
        t = self.held.copy()
        t[list(self.pair)] = point
        return t


def _power_of(name: str, base: str) -> bool:
    return name == base or (name.startswith(base + "^") and name[len(base) + 1:].isdigit())


def fit_grid(ds: data.Dataset, model: models.Model, pair) -> FitGrid:
    """The plotted features (those of the hand weights first; one for regression, two for
    classification when there are) and the points the fit is drawn at."""
    F = ds.X_train.shape[1]
    K = model.n_classes if model.task == "multiclass" else 1
    chosen = [p // K for p in pair if p < F * K] + list(range(F))
    cols = tuple(dict.fromkeys(chosen))
    classify = ds.task != "regression"
    cols = cols[:2] if classify else cols[:1]
    a = cols[0]
    X = np.concatenate([ds.X_train, ds.X_val])
    names = ds.feature_names
    mode = ("boundary" if classify and len(cols) == 2 else "probability" if classify
            else "line" if F == 1 else
            "curve" if all(_power_of(n, names[a]) for n in names) else "line")
    lo, hi = float(X[:, a].min()), float(X[:, a].max())
    pad = 0.05 * (hi - lo + 1e-12)
    if mode == "boundary":
        xs = np.linspace(lo - pad, hi + pad, BOUNDARY_GRID)
        b = cols[1]
        blo, bhi = float(X[:, b].min()), float(X[:, b].max())
        bpad = 0.05 * (bhi - blo + 1e-12)
        ys = np.linspace(blo - bpad, bhi + bpad, BOUNDARY_GRID)
        gx, gy = np.meshgrid(xs, ys)
        points = np.zeros((gx.size, F))
        points[:, a], points[:, b] = gx.ravel(), gy.ravel()
        caption = (f"decision boundary in ({names[a]}, {names[b]})"
                   + (", other features at their mean (0)" if F > 2 else ""))
    elif mode == "curve":
        order = np.argsort(X[:, a], kind="stable")
        points = X[order]
        xs, ys = points[:, a], np.zeros(0)
        caption = (f"the fitted curve ŷ of the model's features "
                   f"({', '.join(names)}) at the data, along {names[a]}")
    else:
        xs = np.linspace(lo - pad, hi + pad, GRID)
        ys = np.zeros(0)
        points = np.zeros((GRID, F))
        points[:, a] = xs
        what = "ŷ" if mode == "line" else ("P(y = 1 | x)" if ds.task == "binary"
                                            else "the predicted class")
        caption = f"{what} along {names[a]}" + (
            ", other features at their mean (0)" if F > 1 else "")
    return FitGrid(mode, cols, xs, ys, points, caption)


def plane(built: Built, pair, rest: str, start) -> Plane:
    """The plane of ``pair`` through the held values (``rest``: "fitted" or "zero") with
    ranges holding 0, the fitted values and ``start``; its engine problem and slice."""
    i, j = (int(p) for p in pair)
    P = len(built.fitted)
    for p in (i, j):
        if not 0 <= p < P:
            raise ValueError(f"a hand coordinate must be in 0..{P - 1}; got {p}")
    if i == j:
        raise ValueError(f"the two sliders must move different coordinates; both move "
                         f"{built.names[i]}")
    if rest not in ("fitted", "zero"):
        raise ValueError(f"hold the rest at must be 'fitted' or 'zero'; got {rest!r}")
    held = built.fitted.copy() if rest == "fitted" else np.zeros(P)
    ranges = (slider_range(built.fitted[i], start[0]), slider_range(built.fitted[j], start[1]))
    ds, model = built.dataset, built.model
    X, y = ds.X_train, ds.y_train

    def full(params):
        T = np.repeat(held[None], params.shape[0], axis=0)
        T[:, i], T[:, j] = params[:, 0], params[:, 1]
        return T

    def loss(params):
        return model.loss(full(params), X, y)

    def grad(params):
        return model.grad(full(params), X, y)[:, [i, j]]

    prob = problems.custom(loss, grad, name=f"L on ({built.names[i]}, {built.names[j]})",
                           domain=ranges, start=tuple(float(v) for v in start),
                           log_scale=True)
    center = held.copy()
    center[[i, j]] = 0.0
    d1, d2 = np.zeros(P), np.zeros(P)
    d1[i], d2[j] = 1.0, 1.0
    ws, bs, Z = models.loss_plane(model, X, y, center, d1, d2, *ranges, n=SLICE_N)
    corners = np.array([[a, b] for a in ranges[0] for b in ranges[1]])
    span = np.array([ranges[0][1] - ranges[0][0], ranges[1][1] - ranges[1][0]])
    with np.errstate(all="ignore"):
        g = prob.grad(corners) / span
    norms = np.linalg.norm(g, axis=1)
    scale = float(norms[np.isfinite(norms)].max()) if np.isfinite(norms).any() else 1.0
    return Plane(built, (i, j), rest, held, ranges, prob, ws, bs, Z,
                 fit_grid(ds, model, (i, j)), max(scale, 1e-300))


# ---------------------------------------------------------------------------- boundaries


def margins(model: models.Model, theta, points) -> np.ndarray:
    r"""``(C, m)`` functions whose zero contours are the decision boundaries at ``points
    (m, F)``, from the engine's :func:`~descentlab.engine.models.logits`: the logit
    :math:`z` (logistic, ``C = 1``) or :math:`z_k - \max_{j\ne k} z_j` per class (softmax,
    ``C = K``; which class wins where, for drawing)."""
    Z = models.logits(model, np.asarray(theta, dtype=np.float64)[None], points)[0]
    if model.task != "multiclass":
        return Z[None]
    K = Z.shape[1]
    out = np.empty((K, Z.shape[0]))
    for k in range(K):                                           # K classes, not runs
        out[k] = Z[:, k] - np.delete(Z, k, axis=1).max(axis=1)
    return out
