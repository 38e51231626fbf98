"""Admit step: reserve a request's estimated tokens against its deployment's and its key's budgets.

The deployment's budget is Azure's quota for it; the key's budgets are the team's share. All are taken
at once or not at all. When a deployment of the model has no room, the next one is tried; when none
has (or the key itself is out of budget), the client gets a 429 that says when room will be free.
After the answer, the reservation is settled with what Azure reported, or refunded if it failed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence

from gateway.errors import ModelNotFound, RateLimited
from gateway.frozen import frozen
from gateway.limits import BudgetState, Limiter, Observation, Reservation
from gateway.limits.budget_book import BudgetBook
from gateway.observe import metrics
from gateway.settings.schema import RateLimitSettings
from gateway.upstream.deployments import Deployment
from gateway.upstream.retry_after import retry_after_seconds


@frozen
class Admitted:
    deployment: Deployment
    reservation: Reservation | None  # None: no budget applies to this request
    estimate: int
    states: tuple[BudgetState, ...]


class Admission:
    def __init__(self, limiter: Limiter, book: BudgetBook, settings: RateLimitSettings) -> None:
        self._limiter = limiter
        self._book = book
        self._settings = settings
        self.suspends = limiter.suspends

    @property
    def limiter(self) -> Limiter:
        """The store of the budgets' usage: a reloaded config's admission takes it over (reload.py)."""
        return self._limiter

    def estimate(self, prompt_tokens: int, output_tokens: int | None, generates_text: bool, choices: int = 1) -> int:
        """Tokens to reserve, as Azure estimates them: prompt plus the most the answer may use."""
        if not generates_text:
            return prompt_tokens
        # Each of `choices` (n) may use the whole output cap: Azure counts them all against the TPM.
        return prompt_tokens + choices * (self._settings.default_max_tokens if output_tokens is None else output_tokens)

    @property
    def wait_for_room_seconds(self) -> float:
        return self._settings.wait_for_room_seconds

    async def admit(
        self, key_id: str, model: str, candidates: Sequence[Deployment], estimate: int, *, wait: bool = True
    ) -> Admitted:
        """Reserve on the first candidate with room. `wait` False refuses at once; the caller waits itself."""
        if not candidates:
            raise ModelNotFound(f"The model `{model}` has no deployment.", param="model")
        deadline = time.monotonic() + (self._settings.wait_for_room_seconds if wait else 0.0)
        while True:
            refused: RateLimited | None = None
            for deployment in candidates:
                budgets = self._book.for_request(deployment, key_id, model)
                if not budgets:
                    return Admitted(deployment, None, estimate, ())
                decision = await self._limiter.admit(budgets, estimate)
                if decision.admitted:
                    metrics.admitted(deployment.id)
                    return Admitted(deployment, decision.reservation, estimate, tuple(decision.states))
                metrics.refused(deployment.id, decision.blocked_by)
                refusal = _refusal(model, estimate, decision.retry_after_s, decision.blocked_by, decision.states)
                if refusal.by_client_key:
                    refused = refusal
                    break  # the key is out of budget on every deployment alike
                # The client hears of the deployment that has room soonest, not merely of the last one tried.
                if refused is None or not _sooner(refused, refusal):
                    refused = refusal
            assert refused is not None
            left = deadline - time.monotonic()
            if refused.retry_after_s is None or refused.retry_after_s > left:
                raise refused
            await asyncio.sleep(refused.retry_after_s)  # waiting for room was asked for, and it comes in time

    async def settle(self, admitted: Admitted, used_tokens: int | None, azure_headers: Mapping[str, str]) -> None:
        """After a successful answer: charge what was used, and take Azure's remaining tokens, in one call."""
        observed = []
        budget = self._book.deployment_budget(admitted.deployment)
        remaining = azure_headers.get("x-ratelimit-remaining-tokens")
        if budget is not None and remaining is not None and remaining.isdigit():
            observed.append(Observation(budget.key, budget, int(remaining)))
        if admitted.reservation is not None or observed:
            await self._limiter.settle_and_observe(admitted.reservation, used_tokens, observed)

    async def refund(self, admitted: Admitted) -> None:
        if admitted.reservation is not None:
            await self._limiter.refund(admitted.reservation)

    async def cool_down_if_throttled(self, deployment: Deployment, status: int, headers: Mapping[str, str]) -> None:
        """A 429 from Azure: no request goes to that deployment until its retry-after has passed."""
        budget = self._book.deployment_budget(deployment)
        if status == 429 and budget is not None:
            await self._limiter.cool_down(budget.key, retry_after_seconds(headers) or 1.0)

    async def deployment_states(self, deployments: Sequence[Deployment]) -> dict[str, BudgetState]:
        """Each budgeted deployment's numbers now, by deployment id, in one limiter call; nothing reserved."""
        owners = {
            budget.key: (budget, item.id)
            for item in deployments
            if (budget := self._book.deployment_budget(item)) is not None
        }
        found = await self._limiter.states([budget for budget, _ in owners.values()])
        return {owners[state.key][1]: state for state in found}


def _sooner(refusal: RateLimited, than: RateLimited) -> bool:
    if refusal.retry_after_s is None:
        return False
    return than.retry_after_s is None or refusal.retry_after_s < than.retry_after_s


def _refusal(
    model: str, estimate: int, retry_after_s: float | None, blocked_by: str | None, states: Sequence[BudgetState]
) -> RateLimited:
    whose = f"client key {blocked_by.split(':')[1]}" if blocked_by and blocked_by.startswith("key:") else model
    if retry_after_s is None:
        return RateLimited(
            f"Request too large for {whose}: {estimate:,} tokens are more than its per-minute limit allows. "
            "Reduce the prompt or max_tokens.",
            None,
            states,
            blocked_by,
        )
    return RateLimited(
        f"Rate limit reached for {whose}: no room for {estimate:,} tokens now. "
        f"Please try again in {retry_after_s:.3g}s.",
        retry_after_s,
        states,
        blocked_by,
    )
