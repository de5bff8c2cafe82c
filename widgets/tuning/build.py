r"""Config -> engine objects for the tuning board, built once per validated config.

* :class:`Built` -- the engine data set and the model matched to its task;
* :class:`Plan` -- the search as rounds: what each round trains (:class:`Round`) for grid
  and random search (one configuration a round) and the rung schedule of successive
  halving and of one Hyperband bracket (one rung a round, the survivors chosen from the
  previous rung's results); the batch-size step is a grid over the listed batch sizes at
  the best learning rate.

Every score is the engine's (:func:`descentlab.engine.tuning.evaluate_configs`); the
random configurations are :func:`~descentlab.engine.tuning.sample_configs` with the seed
:func:`~descentlab.engine.tuning.random_search` uses, so a played search equals the
engine's search run at once.

TEMPORARY (until ``engine.tuning`` exposes them): :func:`rank` (the engine's ranking of
rows: top rung first, diverged / non-finite last) and :func:`bracket` (a Hyperband
bracket's size and first budget) mirror private engine code.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from descentlab.engine import batching, data, models, tuning
from descentlab.widgets.ui.parse import parse_ints

__all__ = ["SEARCHES", "ETA", "Built", "Round", "Plan", "load", "plan", "rank", "bracket",
           "parse_sizes", "make_model"]

SEARCHES = ("grid", "random", "successive halving", "hyperband")
ETA = 3


def make_model(ds: data.Dataset) -> models.Model:
    """Linear, logistic or softmax regression by the data's task."""
    return models.for_task(ds.task, ds.n_classes)


class Built(NamedTuple):
    dataset: data.Dataset
    model: models.Model


def load(name: str, seed: int = 0) -> Built:
    """The named data set and its model (ValueError naming the valid names)."""
    ds = data.make_dataset(name, seed=seed)
    return Built(ds, make_model(ds))


def parse_sizes(text: str) -> tuple[int, ...]:
    """Step 2's batch sizes, ``"8, 32, 128"`` -> ``(8, 32, 128)`` (repeats dropped);
    ValueError naming the box otherwise."""
    return tuple(dict.fromkeys(parse_ints(text, "batch sizes")))


class Round(NamedTuple):
    """One round: the configurations it trains (or, for a rung after the first, how many
    survive from the previous rung), the epochs, the rung and the stage."""

    configs: tuple          # dicts; empty for a later rung (the survivors are chosen live)
    keep: int               # how many of the previous rung survive (later rungs)
    epochs: int
    rung: int
    stage: str              # "lr" or "batch size"


class Plan(NamedTuple):
    """The rounds of one search, ``stage`` "lr" (step 1) or "batch size" (step 2)."""

    search: str
    stage: str
    rounds: tuple
    batch_size: int
    seed: int


def bracket(max_epochs: int, eta: int = ETA) -> tuple[int, int]:
    """``(n configurations, first-rung epochs)`` of the most exploratory Hyperband
    bracket for ``max_epochs`` (as :func:`engine.tuning.hyperband_bracket`)."""
    s = int(math.floor(math.log(max_epochs, eta) + 1e-9))
    return int(math.ceil((s + 1) / (s + 1) * eta ** s)), max(1, max_epochs // eta ** s)


def _halving(configs, r: int, max_epochs: int, eta: int = ETA) -> list[Round]:
    out = [Round(tuple(configs), len(configs), r, 0, "lr")]
    n, rung = len(configs), 0
    while n > 1 and r * eta <= max_epochs:
        n, r, rung = max(1, n // eta), r * eta, rung + 1
        out.append(Round((), n, r, rung, "lr"))
    return out


def plan(built: Built, search: str, lr_lo: float, lr_hi: float, trials: int, epochs: int,
         batch_size: int, seed: int = 0, stage: str = "lr", best_lr: float | None = None,
         batch_sizes: tuple = ()) -> Plan:
    """The rounds of a search (validates everything; ValueError naming the parameter)."""
    N = built.dataset.X_train.shape[0]
    batching.check_batch_size(batch_size, N)
    for B in batch_sizes:                       # step 2's sizes: refused as soon as typed
        batching.check_batch_size(B, N)
    if stage == "batch size":
        if best_lr is None:
            raise ValueError("step 2 needs the best learning rate of step 1: run step 1 "
                             "to the end first")
        rounds = tuple(Round(({"lr": float(best_lr), "batch_size": int(B)},), 1, epochs, 0,
                             stage) for B in batch_sizes)
        return Plan("grid", stage, rounds, batch_size, seed)
    if search not in SEARCHES:
        raise ValueError(f"search must be one of {list(SEARCHES)}; got {search!r}")
    if not (0 < lr_lo < lr_hi and math.isfinite(lr_hi)):
        raise ValueError(f"the lr range must satisfy 0 < lr from < lr to; got "
                         f"[{lr_lo:g}, {lr_hi:g}]")
    space = {"lr": tuning.log_uniform(lr_lo, lr_hi), "batch_size": int(batch_size)}
    sampled = tuning.sample_configs(space, trials, np.random.default_rng([seed, 1]))
    if search == "grid":
        lrs = np.geomspace(lr_lo, lr_hi, trials)
        rounds = tuple(Round(({"lr": float(v), "batch_size": int(batch_size)},), 1, epochs,
                             0, stage) for v in lrs)
    elif search == "random":
        rounds = tuple(Round((c,), 1, epochs, 0, stage) for c in sampled)
    elif search == "successive halving":
        max_epochs = epochs * ETA ** int(math.floor(math.log(trials, ETA) + 1e-9))
        rounds = tuple(_halving(sampled, epochs, max_epochs))
    else:
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1; got {epochs}")
        n, r = bracket(epochs)
        configs = tuning.sample_configs(space, n, np.random.default_rng([seed, 1]))
        rounds = tuple(_halving(configs, r, epochs))
    return Plan(search, stage, rounds, batch_size, seed)


def rank(rows, mode: str = "min") -> list[dict]:
    """Rows best first: the highest rung first, then diverged or non-finite scores last,
    then by score (lowest first for ``mode`` "min")."""
    def key(row):
        s = row["score"]
        bad = row["stop_reason"] == "diverged" or not math.isfinite(s)
        return (-row["rung"], bad, (s if mode == "min" else -s) if not bad else 0.0)
    return sorted(rows, key=key)
