"""Write tests/reference/training.npz: torch reference numbers for engine.callbacks and
engine.training.

Run ``python tests/reference/make_training_vectors.py`` (needs torch).  Inputs are drawn
here from fixed seeds and stored next to torch's outputs, so the tests read both.  The live
tests import this file by path and call the same functions to recompute torch's side.

* ``plateau_<mode>_<threshold_mode>_*``: ``torch.optim.lr_scheduler.ReduceLROnPlateau`` on
  12 runs x 40 epochs of synthetic metric sequences (drifts, plateaus, exact ties, spikes,
  NaN), each run with its own factor / patience / threshold / cooldown / min_lr / eps;
  ``..._lrs (E, R)`` is the optimizer's lr after each ``scheduler.step(value)``.
* ``train_<case>_*``: logistic regression trained by ``torch.optim`` in float64, one model
  per run, on the batch order of ``descentlab.engine.batching`` for the stored seed (the
  order is an input): ``epoch_params (E+1, R, P)``, ``batch_loss (T, R)`` (the mini-batch
  ``BCEWithLogitsLoss`` before each step), ``epoch_lr (E+1, R)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from descentlab.engine import batching

OUT = Path(__file__).with_name("training.npz")
MODES = (("min", "rel"), ("min", "abs"), ("max", "rel"), ("max", "abs"))
R_PLATEAU, E_PLATEAU = 12, 40


# ---------------------------------------------------------------------------- plateau


def plateau_inputs(mode: str, threshold_mode: str, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    R, E = R_PLATEAU, E_PLATEAU
    sign = 1.0 if mode == "min" else -1.0
    steps = rng.normal(-0.05, 0.1, size=(E, R))
    steps[rng.random((E, R)) < 0.3] = 0.0                      # flat stretches
    values = 3.0 + sign * np.cumsum(steps, axis=0)
    values = np.round(values, 2)                               # exact ties
    values[rng.random((E, R)) < 0.05] += 5.0                   # spikes
    values[7, 3] = np.nan                                      # a NaN metric
    values[:, 5] = 1.0                                         # constant: reduce every p+1
    values[:, 6] = sign * (-2.0 + 0.001 * np.arange(E))        # negative values (rel mode)
    return {
        "values": values,
        "lr0": rng.choice([0.1, 1.0, 0.01, 3e-4], size=R),
        "factor": rng.choice([0.1, 0.5, 0.9], size=R),
        "patience": rng.integers(0, 4, size=R),
        "threshold": rng.choice([0.0, 1e-4, 1e-2, 0.1], size=R),
        "cooldown": rng.integers(0, 3, size=R),
        "min_lr": rng.choice([0.0, 1e-3, 5e-2], size=R),
        "eps": rng.choice([1e-8, 1e-3], size=R),
    }


def torch_plateau(torch, mode: str, threshold_mode: str, inp: dict) -> np.ndarray:
    """(E, R) lr after each scheduler.step(value)."""
    E, R = inp["values"].shape
    out = np.zeros((E, R))
    for r in range(R):
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=float(inp["lr0"][r]))
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode=mode, factor=float(inp["factor"][r]), patience=int(inp["patience"][r]),
            threshold=float(inp["threshold"][r]), threshold_mode=threshold_mode,
            cooldown=int(inp["cooldown"][r]), min_lr=float(inp["min_lr"][r]),
            eps=float(inp["eps"][r]))
        for e in range(E):
            sched.step(float(inp["values"][e, r]))
            out[e, r] = opt.param_groups[0]["lr"]
    return out


# ---------------------------------------------------------------------------- training

CASES = {
    # name: optimizer, kwargs, lrs, batch_size, epochs, shared, drop_last, plateau kwargs
    "sgd": ("sgd", {"momentum": 0.9}, [0.01, 0.1, 0.5], 8, 3, True, False, None),
    "adam": ("adam", {}, [1e-3, 1e-2, 1e-1], 8, 3, False, True, None),
    "plateau": ("sgd", {}, [0.5, 2.0, 8.0], 16, 8, True, False,
                {"factor": 0.5, "patience": 0, "threshold": 0.02}),
}


def training_inputs(seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    w = np.array([1.5, -2.0, 0.5])

    def draw(n):
        X = rng.standard_normal((n, 3))
        y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(X @ w + 0.3)))).astype(np.int64)
        return X, y

    X, y = draw(50)
    Xv, yv = draw(20)
    return {"X": X, "y": y, "Xv": Xv, "yv": yv, "seed": np.array(11)}


def batch_order(n, batch_size, epochs, seed, shared, drop_last, runs):
    """The engine's batch order as a list of (B,) or (R, B) index arrays (an input)."""
    state = batching.init_batches(n, batch_size, seed=seed, shared=shared,
                                  drop_last=drop_last, runs=runs)
    out = []
    for _ in range(epochs * state.per_epoch):
        idx, state = batching.next_batch(state)
        out.append(idx)
    return out, state.per_epoch


