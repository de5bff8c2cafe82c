"""optimizers.internals: what each optimizer's last step means, with its own hyperparameters.

The expected values are the torch.optim update formulas written out by hand below (one
plain loop per optimizer, independent of the engine's transforms), fed the same gradient
sequence; live torch checks read torch's own optimizer state.
"""

import numpy as np
import pytest

from descentlab.engine import optimizers as O

R, D, T = 3, 2, 6
GRADS = np.random.default_rng(7).normal(size=(T, R, D)) * np.array([1.0, 30.0])
X0 = np.array([[0.5, -1.0], [2.0, 0.3], [-1.5, 1.2]])


def drive(opt):
    """internals after each of T updates with the gradient sequence GRADS (and the updates)."""
    state = opt.init(X0)
    p = X0.copy()
    out = []
    for g in GRADS:
        u, state = opt.update(g, state, p)
        p = p + u
        out.append((O.internals(opt, state, p), u))
    return out


# ---------------------------------------------------------------- the formulas by hand


def ref_adam(lr, b1, b2, eps, amsgrad=False):
    m = v = vmax = 0.0
    rows = []
    for t, g in enumerate(GRADS, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        second = vmax if amsgrad else v
        rows.append({"m": m, "v": v, "m_hat": m / (1 - b1**t), "v_hat": second / (1 - b2**t),
                     "eff_lr": lr / (np.sqrt(second) / np.sqrt(1 - b2**t) + eps)})
    return rows


def ref_nadam(lr, b1, b2, eps, psi):
    m = v = 0.0
    prod = 1.0
    rows = []
    for t, g in enumerate(GRADS, 1):
        mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        prod *= mu
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_hat = v / (1 - b2**t)
        rows.append({"m": m, "v": v, "v_hat": v_hat,
                     "m_hat": (1 - mu) * g / (1 - prod) + mu_next * m / (1 - prod * mu_next),
                     "eff_lr": lr / (np.sqrt(v_hat) + eps)})
    return rows


def ref_adamax(lr, b1, b2, eps):
    m = u = 0.0
    rows = []
    for t, g in enumerate(GRADS, 1):
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g) + eps)
        rows.append({"m": m, "u_inf": u, "m_hat": m / (1 - b1**t), "eff_lr": lr / u})
    return rows


def ref_rmsprop(lr, alpha, eps, centered):
    v = ga = 0.0
    rows = []
    for g in GRADS:
        v = alpha * v + (1 - alpha) * g * g
        ga = alpha * ga + (1 - alpha) * g
        avg = np.sqrt(v - ga * ga) if centered else np.sqrt(v)
        rows.append({"v": v, "eff_lr": lr / (avg + eps)})
    return rows


def ref_adagrad(lr, lr_decay, eps, s0):
    s = s0
    rows = []
    for t, g in enumerate(GRADS, 1):
        s = s + g * g
        rows.append({"sum_sq": s, "eff_lr": lr / (1 + (t - 1) * lr_decay) / (np.sqrt(s) + eps)})
    return rows


def ref_adadelta(lr, rho, eps):
    v = a = 0.0
    rows = []
    for g in GRADS:
        v = rho * v + (1 - rho) * g * g
        ratio = np.sqrt(a + eps) / np.sqrt(v + eps)
        a = rho * a + (1 - rho) * (ratio * g) ** 2
        rows.append({"v": v, "acc_delta": a, "eff_lr": lr * ratio})
    return rows


def ref_sgd(lr, mu, tau, nesterov):
    b = None
    rows = []
    for g in GRADS:
        b = g if b is None else mu * b + (1 - tau) * g
        row = {"velocity": b, "eff_lr": np.broadcast_to(lr, g.shape)}
        if nesterov:
            row["lookahead"] = g + mu * b
        rows.append(row)
    return rows


