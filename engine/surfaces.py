r"""Two-dimensional test surfaces :math:`L(x, y)` with analytic, vectorized gradients.

Each factory returns a :class:`Problem`: ``loss(params (R, 2)) -> (R,)`` and
``grad(params (R, 2)) -> (R, 2)`` evaluate all R runs at once (row ``r`` is the point
:math:`\theta_r = (x_r, y_r)`), together with a plotting ``domain``, a default
``start``, the known global minimizers ``minima`` and, for quadratics, the constant
largest curvature :math:`L_{\max} = \lambda_{\max}(\nabla^2 L)` that bounds stable
gradient descent, :math:`\eta < 2 / L_{\max}`.

Formulas and minimizers follow the standard optimization test-function tables
(Jamil & Yang 2013, "A literature survey of benchmark functions for global
optimization problems"; Surjanovic & Bingham, the Virtual Library of Simulation
Experiments).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .checks import hparam

__all__ = [
    "Problem",
    "bowl",
    "quadratic",
    "rosenbrock",
    "beale",
    "himmelblau",
    "rastrigin",
    "ackley",
    "saddle",
    "monkey_saddle",
    "six_hump_camel",
    "three_hump_camel",
    "plateau",
    "goldstein_price",
    "styblinski_tang",
    "booth",
    "matyas",
]

TAU = 2.0 * math.pi


class Problem(NamedTuple):
    r"""A loss surface: ``loss (R, D) -> (R,)`` and its gradient ``grad (R, D) -> (R, D)``.

    ``domain`` is ``((xmin, xmax), (ymin, ymax))`` for charts; ``start`` a default
    :math:`\theta_0` of shape ``(D,)``; ``minima`` the known global minimizers,
    ``(M, D)`` (``M = 0`` when the surface has none); ``params`` the construction
    parameters; ``curvature`` the largest Hessian eigenvalue :math:`L_{\max}` where it
    is the same everywhere (else ``None``); ``log_scale`` whether a heat map should
    use log color; ``latex`` the formula; ``f_min`` the loss at the minima (``None``
    when unbounded below); ``condition`` the Hessian's condition number
    :math:`\kappa = \lambda_{\max} / \lambda_{\min}` where it is constant and positive
    definite; ``loss_and_grad`` (``None`` for surfaces made elsewhere) returns
    ``(loss(params), grad(params))`` in one pass that shares their subexpressions, the
    same numbers bit for bit; ``bounded_below`` whether :math:`\inf L > -\infty` (``False``
    for the saddles, ``None`` when unknown).
    """

    name: str
    loss: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    domain: tuple[tuple[float, float], tuple[float, float]]
    start: np.ndarray
    minima: np.ndarray
    params: dict
    curvature: float | None = None
    log_scale: bool = False
    latex: str = ""
    f_min: float | None = None
    condition: float | None = None
    loss_and_grad: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None
    bounded_below: bool | None = None

    @property
    def dim(self) -> int:
        """D, the number of coordinates of :math:`\\theta`."""
        return int(self.start.shape[-1])

    @property
    def stable_lr(self) -> float | None:
        r"""The gradient-descent stability bound :math:`2 / L_{\max}` (``None`` if unknown)."""
        return None if not self.curvature else 2.0 / self.curvature


# ---------------------------------------------------------------------------- helpers

def _xy(params) -> tuple[np.ndarray, np.ndarray]:
    """The x and y columns of a float ``(R, 2)`` array; ValueError on any other shape."""
    p = np.asarray(params, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"params must have shape (R, 2) for a 2-D surface, got shape {p.shape}")
    if p.shape[0] > 64:  # contiguous columns are faster for big batches (grids)
        x, y = np.ascontiguousarray(p.T)
        return x, y
    return p[:, 0], p[:, 1]


def _pair(gx, gy) -> np.ndarray:
    """The ``(R, 2)`` gradient with columns ``gx`` and ``gy`` (``np.stack(..., axis=1)``,
    without its overhead: this runs once per step)."""
    out = np.empty((gx.shape[0], 2))
    out[:, 0] = gx
    out[:, 1] = gy
    return out


def _grad_of(both):
    """The gradient alone, from a surface's one-pass ``loss_and_grad``."""

    def grad(params):
        return both(params)[1]

    return grad


