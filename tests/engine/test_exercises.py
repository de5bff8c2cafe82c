"""descentlab.engine.exercises: references equal the engine and torch, planted mistakes are
named, correct code in several styles passes, bad code gets a clear message, as_optimizer."""

import math
import signal
import sys
import threading
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from descentlab.engine import callbacks, exercises, models, optimizers, problems, runner

NAMES = exercises.names()
STEPS = list(exercises.STEP_EXERCISES)


def solution(name):
    ns = {"np": np}
    exec(exercises.solution(name), ns)
    return ns[name]


def close(a, b, tol=1e-10):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    assert np.all(np.abs(a - b) <= tol * (1 + np.abs(b))), np.max(np.abs(a - b))


def step_trajectory(fn, case):
    """Run a step function over a step case as the grader does: (T+1, D) thetas + states."""
    spec = exercises.STEP_EXERCISES[case.info["name"]]
    theta = case.info["theta0"].copy()
    slots = [np.zeros_like(theta) for _ in spec.slots]
    thetas, states = [theta], []
    h = case.info["hparams"]
    for t in range(1, case.info["steps"] + 1):
        g = case.info["grad"](theta)
        args = (theta, g, *slots) + ((t,) if spec.has_t else ()) + tuple(h[k] for k in spec.hparams)
        theta, *slots = fn(*args)
        thetas.append(theta)
        states.append(np.array(slots))
    return np.array(thetas), np.array(states)


def step_cases(name):
    out = []
    for c in exercises.cases(name):
        c.info["name"] = name
        out.append(c)
    return out


# ---------------------------------------------------------------------------- API


def test_every_exercise_of_the_issue_is_there():
    assert NAMES == ["mse_grad", "logloss_grad", "gd", "minibatch_sgd", "momentum_step",
                     "nesterov_step", "rmsprop_step", "adagrad_step", "adam_step",
                     "adamw_step", "early_stopping"]


@pytest.mark.parametrize("name", NAMES)
def test_text_states_the_signature_and_hint_and_solution_are_text(name):
    sig = exercises.signature(name)
    assert sig.startswith(name + "(")
    assert sig in exercises.text(name)
    assert exercises.hint(name).strip() and exercises.solution(name).startswith(f"def {name}(")
    assert exercises.mistakes(name)


def test_unknown_name_and_non_callable_get_a_message_not_an_exception():
    fb = exercises.grade("nope", lambda: 0)
    assert not fb.passed and fb.status == "invalid" and "mse_grad" in fb.message
    fb = exercises.grade("gd", 42)
    assert not fb.passed and fb.status == "invalid" and "42" in fb.message
    with pytest.raises(ValueError, match="unknown exercise"):
        exercises.text("nope")


# ---------------------------------------------------------------------------- references


@pytest.mark.parametrize("name,model", [("mse_grad", models.linear_regression()),
                                        ("logloss_grad", models.logistic_regression())])
def test_gradient_references_equal_the_engine_models(name, model):
    for case in exercises.cases(name):
        X, y, w, b = case.args
        dw, db = exercises.reference(name)(X, y, w, b)
        g = model.grad(np.concatenate([w, [b]])[None], X, y)[0]
        close(dw, g[:-1])
        close(db, g[-1])
        # and the finite-difference slope of the engine's loss
        theta = np.concatenate([w, [b]])
        h = 1e-6
        fd = [(model.loss((theta + h * e)[None], X, y) - model.loss((theta - h * e)[None], X, y))
              [0] / (2 * h) for e in np.eye(theta.size)]
        close(np.append(dw, db), fd, tol=1e-6)


@pytest.mark.parametrize("name", ["mse_grad", "logloss_grad"])
def test_gradient_references_equal_live_torch(name):
    torch = pytest.importorskip("torch")
    for case in exercises.cases(name):
        X, y, w, b = case.args
        wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
        bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
        z = torch.tensor(X) @ wt + bt
        loss = (torch.nn.MSELoss() if name == "mse_grad" else torch.nn.BCEWithLogitsLoss())(
            z, torch.tensor(y))
        loss.backward()
        dw, db = exercises.reference(name)(X, y, w, b)
        close(dw, wt.grad.numpy(), 1e-12)
        close(db, bt.grad.item(), 1e-12)


def test_gd_reference_equals_the_engine_runner():
    quad = problems.get("quadratic", condition=10.0, angle=30.0)
    for lr, steps in ((0.05, 20), (0.19, 7)):
        thetas = exercises.reference("gd")(lambda t: quad.grad(t[None])[0], quad.start, lr, steps)
        engine = np.array([r.params[0] for r in runner.run(quad, optimizers.sgd(lr=lr),
                                                           quad.start, steps)])
        close(thetas, engine, 1e-14)


def test_gd_reference_equals_live_torch():
    torch = pytest.importorskip("torch")
    for case in exercises.cases("gd"):
        grad, theta0, lr, steps = case.args
        p = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.SGD([p], lr=lr)
        rows = [p.detach().numpy().copy()]
        for _ in range(steps):
            p.grad = torch.tensor(grad(p.detach().numpy()))
            opt.step()
            rows.append(p.detach().numpy().copy())
        close(exercises.reference("gd")(grad, theta0, lr, steps), np.array(rows), 1e-12)


def minibatch_order(N, epochs, seed):
    rng = np.random.default_rng(seed)
    return [rng.permutation(N) for _ in range(epochs)]


