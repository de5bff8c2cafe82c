"""Benchmark: one epoch of mini-batch logistic regression, 8 learning rates in lockstep.

100,000 x 20 synthetic rows, batch 64 (1563 iterations), shared batch order, float64.

* engine: ``training.train`` with an ``(8,)`` learning-rate array (one vectorized step
  per iteration, full-train and validation loss/metrics at the epoch end included);
* torch (a): 8 separate models and optimizers, one per run (the naive loop);
* torch (b): one batched model: 8 parameter tensors stacked into an (8, 21) matrix per
  forward pass, one optimizer with 8 parameter groups (one lr each), one backward.

All three see the same batches in the same order; the final parameters are compared
(max |engine - torch| / max(1, |torch|)).  Prints medians over interleaved repeats and
ratios.  On a shared, loaded machine torch's default thread pool can be 10x slower than
one thread (spinning workers); ``--torch-threads 1`` gives torch its best case there.

    python tests/benchmarks/bench_training.py [--repeats 5] [--loop-repeats 1]
                                              [--optimizer sgd|adam]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from descentlab.engine import batching, data, models, optimizers, training

N, F, B, R = 100_000, 20, 64, 8


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, F))
    w = rng.standard_normal(F)
    y = (rng.random(N) < 1.0 / (1.0 + np.exp(-(X @ w + 0.5)))).astype(np.int64)
    Xv = rng.standard_normal((1000, F))
    yv = (rng.random(1000) < 1.0 / (1.0 + np.exp(-(Xv @ w + 0.5)))).astype(np.int64)
    return data.Dataset(X, y, Xv, yv, "binary", 2, tuple(f"x{i}" for i in range(F)), "y",
                        "bench")


def lrs(kind):
    return np.geomspace(1e-3, 1.0, R) if kind == "sgd" else np.geomspace(1e-4, 1e-1, R)


def run_engine(ds, kind, seed):
    opt = (optimizers.sgd if kind == "sgd" else optimizers.adam)(lr=lrs(kind))
    last = None
    for rec in training.train(models.logistic_regression(), ds, opt, epochs=1, batch_size=B,
                              seed=seed):
        last = rec
    return last.params


def batch_order(seed):
    state = batching.init_batches(N, B, seed=seed)
    out = []
    for _ in range(state.per_epoch):
        idx, state = batching.next_batch(state)
        out.append(idx)
    return out


def run_torch_loop(torch, Xt, yt, order, kind):
    params = [torch.zeros(F + 1, dtype=torch.float64, requires_grad=True) for _ in range(R)]
    make = torch.optim.SGD if kind == "sgd" else torch.optim.Adam
    opts = [make([p], lr=float(lr)) for p, lr in zip(params, lrs(kind), strict=True)]
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    for idx in order:
        xb, yb = Xt[idx], yt[idx]
        for p, opt in zip(params, opts, strict=True):
            opt.zero_grad()
            loss = bce(xb @ p[:F] + p[F], yb)
            loss.backward()
            opt.step()
    return np.stack([p.detach().numpy() for p in params])


def run_torch_batched(torch, Xt, yt, order, kind):
    params = [torch.zeros(F + 1, dtype=torch.float64, requires_grad=True) for _ in range(R)]
    make = torch.optim.SGD if kind == "sgd" else torch.optim.Adam
    opt = make([{"params": [p], "lr": float(lr)} for p, lr in zip(params, lrs(kind),
                                                                   strict=True)])
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    for idx in order:
        xb, yb = Xt[idx], yt[idx]
        W = torch.stack(params)                       # (R, F + 1)
        z = xb @ W[:, :F].T + W[:, F]                 # (B, R)
        # sum over runs of each run's mean loss: run r's gradient is its own
        loss = bce(z, yb[:, None].expand_as(z), reduction="none").mean(dim=0).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return np.stack([p.detach().numpy() for p in params])


def timed(fns, repeats):
    """Median seconds of each function, the repeats interleaved (fair under varying load)."""
    times, outs = [[] for _ in fns], [None] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            outs[i] = fn()
            times[i].append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times], outs


def scaled_diff(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--loop-repeats", type=int, default=1,
                    help="repeats of torch (a), the slow per-run loop")
    ap.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--torch-threads", type=int, default=0,
                    help="torch.set_num_threads (0: torch's default)")
    args = ap.parse_args()
    ds = make_data()
    kind, seed = args.optimizer, args.seed
    print(f"logistic regression, {N} x {F} rows, batch {B}, 1 epoch "
          f"({-(-N // B)} iterations), {R} runs, {kind}, lr {np.round(lrs(kind), 5).tolist()}")
    try:
        import torch
    except ImportError:
        torch = None
    if torch is None:
        (t_eng,), _ = timed([lambda: run_engine(ds, kind, seed)], args.repeats)
        print(f"engine                         {t_eng * 1e3:9.1f} ms")
        print("torch not installed: no comparison")
        return
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    Xt = torch.from_numpy(ds.X_train)
    yt = torch.from_numpy(ds.y_train.astype(np.float64))
    order = [torch.from_numpy(np.asarray(i)) for i in batch_order(seed)]
    (t_eng, t_b), (p_eng, p_b) = timed([lambda: run_engine(ds, kind, seed),
                                        lambda: run_torch_batched(torch, Xt, yt, order, kind)],
                                       args.repeats)
    (t_a,), (p_a,) = timed([lambda: run_torch_loop(torch, Xt, yt, order, kind)],
                           args.loop_repeats)
    print(f"engine                         {t_eng * 1e3:9.1f} ms")
    print(f"torch (a) 8 models/optimizers  {t_a * 1e3:9.1f} ms   engine is {t_a / t_eng:5.1f}x "
          f"faster   max scaled param diff {scaled_diff(p_eng, p_a):.2e}")
    print(f"torch (b) batched, 8 groups    {t_b * 1e3:9.1f} ms   engine is {t_b / t_eng:5.1f}x "
          f"faster   max scaled param diff {scaled_diff(p_eng, p_b):.2e}")
    print(f"(medians of {args.repeats} interleaved repeats, torch (a) {args.loop_repeats}; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads; numpy {np.__version__})")
    ok = scaled_diff(p_eng, p_a) < 1e-9 and scaled_diff(p_eng, p_b) < 1e-9
    print("parameters agree with torch" if ok else "PARAMETERS DISAGREE WITH TORCH")


if __name__ == "__main__":
    main()