def _frozen(a, shape) -> np.ndarray:
    arr = np.array(a, dtype=np.float64).reshape(shape)
    arr.flags.writeable = False
    return arr


def _scalar(value, name, lo=None, hi=None, *, lo_open=False) -> float:
    """A finite Python float in range; ValueError naming ``name`` otherwise."""
    if np.ndim(value) != 0:
        raise ValueError(f"{name} must be a single number, got shape {np.shape(value)}")
    return hparam(value, name, lo, hi, lo_open=lo_open)


def _make(name, loss, both, domain, start, minima, params, *, curvature=None,
          log_scale=False, latex="", f_min=None, condition=None,
          bounded_below=None) -> Problem:
    """The Problem of a surface given its ``loss`` and its one-pass ``both``
    (``loss_and_grad``), whose second output is the gradient."""
    minima = _frozen(minima, (-1, 2))
    dom = tuple((float(lo), float(hi)) for lo, hi in domain)
    if bounded_below is None and f_min is not None:
        bounded_below = True  # a known global minimum value
    return Problem(name, loss, _grad_of(both), dom, _frozen(start, (2,)), minima, dict(params),
                   None if curvature is None else float(curvature), bool(log_scale), latex,
                   None if f_min is None else float(f_min),
                   None if condition is None else float(condition), both, bounded_below)


def _quadratic_form(name, A, domain, start, params, latex, log_scale=False) -> Problem:
    r""":math:`L = \tfrac12 \theta^\top A \theta` for a symmetric 2 x 2 ``A``."""
    A = _frozen(A, (2, 2))
    lam = np.linalg.eigvalsh(A)
    lmax = float(lam[-1])
    condition = float(lam[-1] / lam[0]) if lam[0] > 0 else None

    def loss(params):
        x, y = _xy(params)
        return 0.5 * (A[0, 0] * x * x + 2.0 * A[0, 1] * x * y + A[1, 1] * y * y)

    def both(params):
        x, y = _xy(params)
        ax, dy = A[0, 0] * x, A[1, 1] * y
        return 0.5 * (ax * x + 2.0 * A[0, 1] * x * y + dy * y), \
            _pair(ax + A[0, 1] * y, A[1, 0] * x + dy)

    minima = np.zeros((1, 2)) if lam[0] > 0 else np.zeros((0, 2))
    return _make(name, loss, both, domain, start, minima, params, curvature=lmax,
                 log_scale=log_scale, latex=latex, f_min=0.0 if lam[0] > 0 else None,
                 condition=condition, bounded_below=bool(lam[0] >= 0))


# ---------------------------------------------------------------------------- quadratics

def bowl() -> Problem:
    r"""The round bowl :math:`L = x^2 + y^2`: Hessian :math:`2I`, so
    :math:`L_{\max} = 2`, :math:`\kappa = 1` and gradient descent is stable for
    :math:`\eta < 1` (at :math:`\eta = 0.5` it lands on the minimum in one step)."""
    return _quadratic_form("bowl", [[2.0, 0.0], [0.0, 2.0]], ((-3, 3), (-3, 3)),
                           (-2.4, 1.8), {}, r"L(x, y) = x^2 + y^2")