def test_minibatch_reference_equals_engine_model_and_optimizer_steps():
    model, = [models.linear_regression()]
    for case in exercises.cases("minibatch_sgd"):
        X, y, w0, b0, lr, B, epochs, seed = case.args
        theta = np.append(w0, b0)[None]
        opt = optimizers.sgd(lr=lr)
        state = opt.init(theta)
        for order in minibatch_order(len(y), epochs, seed):
            for i in range(0, len(y), B):
                idx = order[i:i + B]
                u, state = opt.update(model.grad(theta, X[idx], y[idx]), state, theta)
                theta = theta + u
        w, b = exercises.reference("minibatch_sgd")(*case.args)
        close(np.append(w, b), theta[0], 1e-14)


def test_minibatch_reference_equals_live_torch():
    torch = pytest.importorskip("torch")
    for case in exercises.cases("minibatch_sgd"):
        X, y, w0, b0, lr, B, epochs, seed = case.args
        w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
        b = torch.tensor(b0, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.SGD([w, b], lr=lr)
        Xt, yt = torch.tensor(X), torch.tensor(y)
        for order in minibatch_order(len(y), epochs, seed):
            for i in range(0, len(y), B):
                idx = torch.tensor(order[i:i + B])
                opt.zero_grad()
                torch.nn.functional.mse_loss(Xt[idx] @ w + b, yt[idx]).backward()
                opt.step()
        wr, br = exercises.reference("minibatch_sgd")(*case.args)
        close(wr, w.detach().numpy(), 1e-12)
        close(br, b.item(), 1e-12)


ENGINE_OPT = {
    "momentum_step": lambda h: optimizers.sgd(lr=h["lr"], momentum=h["momentum"]),
    "nesterov_step": lambda h: optimizers.sgd(lr=h["lr"], momentum=h["momentum"], nesterov=True),
    "rmsprop_step": lambda h: optimizers.rmsprop(lr=h["lr"], alpha=h["alpha"], eps=h["eps"]),
    "adagrad_step": lambda h: optimizers.adagrad(lr=h["lr"], eps=h["eps"]),
    "adam_step": lambda h: optimizers.adam(lr=h["lr"], betas=(h["beta1"], h["beta2"]),
                                           eps=h["eps"]),
    "adamw_step": lambda h: optimizers.adamw(lr=h["lr"], betas=(h["beta1"], h["beta2"]),
                                             eps=h["eps"], weight_decay=h["weight_decay"]),
}


def torch_opt(torch, name, p, h):
    o = torch.optim
    return {
        "momentum_step": lambda: o.SGD([p], lr=h.get("lr"), momentum=h.get("momentum")),
        "nesterov_step": lambda: o.SGD([p], lr=h.get("lr"), momentum=h.get("momentum"),
                                       nesterov=True),
        "rmsprop_step": lambda: o.RMSprop([p], lr=h.get("lr"), alpha=h.get("alpha"),
                                          eps=h.get("eps")),
        "adagrad_step": lambda: o.Adagrad([p], lr=h.get("lr"), eps=h.get("eps")),
        "adam_step": lambda: o.Adam([p], lr=h.get("lr"), betas=(h.get("beta1"), h.get("beta2")),
                                    eps=h.get("eps")),
        "adamw_step": lambda: o.AdamW([p], lr=h.get("lr"),
                                      betas=(h.get("beta1"), h.get("beta2")),
                                      eps=h.get("eps"), weight_decay=h.get("weight_decay")),
    }[name]()


def engine_trajectory(name, case):
    """The engine optimizer over the case's gradient oracle: (T+1, D) thetas."""
    opt = ENGINE_OPT[name](case.info["hparams"])
    theta = case.info["theta0"][None].copy()
    state = opt.init(theta)
    rows = [theta[0]]
    for _ in range(case.info["steps"]):
        u, state = opt.update(case.info["grad"](theta[0])[None], state, theta)
        theta = theta + u
        rows.append(theta[0])
    return np.array(rows), state


@pytest.mark.parametrize("name", STEPS)
def test_step_references_equal_the_engine_optimizers(name):
    for case in step_cases(name):
        thetas, states = step_trajectory(exercises.reference(name), case)
        engine, state = engine_trajectory(name, case)
        close(thetas, engine, 1e-13)
        q = optimizers.quantities(state)
        for slot, key in zip(exercises.STEP_EXERCISES[name].slots,
                             exercises.STEP_EXERCISES[name].engine_names, strict=True):
            i = exercises.STEP_EXERCISES[name].slots.index(slot)
            close(states[-1][i], q[key][0], 1e-13)


@pytest.mark.parametrize("name", STEPS)
def test_step_references_equal_live_torch(name):
    torch = pytest.importorskip("torch")
    for case in step_cases(name):
        thetas, _ = step_trajectory(exercises.reference(name), case)
        p = torch.tensor(case.info["theta0"], dtype=torch.float64, requires_grad=True)
        opt = torch_opt(torch, name, p, case.info["hparams"])
        rows = [p.detach().numpy().copy()]
        for _ in range(case.info["steps"]):
            p.grad = torch.tensor(case.info["grad"](p.detach().numpy()))
            opt.step()
            rows.append(p.detach().numpy().copy())
        close(thetas, np.array(rows), 1e-12)


@pytest.mark.parametrize("name", STEPS)
def test_reference_steps_on_a_named_surface_equal_the_runner(name):
    quad = problems.get("quadratic", condition=10.0, angle=30.0)
    case = step_cases(name)[0]
    assert case.info["grad"](quad.start) == pytest.approx(quad.grad(quad.start[None])[0])
    thetas, _ = step_trajectory(exercises.reference(name), case)
    recs = list(runner.run(quad, ENGINE_OPT[name](case.info["hparams"]), case.info["theta0"],
                           case.info["steps"]))
    close(thetas, np.array([r.params[0] for r in recs]), 1e-13)


def engine_early_stopping(vals, patience, min_delta):
    cfg = callbacks.early_stopping(patience=patience, min_delta=min_delta)
    p = np.zeros((1, 1))
    state = callbacks.early_stopping_init(cfg, p)
    for e, v in enumerate(vals, 1):
        if state.stopped[0]:
            break
        state = callbacks.early_stopping_update(cfg, state, v, e, p)
    return (int(state.stop_epoch[0]) if state.stopped[0] else None), int(state.best_epoch[0])


@given(st.lists(st.one_of(st.floats(0, 2), st.sampled_from([0.5, 1.0, math.nan])),
                max_size=15),
       st.integers(0, 4), st.sampled_from([0.0, 0.01, 0.1]))
def test_early_stopping_reference_and_solution_equal_the_engine_callback(vals, patience, delta):
    expected = engine_early_stopping(vals, patience, delta)
    assert exercises.reference("early_stopping")(np.array(vals), patience, delta) == expected
    assert solution("early_stopping")(np.array(vals), patience, delta) == expected


def test_early_stopping_cases_cover_each_way_to_end():
    results = [exercises.reference("early_stopping")(*c.args)
               for c in exercises.cases("early_stopping")]
    assert any(stop is None for stop, _ in results)
    assert any(stop is not None and stop > best + 1 for stop, best in results)
    assert any(np.isnan(c.args[0]).any() for c in exercises.cases("early_stopping"))


# ---------------------------------------------------------------------------- correct code


@pytest.mark.parametrize("name", NAMES)
def test_the_solution_passes(name):
    fb = exercises.grade(name, solution(name))
    assert fb.passed, fb.message
    assert fb.status == "passed" and "passed" in fb.message and not fb.mistake


def mse_grad_loops(X, y, w, b):
    N, F = X.shape
    dw, db = np.zeros(F), 0.0
    for n in range(N):
        r = sum(X[n, j] * w[j] for j in range(F)) + b - y[n]
        for j in range(F):
            dw[j] += 2 * r * X[n, j] / N
        db += 2 * r / N
    return dw, db


def mse_grad_inplace(X, y, w, b):
    X -= 0.0
    r = X @ w
    r += b
    r -= y
    y *= 0                      # scribbles on its inputs: the grader passed copies
    return (2 / len(r)) * (r @ X), np.mean(2 * r)


def logloss_grad_loops(X, y, w, b):
    N, F = X.shape
    dw, db = [0.0] * F, 0.0
    for n in range(N):
        z = float(np.dot(X[n], w) + b)
        p = math.exp(-np.logaddexp(0, -z))
        for j in range(F):
            dw[j] += (p - y[n]) * X[n, j] / N
        db += (p - y[n]) / N
    return dw, db                 # a list is fine


def gd_preallocated(grad, theta0, lr, steps):
    out = np.empty((steps + 1, len(theta0)))
    out[0] = theta0
    for k in range(steps):
        out[k + 1] = out[k] - lr * grad(out[k])
    return out


def gd_inplace(grad, theta0, lr, steps):
    thetas = [theta0.copy()]
    for _ in range(steps):
        theta0 -= lr * grad(theta0)   # updates its input in place
        thetas.append(theta0.copy())
    return thetas


def minibatch_sgd_rows(X, y, w0, b0, lr, batch_size, epochs, seed):
    rng = np.random.default_rng(seed)
    w, b = w0, b0
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch_size):
            batch = order[start:start + batch_size]
            gw, gb = np.zeros_like(w), 0.0
            for n in batch:
                r = X[n] @ w + b - y[n]
                gw += 2 * r * X[n]
                gb += 2 * r
            w -= lr * gw / len(batch)     # in place on w0's copy
            b = b - lr * gb / len(batch)
    return w, b


