"""Display decimation keeps every line bounded and always shows the first and latest step."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from descentlab.widgets.core.decimate import MAX_POINTS, display_indices
from descentlab.widgets.ui.figures import at_least_two


@given(st.integers(1, 300_000), st.integers(2, 5000))
def test_bounded_first_last_even_stride(n, m):
    idx = display_indices(n, m)
    assert 1 <= len(idx) <= m
    assert idx[0] == 0 and idx[-1] == n - 1
    assert np.all(np.diff(idx) > 0)
    if n <= m:
        np.testing.assert_array_equal(idx, np.arange(n))
    else:
        stride = np.diff(idx[:-1])
        assert len(set(stride.tolist())) <= 1          # one stride, a power of two
        assert stride.size == 0 or (stride[0] & (stride[0] - 1)) == 0


def test_default_budget_is_2000():
    assert MAX_POINTS == 2000
    assert len(display_indices(100_001)) <= 2000


def test_at_least_two_repeats_a_single_point():
    a = np.array([[1.0], [2.0]])
    np.testing.assert_array_equal(at_least_two(a), [[1.0, 1.0], [2.0, 2.0]])
    b = np.arange(6.0).reshape(2, 3)
    assert at_least_two(b) is not None and at_least_two(b).shape == (2, 3)