CASES = {
    "adam": (O.adam(lr=0.05, betas=(0.8, 0.95), eps=1e-3), ref_adam(0.05, 0.8, 0.95, 1e-3)),
    "amsgrad": (O.adam(lr=0.05, betas=(0.7, 0.9), eps=1e-2, amsgrad=True),
                ref_adam(0.05, 0.7, 0.9, 1e-2, amsgrad=True)),
    "adamw": (O.adamw(lr=0.02, betas=(0.85, 0.99), eps=1e-4, weight_decay=0.0),
              ref_adam(0.02, 0.85, 0.99, 1e-4)),
    "nadam": (O.nadam(lr=0.03, betas=(0.8, 0.9), eps=1e-3, momentum_decay=0.05),
              ref_nadam(0.03, 0.8, 0.9, 1e-3, 0.05)),
    "adamax": (O.adamax(lr=0.04, betas=(0.8, 0.9), eps=1e-2), ref_adamax(0.04, 0.8, 0.9, 1e-2)),
    "rmsprop": (O.rmsprop(lr=0.01, alpha=0.9, eps=1e-3), ref_rmsprop(0.01, 0.9, 1e-3, False)),
    "rmsprop_centered": (O.rmsprop(lr=0.01, alpha=0.8, eps=1e-3, centered=True),
                         ref_rmsprop(0.01, 0.8, 1e-3, True)),
    "adagrad": (O.adagrad(lr=0.1, lr_decay=0.2, eps=1e-3, initial_accumulator_value=0.5),
                ref_adagrad(0.1, 0.2, 1e-3, 0.5)),
    "adadelta": (O.adadelta(lr=0.7, rho=0.8, eps=1e-3), ref_adadelta(0.7, 0.8, 1e-3)),
    "momentum": (O.sgd(lr=0.01, momentum=0.8, dampening=0.3),
                 ref_sgd(0.01, 0.8, 0.3, False)),
    "nesterov": (O.sgd(lr=0.01, momentum=0.7, nesterov=True), ref_sgd(0.01, 0.7, 0.0, True)),
    "sgd": (O.sgd(lr=0.01), [{"eff_lr": np.full((R, D), 0.01)}] * T),
}


@pytest.mark.parametrize("name", list(CASES))
def test_internals_equal_the_torch_formulas(name):
    opt, want = CASES[name]
    for t, ((q, _), w) in enumerate(zip(drive(opt), want, strict=True), 1):
        assert q["count"].tolist() == [t] * R
        for k, v in w.items():
            np.testing.assert_allclose(q[k], v, rtol=1e-13, atol=0, err_msg=f"{name} {k} t={t}")


@pytest.mark.parametrize("name", ["adam", "amsgrad", "adamw", "nadam", "adamax", "rmsprop",
                                  "rmsprop_centered", "adagrad", "adadelta", "momentum",
                                  "nesterov", "sgd"])
def test_the_step_is_minus_eff_lr_times_the_direction(name):
    opt, _ = CASES[name]
    for t, (q, u) in enumerate(drive(opt)):
        g = GRADS[t]
        d = q.get("m_hat", q.get("lookahead", q.get("velocity", g)))
        np.testing.assert_allclose(u, -q["eff_lr"] * d, rtol=1e-13, atol=1e-300)


def test_before_the_first_step_the_last_step_quantities_are_nan():
    for opt in (O.adam(), O.nadam(), O.adamax(), O.rmsprop(), O.adagrad(), O.adadelta()):
        q = O.internals(opt, opt.init(X0))
        assert np.isnan(q["eff_lr"]).all()
        for k in ("m_hat", "v_hat"):
            if k in q:
                assert np.isnan(q[k]).all()
    nes = O.sgd(lr=0.1, momentum=0.9, nesterov=True)
    q = O.internals(nes, nes.init(X0))
    assert np.isnan(q["lookahead"]).all() and (q["velocity"] == 0).all()
    q = O.internals(O.sgd(lr=0.1), O.sgd(lr=0.1).init(X0), X0)
    np.testing.assert_array_equal(q["eff_lr"], np.full((R, D), 0.1))


def test_per_run_hyperparameters():
    b1 = np.array([0.5, 0.8, 0.9])
    eps = np.array([1e-1, 1e-3, 1e-8])
    opt = O.adam(lr=np.array([0.1, 0.2, 0.3]), betas=(b1, 0.99), eps=eps)
    q = drive(opt)[-1][0]
    for r in range(R):
        want = ref_adam([0.1, 0.2, 0.3][r], b1[r], 0.99, eps[r])[-1]
        for k in ("m_hat", "v_hat", "eff_lr"):
            np.testing.assert_allclose(q[k][r], want[k][r], rtol=1e-13)


def test_race_gives_nan_rows_for_blocks_without_a_quantity():
    opt = O.race([O.sgd(lr=0.1, momentum=0.9), O.adam(lr=0.01), O.sgd(lr=0.2)], [1, 1, 1])
    q = drive(opt)[-1][0]
    assert np.isnan(q["m_hat"][[0, 2]]).all() and np.isfinite(q["m_hat"][1]).all()
    assert np.isnan(q["velocity"][1:]).all() and np.isfinite(q["velocity"][0]).all()
    np.testing.assert_array_equal(q["eff_lr"][2], [0.2, 0.2])
    alone = drive(O.adam(lr=0.01))[-1][0]
    np.testing.assert_allclose(q["eff_lr"][1], alone["eff_lr"][1], rtol=1e-15)


