r"""What the models lab asks of a model besides training: its minimizer, slices of its loss
and a gradient check.  Re-exported by :mod:`.models` (``models.fit`` etc.).

* :func:`fit`: the minimizer :math:`\theta^\star` of the training loss: closed-form least
  squares for linear regression, Newton's method for logistic and softmax regression;
* :func:`loss_slice`: :math:`L` along one coordinate, the others held, with the gradient
  (the slope of the tangent) at the current point;
* :func:`loss_plane`: :math:`L` on the plane :math:`\theta = c + a\,d_1 + b\,d_2`;
* :func:`gradient_check`: the analytic gradient against central differences.

Each works on any :class:`.models.Model` through its public functions (``loss``,
``loss_and_grad``, ``predict``); parameters are one point ``(P,)`` unless said otherwise.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .checks import as_columns, check_int, check_range
from .problems import numerical_grad

__all__ = ["fit", "loss_slice", "LossSlice", "loss_plane", "gradient_check", "GradientCheck"]


def _point(params, P: int | None = None, name: str = "params") -> np.ndarray:
    theta = np.asarray(params, dtype=np.float64)
    if theta.ndim != 1 or (P is not None and theta.shape[0] != P) or not theta.size:
        want = f"({P},)" if P is not None else "(P,)"
        raise ValueError(f"{name} must be one point of shape {want}; got shape {theta.shape}")
    if not np.all(np.isfinite(theta)):
        raise ValueError(f"{name} must be finite")
    return theta


def _features(X) -> np.ndarray:
    X = as_columns(X)
    if X.ndim != 2 or X.shape[0] < 1:
        raise ValueError(f"X must have shape (N, F) with N >= 1; got shape {X.shape}")
    return X


# ---------------------------------------------------------------------------- fit


def fit(model, X, y, *, tol: float = 1e-10, max_iter: int = 100) -> np.ndarray:
    r"""The minimizer :math:`\theta^\star` ``(P,)`` of ``model``'s loss on ``(X, y)``, its
    own L2 penalty :math:`\lambda` included.

    Linear regression (:math:`\tilde X = [X\ 1]`, :math:`E = \mathrm{diag}(1, \dots, 1, 0)`:
    the bias is not penalized): the normal equations

    .. math:: \Big(\tfrac{2}{N}\tilde X^\top \tilde X + \lambda E\Big)\theta
              = \tfrac{2}{N}\tilde X^\top y

    (least squares by ``lstsq``, the minimum-norm solution, when :math:`\lambda = 0`).
    Logistic and softmax regression: Newton's method from :math:`\theta = 0`,
    :math:`\theta \leftarrow \theta - \alpha H^{+}\nabla L` with the exact Hessian
    (logistic :math:`\tilde X^\top \mathrm{diag}(p(1-p))\tilde X / N + \lambda E`; softmax
    :math:`\frac1N\sum_n (\mathrm{diag}(p_n) - p_n p_n^\top) \otimes \tilde x_n \tilde
    x_n^\top + \lambda E \otimes I_K`), :math:`H^{+}` the pseudo-inverse (softmax's loss is
    flat along adding one vector to every class), and :math:`\alpha` halved until the loss
    falls (Armijo).  It stops when :math:`\lVert\nabla L\rVert_2 \le` ``tol``; on
    separable data without L2 (no finite minimizer) that is a point far along the valley
    where the loss is nearly 0.  ValueError after ``max_iter`` steps, or for other models.
    """
    X = _features(X)
    N, F = X.shape
    Xt = np.concatenate([X, np.ones((N, 1))], axis=1)
    lam = float(model.l2)
    E = np.r_[np.ones(F), 0.0]
    if model.name == "linear_regression":
        y = np.asarray(y, dtype=np.float64)
        if lam == 0.0:
            return np.linalg.lstsq(Xt, y, rcond=None)[0]
        A = (2.0 / N) * Xt.T @ Xt + lam * np.diag(E)
        return np.linalg.solve(A, (2.0 / N) * Xt.T @ y)
    if model.name == "logistic_regression":
        K = 1

        def hessian(theta):
            p = model.predict(theta[None], X)[0]
            return (Xt.T * (p * (1.0 - p))) @ Xt / N + lam * np.diag(E)
    elif model.name == "softmax_regression":
        K = model.n_classes

        def hessian(theta):
            p = model.predict(theta[None], X)[0]                      # (N, K)
            A = np.einsum("nk,kl->nkl", p, np.eye(K)) - p[:, :, None] * p[:, None, :]
            H = np.einsum("nf,ng,nkl->fkgl", Xt, Xt, A) / N
            return H.reshape((F + 1) * K, (F + 1) * K) + lam * np.diag(np.repeat(E, K))
    else:
        raise ValueError(f"fit knows linear, logistic and softmax regression; {model.name} "
                         "has no closed form or convex Newton fit (train it instead)")
    return _newton(model, X, y, np.zeros((F + 1) * K), hessian, tol, max_iter)


def _newton(model, X, y, theta, hessian, tol, max_iter):
    max_iter = check_int(max_iter, "max_iter", 1)
    loss, grad = (a[0] for a in model.loss_and_grad(theta[None], X, y))
    for _ in range(max_iter):
        if np.linalg.norm(grad) <= tol:
            return theta
        step = np.linalg.lstsq(hessian(theta), grad, rcond=None)[0]
        slope = float(grad @ step)
        if not slope > 0:  # not a descent direction (numerically singular): gradient step
            step, slope = grad, float(grad @ grad)
        alpha = 1.0
        while True:
            new = theta - alpha * step
            new_loss, new_grad = (a[0] for a in model.loss_and_grad(new[None], X, y))
            if new_loss <= loss - 1e-4 * alpha * slope or alpha < 1e-12:
                break
            alpha *= 0.5
        theta, loss, grad = new, new_loss, new_grad
    if np.linalg.norm(grad) <= tol:
        return theta
    raise ValueError(f"fit did not reach |grad L| <= {tol:g} in {max_iter} Newton steps "
                     f"(|grad L| = {np.linalg.norm(grad):.3g}); raise max_iter or tol")


# ---------------------------------------------------------------------------- slices


class LossSlice(NamedTuple):
    """:func:`loss_slice`: ``loss[j]`` is :math:`L` with coordinate ``index`` set to
    ``values[j]``; ``loss_at`` and ``grad (P,)`` are the loss and gradient at the point, so
    the tangent is ``loss_at + slope * (values - params[index])``."""

    values: np.ndarray
    loss: np.ndarray
    loss_at: float
    grad: np.ndarray
    slope: float


def loss_slice(model, X, y, params, index: int, values) -> LossSlice:
    r"""The loss along coordinate ``index`` through ``params (P,)``, the others held:
    :math:`v \mapsto L(\theta + (v - \theta_i) e_i)` at every ``values[j]`` (one call with
    ``len(values)`` runs), with :math:`L(\theta)`, :math:`\nabla L(\theta)` and the slope
    :math:`\partial L / \partial \theta_i`."""
    P = model.n_params(_features(X).shape[1], model.n_classes
                       if model.task == "multiclass" else 0)
    theta = _point(params, P)
    i = check_int(index, "index", 0, P - 1)
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or not v.size or not np.all(np.isfinite(v)):
        raise ValueError(f"values must be a finite 1-D array; got shape {v.shape}")
    pts = np.repeat(theta[None], v.shape[0], axis=0)
    pts[:, i] = v
    loss_at, grad = (a[0] for a in model.loss_and_grad(theta[None], X, y))
    return LossSlice(v, model.loss(pts, X, y), float(loss_at), grad, float(grad[i]))


def loss_plane(model, X, y, center, d1, d2, a_range, b_range, n: int = 60):
    r"""The loss on a plane of parameter space, :math:`\theta(a, b) = c + a\,d_1 + b\,d_2`.

    ``center``, ``d1``, ``d2`` are ``(P,)``; ``as_ = linspace(*a_range, n)``, ``bs =
    linspace(*b_range, n)`` and ``Z[i, j] = L(c + as_[j] d_1 + bs[i] d_2)`` (rows follow b,
    as :func:`.models.loss_grid`); all :math:`n^2` points are one call of ``model.loss``.
    Returns ``(as_ (n,), bs (n,), Z (n, n))``.
    """
    n = check_int(n, "n", 2, 1000)
    c = _point(center, None, "center")
    d1, d2 = _point(d1, c.shape[0], "d1"), _point(d2, c.shape[0], "d2")
    a = np.linspace(*check_range(a_range, "a_range"), n)
    b = np.linspace(*check_range(b_range, "b_range"), n)
    A, B = np.meshgrid(a, b)
    pts = c + A.reshape(-1, 1) * d1 + B.reshape(-1, 1) * d2
    return a, b, model.loss(pts, X, y).reshape(n, n)


# ---------------------------------------------------------------------------- gradient check


class GradientCheck(NamedTuple):
    """:func:`gradient_check`: ``analytic`` and ``numerical`` gradients (the shape of
    ``params``) and their relative difference ``rel_error`` (a float, or ``(R,)``)."""

    analytic: np.ndarray
    numerical: np.ndarray
    rel_error: float | np.ndarray


def gradient_check(model, X, y, params) -> GradientCheck:
    r"""The model's gradient at ``params`` (``(P,)`` or ``(R, P)``) against central
    differences :math:`\frac{L(\theta + h_d e_d) - L(\theta - h_d e_d)}{2 h_d}`
    (:func:`.problems.numerical_grad`, :math:`h_d = \epsilon^{1/3}\max(1, |\theta_d|)`),
    and the relative error
    :math:`\lVert g_a - g_n\rVert / \max(\lVert g_a\rVert + \lVert g_n\rVert, 10^{-12})`
    (about :math:`10^{-9}` or smaller when the analytic gradient is right)."""
    theta = np.asarray(params, dtype=np.float64)
    single = theta.ndim == 1
    P = np.atleast_2d(theta)
    ga = model.grad(P, X, y)
    gn = numerical_grad(lambda Q: model.loss(Q, X, y), P)
    rel = np.linalg.norm(ga - gn, axis=1) / np.maximum(
        np.linalg.norm(ga, axis=1) + np.linalg.norm(gn, axis=1), 1e-12)
    if single:
        return GradientCheck(ga[0], gn[0], float(rel[0]))
    return GradientCheck(ga, gn, rel)