def momentum_step_inplace(theta, grad, buf, lr, momentum):
    buf *= momentum
    buf += grad
    theta -= lr * buf
    return theta, buf


def nesterov_step_inplace(theta, grad, buf, lr, momentum):
    buf *= momentum
    buf += grad
    theta -= lr * (grad + momentum * buf)
    return theta, buf


def rmsprop_step_loops(theta, grad, v, lr, alpha, eps):
    theta, v = list(theta), list(v)
    for i in range(len(theta)):
        v[i] = alpha * v[i] + (1 - alpha) * grad[i] * grad[i]
        theta[i] = theta[i] - lr * grad[i] / (math.sqrt(v[i]) + eps)
    return np.array(theta), np.array(v)


def adagrad_step_inplace(theta, grad, G, lr, eps):
    G += grad ** 2
    theta -= lr * grad / (np.sqrt(G) + eps)
    return theta, G


def adam_step_torch_style(theta, grad, m, v, t, lr, beta1, beta2, eps):
    m *= beta1
    m += (1 - beta1) * grad
    v *= beta2
    v += (1 - beta2) * grad * grad
    denom = np.sqrt(v) / math.sqrt(1 - beta2 ** t) + eps
    theta -= (lr / (1 - beta1 ** t)) * m / denom
    return theta, m, v


