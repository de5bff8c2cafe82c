r"""Loss surfaces to optimize: the named 2-D test surfaces, your own function, a grid.

A :class:`Problem` evaluates every run at once: ``loss(params (R, D)) -> (R,)`` and
``grad(params (R, D)) -> (R, D)``.  The named surfaces (see :func:`names`) live in
:mod:`descentlab.engine.surfaces` and have analytic gradients; :func:`custom` wraps a
user's function and, without a gradient, differentiates it by central differences

.. math::

    \frac{\partial L}{\partial \theta_d} \approx
    \frac{L(\theta + h_d e_d) - L(\theta - h_d e_d)}{2 h_d}, \qquad
    h_d = \epsilon^{1/3} \max(1, |\theta_d|)

with all :math:`2 D R` perturbed points evaluated in one call.  :func:`grid` samples a
2-D surface for heat maps and contour plots in one vectorized call.

One named surface is a real model: :func:`tanh_net` is the loss of a one-hidden-layer
tanh network (:func:`descentlab.engine.models.mlp`) on the plane of its parameter space
through a fitted minimum and its hidden-unit-swapped twin (:func:`net_plane`).
"""

from __future__ import annotations

import functools
import inspect
import math
from typing import NamedTuple

import numpy as np

from . import surfaces
from .checks import check_int, check_params, hparam
from .surfaces import (
    Problem,
    ackley,
    beale,
    booth,
    bowl,
    goldstein_price,
    himmelblau,
    matyas,
    monkey_saddle,
    plateau,
    quadratic,
    rastrigin,
    rosenbrock,
    saddle,
    six_hump_camel,
    styblinski_tang,
    three_hump_camel,
)

__all__ = [
    "Problem",
    "names",
    "get",
    "custom",
    "grid",
    "numerical_grad",
    "stable_lr",
    "bounded_below",
    "NetPlane",
    "net_plane",
    "tanh_net",
    *surfaces.__all__[1:],
]

# Teaching order: convex quadratics, valleys, saddles and plateaus, many minima, a network.
_REGISTRY = {
    f.__name__: f
    for f in (bowl, quadratic, booth, matyas, rosenbrock, beale, saddle, monkey_saddle, plateau,
              himmelblau, six_hump_camel, three_hump_camel, rastrigin, ackley, styblinski_tang,
              goldstein_price)
}

FD_EPS = float(np.finfo(np.float64).eps) ** (1.0 / 3.0)  # ~6.1e-6, the central-difference optimum


def names() -> list[str]:
    """The names :func:`get` accepts, in teaching order (quadratics first)."""
    return list(_REGISTRY)


def get(name: str, **params) -> Problem:
    """Build the surface called ``name`` with its parameters, e.g.
    ``get("quadratic", condition=50, angle=30)``.

    ValueError for an unknown name (listing the valid ones), an unknown parameter
    (listing the surface's parameters) or a parameter out of range.
    """
    factory = _REGISTRY.get(name) if isinstance(name, str) else None
    if factory is None:
        raise ValueError(f"unknown problem {name!r}; valid names are: {', '.join(_REGISTRY)}")
    allowed = list(inspect.signature(factory).parameters)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        has = f"parameters {', '.join(allowed)}" if allowed else "no parameters"
        raise ValueError(f"problem {name!r} has {has}; got unknown {', '.join(unknown)}")
    return factory(**params)


# ---------------------------------------------------------------------------- a network

NET_HIDDEN = 2
"""H, the hidden tanh units of :func:`net_plane`'s network (one input, one output)."""
NET_ROWS = 24
"""N, the rows of its data set."""
NET_CURVE = (2.0, 1.5, -1.5, 1.5, 1.0, -1.0, 0.0)
r"""The curve the data follow, as a network ``[W1, b1, w2, b2]``:
:math:`g(x) = \tanh(2x - 1.5) - \tanh(1.5x + 1.5)`; Newton's method starts there."""
NET_NOISE = 0.15
"""The standard deviation of the data's noise around the curve."""


class NetPlane(NamedTuple):
    r""":func:`net_plane`: the network ``model`` (:func:`.models.mlp`), its data ``X (N, 1)``
    and ``y (N,)``, the fitted minimum ``theta`` :math:`\theta^\star` ``(P,)`` and the plane
    :math:`\theta(a, b) = c + a\,d_1 + b\,d_2` (``center``, ``d1``, ``d2``, each ``(P,)``)."""

    model: object
    X: np.ndarray
    y: np.ndarray
    theta: np.ndarray
    center: np.ndarray
    d1: np.ndarray
    d2: np.ndarray


