"""models.mlp against torch (stored vectors and live), in training, and its swap-symmetric
loss plane."""

import importlib
from pathlib import Path

import numpy as np
import pytest

from descentlab.engine import data, models, optimizers, training

REF = Path(__file__).parents[1] / "reference"
MK = importlib.import_module("reference.make_model_vectors")


def check_points(inp, out):
    for task in ("regression", "binary"):
        y = inp[f"y_{task}"]
        for k, l2 in enumerate(MK.L2S):
            model = models.mlp(MK.H, task, l2=l2)
            loss, grad = model.loss_and_grad(inp["params"], inp["X"], y)
            np.testing.assert_allclose(loss, out[f"{task}_l2{k}_loss"], rtol=1e-13)
            np.testing.assert_allclose(grad, out[f"{task}_l2{k}_grad"], rtol=1e-12,
                                       atol=1e-15)
            np.testing.assert_array_equal(model.loss(inp["params"], inp["X"], y), loss)


def engine_training(inp, task):
    model = models.mlp(MK.H, task, l2=MK.TRAIN["l2"])
    yv = inp[f"yv_{task}"]
    ds = data.Dataset(inp["X"], inp[f"y_{task}"], inp["Xv"], yv, task,
                      2 if task == "binary" else 0, ("a", "b", "c"), "y", "ref")
    opt = optimizers.sgd(lr=np.array(MK.TRAIN["lrs"]), momentum=MK.TRAIN["momentum"])
    return training.TrainHistory(training.train(
        model, ds, opt, epochs=MK.TRAIN["epochs"], batch_size=MK.TRAIN["batch_size"],
        seed=int(inp["seed"]), init=inp["params"]))


def check_training(h, out):
    np.testing.assert_allclose(h.epoch_params, out["epoch_params"], rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(h.train_loss[1:], out["batch_loss"], rtol=1e-12, atol=1e-14)


def test_mlp_equals_stored_torch():
    ref = np.load(REF / "models.npz")
    inp = {k: ref[k] for k in MK.inputs()}
    check_points(inp, ref)
    for task in ("regression", "binary"):
        check_training(engine_training(inp, task),
                       {k: ref[f"{task}_train_{k}"] for k in ("epoch_params", "batch_loss")})


def test_mlp_equals_live_torch():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: threads only cost time on a shared machine
    try:
        inp = MK.inputs(seed=17)
        out = {}
        for task in ("regression", "binary"):
            for k, l2 in enumerate(MK.L2S):
                out.update({f"{task}_l2{k}_{n}": a
                            for n, a in MK.torch_points(torch, inp, task, l2).items()})
        check_points(inp, out)
        for task in ("regression", "binary"):
            check_training(engine_training(inp, task), MK.torch_training(torch, inp, task))
    finally:
        torch.set_num_threads(threads)


def test_mlp_per_run_batches_gradient_check_and_layout():
    model = models.mlp(3, "binary", l2=0.05)
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((2, 7, 2)), rng.integers(0, 2, (2, 7))
    theta = rng.standard_normal((2, model.n_params(2)))
    assert theta.shape[1] == 3 * (2 + 2) + 1
    per_run = model.grad(theta, X, y)
    for r in range(2):
        np.testing.assert_allclose(per_run[r], model.grad(theta[r:r + 1], X[r], y[r])[0],
                                   rtol=1e-14)
    chk = models.gradient_check(model, X[0], y[0], theta[0])
    assert chk.rel_error < 1e-8
    z = models.logits(model, theta[:1], X[0])[0]
    W1, b1, w2, b2 = theta[0, :6].reshape(2, 3), theta[0, 6:9], theta[0, 9:12], theta[0, 12]
    np.testing.assert_allclose(z, np.tanh(X[0] @ W1 + b1) @ w2 + b2, rtol=1e-14)
    np.testing.assert_allclose(models.probabilities(model, theta[:1], X[0])[0],
                               1 / (1 + np.exp(-z)), rtol=1e-13)


def test_mlp_init_is_seeded_and_zero_is_a_saddle():
    model = models.mlp(4)
    a, b = model.init_params(2, runs=3, seed=5), model.init_params(2, runs=3, seed=5)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (3, 4 * 4 + 1) and np.all(a[:, 8:12] == 0) and a[:, -1].tolist() == [0] * 3
    X, y = np.random.default_rng(0).standard_normal((20, 2)), np.arange(20.0)
    g = model.grad(np.zeros((1, 17)), X, y)[0]
    assert np.all(g[:12] == 0) and g[-1] != 0   # only the output bias moves at theta = 0
    with pytest.raises(ValueError, match="task"):
        models.mlp(2, "multiclass")


def test_mlp_trains_in_training_train():
    ds = data.make_dataset("moons", n=200, noise=0.1, seed=0)
    model = models.mlp(8, "binary")
    h = training.TrainHistory(training.train(model, ds, optimizers.adam(lr=0.05), epochs=60,
                                             batch_size=32, metrics=("accuracy",)))
    assert h.metric("val_accuracy")[-1, 0] > 0.95  # a linear model gets about 0.85 here
    lin = training.TrainHistory(training.train(models.logistic_regression(), ds,
                                               optimizers.adam(lr=0.05), epochs=60,
                                               batch_size=32, metrics=("accuracy",)))
    assert lin.metric("val_accuracy")[-1, 0] < h.metric("val_accuracy")[-1, 0]


# ---------------------------------------------------------------------------- the plane


def local_minima(Z):
    """(i, j) of the interior grid points strictly below their 8 neighbours."""
    out = []
    for i in range(1, Z.shape[0] - 1):
        for j in range(1, Z.shape[1] - 1):
            block = Z[i - 1:i + 2, j - 1:j + 2].ravel()
            if np.all(np.delete(block, 4) > block[4]):
                out.append((i, j))
    return out


def test_swap_plane_shows_two_separated_minima_and_a_saddle():
    model = models.mlp(2)
    teacher = np.array([1.5, -1.0, 0.5, 0.3, 1.0, 2.0, 0.2])   # W1 (1, 2), b1, w2, b2
    X = np.linspace(-3, 3, 50)[:, None]
    y = model.predict(teacher[None], X)[0]                      # data made by the teacher
    c, d1, d2 = models.swap_plane(model, teacher)
    assert d1 @ d2 == 0
    swapped = c - d1
    np.testing.assert_allclose(swapped, [-1.0, 1.5, 0.3, 0.5, 2.0, 1.0, 0.2], rtol=1e-15)
    np.testing.assert_allclose(model.predict(swapped[None], X), y[None], rtol=1e-14)
    a, b, Z = models.loss_plane(model, X, y, c, d1, d2, (-2, 2), (-1, 1), 41)
    mins = local_minima(Z)
    at = {(float(b[i]), round(float(a[j]), 12)) for i, j in mins}
    assert {(0.0, -1.0), (0.0, 1.0)} <= at                      # theta and its twin
    assert Z[20, 10] < 1e-25 and Z[20, 30] < 1e-25
    # any path between them inside the plane crosses the barrier column a = 0, where the
    # two units coincide; its lowest point is a saddle: a minimum along b, a maximum along a
    floor = Z[:, 10:31].min(axis=0)
    j = 10 + int(np.argmax(floor))
    i = int(np.argmin(Z[:, j]))
    assert a[j] == 0.0 and floor.max() > 1.0
    assert Z[i - 1, j] > Z[i, j] < Z[i + 1, j] and Z[i, j - 1] < Z[i, j] > Z[i, j + 1]