def adamw_step_loops(theta, grad, m, v, t, lr, beta1, beta2, eps, weight_decay):
    out = theta.copy()
    for i in range(len(theta)):
        out[i] *= 1 - lr * weight_decay
        m[i] = beta1 * m[i] + (1 - beta1) * grad[i]
        v[i] = beta2 * v[i] + (1 - beta2) * grad[i] ** 2
        out[i] -= lr * (m[i] / (1 - beta1 ** t)) / (math.sqrt(v[i] / (1 - beta2 ** t)) + eps)
    return out, m, v


def early_stopping_counter(val_losses, patience, min_delta):
    best, best_epoch, wait = math.inf, 0, 0
    for epoch in range(1, len(val_losses) + 1):
        v = val_losses[epoch - 1]
        if not v >= best - min_delta:  # NaN fails both comparisons ...
            if not math.isnan(v):      # ... but never improves
                best, best_epoch, wait = v, epoch, 0
                continue
        wait += 1
        if wait >= patience:
            return np.int64(epoch), best_epoch
    return None, best_epoch


OTHER_STYLES = [mse_grad_loops, mse_grad_inplace, logloss_grad_loops, gd_preallocated,
                gd_inplace, minibatch_sgd_rows, momentum_step_inplace, nesterov_step_inplace,
                rmsprop_step_loops, adagrad_step_inplace, adam_step_torch_style,
                adamw_step_loops, early_stopping_counter]


@pytest.mark.parametrize("fn", OTHER_STYLES, ids=lambda f: f.__name__)
def test_correct_code_in_other_styles_passes(fn):
    name = next(n for n in NAMES if fn.__name__.startswith(n + "_"))
    fb = exercises.grade(name, fn)
    assert fb.passed, fb.message


def test_every_exercise_has_a_second_correct_style():
    assert {next(n for n in NAMES if f.__name__.startswith(n + "_"))
            for f in OTHER_STYLES} == set(NAMES)


# ---------------------------------------------------------------------------- planted mistakes
# Written the way a student would, independently of the grader's own variants.


def mse_half(X, y, w, b):
    r = X @ w + b - y
    return X.T @ r / len(y), r.mean()


def mse_sum(X, y, w, b):
    r = X @ w + b - y
    return 2 * X.T @ r, 2 * r.sum()


def mse_sign(X, y, w, b):
    r = y - (X @ w + b)
    return 2 * X.T @ r / len(y), 2 * r.mean()


def mse_no_b(X, y, w, b):
    r = X @ w - y
    return 2 * X.T @ r / len(y), 2 * r.mean()


def sig(z):
    return 1 / (1 + np.exp(-z))


def ll_sum(X, y, w, b):
    d = sig(X @ w + b) - y
    return X.T @ d, d.sum()


def ll_sign(X, y, w, b):
    d = y - sig(X @ w + b)
    return X.T @ d / len(y), d.mean()


def ll_logit(X, y, w, b):
    d = X @ w + b - y
    return X.T @ d / len(y), d.mean()


def ll_sigma_prime(X, y, w, b):
    p = sig(X @ w + b)
    d = (p - y) * p * (1 - p)
    return X.T @ d / len(y), d.mean()


def gd_uphill(grad, theta0, lr, steps):
    thetas = [theta0]
    for _ in range(steps):
        thetas.append(thetas[-1] + lr * grad(thetas[-1]))
    return np.array(thetas)


def gd_alias(grad, theta0, lr, steps):
    theta = theta0
    thetas = [theta]
    for _ in range(steps):
        theta -= lr * grad(theta)
        thetas.append(theta)
    return np.array(thetas)


def gd_fixed_grad(grad, theta0, lr, steps):
    g = grad(theta0)
    thetas = [theta0]
    for _ in range(steps):
        thetas.append(thetas[-1] - lr * g)
    return np.array(thetas)


