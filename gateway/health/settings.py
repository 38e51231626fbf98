"""How deployment health is judged: when a breaker opens, how long it stays open, how often replicas sync."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from gateway.settings.strict import Strict


class HealthSettings(Strict):
    # Open the breaker after this many failures in a row...
    consecutive_failures: Annotated[int, Field(ge=1)] = 5
    # ...or when, over the last `window_seconds`, at least `min_requests` finished and at least
    # `failure_ratio` of them failed (the floor keeps one failure out of two from opening it).
    failure_ratio: Annotated[float, Field(gt=0, le=1)] = 0.5
    min_requests: Annotated[int, Field(ge=1)] = 10
    window_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    # An open breaker refuses for this long, then lets `half_open_probes` requests at a time test it.
    open_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    half_open_probes: Annotated[int, Field(ge=1)] = 1
    # How often the state other replicas shared in Redis is read back.
    sync_seconds: Annotated[float, Field(gt=0, le=60)] = 0.5