# ---------------------------------------------------------------- live torch


torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def float64_torch():
    """torch keeps NAdam's mu_product and the step count in the default dtype."""
    old, threads = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)  # tiny tensors: threads only cost time on a shared machine
    yield
    torch.set_default_dtype(old)
    torch.set_num_threads(threads)


def torch_steps(make, steps=T):
    """Run torch on X0 with the gradient sequence; yield (optimizer state, param step)."""
    p = torch.tensor(X0, dtype=torch.float64, requires_grad=True)
    opt = make([p])
    for g in GRADS[:steps]:
        before = p.detach().clone()
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        yield opt.state[p], (p.detach() - before).numpy()


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_hats_from_torchs_state(amsgrad):
    lr, b1, b2, eps = 0.05, 0.8, 0.95, 1e-3
    ours = drive(O.adam(lr=lr, betas=(b1, b2), eps=eps, amsgrad=amsgrad))
    gen = torch_steps(lambda ps: torch.optim.Adam(ps, lr=lr, betas=(b1, b2), eps=eps,
                                                  amsgrad=amsgrad))
    for (q, _), (st, du) in zip(ours, gen, strict=True):
        t = int(st["step"])
        second = (st["max_exp_avg_sq"] if amsgrad else st["exp_avg_sq"]).numpy()
        np.testing.assert_allclose(q["m_hat"], st["exp_avg"].numpy() / (1 - b1**t), rtol=1e-13)
        np.testing.assert_allclose(q["v_hat"], second / (1 - b2**t), rtol=1e-13)
        np.testing.assert_allclose(du, -q["eff_lr"] * q["m_hat"], rtol=1e-12, atol=1e-300)


def test_nadam_hats_from_torchs_state():
    lr, b1, b2, eps, psi = 0.03, 0.8, 0.9, 1e-3, 0.05
    ours = drive(O.nadam(lr=lr, betas=(b1, b2), eps=eps, momentum_decay=psi))
    gen = torch_steps(lambda ps: torch.optim.NAdam(ps, lr=lr, betas=(b1, b2), eps=eps,
                                                   momentum_decay=psi))
    for t, ((q, _), (st, du)) in enumerate(zip(ours, gen, strict=True), 1):
        prod = float(st["mu_product"])
        mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        m_hat = (1 - mu) * GRADS[t - 1] / (1 - prod) + \
            mu_next * st["exp_avg"].numpy() / (1 - prod * mu_next)
        np.testing.assert_allclose(q["m_hat"], m_hat, rtol=1e-12)
        np.testing.assert_allclose(q["v_hat"], st["exp_avg_sq"].numpy() / (1 - b2**t),
                                   rtol=1e-13)
        np.testing.assert_allclose(du, -q["eff_lr"] * q["m_hat"], rtol=1e-12, atol=1e-300)


def test_nesterov_lookahead_is_torchs_direction():
    lr, mu = 0.01, 0.7
    ours = drive(O.sgd(lr=lr, momentum=mu, nesterov=True))
    gen = torch_steps(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=mu, nesterov=True))
    for (q, _), (st, du) in zip(ours, gen, strict=True):
        np.testing.assert_allclose(q["velocity"], st["momentum_buffer"].numpy(), rtol=1e-14)
        np.testing.assert_allclose(du, -lr * q["lookahead"], rtol=1e-12, atol=1e-300)


def test_adamax_and_rmsprop_from_torchs_state():
    ours = drive(O.adamax(lr=0.04, betas=(0.8, 0.9), eps=1e-2))
    gen = torch_steps(lambda ps: torch.optim.Adamax(ps, lr=0.04, betas=(0.8, 0.9), eps=1e-2))
    for (q, _), (st, du) in zip(ours, gen, strict=True):
        np.testing.assert_allclose(q["u_inf"], st["exp_inf"].numpy(), rtol=1e-14)
        np.testing.assert_allclose(du, -q["eff_lr"] * q["m_hat"], rtol=1e-12, atol=1e-300)
    ours = drive(O.rmsprop(lr=0.01, alpha=0.9, eps=1e-3))
    gen = torch_steps(lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-3))
    for t, ((q, _), (st, du)) in enumerate(zip(ours, gen, strict=True)):
        np.testing.assert_allclose(q["v"], st["square_avg"].numpy(), rtol=1e-14)
        np.testing.assert_allclose(du, -q["eff_lr"] * GRADS[t], rtol=1e-12, atol=1e-300)