def sgd_generic(sign=1.0, factor=2.0, mean=True, order_kind="fresh", drop=False,
                div_b=False, sequential=False):
    def minibatch_sgd(X, y, w0, b0, lr, batch_size, epochs, seed):
        N = len(y)
        w, b = w0.copy(), b0
        rng = np.random.default_rng(seed)
        once = rng.permutation(N)
        for e in range(epochs):
            if order_kind == "fresh":
                order = once if e == 0 else rng.permutation(N)
            elif order_kind == "once":
                order = once
            elif order_kind == "reseed":
                order = np.random.default_rng(seed).permutation(N)
            else:
                order = np.arange(N)
            last = (N // batch_size) * batch_size if drop else N
            for i in range(0, last, batch_size):
                idx = order[i:i + batch_size]
                n = batch_size if div_b else len(idx) if mean else 1
                r = X[idx] @ w + b - y[idx]
                w = w - sign * lr * factor * X[idx].T @ r / n
                if sequential:
                    r = X[idx] @ w + b - y[idx]
                b = b - sign * lr * factor * r.sum() / n
        return w, b
    return minibatch_sgd


def mom_uphill(theta, grad, buf, lr, momentum):
    buf = momentum * buf + grad
    return theta + lr * buf, buf


def mom_ema(theta, grad, buf, lr, momentum):
    buf = momentum * buf + (1 - momentum) * grad
    return theta - lr * buf, buf


def mom_velocity(theta, grad, buf, lr, momentum):
    v = momentum * buf - lr * grad
    return theta + v, v


def nes_uphill(theta, grad, buf, lr, momentum):
    buf = momentum * buf + grad
    return theta + lr * (grad + momentum * buf), buf


def nes_plain(theta, grad, buf, lr, momentum):
    buf = momentum * buf + grad
    return theta - lr * buf, buf


def nes_no_mu(theta, grad, buf, lr, momentum):
    buf = momentum * buf + grad
    return theta - lr * (grad + buf), buf


def rms_uphill(theta, grad, v, lr, alpha, eps):
    v = alpha * v + (1 - alpha) * grad ** 2
    return theta + lr * grad / (np.sqrt(v) + eps), v


def rms_eps_in(theta, grad, v, lr, alpha, eps):
    v = alpha * v + (1 - alpha) * grad ** 2
    return theta - lr * grad / np.sqrt(v + eps), v


def rms_swapped(theta, grad, v, lr, alpha, eps):
    v = (1 - alpha) * v + alpha * grad ** 2
    return theta - lr * grad / (np.sqrt(v) + eps), v


def rms_no_one_minus(theta, grad, v, lr, alpha, eps):
    v = alpha * v + grad ** 2
    return theta - lr * grad / (np.sqrt(v) + eps), v


def ada_uphill(theta, grad, G, lr, eps):
    G = G + grad ** 2
    return theta + lr * grad / (np.sqrt(G) + eps), G


def ada_eps_in(theta, grad, G, lr, eps):
    G = G + grad ** 2
    return theta - lr * grad / np.sqrt(G + eps), G


def ada_no_sum(theta, grad, G, lr, eps):
    G = grad ** 2
    return theta - lr * grad / (np.sqrt(G) + eps), G


def ada_late(theta, grad, G, lr, eps):
    theta = theta - lr * grad / (np.sqrt(G) + eps)
    return theta, G + grad ** 2


def adam_generic(sign=1.0, bias=True, eps_in=False, t_shift=0, wd=None):
    def adam(theta, grad, m, v, t, lr, beta1, beta2, eps, *rest):
        if wd == "coupled":
            grad = grad + rest[0] * theta
        elif wd == "no_lr":
            theta = theta * (1 - rest[0])
        elif wd == "before":
            theta = theta * (1 - lr * rest[0])
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad ** 2
        tt = t + t_shift
        mh, vh = (m / (1 - beta1 ** tt), v / (1 - beta2 ** tt)) if bias else (m, v)
        step = mh / (np.sqrt(vh + eps) if eps_in else np.sqrt(vh) + eps)
        theta = theta - sign * lr * step
        if wd == "after":
            theta = theta * (1 - lr * rest[0])
        return theta, m, v
    return adam


def adamw(**kw):
    kw.setdefault("wd", "before")
    return adam_generic(**kw)


def es_generic(stop_rule="reach", tie=False, delta=True, against="best", base=1, last=False):
    def early_stopping(val_losses, patience, min_delta):
        best, best_e, bad, prev = math.inf, 0, 0, math.inf
        for i, v in enumerate(val_losses):
            e = i + base
            ref = best if against == "best" else prev
            d = min_delta if delta else 0
            improved = (v <= ref - d) if tie else (v < ref - d)
            prev = v
            if improved:
                best, best_e, bad = v, e, 0
                continue
            bad += 1
            if (bad >= patience) if stop_rule == "reach" else (bad > patience):
                return e, best_e
        return (len(val_losses) if last else None), best_e
    return early_stopping


PLANTED = [
    ("mse_grad", "factor_2", mse_half), ("mse_grad", "sum", mse_sum),
    ("mse_grad", "sign", mse_sign), ("mse_grad", "no_bias", mse_no_b),
    ("logloss_grad", "sum", ll_sum), ("logloss_grad", "sign", ll_sign),
    ("logloss_grad", "no_sigmoid", ll_logit),
    ("logloss_grad", "extra_sigma_prime", ll_sigma_prime),
    ("gd", "sign", gd_uphill), ("gd", "alias", gd_alias), ("gd", "at_start", gd_fixed_grad),
    ("minibatch_sgd", "sign", sgd_generic(sign=-1.0)),
    ("minibatch_sgd", "factor_2", sgd_generic(factor=1.0)),
    ("minibatch_sgd", "sum", sgd_generic(mean=False)),
    ("minibatch_sgd", "no_reshuffle", sgd_generic(order_kind="once")),
    ("minibatch_sgd", "no_reshuffle", sgd_generic(order_kind="reseed")),
    ("minibatch_sgd", "no_shuffle", sgd_generic(order_kind="stored")),
    ("minibatch_sgd", "drop_last", sgd_generic(drop=True)),
    ("minibatch_sgd", "divide_by_B", sgd_generic(div_b=True)),
    ("minibatch_sgd", "sequential", sgd_generic(sequential=True)),
    ("momentum_step", "sign", mom_uphill), ("momentum_step", "dampened", mom_ema),
    ("momentum_step", "velocity_form", mom_velocity),
    ("nesterov_step", "sign", nes_uphill), ("nesterov_step", "plain", nes_plain),
    ("nesterov_step", "no_mu", nes_no_mu),
    ("rmsprop_step", "sign", rms_uphill), ("rmsprop_step", "eps_inside", rms_eps_in),
    ("rmsprop_step", "swapped", rms_swapped), ("rmsprop_step", "no_one_minus", rms_no_one_minus),
    ("adagrad_step", "sign", ada_uphill), ("adagrad_step", "eps_inside", ada_eps_in),
    ("adagrad_step", "no_sum", ada_no_sum), ("adagrad_step", "late", ada_late),
    ("adam_step", "sign", adam_generic(sign=-1.0)),
    ("adam_step", "no_bias", adam_generic(bias=False)),
    ("adam_step", "eps_inside", adam_generic(eps_in=True)),
    ("adam_step", "t_from_0", adam_generic(t_shift=1)),
    ("adam_step", "t_from_0", adam_generic(t_shift=-1)),
    ("adamw_step", "coupled_l2", adamw(wd="coupled")),
    ("adamw_step", "decay_no_lr", adamw(wd="no_lr")),
    ("adamw_step", "decay_after", adamw(wd="after")),
    ("adamw_step", "sign", adamw(sign=-1.0)), ("adamw_step", "no_bias", adamw(bias=False)),
    ("adamw_step", "eps_inside", adamw(eps_in=True)),
    ("adamw_step", "t_from_0", adamw(t_shift=1)),
    ("early_stopping", "off_by_one", es_generic(stop_rule="exceed")),
    ("early_stopping", "ties", es_generic(tie=True)),
    ("early_stopping", "no_delta", es_generic(delta=False)),
    ("early_stopping", "previous", es_generic(against="previous")),
    ("early_stopping", "zero_based", es_generic(base=0)),
    ("early_stopping", "last_epoch", es_generic(last=True)),
]


@pytest.mark.parametrize("name,key,fn", PLANTED, ids=[f"{n}-{k}-{i}" for i, (n, k, _)
                                                      in enumerate(PLANTED)])
def test_planted_mistake_is_named(name, key, fn):
    fb = exercises.grade(name, fn)
    assert not fb.passed
    assert fb.mistake_key == key, fb.message
    assert fb.mistake == exercises.mistakes(name)[key]
    assert "Likely mistake" in fb.message and fb.mistake in fb.message


def test_every_named_mistake_is_planted():
    planted = {(n, k) for n, k, _ in PLANTED}
    assert planted == {(n, k) for n in NAMES for k in exercises.mistakes(n)}


def test_the_issues_named_mistakes_exist():
    m = exercises.mistakes
    assert {"sign", "no_bias", "eps_inside", "t_from_0"} <= set(m("adam_step"))
    assert "coupled_l2" in m("adamw_step")
    assert {"factor_2", "sum"} <= set(m("mse_grad"))
    assert {"no_reshuffle", "drop_last", "sum", "factor_2", "sign"} <= set(m("minibatch_sgd"))


def test_two_mistakes_at_once_are_located_without_a_wrong_name():
    def both(theta, grad, m, v, t, lr, beta1, beta2, eps):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad ** 2
        return theta + lr * m / np.sqrt(v + eps), m, v   # no bias correction, eps inside, uphill
    fb = exercises.grade("adam_step", both)
    assert fb.status == "failed" and fb.mistake_key == "" and "step 1" in fb.message


# ---------------------------------------------------------------------------- located feedback


def test_failure_is_located_with_expected_and_received_to_4_digits():
    fb = exercises.grade("adam_step", adam_generic(bias=False))
    case = exercises.cases("adam_step")[0]
    assert fb.case == case.label and fb.where == "step 1" and fb.output == "theta"
    assert fb.index == "[0]"
    h = case.info["hparams"]
    exp, *_ = exercises.reference("adam_step")(case.info["theta0"],
                                               case.info["grad"](case.info["theta0"]),
                                               np.zeros(2), np.zeros(2), 1, *h.values())
    got, *_ = adam_generic(bias=False)(case.info["theta0"],
                                       case.info["grad"](case.info["theta0"]),
                                       np.zeros(2), np.zeros(2), 1, *h.values())
    assert fb.expected == pytest.approx(exp[0], rel=1e-12)
    assert fb.received == pytest.approx(got[0], rel=1e-12)
    assert f"expected {exp[0]:.4g}, received {got[0]:.4g}" in fb.message
    assert case.label in fb.message and "`theta[0]`" in fb.message


def test_a_later_step_and_a_state_output_are_located():
    def late(theta, grad, buf, lr, momentum):     # right for two steps, then wrong buf
        late.calls += 1
        buf = momentum * buf + grad
        return theta - lr * buf, buf * (1.5 if late.calls == 3 else 1.0)
    late.calls = 0
    fb = exercises.grade("momentum_step", late)
    assert fb.where == "step 3" and fb.output == "buf" and fb.index == "[0]"
    assert fb.trajectory is not None and fb.trajectory.fail_at == 3


def test_trajectory_exercises_return_the_iterates_for_a_plot():
    fb = exercises.grade("gd", gd_uphill)
    tr = fb.trajectory
    case = exercises.cases("gd")[0]
    assert tr.expected.shape == (21, 2) and tr.received.shape == (21, 2)
    close(tr.expected, exercises.reference("gd")(*case.args))
    close(tr.received, gd_uphill(*case.args))
    fb = exercises.grade("minibatch_sgd", sgd_generic(drop=True))
    assert fb.trajectory.axis == "epoch" and fb.trajectory.coords == ("w[0]", "w[1]", "b")
    assert fb.trajectory.expected.shape == (4, 3)
    assert exercises.grade("mse_grad", mse_sum).trajectory is None


def test_early_stopping_feedback_shows_epochs_as_ints_and_none():
    fb = exercises.grade("early_stopping", es_generic(last=True))
    assert "expected None, received" in fb.message


# ---------------------------------------------------------------------------- bad code


def not_yet(*args):
    raise NotImplementedError


@pytest.mark.parametrize("name", NAMES)
def test_a_stub_says_not_implemented_yet(name):
    fb = exercises.grade(name, not_yet)
    assert fb.status == "not_implemented" and not fb.passed
    assert "not implemented yet" in fb.message


def test_code_that_raises_gets_the_exception_and_its_line():
    def buggy(X, y, w, b):
        r = X @ w + b - y
        return X @ r, r.mean()          # (N, F) @ (N,): shapes do not align
    fb = exercises.grade("mse_grad", buggy)
    assert fb.status == "error" and "ValueError" in fb.message
    assert "return X @ r, r.mean()" in fb.message and "line" in fb.message
    assert "Traceback" not in fb.message


@pytest.mark.parametrize("out,words", [
    (None, "returned None"), (3.0, "expected a tuple"), ((1.0,), "returned 1 values"),
    (("a", 0.0), "`dw` is a str"), ((np.zeros(5), 0.0), "`dw` has shape (5,)"),
    ((np.zeros(3), np.zeros(2)), "`db` has shape (2,)"), ((np.zeros(3), None), "`db` is None"),
])
def test_wrong_type_or_shape_is_named(out, words):
    fb = exercises.grade("mse_grad", lambda X, y, w, b: out)
    assert fb.status == "bad_output" and words in fb.message, fb.message


def test_wrong_number_of_iterates_explains_the_shape():
    fb = exercises.grade("gd", lambda grad, theta0, lr, steps: np.zeros((steps, 2)))
    assert fb.status == "bad_output" and "(20, 2)" in fb.message and "(21, 2)" in fb.message
    assert "θ₀ first" in fb.message


def test_step_function_returning_too_few_values():
    fb = exercises.grade("adam_step", lambda theta, grad, m, v, t, *hp: (theta, m))
    assert fb.status == "bad_output" and "step 1" in fb.message and "(theta, m, v)" in fb.message


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf_are_reported_as_not_finite(bad):
    fb = exercises.grade("rmsprop_step", lambda theta, grad, v, *hp: (theta * bad, v))
    assert fb.status == "not_finite" and "not a finite number" in fb.message


def test_code_that_runs_too_long_is_stopped_in_the_main_thread():
    def forever(grad, theta0, lr, steps):
        while True:
            pass
    t = time.perf_counter()
    fb = exercises.grade("gd", forever, time_limit=0.2)
    assert time.perf_counter() - t < 2
    assert fb.status == "timeout" and "0.2 s" in fb.message


def test_a_loop_that_swallows_exceptions_is_still_stopped():
    def stubborn(grad, theta0, lr, steps):
        while True:
            try:
                while True:
                    pass
            except BaseException:
                pass
    t = time.perf_counter()
    fb = exercises.grade("gd", stubborn, time_limit=0.2)
    assert fb.status == "timeout" and time.perf_counter() - t < 2
    assert sys.gettrace() is None
    assert exercises.grade("gd", solution("gd")).passed


def test_the_time_limit_restores_the_previous_alarm_handler_and_timer():
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals need the main thread")
    fired = []
    old = signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    before = signal.getitimer(signal.ITIMER_REAL)
    try:
        signal.setitimer(signal.ITIMER_REAL, 30.0)
        exercises.grade("mse_grad", solution("mse_grad"))
        exercises.grade("gd", lambda *a: time.sleep(5), time_limit=0.1)
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 25.0 < left <= 30.0
        assert signal.getsignal(signal.SIGALRM) is not None and not fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, *before)
        signal.signal(signal.SIGALRM, old)


