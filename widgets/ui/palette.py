"""Colors: one per run, the same in every chart, from colorblind-safe palettes.

``OKABE_ITO`` (Okabe & Ito 2008, without yellow, which vanishes on light surfaces) for
races of different optimizers; ``SEQUENTIAL`` (viridis samples, dark to light) for
sweeps of one hyperparameter, where color order should follow the swept value;
``CLASS_COLORS`` for the classes of a data set's points (never runs).

Colours follow the run, never its place in a list: :func:`ramp_colors` places each swept
value on a log ramp (same value, same colour); a :class:`ColorBook` gives each kind of
run the Okabe-Ito colour it was first given.
"""

from __future__ import annotations

import numpy as np

__all__ = ["OKABE_ITO", "SEQUENTIAL", "CLASS_COLORS", "run_colors", "ramp_colors",
           "class_color", "ColorBook", "FONT", "SURFACE_COLORS"]

OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")

SEQUENTIAL = ("#440154", "#482878", "#3E4A89", "#31688E", "#26828E", "#1F9E89", "#35B779",
              "#6DCD59", "#B4DE2C")

CLASS_COLORS = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#D55E00", "#0072B2")
"""Class colours of data points (Okabe-Ito, orange and sky blue first; never grey)."""

SURFACE_COLORS = ("#FFFFFF", "#DCE3EA", "#8A9BAE", "#3B4A5C")
"""Heat-map ramp, light (low loss) to dark: colored runs stay readable on top of it."""

FONT = {"font-size": "15px"}


def _hex_to_rgb(h: str) -> np.ndarray:
    return np.array([int(h[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


_STOPS = np.array([_hex_to_rgb(c) for c in SEQUENTIAL])


def _on_ramp(pos) -> list[str]:
    """Colours at positions ``pos`` in [0, 1] along :data:`SEQUENTIAL` (interpolated)."""
    pos = np.clip(np.nan_to_num(np.asarray(pos, dtype=np.float64)), 0.0, 1.0)
    pos = pos * (len(SEQUENTIAL) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(SEQUENTIAL) - 2)
    frac = (pos - lo)[:, None]
    rgb = np.rint(_STOPS[lo] * (1 - frac) + _STOPS[lo + 1] * frac).astype(int)
    return ["#{:02X}{:02X}{:02X}".format(*row) for row in rgb]


def run_colors(n: int, sequential: bool = False) -> list[str]:
    """``n`` colors: cycling Okabe-Ito, or ``n`` samples along the sequential ramp."""
    if n < 1:
        return []
    if not sequential:
        return [OKABE_ITO[i % len(OKABE_ITO)] for i in range(n)]
    return _on_ramp(np.linspace(0.0, 1.0, n))


def ramp_colors(values, lo: float, hi: float) -> list[str]:
    """The colour of each value by the value itself, on a log ramp from ``lo`` (dark) to
    ``hi`` (light): the same value has the same colour whatever else is listed."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if hi > lo > 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            pos = np.log(v / lo) / np.log(hi / lo)
    else:
        pos = np.zeros_like(v)
    return _on_ramp(pos)


def class_color(k: int) -> str:
    """The colour of class ``k`` (:data:`CLASS_COLORS`, cycling)."""
    return CLASS_COLORS[int(k) % len(CLASS_COLORS)]


class ColorBook:
    """Colours that follow what a run is, not its list position: :meth:`colors` gives
    each key (what a run is -- its kind and the settings that tell it apart) the
    Okabe-Ito colour it was first given, so tuning a run or adding another keeps every
    colour.  Equal keys in one list are told apart by their rank among them."""

    def __init__(self):
        self.book: dict[tuple, str] = {}

    def colors(self, keys) -> list[str]:
        """One colour per key, in order."""
        seen: dict = {}
        out = []
        for what in keys:
            seen[what] = seen.get(what, -1) + 1
            key = (what, seen[what])
            if key not in self.book:
                used = set(self.book.values())
                free = [c for c in OKABE_ITO if c not in used]
                self.book[key] = free[0] if free else OKABE_ITO[len(self.book) % len(OKABE_ITO)]
            out.append(self.book[key])
        return out
