"""Run colours that follow the run, never its position in a list.

* A race colours by kind: :data:`KIND_COLORS` is fixed, so Adam has one colour with 3
  or 7 optimizers selected and in every chart.  Ten kinds need ten distinct colours:
  Okabe & Ito (2008) without yellow, plus three of Paul Tol's "muted" colours.
* A sweep of one kind colours by value: the run's (starting) learning rate placed on a
  log ramp over the sweep's range, through :data:`~descentlab.widgets.ui.palette.SEQUENTIAL`
  (colour-blind-safe viridis samples, dark = small).
"""

from __future__ import annotations

import numpy as np

from descentlab.engine import kinds
from descentlab.widgets.ui.palette import OKABE_ITO, SEQUENTIAL

__all__ = ["KIND_COLORS", "TOL_MUTED", "kind_color", "ramp_colors"]

TOL_MUTED = ("#882255", "#999933", "#332288")
"""Paul Tol's muted wine, olive and indigo: distinct from every Okabe-Ito colour."""

KIND_COLORS = dict(zip(kinds.names(), OKABE_ITO + TOL_MUTED, strict=True))
"""One fixed colour per optimizer kind."""


def kind_color(kind: str) -> str:
    """The fixed colour of ``kind``."""
    return KIND_COLORS[kind]


def _rgb(h: str) -> np.ndarray:
    return np.array([int(h[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


_STOPS = np.array([_rgb(c) for c in SEQUENTIAL])


def ramp_colors(values, lo: float, hi: float) -> list[str]:
    """The colour of each value on a log ramp from ``lo`` (dark) to ``hi`` (light)."""
    v = np.asarray(values, dtype=np.float64)
    if hi > lo > 0:
        pos = np.log(v / lo) / np.log(hi / lo)
    else:
        pos = np.zeros_like(v)
    pos = np.clip(np.nan_to_num(pos), 0.0, 1.0) * (len(SEQUENTIAL) - 1)
    i = np.floor(pos).astype(int).clip(0, len(SEQUENTIAL) - 2)
    frac = (pos - i)[:, None]
    rgb = np.rint(_STOPS[i] * (1 - frac) + _STOPS[i + 1] * frac).astype(int)
    return ["#{:02X}{:02X}{:02X}".format(*row) for row in rgb]