def test_code_that_runs_too_long_is_stopped_in_a_worker_thread():
    def forever(grad, theta0, lr, steps):
        while True:
            pass
    out = {}
    worker = threading.Thread(target=lambda: out.setdefault(
        "fb", exercises.grade("gd", forever, time_limit=0.2)))
    worker.start()
    worker.join(10)
    assert not worker.is_alive()
    assert out["fb"].status == "timeout"
    assert sys.gettrace() is None


def test_printing_is_captured_and_mentioned():
    def chatty(X, y, w, b):
        print("residuals of", len(y), "rows")
        return solution("mse_grad")(X, y, w, b)
    fb = exercises.grade("mse_grad", chatty)
    assert fb.passed and "residuals" in fb.printed and "printed 3 lines" in fb.message


def test_code_that_exits_or_interrupts_is_reported():
    def quits(X, y, w, b):
        sys.exit(1)
    fb = exercises.grade("mse_grad", quits)
    assert fb.status == "error" and "SystemExit" in fb.message


def test_inputs_are_copies_so_in_place_code_cannot_corrupt_the_reference():
    calls = []

    def vandal(theta, grad, m, v, t, lr, beta1, beta2, eps):
        calls.append(theta.copy())
        out = solution("adam_step")(theta, grad, m, v, t, lr, beta1, beta2, eps)
        theta[:] = 1e9
        grad[:] = np.nan
        return out
    assert exercises.grade("adam_step", vandal).passed
    assert exercises.grade("adam_step", solution("adam_step")).passed


