"""The public app of the models family."""

from __future__ import annotations

from .lab import ModelsLab

__all__ = ["models_lab"]


def models_lab(dataset: str = "linear", seed: int = 0) -> ModelsLab:
    r"""Put :math:`(w, b)` by hand and watch the fit, the loss (MSE, binary or softmax
    cross-entropy), the metrics on train and validation, the loss slice with
    :math:`\pm\nabla L` and the gradient checked by finite differences; then press play
    (Space) and gradient descent starts from that point, one step a frame."""
    return ModelsLab(dataset, seed)
