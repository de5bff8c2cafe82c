r"""What the two loops (:mod:`.runner` on surfaces, :mod:`.training` on data) share.

* **Starts.**  :func:`agreed_runs`: the one number of runs R that a 2-D start, the
  optimizer's hyperparameter arrays and ``runs`` give; :func:`check_finite` for the start.
* **Stops.**  A run stops for one of :data:`STOP_REASONS`; a ``"diverged"`` stop also
  carries a cause from :data:`STOP_DETAILS` (:func:`divergence`):

  .. math::

      \texttt{nonfinite}: L, \theta \text{ or } g \notin \mathbb{R}, \qquad
      \texttt{loss\_above}: L > L_{\max}, \qquad
      \texttt{loss\_below}: L < -L_{\max}

  (the last one means the surface is unbounded below in the direction the run went).
  :func:`mark_stops` writes new stops into copies of the per-run stop arrays.
* **Freezing.**  A stopped run's rows of the optimizer state stop changing:
  :func:`where_rows` (any state tree) and :func:`freeze_rows` (in place into the fresh
  arrays an engine update has just returned).
* **Histories.**  :class:`Buffers`: named arrays with a leading time axis, preallocated
  and grown geometrically, so an append costs amortized :math:`O(RD)`.
  :class:`Event` / :class:`EventLog`: live tuning events (a learning rate changed at
  step :math:`t`), kept beside the numbers so the past is never relabelled.
* **CSV.**  :func:`write_csv` (to a path or a text buffer) and :func:`csv_text`: the one
  CSV writer of the engine, also for the widgets' export.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import transforms as T
from .base import ChainState, EmptyState
from .optimizers import RaceState

__all__ = [
    "STOP_REASONS",
    "STOP_DETAILS",
    "agreed_runs",
    "check_finite",
    "divergence",
    "mark_stops",
    "where_rows",
    "freeze_rows",
    "Buffers",
    "Event",
    "EventLog",
    "StoredHistory",
    "column",
    "write_csv",
    "csv_text",
]

STOP_REASONS = ("max_steps", "max_epochs", "grad_tol", "loss_tol", "diverged",
                "early_stopping")
"""Why a run stopped (``""`` while it runs): the surface runner uses the first four and
``"diverged"``; training uses all but ``"max_steps"``."""

STOP_DETAILS = ("", "nonfinite", "loss_above", "loss_below")
"""The cause of a ``"diverged"`` stop (``""`` for every other stop and while running)."""


# ---------------------------------------------------------------------------- stops


def divergence(loss: np.ndarray, max_loss, *arrays: np.ndarray):
    r"""``(bad (R,), detail (R,))``: which runs diverged and why.

    ``detail`` is ``"nonfinite"`` where :math:`L` or any row of ``arrays`` (``(R, D)``:
    parameters, gradients) holds an inf or NaN, else ``"loss_above"`` where
    :math:`L > L_{\max}`, ``"loss_below"`` where :math:`L < -L_{\max}`, else ``""``.
    One sum per row catches any inf/NaN (values near the float64 limit could overflow it).
    """
    total = loss
    for a in arrays:
        total = total + a.sum(axis=1)
    with np.errstate(invalid="ignore", over="ignore"):
        nonfinite = ~np.isfinite(total)
        above = ~nonfinite & (loss > max_loss)
        below = ~nonfinite & (loss < -max_loss)
    detail = np.full(loss.shape[0], "", dtype=object)
    detail[nonfinite] = "nonfinite"
    detail[above] = "loss_above"
    detail[below] = "loss_below"
    return nonfinite | above | below, detail


def mark_stops(arrays: Sequence[np.ndarray], newly: np.ndarray, values: Sequence) -> tuple:
    """Copies of the per-run ``arrays`` (stop_reason, stop_step, ...) with the rows where
    ``newly`` set to ``values`` (one value, or one ``(R,)`` array, per array)."""
    out = []
    for a, v in zip(arrays, values, strict=True):
        a = a.copy()
        a[newly] = v[newly] if isinstance(v, np.ndarray) else v
        out.append(a)
    return tuple(out)


# ---------------------------------------------------------------------------- freezing


def where_rows(mask: np.ndarray, new, old):
    """``new`` with the rows of ``old`` kept where ``mask`` is False, over a state tree.

    Arrays whose leading dimension is R = ``len(mask)`` are per-run rows; anything else
    (scalar counters, shared constants) is shared and taken from ``new``.  A race's
    blocks get their slice of the mask; a block with no stopped run is taken whole.
    Nothing is written in place.
    """
    stopped = np.flatnonzero(~mask)
    if stopped.size == 0:
        return new
    return _where_tree(mask, mask[:, None], new, old, mask.shape[0], stopped)


def _where_tree(mask, col, new, old, R, stopped):
    if new is old:  # passed through unchanged (e.g. lr_scale, a shared constant)
        return new
    if isinstance(new, np.ndarray):
        if new.ndim and new.shape[0] == R and isinstance(old, np.ndarray) \
                and old.shape == new.shape:
            m = mask if new.ndim == 1 else col if new.ndim == 2 else \
                mask.reshape((R,) + (1,) * (new.ndim - 1))
            return np.where(m, new, old)
        return new
    if isinstance(new, RaceState):  # only the blocks holding a stopped run
        o = new.offsets
        hit = set(np.searchsorted(o, stopped, side="right").tolist())  # block index + 1
        return RaceState(tuple(
            _where_tree(mask[o[i]:o[i + 1]], col[o[i]:o[i + 1]], n, old.inner[i],
                        o[i + 1] - o[i], stopped - o[i]) if i + 1 in hit else n
            for i, n in enumerate(new.inner)), o)
    if isinstance(new, tuple):
        items = [_where_tree(mask, col, n, o, R, stopped)
                 for n, o in zip(new, old, strict=True)]
        return type(new)(*items) if hasattr(new, "_fields") else tuple(items)
    if isinstance(new, list):
        return [_where_tree(mask, col, n, o, R, stopped) for n, o in zip(new, old, strict=True)]
    return new


# The engine's own state types: their update functions return freshly allocated arrays
# (never an input, a view, a closure constant or an array of the previous state, except
# leaves passed through unchanged, which are recognised by identity), so a stopped run's
# rows can be put back in place instead of rebuilding the state tree.
_FRESH_STATES = frozenset({
    EmptyState, T.TraceState, T.ScaleByAdagradState, T.ScaleByRmsState, T.ScaleByAdamState,
    T.ScaleByNadamState, T.ScaleByAdamaxState, T.ScaleByAdadeltaState,
    T.ScaleByLearningRateState,
})


def freeze_rows(keep: np.ndarray, new, old):
    """Like :func:`where_rows` for a state ``new`` that an engine update has just
    returned: the rows of ``old`` where ``keep`` is False, written in place into the
    fresh arrays of the engine's own state types; any other sub-state is rebuilt by
    :func:`where_rows`, so ``old`` and every array the caller passed in stay untouched."""
    stop = ~keep
    if not stop.any():
        return new
    if type(new) is RaceState:
        o = new.offsets
        inner = list(new.inner)
        for i in np.flatnonzero(np.logical_or.reduceat(stop, o[:-1])).tolist():
            a, b = o[i], o[i + 1]
            inner[i] = _freeze_block(keep[a:b], stop[a:b], inner[i], old.inner[i])
        return RaceState(tuple(inner), o)
    return _freeze_block(keep, stop, new, old)


def _freeze_block(keep, stop, new, old):
    if type(new) is ChainState:
        subs = new.inner
        for sub, o in zip(subs, old.inner, strict=True):
            if not _put_rows(stop, sub, o):
                return ChainState(tuple(
                    s if _put_rows(stop, s, so) else where_rows(keep, s, so)
                    for s, so in zip(subs, old.inner, strict=True)))
        return new
    return new if _put_rows(stop, new, old) else where_rows(keep, new, old)


def _put_rows(stop, new, old) -> bool:
    """Put ``old``'s rows back where ``stop`` in place; False (nothing written) unless
    ``new`` is an engine state whose changed per-run arrays are all fresh and writeable."""
    if type(new) not in _FRESH_STATES or type(old) is not type(new):
        return False
    R = stop.shape[0]
    todo = []
    for a, b in zip(new, old, strict=True):
        if a is b or type(a) is not np.ndarray or not a.ndim or a.shape[0] != R:
            continue
        if not (a.flags.writeable and a.flags.owndata) or type(b) is not np.ndarray \
                or b.shape != a.shape:
            return False
        todo.append((a, b))
    for a, b in todo:
        np.copyto(a, b, where=stop.reshape((R,) + (1,) * (a.ndim - 1)))
    return True


# ---------------------------------------------------------------------------- starts


def check_finite(x: np.ndarray, name: str) -> np.ndarray:
    """``x`` itself; ValueError naming ``name`` when any entry is NaN or infinite."""
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return x


def agreed_runs(named: dict) -> int:
    """The number of runs R that every non-None count in ``named`` (source name -> count)
    gives, 1 when none does; ValueError listing them when they disagree."""
    given = {k: int(v) for k, v in named.items() if v is not None}
    if len(set(given.values())) > 1:
        desc = ", ".join(f"{k} = {v}" for k, v in given.items())
        raise ValueError(f"the number of runs R disagrees: {desc}; they must be equal")
    return next(iter(given.values()), 1)


# ---------------------------------------------------------------------------- buffers


class Buffers:
    """Named arrays with a leading time axis, preallocated and doubled when full.

    ``Buffers({"loss": ((R,), float), "params": ((R, D), float)})``; ``append(loss=...,
    params=...)`` copies one row of each in; ``view(name)`` is the read-only filled part
    ``(T, *shape)``.  A field whose trailing axis should grow (e.g. batch rows of varying
    width) is declared in ``pad`` with its fill value: a wider row widens the buffer.
    """

    def __init__(self, shapes: dict, capacity: int = 64, pad: dict | None = None):
        self._n = 0
        self._pad = dict(pad or {})
        self._buf = {name: np.full((capacity,) + tuple(shape), self._pad.get(name, 0),
                                   dtype=dtype)
                     for name, (shape, dtype) in shapes.items()}

    def __len__(self) -> int:
        return self._n

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._buf)

    def shape(self, name: str) -> tuple:
        """The shape of one row of ``name``."""
        return self._buf[name].shape[1:]

    def append(self, **rows) -> None:
        """Copy one row per field in (every field must be given)."""
        i = self._n
        if i == next(iter(self._buf.values())).shape[0]:
            self._grow(2 * i)
        for name, buf in self._buf.items():
            row = rows[name]
            if name in self._pad:
                row = np.asarray(row)
                if row.shape[-1] > buf.shape[-1]:
                    buf = self._widen(name, row.shape[-1])
                buf[i] = self._pad[name]
                buf[i, ..., :row.shape[-1]] = row
            else:
                buf[i] = row
        self._n = i + 1

    def _grow(self, cap: int) -> None:
        for name, old in self._buf.items():
            new = np.full((cap,) + old.shape[1:], self._pad.get(name, 0), dtype=old.dtype)
            new[: self._n] = old[: self._n]
            self._buf[name] = new

    def _widen(self, name: str, width: int) -> np.ndarray:
        old = self._buf[name]
        new = np.full(old.shape[:-1] + (width,), self._pad[name], dtype=old.dtype)
        new[..., : old.shape[-1]] = old
        self._buf[name] = new
        return new

    def view(self, name: str) -> np.ndarray:
        v = self._buf[name][: self._n]
        v.flags.writeable = False
        return v


# ---------------------------------------------------------------------------- events


class Event(NamedTuple):
    """A hyperparameter tuned live: after step ``step`` the value of ``param`` went from
    ``old`` to ``new`` for ``runs`` (a tuple of run indices; ``None`` = every run).
    ``old`` / ``new`` are numbers, ``(R,)`` arrays (one value per run), tuples (betas)
    or names (a schedule)."""

    step: int
    param: str
    old: Any
    new: Any
    runs: tuple[int, ...] | None = None


class EventLog:
    """The live tuning events of a history, in the order they were added."""

    def __init__(self):
        self._events: list[Event] = []

    def add_event(self, step: int, param: str, old, new, runs=None) -> Event:
        """Record that ``param`` changed from ``old`` to ``new`` after step ``step`` (the
        first step under ``new`` is ``step + 1``), for ``runs`` (None = all runs)."""
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
            raise ValueError(f"step must be an integer >= 0, got {step!r}")
        if not isinstance(param, str) or not param:
            raise ValueError(f"param must be a non-empty name such as 'lr', got {param!r}")
        if runs is not None:
            runs = tuple(int(r) for r in np.atleast_1d(runs))
            if any(r < 0 for r in runs):
                raise ValueError(f"runs must be run indices >= 0, got {runs}")
        event = Event(int(step), param, _frozen_value(old), _frozen_value(new), runs)
        self._events.append(event)
        return event

    @property
    def events(self) -> list[Event]:
        """The events in the order they were added (a copy)."""
        return list(self._events)

    def event_text(self, step: int, run: int, first: int | None = None) -> str:
        """The events that concern ``run`` at ``step`` (or at any step in ``[first,
        step]``), as ``"lr: 0.1 -> 0.05"`` joined by ``"; "`` (``""`` when none): the
        ``events`` column of the CSV export.  An ``(R,)`` value shows run ``run``'s entry."""
        lo = step if first is None else first
        parts = [f"{e.param}: {_fmt(e.old, run)} -> {_fmt(e.new, run)}"
                 for e in self._events
                 if lo <= e.step <= step and (e.runs is None or run in e.runs)]
        return "; ".join(parts)

    def event_rows(self) -> list[dict]:
        """One dict per event: step, param, old, new, runs (as text)."""
        return [{"step": e.step, "param": e.param, "old": _fmt(e.old), "new": _fmt(e.new),
                 "runs": "all" if e.runs is None else " ".join(map(str, e.runs))}
                for e in self._events]