# ---------------------------------------------------------------------------- as_optimizer


def trajectory(problem, opt, start, steps):
    return np.array([r.params for r in runner.run(problem, opt, start, steps)])


@pytest.mark.parametrize("name", STEPS)
def test_a_wrapped_correct_step_reproduces_the_engine_optimizer(name):
    rosen = problems.get("quadratic", condition=10.0, angle=30.0)
    h = {"lr": np.array([1e-3, 1e-2, 3e-2])}
    spec = exercises.STEP_EXERCISES[name]
    mine = exercises.as_optimizer(name, solution(name), **h)
    ref = ENGINE_OPT[name]({**spec.defaults, **h})
    a = trajectory(rosen, ref, rosen.start, 150)
    b = trajectory(rosen, mine, rosen.start, 150)
    assert a.shape == b.shape == (151, 3, 2)
    close(b, a, 1e-10)


def test_wrapped_adam_races_beside_the_reference_adam():
    quad = problems.get("quadratic", condition=20.0, angle=15.0)
    race = optimizers.race([optimizers.adam(lr=0.05),
                            exercises.as_optimizer("adam_step", adam_step_torch_style, lr=0.05),
                            optimizers.sgd(lr=0.01)], [1, 1, 1])
    recs = list(runner.run(quad, race, quad.start, 120))
    p = np.array([r.params for r in recs])
    close(p[:, 1], p[:, 0], 1e-10)
    q = optimizers.quantities(recs[-1].opt_state)
    assert {"mu", "nu"} <= set(q)
    close(optimizers.current_lr(recs[-1].opt_state), [0.05, 0.05, 0.01])