def quadratic(condition=10.0, angle=0.0) -> Problem:
    r"""An ill-conditioned, rotated quadratic bowl.

    .. math::

        L(\theta) = \tfrac12\, \theta^\top A \theta, \qquad
        A = R_\varphi \begin{pmatrix} 1 & 0 \\ 0 & \kappa \end{pmatrix} R_\varphi^\top,
        \qquad R_\varphi = \begin{pmatrix} \cos\varphi & -\sin\varphi \\
        \sin\varphi & \cos\varphi \end{pmatrix}

    ``condition`` :math:`\kappa \ge 1` is the condition number; ``angle``
    :math:`\varphi` (degrees) rotates the axes: the flat direction (curvature 1) is
    :math:`(\cos\varphi, \sin\varphi)`, the steep one (curvature :math:`\kappa`)
    is perpendicular.  ``curvature`` is :math:`L_{\max} = \kappa`, so gradient descent
    needs :math:`\eta < 2/\kappa` and then shrinks the flat direction only by
    :math:`|1 - \eta|` per step.
    """
    kappa = _scalar(condition, "condition", 1.0, 1e12)
    phi_deg = _scalar(angle, "angle", -3600.0, 3600.0)
    phi = math.radians(phi_deg)
    Q = np.array([[math.cos(phi), -math.sin(phi)], [math.sin(phi), math.cos(phi)]])
    A = Q @ np.diag([1.0, kappa]) @ Q.T
    A = 0.5 * (A + A.T)
    latex = (r"L(\theta) = \tfrac12\,\theta^\top R_\varphi\,\mathrm{diag}(1, \kappa)\,"
             rf"R_\varphi^\top \theta, \quad \kappa = {kappa:g},\ \varphi = {phi_deg:g}^\circ")
    return _quadratic_form("quadratic", A, ((-3, 3), (-3, 3)), (-2.5, 2.0),
                           {"condition": kappa, "angle": phi_deg}, latex)


def booth() -> Problem:
    r"""Booth: :math:`L = (x + 2y - 7)^2 + (2x + y - 5)^2`, a quadratic with Hessian
    :math:`\begin{pmatrix} 10 & 8 \\ 8 & 10 \end{pmatrix}` (eigenvalues 18 and 2,
    :math:`\kappa = 9`); minimum :math:`L(1, 3) = 0`."""

    def loss(params):
        x, y = _xy(params)
        return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2

    def both(params):
        x, y = _xy(params)
        u, v = x + 2 * y - 7, 2 * x + y - 5
        return u ** 2 + v ** 2, _pair(2 * u + 4 * v, 4 * u + 2 * v)

    return _make("booth", loss, both, ((-10, 10), (-10, 10)), (-8.0, -6.0),
                 [[1.0, 3.0]], {}, curvature=18.0, condition=9.0, f_min=0.0,
                 latex=r"L(x, y) = (x + 2y - 7)^2 + (2x + y - 5)^2")


def matyas() -> Problem:
    r"""Matyas: :math:`L = 0.26\,(x^2 + y^2) - 0.48\,xy`, a flat quadratic valley along
    :math:`x = y` (Hessian eigenvalues 1 and 0.04, :math:`\kappa = 25`); minimum
    :math:`L(0, 0) = 0`."""

    def loss(params):
        x, y = _xy(params)
        return 0.26 * (x * x + y * y) - 0.48 * x * y

    def both(params):
        x, y = _xy(params)
        cx = 0.48 * x
        return 0.26 * (x * x + y * y) - cx * y, _pair(0.52 * x - 0.48 * y, 0.52 * y - cx)

    return _make("matyas", loss, both, ((-10, 10), (-10, 10)), (-8.0, -4.0),
                 [[0.0, 0.0]], {}, curvature=1.0, condition=25.0, f_min=0.0,
                 latex=r"L(x, y) = 0.26\,(x^2 + y^2) - 0.48\,xy")


def saddle() -> Problem:
    r"""The saddle :math:`L = x^2 - y^2`: a stationary point at the origin that is not a
    minimum (Hessian eigenvalues 2 and -2), unbounded below; no minima.  The default
    start lies just off the attracting axis :math:`y = 0`, so plain gradient descent
    creeps towards the saddle before escaping."""
    return _quadratic_form("saddle", [[2.0, 0.0], [0.0, -2.0]], ((-2, 2), (-2, 2)),
                           (-1.8, 0.01), {}, r"L(x, y) = x^2 - y^2")