def _newton_minimum(model, X, y, theta, tol: float = 1e-12, max_iter: int = 50):
    r"""A stationary point of ``model``'s loss near ``theta`` by Newton's method,
    :math:`\theta \leftarrow \theta - H^{-1}\nabla L`, the Hessian :math:`H` by central
    differences of the analytic gradient (the :math:`2P` gradients in one call,
    symmetrized).  Stops at :math:`\lVert\nabla L\rVert \le` ``tol``."""
    P = theta.size
    E = 1e-5 * np.eye(P)
    for _ in range(max_iter):
        g = model.grad(theta[None], X, y)[0]
        if np.linalg.norm(g) <= tol:
            return theta
        G = model.grad(np.concatenate([theta + E, theta - E]), X, y)
        H = (G[:P] - G[P:]) / 2e-5
        theta = theta - np.linalg.solve(0.5 * (H + H.T), g)
    raise ValueError(f"net_plane: Newton's method did not reach |grad L| <= {tol:g} in "
                     f"{max_iter} steps")  # pragma: no cover - fixed data, tested to converge


@functools.cache
def net_plane() -> NetPlane:
    r"""The data, the fitted network and the plane of :func:`tanh_net` (computed once).

    Data: ``N = 24`` inputs :math:`x_n \sim \mathcal U(-3, 3)` (sorted) and
    :math:`y_n = \tanh(2x_n - 1.5) - \tanh(1.5x_n + 1.5) + 0.15\,\varepsilon_n`,
    :math:`\varepsilon_n \sim \mathcal N(0, 1)`, from ``default_rng(0)``.  Model:
    :func:`.models.mlp` with :math:`H = 2` tanh units and MSE, :math:`P = 7`
    (``[W1, b1, w2, b2]``).  :math:`\theta^\star`: Newton's method from the curve's own
    parameters :data:`NET_CURVE` to :math:`\lVert\nabla L\rVert \le 10^{-12}`, a strict
    local minimum (positive definite Hessian).  Plane: :func:`.models.swap_plane` of
    :math:`\theta^\star` (units 0 and 1): :math:`c = (\theta^\star + \pi\theta^\star)/2`,
    :math:`d_1 = (\theta^\star - \pi\theta^\star)/2`, :math:`d_2 = e_{b_2}`, so
    :math:`\theta(1, 0) = \theta^\star` and :math:`\theta(-1, 0) = \pi\theta^\star`.
    The arrays are read-only.
    """
    from . import models  # here, not at the top: models -> fitting -> problems

    model = models.mlp(NET_HIDDEN)
    rng = np.random.default_rng(0)
    X = np.sort(rng.uniform(-3.0, 3.0, NET_ROWS))[:, None]
    curve = np.array(NET_CURVE)
    y = model.predict(curve[None], X)[0] + NET_NOISE * rng.standard_normal(NET_ROWS)
    theta = _newton_minimum(model, X, y, curve)
    center, d1, d2 = models.swap_plane(model, theta)
    arrays = [X, y, theta, center, d1, d2]
    for a in arrays:
        a.flags.writeable = False
    return NetPlane(model, *arrays)


def tanh_net() -> Problem:
    r"""A real network's loss on a plane of its parameter space: two minima and a saddle.

    .. math::

        L(a, b) = \frac1N \sum_{n=1}^{N} \bigl(w_2^\top \tanh(W_1 x_n + b_1) + b_2
        - y_n\bigr)^2 \quad\text{at}\quad \theta(a, b) = c + a\,d_1 + b\,d_2,

    the MSE of the one-hidden-layer tanh network of :func:`net_plane` (:math:`H = 2`,
    :math:`P = 7`).  :math:`a = 1` is the fitted minimum :math:`\theta^\star`,
    :math:`a = -1` its twin :math:`\pi\theta^\star` with the two hidden units swapped (the
    same function, the same loss), :math:`a = 0` the midpoint where the two units are
    equal; :math:`b` shifts the output bias :math:`b_2`.  Both ``minima`` :math:`(\pm 1,
    0)` have the loss ``f_min``, and :math:`L(a, b) = L(-a, b)`.  A convex loss would have
    :math:`L(0, 0) \le` ``f_min``; here the midpoint is far higher, and the lowest point
    of the ridge :math:`a = 0` is a saddle (curvature :math:`< 0` along :math:`a`,
    :math:`2` along :math:`b`).

    The gradient is the network's backpropagated gradient :math:`\nabla L(\theta)`
    (:func:`.models.mlp`, equal to torch's) projected on the plane,
    :math:`\partial L/\partial a = d_1^\top \nabla L(\theta)` and
    :math:`\partial L/\partial b = d_2^\top \nabla L(\theta)` (the chain rule: exact, not a
    projection of a path in the full space).  One call evaluates every run.
    """
    net = net_plane()
    model, X, y, c, d1, d2 = net.model, net.X, net.y, net.center, net.d1, net.d2

    def thetas(params):
        p = check_params(params)
        if p.shape[1] != 2:
            raise ValueError(f"params must have shape (R, 2) for a 2-D surface, got shape "
                             f"{p.shape}")
        return c + p[:, :1] * d1 + p[:, 1:] * d2

    def loss(params):
        return model.loss(thetas(params), X, y)

    def both(params):
        value, g = model.loss_and_grad(thetas(params), X, y)
        out = np.empty((g.shape[0], 2))
        out[:, 0] = g @ d1
        out[:, 1] = g @ d2
        return value, out

    def grad(params):
        return both(params)[1]

    minima = np.array([[-1.0, 0.0], [1.0, 0.0]])
    f_min = float(loss(minima).min())
    minima.flags.writeable = False
    start = np.array([-2.1, -1.0])
    start.flags.writeable = False
    latex = (r"L(a, b) = \frac{1}{N}\sum_{n}\bigl(w_2^\top \tanh(W_1 x_n + b_1) + b_2 - y_n"
             r"\bigr)^2 \ \text{ at } \ \theta = c + a\,d_1 + b\,d_2")
    return Problem("tanh_net", loss, grad, ((-2.5, 2.5), (-1.5, 1.5)), start, minima, {},
                   None, True, latex, f_min, None, both, True)


