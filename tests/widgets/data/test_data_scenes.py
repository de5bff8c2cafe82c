"""The course's scenes of the data apps: every ``?scene=NAME`` that lab/<app>.ipynb and the
course map link exists and applies headless (no error, step 0, paused, its note in the
status line), plays without error, and shows what the course text says it shows."""

import numpy as np
import pytest
from helpers import played

from descentlab.widgets.data import (
    batch_size_explorer,
    early_stopping_trainer,
    high_dimensions_explorer,
    regularization_explorer,
)

APPS = {"batch_size": batch_size_explorer, "early_stopping": early_stopping_trainer,
        "regularization": regularization_explorer, "high_dimensions": high_dimensions_explorer}
EXPECTED = {"batch_size": ["full-batch", "sgd-noise", "typical-batches"],
            "early_stopping": ["no-early-stopping", "patience-5", "restore-best"],
            "regularization": ["l2-vs-adamw", "over-regularized", "overfit"],
            "high_dimensions": ["adam-per-coordinate", "sgd-lr-too-large", "sgd-vs-adam"]}


@pytest.mark.parametrize("notebook", sorted(APPS))
def test_every_linked_scene_exists_and_applies(notebook, linked_apply):
    lab = APPS[notebook]()
    try:
        assert linked_apply(lab, notebook) == EXPECTED[notebook]   # these, and only these
    finally:
        lab.close()


def test_batch_size_scenes_show_what_the_course_says():
    lab = batch_size_explorer()
    try:
        N = lab.session.N
        v = played(lab, "sgd-noise")
        assert [r.batch_size for r in lab.model.runs] == [1, 32, N]
        loss = lab.session.series.view("loss")
        jumps = []                         # |Δ log loss| per iteration, second half of each run
        for j in range(3):
            x = loss[:, j][np.isfinite(loss[:, j])]
            jumps.append(np.abs(np.diff(np.log(x[len(x) // 2:]))).mean())
        assert jumps[0] > 5 * jumps[1] > 25 * jumps[2]            # B = 1 the noisiest
        lab.apply_scene("sgd-noise")
        lab.step()
        assert len(lab.session.view().batch) == 1                 # one ringed row
        v = played(lab, "typical-batches")
        final = v.train_loss[np.arange(3), np.isfinite(v.train_loss).sum(1) - 1]
        assert np.ptp(final) < 0.05                               # close together
        lab.model.runs = [r._replace(lr=0.01) for r in lab.model.runs]
        v = played(lab)
        same = v.train_loss[np.arange(3), np.isfinite(v.train_loss).sum(1) - 1]
        assert np.ptp(same) > 10 * np.ptp(final)                  # at one η: far apart
        v = played(lab, "full-batch")
        full = [i for i, r in enumerate(lab.model.runs) if r.batch_size == N]
        assert lab.model.runs[full[0]].lr == 0.5
        r = full[0]
        assert v.epochs[r, 1] == 1                                 # epoch 1 = its first step
        assert v.train_loss[r, 1] == pytest.approx(v.metrics["train_mse"][r], rel=1e-6)
        assert v.train_loss[r, 1] == pytest.approx(0.2494, abs=1e-3)   # the minimum
        assert lab.model.runs[1].batch_size == 8
        assert v.train_loss[1, 1] > 2 * v.train_loss[r, 1]         # B = 8 is not there yet
    finally:
        lab.close()


def test_early_stopping_scenes_show_what_the_course_says():
    lab = early_stopping_trainer()
    try:
        v = played(lab, "patience-5")
        stops = {r: e for r, why, _, _, e in lab.session.stops() if why == "early_stopping"}
        assert stops == {0: 59, 1: 235} and list(v.best) == [54, 230]   # e* + patience
        best_val = v.metrics["val_mse"].copy()                     # restored: the best's
        np.testing.assert_allclose(best_val, v.best_val, rtol=1e-9)
        v = played(lab, "no-early-stopping")
        assert not lab.model.early_stopping
        assert v.metrics["val_mse"][0] > 20 * np.nanmin(v.val_loss[0])
        assert v.metrics["train_mse"][0] < 0.2
        v = played(lab, "restore-best")
        assert lab.model.early_stopping and not lab.model.restore_best
        assert list(v.best) == [54, 230]
        assert np.all(v.metrics["val_mse"] > best_val)            # a little worse than v*
        assert np.all(v.metrics["val_mse"] < 1.1 * best_val)
    finally:
        lab.close()


def test_regularization_scenes_show_what_the_course_says():
    lab = regularization_explorer()
    try:
        v = played(lab, "overfit")
        assert np.ptp(v.metrics["val_mse"]) < 0.02 and np.ptp(v.metrics["train_mse"]) < 0.01
        assert v.metrics["val_mse"][0] == pytest.approx(4.5, abs=0.1)
        v = played(lab, "l2-vs-adamw")
        np.testing.assert_allclose(v.metrics["val_mse"], [4.46, 0.351, 0.288], atol=0.01)
        v = played(lab, "over-regularized")
        none, l2, adamw = v.metrics["train_mse"]
        assert adamw == pytest.approx(2.0, abs=0.1) and l2 == pytest.approx(0.4, abs=0.02)
        assert lab.model.runs[1].l2 == 1.0 and lab.model.runs[2].weight_decay == 1.0
    finally:
        lab.close()