# ---------------------------------------------------------------------------- valleys

def rosenbrock(a=1.0, b=100.0) -> Problem:
    r"""Rosenbrock's banana valley: :math:`L = (a - x)^2 + b\,(y - x^2)^2`.

    .. math::

        \nabla L = \begin{pmatrix} -2(a - x) - 4 b x (y - x^2) \\ 2 b (y - x^2)
        \end{pmatrix}, \qquad \arg\min L = (a, a^2), \quad L = 0
    """
    a = _scalar(a, "a", -1e3, 1e3)
    b = _scalar(b, "b", 0.0, 1e6, lo_open=True)

    def loss(params):
        x, y = _xy(params)
        return (a - x) ** 2 + b * (y - x * x) ** 2

    def both(params):
        x, y = _xy(params)
        d, r = a - x, y - x * x
        return d ** 2 + b * r ** 2, _pair(-2.0 * d - 4.0 * b * x * r, 2.0 * b * r)

    hx = max(2.0, abs(a) + 1.0)
    y_lo, y_hi = -1.0, max(3.0, a * a + 1.0)
    start = (-0.75 * hx, y_lo + 0.85 * (y_hi - y_lo))
    return _make("rosenbrock", loss, both, ((-hx, hx), (y_lo, y_hi)), start,
                 [[a, a * a]], {"a": a, "b": b}, log_scale=True, f_min=0.0,
                 latex=rf"L(x, y) = (a - x)^2 + b\,(y - x^2)^2, \quad a = {a:g},\ b = {b:g}")


def beale() -> Problem:
    r"""Beale: :math:`L = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2`;
    sharp ridges, flat arms; minimum :math:`L(3, 0.5) = 0`."""

    def parts(params):
        x, y = _xy(params)
        xy = x * y
        xy2 = xy * y
        return x, y, 1.5 - x + xy, (2.25 - x + xy2) ** 2, (2.625 - x + xy2 * y) ** 2

    def loss(params):
        _, _, t1, sq2, sq3 = parts(params)
        return t1 ** 2 + sq2 + sq3

    def both(params):
        x, y, t1, sq2, sq3 = parts(params)
        loss = t1 ** 2 + sq2 + sq3
        y2, y3 = y * y, y * y * y  # the gradient's terms round as x * y^k, not (x y) y
        t2, t3 = 2.25 - x + x * y2, 2.625 - x + x * y3
        gx = 2.0 * (t1 * (y - 1.0) + t2 * (y2 - 1.0) + t3 * (y3 - 1.0))
        gy = 2.0 * x * (t1 + 2.0 * t2 * y + 3.0 * t3 * y2)
        return loss, _pair(gx, gy)

    return _make("beale", loss, both, ((-4.5, 4.5), (-4.5, 4.5)), (1.0, 1.5),
                 [[3.0, 0.5]], {}, log_scale=True, f_min=0.0,
                 latex=r"L(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2"
                       r" + (2.625 - x + xy^3)^2")


