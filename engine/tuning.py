r"""Hyperparameter search as vectorized batches of runs: grid, random, successive halving and
one Hyperband bracket.

A *configuration* is a dict of hyperparameters, e.g. ``{"lr": 0.01, "momentum": 0.9}``; the
keys are the optimizer's keyword arguments, plus ``"optimizer"`` (a name from
:data:`.optimizers.OPTIMIZERS`) and ``"batch_size"``.  All configurations of a round (a
grid, the random trials, one rung of successive halving) are trained **together**: numeric
hyperparameters become ``(R,)`` arrays, configurations of different optimizer types (or
different non-numeric options such as ``nesterov``) sit side by side through
:func:`.optimizers.race`, so a round is one :func:`.training.train` call per batch size --
no Python loop over configurations.  Every run sees the same batches (``seed``).

Each search returns a :class:`TuneTable`: one row per configuration with its score (the
``metric`` at the final parameters), epochs, iterations (``steps``) and stop reason, best
first; ``log`` keeps every run of every round in the order they were trained.

Successive halving (Jamieson & Talwalkar 2016) with rate :math:`\eta`: train :math:`n`
configurations for :math:`r` epochs, keep the best :math:`\lfloor n/\eta \rfloor`, train them
for :math:`\eta r` epochs (from scratch, same batch order), and so on up to ``max_epochs``.
A Hyperband bracket :math:`s` (Li et al. 2018) is successive halving with
:math:`n = \lceil \frac{s_{\max}+1}{s+1} \eta^s \rceil` configurations starting at
:math:`r = R \eta^{-s}` epochs, :math:`s_{\max} = \lfloor \log_\eta R \rfloor`.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from typing import NamedTuple

import numpy as np

from . import optimizers as O
from . import training
from .batching import as_seed
from .checks import check_int, hparam
from .records import csv_text

__all__ = [
    "LogUniform",
    "Uniform",
    "Choice",
    "log_uniform",
    "uniform",
    "choice",
    "TuneTable",
    "sample_configs",
    "evaluate_configs",
    "grid_search",
    "random_search",
    "successive_halving",
    "hyperband_bracket",
]

TRAIN_KEYS = ("batch_size",)


# ---------------------------------------------------------------------------- search spaces


class LogUniform(NamedTuple):
    r""":math:`\log x \sim U(\log lo, \log hi)`: the learning rate's natural scale."""

    lo: float
    hi: float


class Uniform(NamedTuple):
    """:math:`x \\sim U(lo, hi)`."""

    lo: float
    hi: float


class Choice(NamedTuple):
    """One of ``values``, each equally likely."""

    values: tuple


def log_uniform(lo: float, hi: float) -> LogUniform:
    lo = hparam(lo, "lo", 0.0, lo_open=True)
    hi = hparam(hi, "hi", 0.0, lo_open=True)
    if not (isinstance(lo, float) and isinstance(hi, float) and lo <= hi):
        raise ValueError(f"log_uniform needs scalars 0 < lo <= hi; got lo={lo}, hi={hi}")
    return LogUniform(lo, hi)


def uniform(lo: float, hi: float) -> Uniform:
    lo, hi = hparam(lo, "lo"), hparam(hi, "hi")
    if not (isinstance(lo, float) and isinstance(hi, float) and lo <= hi):
        raise ValueError(f"uniform needs scalars lo <= hi; got lo={lo}, hi={hi}")
    return Uniform(lo, hi)


def choice(*values) -> Choice:
    if not values:
        raise ValueError("choice needs at least one value")
    return Choice(tuple(values))


def sample_configs(space: dict, n: int, rng) -> list[dict]:
    """``n`` configurations drawn from ``space``: values are :class:`LogUniform`,
    :class:`Uniform`, :class:`Choice` (a list or tuple counts as a choice) or a constant.
    One vectorized draw per key, in key order, from ``rng`` (Generator or int seed)."""
    n = check_int(n, "n_trials", 1)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(as_seed(rng))
    cols = {}
    for key, dist in space.items():
        if isinstance(dist, LogUniform):
            cols[key] = np.exp(rng.uniform(np.log(dist.lo), np.log(dist.hi), n)).tolist()
        elif isinstance(dist, Uniform):
            cols[key] = rng.uniform(dist.lo, dist.hi, n).tolist()
        elif isinstance(dist, (Choice, list, tuple)):
            values = dist.values if isinstance(dist, Choice) else tuple(dist)
            if not values:
                raise ValueError(f"the choices for {key!r} are empty")
            cols[key] = [values[i] for i in rng.integers(0, len(values), n)]
        else:
            cols[key] = [dist] * n
    return [{k: cols[k][i] for k in space} for i in range(n)]


# ---------------------------------------------------------------------------- results


