"""Validation of user input: every error names the parameter and its allowed range.

Hyperparameters are scalars (shared by all runs) or ``(R,)`` arrays (one value per
run).  ``hparam`` validates either form; ``per_run`` broadcasts a validated value to
shape ``(R, 1)`` so it can multiply an ``(R, D)`` array.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["hparam", "per_run", "runs_of", "check_params", "check_grads", "check_int",
           "check_range", "as_columns"]


def _interval(lo, hi, lo_open, hi_open) -> str:
    left = "(" if lo_open or lo is None else "["
    right = ")" if hi_open or hi is None else "]"
    lo_s = "-inf" if lo is None else f"{lo:g}"
    hi_s = "inf" if hi is None else f"{hi:g}"
    return f"{left}{lo_s}, {hi_s}{right}"


def hparam(
    value,
    name: str,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
):
    """Validate a scalar or ``(R,)`` hyperparameter against ``lo <= value <= hi``.

    Returns a Python float for scalars, a float64 ``(R,)`` array otherwise.  Raises
    ``ValueError`` naming ``name`` and the allowed interval on NaN, infinity, values
    out of range or arrays of the wrong rank.
    """
    rng = _interval(lo, hi, lo_open, hi_open)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a number in {rng} or an array of them, got {value!r}"
        ) from None
    if arr.ndim > 1:
        raise ValueError(f"{name} must be a scalar or a 1-D array (one value per run), "
                         f"got shape {arr.shape}")
    if arr.ndim == 1 and arr.size == 0:
        raise ValueError(f"{name} must not be an empty array")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, in {rng}; got {value!r}")
    bad = np.zeros(arr.shape, bool)
    if lo is not None:
        bad |= (arr <= lo) if lo_open else (arr < lo)
    if hi is not None:
        bad |= (arr >= hi) if hi_open else (arr > hi)
    if np.any(bad):
        shown = arr if arr.ndim == 0 else arr[bad][0]
        raise ValueError(f"{name} must be in {rng}; got {float(shown):g}")
    return float(arr) if arr.ndim == 0 else arr


def runs_of(value) -> int | None:
    """Number of runs a hyperparameter asks for: ``len`` of an array, ``None`` for a scalar."""
    arr = np.asarray(value)
    return None if arr.ndim == 0 else int(arr.shape[0])


def per_run(value, R: int, name: str = "hyperparameter"):
    """Broadcast a validated scalar or ``(R,)`` value so that it multiplies ``(R, D)``.

    Scalars come back unchanged; arrays come back as ``(R, 1)`` after checking their
    length equals the number of runs ``R``.
    """
    if np.ndim(value) == 0:
        return value
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape[0] != R:
        raise ValueError(f"{name} has {arr.shape[0]} values but there are {R} runs; "
                         f"give a scalar or an array of length {R}")
    return arr[:, None]


def check_params(params, name: str = "params") -> np.ndarray:
    """Parameters are a float ``(R, D)`` array: R runs, D coordinates."""
    arr = np.asarray(params, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must have shape (R, D) with R >= 1 runs and D >= 1 "
                         f"coordinates, got shape {arr.shape}")
    return arr


def check_grads(grads, params) -> tuple[np.ndarray, np.ndarray]:
    """Gradients and parameters as float arrays of one ``(R, D)`` shape."""
    g = np.asarray(grads, dtype=np.float64)
    p = np.asarray(params, dtype=np.float64)
    if g.shape != p.shape or g.ndim != 2:
        raise ValueError(f"grads has shape {g.shape} but params has shape {p.shape}; "
                         "they must match")
    return g, p


def check_int(value, name: str, lo: int | None = None, hi: int | None = None) -> int:
    """An integer in ``[lo, hi]`` (bools and non-integral floats are rejected)."""
    rng = _interval(lo, hi, False, False)
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok and isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value, ok = int(value), True
    if not ok:
        raise ValueError(f"{name} must be an integer in {rng}, got {value!r}")
    value = int(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{name} must be an integer in {rng}, got {value}")
    return value


def check_range(r, name: str) -> tuple[float, float]:
    """A pair ``(lo, hi)`` of finite floats with ``lo < hi``."""
    lo, hi = (float(v) for v in r)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be (lo, hi) with finite lo < hi; got {r!r}")
    return lo, hi


def as_columns(X) -> np.ndarray:
    """``X`` as a float array with one column per feature: a 1-D ``(N,)`` becomes ``(N, 1)``."""
    X = np.asarray(X, dtype=np.float64)
    return X[:, None] if X.ndim == 1 else X

