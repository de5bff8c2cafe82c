"""Display decimation: at most ``max_points`` per line, always the first and latest point.

The History keeps every step; charts receive a strided subset so one frame stays one
small message however long the run.  The stride is a power of two, so the retained
steps change only when the stride doubles (no shimmering while a run grows).
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_POINTS", "display_indices"]

MAX_POINTS = 2000


def display_indices(n: int, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices into a series of length ``n``: ``0, s, 2s, ...`` plus ``n - 1``.

    ``s`` is the smallest power of two with at most ``max_points`` indices in all.
    """
    if max_points < 2:
        raise ValueError(f"max_points must be an integer in [2, inf), got {max_points}")
    if n <= max_points:
        return np.arange(n)
    stride = 1
    while (n - 2) // stride + 2 > max_points:
        stride *= 2
    idx = np.arange(0, n - 1, stride)
    return np.append(idx, n - 1)
