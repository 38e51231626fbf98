"""Simulated wall-clock time for breakers and boards. Sharing between replicas is tested on the session's
redis-server (`redis_url`, tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.limits.conftest import SimulatedClock

# Epoch seconds: shared records hold wall-clock times, so tests use times that look like them.
START = 1_700_000_000.0


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)
