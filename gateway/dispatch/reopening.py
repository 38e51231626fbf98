"""When a request that finds every deployment resting can be sent, and what the client hears if it cannot wait.

A deployment rests while Azure's 429 cool-down lasts, while its breaker is open, or while its half-open
breaker's probe slots are all taken (health/). A 429 also cools down the deployment's budget (limits/), a
moment after the health board and maybe on another clock (Redis's): the later of the two is when a
request can go there again, so waiting for the board alone could wake up to a budget that still refuses.

A client that cannot wait that long hears when to come back: a 429 while Azure's rate limit is what holds
the soonest deployment, a 503 while a breaker does.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.errors import GatewayError, NoDeploymentAvailable, RateLimited
from gateway.health.board import HealthBoard
from gateway.health.breaker import Reopening
from gateway.limits.admission import Admission
from gateway.upstream.deployments import Deployment

# The shortest sleep before looking again.
SHORTEST_WAIT_S = 0.001


async def soonest_reopening(
    deployments: Sequence[Deployment], health: HealthBoard, admission: Admission
) -> Reopening | None:
    """The soonest any of `deployments` takes a request again, by its health and its budget's cool-down;
    None when there are none. One that takes a request now reopens in 0 s."""
    if not deployments:
        return None
    budgets = await admission.deployment_states(deployments)
    soonest: Reopening | None = None
    for deployment in deployments:
        reopening = health.reopening(deployment.id) or Reopening(0.0, "cooling_down")
        budget = budgets.get(deployment.id)
        if budget is not None and budget.cooling_down_s > reopening.in_seconds:
            reopening = Reopening(budget.cooling_down_s, "cooling_down")
        if soonest is None or reopening.in_seconds < soonest.in_seconds:
            soonest = reopening
    return soonest


def next_look(reopening: Reopening, probe_poll_s: float) -> Reopening:
    """When to look again: at the reopening, or after `probe_poll_s` while another request's probe is out,
    since its result usually comes long before its slot would be given up. Never at once: waking a moment
    before a cool-down's end (the board may keep another clock than the sleep) must not spin."""
    seconds = reopening.in_seconds
    if reopening.held_by == "half_open":
        seconds = min(seconds, probe_poll_s)
    return Reopening(max(seconds, SHORTEST_WAIT_S), reopening.held_by)


def refusal(model: str, reopening: Reopening) -> GatewayError:
    """What the client gets when it cannot wait for `reopening`: when to try again, and why not now."""
    seconds = reopening.in_seconds
    if reopening.held_by == "cooling_down":
        return RateLimited(
            f"Every deployment of `{model}` (and of its fallbacks) is rate limited by Azure. "
            f"Please try again in {seconds:.3g}s.",
            seconds,
            (),
        )
    return NoDeploymentAvailable(
        f"No deployment of `{model}` (or of its fallbacks) is available: all are failing. "
        f"The first may be tried again in {seconds:.3g}s.",
        seconds,
    )