class TuneTable(NamedTuple):
    """Search results: ``rows()`` best first, ``log`` every run in training order.

    Each row: ``rank``, the configuration's keys, ``score`` (``metric`` at the final
    parameters), ``metric``, ``epochs`` (budget), ``steps`` (iterations run),
    ``stop_reason``, ``best_epoch`` (-1 without early stopping), ``rung`` and ``trial``
    (the configuration's index).
    """

    ranked: tuple
    log: tuple
    metric: str
    mode: str

    def rows(self) -> list[dict]:
        return [dict(r) for r in self.ranked]

    @property
    def best(self) -> dict:
        """The best configuration's row."""
        return dict(self.ranked[0])

    def to_csv(self, path_or_buffer=None, which: str = "ranked") -> str:
        """The ranked rows (``which="ranked"``) or the full log (``"log"``) as CSV text,
        also written to ``path_or_buffer`` when given."""
        if which not in ("ranked", "log"):
            raise ValueError(f"which must be 'ranked' or 'log'; got {which!r}")
        rows = self.ranked if which == "ranked" else self.log
        text = csv_text(rows)
        if hasattr(path_or_buffer, "write"):
            path_or_buffer.write(text)
        elif path_or_buffer is not None:
            with open(path_or_buffer, "w", newline="", encoding="utf-8") as f:
                f.write(text)
        return text


def _rank_key(mode):
    def key(row):
        s = row["score"]
        bad = row["stop_reason"] == "diverged" or not math.isfinite(s)
        return (-row["rung"], bad, (s if mode == "min" else -s) if not bad else 0.0)
    return key


def _table(rows, log, metric, mode) -> TuneTable:
    ranked = sorted(rows, key=_rank_key(mode))
    ranked = tuple({"rank": i + 1, **r} for i, r in enumerate(ranked))
    return TuneTable(ranked, tuple(log), metric, mode)


# ---------------------------------------------------------------------------- one round


def _optimizer_fn(name_or_fn):
    if callable(name_or_fn):
        return name_or_fn
    if name_or_fn not in O.OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {list(O.OPTIMIZERS)} or a constructor; "
                         f"got {name_or_fn!r}")
    return O.OPTIMIZERS[name_or_fn]


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _build(configs: list[dict], default_optimizer):
    """One transformation for ``configs`` (in this order): numeric values as ``(R,)``
    arrays, one block per optimizer type / non-numeric option set, raced if several."""
    blocks: dict[tuple, list[int]] = {}
    for i, c in enumerate(configs):
        fixed = tuple(sorted((k, repr(v)) for k, v in c.items()
                             if k not in TRAIN_KEYS and not _is_number(v)))
        blocks.setdefault(fixed, []).append(i)
    order = [i for idx in blocks.values() for i in idx]
    opts, sizes = [], []
    for idx in blocks.values():
        first = configs[idx[0]]
        fn = _optimizer_fn(first.get("optimizer", default_optimizer))
        kw = {k: v for k, v in first.items()
              if k not in TRAIN_KEYS and k != "optimizer" and not _is_number(v)}
        for k in first:
            if k not in TRAIN_KEYS and k != "optimizer" and _is_number(first[k]):
                kw[k] = np.array([float(configs[i][k]) for i in idx])
        opts.append(fn(**kw))
        sizes.append(len(idx))
    opt = opts[0] if len(opts) == 1 else O.race(opts, sizes)
    return opt, order


def evaluate_configs(model, dataset, configs: list[dict], *, optimizer="sgd", epochs: int = 10,
                     batch_size: int = 32, seed=0, metric: str = "val_loss",
                     rung: int = 0, **train_kw) -> list[dict]:
    """Train every configuration for ``epochs`` epochs -- one :func:`.training.train` call
    per distinct batch size -- and return one row per configuration (input order)."""
    rows: list[dict | None] = [None] * len(configs)
    by_batch: dict[int, list[int]] = {}
    for i, c in enumerate(configs):
        by_batch.setdefault(int(c.get("batch_size", batch_size)), []).append(i)
    for B, idx in by_batch.items():
        opt, order = _build([configs[i] for i in idx], optimizer)
        idx = [idx[j] for j in order]
        stream = training.train(model, dataset, opt, epochs=epochs, batch_size=B, seed=seed,
                                **train_kw)
        last = deque(stream, maxlen=1)[0]
        scores = training.evaluate(model, dataset, last.params, train_kw.get("metrics"))
        if metric not in scores:
            raise ValueError(f"metric must be one of {sorted(scores)}; got {metric!r}")
        best = last.best_epoch
        for j, i in enumerate(idx):
            rows[i] = {**configs[i], "score": float(scores[metric][j]), "metric": metric,
                       "epochs": epochs, "steps": int(last.stop_step[j]),
                       "stop_reason": str(last.stop_reason[j]),
                       "best_epoch": -1 if best is None else int(best[j]), "rung": rung}
    return rows


def _check_mode(mode):
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max'; got {mode!r}")


def _trials(model, dataset, configs, metric, mode, **kw) -> TuneTable:
    """All ``configs`` trained as one batch by :func:`evaluate_configs`, numbered as trials."""
    rows = evaluate_configs(model, dataset, configs, metric=metric, **kw)
    for i, r in enumerate(rows):
        r["trial"] = i
    return _table(rows, rows, metric, mode)


# ---------------------------------------------------------------------------- searches


