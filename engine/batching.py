r"""Mini-batches: which rows of the training set each iteration sees.

An epoch is one pass over the N training rows in a fresh random order
:math:`\pi_e`; iteration :math:`k` of epoch :math:`e` uses the rows

.. math:: \mathcal{B}_{e,k} = \{\pi_e(kB), \dots, \pi_e(\min(kB + B, N) - 1)\}

so an epoch has :math:`\lceil N / B \rceil` iterations, or :math:`\lfloor N / B \rfloor`
with ``drop_last`` (the short last batch is skipped, as ``torch.utils.data.DataLoader``'s
``drop_last``).  ``batch_size = 1`` is plain SGD, ``batch_size = N`` full-batch gradient
descent (then every epoch is one iteration and the order does not matter).

Two ways to share the order between R runs:

* ``shared=True``: one permutation per epoch for all runs, indices ``(B,)``: a fair race,
  every run sees the same batches in the same order;
* ``shared=False``: an independent permutation per run, indices ``(R, B)``, drawn in one
  vectorized call (``argsort`` of an ``(R, N)`` uniform matrix).

Pure: :class:`BatchState` is a NamedTuple and :func:`next_batch` returns a new one.  The order
of epoch ``e`` is a function of ``(seed, e)`` only (:func:`epoch_permutation`), so it can be
recomputed anywhere, e.g. to feed the same batches to torch.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .checks import check_int

__all__ = [
    "BatchState",
    "init_batches",
    "next_batch",
    "epoch_permutation",
    "iterations_per_epoch",
    "check_batch_size",
    "as_seed",
]


class BatchState(NamedTuple):
    """Where the batch stream stands.

    ``epoch``: index (0-based) of the epoch whose permutation ``perm`` is current;
    ``batch``: batches already taken from it (``0..per_epoch``); ``iteration``: batches taken
    in total.  ``perm`` is ``(N,)`` when ``shared`` else ``(R, N)``.
    """

    seed: int
    n: int
    batch_size: int
    drop_last: bool
    shared: bool
    runs: int
    epoch: int
    batch: int
    iteration: int
    perm: np.ndarray

    @property
    def per_epoch(self) -> int:
        """Iterations per epoch."""
        return iterations_per_epoch(self.n, self.batch_size, self.drop_last)

    @property
    def epochs_done(self) -> int:
        """Completed epochs (an epoch is complete once its last batch was taken)."""
        return self.epoch + (self.batch == self.per_epoch)

    @property
    def epoch_end(self) -> bool:
        """True when the last batch taken closed an epoch."""
        return self.batch == self.per_epoch


def as_seed(seed) -> int:
    """A non-negative int seed from an int or a ``np.random.Generator`` (one draw from it)."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63 - 1))
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return int(seed)
    raise ValueError(f"seed must be a non-negative int or a numpy Generator; got {seed!r}")


def check_batch_size(batch_size, n: int) -> int:
    """``batch_size`` is an integer in ``[1, N]``."""
    return check_int(batch_size, "batch_size", 1, n)


def iterations_per_epoch(n: int, batch_size: int, drop_last: bool = False) -> int:
    r""":math:`\lceil N / B \rceil`, or :math:`\lfloor N / B \rfloor` with ``drop_last``."""
    return n // batch_size if drop_last else -(-n // batch_size)


def epoch_permutation(seed: int, epoch: int, n: int, runs: int | None = None) -> np.ndarray:
    """The row order of epoch ``epoch``: ``(N,)`` for shared batches (``runs=None``), else
    ``(R, N)`` with one independent permutation per run.

    Drawn from ``np.random.default_rng([seed, epoch])``, a function of its arguments only.
    """
    rng = np.random.default_rng([int(seed), int(epoch)])
    if runs is None:
        return rng.permutation(n)
    return np.argsort(rng.random((runs, n)), axis=1, kind="stable")


def init_batches(n: int, batch_size: int, *, seed=0, shared: bool = True,
                 drop_last: bool = False, runs: int = 1) -> BatchState:
    """The stream before its first batch, for N rows and R runs."""
    n = check_int(n, "n (number of training rows)", 1)
    batch_size = check_batch_size(batch_size, n)
    runs = check_int(runs, "runs", 1)
    seed = as_seed(seed)
    perm = epoch_permutation(seed, 0, n, None if shared else runs)
    return BatchState(seed, n, batch_size, bool(drop_last), bool(shared), runs, 0, 0, 0, perm)


def next_batch(state: BatchState) -> tuple[np.ndarray, BatchState]:
    """The next batch's row indices, ``(B,)`` shared or ``(R, B)`` per run, and the new state.

    When the current epoch is used up, the next epoch's permutation is drawn first.  The last
    batch of an epoch is shorter when B does not divide N (unless ``drop_last``).
    """
    epoch, batch, perm = state.epoch, state.batch, state.perm
    if batch == state.per_epoch:
        epoch, batch = epoch + 1, 0
        perm = epoch_permutation(state.seed, epoch, state.n,
                                 None if state.shared else state.runs)
    lo = batch * state.batch_size
    idx = perm[..., lo:lo + state.batch_size]
    return idx, state._replace(epoch=epoch, batch=batch + 1, iteration=state.iteration + 1,
                               perm=perm)
