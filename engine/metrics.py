r"""Metrics, one value per run, equal to ``sklearn.metrics``.

Every metric is ``f(y_true (N,), y_pred)``: ``y_pred`` of shape ``(N,)`` gives a float, shape
``(R, N)`` (one row per run) gives an ``(R,)`` array.  ``log_loss`` also takes multiclass
probabilities ``(R, N, K)``.  The lab shows the formula next to the number: each docstring
carries it and :data:`FORMULAS` holds it as LaTeX.

Classification metrics (``accuracy``, ``precision``, ``recall``, ``f1``) take predicted
labels or probabilities:

* integer (or integral-valued float) ``y_pred`` are labels;
* other float ``y_pred`` in ``[0, 1]`` are :math:`P(y = 1)`, labelled
  :math:`\hat y = [p > 0.5]` (exactly 0.5 goes to class 0, like sklearn's classifiers);
* ``(R, N, K)`` probabilities are labelled :math:`\hat y = \arg\max_k p_k` (first maximum).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "FORMULAS",
    "mse",
    "rmse",
    "mae",
    "r2",
    "accuracy",
    "log_loss",
    "precision",
    "recall",
    "f1",
]

FORMULAS: dict[str, str] = {
    "mse": r"\mathrm{MSE} = \frac{1}{N}\sum_{n=1}^{N} (y_n - \hat y_n)^2",
    "rmse": r"\mathrm{RMSE} = \sqrt{\frac{1}{N}\sum_{n=1}^{N} (y_n - \hat y_n)^2}",
    "mae": r"\mathrm{MAE} = \frac{1}{N}\sum_{n=1}^{N} \lvert y_n - \hat y_n \rvert",
    "r2": r"R^2 = 1 - \frac{\sum_n (y_n - \hat y_n)^2}{\sum_n (y_n - \bar y)^2}",
    "accuracy": r"\mathrm{accuracy} = \frac{1}{N}\sum_{n=1}^{N} [\hat y_n = y_n]",
    "log_loss": r"\mathrm{log\,loss} = -\frac{1}{N}\sum_{n=1}^{N} \log p_{n, y_n}",
    "precision": r"\mathrm{precision} = \frac{TP}{TP + FP}",
    "recall": r"\mathrm{recall} = \frac{TP}{TP + FN}",
    "f1": r"F_1 = \frac{2\,TP}{2\,TP + FP + FN}",
}

EPS = np.finfo(np.float64).eps


def _pair(y_true, y_pred, name: str = "y_pred", trailing: int = 0):
    """``y_true (N,)`` and ``y_pred`` ``(N, ...)`` or ``(R, N, ...)``; returns the pred as
    ``(R, N, ...)`` and whether the input had no runs axis."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape[0] < 1:
        raise ValueError(f"y_true must have shape (N,) with N >= 1; got shape {y_true.shape}")
    N = y_true.shape[0]
    lead = y_pred.shape[:y_pred.ndim - trailing]
    if lead == (N,):
        return y_true, y_pred[None], True
    if len(lead) == 2 and lead[1] == N:
        return y_true, y_pred, False
    want = "(R, N, K)" if trailing else "(N,) or (R, N)"
    hint = ("; for one run of K-class probabilities pass shape (1, N, K)"
            if name == "y_prob" and not trailing and y_pred.ndim == 2 else "")
    raise ValueError(f"{name} has shape {y_pred.shape} but y_true has shape {y_true.shape}; "
                     f"{name} must have shape {want} with N = {N}{hint}")


def _out(values: np.ndarray, single: bool):
    return float(values[0]) if single else values


def _regression(y_true, y_pred):
    y_true, y_pred, single = _pair(y_true, y_pred)
    return y_true.astype(np.float64), y_pred.astype(np.float64), single


# ---------------------------------------------------------------------------- regression


def mse(y_true, y_pred):
    r"""Mean squared error, ``sklearn.metrics.mean_squared_error``.

    .. math:: \mathrm{MSE} = \frac{1}{N}\sum_{n=1}^{N} (y_n - \hat y_n)^2
    """
    y, p, single = _regression(y_true, y_pred)
    return _out(np.mean((y - p) ** 2, axis=1), single)


