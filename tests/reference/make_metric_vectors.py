"""Write tests/reference/metrics.npz: reference numbers for engine.metrics and engine.models.

Run ``python tests/reference/make_metric_vectors.py`` (needs scikit-learn and torch).  The
inputs are drawn here from a fixed seed and stored next to the outputs, so the tests read
both and never recompute the reference.

* ``reg_*``, ``const_*``, ``bin_*``, ``multi_*``: sklearn.metrics on regression, constant
  targets, binary and multiclass predictions (probabilities include exact 0, 0.5 and 1).
* ``model_*``: losses and autograd gradients of the three models from torch
  (``MSELoss``, ``BCEWithLogitsLoss``, ``CrossEntropyLoss`` plus ``l2/2 * ||w||^2``), for a
  batch shared by all runs and for one batch per run, with and without L2.
"""

from pathlib import Path

import numpy as np
import torch
from sklearn import metrics as skm

OUT = Path(__file__).with_name("metrics.npz")
L2 = 0.1
K = 3


def sk_metric_vectors(rng) -> dict:
    v = {}
    y = rng.normal(2.0, 3.0, size=30)
    P = np.stack([y, y + rng.normal(0, 0.5, 30), rng.normal(2.0, 3.0, 30), np.full(30, y.mean())])
    v["reg_y"], v["reg_p"] = y, P
    v["reg_mse"] = np.array([skm.mean_squared_error(y, p) for p in P])
    v["reg_rmse"] = np.array([skm.root_mean_squared_error(y, p) for p in P])
    v["reg_mae"] = np.array([skm.mean_absolute_error(y, p) for p in P])
    v["reg_r2"] = np.array([skm.r2_score(y, p) for p in P])

    yc = np.full(6, 1.5)
    Pc = np.stack([yc, yc + np.linspace(-1, 1, 6)])
    v["const_y"], v["const_p"] = yc, Pc
    v["const_r2"] = np.array([skm.r2_score(yc, p) for p in Pc])

    yb = rng.integers(0, 2, size=40)
    pb = rng.uniform(size=(5, 40))
    pb[0, :6] = [0.0, 1.0, 0.5, 0.0, 1.0, 0.5]
    pb[1] = yb                      # perfect, as probabilities 0 and 1
    pb[2] = 1.0 - yb                # all wrong at probability 0 / 1
    pb[3] = 0.2                     # predicts no positive: precision's zero division
    v["bin_y"], v["bin_p"] = yb, pb
    labels = (pb > 0.5).astype(np.int64)
    v["bin_labels"] = labels
    v["bin_accuracy"] = np.array([skm.accuracy_score(yb, q) for q in labels])
    v["bin_precision"] = np.array([skm.precision_score(yb, q, zero_division=0.0)
                                   for q in labels])
    v["bin_recall"] = np.array([skm.recall_score(yb, q, zero_division=0.0) for q in labels])
    v["bin_f1"] = np.array([skm.f1_score(yb, q, zero_division=0.0) for q in labels])
    v["bin_log_loss"] = np.array([skm.log_loss(yb, p, labels=[0, 1]) for p in pb])

    ym = rng.integers(0, 4, size=30)
    pm = rng.dirichlet(np.ones(4), size=(3, 30))
    pm[1] = np.eye(4)[ym]           # perfect one-hot
    pm[2, :10] = np.eye(4)[(ym[:10] + 1) % 4]  # confidently wrong at probability 0
    v["multi_y"], v["multi_p"] = ym, pm
    v["multi_log_loss"] = np.array([skm.log_loss(ym, p, labels=range(4)) for p in pm])
    v["multi_accuracy"] = np.array([skm.accuracy_score(ym, p.argmax(1)) for p in pm])
    return v


def torch_model(kind: str, theta, X, y, l2: float):
    """Loss and gradient of one run's theta (P,) on a batch X (N, F), y (N,)."""
    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    Xt = torch.tensor(X, dtype=torch.float64)
    F = X.shape[1]
    if kind == "softmax":
        Wb = t.reshape(F + 1, K)
        W = Wb[:F]
        z = Xt @ W + Wb[F]
        loss = torch.nn.CrossEntropyLoss()(z, torch.tensor(y, dtype=torch.int64))
    else:
        W = t[:F]
        z = Xt @ W + t[F]
        target = torch.tensor(y, dtype=torch.float64)
        fn = torch.nn.MSELoss() if kind == "linear" else torch.nn.BCEWithLogitsLoss()
        loss = fn(z, target)
    loss = loss + 0.5 * l2 * (W * W).sum()
    loss.backward()
    return loss.item(), t.grad.numpy().copy()


def model_vectors(rng) -> dict:
    v = {}
    R, N, B, F = 4, 12, 5, 3
    v["model_X"] = rng.normal(size=(N, F))
    v["model_Xb"] = rng.normal(size=(R, B, F))
    targets = {
        "linear": (rng.normal(size=N), rng.normal(size=(R, B))),
        "logistic": (rng.integers(0, 2, N), rng.integers(0, 2, (R, B))),
        "softmax": (rng.integers(0, K, N), rng.integers(0, K, (R, B))),
    }
    for kind, (y, yb) in targets.items():
        P = (F + 1) * (K if kind == "softmax" else 1)
        theta = rng.normal(size=(R, P))
        v[f"model_{kind}_y"], v[f"model_{kind}_yb"], v[f"model_{kind}_theta"] = y, yb, theta
        for l2 in (0.0, L2):
            tag = f"{kind}_l2" if l2 else kind
            shared = [torch_model(kind, th, v["model_X"], y, l2) for th in theta]
            per_run = [torch_model(kind, th, v["model_Xb"][r], yb[r], l2)
                       for r, th in enumerate(theta)]
            v[f"model_{tag}_loss"] = np.array([s[0] for s in shared])
            v[f"model_{tag}_grad"] = np.stack([s[1] for s in shared])
            v[f"model_{tag}_loss_b"] = np.array([s[0] for s in per_run])
            v[f"model_{tag}_grad_b"] = np.stack([s[1] for s in per_run])
    v["model_l2"] = np.array(L2)

    # extreme logits: one feature, x = 1, z = w + b = +-1e4 for both labels
    theta = np.array([[1e4, 0.0], [-1e4, 0.0]])
    ext = [[torch_model("logistic", th, np.ones((1, 1)), np.array([lab]), 0.0)
            for th in theta] for lab in (0, 1)]
    v["model_extreme_theta"] = theta
    v["model_extreme_loss"] = np.array([[e[0] for e in row] for row in ext])   # (label, run)
    v["model_extreme_grad"] = np.array([[e[1] for e in row] for row in ext])
    return v


def main():
    rng = np.random.default_rng(20240611)
    vectors = {**sk_metric_vectors(rng), **model_vectors(rng)}
    np.savez_compressed(OUT, **vectors)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(vectors)} arrays)")


if __name__ == "__main__":
    main()
