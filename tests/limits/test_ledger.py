"""The ledger ends each reservation of a request exactly once: settled, or refunded."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.limits import Budget, MemoryLimiter
from gateway.limits.admission import Admission
from gateway.limits.budget_book import BudgetBook
from gateway.limits.ledger import Ledger
from gateway.settings import GatewayConfig, load_config
from gateway.settings.schema import RateLimitSettings
from gateway.upstream.deployments import Deployment, DeploymentTable
from tests.support.gateway_config import write_config

TPM = 10_000
CONFIG = f"""\
resources:
  east: {{endpoint: https://east.example, auth: {{type: api-key, api_key_env: AZURE_KEY}}}}
deployments:
  - {{name: gpt-4.1, model: gpt-4.1, resource: east, tpm: {TPM}, rpm: 100}}
"""


@pytest.fixture
def config(tmp_path: Path) -> GatewayConfig:
    return load_config(write_config(tmp_path, CONFIG), {"AZURE_KEY": "k"})


@pytest.fixture
def east(config: GatewayConfig) -> Deployment:
    return DeploymentTable.from_config(config).for_model("gpt-4.1")[0]


@pytest.fixture
def limiter() -> MemoryLimiter:
    return MemoryLimiter(burst_fraction=None)


@pytest.fixture
def admission(config: GatewayConfig, limiter: MemoryLimiter) -> Admission:
    return Admission(limiter, BudgetBook(config.deployments, config.client_keys), RateLimitSettings())


async def used(limiter: MemoryLimiter) -> tuple[int, int]:
    """Tokens and requests the deployment's budget has counted."""
    (state,) = await limiter.states([Budget("dep:east/gpt-4.1", TPM, 100)])
    return TPM - (state.remaining_tokens or 0), 100 - (state.remaining_requests or 0)


async def test_settling_twice_charges_once(admission: Admission, limiter: MemoryLimiter, east: Deployment) -> None:
    ledger = Ledger(admission)
    admitted = await admission.admit("k", "gpt-4.1", [east], 500)
    ledger.opened(admitted)
    await ledger.settle(admitted, 120, {})
    await ledger.settle(admitted, 400, {})
    await ledger.refund(admitted)
    assert await used(limiter) == (120, 1)
    assert ledger.open_count == 0


async def test_refunding_twice_gives_back_once(admission: Admission, limiter: MemoryLimiter, east: Deployment) -> None:
    ledger = Ledger(admission)
    kept = await admission.admit("k", "gpt-4.1", [east], 300)
    refunded = await admission.admit("k", "gpt-4.1", [east], 500)
    ledger.opened(kept)
    ledger.opened(refunded)
    await ledger.refund(refunded)
    await ledger.refund(refunded)
    assert await used(limiter) == (300, 1)  # the other reservation is untouched by the second refund
    assert ledger.open_count == 1


async def test_refund_open_gives_back_what_no_step_ended(
    admission: Admission, limiter: MemoryLimiter, east: Deployment
) -> None:
    ledger = Ledger(admission)
    answered = await admission.admit("k", "gpt-4.1", [east], 500)
    for reservation in (answered, await admission.admit("k", "gpt-4.1", [east], 700)):
        ledger.opened(reservation)
    await ledger.settle(answered, 50, {})
    await ledger.refund_open()
    await ledger.refund_open()
    assert await used(limiter) == (50, 1)
    assert ledger.open_count == 0


async def test_a_reservation_it_never_held_is_left_alone(
    admission: Admission, limiter: MemoryLimiter, east: Deployment
) -> None:
    elsewhere = await admission.admit("k", "gpt-4.1", [east], 500)
    ledger = Ledger(admission)
    await ledger.settle(elsewhere, 1, {})
    await ledger.refund(elsewhere)
    assert await used(limiter) == (500, 1)
