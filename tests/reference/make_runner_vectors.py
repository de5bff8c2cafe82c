"""Write tests/reference/runner.npz: torch.optim trajectories for the runner's tests.

Run ``python tests/reference/make_runner_vectors.py`` (needs torch).  Each run is one
float64 tensor with its own ``torch.optim`` optimizer on the Rosenbrock function
``(1 - x)^2 + 100 (y - x^2)^2`` (gradients by autograd), from ``start``:

* ``race_*``: 6 runs = SGD(momentum=0.9) x 2 lrs, Adam x 2 lrs, RMSprop x 2 lrs, 30 steps;
  the SGD lr 0.01 run blows up (its params become inf/NaN in torch).
* ``swap_*``: one Adam run, lr 0.05 for 10 steps then ``param_groups[0]["lr"] = 0.01``
  for 10 more: what the lab's player does when the learning-rate slider moves.

Stored: the params after every step ``(T+1, R, 2)`` and the loss there ``(T+1, R)``.
"""

from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).with_name("runner.npz")
START = np.array([-1.5, 2.0])
RACE = [("sgd", 1e-3), ("sgd", 1e-2), ("adam", 0.01), ("adam", 0.05), ("rmsprop", 1e-3),
        ("rmsprop", 0.02)]
RACE_STEPS = 30
SWAP_LRS = [0.05] * 10 + [0.01] * 10


def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def make(name, lr, p):
    if name == "sgd":
        return torch.optim.SGD([p], lr=lr, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam([p], lr=lr)
    return torch.optim.RMSprop([p], lr=lr)


def trajectory(name, lrs):
    p = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    opt = make(name, lrs[0], p)
    params, losses = [p.detach().clone().numpy()], [float(rosenbrock(p.detach()))]
    for lr in lrs:
        opt.param_groups[0]["lr"] = lr
        opt.zero_grad()
        rosenbrock(p).backward()
        opt.step()
        with torch.no_grad():
            params.append(p.detach().clone().numpy())
            losses.append(float(rosenbrock(p)))
    return np.array(params), np.array(losses)


def main():
    with np.errstate(all="ignore"):
        race = [trajectory(n, [lr] * RACE_STEPS) for n, lr in RACE]
        swap = trajectory("adam", SWAP_LRS)
    np.savez_compressed(
        OUT,
        start=START,
        race_names=np.array([n for n, _ in RACE]),
        race_lrs=np.array([lr for _, lr in RACE]),
        race_params=np.stack([p for p, _ in race], axis=1),
        race_loss=np.stack([loss for _, loss in race], axis=1),
        swap_lrs=np.array(SWAP_LRS),
        swap_params=swap[0][:, None],
        swap_loss=swap[1][:, None],
        torch_version=np.array(torch.__version__),
    )
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
