"""Load balancing among one model's deployments: priority first, then weight and the TPM each has left."""

from __future__ import annotations

import random
from collections import Counter

from gateway.dispatch.balance import RemainingTokens, balanced_order
from gateway.limits import BudgetState
from gateway.settings.schema import ApiKeyAuth
from gateway.upstream.deployments import Deployment


def deployment(deployment_id: str, priority: int = 0, weight: int = 1, tpm: int | None = None) -> Deployment:
    resource, name = deployment_id.split("/")
    auth = ApiKeyAuth(type="api-key", api_key_env="K")
    return Deployment(deployment_id, name, "gpt-4.1", resource, "http://x", "classic", "v", auth, priority, weight, tpm)


def first_choices(deployments: list[Deployment], remaining: RemainingTokens, draws: int = 4000) -> Counter[str]:
    chooser = random.Random(7)
    return Counter(balanced_order(deployments, remaining, chooser.random)[0].id for _ in range(draws))


def test_a_lower_priority_number_always_comes_first() -> None:
    backup, primary = deployment("b/x", priority=1, weight=100), deployment("a/x", priority=0)
    for _ in range(50):
        assert [item.id for item in balanced_order([backup, primary], RemainingTokens())] == ["a/x", "b/x"]


def test_traffic_splits_by_weight() -> None:
    counts = first_choices([deployment("a/x", weight=3), deployment("b/x", weight=1)], RemainingTokens())
    assert 0.70 < counts["a/x"] / 4000 < 0.80


def test_the_deployment_with_more_tpm_left_is_preferred() -> None:
    remaining = RemainingTokens()
    remaining.from_azure(deployment("a/x", tpm=1000), {"x-ratelimit-remaining-tokens": "100"})
    remaining.from_budgets("b/x", [BudgetState("dep:b/x", 1000, 900, None, None, 1.0, None)])
    counts = first_choices([deployment("a/x"), deployment("b/x")], remaining)
    assert 0.85 < counts["b/x"] / 4000 < 0.95  # 900 left against 100: nine to one


def test_an_exhausted_deployment_keeps_a_sliver_of_traffic() -> None:
    remaining = RemainingTokens()
    remaining.from_azure(deployment("a/x"), {"x-ratelimit-remaining-tokens": "0", "x-ratelimit-limit-tokens": "1000"})
    counts = first_choices([deployment("a/x"), deployment("b/x")], remaining)
    assert 0 < counts["a/x"] < 4000 * 0.05


def test_every_deployment_appears_once() -> None:
    deployments = [deployment(f"r{i}/x", priority=i % 2, weight=i + 1) for i in range(6)]
    ordered = balanced_order(deployments, RemainingTokens())
    assert sorted(item.id for item in ordered) == sorted(item.id for item in deployments)
