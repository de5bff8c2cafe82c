"""The public app of the tuning family."""

from __future__ import annotations

from .lab import TuningLab

__all__ = ["tuning_board"]


def tuning_board(dataset: str = "linear", **kw) -> TuningLab:
    """Grid / random / successive-halving / Hyperband search over the learning rate,
    played a round a frame (table and chart grow live), then step 2: the batch size at the
    best learning rate.  ``kw``: ``epochs``, ``batch_size``, ``seed``."""
    return TuningLab(dataset, **kw)
