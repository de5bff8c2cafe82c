import numpy as np
import pytest

from descentlab.engine import checks


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), [0.1, -0.2]])
def test_hparam_rejects_out_of_range_naming_parameter_and_range(bad):
    with pytest.raises(ValueError, match=r"lr .*\[0, inf\)"):
        checks.hparam(bad, "lr", 0.0)


def test_hparam_open_interval_and_arrays():
    assert checks.hparam(0.5, "beta1", 0.0, 1.0, hi_open=True) == 0.5
    with pytest.raises(ValueError, match=r"beta1 must be in \[0, 1\)"):
        checks.hparam(1.0, "beta1", 0.0, 1.0, hi_open=True)
    arr = checks.hparam([0.1, 0.2], "lr", 0.0)
    assert isinstance(arr, np.ndarray) and arr.shape == (2,)
    with pytest.raises(ValueError, match="1-D"):
        checks.hparam(np.ones((2, 2)), "lr", 0.0)
    with pytest.raises(ValueError, match="number"):
        checks.hparam("fast", "lr", 0.0)


def test_per_run_broadcasts_and_checks_length():
    assert checks.per_run(0.3, 4) == 0.3
    col = checks.per_run(np.arange(4.0), 4, "lr")
    assert col.shape == (4, 1)
    with pytest.raises(ValueError, match="lr has 3 values but there are 4 runs"):
        checks.per_run(np.arange(3.0), 4, "lr")


def test_check_params():
    assert checks.check_params([[1, 2]]).dtype == np.float64
    with pytest.raises(ValueError, match=r"params must have shape \(R, D\)"):
        checks.check_params([1, 2])


def test_check_int():
    assert checks.check_int(3, "batch_size", 1, 10) == 3
    assert checks.check_int(4.0, "batch_size", 1, 10) == 4
    for bad in (0, 11, 2.5, True, "3"):
        with pytest.raises(ValueError, match=r"batch_size must be an integer in \[1, 10\]"):
            checks.check_int(bad, "batch_size", 1, 10)
