r"""The mathematics behind :func:`~descentlab.widgets.models_app.models_lab`, no widgets.

* which models fit a task (:data:`MODELS`, :func:`models_for`) and the names of their
  parameters (:func:`param_names`, :func:`default_pair`);
* the values the parameters *not* on the sliders are held at (:func:`fitted_params`);
* a 2-D slice of the loss surface through the current point (:func:`slice_grid`; for a
  one-feature model with two parameters it is :func:`descentlab.engine.models.loss_grid`);
* the gradient check: analytic gradient vs central finite differences
  (:func:`gradient_check`, :func:`descentlab.engine.problems.numerical_grad`);
* what a fit looks like in data space (:func:`logit_margins`): the decision boundary of
  class :math:`k` is the zero contour of :math:`z_k - \max_{j \ne k} z_j`.
"""

from __future__ import annotations

import numpy as np

from descentlab.engine import data, models, problems

__all__ = ["MODELS", "LOSS_TEX", "CONVEXITY", "models_for", "make", "param_names",
           "default_pair", "fitted_params", "slider_range", "slice_grid", "gradient_check",
           "logit_margins", "FIT_STEPS"]

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

FIT_STEPS = 500


def models_for(task: str) -> tuple[str, ...]:
    """Model labels matched to a task: regression -> linear; binary -> logistic or softmax
    (K = 2); multiclass -> softmax."""
    if task == "binary":
        return tuple(k for k, t in MODELS.items() if t in ("binary", "multiclass"))
    return tuple(k for k, t in MODELS.items() if t == task)


def make(label: str, dataset: data.Dataset) -> models.Model:
    """The model named ``label`` for ``dataset`` (no L2 penalty)."""
    if label not in models_for(dataset.task):
        raise ValueError(f"model must be one of {list(models_for(dataset.task))} for a "
                         f"{dataset.task} data set; got {label!r}")
    kind = MODELS[label]
    if kind == "regression":
        return models.linear_regression()
    if kind == "binary":
        return models.logistic_regression()
    return models.softmax_regression(max(dataset.n_classes, 2))


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
    """The slider coordinates at build: the first weight and its bias (``w[x1]`` and ``b``;
    softmax: ``W[x1, 0]`` and ``b[0]``)."""
    K = model.n_classes if model.task == "multiclass" else 1
    return 0, n_features * K


def fitted_params(model: models.Model, X, y, steps: int = FIT_STEPS) -> np.ndarray:
    r"""A minimizer (or near one) of the training loss, ``(P,)``.

    Linear regression: the least-squares solution of :math:`[X\ 1]\theta \approx y`.
    Logistic / softmax: ``steps`` full-batch gradient-descent steps from zero with
    :math:`\eta = 1/L_s`, where :math:`L_s = c\,\lambda_{\max}(\tilde X^\top \tilde X / N)`
    (:math:`\tilde X = [X\ 1]`, :math:`c = 1/4` logistic, :math:`1/2` softmax) bounds the
    curvature, so every step decreases the loss.  On separable data the weights keep growing
    slowly; the result is then "far along the valley", not a minimum.
    """
    X = np.asarray(X, dtype=np.float64)
    Xt = np.concatenate([X, np.ones((X.shape[0], 1))], axis=1)
    if model.task == "regression":
        return np.linalg.lstsq(Xt, np.asarray(y, dtype=np.float64), rcond=None)[0]
    c = 0.25 if model.task == "binary" else 0.5
    smooth = c * float(np.linalg.eigvalsh(Xt.T @ Xt / X.shape[0])[-1])
    lr = 1.0 / max(smooth, 1e-12)
    theta = model.init_params(X.shape[1], model.n_classes if model.task == "multiclass" else 0)
    for _ in range(steps):
        theta = theta - lr * model.grad(theta, X, y)
    return theta[0]


def slider_range(center: float) -> tuple[float, float]:
    """A range for a slider (and the surface axis) that holds both 0 and ``center``:
    ``[min(c, 0) - pad, max(c, 0) + pad]`` with ``pad = max(1, |c| / 2)``."""
    c = float(center)
    pad = max(1.0, 0.5 * abs(c))
    return min(c, 0.0) - pad, max(c, 0.0) + pad


def slice_grid(model: models.Model, X, y, theta, pair, w_range, b_range, n: int = 60):
    r"""The loss on the plane through ``theta (P,)`` spanned by the coordinates ``pair = (i,
    j)``: ``ws``, ``bs`` and ``Z[a, c] = L(theta with theta_i = ws[c], theta_j = bs[a])``
    (rows follow the second coordinate, as :func:`~descentlab.engine.models.loss_grid`).
    A model with exactly two parameters :math:`(w, b)` on one feature IS that function."""
    theta = np.asarray(theta, dtype=np.float64)
    i, j = pair
    if theta.shape[0] == 2 and (i, j) == (0, 1):
        return models.loss_grid(model, X, y, w_range, b_range, n)
    ws = np.linspace(*w_range, n)
    bs = np.linspace(*b_range, n)
    Wg, Bg = np.meshgrid(ws, bs)
    P = np.repeat(theta[None], n * n, axis=0)
    P[:, i], P[:, j] = Wg.ravel(), Bg.ravel()
    return ws, bs, model.loss(P, X, y).reshape(n, n)


def gradient_check(model: models.Model, X, y, theta):
    r"""``(analytic (P,), numerical (P,), relative difference)`` at ``theta (P,)``.

    The numerical gradient is the central difference
    :math:`\frac{L(\theta + h e_d) - L(\theta - h e_d)}{2h}` of the model's loss
    (:func:`~descentlab.engine.problems.numerical_grad`); the relative difference is
    :math:`\lVert g_a - g_n \rVert / \max(\lVert g_a \rVert + \lVert g_n \rVert,
    10^{-12})` (about :math:`10^{-8}` or smaller when the analytic gradient is right).
    """
    theta = np.asarray(theta, dtype=np.float64)[None]
    ga = model.grad(theta, X, y)[0]
    gn = problems.numerical_grad(lambda P: model.loss(P, X, y), theta)[0]
    rel = float(np.linalg.norm(ga - gn) / max(np.linalg.norm(ga) + np.linalg.norm(gn),
                                               1e-12))
    return ga, gn, rel


def logit_margins(model: models.Model, theta, points) -> np.ndarray:
    r"""``(C, m)`` functions whose zero contours are the decision boundaries at ``points (m,
    F)``: the logit :math:`z` (logistic, ``C = 1``) or :math:`z_k - \max_{j\ne k} z_j` per
    class (softmax, ``C = K``)."""
    theta = np.asarray(theta, dtype=np.float64)
    points = np.asarray(points, dtype=np.float64)
    if model.task != "multiclass":
        return (points @ theta[:-1] + theta[-1])[None]
    K = model.n_classes
    Wb = theta.reshape(-1, K)
    Z = points @ Wb[:-1] + Wb[-1]                                 # (m, K)
    out = np.empty((K, Z.shape[0]))
    for k in range(K):                                            # K classes, not runs
        others = np.delete(Z, k, axis=1).max(axis=1)
        out[k] = Z[:, k] - others
    return out
