"""Write tests/reference/models.npz: torch reference numbers for engine.models.mlp.

Run ``python tests/reference/make_model_vectors.py`` (needs torch).  Inputs are drawn here
from fixed seeds and stored next to torch's outputs, so the tests read both; the live tests
import this file and call the same functions to recompute torch's side.

The torch model is ``Sequential(Linear(F, H), Tanh(), Linear(H, 1))`` in float64 with
``MSELoss`` (regression) or ``BCEWithLogitsLoss`` (binary) plus
``l2 / 2 * (|W1|^2 + |w2|^2)``; its parameters are set from the engine's layout
``[W1 (F, H) row-major, b1 (H), w2 (H), b2]`` (``Linear.weight`` is the transpose).

* ``<task>_l2<k>_loss (R,)``, ``..._grad (R, P)``: loss and gradient at R = 4 random points;
* ``<task>_train_epoch_params (E+1, R, P)``, ``..._batch_loss (T, R)``: ``torch.optim.SGD``
  (momentum 0.9) trained one model per run on the engine's shared batch order
  (``batching``, seed stored), E = 3 epochs of batch size 8, from the stored starts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from descentlab.engine import batching

OUT = Path(__file__).with_name("models.npz")
F, H, R = 3, 4, 4
P = H * (F + 2) + 1
L2S = (0.0, 0.1)
TRAIN = {"lrs": (0.01, 0.05, 0.1, 0.2), "momentum": 0.9, "batch_size": 8, "epochs": 3,
         "l2": 0.01}


def inputs(seed: int = 5) -> dict:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((30, F))
    y_reg = np.sin(X @ np.array([1.0, -0.5, 0.25])) + 0.1 * rng.standard_normal(30)
    y_bin = (X[:, 0] * X[:, 1] > 0).astype(np.int64)       # XOR-like: needs the hidden layer
    return {"X": X, "y_regression": y_reg, "y_binary": y_bin,
            "Xv": rng.standard_normal((10, F)), "yv_regression": rng.standard_normal(10),
            "yv_binary": rng.integers(0, 2, 10),
            "params": rng.standard_normal((R, P)), "seed": np.array(3)}


def torch_net(torch, theta, f=F, h=H):
    """``Sequential(Linear(f, h), Tanh(), Linear(h, 1))`` in float64 with the parameters of
    the engine's point ``theta (P,)``."""
    W1 = theta[:f * h].reshape(f, h)
    net = torch.nn.Sequential(torch.nn.Linear(f, h), torch.nn.Tanh(), torch.nn.Linear(h, 1))
    net = net.double()
    with torch.no_grad():
        net[0].weight.copy_(torch.from_numpy(W1.T.copy()))
        net[0].bias.copy_(torch.from_numpy(theta[f * h:f * h + h].copy()))
        net[2].weight.copy_(torch.from_numpy(theta[f * h + h:f * h + 2 * h][None].copy()))
        net[2].bias.copy_(torch.from_numpy(theta[-1:].copy()))
    return net


def torch_loss(torch, net, task, X, y, l2):
    z = net(X)[:, 0]
    if task == "regression":
        data = torch.nn.functional.mse_loss(z, y)
    else:
        data = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    return data + 0.5 * l2 * (net[0].weight.pow(2).sum() + net[2].weight.pow(2).sum())


def flat_grad(net) -> np.ndarray:
    return np.concatenate([net[0].weight.grad.numpy().T.ravel(), net[0].bias.grad.numpy(),
                           net[2].weight.grad.numpy()[0], net[2].bias.grad.numpy()])


def flat_params(net) -> np.ndarray:
    return np.concatenate([net[0].weight.detach().numpy().T.ravel(),
                           net[0].bias.detach().numpy(), net[2].weight.detach().numpy()[0],
                           net[2].bias.detach().numpy()])


def torch_points(torch, inp, task, l2) -> dict:
    X = torch.from_numpy(inp["X"])
    y = torch.from_numpy(inp[f"y_{task}"].astype(np.float64))
    loss, grad = np.zeros(R), np.zeros((R, P))
    for r in range(R):
        net = torch_net(torch, inp["params"][r])
        out = torch_loss(torch, net, task, X, y, l2)
        out.backward()
        loss[r], grad[r] = out.item(), flat_grad(net)
    return {"loss": loss, "grad": grad}


def torch_plane_points(torch, plane, points) -> tuple[np.ndarray, np.ndarray]:
    r"""Loss ``(R,)`` and plane gradient ``(R, 2)`` of ``problems.tanh_net`` at ``points
    (R, 2)`` by torch: for each :math:`(a, b)` the network with its weights set to
    :math:`\theta = c + a d_1 + b d_2` (``plane``: :func:`problems.net_plane`), ``MSELoss``
    backpropagated to :math:`\nabla L(\theta)`, projected on :math:`d_1, d_2`."""
    f, h = plane.X.shape[1], plane.model.hidden
    X, y = torch.from_numpy(plane.X.copy()), torch.from_numpy(plane.y.copy())
    loss, grad = np.zeros(len(points)), np.zeros((len(points), 2))
    for r, (a, b) in enumerate(points):
        net = torch_net(torch, plane.center + a * plane.d1 + b * plane.d2, f, h)
        out = torch_loss(torch, net, "regression", X, y, 0.0)
        out.backward()
        g = flat_grad(net)
        loss[r], grad[r] = out.item(), (g @ plane.d1, g @ plane.d2)
    return loss, grad


def torch_training(torch, inp, task) -> dict:
    X = torch.from_numpy(inp["X"])
    y = torch.from_numpy(inp[f"y_{task}"].astype(np.float64))
    B, E, l2 = TRAIN["batch_size"], TRAIN["epochs"], TRAIN["l2"]
    state = batching.init_batches(X.shape[0], B, seed=int(inp["seed"]))
    order = []
    for _ in range(E * state.per_epoch):
        idx, state = batching.next_batch(state)
        order.append(idx)
    epoch_params = np.zeros((E + 1, R, P))
    batch_loss = np.zeros((len(order), R))
    for r, lr in enumerate(TRAIN["lrs"]):
        net = torch_net(torch, inp["params"][r])
        opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=TRAIN["momentum"])
        epoch_params[0, r] = flat_params(net)
        for t, idx in enumerate(order):
            rows = torch.from_numpy(np.asarray(idx))
            opt.zero_grad()
            loss = torch_loss(torch, net, task, X[rows], y[rows], l2)
            loss.backward()
            batch_loss[t, r] = loss.item()
            opt.step()
            if (t + 1) % state.per_epoch == 0:
                epoch_params[(t + 1) // state.per_epoch, r] = flat_params(net)
    return {"epoch_params": epoch_params, "batch_loss": batch_loss}


def main():
    import torch

    inp = inputs()
    v = dict(inp)
    for task in ("regression", "binary"):
        for k, l2 in enumerate(L2S):
            v.update({f"{task}_l2{k}_{n}": a for n, a in torch_points(torch, inp, task,
                                                                      l2).items()})
        v.update({f"{task}_train_{n}": a for n, a in torch_training(torch, inp, task).items()})
    np.savez_compressed(OUT, **v)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(v)} arrays)")


if __name__ == "__main__":
    main()
