"""descentlab.engine.optimizers against torch.optim: stored vectors, live torch, contracts.

Parity measure: the scaled difference |a - b| / (1 + |b|) of every coordinate of every
run at every step, which must stay <= 1e-10 over 64 steps in float64.
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from descentlab.engine import apply_updates, optimizers
from descentlab.engine.optimizers import current_lr, quantities, race, set_lr_scale

TOL = 1e-10
REF_DIR = Path(__file__).resolve().parents[1] / "reference"


ref = importlib.import_module("reference.make_optimizer_vectors")
STORED = np.load(REF_DIR / "optimizers.npz")
STORED_CASES = sorted({k.split("/")[0] for k in STORED.files if "/" in k})


def scaled_diff(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b) / (1.0 + np.abs(b))))


# ---------------------------------------------------------------- replay helpers


def _per_run(value):
    return np.array(value, dtype=np.float64) if isinstance(value, list) else value


def build(spec: dict):
    """Our optimizer for a reference case spec (per-run lists become (R,) arrays)."""
    hp = {k: (tuple(_per_run(b) for b in v) if k == "betas" else _per_run(v))
          for k, v in spec["hp"].items()}
    factor = ref.schedule_factor(spec.get("schedule"))
    if factor is not None:
        base = hp.get("lr", 1.0)
        hp["lr"] = lambda count: base * factor(count)
    return optimizers.OPTIMIZERS[spec["opt"]](**hp)


def replay(spec: dict, x0: np.ndarray, steps: int):
    opt = build(spec)
    x = x0
    state = opt.init(x)
    traj, lrs = [x], []
    for t in range(steps):
        if "scale" in spec and t == spec["scale"][0]:
            state = set_lr_scale(state, np.array(spec["scale"][1]))
        u, state = opt.update(ref.grad(x), state, x)
        x = apply_updates(x, u)
        traj.append(x)
        lrs.append(current_lr(state))
    return np.stack(traj), np.stack(lrs), quantities(state)


def torch_lr_used(spec: dict, torch_lr: np.ndarray) -> np.ndarray:
    """torch's group lr per step; for Adagrad the decayed clr = lr / (1 + (t-1) lr_decay)."""
    if spec["opt"] != "adagrad":
        return torch_lr
    decay = np.broadcast_to(np.asarray(spec["hp"].get("lr_decay", 0.0)), (torch_lr.shape[1],))
    t = np.arange(torch_lr.shape[0])[:, None]
    return torch_lr / (1.0 + t * decay)


def check_case(spec, x0, expected: dict):
    traj, lrs, q = replay(spec, x0, expected["traj"].shape[0] - 1)
    worst = scaled_diff(traj, expected["traj"])
    assert worst <= TOL, f"trajectory differs from torch by {worst:.3g}"
    assert scaled_diff(lrs, torch_lr_used(spec, expected["lr"])) <= 1e-14
    names = [k.split("/", 1)[1] for k in expected if k.startswith("state/")]
    stateless = spec["opt"] == "sgd" and not spec["hp"].get("momentum")
    assert bool(names) != stateless, names
    for name in names:
        assert name in q, f"quantities lacks {name!r}"
        theirs = expected[f"state/{name}"]
        kept = ~np.isnan(theirs).any(axis=1)  # torch keeps no SGD buffer when momentum is 0
        assert kept.any()
        assert scaled_diff(q[name][kept], theirs[kept]) <= TOL, name
    assert np.array_equal(q["count"], np.full(len(x0), len(lrs)))
    return worst


# ---------------------------------------------------------------- parity


def test_stored_vectors_cover_every_optimizer():
    assert {json.loads(str(STORED[f"{c}/spec"]))["opt"] for c in STORED_CASES} == set(
        optimizers.OPTIMIZERS)
    assert set(STORED_CASES) == set(ref.CASES)


@pytest.mark.parametrize("case", STORED_CASES)
def test_matches_stored_torch_trajectory(case):
    spec = json.loads(str(STORED[f"{case}/spec"]))
    expected = {k.split("/", 1)[1]: STORED[k] for k in STORED.files if k.startswith(case + "/")}
    check_case(spec, STORED["x0"], expected)