_REGISTRY[tanh_net.__name__] = tanh_net  # last in teaching order: a real model


# ---------------------------------------------------------------------------- custom

def numerical_grad(loss, params, eps: float = FD_EPS) -> np.ndarray:
    r"""Central-difference gradient of a vectorized ``loss`` at ``params (R, D)``.

    Step :math:`h_{rd} = \epsilon\,\max(1, |\theta_{rd}|)` per run and coordinate
    (default :math:`\epsilon = \epsilon_{\text{mach}}^{1/3}`); the :math:`2 D R`
    points :math:`\theta_r \pm h_{rd} e_d` go to ``loss`` as one ``(2 D R, D)`` array.
    Error :math:`O(h^2)` for smooth losses.
    """
    x = check_params(params)
    if eps != FD_EPS:
        eps = hparam(eps, "eps", 0.0, 1.0, lo_open=True)
    R, D = x.shape
    h = eps * np.maximum(1.0, np.abs(x))                     # (R, D)
    eye = np.eye(D)[:, None, :]                              # (D, 1, D): e_d
    step = eye * h.T[:, :, None]                             # (D, R, D): h_rd e_d
    plus, minus = x[None] + step, x[None] - step             # (D, R, D)
    # The step actually taken, after rounding of theta +- h.
    width = (plus - minus)[np.arange(D), :, np.arange(D)]    # (D, R)
    f = _call(loss, np.concatenate([plus, minus]).reshape(2 * D * R, D), "loss")
    f = f.reshape(2, D, R)
    return ((f[0] - f[1]) / width).T


def _call(fn, params, what):
    out = np.asarray(fn(params), dtype=np.float64)
    R = params.shape[0]
    if out.shape != (R,):
        raise ValueError(f"{what} must return shape (R,) = ({R},) for params of shape "
                         f"{params.shape} (one loss per row), got shape {out.shape}")
    return out


def _check_domain(domain):
    try:
        (x0, x1), (y0, y1) = domain
        vals = [float(v) for v in (x0, x1, y0, y1)]
    except (TypeError, ValueError):
        raise ValueError(f"domain must be ((xmin, xmax), (ymin, ymax)), got {domain!r}") from None
    x0, x1, y0, y1 = vals
    if not all(math.isfinite(v) for v in vals) or not (x0 < x1 and y0 < y1):
        raise ValueError(f"domain must be finite with xmin < xmax and ymin < ymax, "
                         f"got {domain!r}")
    return (x0, x1), (y0, y1)


