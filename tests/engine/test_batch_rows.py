"""Each training record keeps the dataset rows of the mini-batch every run used.

Expected rows are recomputed from batching.epoch_permutation (the order of epoch e is a
function of (seed, e) only) and checked against the loss the record holds.
"""

import numpy as np
import pytest

from descentlab.engine import batching, data, models, optimizers, training


@pytest.fixture(scope="module")
def ds():
    return data.make_dataset("linear", n=13, seed=4, val_fraction=0.2)  # 10 training rows


def expected_rows(seed, N, B, drop_last, epochs, runs=None):
    """[(R or 1, B_k) rows] per iteration, epoch by epoch, from the permutations."""
    per = batching.iterations_per_epoch(N, B, drop_last)
    out = []
    for e in range(epochs):
        perm = batching.epoch_permutation(seed, e, N, runs)
        for k in range(per):
            out.append(np.atleast_2d(perm[..., k * B:(k + 1) * B]))
    return out


@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("drop_last", [False, True])
def test_rows_follow_the_permutations(ds, shared, drop_last):
    N, B, R, seed = ds.X_train.shape[0], 4, 3, 11
    assert N == 10
    model = models.linear_regression()
    recs = list(training.train(model, ds, optimizers.sgd(lr=np.array([0.01, 0.02, 0.03])),
                               epochs=3, batch_size=B, seed=seed, shared_batches=shared,
                               drop_last=drop_last))
    want = expected_rows(seed, N, B, drop_last, 3, None if shared else R)
    assert len(recs) == 1 + len(want)
    h = training.TrainHistory(recs)
    assert h.batch_rows.shape == (len(recs), R, B)
    assert (h.batch_rows[0] == -1).all() and recs[0].batch_rows.shape == (R, 0)
    for t, w in enumerate(want, 1):
        w = np.broadcast_to(w, (R, w.shape[1]))
        np.testing.assert_array_equal(recs[t].batch_rows, w)
        np.testing.assert_array_equal(h.batch_rows[t, :, :w.shape[1]], w)
        assert (h.batch_rows[t, :, w.shape[1]:] == -1).all()  # the short last batch
        # the recorded mini-batch loss is the loss on exactly these rows
        for r in range(R):
            rows = w[r]
            loss = model.loss(h.params[t - 1][r:r + 1], ds.X_train[rows], ds.y_train[rows])
            np.testing.assert_allclose(h.train_loss[t, r], loss[0], rtol=1e-14)
    if not drop_last:
        assert {int((h.batch_rows[t, 0] >= 0).sum()) for t in range(1, len(recs))} == {4, 2}


def test_a_stopped_run_uses_no_batch(ds):
    lrs = np.array([0.01, 40.0])
    recs = list(training.train(models.linear_regression(), ds, optimizers.sgd(lr=lrs),
                               epochs=6, batch_size=5, max_loss=1e4))
    last = recs[-1]
    assert last.stop_reason[1] == "diverged"
    t = int(last.stop_step[1])
    h = training.TrainHistory(recs)
    assert (h.batch_rows[t, 1] >= 0).all()          # it used the batch that diverged it
    assert (h.batch_rows[t + 1:, 1] == -1).all()    # and none afterwards
    assert (h.batch_rows[1:, 0] >= 0).all()


def test_groups_with_different_batch_sizes_stack_with_padding(ds):
    model = models.linear_regression()
    parts, states = [], []
    for B, lrs in ((3, np.array([0.01, 0.02])), (5, np.array([0.03]))):
        opt = optimizers.sgd(lr=lrs)
        s = training.init_train(model, ds, opt, batch_size=B, seed=2)
        s, rec = training.train_step(model, ds, opt, s)
        parts.append(rec.batch_rows)
        states.append(s)
    rows = training.stack_batch_rows(parts)
    perm = batching.epoch_permutation(2, 0, 10)
    assert rows.shape == (3, 5)
    np.testing.assert_array_equal(rows[0], np.r_[perm[:3], -1, -1])
    np.testing.assert_array_equal(rows[1], np.r_[perm[:3], -1, -1])
    np.testing.assert_array_equal(rows[2], perm[:5])
