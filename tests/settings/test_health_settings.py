from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from gateway.health import HealthSettings


def test_defaults() -> None:
    settings = HealthSettings()
    assert (settings.consecutive_failures, settings.failure_ratio, settings.min_requests) == (5, 0.5, 10)
    assert (settings.window_seconds, settings.open_seconds, settings.half_open_probes) == (30, 30, 1)
    assert settings.sync_seconds == 0.5


def test_whole_numbers_are_accepted_for_seconds() -> None:
    assert HealthSettings.model_validate({"open_seconds": 60}).open_seconds == 60.0


@pytest.mark.parametrize(
    "values",
    [
        {"consecutive_failures": 0},
        {"failure_ratio": 0},
        {"failure_ratio": 1.5},
        {"min_requests": 0},
        {"window_seconds": 0},
        {"open_seconds": -1},
        {"half_open_probes": 0},
        {"sync_seconds": 0},
        {"sync_seconds": 120},
        {"open_seconds": "30"},  # strict: YAML that quotes a number is a mistake worth reporting
        {"open_second": 30},  # a typo must not fall back to the default
    ],
)
def test_rejects(values: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        HealthSettings.model_validate(values)