def custom(loss, grad=None, *, name: str = "custom", domain=((-3.0, 3.0), (-3.0, 3.0)),
           start=None, minima=(), curvature=None, log_scale: bool = False,
           latex: str = "", bounded_below: bool | None = None) -> Problem:
    r"""A Problem from your own ``loss(params (R, D)) -> (R,)``, vectorized over rows.

    ``grad(params) -> (R, D)`` is optional; without it the gradient is
    :func:`numerical_grad` (central differences, one batched ``loss`` call).
    ``start`` defaults to a point in the upper-left of ``domain`` (D = 2); give a
    ``(D,)`` start for other dimensions.  Every call checks that ``loss`` returns shape
    ``(R,)`` (and ``grad`` shape ``(R, D)``); ValueError names what is wrong.
    ``bounded_below`` defaults to True when ``minima`` are given (their loss is the
    minimum), else None (unknown).
    """
    if not callable(loss):
        raise ValueError(f"loss must be a function params (R, D) -> (R,), got {loss!r}")
    if grad is not None and not callable(grad):
        raise ValueError(f"grad must be a function params (R, D) -> (R, D) or None, got {grad!r}")
    dom = _check_domain(domain)
    if start is None:
        (x0, x1), (y0, y1) = dom
        start = (x0 + 0.2 * (x1 - x0), y0 + 0.8 * (y1 - y0))
    start = np.array(start, dtype=np.float64)
    if start.ndim != 1 or start.size < 1 or not np.all(np.isfinite(start)):
        raise ValueError(f"start must be a finite (D,) array with D >= 1, got {start!r}")
    D = start.size
    minima = np.array(minima, dtype=np.float64).reshape(-1, D) if np.size(minima) else \
        np.zeros((0, D))
    if not np.all(np.isfinite(minima)):
        raise ValueError("minima must be finite")
    if curvature is not None:
        curvature = float(curvature)
        if not (math.isfinite(curvature) and curvature > 0):
            raise ValueError(f"curvature must be in (0, inf) or None; got {curvature}")
    user_loss, user_grad = loss, grad

    def loss_fn(params):
        return _call(user_loss, check_params(params), "loss")

    if user_grad is None:
        def grad_fn(params):
            return numerical_grad(user_loss, params)
    else:
        def grad_fn(params):
            p = check_params(params)
            g = np.asarray(user_grad(p), dtype=np.float64)
            if g.shape != p.shape:
                raise ValueError(f"grad must return shape (R, D) = {p.shape}, got {g.shape}")
            return g

    loss_fn(start[None])  # fail now, not in the middle of a run
    grad_fn(start[None])
    start.flags.writeable = False
    minima.flags.writeable = False
    f_min = float(loss_fn(minima)[0]) if len(minima) else None
    if bounded_below is None and f_min is not None:
        bounded_below = True
    return Problem(str(name), loss_fn, grad_fn, dom, start, minima, {}, curvature,
                   bool(log_scale), str(latex), f_min, None, None,
                   None if bounded_below is None else bool(bounded_below))


# ---------------------------------------------------------------------------- facts

def stable_lr(problem: Problem, momentum=0.0) -> float | None:
    r"""The largest stable learning rate on a surface of constant curvature, else None.

    On a quadratic with largest Hessian eigenvalue :math:`L` (``problem.curvature``),
    gradient descent converges iff :math:`\eta < 2/L`, and heavy-ball momentum
    :math:`\mu \in [0, 1)` (torch's SGD with ``momentum``) iff
    :math:`\eta < 2(1 + \mu)/L`.  Returns :math:`2(1+\mu)/L` (:math:`2/L` for
    :math:`\mu = 0`); None when the curvature is not known or not constant.  (On a surface
    unbounded below, see :func:`bounded_below`, the bound only concerns the directions of
    positive curvature.)
    """
    if np.ndim(momentum) != 0:
        raise ValueError("momentum must be a single number in [0, 1)")
    mu = hparam(momentum, "momentum", 0.0, 1.0, hi_open=True)
    L = problem.curvature
    return None if not L else 2.0 * (1.0 + float(mu)) / float(L)


def bounded_below(problem: Problem) -> bool | None:
    r"""Whether :math:`\inf_\theta L(\theta) > -\infty`: False for the saddles (a run can
    fall forever, ending as a ``"loss_below"`` divergence), True where the minimum value is
    known, None when unknown."""
    if problem.bounded_below is not None:
        return bool(problem.bounded_below)
    return True if problem.f_min is not None else None


# ---------------------------------------------------------------------------- grid

def grid(problem: Problem, n: int = 200, domain=None):
    """Sample a 2-D surface on an ``n x n`` grid for heat maps and contours.

    Returns ``xs (n,)``, ``ys (n,)`` (evenly spaced over ``domain``, default the
    problem's) and ``Z (n, n)`` with ``Z[i, j] = loss((xs[j], ys[i]))``: rows follow y,
    columns follow x.  One vectorized ``loss`` call on ``n**2`` points.
    """
    n = check_int(n, "n", 2, 4000)
    if problem.dim != 2:
        raise ValueError(f"grid needs a 2-D problem, {problem.name!r} has D = {problem.dim}")
    (x0, x1), (y0, y1) = _check_domain(problem.domain if domain is None else domain)
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    pts = np.empty((n, n, 2))
    pts[:, :, 0] = xs[None, :]
    pts[:, :, 1] = ys[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        Z = np.asarray(problem.loss(pts.reshape(n * n, 2)), dtype=np.float64).reshape(n, n)
    return xs, ys, Z
