"""Shared widget-test fixtures."""

from collections import Counter

import pytest
from ipywidgets import Widget


@pytest.fixture
def sends(monkeypatch):
    """Comm messages sent per widget (model_id -> count) while the test runs."""
    counts = Counter()
    original = Widget._send

    def counting(self, msg, buffers=None):
        counts[self.model_id] += 1
        return original(self, msg, buffers)

    monkeypatch.setattr(Widget, "_send", counting)
    return counts
