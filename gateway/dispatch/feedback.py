"""What a deployment's failed call teaches: its health board entry and its budget's cool-down.

Shared by HTTP attempts (dispatcher.py) and realtime handshakes (realtime/handshake.py), so both judge
a deployment the same way.
"""

from __future__ import annotations

from gateway.errors import GatewayError, UpstreamError
from gateway.health.board import HealthBoard
from gateway.limits.admission import Admission
from gateway.upstream.deployments import Deployment
from gateway.upstream.retry_after import retry_after_seconds

# Statuses that say the deployment is unwell. A 429 is not one (it is busy: it cools down instead), and
# other 4xx are the request's fault.
UNHEALTHY_STATUSES = frozenset({408, 500, 502, 503, 504})


async def learn_from_failure(
    health: HealthBoard, admission: Admission, deployment: Deployment, error: GatewayError
) -> None:
    status = error.status if isinstance(error, UpstreamError) else None
    if status == 429:
        # Busy, not broken: it answered (which also frees a half-open probe slot), and rests a while.
        health.record_success(deployment.id)
        health.cool_down(deployment.id, retry_after_seconds(error.headers()) or 1.0)
        await admission.cool_down_if_throttled(deployment, 429, error.headers())
    elif status is None or status in UNHEALTHY_STATUSES:
        health.record_failure(deployment.id, error.code or type(error).__name__)
    else:
        health.record_success(deployment.id)  # it answered; the request was at fault