@pytest.mark.parametrize("case", sorted(ref.CASES))
def test_matches_live_torch(case):
    pytest.importorskip("torch")
    spec = ref.CASES[case]
    check_case(spec, ref.X0, ref.torch_trajectory(spec))


def test_live_torch_lr_schedule_and_scale_together():
    torch = pytest.importorskip("torch")
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        lrs = np.array([0.05, 0.1, 0.2])
        p = [torch.tensor(ref.X0[r], requires_grad=True) for r in range(3)]
        opt = torch.optim.AdamW([{"params": [p[r]], "lr": float(lrs[r])} for r in range(3)],
                                weight_decay=0.2)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
        ours = optimizers.adamw(lr=lambda c: lrs * 0.5 ** (c // 5), weight_decay=0.2)
        x = ref.X0
        s = ours.init(x)
        for t in range(40):
            if t == 12:  # ReduceLROnPlateau's move: scale the current lr of run 1
                opt.param_groups[1]["lr"] *= 0.1
                s = set_lr_scale(s, np.array([1.0, 0.1, 1.0]))
            for r in range(3):
                p[r].grad = torch.from_numpy(ref.grad(p[r].detach().numpy()[None])[0])
            opt.step()
            sched.step()
            u, s = ours.update(ref.grad(x), s, x)
            x = apply_updates(x, u)
        theirs = np.stack([q.detach().numpy() for q in p])
        assert scaled_diff(x, theirs) <= TOL
    finally:
        torch.set_default_dtype(old)


# ---------------------------------------------------------------- contracts


ALL = sorted(optimizers.OPTIMIZERS)


def _lr_for(name):
    return 1.0 if name == "adadelta" else 0.05


@pytest.mark.parametrize("name", ALL)
def test_torch_defaults(name):
    import inspect

    sig = inspect.signature(optimizers.OPTIMIZERS[name])
    torch = pytest.importorskip("torch")
    tsig = inspect.signature(getattr(torch.optim, ref.TORCH_CLASS[name]).__init__)
    for pname, param in sig.parameters.items():
        assert pname in tsig.parameters, pname
        assert tsig.parameters[pname].default == param.default, pname


@pytest.mark.parametrize("name", ALL)
def test_inputs_and_previous_state_are_not_mutated(name):
    opt = optimizers.OPTIMIZERS[name](lr=np.array([0.1, 0.2, 0.3]) * _lr_for(name) * 10)
    x = ref.X0.copy()
    s0 = opt.init(x)
    g = ref.grad(x)
    _, s1 = opt.update(g, s0, x)
    snapshot = [a.copy() for a in quantities(s1).values()]
    g_copy, x_copy = g.copy(), x.copy()
    u, s2 = opt.update(g, s1, x)
    np.testing.assert_array_equal(g, g_copy)
    np.testing.assert_array_equal(x, x_copy)
    for before, after in zip(snapshot, quantities(s1).values(), strict=True):
        np.testing.assert_array_equal(before, after)
    assert quantities(s2)["count"][0] == 2


@given(data=st.data())
def test_run_in_a_batch_equals_the_run_alone(data):
    name = data.draw(st.sampled_from(ALL))
    R = data.draw(st.integers(2, 4))
    lr = np.array(data.draw(st.lists(st.floats(0.0, 0.2), min_size=R, max_size=R))) \
        * (20 if name == "adadelta" else 1)
    wd = np.array(data.draw(st.lists(st.floats(0.0, 0.5), min_size=R, max_size=R)))
    x0 = np.array(data.draw(st.lists(st.lists(st.floats(-2, 2), min_size=3, max_size=3),
                                     min_size=R, max_size=R)))
    make = optimizers.OPTIMIZERS[name]
    batch = make(lr=lr, weight_decay=wd)
    assert batch.runs == R
    xb, sb = x0, batch.init(x0)
    alone = [make(lr=float(lr[r]), weight_decay=float(wd[r])) for r in range(R)]
    xs = [x0[r:r + 1] for r in range(R)]
    ss = [o.init(x) for o, x in zip(alone, xs, strict=True)]
    for _ in range(12):
        u, sb = batch.update(ref.grad(xb), sb, xb)
        xb = apply_updates(xb, u)
        for r in range(R):
            u, ss[r] = alone[r].update(ref.grad(xs[r]), ss[r], xs[r])
            xs[r] = apply_updates(xs[r], u)
    np.testing.assert_allclose(xb, np.concatenate(xs), rtol=1e-15, atol=1e-15)


def test_schedule_sees_the_number_of_updates_done():
    seen = []

    def lr(count):
        seen.append(count)
        return 0.1 / (1 + count)

    opt = optimizers.sgd(lr=lr)
    x = np.zeros((2, 1))
    s = opt.init(x)
    assert current_lr(s).tolist() == [0.1, 0.1]  # before any update: the first update's lr
    g = np.ones((2, 1))
    for k in range(3):
        u, s = opt.update(g, s, x)
        np.testing.assert_array_equal(u, np.full((2, 1), -0.1 / (1 + k)))
        assert current_lr(s).tolist() == [0.1 / (1 + k)] * 2
    assert seen[-3:] == [0, 1, 2]


def test_quantities_names():
    x = ref.X0
    q = quantities(optimizers.adam(amsgrad=True).init(x))
    assert {"mu", "nu", "nu_max", "count", "lr"} <= set(q)
    assert q["mu"].shape == x.shape and q["count"].tolist() == [0, 0, 0]
    assert "velocity" in quantities(optimizers.sgd(momentum=0.9).init(x))
    assert "sum_sq" in quantities(optimizers.adagrad().init(x))
    nadam = optimizers.nadam(betas=(np.array([0.9, 0.8, 0.7]), 0.999))
    _, s = nadam.update(x, nadam.init(x), x)
    assert set(quantities(s)) == {"mu", "nu", "count", "lr"}
    assert {"square_avg", "grad_avg", "velocity"} <= set(
        quantities(optimizers.rmsprop(centered=True, momentum=0.5).init(x)))


# ---------------------------------------------------------------- race


def _race_members():
    lrs = np.array([0.01, 0.05])
    return [optimizers.sgd(lr=lrs, momentum=0.9), optimizers.adagrad(lr=lrs),
            optimizers.rmsprop(lr=lrs * 0.1), optimizers.adam(lr=lrs),
            optimizers.adamw(lr=lrs), optimizers.nadam(lr=lrs), optimizers.adamax(lr=lrs),
            optimizers.adadelta(lr=lrs * 50)]


def test_race_equals_each_optimizer_on_its_block():
    members = _race_members()
    r = race(members, [2] * len(members))
    assert r.runs == 2 * len(members)
    x0 = np.tile(ref.X0[:2], (len(members), 1))
    x, s = x0, r.init(x0)
    blocks = [(m, x0[2 * i:2 * i + 2], m.init(x0[2 * i:2 * i + 2]))
              for i, m in enumerate(members)]
    for _ in range(20):
        u, s = r.update(ref.grad(x), s, x)
        x = apply_updates(x, u)
        new = []
        for m, xb, sb in blocks:
            ub, sb = m.update(ref.grad(xb), sb, xb)
            new.append((m, apply_updates(xb, ub), sb))
        blocks = new
    np.testing.assert_array_equal(x, np.concatenate([b[1] for b in blocks]))
    np.testing.assert_array_equal(current_lr(s), np.concatenate(
        [current_lr(b[2]) for b in blocks]))
    q = quantities(s)
    assert q["mu"].shape == x.shape
    assert np.isnan(q["mu"][:2]).all()               # sgd has no first moment
    np.testing.assert_array_equal(q["mu"][6:8], quantities(blocks[3][2])["mu"])
    np.testing.assert_array_equal(q["velocity"][:2], quantities(blocks[0][2])["velocity"])
    assert q["count"].tolist() == [20] * 16


def test_race_lr_scale_reaches_every_block():
    members = _race_members()[:4]
    r = race(members, [2, 2, 2, 2])
    x = np.tile(ref.X0[:2], (4, 1))
    s = r.init(x)
    scale = np.linspace(0.1, 0.8, 8)
    s = set_lr_scale(s, scale)
    _, s = r.update(ref.grad(x), s, x)
    base = np.array([0.01, 0.05, 0.01, 0.05, 0.001, 0.005, 0.01, 0.05])
    np.testing.assert_allclose(current_lr(s), base * scale, rtol=1e-15)


def test_race_validation():
    a, b = optimizers.sgd(lr=np.array([0.1, 0.2])), optimizers.adam()
    with pytest.raises(ValueError, match=r"sizes\[0\]"):
        race([a, b], [3, 2])
    with pytest.raises(ValueError, match="one size per optimizer"):
        race([a, b], [2])
    with pytest.raises(ValueError, match=r"sizes\[1\]"):
        race([a, b], [2, 0])
    r = race([a, b], [2, 3])
    with pytest.raises(ValueError, match="5"):
        r.init(np.zeros((4, 2)))
    s = r.init(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="grads"):
        r.update(np.zeros((5, 3)), s, np.zeros((5, 2)))


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize("make, match", [
    (lambda: optimizers.sgd(lr=-1.0), r"lr must be in \[0, inf\)"),
    (lambda: optimizers.sgd(lr=float("nan")), "lr must be finite"),
    (lambda: optimizers.adam(lr=float("inf")), "lr must be finite"),
    (lambda: optimizers.adam(lr=lambda c: -0.1), "lr must be"),
    (lambda: optimizers.adam(betas=(1.0, 0.999)), r"betas\[0\] must be in \[0, 1\)"),
    (lambda: optimizers.adamw(betas=(0.9, -0.1)), r"betas\[1\] must be in \[0, 1\)"),
    (lambda: optimizers.nadam(betas=0.9), "betas must be a pair"),
    (lambda: optimizers.adam(eps=0.0), r"eps must be in \(0, inf\)"),
    (lambda: optimizers.adagrad(eps=-1e-3), "eps"),
    (lambda: optimizers.sgd(momentum=-0.5), "momentum"),
    (lambda: optimizers.rmsprop(momentum=-0.5), "momentum"),
    (lambda: optimizers.sgd(weight_decay=-1.0), "weight_decay"),
    (lambda: optimizers.adamw(weight_decay=np.array([0.1, -0.1])), "weight_decay"),
    (lambda: optimizers.adagrad(lr_decay=-0.1), "lr_decay"),
    (lambda: optimizers.adagrad(initial_accumulator_value=-1), "initial_accumulator_value"),
    (lambda: optimizers.sgd(momentum=0.9, dampening=1.5), r"dampening must be in \[0, 1\]"),
    (lambda: optimizers.sgd(dampening=-0.1), "dampening"),
    (lambda: optimizers.sgd(nesterov=True), "nesterov"),
    (lambda: optimizers.sgd(momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
    (lambda: optimizers.rmsprop(alpha=1.5), r"alpha must be in \[0, 1\]"),
    (lambda: optimizers.adadelta(rho=-0.1), r"rho must be in \[0, 1\]"),
    (lambda: optimizers.nadam(momentum_decay=-1.0), "momentum_decay"),
    (lambda: optimizers.adam(lr=np.array([0.1, 0.2]), eps=np.array([1e-8] * 3)), "runs"),
    (lambda: optimizers.adam(lr=np.ones((2, 2))), "lr must be a scalar or a 1-D array"),
])
def test_bad_hyperparameters_raise_at_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_shapes_raise_at_init_and_update():
    opt = optimizers.adam(lr=np.array([0.1, 0.2, 0.3]))
    assert opt.runs == 3
    with pytest.raises(ValueError, match="lr has 3 values but there are 2 runs"):
        opt.init(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"params must have shape \(R, D\)"):
        opt.init(np.zeros(3))
    s = opt.init(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="grads has shape"):
        opt.update(np.zeros((3, 5)), s, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="scale"):
        set_lr_scale(s, np.ones(2))
    with pytest.raises(ValueError, match="scale"):
        set_lr_scale(s, -1.0)
