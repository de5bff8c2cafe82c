"""Mini-batching: counters, every epoch a fresh permutation, drop_last, shared vs per-run."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from descentlab.engine import batching as Bt


def take(state, k):
    out = []
    for _ in range(k):
        idx, state = Bt.next_batch(state)
        out.append(idx)
    return out, state


@pytest.mark.parametrize("n, b, drop, per", [(10, 3, False, 4), (10, 3, True, 3),
                                             (10, 10, False, 1), (10, 1, False, 10),
                                             (12, 4, True, 3), (12, 4, False, 3),
                                             (7, 5, True, 1)])
def test_iterations_per_epoch(n, b, drop, per):
    assert Bt.iterations_per_epoch(n, b, drop) == per
    s = Bt.init_batches(n, b, drop_last=drop)
    assert s.per_epoch == per


@given(n=st.integers(1, 60), b=st.integers(1, 60), drop=st.booleans(), seed=st.integers(0, 99),
       epochs=st.integers(1, 3))
def test_each_epoch_is_a_permutation_with_counters(n, b, drop, seed, epochs):
    b = min(b, n)
    s = Bt.init_batches(n, b, seed=seed, drop_last=drop)
    per = n // b if drop else -(-n // b)
    for e in range(epochs):
        batches, s = take(s, per)
        rows = np.concatenate(batches)
        sizes = [len(x) for x in batches]
        if drop:
            assert sizes == [b] * per
            assert len(set(rows.tolist())) == per * b       # distinct rows, the rest dropped
        else:
            assert sorted(rows.tolist()) == list(range(n))  # every row exactly once
            assert sizes == [b] * (n // b) + ([n % b] if n % b else [])
        assert s.epochs_done == e + 1 and s.epoch_end and s.iteration == (e + 1) * per
    assert s.iteration == epochs * per


def test_mid_epoch_counters_and_rollover():
    s = Bt.init_batches(10, 4, seed=1)
    assert (s.epoch, s.batch, s.iteration, s.epochs_done, s.epoch_end) == (0, 0, 0, 0, False)
    _, s = take(s, 2)
    assert (s.epoch, s.batch, s.epochs_done, s.epoch_end) == (0, 2, 0, False)
    _, s = take(s, 1)
    assert (s.epoch, s.batch, s.epochs_done, s.epoch_end) == (0, 3, 1, True)
    _, s = take(s, 1)   # the next epoch starts lazily
    assert (s.epoch, s.batch, s.iteration, s.epochs_done) == (1, 1, 4, 1)


def test_reshuffled_every_epoch_and_seeded():
    n = 50
    a, _ = take(Bt.init_batches(n, n, seed=3), 4)
    b, _ = take(Bt.init_batches(n, n, seed=3), 4)
    c, _ = take(Bt.init_batches(n, n, seed=4), 4)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)                    # same seed, same order
    assert not np.array_equal(a[0], c[0])                      # other seed, other order
    assert len({tuple(x.tolist()) for x in a}) == 4            # a new order each epoch
    np.testing.assert_array_equal(a[2], Bt.epoch_permutation(3, 2, n))


def test_seed_from_generator_is_reproducible():
    a, _ = take(Bt.init_batches(20, 5, seed=np.random.default_rng(9)), 8)
    b, _ = take(Bt.init_batches(20, 5, seed=np.random.default_rng(9)), 8)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_shared_vs_per_run():
    n, b, R = 30, 7, 5
    shared, _ = take(Bt.init_batches(n, b, seed=0, shared=True, runs=R), 5)
    per, s = take(Bt.init_batches(n, b, seed=0, shared=False, runs=R), 5)
    assert all(x.shape == (b,) for x in shared[:4]) and shared[4].shape == (n - 4 * b,)
    assert all(x.shape == (R, b) for x in per[:4]) and per[4].shape == (R, n - 4 * b)
    rows = np.concatenate(per, axis=1)
    for r in range(R):                                         # each run: a permutation
        assert sorted(rows[r].tolist()) == list(range(n))
    assert len({tuple(rows[r].tolist()) for r in range(R)}) == R  # runs differ
    # the next epoch reshuffles every run
    nxt, _ = take(s, 5)
    assert not np.array_equal(np.concatenate(nxt, axis=1), rows)


def test_independent_orders_look_uniform():
    # each row lands in each position about equally often over many runs
    P = Bt.epoch_permutation(0, 0, 4, runs=24000)
    counts = np.stack([(P == i).sum(axis=0) for i in range(4)])
    assert np.all(np.abs(counts - 6000) < 300)


def test_next_batch_is_pure():
    s = Bt.init_batches(10, 3, seed=2)
    perm = s.perm.copy()
    i1, s1 = Bt.next_batch(s)
    i2, _ = Bt.next_batch(s)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(s.perm, perm)
    assert (s.batch, s.iteration) == (0, 0) and (s1.batch, s1.iteration) == (1, 1)


@pytest.mark.parametrize("b", [0, -1, 11, 2.5, True, "4"])
def test_bad_batch_size(b):
    with pytest.raises(ValueError, match=r"batch_size must be an integer in \[1, 10\]"):
        Bt.init_batches(10, b)


@pytest.mark.parametrize("seed", [-1, 1.5, "x", True])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match="seed must be"):
        Bt.init_batches(10, 2, seed=seed)


def test_bad_runs():
    with pytest.raises(ValueError, match="runs must be an integer"):
        Bt.init_batches(10, 2, runs=0)
