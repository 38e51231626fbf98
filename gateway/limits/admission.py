"""Admit step: reserve a request's estimated tokens against its deployment's and its key's budgets.

The deployment's budget is Azure's quota for it; the key's budgets are the team's share. All are taken
at once or not at all. When a deployment of the model has no room, the next one is tried; when none
has (or the key itself is out of budget), the client gets a 429 that says when room will be free.
After the answer, the reservation is settled with what Azure reported, or refunded if it failed.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gateway.errors import GatewayError, ModelNotFound
from gateway.limits import Budget, BudgetState, Limiter, Observation, Reservation
from gateway.settings.schema import ClientKeySettings, DeploymentSettings, RateLimit, RateLimitSettings
from gateway.upstream.deployments import Deployment

# Azure: chat deployments get 6 requests per minute for each 1,000 tokens per minute.
RPM_PER_THOUSAND_TPM = 6


@dataclass(frozen=True, slots=True)
class Admitted:
    deployment: Deployment
    reservation: Reservation | None  # None: no budget applies to this request
    estimate: int
    states: tuple[BudgetState, ...]


class RateLimited(GatewayError):
    status = 429
    code = "rate_limit_exceeded"
    retryable = True

    def __init__(
        self,
        message: str,
        retry_after_s: float | None,
        states: Sequence[BudgetState],
        blocked_by: str | None = None,
    ) -> None:
        """`retry_after_s` None: the request is larger than a whole minute's budget and can never pass."""
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.blocked_by = blocked_by
        self._states = tuple(states)

    @property
    def by_client_key(self) -> bool:
        """The client's own budget is spent: no other deployment or model would take the request either."""
        return self.blocked_by is not None and self.blocked_by.startswith("key:")

    def body(self) -> dict[str, object]:
        body = super().body()
        body["error"]["type"] = "tokens"
        return body

    def headers(self) -> dict[str, str]:
        if self.retry_after_s is None:
            return {"x-should-retry": "false", **rate_limit_headers(self._states)}
        # The openai SDK waits exactly retry-after-ms when it is at most 120 s, and honours it on retry.
        wait = min(self.retry_after_s, 119.0)
        return {
            "retry-after-ms": str(max(1, math.ceil(wait * 1000))),
            "retry-after": str(max(1, math.ceil(wait))),
            **rate_limit_headers(self._states),
        }


def rate_limit_headers(states: Sequence[BudgetState]) -> dict[str, str]:
    """OpenAI's x-ratelimit-* headers for the tightest of the budgets a request touched."""
    headers: dict[str, str] = {}
    token_states = [state for state in states if state.limit_tokens is not None]
    request_states = [state for state in states if state.limit_requests is not None]
    if token_states:
        tightest = min(token_states, key=lambda state: state.remaining_tokens or 0)
        headers["x-ratelimit-limit-tokens"] = str(tightest.limit_tokens)
        headers["x-ratelimit-remaining-tokens"] = str(max(0, tightest.remaining_tokens or 0))
        headers["x-ratelimit-reset-tokens"] = _duration(tightest.reset_tokens_s)
    if request_states:
        tightest = min(request_states, key=lambda state: state.remaining_requests or 0)
        headers["x-ratelimit-limit-requests"] = str(tightest.limit_requests)
        headers["x-ratelimit-remaining-requests"] = str(max(0, tightest.remaining_requests or 0))
        headers["x-ratelimit-reset-requests"] = _duration(tightest.reset_requests_s)
    return headers


def _duration(seconds: float | None) -> str:
    # OpenAI's format: "12ms", "1.5s".
    if not seconds or seconds <= 0:
        return "0s"
    return f"{round(seconds * 1000)}ms" if seconds < 1 else f"{seconds:.3g}s"


class BudgetBook:
    """Which budgets a request falls under, compiled from config."""

    def __init__(self, deployments: Sequence[DeploymentSettings], keys: ClientKeySettings) -> None:
        self._deployments = {
            f"{item.resource}/{item.name}": _deployment_limit(item) for item in deployments if item.tpm or item.rpm
        }
        self._keys = keys

    def for_request(self, deployment: Deployment, key_id: str, model: str) -> list[Budget]:
        budgets = []
        deployment_limit = self._deployments.get(deployment.id)
        if deployment_limit is not None:
            budgets.append(Budget(f"dep:{deployment.id}", deployment_limit.tpm, deployment_limit.rpm))
        key_limit = self._keys.per_key.get(key_id, self._keys.limits)
        if key_limit.tpm or key_limit.rpm:
            budgets.append(Budget(f"key:{key_id}", key_limit.tpm, key_limit.rpm))
        model_limit = key_limit.models.get(model)
        if model_limit is not None and (model_limit.tpm or model_limit.rpm):
            budgets.append(Budget(f"key:{key_id}:model:{model}", model_limit.tpm, model_limit.rpm))
        return budgets

    def deployment_budget(self, deployment: Deployment) -> Budget | None:
        limit = self._deployments.get(deployment.id)
        return Budget(f"dep:{deployment.id}", limit.tpm, limit.rpm) if limit else None


def _deployment_limit(item: DeploymentSettings) -> RateLimit:
    rpm = item.rpm
    if rpm is None and item.tpm is not None:
        rpm = max(1, item.tpm * RPM_PER_THOUSAND_TPM // 1000)
    return RateLimit(tpm=item.tpm, rpm=rpm)


class Admission:
    def __init__(self, limiter: Limiter, book: BudgetBook, settings: RateLimitSettings) -> None:
        self._limiter = limiter
        self._book = book
        self._settings = settings

    def estimate(self, prompt_tokens: int, output_tokens: int | None, generates_text: bool) -> int:
        """Tokens to reserve, as Azure estimates them: prompt plus the most the answer may use."""
        if not generates_text:
            return prompt_tokens
        return prompt_tokens + (self._settings.default_max_tokens if output_tokens is None else output_tokens)

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
                    return Admitted(deployment, decision.reservation, estimate, tuple(decision.states))
                refused = _refusal(model, estimate, decision.retry_after_s, decision.blocked_by, decision.states)
                if refused.by_client_key:
                    break  # the key is out of budget on every deployment alike
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


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                continue
    return None


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
