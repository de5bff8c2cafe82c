"""Run colours that follow the run, never its position in a list.

* A race colours by kind: :data:`KIND_COLORS` is fixed, so Adam has one colour with 3
  or 7 optimizers selected and in every chart.  Ten kinds need ten distinct colours:
  Okabe & Ito (2008) without yellow, plus three of Paul Tol's "muted" colours.
* A sweep of one kind colours by value: the run's (starting) learning rate placed on a
  log ramp over the sweep's range (:func:`~descentlab.widgets.ui.palette.ramp_colors`,
  colour-blind-safe viridis samples, dark = small).
"""

from __future__ import annotations

from descentlab.engine import kinds
from descentlab.widgets.ui.palette import OKABE_ITO

__all__ = ["KIND_COLORS", "CUSTOM_COLORS", "TOL_MUTED", "kind_color"]

TOL_MUTED = ("#882255", "#999933", "#332288")
"""Paul Tol's muted wine, olive and indigo: distinct from every Okabe-Ito colour."""

KIND_COLORS = dict(zip(kinds.names(), OKABE_ITO + TOL_MUTED, strict=True))
"""One fixed colour per optimizer kind."""


CUSTOM_COLORS = ("#44AA99", "#DDCC77", "#AA4499")
"""Paul Tol's teal, sand and purple for a student's own optimizers (by name, stable)."""


def kind_color(kind: str) -> str:
    """The fixed colour of ``kind`` (a custom kind: one of :data:`CUSTOM_COLORS` by its
    name, the same in every chart and session)."""
    if kind in KIND_COLORS:
        return KIND_COLORS[kind]
    return CUSTOM_COLORS[sum(map(ord, kind)) % len(CUSTOM_COLORS)]
