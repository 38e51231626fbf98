"""Deployments' breaker state and budgets as gauges, collected from a real health board and budget states."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from gateway.dispatch.balance import RemainingTokens
from gateway.health.board import HealthBoard
from gateway.limits import BudgetState
from gateway.observe.deployment_metrics import DeploymentGauges
from gateway.settings.schema import ApiKeyAuth, HealthSettings
from gateway.upstream.deployments import Deployment

SETTINGS = HealthSettings(consecutive_failures=2, open_seconds=30, min_requests=100, window_seconds=300)


def deployment(deployment_id: str) -> Deployment:
    resource, name = deployment_id.split("/")
    auth = ApiKeyAuth(type="api-key", api_key_env="K")
    return Deployment(deployment_id, name, "gpt-4.1", resource, "http://x", "classic", "v", auth)


DEPLOYMENTS = [deployment("east/a"), deployment("west/b")]


def collected(board: HealthBoard, budgets: dict[str, BudgetState], remaining: RemainingTokens) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(DeploymentGauges(DEPLOYMENTS, board, budgets, remaining))
    return registry


def test_one_state_per_deployment_is_set() -> None:
    board = HealthBoard(SETTINGS, ["east/a", "west/b"])
    for _ in range(2):
        board.record_failure("west/b", "upstream_timeout")
    registry = collected(board, {}, RemainingTokens())
    states = {
        (deployment_id, state): registry.get_sample_value(
            "gateway_deployment_state", {"deployment": deployment_id, "model": "gpt-4.1", "state": state}
        )
        for deployment_id in ("east/a", "west/b")
        for state in ("healthy", "cooling_down", "open", "half_open")
    }
    assert [key for key, value in states.items() if value == 1.0] == [("east/a", "healthy"), ("west/b", "open")]
    assert sum(value or 0.0 for value in states.values()) == 2
    assert registry.get_sample_value("gateway_deployment_recent_error_ratio", {"deployment": "west/b"}) == 1.0


def test_budgets_first_then_azures_last_word() -> None:
    board = HealthBoard(SETTINGS, ["east/a", "west/b"])
    budgets = {"east/a": BudgetState("dep:east/a", 1000, 700, 6, 5, 10.0, 10.0)}
    remaining = RemainingTokens()
    remaining.from_azure(DEPLOYMENTS[1], {"x-ratelimit-remaining-tokens": "42", "x-ratelimit-limit-tokens": "100"})
    registry = collected(board, budgets, remaining)

    def read(name: str, deployment_id: str) -> float | None:
        return registry.get_sample_value(f"gateway_deployment_{name}", {"deployment": deployment_id})

    assert [read(name, "east/a") for name in ("limit_tokens", "remaining_tokens")] == [1000, 700]
    assert [read(name, "east/a") for name in ("limit_requests", "remaining_requests")] == [6, 5]
    assert read("remaining_tokens", "west/b") == 42
    assert read("limit_tokens", "west/b") is None  # no budget of the gateway's: no limit to show
