"""Small helpers shared by test modules in different folders (``tests`` is on the path)."""

import numpy as np


def strict_local_minima(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices (into ``Z``) of the interior grid points lower than all 8
    of their neighbours."""
    inner = Z[1:-1, 1:-1]
    lower = np.ones_like(inner, dtype=bool)
    n, m = Z.shape
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                lower &= inner < Z[1 + di:n - 1 + di, 1 + dj:m - 1 + dj]
    i, j = np.nonzero(lower)
    return i + 1, j + 1


def played(lab, name=None):
    """The view at the end of scene ``name`` played out (None: the settings as they are,
    from step 0)."""
    if name is None:
        lab.reset()
    else:
        lab.apply_scene(name)
    assert lab.errors.message == ""
    while lab.session.advance(5000):
        pass
    lab.flush()
    return lab.session.view()
