"""Load balancing among one model's deployments: by priority, then by weight and the TPM each has left.

What a deployment has left is the last figure seen, from the gateway's own budgets (every admission
returns them) or from Azure's `x-ratelimit-remaining-tokens`, whichever came last. A deployment nobody
has heard from yet counts as untouched.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import groupby

from gateway.limits import BudgetState
from gateway.upstream.deployments import Deployment

# A deployment reported as exhausted keeps a sliver of traffic, so it is noticed when it recovers.
_LEAST_SHARE = 0.02


class RemainingTokens:
    """The last-known share of each deployment's TPM still free, between 0 and 1."""

    def __init__(self) -> None:
        self._share: dict[str, float] = {}
        self._remaining: dict[str, int] = {}

    def share(self, deployment_id: str) -> float:
        return self._share.get(deployment_id, 1.0)

    def remaining(self, deployment_id: str) -> int | None:
        return self._remaining.get(deployment_id)

    def from_budgets(self, deployment_id: str, states: Iterable[BudgetState]) -> None:
        for state in states:
            if state.key == f"dep:{deployment_id}" and state.limit_tokens and state.remaining_tokens is not None:
                self._set(deployment_id, state.remaining_tokens, state.limit_tokens)

    def from_azure(self, deployment: Deployment, headers: Mapping[str, str]) -> None:
        remaining = headers.get("x-ratelimit-remaining-tokens", "")
        limit = headers.get("x-ratelimit-limit-tokens", "")
        total = int(limit) if limit.isdigit() else deployment.tpm
        if remaining.isdigit() and total:
            self._set(deployment.id, int(remaining), total)

    def _set(self, deployment_id: str, remaining: int, limit: int) -> None:
        self._remaining[deployment_id] = remaining
        self._share[deployment_id] = min(1.0, max(0.0, remaining / limit))


def balanced_order(
    deployments: Sequence[Deployment], remaining: RemainingTokens, choose: Callable[[], float] = random.random
) -> list[Deployment]:
    """Lowest priority number first; within a priority, a weighted draw without replacement, so that
    traffic splits by weight times share of TPM left, and the rest follow as fallbacks in the same manner.
    """
    if len(deployments) == 1:
        return [deployments[0]]  # most models have one deployment: nothing to draw
    ordered: list[Deployment] = []
    for _, group in groupby(sorted(deployments, key=lambda item: item.priority), key=lambda item: item.priority):
        pool = list(group)
        while pool:
            weights = [item.weight * max(_LEAST_SHARE, remaining.share(item.id)) for item in pool]
            point = choose() * sum(weights)
            index = 0
            while index < len(pool) - 1 and point >= weights[index]:
                point -= weights[index]
                index += 1
            ordered.append(pool.pop(index))
    return ordered