def grid_search(model, dataset, grid: dict, *, optimizer="sgd", epochs: int = 10,
                batch_size: int = 32, seed=0, metric: str = "val_loss", mode: str = "min",
                **train_kw) -> TuneTable:
    """Every combination of ``grid`` values (``{"lr": [1e-3, 1e-2], "momentum": [0, 0.9]}``),
    trained as one batch.  ``train_kw`` go to :func:`.training.train` (e.g.
    ``early_stopping``)."""
    _check_mode(mode)
    keys = list(grid)
    for k in keys:
        if not isinstance(grid[k], (list, tuple)) or not grid[k]:
            raise ValueError(f"grid[{k!r}] must be a non-empty list of values; got {grid[k]!r}")
    configs = [dict(zip(keys, vals, strict=True))
               for vals in itertools.product(*(grid[k] for k in keys))]
    return _trials(model, dataset, configs, metric, mode, optimizer=optimizer, epochs=epochs,
                   batch_size=batch_size, seed=seed, **train_kw)


def random_search(model, dataset, space: dict, n_trials: int, *, optimizer="sgd",
                  epochs: int = 10, batch_size: int = 32, seed=0, metric: str = "val_loss",
                  mode: str = "min", **train_kw) -> TuneTable:
    """``n_trials`` configurations drawn from ``space`` (e.g. ``{"lr": log_uniform(1e-4, 1),
    "momentum": uniform(0, 0.99)}``), trained as one batch.  ``seed`` drives both the draw
    and the batch order."""
    _check_mode(mode)
    s = as_seed(seed)
    configs = sample_configs(space, n_trials, np.random.default_rng([s, 1]))
    return _trials(model, dataset, configs, metric, mode, optimizer=optimizer, epochs=epochs,
                   batch_size=batch_size, seed=s, **train_kw)


def successive_halving(model, dataset, space: dict, *, n_configs: int = 27, eta: int = 3,
                       min_epochs: int = 1, max_epochs: int | None = None,
                       optimizer="sgd", batch_size: int = 32, seed=0,
                       metric: str = "val_loss", mode: str = "min", configs=None,
                       **train_kw) -> TuneTable:
    r"""Successive halving over ``n_configs`` configurations drawn from ``space`` (or the
    given ``configs``): rung :math:`i` trains the survivors for
    :math:`r_i = r_0 \eta^i` epochs as one batch and keeps the best
    :math:`\lfloor n_i / \eta \rfloor` (at least one), until one is left or the next
    budget would exceed ``max_epochs`` (default :math:`r_0 \eta^{\lfloor \log_\eta n
    \rfloor}`)."""
    _check_mode(mode)
    eta = check_int(eta, "eta", 2)
    r = check_int(min_epochs, "min_epochs", 1)
    s = as_seed(seed)
    if configs is None:
        configs = sample_configs(space, n_configs, np.random.default_rng([s, 1]))
    else:
        configs = [dict(c) for c in configs]
        check_int(len(configs), "len(configs)", 1)
    if max_epochs is None:
        max_epochs = r * eta ** int(math.floor(math.log(len(configs), eta) + 1e-9))
    max_epochs = check_int(max_epochs, "max_epochs", r)
    alive = list(range(len(configs)))
    log, final, rung = [], {}, 0
    while True:
        rows = evaluate_configs(model, dataset, [configs[i] for i in alive],
                                optimizer=optimizer, epochs=r, batch_size=batch_size, seed=s,
                                metric=metric, rung=rung, **train_kw)
        for i, row in zip(alive, rows, strict=True):
            row["trial"] = i
            final[i] = row
        log.extend(rows)
        if len(alive) == 1 or r * eta > max_epochs:
            break
        ranked = sorted(rows, key=_rank_key(mode))
        alive = [row["trial"] for row in ranked[:max(1, len(alive) // eta)]]
        r, rung = r * eta, rung + 1
    return _table(list(final.values()), log, metric, mode)


def hyperband_bracket(model, dataset, space: dict, *, max_epochs: int = 27, eta: int = 3,
                      bracket: int | None = None, **kw) -> TuneTable:
    r"""One Hyperband bracket :math:`s` (default the most exploratory,
    :math:`s_{\max} = \lfloor \log_\eta R \rfloor` with :math:`R` = ``max_epochs``):
    successive halving of :math:`\lceil \frac{s_{\max}+1}{s+1}\eta^s \rceil`
    configurations from :math:`\lfloor R\,\eta^{-s} \rfloor` epochs up to :math:`R`."""
    eta = check_int(eta, "eta", 2)
    R = check_int(max_epochs, "max_epochs", 1)
    s_max = int(math.floor(math.log(R, eta) + 1e-9))
    s = s_max if bracket is None else check_int(bracket, "bracket", 0, s_max)
    n = int(math.ceil((s_max + 1) / (s + 1) * eta ** s))
    r = max(1, R // eta ** s)
    return successive_halving(model, dataset, space, n_configs=n, eta=eta, min_epochs=r,
                              max_epochs=R, **kw)
