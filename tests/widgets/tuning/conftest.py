"""Tuning-family fixtures: a board."""

import pytest

from descentlab.widgets.tuning import tuning_board


@pytest.fixture
def tb():
    """The default tuning board (closed afterwards)."""
    lab = tuning_board()
    yield lab
    lab.close()