class StoredHistory(EventLog):
    """An :class:`EventLog` whose rows live in one :class:`Buffers` store, opened at the
    first record: the history of either loop.  Its length is the number of rows; a
    :func:`column` reads one named array of the store."""

    def __init__(self):
        EventLog.__init__(self)
        self._store: Buffers | None = None

    def _open(self, shapes: dict, pad: dict | None = None) -> None:
        self._store = Buffers(shapes, pad=pad)

    def __len__(self) -> int:
        return 0 if self._store is None else len(self._store)

    def _view(self, name: str) -> np.ndarray:
        if self._store is None:
            raise ValueError("the history is empty; append a record first")
        return self._store.view(name)


def column(name: str, doc: str) -> property:
    """A read-only property of a :class:`StoredHistory`: the filled part of column ``name``."""
    return property(lambda self: self._view(name), doc=doc)


def _frozen_value(v):
    if isinstance(v, np.ndarray):
        v = np.array(v)
        v.flags.writeable = False
    return v


def _fmt(v, run: int | None = None) -> str:
    if isinstance(v, np.ndarray) and v.ndim == 1 and run is not None and run < v.shape[0]:
        v = v[run]
    if isinstance(v, np.ndarray):
        return "[" + " ".join(_fmt(x) for x in v.ravel().tolist()) + "]"
    if isinstance(v, (tuple, list)):
        return "(" + ", ".join(_fmt(x) for x in v) + ")"
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return str(v)


# ---------------------------------------------------------------------------- CSV


def write_csv(rows: Iterable[dict], path_or_buffer, fields: Sequence[str] | None = None
              ) -> None:
    """Write ``rows`` (dicts) as CSV, header first, to a path or a text buffer.

    ``fields`` are the columns in order (default: every key, in order of appearance);
    lines end with ``"\\n"``; floats are written with ``repr`` (round-trip exact).
    """
    rows = list(rows)
    if fields is None:
        fields = list(dict.fromkeys(k for r in rows for k in r))
    if hasattr(path_or_buffer, "write"):
        _write(path_or_buffer, fields, rows)
    else:
        with open(path_or_buffer, "w", newline="", encoding="utf-8") as f:
            _write(f, fields, rows)


def csv_text(rows: Iterable[dict], fields: Sequence[str] | None = None) -> str:
    """The CSV text :func:`write_csv` writes."""
    buf = io.StringIO()
    write_csv(rows, buf, fields)
    return buf.getvalue()


def _write(f, fields, rows):
    w = csv.DictWriter(f, fieldnames=list(fields), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
