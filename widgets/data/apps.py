r"""The data apps, each built in one line by a notebook and returning its lab.

>>> from descentlab.widgets.data import batch_size_explorer
>>> batch_size_explorer()                 # doctest: +SKIP

Each lab is displayable itself and built paused at iteration 0.
"""

from __future__ import annotations

from descentlab.engine import kinds

from .config import DataModel, Run
from .lab import GENERATED, BatchSizeLab, EarlyStoppingLab, HighDimLab, RegularizationLab

__all__ = ["batch_size_explorer", "early_stopping_trainer", "regularization_explorer",
           "high_dimensions_explorer"]


def batch_size_explorer(dataset: str = "linear", batch_sizes=(1, 8, 32, 128, None),
                        kind: str = "GD", lr: float | None = None, lrs=None,
                        epochs: int = 10, n: int = 400, seed: int = 0) -> BatchSizeLab:
    r"""Mini-batch SGD with several batch sizes on the same data, same seed (a fair race).

    ``None`` in ``batch_sizes`` is the full batch :math:`B = N`.  Each batch size has its
    own learning rate (``lrs``, one per batch size; default ``lr`` for all, and ``lr``
    defaults to the kind's usual start, :data:`descentlab.engine.kinds.FIELD_LR`: 1e-2 for
    SGD).  Loss per iteration shows the noise of small batches; loss per epoch compares
    equal passes over the data (an epoch is :math:`\lceil N/B \rceil` iterations); the
    gradient-noise tab shows :math:`\mathbb{E}\lVert g_{\mathcal B}-\nabla L\rVert^2`
    falling with B.  Typical batch sizes in practice: 32-128.
    """
    params = {"n": n} if dataset in GENERATED else {}
    base = kinds.FIELD_LR.get(kind, 1e-2) if lr is None else lr
    model = DataModel(dataset=dataset, dataset_params=params, epochs=epochs, seed=seed,
                      runs=[Run(kind, base, 1)])
    N = model.built().n_train                 # the data set, built once and kept
    sizes = [N if b is None else int(b) for b in batch_sizes]
    rates = [base] * len(sizes) if lrs is None else [float(v) for v in lrs]
    if len(rates) != len(sizes):
        raise ValueError(f"lrs must give one learning rate per batch size ({len(sizes)}); "
                         f"got {len(rates)}")
    model.runs = [Run(kind, v, B) for B, v in zip(sizes, rates, strict=True)]
    return BatchSizeLab(model, filename=f"batch_sizes_{dataset}.csv", n=n)


def early_stopping_trainer(degree: int = 15, kind: str = "Adam", lrs=(0.05, 0.01),
                           batch_size: int = 4, patience: int = 5, min_delta: float = 0.0,
                           epochs: int = 1000, n: int = 24, noise: float = 0.5,
                           val_fraction: float = 0.5, seed: int = 3) -> EarlyStoppingLab:
    """Polynomial features of a high degree on few points overfit: the validation loss
    turns up while the training loss keeps falling.  Early stopping watches the validation
    loss, stops after ``patience`` epochs (5, the common default) without an improvement
    larger than ``min_delta``, marks the best epoch and (restore best) puts its parameters
    back.  The defaults (24 noisy points, half of them for validation, degree 15) make the
    overfitting plain: without early stopping the validation loss grows tenfold."""
    model = DataModel(dataset="polynomial",
                      dataset_params={"n": n, "noise": noise, "val_fraction": val_fraction},
                      degree=degree, epochs=epochs, seed=seed, early_stopping=True,
                      patience=patience, min_delta=min_delta,
                      runs=[Run(kind, float(v), batch_size) for v in lrs])
    return EarlyStoppingLab(model, filename="early_stopping.csv")


def regularization_explorer(lam: float = 0.1, degree: int = 15, lr: float = 0.05,
                            batch_size: int = 4, epochs: int = 600, n: int = 24,
                            noise: float = 0.5, val_fraction: float = 0.5,
                            seed: int = 3) -> RegularizationLab:
    r"""No regularization, an L2 penalty in the loss (Adam on
    :math:`L + \frac{\lambda}{2}\lVert w\rVert^2`) and decoupled weight decay (AdamW,
    :math:`\theta \leftarrow \theta(1-\eta\lambda)`) side by side at the same
    :math:`\lambda`, on few points with high-degree polynomial features that overfit.
    The λ slider runs from 1e-5 to 1: past the usual 1e-4..1e-2, over-regularizing
    (underfitting) is reachable.

    The defaults (24 noisy points, half for validation, degree 15, Adam at η = 0.05 so
    the overfitting shows within 600 epochs) separate the three runs: validation MSE
    about 4.5 without a penalty, 0.35 with L2 and 0.29 with AdamW at λ = 0.1; at λ = 1
    AdamW underfits (training MSE about 2)."""
    model = DataModel(dataset="polynomial",
                      dataset_params={"n": n, "noise": noise, "val_fraction": val_fraction},
                      degree=degree, epochs=epochs, seed=seed,
                      runs=[Run("Adam", lr, batch_size), Run("Adam", lr, batch_size, lam),
                            Run("AdamW", lr, batch_size, 0.0, lam)])
    return RegularizationLab(model, filename="regularization.csv")


def high_dimensions_explorer(optimizers=("GD", "Momentum", "RMSprop", "Adam"), lrs=None,
                             batch_size: int = 32, epochs: int = 30,
                             standardize: bool = True, seed: int = 0) -> HighDimLab:
    r"""Logistic regression on breast_cancer (569 tumours, 30 features, 80/20 train/val
    split, standardized on the training rows unless ``standardize=False``): one run per
    optimizer kind in ``optimizers``, each with its own learning rate (``lrs``; default the
    field's start for the kind, :data:`descentlab.engine.kinds.FIELD_LR`: SGD 1e-2, Adam
    1e-3), all with mini-batches of ``batch_size`` in the same order (a fair race).

    Shows the 30 weight traces of the inspected run, each run's step size per coordinate
    -- SGD's single :math:`\eta` against Adam's :math:`\eta/(\sqrt{\hat v_i}+\epsilon)`,
    the engine's :func:`descentlab.engine.optimizers.internals` ``eff_lr`` --, training
    and validation loss, accuracy and log-loss."""
    names = list(optimizers)
    if not names:
        raise ValueError("optimizers must name at least one optimizer kind")
    rates = [kinds.FIELD_LR.get(k, 1e-2) for k in names] if lrs is None \
        else [float(v) for v in lrs]
    if len(rates) != len(names):
        raise ValueError(f"lrs must give one learning rate per kind ({len(names)}); got "
                         f"{len(rates)}")
    model = DataModel(dataset="breast_cancer",
                      dataset_params={"standardize_features": bool(standardize)},
                      epochs=epochs, seed=seed,
                      runs=[Run(k, v, batch_size) for k, v in zip(names, rates, strict=True)],
                      selected=len(names) - 1)
    return HighDimLab(model, filename="high_dimensions.csv")
