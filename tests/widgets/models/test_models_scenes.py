"""The course's scenes of the models lab: every ``models.ipynb?scene=NAME`` that the
notebook and the course map link exists, applies headless (no error, step 0, paused, its
note in the status line) and shows what the note says."""

import numpy as np
import pytest


def test_every_linked_scene_exists_and_applies(lab, linked_apply):
    assert linked_apply(lab, "models") == ["linear-fit", "logistic", "softmax"]
    assert lab.model.dataset == "linear"                # ?scene=linear-fit from the address


def test_linear_fit_one_step_zigzag_divergence_and_the_bowl(lab):
    fitted = None
    for lr, ends in ((0.5, "lands"), (0.9, "zigzags"), (1.2, "diverges")):
        lab.apply_scene("linear-fit")
        lab.model.lr = lr
        lab.frame(3)
        h = lab.session.history.records
        loss = h.loss[:4, 0]
        if ends == "lands":
            fitted = h.params[1, 0]
            assert loss[1] == pytest.approx(loss[3]) and loss[1] < 0.05 * loss[0]
        elif ends == "zigzags":
            assert np.all(np.sign(h.params[1:4, 0, 0] - fitted[0]) == [1, -1, 1])
            assert np.all(np.diff(loss) < 0)                       # across the fit, down
        else:
            assert np.all(np.diff(loss) > 0)
    lab.apply_scene("linear-fit")
    lab.to_fitted()
    np.testing.assert_allclose((lab.model.w, lab.model.b), fitted, atol=1e-9)
    before = lab.session.view(0).values["train_loss"]
    lab.move((lab.model.w, lab.model.b + 1.0))
    assert lab.session.view(0).values["train_loss"] - before == pytest.approx(1.0)


def test_logistic_and_softmax_at_zero(lab):
    lab.apply_scene("logistic")
    v = lab.session.view(0)
    b = lab.model.second
    assert lab.session.view(0).plane.built.names[b] == "b"
    assert v.values["train_log_loss"] == pytest.approx(np.log(2))
    assert v.values["val_log_loss"] == pytest.approx(np.log(2))
    assert v.check[0][b] == pytest.approx(0.0, abs=1e-12)        # 1/2 - mean(y) = 0
    lab.apply_scene("softmax")
    v = lab.session.view(0)
    assert v.values["train_loss"] == pytest.approx(np.log(3))
    assert v.values["train_accuracy"] == pytest.approx(1 / 3)
