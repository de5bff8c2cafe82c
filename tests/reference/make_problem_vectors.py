"""Write tests/reference/problems.npz: torch losses and autograd gradients of the surfaces.

Run ``python tests/reference/make_problem_vectors.py`` (needs torch).  Each surface is
written here again, independently, in torch from the published formulas; points are
drawn from a fixed seed inside each surface's plotting domain and stored next to the
outputs (``<key>_points``, ``<key>_loss``, ``<key>_grad``), so the tests read all three
and never recompute the reference.  ``<key>_case`` holds the JSON ``[name, params]`` for
``descentlab.engine.problems.get`` (the ``CASES`` table); tests/engine/test_problems.py
also imports
``TORCH_SURFACES`` from this file for its live comparison.
"""

import json
import math
from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).with_name("problems.npz")
N_POINTS = 16


def _quadratic(t, condition=10.0, angle=0.0):
    phi = math.radians(angle)
    c, s = math.cos(phi), math.sin(phi)
    # coordinates along the flat (c, s) and steep (-s, c) axes
    u = c * t[:, 0] + s * t[:, 1]
    v = -s * t[:, 0] + c * t[:, 1]
    return 0.5 * (u ** 2 + condition * v ** 2)


def _goldstein_price(t):
    x, y = t[:, 0], t[:, 1]
    a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x ** 2 - 14 * y + 6 * x * y + 3 * y ** 2)
    b = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x ** 2 + 48 * y - 36 * x * y
                                     + 27 * y ** 2)
    return a * b


def _ackley(t):
    r = torch.sqrt(0.5 * (t ** 2).sum(1))
    return (-20 * torch.exp(-0.2 * r) - torch.exp(0.5 * torch.cos(2 * math.pi * t).sum(1))
            + 20 + math.e)


TORCH_SURFACES = {
    "bowl": lambda t: (t ** 2).sum(1),
    "quadratic": _quadratic,
    "booth": lambda t: (t[:, 0] + 2 * t[:, 1] - 7) ** 2 + (2 * t[:, 0] + t[:, 1] - 5) ** 2,
    "matyas": lambda t: 0.26 * (t ** 2).sum(1) - 0.48 * t[:, 0] * t[:, 1],
    "rosenbrock": lambda t, a=1.0, b=100.0: (a - t[:, 0]) ** 2
    + b * (t[:, 1] - t[:, 0] ** 2) ** 2,
    "beale": lambda t: ((1.5 - t[:, 0] + t[:, 0] * t[:, 1]) ** 2
                        + (2.25 - t[:, 0] + t[:, 0] * t[:, 1] ** 2) ** 2
                        + (2.625 - t[:, 0] + t[:, 0] * t[:, 1] ** 3) ** 2),
    "saddle": lambda t: t[:, 0] ** 2 - t[:, 1] ** 2,
    "monkey_saddle": lambda t: t[:, 0] ** 3 - 3 * t[:, 0] * t[:, 1] ** 2,
    "plateau": lambda t, width=1.0: 1 - torch.exp(-(t ** 2).sum(1) / (2 * width ** 2)),
    "himmelblau": lambda t: ((t[:, 0] ** 2 + t[:, 1] - 11) ** 2
                             + (t[:, 0] + t[:, 1] ** 2 - 7) ** 2),
    "six_hump_camel": lambda t: ((4 - 2.1 * t[:, 0] ** 2 + t[:, 0] ** 4 / 3) * t[:, 0] ** 2
                                 + t[:, 0] * t[:, 1] + (-4 + 4 * t[:, 1] ** 2) * t[:, 1] ** 2),
    "three_hump_camel": lambda t: (2 * t[:, 0] ** 2 - 1.05 * t[:, 0] ** 4 + t[:, 0] ** 6 / 6
                                   + t[:, 0] * t[:, 1] + t[:, 1] ** 2),
    "rastrigin": lambda t, A=10.0: 2 * A + (t ** 2 - A * torch.cos(2 * math.pi * t)).sum(1),
    "ackley": _ackley,
    "styblinski_tang": lambda t: 0.5 * (t ** 4 - 16 * t ** 2 + 5 * t).sum(1),
    "goldstein_price": _goldstein_price,
}

# key -> (surface name, parameters)
CASES = {name: (name, {}) for name in TORCH_SURFACES}
CASES.update({
    "quadratic_k50_a30": ("quadratic", {"condition": 50.0, "angle": 30.0}),
    "quadratic_k3_a-120": ("quadratic", {"condition": 3.0, "angle": -120.0}),
    "rosenbrock_a-2_b5": ("rosenbrock", {"a": -2.0, "b": 5.0}),
    "rastrigin_A3": ("rastrigin", {"A": 3.0}),
    "plateau_w0.5": ("plateau", {"width": 0.5}),
})


def _tanh_net(t):
    """``problems.tanh_net`` in torch: the network of ``problems.net_plane`` as
    ``Sequential(Linear, Tanh, Linear)`` called with weights :math:`\theta = c + a d_1 + b
    d_2` built from the rows of ``t`` (``torch.func.functional_call``), so autograd
    differentiates the MSE through ``a`` and ``b``.  The data and the plane are inputs,
    read from the engine; the loss and its derivatives are torch's."""
    from descentlab.engine import problems

    plane = problems.net_plane()
    f, h = plane.X.shape[1], plane.model.hidden
    net = torch.nn.Sequential(torch.nn.Linear(f, h), torch.nn.Tanh(),
                              torch.nn.Linear(h, 1)).double()
    X, y = torch.from_numpy(plane.X.copy()), torch.from_numpy(plane.y.copy())
    c, d1, d2 = (torch.from_numpy(v.copy()) for v in (plane.center, plane.d1, plane.d2))
    out = []
    for r in range(t.shape[0]):
        theta = c + t[r, 0] * d1 + t[r, 1] * d2
        weights = {"0.weight": theta[:f * h].reshape(f, h).T, "0.bias": theta[f * h:f * h + h],
                   "2.weight": theta[f * h + h:f * h + 2 * h][None], "2.bias": theta[-1:]}
        z = torch.func.functional_call(net, weights, (X,))[:, 0]
        out.append(torch.nn.functional.mse_loss(z, y))
    return torch.stack(out)


# after the table above, so the points drawn for the older cases stay the same
TORCH_SURFACES["tanh_net"] = _tanh_net
CASES["tanh_net"] = ("tanh_net", {})


def torch_loss_and_grad(name, params, points):
    """(loss (R,), grad (R, 2)) of surface ``name`` by torch autograd, float64."""
    t = torch.tensor(points, dtype=torch.float64, requires_grad=True)
    loss = TORCH_SURFACES[name](t, **params)
    (g,) = torch.autograd.grad(loss.sum(), t)
    return loss.detach().numpy(), g.numpy()


def main():
    from descentlab.engine import problems  # only for the plotting domains

    rng = np.random.default_rng(20261122)
    out = {}
    for key, (name, params) in CASES.items():
        (x0, x1), (y0, y1) = problems.get(name, **params).domain
        pts = np.column_stack([rng.uniform(x0, x1, N_POINTS), rng.uniform(y0, y1, N_POINTS)])
        loss, grad = torch_loss_and_grad(name, params, pts)
        out[f"{key}_points"], out[f"{key}_loss"], out[f"{key}_grad"] = pts, loss, grad
        out[f"{key}_case"] = np.array(json.dumps([name, params]))
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(CASES)} cases)")


if __name__ == "__main__":
    main()