def torch_training(torch, name: str, inp: dict) -> dict:
    kind, kw, lrs, B, E, shared, drop_last, plat = CASES[name]
    X, y = torch.from_numpy(inp["X"]), torch.from_numpy(inp["y"].astype(np.float64))
    Xv, yv = torch.from_numpy(inp["Xv"]), torch.from_numpy(inp["yv"].astype(np.float64))
    R, P = len(lrs), X.shape[1] + 1
    order, per_epoch = batch_order(X.shape[0], B, E, int(inp["seed"]), shared, drop_last, R)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    epoch_params = np.zeros((E + 1, R, P))
    batch_loss = np.zeros((len(order), R))
    epoch_lr = np.zeros((E + 1, R))
    for r in range(R):
        theta = torch.zeros(P, dtype=torch.float64, requires_grad=True)
        opt = getattr(torch.optim, {"sgd": "SGD", "adam": "Adam"}[kind])([theta],
                                                                          lr=lrs[r], **kw)
        sched = None if plat is None else \
            torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **plat)
        epoch_lr[0, r] = opt.param_groups[0]["lr"]
        for t, idx in enumerate(order):
            rows = torch.from_numpy(np.asarray(idx if shared else idx[r]))
            opt.zero_grad()
            loss = bce(X[rows] @ theta[:-1] + theta[-1], y[rows])
            loss.backward()
            batch_loss[t, r] = loss.item()
            opt.step()
            if (t + 1) % per_epoch == 0:
                e = (t + 1) // per_epoch
                epoch_params[e, r] = theta.detach().numpy()
                if sched is not None:
                    with torch.no_grad():
                        sched.step(bce(Xv @ theta[:-1] + theta[-1], yv).item())
                epoch_lr[e, r] = opt.param_groups[0]["lr"]
    return {"epoch_params": epoch_params, "batch_loss": batch_loss, "epoch_lr": epoch_lr}


def main():
    import torch

    v = {}
    for i, (mode, tmode) in enumerate(MODES):
        inp = plateau_inputs(mode, tmode, 100 + i)
        pre = f"plateau_{mode}_{tmode}_"
        v.update({pre + k: a for k, a in inp.items()})
        v[pre + "lrs"] = torch_plateau(torch, mode, tmode, inp)
    inp = training_inputs()
    v.update({"train_" + k: a for k, a in inp.items()})
    for name in CASES:
        out = torch_training(torch, name, inp)
        v.update({f"train_{name}_{k}": a for k, a in out.items()})
    np.savez_compressed(OUT, **v)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(v)} arrays)")
    for mode, tmode in MODES:
        lrs = v[f"plateau_{mode}_{tmode}_lrs"]
        print(mode, tmode, "reductions per run:",
              (np.diff(lrs, axis=0) != 0).sum(axis=0).tolist())
    print("plateau case epoch lrs:\n", v["train_plateau_epoch_lr"])


if __name__ == "__main__":
    main()