def test_wrapped_step_follows_lr_scale_and_schedules():
    quad = problems.get("bowl")
    sched = lambda count: 0.1 / (1 + count)  # noqa: E731
    mine = exercises.as_optimizer("momentum_step", solution("momentum_step"), lr=sched,
                                  momentum=0.5)
    ref = optimizers.sgd(lr=sched, momentum=0.5)
    close(trajectory(quad, mine, quad.start, 30), trajectory(quad, ref, quad.start, 30), 1e-12)
    state = optimizers.set_lr_scale(mine.init(quad.start[None]), 0.5)
    u, state = mine.update(np.ones((1, 2)), state, quad.start[None])
    close(u, -0.05 * np.ones((1, 2)))
    close(optimizers.current_lr(state), [0.05])


def test_wrapped_broken_code_stops_its_run_as_diverged():
    def broken(theta, grad, m, v, t, lr, beta1, beta2, eps):
        return theta[:1], m, v
    quad = problems.get("bowl")
    race = optimizers.race([optimizers.adam(lr=0.1), exercises.as_optimizer("adam_step", broken)],
                           [1, 1])
    recs = list(runner.run(quad, race, quad.start, 10))
    assert list(recs[-1].stop_reason) == ["max_steps", "diverged"]
    err = recs[1].opt_state.inner[1].inner[0].error
    assert "adam_step" in err and "shape" in err
    with pytest.raises(ValueError, match="raised ZeroDivisionError"):
        opt = exercises.as_optimizer("adam_step", lambda *a: 1 / 0, on_error="raise")
        opt.update(np.ones((1, 2)), opt.init(np.zeros((1, 2))), np.zeros((1, 2)))


def test_as_optimizer_validates_its_arguments():
    with pytest.raises(ValueError, match="step exercise"):
        exercises.as_optimizer("gd", solution("gd"))
    with pytest.raises(ValueError, match="unknown betas"):
        exercises.as_optimizer("adam_step", solution("adam_step"), betas=(0.9, 0.99))
    with pytest.raises(ValueError, match="beta1"):
        exercises.as_optimizer("adam_step", solution("adam_step"), beta1=1.5)
    with pytest.raises(ValueError, match="fn must be"):
        exercises.as_optimizer("adam_step", None)
    opt = exercises.as_optimizer("adam_step", solution("adam_step"), lr=np.array([0.1, 0.2]))
    assert opt.runs == 2


def test_the_step_exercise_is_inferred_from_the_name_or_the_signature():
    assert exercises.step_exercise_of(solution("adamw_step")) == "adamw_step"
    assert exercises.step_exercise_of(adam_step_torch_style) == "adam_step"
    assert exercises.step_exercise_of(rms_eps_in) == "rmsprop_step"
    assert exercises.step_exercise_of(lambda theta, grad, G, lr, eps: (theta, G)) == \
        "adagrad_step"
    with pytest.raises(ValueError, match="cannot tell"):
        exercises.step_exercise_of(lambda x: x)
    quad = problems.get("bowl")
    a = trajectory(quad, exercises.as_optimizer(None, adam_step_torch_style, lr=0.1),
                   quad.start, 20)
    close(a, trajectory(quad, optimizers.adam(lr=0.1), quad.start, 20))
