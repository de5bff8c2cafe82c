"""Tests of what the runner and training share: stops, freezing, buffers, events, CSV."""

import ast
import csv
import io
from pathlib import Path

import numpy as np
import pytest

from descentlab.engine import optimizers, records, runner, training

ENGINE = Path(records.__file__).parent


def test_one_stop_vocabulary():
    assert runner.STOP_REASONS is records.STOP_REASONS is training.STOP_REASONS
    assert set(records.STOP_REASONS) == {"max_steps", "max_epochs", "grad_tol", "loss_tol",
                                         "diverged", "early_stopping"}


def test_no_engine_module_imports_a_private_name():
    for path in ENGINE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                bad = [a.name for a in node.names if a.name.startswith("_")]
                assert not bad, f"{path.name} imports private {bad} from {node.module}"


def test_mark_stops_copies_and_sets_rows():
    reason = np.array(["", "", ""], dtype=object)
    step = np.array([-1, -1, -1])
    newly = np.array([False, True, True])
    r2, s2 = records.mark_stops((reason, step), newly, ("diverged", np.array([7, 8, 9])))
    assert r2.tolist() == ["", "diverged", "diverged"] and s2.tolist() == [-1, 8, 9]
    assert reason.tolist() == ["", "", ""] and step.tolist() == [-1, -1, -1]


def test_divergence_causes():
    loss = np.array([1.0, np.inf, 5e12, -5e12, 2.0, np.nan])
    params = np.zeros((6, 2))
    params[4, 1] = np.nan
    bad, detail = records.divergence(loss, 1e12, params)
    assert bad.tolist() == [False, True, True, True, True, True]
    assert detail.tolist() == ["", "nonfinite", "loss_above", "loss_below", "nonfinite",
                               "nonfinite"]


def test_where_rows_keeps_old_rows_over_a_race_without_writing():
    opt = optimizers.race([optimizers.adam(lr=0.1), optimizers.sgd(lr=0.1, momentum=0.9)],
                          [2, 2])
    p = np.arange(8.0).reshape(4, 2)
    s0 = opt.init(p)
    _, s1 = opt.update(np.ones((4, 2)), s0, p)
    _, s2 = opt.update(np.full((4, 2), 2.0), s1, p)
    snap = [np.array(a) for a in (s1.inner[0].inner[0].mu, s1.inner[1].inner[0].velocity)]
    keep = np.array([True, False, True, False])
    out = records.where_rows(keep, s2, s1)
    mu = out.inner[0].inner[0].mu
    np.testing.assert_array_equal(mu[0], s2.inner[0].inner[0].mu[0])
    np.testing.assert_array_equal(mu[1], s1.inner[0].inner[0].mu[1])
    vel = out.inner[1].inner[0].velocity
    np.testing.assert_array_equal(vel[1], s1.inner[1].inner[0].velocity[1])
    np.testing.assert_array_equal(vel[0], s2.inner[1].inner[0].velocity[0])
    np.testing.assert_array_equal(snap[0], s1.inner[0].inner[0].mu)
    np.testing.assert_array_equal(snap[1], s1.inner[1].inner[0].velocity)
    # freeze_rows gives the same rows and leaves the old state alone
    frozen = records.freeze_rows(keep, opt.update(np.full((4, 2), 2.0), s1, p)[1], s1)
    np.testing.assert_array_equal(frozen.inner[0].inner[0].mu, mu)
    np.testing.assert_array_equal(snap[0], s1.inner[0].inner[0].mu)


def test_buffers_grow_geometrically_and_views_are_read_only():
    b = records.Buffers({"x": ((3,), np.float64), "t": ((), np.int64)}, capacity=4)
    bases = set()
    for t in range(40):
        b.append(x=np.full(3, t), t=t)
        bases.add(id(b.view("x").base))
    assert len(b) == 40 and len(bases) <= 5  # 4 -> 8 -> 16 -> 32 -> 64
    np.testing.assert_array_equal(b.view("t"), np.arange(40))
    np.testing.assert_array_equal(b.view("x")[:, 1], np.arange(40.0))
    with pytest.raises(ValueError):
        b.view("x")[0, 0] = 1.0


def test_buffers_pad_and_widen_a_ragged_field():
    b = records.Buffers({"rows": ((2, 0), np.int64)}, pad={"rows": -1})
    b.append(rows=np.zeros((2, 0), int))
    b.append(rows=np.array([[1, 2, 3], [4, 5, 6]]))
    b.append(rows=np.array([[7], [8]]))
    want = [[[-1, -1, -1], [-1, -1, -1]], [[1, 2, 3], [4, 5, 6]], [[7, -1, -1], [8, -1, -1]]]
    assert b.view("rows").tolist() == want


def test_one_csv_writer_matches_the_csv_module(tmp_path):
    rows = [{"a": 1, "b": 0.1}, {"a": 2, "b": 1e-20, "c": "x,y"}]
    want = io.StringIO()
    w = csv.DictWriter(want, fieldnames=["a", "b", "c"], lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    assert records.csv_text(rows) == want.getvalue()
    path = tmp_path / "r.csv"
    records.write_csv(rows, path, ["b", "a", "c"])
    back = list(csv.DictReader(path.open()))
    assert back[1] == {"b": "1e-20", "a": "2", "c": "x,y"}
    assert records.csv_text([], ["a"]) == "a\n"
