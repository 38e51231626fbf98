"""Deployment health for the load balancer and the retry loop: circuit breakers and cool-downs.

    HealthBoard          one CircuitBreaker per deployment; what callers use
    ├── CircuitBreaker   the pure state machine (closed / open / half-open, plus cool-down)
    │   └── RollingCounts   finished and failed requests over the last window_seconds
    └── SharedHealth     optional: best-effort sharing of opens and cool-downs between replicas (Redis)

Callers use only the board; the others are exported for tests and for reading.
"""

from gateway.health.board import DeploymentHealth, HealthBoard, HealthState
from gateway.health.breaker import BreakerState, Change, CircuitBreaker, HeldBy, Reopening
from gateway.health.shared_record import SharedRecord
from gateway.settings.schema import HealthSettings


def __getattr__(name: str) -> object:
    # Imported on first use: SharedHealth brings Redis's client, which a gateway without Redis never needs.
    if name == "SharedHealth":
        from gateway.health.shared import SharedHealth

        return SharedHealth
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BreakerState",
    "Change",
    "CircuitBreaker",
    "DeploymentHealth",
    "HealthBoard",
    "HealthSettings",
    "HealthState",
    "HeldBy",
    "Reopening",
    "SharedHealth",
    "SharedRecord",
]
