"""Each deployment's breaker state and budgets as Prometheus gauges, read when /metrics is scraped.

Read from the health board and the limiter at scrape time rather than set on every request, so requests pay
nothing for them. They are the answering process's view: under several workers or replicas, breakers and
budgets are shared through Redis when it is configured, and otherwise each process has its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import get_args

from prometheus_client.core import GaugeMetricFamily, Metric

from gateway.dispatch.balance import RemainingTokens
from gateway.health.board import HealthBoard, HealthState
from gateway.limits import BudgetState
from gateway.upstream.deployments import Deployment

HEALTH_STATES: tuple[HealthState, ...] = get_args(HealthState)


class DeploymentGauges:
    """A prometheus-client collector over one scrape's readings: register it on that scrape's registry."""

    def __init__(
        self,
        deployments: Sequence[Deployment],
        health: HealthBoard,
        budgets: Mapping[str, BudgetState],
        remaining: RemainingTokens,
    ) -> None:
        """`budgets`: each budgeted deployment's state by id (Admission.deployment_states); a deployment without
        one shows what Azure's x-ratelimit-remaining-tokens said last, as /gateway/deployments does."""
        self._deployments = deployments
        self._health = health
        self._budgets = budgets
        self._remaining = remaining

    def collect(self) -> Iterable[Metric]:
        state = GaugeMetricFamily(
            "gateway_deployment_state",
            "1 for the state each deployment's circuit breaker is in, 0 for the others.",
            labels=["deployment", "model", "state"],
        )
        error_ratio = GaugeMetricFamily(
            "gateway_deployment_recent_error_ratio",
            "Failed share of each deployment's requests over the health window.",
            labels=["deployment"],
        )
        numbers = {
            name: GaugeMetricFamily(f"gateway_deployment_{name}", description, labels=["deployment"])
            for name, description in (
                ("remaining_tokens", "Tokens per minute each deployment has left (TPM)."),
                ("limit_tokens", "Each deployment's tokens-per-minute limit."),
                ("remaining_requests", "Requests per minute each deployment has left (RPM)."),
                ("limit_requests", "Each deployment's requests-per-minute limit."),
            )
        }
        for deployment in self._deployments:
            health = self._health.snapshot(deployment.id)
            for each in HEALTH_STATES:
                state.add_metric([deployment.id, deployment.model, each], 1.0 if health.state == each else 0.0)
            error_ratio.add_metric([deployment.id], health.error_rate)
            budget = self._budgets.get(deployment.id)
            readings = {
                "remaining_tokens": budget.remaining_tokens if budget else self._remaining.remaining(deployment.id),
                "limit_tokens": budget.limit_tokens if budget else None,
                "remaining_requests": budget.remaining_requests if budget else None,
                "limit_requests": budget.limit_requests if budget else None,
            }
            for name, value in readings.items():
                if value is not None:  # unknown or unlimited: no sample rather than a made-up number
                    numbers[name].add_metric([deployment.id], float(value))
        return [state, error_ratio, *numbers.values()]