def goldstein_price() -> Problem:
    r"""Goldstein-Price: :math:`L = [1 + (x + y + 1)^2 a(x, y)]\,[30 + (2x - 3y)^2 b(x, y)]`
    with :math:`a = 19 - 14x + 3x^2 - 14y + 6xy + 3y^2`,
    :math:`b = 18 - 32x + 12x^2 + 48y - 36xy + 27y^2`; values span six decades
    (log color); global minimum :math:`L(0, -1) = 3`, several local minima (from the
    default start, SGD with momentum 0.9 and lr 1e-6 reaches the global one in 500
    steps, Adam with lr 0.05 stops at the local minimum :math:`L(-0.6, -0.4) = 30`)."""

    def parts(params):
        x, y = _xy(params)
        u, v = x + y + 1.0, 2.0 * x - 3.0 * y
        a = 19.0 + x * (3.0 * x - 14.0 + 6.0 * y) + y * (3.0 * y - 14.0)
        b = 18.0 + x * (12.0 * x - 32.0 - 36.0 * y) + y * (27.0 * y + 48.0)
        return x, y, u, v, a, b, 1.0 + u * u * a, 30.0 + v * v * b

    def loss(params):
        *_, A, B = parts(params)
        return A * B

    def both(params):
        x, y, u, v, a, b, A, B = parts(params)
        A_x = A_y = 2.0 * u * a + u * u * (-14.0 + 6.0 * x + 6.0 * y)
        B_x = 4.0 * v * b + v * v * (-32.0 + 24.0 * x - 36.0 * y)
        B_y = -6.0 * v * b + v * v * (48.0 - 36.0 * x + 54.0 * y)
        return A * B, _pair(A_x * B + A * B_x, A_y * B + A * B_y)

    return _make("goldstein_price", loss, both, ((-2, 2), (-2, 2)), (-1.5, -1.5),
                 [[0.0, -1.0]], {}, log_scale=True, f_min=3.0,
                 latex=r"L = [1 + (x{+}y{+}1)^2 (19 - 14x + 3x^2 - 14y + 6xy + 3y^2)]"
                       r"\,[30 + (2x{-}3y)^2 (18 - 32x + 12x^2 + 48y - 36xy + 27y^2)]")


# ---------------------------------------------------------------------------- many minima

def himmelblau() -> Problem:
    r"""Himmelblau: :math:`L = (x^2 + y - 11)^2 + (x + y^2 - 7)^2`; four global minima
    with :math:`L = 0` (at :math:`(3, 2)` and three irrational points) and a local
    maximum near :math:`(-0.27, -0.92)`, next to which the default start lies, so
    different optimizers fall into different minima (in 500 steps, SGD with lr 0.01 into
    :math:`(3.58, -1.85)`, Adam with lr 0.1 into :math:`(3, 2)`)."""

    def loss(params):
        x, y = _xy(params)
        return (x * x + y - 11.0) ** 2 + (x + y * y - 7.0) ** 2

    def both(params):
        x, y = _xy(params)
        u, v = x * x + y - 11.0, x + y * y - 7.0
        return u ** 2 + v ** 2, _pair(4.0 * x * u + 2.0 * v, 2.0 * u + 4.0 * y * v)

    minima = [[3.0, 2.0],
              [-2.805118086952745, 3.131312518250573],
              [-3.779310253377747, -3.2831859912861696],
              [3.5844283403304917, -1.8481265269644036]]
    return _make("himmelblau", loss, both, ((-5, 5), (-5, 5)), (-0.27, -0.9), minima,
                 {}, log_scale=True, f_min=0.0,
                 latex=r"L(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2")


def rastrigin(A=10.0) -> Problem:
    r"""Rastrigin: :math:`L = 2A + \sum_i \left(\theta_i^2 - A \cos 2\pi\theta_i\right)`,
    a bowl covered in a grid of local minima near the integer points; global minimum
    :math:`L(0, 0) = 0`.  :math:`\partial L / \partial\theta_i = 2\theta_i +
    2\pi A \sin 2\pi\theta_i`."""
    A = _scalar(A, "A", 0.0, 1e6)

    def loss(params):
        x, y = _xy(params)
        waves = np.cos(TAU * x)
        waves += np.cos(TAU * y)
        return (x * x + y * y + 2.0 * A) - A * waves

    def both(params):
        x, y = _xy(params)
        tx, ty = TAU * x, TAU * y
        waves = np.cos(tx)
        waves += np.cos(ty)
        return (x * x + y * y + 2.0 * A) - A * waves, \
            _pair(2.0 * x + TAU * A * np.sin(tx), 2.0 * y + TAU * A * np.sin(ty))

    return _make("rastrigin", loss, both, ((-5.12, 5.12), (-5.12, 5.12)), (3.3, -2.6),
                 [[0.0, 0.0]], {"A": A}, f_min=0.0,
                 latex=rf"L = 2A + \sum_i (\theta_i^2 - A\cos 2\pi\theta_i), \quad A = {A:g}")


