"""Numbers for people: 3-4 significant digits everywhere (boxes, labels, panels).

``0.005000000000000001`` is shown as ``0.005``, ``-0.0037045546765875903`` as
``-0.003705``, ``1234567.0`` as ``1.235e+06``; NaN and infinities by name.
"""

from __future__ import annotations

import math

__all__ = ["num", "tex", "vec", "shown_value", "DIGITS"]

DIGITS = 4


def num(x, digits: int = DIGITS) -> str:
    """``x`` with ``digits`` significant digits (``g`` style, no trailing zeros)."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:.{digits}g}"


def tex(x, digits: int = DIGITS) -> str:
    r"""``x`` for LaTeX: ``1.2\times10^{-5}`` instead of ``1.2e-05``."""
    s = num(x, digits)
    if s == "nan":
        return r"\text{nan}"
    if s in ("∞", "−∞"):
        return r"\infty" if s == "∞" else r"-\infty"
    if "e" in s:
        m, e = s.split("e")
        return rf"{m}\times10^{{{int(e)}}}"
    return s


def vec(v, digits: int = DIGITS, limit: int = 6) -> str:
    """A column vector in LaTeX (the first ``limit`` entries, then a vertical ellipsis)."""
    flat = [float(x) for x in list(_ravel(v))]
    body = [tex(x, digits) for x in flat[:limit]] + ([r"\vdots"] if len(flat) > limit else [])
    return r"\begin{pmatrix}" + r"\\".join(body) + r"\end{pmatrix}"


def _ravel(v):
    try:
        import numpy as np
        return np.ravel(v)
    except ImportError:  # pragma: no cover - numpy is a dependency
        return v


def shown_value(v):
    """A model value as a box shows it: floats to 4 significant digits when that drops
    only binary noise (relative change below 1e-9), else to 6; anything else as is."""
    if isinstance(v, bool) or not isinstance(v, float) or not math.isfinite(v):
        return v
    short = float(f"{v:.4g}")
    if v == 0 or abs(short - v) <= 1e-9 * abs(v):
        return short
    return float(f"{v:.6g}")
