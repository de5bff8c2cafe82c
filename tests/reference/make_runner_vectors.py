"""Write tests/reference/runner.npz: torch.optim trajectories for the runner's tests.

Run ``python tests/reference/make_runner_vectors.py`` (needs torch).  Each run is one
float64 tensor with its own ``torch.optim`` optimizer on the Rosenbrock function
``(1 - x)^2 + 100 (y - x^2)^2`` (gradients by autograd), from ``start``:

* ``race_*``: 6 runs = SGD(momentum=0.9) x 2 lrs, Adam x 2 lrs, RMSprop x 2 lrs, 30 steps;
  the SGD lr 0.01 run blows up (its params become inf/NaN in torch).
* ``swap_*``: one Adam run, lr 0.05 for 10 steps then ``param_groups[0]["lr"] = 0.01``
  for 10 more: what the lab's player does when the learning-rate slider moves.
* ``plateau<i>_*``: the cases of ``PLATEAU``: each run its own optimizer and its own
  ``torch.optim.lr_scheduler.ReduceLROnPlateau(mode="min", ...)``, stepped with the loss at
  the new parameters after every ``every``-th step (``scheduler.step(L(θ_t))``); stored
  also the lr each step used ``(T, R)``.  The surfaces: Rosenbrock above and the rotated
  quadratic ``0.5 (u^2 + κ v^2)``, ``u, v`` along the axes at ``angle`` degrees.

Stored: the params after every step ``(T+1, R, 2)`` and the loss there ``(T+1, R)``.
"""

import json
import math
from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).with_name("runner.npz")
START = np.array([-1.5, 2.0])
RACE = [("sgd", 1e-3), ("sgd", 1e-2), ("adam", 0.01), ("adam", 0.05), ("rmsprop", 1e-3),
        ("rmsprop", 0.02)]
RACE_STEPS = 30
SWAP_LRS = [0.05] * 10 + [0.01] * 10


# (surface, surface params, start, optimizer, its kwargs, lrs (one run each), plateau kwargs,
#  every, steps)
PLATEAU = [
    ("rosenbrock", {}, [-1.5, 2.0], "adam", {}, [0.05, 0.02],
     {"factor": 0.5, "patience": 5, "cooldown": 2}, 1, 300),
    ("quadratic", {"condition": 20.0, "angle": 30.0}, [-2.5, 1.0], "sgd", {"momentum": 0.9},
     [0.05, 0.0125], {"factor": 0.5, "patience": 3, "threshold": 1e-3}, 1, 150),
    ("quadratic", {"condition": 20.0, "angle": 30.0}, [-2.5, 1.0], "sgd", {},
     [0.099], {"factor": 0.3, "patience": 2, "threshold": 0.05, "threshold_mode": "abs",
               "min_lr": 5e-3, "cooldown": 1}, 4, 200),
]


def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def quadratic(p, condition=10.0, angle=0.0):
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    u = c * p[0] + s * p[1]
    v = -s * p[0] + c * p[1]
    return 0.5 * (u ** 2 + condition * v ** 2)


SURFACES = {"rosenbrock": rosenbrock, "quadratic": quadratic}


def plateau_trajectory(surface, surface_kw, start, name, opt_kw, lr, plateau_kw, every,
                       steps):
    """One torch run under ReduceLROnPlateau: (params (T+1, 2), loss (T+1,), lrs (T,))."""
    f = SURFACES[surface]
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[name]([p], lr=lr, **opt_kw)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", **plateau_kw)
    params, losses, lrs = [p.detach().clone().numpy()], [float(f(p.detach(), **surface_kw))], []
    for t in range(1, steps + 1):
        lrs.append(opt.param_groups[0]["lr"])
        opt.zero_grad()
        f(p, **surface_kw).backward()
        opt.step()
        with torch.no_grad():
            v = float(f(p, **surface_kw))
        params.append(p.detach().clone().numpy())
        losses.append(v)
        if t % every == 0:
            sched.step(v)
    return np.array(params), np.array(losses), np.array(lrs)


def plateau_case(case):
    """The runs of one ``PLATEAU`` case stacked: params (T+1, R, 2), loss (T+1, R),
    lrs (T, R)."""
    surface, skw, start, name, okw, lrs, pkw, every, steps = case
    runs = [plateau_trajectory(surface, skw, start, name, okw, lr, pkw, every, steps)
            for lr in lrs]
    return tuple(np.stack([r[i] for r in runs], axis=1) for i in range(3))


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
    plateau = {}
    for i, case in enumerate(PLATEAU):
        P, L, LR = plateau_case(case)
        plateau.update({f"plateau{i}_params": P, f"plateau{i}_loss": L, f"plateau{i}_lrs": LR})
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
        plateau_cases=np.array(json.dumps(PLATEAU)),
        **plateau,
        torch_version=np.array(torch.__version__),
    )
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
