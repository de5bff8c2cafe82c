"""Colors: one per run, the same in every chart, from colorblind-safe palettes.

``OKABE_ITO`` (Okabe & Ito 2008, without yellow, which vanishes on light surfaces) for
races of different optimizers; ``SEQUENTIAL`` (viridis samples, dark to light) for
sweeps of one hyperparameter, where color order should follow the swept value.
"""

from __future__ import annotations

import numpy as np

__all__ = ["OKABE_ITO", "SEQUENTIAL", "run_colors", "FONT", "SURFACE_COLORS"]

OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")

SEQUENTIAL = ("#440154", "#482878", "#3E4A89", "#31688E", "#26828E", "#1F9E89", "#35B779",
              "#6DCD59", "#B4DE2C")

SURFACE_COLORS = ("#FFFFFF", "#DCE3EA", "#8A9BAE", "#3B4A5C")
"""Heat-map ramp, light (low loss) to dark: colored runs stay readable on top of it."""

FONT = {"font-size": "15px"}


def _hex_to_rgb(h: str) -> np.ndarray:
    return np.array([int(h[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def run_colors(n: int, sequential: bool = False) -> list[str]:
    """``n`` colors: cycling Okabe-Ito, or ``n`` samples along the sequential ramp."""
    if n < 1:
        return []
    if not sequential:
        return [OKABE_ITO[i % len(OKABE_ITO)] for i in range(n)]
    stops = np.array([_hex_to_rgb(c) for c in SEQUENTIAL])
    pos = np.linspace(0.0, len(SEQUENTIAL) - 1, n)
    lo = np.floor(pos).astype(int).clip(0, len(SEQUENTIAL) - 2)
    frac = (pos - lo)[:, None]
    rgb = np.rint(stops[lo] * (1 - frac) + stops[lo + 1] * frac).astype(int)
    return ["#{:02X}{:02X}{:02X}".format(*row) for row in rgb]