def ackley() -> Problem:
    r"""Ackley: :math:`L = -20\, e^{-0.2 r} - e^{(\cos 2\pi x + \cos 2\pi y)/2} + 20 + e`
    with :math:`r = \sqrt{(x^2 + y^2)/2}`: a nearly flat, rippled plain around a deep
    funnel; global minimum :math:`L(0, 0) = 0`, where it is not differentiable (the
    gradient returned there is the subgradient 0)."""

    def parts(params):
        x, y = _xy(params)
        r = np.sqrt(0.5 * (x * x + y * y))
        c = np.cos(TAU * x)                 # in place: fewer big temporaries for grids
        c += np.cos(TAU * y)
        c *= 0.5
        return x, y, r, np.exp(-0.2 * r), np.exp(c, out=c)

    def loss_of(e1, e2):
        e1 *= -20.0  # in place on parts' fresh array
        e1 -= e2
        e1 += 20.0 + math.e
        return e1

    def loss(params):
        _, _, _, e1, e2 = parts(params)
        return loss_of(e1, e2)

    def both(params):
        x, y, r, e1, e2 = parts(params)
        # d(-20 e^{-0.2 r})/dx = 4 e^{-0.2 r} * x / (2 r)
        k = np.divide(2.0 * e1, r, out=np.zeros_like(r), where=r > 0)
        grad = _pair(k * x + math.pi * e2 * np.sin(TAU * x),
                     k * y + math.pi * e2 * np.sin(TAU * y))
        return loss_of(e1, e2), grad

    return _make("ackley", loss, both, ((-5, 5), (-5, 5)), (3.6, -2.8), [[0.0, 0.0]],
                 {}, f_min=0.0,
                 latex=r"L = -20\,e^{-0.2\sqrt{(x^2+y^2)/2}} - e^{(\cos 2\pi x"
                       r" + \cos 2\pi y)/2} + 20 + e")


def six_hump_camel() -> Problem:
    r"""Six-hump camel: :math:`L = (4 - 2.1x^2 + x^4/3)\,x^2 + xy + (4y^2 - 4)\,y^2`; six
    local minima, two of them global, :math:`L(\pm 0.0898, \mp 0.7127) \approx -1.0316`."""

    def loss(params):
        x, y = _xy(params)
        x2, y2 = x * x, y * y
        return (4.0 - 2.1 * x2 + x2 * x2 / 3.0) * x2 + x * y + (4.0 * y2 - 4.0) * y2

    def both(params):
        x, y = _xy(params)
        x2, y2 = x * x, y * y
        x3 = x2 * x
        return (4.0 - 2.1 * x2 + x2 * x2 / 3.0) * x2 + x * y + (4.0 * y2 - 4.0) * y2, \
            _pair(8.0 * x - 8.4 * x3 + 2.0 * x3 * x * x + y, x - 8.0 * y + 16.0 * y * y * y)

    x0, y0 = 0.08984201310031807, -0.7126564030207396
    return _make("six_hump_camel", loss, both, ((-2, 2), (-1, 1)), (-1.5, -0.8),
                 [[x0, y0], [-x0, -y0]], {}, f_min=-1.0316284534898774,
                 latex=r"L(x, y) = (4 - 2.1x^2 + x^4/3)\,x^2 + xy + (4y^2 - 4)\,y^2")


def three_hump_camel() -> Problem:
    r"""Three-hump camel: :math:`L = 2x^2 - 1.05x^4 + x^6/6 + xy + y^2`; global minimum
    :math:`L(0, 0) = 0` and two local minima near :math:`\pm(1.75, -0.87)`."""

    def parts(params):
        x, y = _xy(params)
        x2 = x * x
        return x, y, x2, 2.0 * x2 - 1.05 * x2 * x2 + x2 * x2 * x2 / 6.0 + x * y + y * y

    def loss(params):
        return parts(params)[3]

    def both(params):
        x, y, x2, value = parts(params)
        x3 = x2 * x
        return value, _pair(4.0 * x - 4.2 * x3 + x3 * x * x + y, x + 2.0 * y)

    return _make("three_hump_camel", loss, both, ((-2.5, 2.5), (-2.5, 2.5)),
                 (-2.2, 1.9), [[0.0, 0.0]], {}, f_min=0.0,
                 latex=r"L(x, y) = 2x^2 - 1.05x^4 + x^6/6 + xy + y^2")


