"""Reference trajectories of torch.optim for the optimizer parity tests.

    python tests/reference/make_optimizer_vectors.py      # writes optimizers.npz next to it

Each case drives torch (float64, one tensor and one optimizer per run, each run with its
own hyperparameters, an lr_scheduler stepped after every optimizer step) on the same
deterministic gradient field ``grad`` and stores, under ``<case>/...``: the case spec
(JSON), the start ``x0`` (R, D), the trajectory ``traj`` (T+1, R, D), the learning rate
torch used at every step ``lr`` (T, R), and torch's final optimizer state tensors under
the engine's quantity names (``state/mu`` ..., NaN rows for runs torch keeps no such
buffer for, e.g. SGD runs with momentum 0).  tests/engine/test_optimizers.py replays
the stored cases with descentlab and, where torch is installed, runs them live through
:func:`torch_trajectory`.  This module imports torch only inside functions.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

STEPS = 64
X0 = np.array([[1.7, -0.9, 0.4], [-1.1, 0.8, 2.2], [0.3, 1.9, -1.6]])
CENTER = np.array([1.0, -0.5, 0.25])

# case name -> optimizer, hyperparameters (list = one value per run), optional schedule
# ("lambda": LambdaLR(1 / (1 + 0.05 e)), "step": StepLR(7, 0.5)) and optional lr scale
# ([k, [s_r]]: after k updates multiply run r's lr by s_r, as ReduceLROnPlateau does).
CASES: dict[str, dict] = {
    "sgd_plain": {"opt": "sgd", "hp": {"lr": [0.05, 0.1, 0.2]}},
    "sgd_momentum": {"opt": "sgd", "hp": {"lr": [0.05, 0.1, 0.02], "momentum": 0.9}},
    "sgd_dampening": {"opt": "sgd", "hp": {"lr": 0.05, "momentum": [0.0, 0.5, 0.9],
                                           "dampening": [0.3, 0.5, 0.1]}},
    "sgd_nesterov_wd": {"opt": "sgd", "hp": {"lr": [0.05, 0.1, 0.02], "momentum": 0.8,
                                             "nesterov": True, "weight_decay": [0.0, 0.1, 0.5]}},
    "sgd_maximize": {"opt": "sgd", "hp": {"lr": 0.02, "momentum": 0.5, "maximize": True,
                                          "weight_decay": 0.05}},
    "sgd_step": {"opt": "sgd", "hp": {"lr": [0.1, 0.2, 0.05], "momentum": 0.7},
                 "schedule": "step"},
    "sgd_scale": {"opt": "sgd", "hp": {"lr": 0.1, "momentum": 0.9},
                  "scale": [30, [1.0, 0.5, 0.1]]},
    "adagrad_plain": {"opt": "adagrad", "hp": {"lr": [0.1, 0.3, 0.05]}},
    "adagrad_decay": {"opt": "adagrad", "hp": {"lr": 0.2, "lr_decay": [0.0, 0.05, 0.3],
                                               "initial_accumulator_value": [0.0, 0.1, 1.0]}},
    "adagrad_wd_max": {"opt": "adagrad", "hp": {"lr": 0.1, "weight_decay": 0.1,
                                                "maximize": True, "eps": 1e-6}},
    "adagrad_step": {"opt": "adagrad", "hp": {"lr": [0.1, 0.3, 0.05], "lr_decay": 0.01},
                     "schedule": "step"},
    "adagrad_scale": {"opt": "adagrad", "hp": {"lr": 0.3, "lr_decay": 0.02},
                      "scale": [20, [0.5, 1.0, 0.25]]},
    "rmsprop_plain": {"opt": "rmsprop", "hp": {"lr": [0.01, 0.03, 0.003],
                                               "alpha": [0.99, 0.9, 0.5]}},
    "rmsprop_centered": {"opt": "rmsprop", "hp": {"lr": 0.01, "centered": True}},
    "rmsprop_momentum": {"opt": "rmsprop", "hp": {"lr": [0.01, 0.005, 0.002],
                                                  "momentum": [0.0, 0.5, 0.9]}},
    "rmsprop_all": {"opt": "rmsprop", "hp": {"lr": 0.005, "centered": True, "momentum": 0.7,
                                             "weight_decay": [0.0, 0.1, 0.3], "eps": 1e-4}},
    "rmsprop_maximize": {"opt": "rmsprop", "hp": {"lr": 0.003, "maximize": True}},
    "adam_plain": {"opt": "adam", "hp": {"lr": [0.01, 0.05, 0.1]}},
    "adam_amsgrad": {"opt": "adam", "hp": {"lr": 0.05, "amsgrad": True,
                                           "betas": [[0.9, 0.5, 0.0], [0.999, 0.9, 0.99]]}},
    "adam_wd": {"opt": "adam", "hp": {"lr": 0.05, "weight_decay": [0.0, 0.1, 1.0],
                                      "eps": [1e-8, 1e-3, 0.1]}},
    "adam_maximize": {"opt": "adam", "hp": {"lr": 0.01, "maximize": True, "amsgrad": True,
                                            "weight_decay": 0.01}},
    "adam_lambda": {"opt": "adam", "hp": {"lr": [0.05, 0.1, 0.2]}, "schedule": "lambda"},
    "adam_scale": {"opt": "adam", "hp": {"lr": 0.05}, "scale": [25, [0.1, 1.0, 0.5]]},
    "adamw_plain": {"opt": "adamw", "hp": {"lr": [0.01, 0.05, 0.1]}},
    "adamw_amsgrad_max": {"opt": "adamw", "hp": {"lr": 0.02, "amsgrad": True, "maximize": True,
                                                 "weight_decay": 0.1}},
    "adamw_wd": {"opt": "adamw", "hp": {"lr": 0.05, "weight_decay": [0.0, 0.5, 2.0]}},
    "adamw_step": {"opt": "adamw", "hp": {"lr": [0.05, 0.1, 0.2], "weight_decay": 0.3},
                   "schedule": "step"},
    "adamw_scale": {"opt": "adamw", "hp": {"lr": 0.1, "weight_decay": 0.5},
                    "scale": [20, [1.0, 0.3, 0.0]]},
    "nadam_plain": {"opt": "nadam", "hp": {"lr": [0.01, 0.05, 0.1],
                                           "momentum_decay": [4e-3, 0.0, 0.05]}},
    "nadam_wd": {"opt": "nadam", "hp": {"lr": 0.05, "weight_decay": [0.0, 0.1, 0.5]}},
    "nadam_decoupled": {"opt": "nadam", "hp": {"lr": 0.05, "weight_decay": [0.0, 0.1, 0.5],
                                               "decoupled_weight_decay": True,
                                               "betas": [[0.9, 0.8, 0.95], 0.99]}},
    "nadam_lambda": {"opt": "nadam", "hp": {"lr": 0.05, "maximize": True},
                     "schedule": "lambda"},
    "adamax_plain": {"opt": "adamax", "hp": {"lr": [0.01, 0.05, 0.1]}},
    "adamax_wd_max": {"opt": "adamax", "hp": {"lr": 0.02, "weight_decay": [0.0, 0.1, 0.3],
                                              "maximize": True,
                                              "betas": [0.8, [0.999, 0.9, 0.5]]}},
    "adadelta_plain": {"opt": "adadelta", "hp": {"lr": [1.0, 3.0, 10.0]}},
    "adadelta_rho_wd": {"opt": "adadelta", "hp": {"lr": 2.0, "rho": [0.9, 0.5, 0.99],
                                                  "weight_decay": 0.1, "eps": [1e-6, 1e-3, 1e-2]}},
    "adadelta_lambda": {"opt": "adadelta", "hp": {"lr": [1.0, 3.0, 10.0], "maximize": True},
                        "schedule": "lambda"},
}

TORCH_CLASS = {"sgd": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adam": "Adam",
               "adamw": "AdamW", "nadam": "NAdam", "adamax": "Adamax", "adadelta": "Adadelta"}

# torch state key -> engine quantity name
STATE_NAMES = {"momentum_buffer": "velocity", "exp_avg": "mu", "exp_avg_sq": "nu",
               "max_exp_avg_sq": "nu_max", "sum": "sum_sq", "square_avg": "square_avg",
               "grad_avg": "grad_avg", "exp_inf": "exp_inf", "acc_delta": "acc_delta"}


def grad(x: np.ndarray) -> np.ndarray:
    r"""Gradient of a smooth non-quadratic function of ``(R, D)`` points:

    .. math:: f(x) = \sum_i \sqrt{1 + (x_i - c_i)^2} + \tfrac12 \sum_i \sin x_i \cos x_{i+1}
              + 0.05 \lVert x \rVert^2   \quad (\text{indices cyclic})
    """
    x = np.asarray(x, dtype=np.float64)
    d = x - CENTER
    nxt, prv = np.roll(x, -1, axis=1), np.roll(x, 1, axis=1)
    return (d / np.sqrt(1.0 + d * d) + 0.5 * np.cos(x) * np.cos(nxt)
            - 0.5 * np.sin(prv) * np.sin(x) + 0.1 * x)


def schedule_factor(name: str | None):
    """The multiplicative lr factor at ``count`` for a schedule name (None = constant)."""
    if name is None:
        return None
    if name == "lambda":
        return lambda count: 1.0 / (1.0 + 0.05 * count)
    if name == "step":
        return lambda count: 0.5 ** (count // 7)
    raise ValueError(f"unknown schedule {name!r}")


def run_value(name: str, value, r: int):
    """Hyperparameter ``name`` of run ``r``: a list is one value per run; betas is a pair."""
    if name == "betas":
        return tuple(run_value("", v, r) for v in value)
    return value[r] if isinstance(value, list) else value


def torch_trajectory(spec: dict, steps: int = STEPS) -> dict[str, np.ndarray]:
    """Drive torch.optim on ``grad`` from ``X0``: traj (T+1, R, D), lr (T, R), final state."""
    import torch

    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # torch's scalar state (step, mu_product) in float64
    try:
        cls = getattr(torch.optim, TORCH_CLASS[spec["opt"]])
        factor = schedule_factor(spec.get("schedule"))
        R = len(X0)
        params, opts, scheds = [], [], []
        for r in range(R):
            p = torch.tensor(X0[r], dtype=torch.float64, requires_grad=True)
            hp = {k: run_value(k, v, r) for k, v in spec["hp"].items()}
            opt = cls([p], **hp)
            params.append(p)
            opts.append(opt)
            if spec.get("schedule") == "lambda":
                scheds.append(torch.optim.lr_scheduler.LambdaLR(opt, factor))
            elif spec.get("schedule") == "step":
                scheds.append(torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.5))
        traj = [X0.copy()]
        lrs = []
        for t in range(steps):
            if "scale" in spec and t == spec["scale"][0]:
                for opt, s in zip(opts, spec["scale"][1], strict=True):
                    for group in opt.param_groups:
                        group["lr"] = group["lr"] * s
            lrs.append([opt.param_groups[0]["lr"] for opt in opts])
            for p, opt in zip(params, opts, strict=True):
                p.grad = torch.from_numpy(grad(p.detach().numpy()[None])[0])
                opt.step()
            for sched in scheds:
                sched.step()
            traj.append(np.stack([p.detach().numpy().copy() for p in params]))
        out = {"traj": np.stack(traj), "lr": np.array(lrs, dtype=np.float64)}
        for key, name in STATE_NAMES.items():
            rows = [opt.state[p].get(key) for p, opt in zip(params, opts, strict=True)]
            if any(row is not None for row in rows):  # NaN rows: runs without this buffer
                out[f"state/{name}"] = np.stack(
                    [np.full(X0.shape[1], np.nan) if row is None else
                     row.detach().numpy().copy() for row in rows])
        return out
    finally:
        torch.set_default_dtype(old)


def main() -> None:
    import torch

    arrays = {"x0": X0, "torch_version": np.array(torch.__version__)}
    for name, spec in CASES.items():
        arrays[f"{name}/spec"] = np.array(json.dumps(spec))
        for key, value in torch_trajectory(spec).items():
            arrays[f"{name}/{key}"] = value
    path = Path(__file__).with_name("optimizers.npz")
    np.savez_compressed(path, **arrays)
    print(f"wrote {len(CASES)} cases to {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
