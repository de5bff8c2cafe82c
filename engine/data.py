r"""Data for training: seeded synthetic generators, scikit-learn's bundled real sets, CSV.

Generators take an explicit ``rng`` (a ``np.random.Generator`` or an int seed) and return raw
``(X (N, F), y (N,))``.  ``make_dataset(name, **kw)`` turns any of them into a ready
:class:`Dataset`: split into train and validation rows (stratified for classification) and
standardized with the training rows' mean and standard deviation.

Targets are float64 for regression and int64 class labels ``0..K-1`` for classification.
"""

from __future__ import annotations

import csv
import io
import math
import os
from typing import NamedTuple

import numpy as np

from .checks import as_columns, check_int, hparam

__all__ = [
    "Dataset",
    "Table",
    "Split",
    "Scaled",
    "linear",
    "polynomial",
    "blobs2",
    "moons",
    "circles",
    "blobs",
    "diabetes",
    "breast_cancer",
    "iris",
    "load_csv",
    "split",
    "standardize",
    "polynomial_features",
    "from_arrays",
    "make_dataset",
    "names",
]

TASKS = ("regression", "binary", "multiclass")
MIN_ROWS = 5
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-"})


class Dataset(NamedTuple):
    """A split, standardized data set ready for a model.

    ``X_train (N, F)``, ``y_train (N,)``, ``X_val (M, F)``, ``y_val (M,)``; ``task`` is
    "regression", "binary" or "multiclass"; ``n_classes`` is 0 for regression.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    task: str
    n_classes: int
    feature_names: tuple
    target_name: str
    name: str


class Table(NamedTuple):
    """Raw rows with names: ``X (N, F)`` float64, ``y (N,)``; ``classes`` names the labels
    ``0..K-1`` of a categorical target (empty otherwise)."""

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple
    target_name: str
    classes: tuple = ()


class Split(NamedTuple):
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray


class Scaled(NamedTuple):
    """``arrays``: the standardized inputs in order (train first); ``mean``, ``std`` the
    scaler fitted on train."""

    arrays: tuple
    mean: np.ndarray
    std: np.ndarray


def _rng(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise ValueError(f"rng must be a numpy Generator or a non-negative int seed; got {rng!r}")


def _labels_shuffled(counts, rng):
    y = np.repeat(np.arange(len(counts)), counts)
    return rng.permutation(y)


def _balanced(n: int, k: int) -> np.ndarray:
    """Class sizes for n rows over k classes, as equal as possible."""
    return np.full(k, n // k) + (np.arange(k) < n % k)


def _two_classes(X0, X1, noise, rng):
    """Rows ``X0`` of class 0 and ``X1`` of class 1, plus N(0, noise²) noise, shuffled."""
    X = np.concatenate([X0, X1])
    y = np.repeat([0, 1], [len(X0), len(X1)])
    X = X + noise * rng.standard_normal(X.shape)
    order = rng.permutation(len(y))
    return X[order], y[order]


# ---------------------------------------------------------------------------- generators


def linear(n: int = 100, noise: float = 0.5, w=2.0, b: float = 1.0, rng=None):
    r"""Rows of a noisy line (plane): :math:`y = X w + b + \sigma \varepsilon`.

    ``X ~ Uniform[-1, 1]^{N x F}`` with ``F = len(w)`` (a scalar ``w`` gives one feature),
    :math:`\varepsilon \sim \mathcal N(0, 1)`, :math:`\sigma` = ``noise``.
    """
    n = check_int(n, "n", 1)
    noise = hparam(noise, "noise", 0.0)
    b = hparam(b, "b")
    w = np.atleast_1d(np.asarray(w, dtype=np.float64))
    if w.ndim != 1 or not np.all(np.isfinite(w)):
        raise ValueError(f"w must be a finite number or 1-D array of them; got {w!r}")
    rng = _rng(rng)
    X = rng.uniform(-1.0, 1.0, size=(n, w.size))
    return X, X @ w + b + noise * rng.standard_normal(n)


def polynomial(n: int = 30, degree: int = 3, noise: float = 0.3, rng=None):
    r"""Rows of a noisy polynomial of one variable, for under- and overfitting.

    :math:`y = \sum_{j=0}^{d} c_j x^j + \sigma\varepsilon` with ``x ~ Uniform[-1, 1]``,
    coefficients :math:`c_j \sim \mathcal N(0, 1)` drawn from ``rng``; returns ``X (N, 1)``.
    Fit it with ``polynomial_features(X, k)`` for k below, at and above ``degree``.
    """
    n = check_int(n, "n", 1)
    degree = check_int(degree, "degree", 0, 20)
    noise = hparam(noise, "noise", 0.0)
    rng = _rng(rng)
    c = rng.standard_normal(degree + 1)
    x = rng.uniform(-1.0, 1.0, size=n)
    return x[:, None], np.polynomial.polynomial.polyval(x, c) + noise * rng.standard_normal(n)


def blobs2(n: int = 200, separation: float = 3.0, rng=None):
    r"""Two Gaussian blobs in 2-D with unit variance, centres :math:`(\pm s/2, 0)`; binary.

    Class 0 is centred at :math:`(-s/2, 0)`, class 1 at :math:`(s/2, 0)`; classes are
    balanced and rows shuffled.
    """
    n = check_int(n, "n", 2)
    s = hparam(separation, "separation", 0.0)
    rng = _rng(rng)
    y = _labels_shuffled(_balanced(n, 2), rng)
    X = rng.standard_normal((n, 2))
    X[:, 0] += np.where(y == 1, s / 2, -s / 2)
    return X, y


def moons(n: int = 200, noise: float = 0.2, rng=None):
    r"""Two interleaving half circles (the shape of ``sklearn.datasets.make_moons``); binary.

    Class 0: :math:`(\cos t, \sin t)`, class 1: :math:`(1 - \cos t, 1/2 - \sin t)`,
    :math:`t \in [0, \pi]` evenly spaced, plus :math:`\mathcal N(0, \sigma^2)` noise.
    """
    n = check_int(n, "n", 2)
    noise = hparam(noise, "noise", 0.0)
    rng = _rng(rng)
    n0, n1 = _balanced(n, 2)
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    return _two_classes(np.stack([np.cos(t0), np.sin(t0)], 1),
                        np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], 1), noise, rng)


def circles(n: int = 200, noise: float = 0.1, factor: float = 0.5, rng=None):
    r"""A small circle (class 1, radius ``factor``) inside a large one (class 0, radius 1).

    The shape of ``sklearn.datasets.make_circles``: angles evenly spaced, plus
    :math:`\mathcal N(0, \sigma^2)` noise.  Not linearly separable: a lesson on features.
    """
    n = check_int(n, "n", 2)
    noise = hparam(noise, "noise", 0.0)
    factor = hparam(factor, "factor", 0.0, 1.0, hi_open=True)
    rng = _rng(rng)
    n0, n1 = _balanced(n, 2)
    t0 = np.linspace(0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0, 2 * np.pi, n1, endpoint=False)
    return _two_classes(np.stack([np.cos(t0), np.sin(t0)], 1),
                        factor * np.stack([np.cos(t1), np.sin(t1)], 1), noise, rng)


def blobs(n: int = 300, centers: int = 3, std: float = 1.0, n_features: int = 2, rng=None):
    r"""``centers`` isotropic Gaussian blobs (multi-class), like ``make_blobs``.

    Centres :math:`\mu_k \sim \mathrm{Uniform}[-5, 5]^F`, rows
    :math:`x = \mu_{y} + \mathrm{std}\,\varepsilon`; classes balanced, rows shuffled.
    """
    n = check_int(n, "n", 1)
    k = check_int(centers, "centers", 1, 100)
    std = hparam(std, "std", 0.0)
    F = check_int(n_features, "n_features", 1)
    rng = _rng(rng)
    mu = rng.uniform(-5.0, 5.0, size=(k, F))
    y = _labels_shuffled(_balanced(n, k), rng)
    return mu[y] + std * rng.standard_normal((n, F)), y


# ---------------------------------------------------------------------------- real sets


def _sklearn_table(loader, target_name: str, classes=()) -> Table:
    bunch = loader()
    y = bunch.target.astype(np.int64 if classes else np.float64)
    return Table(bunch.data.astype(np.float64), y, tuple(str(f) for f in bunch.feature_names),
                 target_name, tuple(classes))


def diabetes() -> Table:
    """scikit-learn's bundled diabetes set: 442 patients, 10 features (already centred and
    scaled by sklearn), target a disease progression score one year later; regression."""
    from sklearn.datasets import load_diabetes

    return _sklearn_table(load_diabetes, "progression")


def breast_cancer() -> Table:
    """scikit-learn's bundled Wisconsin breast cancer set: 569 tumours, 30 features;
    binary target 0 = malignant, 1 = benign (sklearn's coding)."""
    from sklearn.datasets import load_breast_cancer

    return _sklearn_table(load_breast_cancer, "diagnosis", ("malignant", "benign"))


def iris() -> Table:
    """scikit-learn's bundled iris set: 150 flowers, 4 features, 3 species; multiclass."""
    from sklearn.datasets import load_iris

    return _sklearn_table(load_iris, "species", ("setosa", "versicolor", "virginica"))


# ---------------------------------------------------------------------------- CSV


def _csv_text(source) -> str:
    if isinstance(source, (bytes, bytearray, memoryview)):
        try:
            return bytes(source).decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ValueError(f"source is not UTF-8 text: {e}") from None
    if isinstance(source, os.PathLike) or (isinstance(source, str) and source.strip()
                                            and "\n" not in source and "," not in source):
        try:
            with open(source, encoding="utf-8-sig", newline="") as f:
                return f.read()
        except OSError as e:
            raise ValueError(f"cannot read CSV file {os.fspath(source)!r}: {e.strerror}") from None
    if isinstance(source, str):
        return source.lstrip("\ufeff")
    raise ValueError(f"source must be a path, bytes or CSV text; got {type(source).__name__}")


def _number(text: str, row: int, column: str) -> float:
    s = text.strip()
    if s.lower() in MISSING:
        raise ValueError(f"row {row}, column {column!r}: missing value {text!r}")
    try:
        v = float(s)
    except ValueError:
        raise ValueError(f"row {row}, column {column!r}: {text!r} is not a number") from None
    if not math.isfinite(v):
        raise ValueError(f"row {row}, column {column!r}: {text!r} is not a finite number")
    return v


def load_csv(source, features=None, target=None, *, categorical_target: bool = False) -> Table:
    """Read a CSV with a header row into a :class:`Table`.

    ``source`` is a path, the bytes of an uploaded file, or a string of CSV text (a string
    with a comma or newline is text, otherwise a path).  ``target`` names the target column
    (default: the last column); ``features`` names the feature columns (default: all others).
    With ``categorical_target`` the target's values are class names, mapped in sorted order to
    labels ``0..K-1`` (``Table.classes``); otherwise it must be numeric like the features.
    Rows are numbered from 1 after the header.  Raises ``ValueError`` naming the row and column
    of a non-numeric or missing value, and on a constant column, duplicate or unknown column
    names, rows with the wrong number of fields, or fewer than 5 rows.
    """
    text = _csv_text(source)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ValueError("the CSV is empty: expected a header row naming the columns")
    try:
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [r for r in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in r)]
    header = [h.strip() for h in rows[0]]
    body = rows[1:]
    for j, h in enumerate(header):
        if not h:
            raise ValueError(f"column {j + 1} of the header has no name")
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise ValueError(f"duplicate column names in the header: {dup}")
    if target is None:
        target = header[-1]
    if target not in header:
        raise ValueError(f"unknown target column {target!r}; columns are {header}")
    if features is None:
        features = [h for h in header if h != target]
    elif isinstance(features, str):
        features = [features]
    features = list(features)
    unknown = [f for f in features if f not in header]
    if unknown:
        raise ValueError(f"unknown feature column(s) {unknown}; columns are {header}")
    if len(set(features)) != len(features):
        raise ValueError(f"features names a column twice: {features}")
    if target in features:
        raise ValueError(f"column {target!r} cannot be both a feature and the target")
    if not features:
        raise ValueError("no feature columns: name at least one column besides the target")
    if len(body) < MIN_ROWS:
        raise ValueError(f"the CSV has {len(body)} data rows; at least {MIN_ROWS} are needed")
    for i, r in enumerate(body, 1):
        if len(r) != len(header):
            raise ValueError(f"row {i} has {len(r)} fields but the header has {len(header)}")
    cols = {h: j for j, h in enumerate(header)}
    X = np.array([[_number(r[cols[f]], i, f) for f in features]
                  for i, r in enumerate(body, 1)], dtype=np.float64)
    raw_y = [r[cols[target]].strip() for r in body]
    classes = ()
    if categorical_target:
        for i, v in enumerate(raw_y, 1):
            if v.lower() in MISSING:
                raise ValueError(f"row {i}, column {target!r}: missing value {v!r}")
        classes = tuple(sorted(set(raw_y)))
        y = np.searchsorted(np.array(classes), np.array(raw_y)).astype(np.int64)
        if len(classes) < 2:
            raise ValueError(f"column {target!r} (the target) has one class {classes[0]!r}; "
                             "classification needs at least 2")
    else:
        y = np.array([_number(v, i, target) for i, v in enumerate(raw_y, 1)])
        if np.all(y == y[0]):
            raise ValueError(f"column {target!r} (the target) is constant ({y[0]:g} in every "
                             "row): there is nothing to predict")
    const = np.all(X == X[:1], axis=0)
    if np.any(const):
        j = int(np.argmax(const))
        raise ValueError(f"column {features[j]!r} is constant ({X[0, j]:g} in every row): it "
                         "carries no information; leave it out of features")
    return Table(X, y, tuple(features), target, classes)