def styblinski_tang() -> Problem:
    r"""Styblinski-Tang: :math:`L = \tfrac12 \sum_i (\theta_i^4 - 16\theta_i^2 +
    5\theta_i)`; four basins, the global one at :math:`\theta_i = -2.9035`
    (root of :math:`4t^3 - 32t + 5 = 0`), :math:`L \approx -78.332`."""

    def loss(params):
        x, y = _xy(params)
        x2, y2 = x * x, y * y
        return 0.5 * (x2 * (x2 - 16.0) + 5.0 * x + y2 * (y2 - 16.0) + 5.0 * y)

    def both(params):
        x, y = _xy(params)
        x2, y2 = x * x, y * y
        return 0.5 * (x2 * (x2 - 16.0) + 5.0 * x + y2 * (y2 - 16.0) + 5.0 * y), \
            _pair(x * (2.0 * x * x - 16.0) + 2.5, y * (2.0 * y * y - 16.0) + 2.5)

    t = -2.9035340277711783
    f_min = t ** 4 - 16.0 * t * t + 5.0 * t
    return _make("styblinski_tang", loss, both, ((-5, 5), (-5, 5)), (0.3, 4.5),
                 [[t, t]], {}, f_min=f_min,
                 latex=r"L = \tfrac12 \sum_i (\theta_i^4 - 16\theta_i^2 + 5\theta_i)")


# ---------------------------------------------------------------------------- flat regions

def plateau(width=1.0) -> Problem:
    r"""A plateau with a well: :math:`L = 1 - e^{-(x^2 + y^2) / (2 w^2)}`.

    Far from the well the surface is flat (:math:`\nabla L = \theta\, e^{-r^2/2w^2} / w^2
    \to 0`), so plain gradient descent crawls while adaptive methods (which divide by
    the gradient's scale) keep moving; minimum :math:`L(0, 0) = 0`.
    """
    w = _scalar(width, "width", 0.0, 1e6, lo_open=True)
    inv = 1.0 / (w * w)

    def loss(params):
        x, y = _xy(params)
        return 1.0 - np.exp(-0.5 * inv * (x * x + y * y))

    def both(params):
        x, y = _xy(params)
        e = np.exp(-0.5 * inv * (x * x + y * y))
        k = inv * e
        return 1.0 - e, _pair(k * x, k * y)

    return _make("plateau", loss, both, ((-4 * w, 4 * w), (-4 * w, 4 * w)),
                 (-3.2 * w, 2.4 * w), [[0.0, 0.0]], {"width": w}, f_min=0.0,
                 latex=rf"L(x, y) = 1 - e^{{-(x^2 + y^2)/(2w^2)}}, \quad w = {w:g}")


def monkey_saddle() -> Problem:
    r"""The monkey saddle :math:`L = x^3 - 3xy^2`: a flat stationary point at the origin
    whose Hessian is zero (three valleys meet there), unbounded below; no minima.
    :math:`\nabla L = (3x^2 - 3y^2,\ -6xy)`."""

    def loss(params):
        x, y = _xy(params)
        return x * x * x - 3.0 * x * y * y

    def both(params):
        x, y = _xy(params)
        x2 = x * x
        return x2 * x - 3.0 * x * y * y, _pair(3.0 * (x2 - y * y), -6.0 * x * y)

    return _make("monkey_saddle", loss, both, ((-2, 2), (-2, 2)), (1.5, 0.05),
                 np.zeros((0, 2)), {}, latex=r"L(x, y) = x^3 - 3xy^2",
                 bounded_below=False)