def rmse(y_true, y_pred):
    r"""Root mean squared error, ``sklearn.metrics.root_mean_squared_error``.

    .. math:: \mathrm{RMSE} = \sqrt{\frac{1}{N}\sum_{n=1}^{N} (y_n - \hat y_n)^2}
    """
    y, p, single = _regression(y_true, y_pred)
    return _out(np.sqrt(np.mean((y - p) ** 2, axis=1)), single)


def mae(y_true, y_pred):
    r"""Mean absolute error, ``sklearn.metrics.mean_absolute_error``.

    .. math:: \mathrm{MAE} = \frac{1}{N}\sum_{n=1}^{N} \lvert y_n - \hat y_n \rvert
    """
    y, p, single = _regression(y_true, y_pred)
    return _out(np.mean(np.abs(y - p), axis=1), single)


def r2(y_true, y_pred):
    r"""Coefficient of determination, ``sklearn.metrics.r2_score``.

    .. math:: R^2 = 1 - \frac{\sum_n (y_n - \hat y_n)^2}{\sum_n (y_n - \bar y)^2}

    As in sklearn: a constant ``y_true`` gives 1.0 for perfect predictions and 0.0 otherwise;
    fewer than two rows give NaN (R^2 is not defined).
    """
    y, p, single = _regression(y_true, y_pred)
    if y.shape[0] < 2:
        return _out(np.full(p.shape[0], np.nan), single)
    num = np.sum((y - p) ** 2, axis=1)
    den = np.sum((y - np.mean(y)) ** 2)
    if den == 0.0:
        return _out(np.where(num == 0.0, 1.0, 0.0), single)
    return _out(1.0 - num / den, single)


# ---------------------------------------------------------------------------- classification


def _class_labels(y_true) -> np.ndarray:
    y = np.asarray(y_true)
    yi = y.astype(np.int64) if np.issubdtype(y.dtype, np.number) or y.dtype == bool else None
    if yi is None or np.any(yi != y) or np.any(yi < 0):
        raise ValueError("y_true must hold class labels 0..K-1 (non-negative integers)")
    return yi


def _predicted_labels(y_true, y_pred):
    """Labels ``(R, N)`` from labels, P(y=1) or ``(R, N, K)`` probabilities (module doc)."""
    y_pred = np.asarray(y_pred)
    if y_pred.ndim == 3:
        y_true, probs, single = _pair(y_true, y_pred, trailing=1)
        return _class_labels(y_true), np.argmax(probs, axis=2), False
    y_true, pred, single = _pair(y_true, y_pred)
    if pred.dtype == bool or np.issubdtype(pred.dtype, np.integer):
        labels = pred.astype(np.int64)
    else:
        pred = pred.astype(np.float64)
        if np.all(pred == np.round(pred)):
            labels = pred.astype(np.int64)
        elif np.all((pred >= 0.0) & (pred <= 1.0)):
            labels = (pred > 0.5).astype(np.int64)
        else:
            raise ValueError("y_pred must be labels (integers) or probabilities in [0, 1]; got "
                             f"values in [{pred.min():g}, {pred.max():g}]")
    return _class_labels(y_true), labels, single


def accuracy(y_true, y_pred):
    r"""Fraction of correct labels, ``sklearn.metrics.accuracy_score``.

    .. math:: \mathrm{accuracy} = \frac{1}{N}\sum_{n=1}^{N} [\hat y_n = y_n]
    """
    y, labels, single = _predicted_labels(y_true, y_pred)
    return _out(np.mean(labels == y, axis=1), single)


def _counts(y_true, y_pred):
    y, labels, single = _predicted_labels(y_true, y_pred)
    if np.any(y > 1) or np.any(labels > 1):
        raise ValueError("precision, recall and f1 are binary: labels must be 0 or 1")
    pos, hit = labels == 1, y == 1
    tp = np.sum(pos & hit, axis=1)
    fp = np.sum(pos & ~hit, axis=1)
    fn = np.sum(~pos & hit, axis=1)
    return tp, fp, fn, single


