"""Shared test settings: hypothesis without deadlines (CI machines are slow and noisy)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "descentlab",
    deadline=None,
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "60")),
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("descentlab")