# ---------------------------------------------------------------------------- preparation


def split(X, y, val_fraction: float = 0.2, rng=None, stratify: bool | None = None) -> Split:
    r"""Shuffle and split rows into train and validation: ``Split(X_train, y_train, X_val,
    y_val)``.

    :math:`M = \lceil f N \rceil` validation rows (like ``sklearn.model_selection.
    train_test_split``), at least one row on each side.  ``stratify`` (default: on for
    integer ``y``) keeps every class's share equal in both parts up to rounding.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise ValueError(f"X must be (N, F) and y (N,) with the same N; got X {X.shape}, "
                         f"y {y.shape}")
    f = hparam(val_fraction, "val_fraction", 0.0, 1.0, lo_open=True, hi_open=True)
    N = X.shape[0]
    if N < 2:
        raise ValueError(f"split needs at least 2 rows; got {N}")
    M = min(max(math.ceil(f * N), 1), N - 1)
    rng = _rng(rng)
    perm = rng.permutation(N)
    if stratify is None:
        stratify = np.issubdtype(y.dtype, np.integer)
    if stratify:
        perm = perm[np.argsort(y[perm], kind="stable")]  # classes grouped, shuffled within
    picks = np.zeros(N, bool)
    picks[((np.arange(M) + 0.5) * N / M).astype(np.int64)] = True
    val = rng.permutation(perm[picks])
    train = rng.permutation(perm[~picks])
    return Split(X[train], y[train], X[val], y[val])


def standardize(train, *others) -> Scaled:
    r"""Standardize columns with the training rows' statistics: :math:`(x - \mu) / \sigma`.

    :math:`\mu` and :math:`\sigma` (population standard deviation, ddof 0) come from
    ``train`` only and are applied to ``others`` (validation, test).  A column with
    :math:`\sigma = 0` gets :math:`\sigma = 1` (it is only centred), as in
    ``sklearn.preprocessing.StandardScaler``.  Returns ``Scaled(arrays, mean, std)``.
    """
    train = np.asarray(train, dtype=np.float64)
    if train.ndim != 2 or train.shape[0] < 1:
        raise ValueError(f"train must have shape (N, F) with N >= 1; got {train.shape}")
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std = np.where(std > 10 * np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1.0),
                   std, 1.0)
    out = []
    for k, a in enumerate((train, *others)):
        a = np.asarray(a, dtype=np.float64)
        if a.ndim != 2 or a.shape[1] != train.shape[1]:
            raise ValueError(f"array {k} must have shape (M, {train.shape[1]}) like train; "
                             f"got {a.shape}")
        out.append((a - mean) / std)
    return Scaled(tuple(out), mean, std)


def polynomial_features(x, degree: int) -> np.ndarray:
    r"""Powers of each feature, no cross terms, no constant column (the model has a bias).

    For 1-D ``x (N,)`` or ``(N, 1)``: columns :math:`x, x^2, \dots, x^d` (equal to
    ``sklearn.preprocessing.PolynomialFeatures(d, include_bias=False)``).  For ``(N, F)``:
    ``F * d`` columns grouped by power, :math:`[x_1..x_F,\ x_1^2..x_F^2,\ \dots]`.
    """
    d = check_int(degree, "degree", 1, 30)
    x = as_columns(x)
    if x.ndim != 2:
        raise ValueError(f"x must have shape (N,) or (N, F); got {x.shape}")
    return np.concatenate([x ** p for p in range(1, d + 1)], axis=1)


def _task_of(y) -> tuple[str, int]:
    y = np.asarray(y)
    if np.issubdtype(y.dtype, np.floating):
        return "regression", 0
    K = int(y.max()) + 1
    return ("binary" if K == 2 else "multiclass"), K


def from_arrays(X, y, *, task: str | None = None, name: str = "data", feature_names=None,
                target_name: str = "y", val_fraction: float = 0.2, seed=0,
                standardize_features: bool = True) -> Dataset:
    """Split and standardize raw ``(X, y)`` into a :class:`Dataset`.

    ``task`` defaults to "regression" for float ``y`` and to "binary" / "multiclass" for
    integer labels (which must be ``0..K-1``).  The scaler is fitted on the training rows.
    """
    X = as_columns(X)
    y = np.asarray(y)
    if task is None:
        task, K = _task_of(y)
    elif task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}; got {task!r}")
    if task == "regression":
        y, K = y.astype(np.float64), 0
    else:
        yi = y.astype(np.int64)
        if np.any(yi != y) or yi.min() < 0:
            raise ValueError("y must hold class labels 0..K-1 for classification")
        y, K = yi, max(int(yi.max()) + 1, 2)
        if task == "binary" and K != 2:
            raise ValueError(f"a binary task needs labels 0 and 1; got {K} classes")
    if feature_names is None:
        feature_names = ("x",) if X.shape[1] == 1 else tuple(f"x{j + 1}"
                                                             for j in range(X.shape[1]))
    feature_names = tuple(feature_names)
    if len(feature_names) != X.shape[1]:
        raise ValueError(f"feature_names has {len(feature_names)} names for "
                         f"{X.shape[1]} features")
    s = split(X, y, val_fraction, _rng(seed), stratify=task != "regression")
    X_train, X_val = s.X_train, s.X_val
    if standardize_features:
        X_train, X_val = standardize(X_train, X_val).arrays
    return Dataset(X_train, s.y_train, X_val, s.y_val, task, K, feature_names, target_name,
                   name)


def _poly(n=30, degree=3, noise=0.3, fit_degree=None, rng=None):
    X, y = polynomial(n, degree, noise, rng)
    k = max(degree, 1) if fit_degree is None else fit_degree
    k = check_int(k, "fit_degree", 1, 30)
    names_ = ("x",) + tuple(f"x^{p}" for p in range(2, k + 1))
    return polynomial_features(X, k), y, names_


_GENERATORS = {
    "linear": linear,
    "polynomial": _poly,
    "blobs2": blobs2,
    "moons": moons,
    "circles": circles,
    "blobs": blobs,
}
_REAL = {"diabetes": diabetes, "breast_cancer": breast_cancer, "iris": iris}


def names() -> tuple[str, ...]:
    """Names accepted by :func:`make_dataset`."""
    return tuple(_GENERATORS) + tuple(_REAL)


def make_dataset(name: str, *, val_fraction: float = 0.2, seed=0,
                 standardize_features: bool = True, **kw) -> Dataset:
    """A split, standardized :class:`Dataset` by name (see :func:`names`).

    ``seed`` (int or Generator) drives both the generator and the split; ``kw`` go to the
    generator (e.g. ``make_dataset("moons", n=500, noise=0.3)``).  "polynomial" also takes
    ``fit_degree``, the degree of the features the model sees (default: ``degree``).
    """
    rng = _rng(seed)
    if name in _GENERATORS:
        out = _GENERATORS[name](rng=rng, **kw)
        X, y = out[:2]
        feature_names = out[2] if len(out) > 2 else None
        return from_arrays(X, y, name=name, feature_names=feature_names,
                           val_fraction=val_fraction, seed=rng,
                           standardize_features=standardize_features)
    if name in _REAL:
        if kw:
            raise ValueError(f"{name} takes no options; got {sorted(kw)}")
        t = _REAL[name]()
        return from_arrays(t.X, t.y, name=name, feature_names=t.feature_names,
                           target_name=t.target_name, val_fraction=val_fraction, seed=rng,
                           standardize_features=standardize_features)
    raise ValueError(f"unknown data set {name!r}; valid names are {list(names())}")
