r"""Models for training on data: linear, logistic and softmax regression and a one-hidden-layer
MLP, vectorized over runs.

Every function takes parameters ``theta`` of shape ``(R, P)``: R runs, P coordinates.  Data
comes either as one batch shared by all runs, ``X (N, F)`` and ``y (N,)``, or as one batch
per run, ``X (R, B, F)`` and ``y (R, B)`` (mini-batch SGD with a different batch per run).

Parameter layout
----------------
* linear and logistic regression: :math:`\theta = [w_1, \dots, w_F, b]` (bias LAST),
  ``P = F + 1``.
* softmax regression with K classes: ``P = (F + 1) * K``; ``theta`` reshaped row-major to
  ``(F + 1, K)`` is :math:`[W; b]`: rows ``0..F-1`` are the weights ``W (F, K)`` and the last
  row is the biases ``b (K,)``.
* MLP with H tanh hidden units (:func:`mlp`): ``P = H (F + 2) + 1``,
  :math:`\theta = [W_1, b_1, w_2, b_2]` with ``W1 = theta[:F*H].reshape(F, H)`` (row-major:
  feature f, unit h at ``f*H + h``), ``b1 = theta[F*H : F*H+H]``, ``w2 = theta[F*H+H :
  F*H+2H]`` and the output bias ``b2 = theta[-1]``.

Losses are means over the rows of the batch plus an optional L2 penalty on the weights
(never the bias):

.. math:: L(\theta) = \frac{1}{N} \sum_{n} \ell(f(x_n; \theta), y_n)
          + \frac{\lambda}{2} \lVert w \rVert^2

``loss`` returns ``(R,)``; ``grad`` returns ``(R, P)``, the exact gradient of ``loss``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .checks import as_columns, check_int, check_params, check_range, hparam

__all__ = [
    "Model",
    "linear_regression",
    "logistic_regression",
    "softmax_regression",
    "for_task",
    "mlp",
    "swap_plane",
    "loss_grid",
    "logits",
    "probabilities",
    "fit",
    "loss_slice",
    "LossSlice",
    "gradient_check",
    "GradientCheck",
    "loss_plane",
    "sigmoid",
    "softmax",
]


class Model(NamedTuple):
    r"""A differentiable model: pure functions of ``params (R, P)`` and a batch ``(X, y)``.

    ``n_params(n_features, n_classes=0) -> P``; ``predict(params, X)`` (regression: values
    ``(R, N)``; binary: P(y=1) ``(R, N)``; multiclass: probabilities ``(R, N, K)``);
    ``loss(params, X, y) -> (R,)``; ``grad(params, X, y) -> (R, P)``;
    ``init_params(n_features, n_classes=0, runs=1) -> zeros (R, P)``; ``l2`` the penalty
    strength :math:`\lambda`; ``loss_and_grad(params, X, y) -> ((R,), (R, P))`` computes both
    in one pass; ``n_classes`` is 0 for regression, 2 for binary, K for multiclass;
    ``logits(params, X)`` the scores before the link (binary ``(R, N)``, multiclass
    ``(R, N, K)``; None for regression).
    """

    name: str
    task: str
    n_params: Callable[..., int]
    predict: Callable[[np.ndarray, np.ndarray], np.ndarray]
    loss: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    init_params: Callable[..., np.ndarray]
    l2: float = 0.0
    loss_and_grad: Callable | None = None
    n_classes: int = 0
    logits: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    hidden: int = 0


# ---------------------------------------------------------------------------- helpers


def sigmoid(z):
    r""":math:`\sigma(z) = 1 / (1 + e^{-z}) = e^{-\mathrm{softplus}(-z)}`, finite for any z."""
    return np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=np.float64)))


def softmax(z, axis: int = -1):
    r""":math:`\mathrm{softmax}(z)_k = e^{z_k - \max z} / \sum_j e^{z_j - \max z}`."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _check_X(X, R: int, F: int) -> np.ndarray:
    """X is ``(N, F)`` shared by all runs or ``(R, B, F)`` one batch per run."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1 and F == 1:
        X = X[:, None]
    ok = (X.ndim == 2 and X.shape[1] == F) or (X.ndim == 3 and X.shape[0] == R
                                                and X.shape[2] == F)
    if not ok:
        raise ValueError(f"X must have shape (N, {F}) shared by all runs or ({R}, B, {F}) "
                         f"one batch per run (params have {R} runs and {F} features); "
                         f"got shape {X.shape}")
    if X.shape[-2] < 1:
        raise ValueError("X must have at least one row")
    return X


def _check_y(y, X: np.ndarray, R: int) -> np.ndarray:
    y = np.asarray(y)
    want = X.shape[:1] if X.ndim == 2 else X.shape[:2]
    if y.shape != want:
        raise ValueError(f"y must have shape {want} to match X of shape {X.shape}; "
                         f"got shape {y.shape}")
    return y


def _labels(y, K: int) -> np.ndarray:
    """Integer class labels in ``0..K-1`` (floats with integral values are accepted)."""
    y = np.asarray(y)
    if y.dtype.kind in "iu" and y.size and y.min() >= 0 and y.max() < K:
        return y.astype(np.int64, copy=False)  # integer labels in range: nothing else to check
    yi = y.astype(np.int64)
    if np.any(yi != y) or np.any(yi < 0) or np.any(yi >= K):
        bad = y.ravel()[((yi != y) | (yi < 0) | (yi >= K)).ravel()][0]
        raise ValueError(f"y must hold class labels in 0..{K - 1}; got {bad!r}")
    return yi


def _features_of(params: np.ndarray, per_class: int) -> int:
    P = params.shape[1]
    if P % per_class or P // per_class < 2:
        raise ValueError(f"params must have (F + 1) * {per_class} columns with F >= 1 "
                         f"features; got {P}")
    return P // per_class - 1


def _checked(params, X) -> tuple[np.ndarray, np.ndarray]:
    """``params`` ``(R, F + 1)`` and ``X`` checked against them (one weight per feature)."""
    params = check_params(params)
    return params, _check_X(X, params.shape[0], params.shape[1] - 1)


def _subscripts(X: np.ndarray, shared: str, per_run: str) -> str:
    """The einsum subscripts for ``X`` shared by all runs ``(N, F)`` or per run ``(R, B, F)``."""
    return shared if X.ndim == 2 else per_run


def _linear_part(params: np.ndarray, X: np.ndarray) -> np.ndarray:
    r""":math:`z = X w + b`: ``(R, N)`` for shared X, ``(R, B)`` for per-run X."""
    w, b = params[:, :-1], params[:, -1:]
    return np.einsum(_subscripts(X, "nf,rf->rn", "rbf,rf->rb"), X, w) + b


def _back(params: np.ndarray, X: np.ndarray, dz: np.ndarray, l2: float) -> np.ndarray:
    r"""Gradient of :math:`\frac1N\sum_n \ell(z_n)` given :math:`dz = \partial \ell / \partial z`
    (already divided by N), plus :math:`\lambda w`; layout ``[w, b]``."""
    gw = np.einsum(_subscripts(X, "rn,nf->rf", "rb,rbf->rf"), dz, X) + l2 * params[:, :-1]
    return np.concatenate([gw, dz.sum(axis=1, keepdims=True)], axis=1)


def _penalty(l2) -> float:
    r"""The L2 penalty :math:`\lambda \ge 0`: one scalar for the whole model."""
    l2 = hparam(l2, "l2", 0.0)
    if not isinstance(l2, float):
        raise ValueError("l2 must be a scalar (one penalty for the model)")
    return l2


def _make(name, task, n_params, predict, loss_and_grad, l2, n_classes, logits=None) -> Model:
    def loss(params, X, y):
        return loss_and_grad(params, X, y, need_grad=False)[0]

    def grad(params, X, y):
        return loss_and_grad(params, X, y, need_grad=True)[1]

    def both(params, X, y):
        return loss_and_grad(params, X, y, need_grad=True)

    def init_params(n_features, n_classes=0, runs=1):
        R = check_int(runs, "runs", 1)
        return np.zeros((R, n_params(n_features, n_classes)))

    return Model(name, task, n_params, predict, loss, grad, init_params, l2, both, n_classes,
                 logits)


def _n_params_regression(n_features, n_classes=0):
    F = check_int(n_features, "n_features", 1)
    if n_classes != 0:
        raise ValueError(f"n_classes must be 0 for regression; got {n_classes}")
    return F + 1


def _n_params_binary(n_features, n_classes=0):
    F = check_int(n_features, "n_features", 1)
    if n_classes not in (0, 2):
        raise ValueError(f"n_classes must be 0 or 2 for this model; got {n_classes}")
    return F + 1


# ---------------------------------------------------------------------------- models


def linear_regression(l2: float = 0.0) -> Model:
    r"""Linear regression with mean squared error.

    .. math:: \hat y = X w + b, \qquad
              L = \frac{1}{N}\sum_n (\hat y_n - y_n)^2 + \frac{\lambda}{2}\lVert w\rVert^2,
    .. math:: \nabla_w L = \frac{2}{N} X^\top(\hat y - y) + \lambda w, \qquad
              \nabla_b L = \frac{2}{N}\sum_n(\hat y_n - y_n)

    The data term equals ``torch.nn.MSELoss()`` and ``sklearn.metrics.mean_squared_error``
    (no factor 1/2).  ``predict`` returns :math:`\hat y` ``(R, N)``.
    """
    l2 = _penalty(l2)

    def predict(params, X):
        return _linear_part(*_checked(params, X))

    def loss_and_grad(params, X, y, need_grad):
        params, X = _checked(params, X)
        y = _check_y(y, X, params.shape[0]).astype(np.float64)
        r = _linear_part(params, X) - y
        w = params[:, :-1]
        loss = np.mean(r * r, axis=1) + 0.5 * l2 * np.sum(w * w, axis=1)
        if not need_grad:
            return loss, None
        return loss, _back(params, X, (2.0 / r.shape[1]) * r, l2)

    return _make("linear_regression", "regression", _n_params_regression, predict,
                 loss_and_grad, l2, 0)


def logistic_regression(l2: float = 0.0) -> Model:
    r"""Binary logistic regression with the cross-entropy of the logits (log-loss).

    .. math:: z = X w + b, \qquad p = \sigma(z), \qquad
              L = \frac{1}{N}\sum_n \big(\mathrm{softplus}(z_n) - y_n z_n\big)
                  + \frac{\lambda}{2}\lVert w\rVert^2
    .. math:: \nabla_w L = \frac{1}{N} X^\top(\sigma(z) - y) + \lambda w, \qquad
              \nabla_b L = \frac{1}{N}\sum_n(\sigma(z_n) - y_n)

    with :math:`\mathrm{softplus}(z) = \log(1 + e^z)` computed as ``logaddexp(0, z)``, so the
    loss is finite and exact at :math:`|z| = 10^4`.  The data term equals
    ``torch.nn.BCEWithLogitsLoss()`` and ``sklearn.metrics.log_loss`` of ``p`` (away from
    probabilities within machine epsilon of 0 or 1, where sklearn clips).  Labels ``y`` are 0
    or 1.  ``predict`` returns :math:`p = P(y = 1 \mid x)` ``(R, N)``.
    """
    l2 = _penalty(l2)

    def logits(params, X):
        return _linear_part(*_checked(params, X))

    def predict(params, X):
        return sigmoid(logits(params, X))

    def loss_and_grad(params, X, y, need_grad):
        params, X = _checked(params, X)
        y = _labels(_check_y(y, X, params.shape[0]), 2).astype(np.float64)
        z = _linear_part(params, X)
        w = params[:, :-1]
        loss = np.mean(np.logaddexp(0.0, z) - y * z, axis=1) + 0.5 * l2 * np.sum(w * w, axis=1)
        if not need_grad:
            return loss, None
        return loss, _back(params, X, (sigmoid(z) - y) / z.shape[1], l2)

    return _make("logistic_regression", "binary", _n_params_binary, predict, loss_and_grad,
                 l2, 2, logits)


def softmax_regression(n_classes: int, l2: float = 0.0) -> Model:
    r"""Multinomial (softmax) regression with the cross-entropy of the logits.

    .. math:: Z = X W + b \in \mathbb{R}^{N \times K}, \qquad
              L = \frac{1}{N}\sum_n \Big(\log\sum_k e^{Z_{nk}} - Z_{n y_n}\Big)
                  + \frac{\lambda}{2}\lVert W\rVert_F^2
    .. math:: \nabla_W L = \frac{1}{N} X^\top(\mathrm{softmax}(Z) - Y) + \lambda W, \qquad
              \nabla_b L = \frac{1}{N}\sum_n(\mathrm{softmax}(Z_n) - Y_n)

    with ``Y`` the one-hot labels and log-sum-exp shifted by the row maximum.  The data term
    equals ``torch.nn.CrossEntropyLoss()`` and ``sklearn.metrics.log_loss``.  Labels ``y`` are
    integers ``0..K-1``.  Layout: ``theta.reshape(F + 1, K)`` row-major, last row the biases.
    ``predict`` returns probabilities ``(R, N, K)``.
    """
    K = check_int(n_classes, "n_classes", 2)
    l2 = _penalty(l2)

    def n_params(n_features, n_classes=0):
        F = check_int(n_features, "n_features", 1)
        if n_classes not in (0, K):
            raise ValueError(f"n_classes must be {K} (or 0) for this model; got {n_classes}")
        return (F + 1) * K

    def parts(params, X):
        params = check_params(params)
        R = params.shape[0]
        F = _features_of(params, K)
        X = _check_X(X, R, F)
        theta = params.reshape(R, F + 1, K)
        W, b = theta[:, :F, :], theta[:, F, :]
        Z = np.einsum(_subscripts(X, "nf,rfk->rnk", "rbf,rfk->rbk"), X, W)
        return params, X, W, Z + b[:, None, :]

    def logits(params, X):
        return parts(params, X)[3]

    def predict(params, X):
        return softmax(logits(params, X))

    def loss_and_grad(params, X, y, need_grad):
        params, X, W, Z = parts(params, X)
        R, N = Z.shape[:2]
        y = _labels(_check_y(y, X, R), K)
        Y = np.broadcast_to(y, (R, N))
        zmax = Z.max(axis=2, keepdims=True)
        lse = np.log(np.exp(Z - zmax).sum(axis=2)) + zmax[..., 0]
        z_true = np.take_along_axis(Z, Y[..., None], axis=2)[..., 0]
        loss = np.mean(lse - z_true, axis=1) + 0.5 * l2 * np.sum(W * W, axis=(1, 2))
        if not need_grad:
            return loss, None
        G = np.exp(Z - lse[..., None])
        np.put_along_axis(G, Y[..., None], np.take_along_axis(G, Y[..., None], 2) - 1.0, 2)
        G /= N
        gW = np.einsum(_subscripts(X, "nf,rnk->rfk", "rbf,rbk->rfk"), X, G) + l2 * W
        grad = np.concatenate([gW, G.sum(axis=1)[:, None, :]], axis=1)
        return loss, grad.reshape(R, -1)

    return _make("softmax_regression", "multiclass", n_params, predict, loss_and_grad, l2, K,
                 logits)



def for_task(task: str, n_classes: int = 0, l2: float = 0.0) -> Model:
    """The convex model of a data set's task: linear regression (MSE) for
    ``"regression"``, logistic regression (log-loss) for ``"binary"``, softmax regression
    (cross-entropy over ``n_classes >= 2``) for ``"multiclass"``."""
    if task == "regression":
        return linear_regression(l2)
    if task == "binary":
        return logistic_regression(l2)
    if task == "multiclass":
        return softmax_regression(max(int(n_classes), 2), l2)
    raise ValueError(f"task must be one of regression, binary, multiclass; got {task!r}")

def mlp(hidden: int = 8, task: str = "regression", l2: float = 0.0) -> Model:
    r"""A one-hidden-layer perceptron with :math:`H` = ``hidden`` tanh units: not convex.

    .. math:: a = X W_1 + b_1, \qquad h = \tanh(a), \qquad z = h\, w_2 + b_2,

    with the loss of linear regression on :math:`z` (``task="regression"``: MSE) or of
    logistic regression on the logit :math:`z` (``task="binary"``), plus
    :math:`\frac{\lambda}{2}(\lVert W_1\rVert_F^2 + \lVert w_2\rVert^2)` (biases are
    not penalized).  Backpropagation, with :math:`\delta = \partial L/\partial z`
    (:math:`\frac{2}{N}(z - y)` or :math:`\frac1N(\sigma(z) - y)`):

    .. math:: \nabla_{w_2} = h^\top\delta + \lambda w_2, \quad \nabla_{b_2} = \textstyle
              \sum_n \delta_n, \quad \Delta = (\delta\, w_2^\top) \odot (1 - h^2), \quad
              \nabla_{W_1} = X^\top \Delta + \lambda W_1, \quad \nabla_{b_1} =
              \textstyle\sum_n \Delta_n

    Equals ``torch.nn.Sequential(Linear(F, H), Tanh(), Linear(H, 1))`` with ``MSELoss`` /
    ``BCEWithLogitsLoss`` (``Linear.weight`` is the transpose of :math:`W_1`, resp.
    :math:`w_2^\top`).  Layout in the module docstring.  ``init_params(n_features,
    n_classes=0, runs=1, seed=0)`` draws :math:`W_1 \sim \mathcal N(0, 1/F)`,
    :math:`w_2 \sim \mathcal N(0, 1/H)` and zero biases (at :math:`\theta = 0` every unit
    is the same and the gradient of :math:`W_1` vanishes: a saddle).
    """
    H = check_int(hidden, "hidden", 1, 4096)
    if task not in ("regression", "binary"):
        raise ValueError(f"task must be 'regression' or 'binary'; got {task!r}")
    l2 = _penalty(l2)
    binary = task == "binary"

    def n_params(n_features, n_classes=0):
        F = check_int(n_features, "n_features", 1)
        if n_classes not in ((0, 2) if binary else (0,)):
            raise ValueError(f"n_classes must be {'0 or 2' if binary else '0'} for this "
                             f"model; got {n_classes}")
        return H * (F + 2) + 1

    def forward(params, X):
        params = check_params(params)
        R, P = params.shape
        if (P - 1) % H or (P - 1) // H < 3:
            raise ValueError(f"params must have H (F + 2) + 1 columns with H = {H} and F >= 1; "
                             f"got {P}")
        F = (P - 1) // H - 2
        X = _check_X(X, R, F)
        W1 = params[:, :F * H].reshape(R, F, H)
        b1, w2 = params[:, F * H:F * H + H], params[:, F * H + H:F * H + 2 * H]
        A = np.einsum("nf,rfh->rnh", X, W1) if X.ndim == 2 else \
            np.einsum("rbf,rfh->rbh", X, W1)
        h = np.tanh(A + b1[:, None, :])
        return X, W1, w2, h, np.einsum("rnh,rh->rn", h, w2) + params[:, -1:]

    def logits(params, X):
        return forward(params, X)[4]

    def predict(params, X):
        z = logits(params, X)
        return sigmoid(z) if binary else z

    def loss_and_grad(params, X, y, need_grad):
        X, W1, w2, h, z = forward(params, X)
        R, N = z.shape
        y = _check_y(y, X, R)
        if binary:
            y = _labels(y, 2).astype(np.float64)
            data = np.mean(np.logaddexp(0.0, z) - y * z, axis=1)
        else:
            r = z - y.astype(np.float64)
            data = np.mean(r * r, axis=1)
        loss = data + 0.5 * l2 * (np.sum(W1 * W1, axis=(1, 2)) + np.sum(w2 * w2, axis=1))
        if not need_grad:
            return loss, None
        delta = (sigmoid(z) - y) / N if binary else (2.0 / N) * r
        g_w2 = np.einsum("rnh,rn->rh", h, delta) + l2 * w2
        D = delta[:, :, None] * w2[:, None, :] * (1.0 - h * h)
        g_W1 = (np.einsum("nf,rnh->rfh", X, D) if X.ndim == 2 else
                np.einsum("rbf,rbh->rfh", X, D)) + l2 * W1
        grad = np.concatenate([g_W1.reshape(R, -1), D.sum(axis=1), g_w2,
                               delta.sum(axis=1, keepdims=True)], axis=1)
        return loss, grad

    def init_params(n_features, n_classes=0, runs=1, seed=0):
        R = check_int(runs, "runs", 1)
        F = check_int(n_features, "n_features", 1)
        P = n_params(F, n_classes)
        rng = np.random.default_rng(seed)
        theta = np.zeros((R, P))
        theta[:, :F * H] = rng.normal(size=(R, F * H)) / np.sqrt(F)
        theta[:, F * H + H:F * H + 2 * H] = rng.normal(size=(R, H)) / np.sqrt(H)
        return theta

    model = _make(f"mlp{H}", task, n_params, predict, loss_and_grad, l2, 2 if binary else 0,
                  logits if binary else None)
    return model._replace(init_params=init_params, hidden=H)


def swap_plane(model: Model, theta, i: int = 0, j: int = 1):
    r"""``(center, d1, d2)`` of the plane through an MLP's ``theta (P,)`` and its copy
    :math:`\pi\theta` with hidden units ``i`` and ``j`` swapped (columns of :math:`W_1`,
    entries of :math:`b_1` and :math:`w_2`), which computes the same function:
    :math:`c = (\theta + \pi\theta)/2`, :math:`d_1 = (\theta - \pi\theta)/2` (so
    :math:`a = \pm 1, b = 0` are :math:`\theta` and :math:`\pi\theta`) and :math:`d_2 =
    e_{b_2}`, the output bias, which the swap leaves alone (:math:`d_1 \perp d_2`).

    With data made by ``theta`` itself (:math:`y = f(X; \theta)`, regression) both points
    have loss 0: :func:`loss_plane` over ``a in (-2, 2)``, ``b in (-1, 1)`` shows two
    separated global minima and, between them on the line :math:`b = 0`, the ridge where
    the two units coincide (:math:`a = 0`).  Any minimum of an MLP has such a twin.
    """
    H = model.hidden
    if H < 2:
        raise ValueError(f"swap_plane needs an MLP with at least 2 hidden units; {model.name} "
                         f"has {H}")
    theta = np.asarray(theta, dtype=np.float64)
    P = theta.shape[-1] if theta.ndim == 1 else -1
    if P < 0 or (P - 1) % H or (P - 1) // H < 3:
        raise ValueError(f"theta must be one MLP point (P,) with P = H (F + 2) + 1; got shape "
                         f"{theta.shape}")
    i, j = check_int(i, "i", 0, H - 1), check_int(j, "j", 0, H - 1)
    if i == j:
        raise ValueError("i and j must be two different hidden units")
    F = (P - 1) // H - 2
    perm = np.arange(H)
    perm[[i, j]] = perm[[j, i]]
    idx = np.r_[(np.arange(F)[:, None] * H + perm[None, :]).ravel(), F * H + perm,
                F * H + H + perm, P - 1]
    swapped = theta[idx]
    d2 = np.zeros(P)
    d2[-1] = 1.0
    return 0.5 * (theta + swapped), 0.5 * (theta - swapped), d2


# ---------------------------------------------------------------------------- scores


def logits(model: Model, params, X) -> np.ndarray:
    r"""The scores before the link: :math:`z = Xw + b` ``(R, N)`` for a binary model,
    :math:`Z = XW + b` ``(R, N, K)`` for softmax (for the MLP: its output layer).
    ValueError for a regression model (it has no link)."""
    if model.logits is None:
        raise ValueError(f"{model.name} is a {model.task} model: it has no logits")
    return model.logits(params, X)


def probabilities(model: Model, params, X) -> np.ndarray:
    r""":math:`P(y = 1 \mid x) = \sigma(z)` ``(R, N)`` for a binary model,
    :math:`\mathrm{softmax}(Z)` ``(R, N, K)`` for a multiclass one, from :func:`logits`."""
    z = logits(model, params, X)
    return softmax(z) if model.task == "multiclass" else sigmoid(z)


# ---------------------------------------------------------------------------- loss surface


def loss_grid(model: Model, X, y, w_range, b_range, n: int = 100):
    r"""The loss surface :math:`L(w, b)` of a one-feature model over an ``n x n`` grid.

    ``ws = linspace(*w_range, n)``, ``bs = linspace(*b_range, n)`` and
    ``Z[i, j] = L(w = ws[j], b = bs[i])`` (the ``meshgrid(ws, bs)`` convention: rows follow b,
    columns follow w, as contour plotters expect).  All ``n * n`` parameter pairs are one
    call of ``model.loss`` with ``n * n`` runs.  Pass the full data or one mini-batch.
    Returns ``(ws (n,), bs (n,), Z (n, n))``.
    """
    n = check_int(n, "n", 2, 1000)
    X = as_columns(X)
    if X.ndim != 2 or X.shape[1] != 1:
        raise ValueError(f"loss_grid needs one feature: X must have shape (N,) or (N, 1); "
                         f"got shape {X.shape}")
    P = model.n_params(1)
    if P != 2:
        raise ValueError(f"loss_grid needs a model with 2 parameters (w, b); "
                         f"{model.name} has {P}")
    ws = np.linspace(*check_range(w_range, "w_range"), n)
    bs = np.linspace(*check_range(b_range, "b_range"), n)
    W, B = np.meshgrid(ws, bs)
    Z = model.loss(np.stack([W.ravel(), B.ravel()], axis=1), X, y)
    return ws, bs, Z.reshape(n, n)


# the models lab's tools (fit, slices, gradient check) live in .fitting, re-exported here
from .fitting import (  # noqa: E402
    GradientCheck,
    LossSlice,
    fit,
    gradient_check,
    loss_plane,
    loss_slice,
)
