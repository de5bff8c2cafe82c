"""Write tests/reference/schedules.npz: learning rates that torch.optim.lr_scheduler produces.

Run: ``python tests/reference/make_schedule_vectors.py`` (needs torch; the tests that read
the file do not).  For each case in ``CASES`` a dummy SGD optimizer is driven by the
torch scheduler; entry ``t`` is ``optimizer.param_groups[0]["lr"]`` read before the
``(t + 1)``-th ``optimizer.step()`` -- the lr torch uses after ``t`` scheduler steps.
A case whose float arguments are lists is a per-run case: one torch run per entry,
stacked to ``(R, n)``.

This module is also imported (by path) by tests/engine/test_schedules.py for ``CASES``
and ``torch_lrs``; it imports torch only inside the functions that need it.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("schedules.npz")

# Float arguments that may be given per run (a list = one value per run).
PER_RUN = {"lr", "gamma", "eta_min", "base_lr", "max_lr", "start_factor", "end_factor",
           "div_factor", "final_div_factor", "pct_start"}

# (descentlab schedule name, its keyword arguments, number of steps recorded)
CASES: list[tuple[str, dict, int]] = [
    ("constant", {"lr": 0.05}, 50),
    ("step", {"lr": 0.1, "step_size": 30}, 1000),
    ("step", {"lr": 1.0, "step_size": 7, "gamma": 0.9}, 1000),
    ("step", {"lr": 0.3, "step_size": 1, "gamma": 0.5}, 1000),
    ("multistep", {"lr": 0.1, "milestones": [30, 80, 200]}, 1000),
    ("multistep", {"lr": 0.5, "milestones": [0, 5, 5, 900], "gamma": 0.7}, 1000),
    ("exponential", {"lr": 0.1, "gamma": 0.99}, 1000),
    ("exponential", {"lr": 1.0, "gamma": 0.5}, 1000),
    ("exponential", {"lr": 0.01, "gamma": 1.001}, 1000),
    ("cosine", {"lr": 0.1, "T_max": 100}, 1000),
    ("cosine", {"lr": 0.1, "T_max": 1}, 50),
    ("cosine", {"lr": 0.1, "T_max": 2, "eta_min": 0.01}, 100),
    ("cosine", {"lr": 1.0, "T_max": 7, "eta_min": 0.001}, 1000),
    ("cosine", {"lr": 0.5, "T_max": 1000, "eta_min": 1e-5}, 2500),
    ("cosine", {"lr": 0.5, "T_max": 3000}, 7000),
    ("linear", {"lr": 0.1}, 100),
    ("linear", {"lr": 0.2, "start_factor": 0.01, "end_factor": 1.0, "total_iters": 500},
     1000),
    ("linear", {"lr": 0.2, "start_factor": 1.0, "end_factor": 0.0, "total_iters": 300},
     1000),
    ("linear", {"lr": 1.0, "start_factor": 0.5, "end_factor": 0.25, "total_iters": 1}, 20),
    ("cyclic", {"base_lr": 0.001, "max_lr": 0.1, "step_size_up": 20}, 1000),
    ("cyclic", {"base_lr": 0.001, "max_lr": 0.1, "step_size_up": 13, "step_size_down": 37,
                "mode": "triangular2"}, 1000),
    ("cyclic", {"base_lr": 0.01, "max_lr": 1.0, "step_size_up": 50, "mode": "exp_range",
                "gamma": 0.995}, 1000),
    ("cyclic", {"base_lr": 0.0, "max_lr": 0.3, "step_size_up": 5, "step_size_down": 0},
     100),
    ("cyclic", {"base_lr": 0.01, "max_lr": 0.1}, 5000),
    ("one_cycle", {"max_lr": 0.1, "total_steps": 1000}, 1001),
    ("one_cycle", {"max_lr": 1.0, "total_steps": 100, "pct_start": 0.25,
                   "anneal_strategy": "linear"}, 101),
    ("one_cycle", {"max_lr": 0.5, "total_steps": 333, "pct_start": 0.4, "div_factor": 10.0,
                   "final_div_factor": 100.0, "three_phase": True}, 334),
    ("one_cycle", {"max_lr": 0.5, "total_steps": 97, "pct_start": 0.3,
                   "anneal_strategy": "linear", "three_phase": True}, 98),
    ("warmup_cosine", {"lr": 0.1, "warmup_steps": 10, "total_steps": 100}, 1000),
    ("warmup_cosine", {"lr": 0.3, "warmup_steps": 1, "total_steps": 50, "eta_min": 0.001},
     300),
    ("warmup_cosine", {"lr": 0.3, "warmup_steps": 0, "total_steps": 40}, 200),
    ("warmup_cosine", {"lr": 1.0, "warmup_steps": 200, "total_steps": 1000,
                       "eta_min": 1e-4}, 2500),
    ("cosine_restarts", {"lr": 0.1, "T_0": 10}, 1000),
    ("cosine_restarts", {"lr": 0.1, "T_0": 3, "T_mult": 2, "eta_min": 0.001}, 1000),
    ("cosine_restarts", {"lr": 0.5, "T_0": 1, "T_mult": 3}, 1000),
    # per-run cases: list-valued float arguments, one torch run per entry
    ("step", {"lr": [0.1, 0.5, 1.0], "step_size": 10, "gamma": [0.5, 0.9, 0.1]}, 300),
    ("exponential", {"lr": [0.1, 0.01], "gamma": [0.99, 0.95]}, 500),
    ("cosine", {"lr": [0.1, 0.3, 1.0], "T_max": 50, "eta_min": [0.0, 0.01, 0.1]}, 500),
    ("linear", {"lr": [0.1, 0.2], "start_factor": [0.1, 0.5], "end_factor": [1.0, 0.0],
                "total_iters": 20}, 100),
    ("cyclic", {"base_lr": [0.001, 0.01], "max_lr": [0.1, 0.05], "step_size_up": 10,
                "mode": "exp_range", "gamma": [0.99, 0.9]}, 300),
    ("one_cycle", {"max_lr": [0.1, 1.0, 0.5], "total_steps": 200,
                   "pct_start": [0.3, 0.1, 0.45], "div_factor": [25.0, 10.0, 4.0],
                   "final_div_factor": [1e4, 1e2, 10.0]}, 201),
    ("warmup_cosine", {"lr": [0.1, 1.0], "warmup_steps": 5, "total_steps": 60,
                       "eta_min": [0.0, 0.05]}, 200),
    ("cosine_restarts", {"lr": [0.1, 0.2], "T_0": 4, "T_mult": 2, "eta_min": [0.0, 0.01]},
     300),
]


def runs_of_case(kwargs: dict) -> int | None:
    """R of a per-run case (its list-valued float arguments' length), else None."""
    lens = {len(v) for k, v in kwargs.items() if k in PER_RUN and isinstance(v, list)}
    assert len(lens) <= 1, kwargs
    return lens.pop() if lens else None


def _torch_scheduler(name: str, opt, kw: dict):
    from torch.optim import lr_scheduler as S

    if name == "constant":
        return None
    if name == "step":
        return S.StepLR(opt, kw["step_size"], gamma=kw.get("gamma", 0.1))
    if name == "multistep":
        return S.MultiStepLR(opt, kw["milestones"], gamma=kw.get("gamma", 0.1))
    if name == "exponential":
        return S.ExponentialLR(opt, kw["gamma"])
    if name == "cosine":
        return S.CosineAnnealingLR(opt, kw["T_max"], eta_min=kw.get("eta_min", 0.0))
    if name == "linear":
        return S.LinearLR(opt, **kw)
    if name == "cyclic":
        return S.CyclicLR(opt, cycle_momentum=False, **kw)
    if name == "one_cycle":
        return S.OneCycleLR(opt, cycle_momentum=False, **kw)
    if name == "warmup_cosine":
        w, T = kw["warmup_steps"], kw["total_steps"]
        warm = S.LinearLR(opt, start_factor=1.0 / (w + 1), end_factor=1.0, total_iters=w)
        anneal = S.CosineAnnealingLR(opt, T_max=T - w, eta_min=kw.get("eta_min", 0.0))
        return S.SequentialLR(opt, [warm, anneal], milestones=[w])
    if name == "cosine_restarts":
        return S.CosineAnnealingWarmRestarts(opt, kw["T_0"], T_mult=kw.get("T_mult", 1),
                                             eta_min=kw.get("eta_min", 0.0))
    raise ValueError(f"no torch counterpart for {name!r}")


def torch_lrs_one(name: str, kwargs: dict, n: int) -> np.ndarray:
    """``(n,)`` lrs torch's optimizer sees at steps 0..n-1, every argument a scalar."""
    import torch

    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=float(kwargs.get("lr", 0.1)), momentum=0.9)
    kw = {k: v for k, v in kwargs.items() if k != "lr"}    # lr is the optimizer's
    out = np.empty(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        sched = _torch_scheduler(name, opt, kw)
        for t in range(n):
            out[t] = opt.param_groups[0]["lr"]
            opt.step()                    # no gradient: parameters stay, torch counts the step
            if sched is not None and t < n - 1:
                sched.step()
    return out


def torch_lrs(name: str, kwargs: dict, n: int) -> np.ndarray:
    """``(n,)``, or ``(R, n)`` for a per-run case (one scalar torch run per entry)."""
    R = runs_of_case(kwargs)
    if R is None:
        return torch_lrs_one(name, kwargs, n)
    rows = []
    for r in range(R):
        kw = {k: (v[r] if k in PER_RUN and isinstance(v, list) else v)
              for k, v in kwargs.items()}
        rows.append(torch_lrs_one(name, kw, n))
    return np.stack(rows)


def main() -> None:
    import torch

    arrays = {f"case{i}": torch_lrs(name, kw, n) for i, (name, kw, n) in enumerate(CASES)}
    arrays["cases"] = np.array(json.dumps(CASES))
    arrays["torch_version"] = np.array(torch.__version__)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(CASES)} cases)")


if __name__ == "__main__":
    main()
