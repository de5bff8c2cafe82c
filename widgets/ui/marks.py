"""Marks made empty for ``draw`` to fill -- the scales of an x-y chart, points, and the
heat map and contour lines of a loss surface -- and the two updates they share: a scale's
range, a surface shown on a heat map with its contours.  Each update is one message."""

from __future__ import annotations

import bqplot as bq
import numpy as np

from .figures import EMPTY, contour_path, set_lines

__all__ = ["xy_scales", "points", "heat_map", "contour_lines", "set_range", "show_surface"]


def xy_scales(log: bool = False) -> tuple[bq.Scale, bq.Scale, dict]:
    """``(sx, sy, scales)``: linear (``log``: logarithmic) x and y scales and the
    ``scales`` dict a mark on them takes."""
    scale = bq.LogScale if log else bq.LinearScale
    sx, sy = scale(), scale()
    return sx, sy, {"x": sx, "y": sy}


def points(scales: dict, **style) -> bq.Scatter:
    """A scatter on ``scales`` with no points yet (``draw`` sets ``x`` and ``y``)."""
    return bq.Scatter(x=np.zeros(0), y=np.zeros(0), scales=scales, **style)


def heat_map(scales: dict, colors: bq.ColorScale) -> bq.HeatMap:
    """A placeholder 2x2 heat map on ``scales``, coloured by ``colors``."""
    return bq.HeatMap(x=np.array([0.0, 1.0]), y=np.array([0.0, 1.0]),
                      color=np.zeros((2, 2)), scales={**scales, "color": colors})


def contour_lines(scales: dict) -> bq.Lines:
    """The contour lines of a surface (thin, grey), none yet."""
    return bq.Lines(x=EMPTY, y=EMPTY, scales=scales,
                    colors=["#56657A"], stroke_width=1, opacities=[0.6])


def set_range(scale: bq.Scale, lo, hi) -> None:
    """``scale`` fixed to ``[lo, hi]``."""
    with scale.hold_sync():
        scale.min, scale.max = lo, hi


def show_surface(heat: bq.HeatMap, xs, ys, C, contours: bq.Lines | None = None) -> None:
    """The colours ``C`` over the grid ``xs`` x ``ys`` on ``heat`` and, with
    ``contours``, their contour lines (:func:`~.figures.contour_path`)."""
    with heat.hold_sync():
        heat.x, heat.y, heat.color = xs, ys, C
    if contours is not None:
        set_lines(contours, *contour_path(xs, ys, C))   # never ending on NaN