def _ratio(num, den):
    """num / den, 0.0 where den = 0 (sklearn's ``zero_division`` default)."""
    return np.where(den > 0, num / np.maximum(den, 1), 0.0)


def precision(y_true, y_pred):
    r"""Share of predicted positives that are positive, ``sklearn.metrics.precision_score``.

    .. math:: \mathrm{precision} = \frac{TP}{TP + FP}

    Class 1 is positive; 0.0 when nothing is predicted positive (as sklearn).
    """
    tp, fp, fn, single = _counts(y_true, y_pred)
    return _out(_ratio(tp, tp + fp), single)


def recall(y_true, y_pred):
    r"""Share of positives found, ``sklearn.metrics.recall_score``.

    .. math:: \mathrm{recall} = \frac{TP}{TP + FN}

    Class 1 is positive; 0.0 when ``y_true`` has no positives (as sklearn).
    """
    tp, fp, fn, single = _counts(y_true, y_pred)
    return _out(_ratio(tp, tp + fn), single)


def f1(y_true, y_pred):
    r"""Harmonic mean of precision and recall, ``sklearn.metrics.f1_score``.

    .. math:: F_1 = \frac{2\,\mathrm{precision}\cdot\mathrm{recall}}
                         {\mathrm{precision} + \mathrm{recall}} = \frac{2\,TP}{2\,TP + FP + FN}

    Class 1 is positive; 0.0 when there are no positives at all (as sklearn).
    """
    tp, fp, fn, single = _counts(y_true, y_pred)
    return _out(_ratio(2 * tp, 2 * tp + fp + fn), single)


def log_loss(y_true, y_prob):
    r"""Cross-entropy of predicted probabilities, ``sklearn.metrics.log_loss``.

    .. math:: \mathrm{log\,loss} = -\frac{1}{N}\sum_{n=1}^{N} \log p_{n, y_n}

    Binary: ``y_prob`` is :math:`P(y = 1)` of shape ``(N,)`` or ``(R, N)``, so
    :math:`p_{n,1} = p_n` and :math:`p_{n,0} = 1 - p_n`.  Multiclass: ``(R, N, K)``
    probabilities (one run: ``(1, N, K)``), labels ``0..K-1``.  As sklearn 1.9 does,
    probabilities are clipped to :math:`[\epsilon, 1 - \epsilon]` with :math:`\epsilon` the
    float64 machine epsilon, so 0 and 1 give a finite loss (at most
    :math:`-\log \epsilon \approx 36.04` per row); they are not renormalized.
    """
    p = np.asarray(y_prob, dtype=np.float64)
    if p.ndim == 3:
        y_true, p, single = _pair(y_true, p, "y_prob", trailing=1)
        y = _class_labels(y_true)
        if np.any(y >= p.shape[2]):
            raise ValueError(f"y_true has label {int(y.max())} but y_prob has only "
                             f"{p.shape[2]} classes")
    else:
        y_true, p, single = _pair(y_true, p, "y_prob")
        y = _class_labels(y_true)
        if np.any(y > 1):
            raise ValueError("y_prob of shape (N,) or (R, N) is P(y=1) of a binary task: "
                             "y_true must be 0 or 1; pass (R, N, K) probabilities for K classes")
    if p.size and (p.min() < 0.0 or p.max() > 1.0 or not np.all(np.isfinite(p))):
        raise ValueError(f"y_prob must hold probabilities in [0, 1]; got values in "
                         f"[{np.nanmin(p):g}, {np.nanmax(p):g}]")
    if p.ndim == 3:
        p_true = np.take_along_axis(p, np.broadcast_to(y, p.shape[:2])[..., None], 2)[..., 0]
    else:
        p_true = np.where(y == 1, p, 1.0 - p)
    return _out(-np.mean(np.log(np.clip(p_true, EPS, 1.0 - EPS)), axis=1), single)
