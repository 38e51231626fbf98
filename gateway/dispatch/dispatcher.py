"""The attempt loop: send the request to a deployment; on a failure worth retrying, to the next one.

`dispatch` answers with a Delivery, or raises Undelivered; both carry the trace of every attempt, for the
log and the response headers (delivery.py). `pick_and_admit` is the same choice of deployment without the loop, for
callers that open their own connection (realtime sessions).

Another healthy deployment of the model is tried at once, then the model's fallbacks. Only when the
round has nothing left does the loop sleep (Azure's retry-after-ms, then retry-after, else jittered
exponential backoff) and start a new round, within the request's time budget and attempt limit.
A round that finds every deployment resting (cooling down after Azure's 429, or its breaker open) sends
nothing: it sleeps until the first takes requests again when that is before the request's deadline and
keeps its time asleep for resting deployments within max_wait_seconds; otherwise the client is told when
that will be (reopening.py). Such rounds do not count as attempts.
An answer is committed once its status is known and, for a stream, once its first chunk arrived:
nothing has reached the client before that, so any failure up to then can still go elsewhere.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from tenacity import AsyncRetrying, retry_if_exception

from gateway.dispatch.adapt import Adapted, ModelAdapter
from gateway.dispatch.attempts import Attempt
from gateway.dispatch.balance import RemainingTokens, balanced_order
from gateway.dispatch.delivery import Delivery, Job, Undelivered
from gateway.dispatch.feedback import learn_from_failure
from gateway.dispatch.plan import Candidate, Plan
from gateway.dispatch.reopening import next_look, refusal, soonest_reopening
from gateway.dispatch.retry_rules import Detour, LoopState, ModelSwitch, NotYet, RetryRules
from gateway.errors import (
    FallbackReason,
    FirstChunkTimeout,
    GatewayError,
    NoDeploymentAvailable,
    RateLimited,
)
from gateway.health.board import HealthBoard
from gateway.inbound.fields import ClientBody
from gateway.limits.admission import Admission, Admitted
from gateway.limits.ledger import Ledger
from gateway.observe import metrics
from gateway.routing.policy import Policy
from gateway.settings.schema import RetrySettings
from gateway.upstream.answer import first_chunk, is_streamed, raise_for_error, read_whole
from gateway.upstream.client import UpstreamClient
from gateway.upstream.credentials import UpstreamCredentials
from gateway.upstream.deployments import Deployment, DeploymentTable
from gateway.upstream.headers import HeaderPolicy
from gateway.upstream.outbound import build_upstream_request

if TYPE_CHECKING:
    from gateway.observe.spans import RequestSpan, Tracing  # imports opentelemetry: only when tracing is on


class Dispatcher:
    def __init__(
        self,
        deployments: DeploymentTable,
        policy: Policy | None,
        admission: Admission,
        health: HealthBoard,
        upstream: UpstreamClient,
        header_policy: HeaderPolicy,
        credentials: UpstreamCredentials,
        settings: RetrySettings,
        remaining: RemainingTokens,
        adapter: ModelAdapter,
        vision_of: Callable[[str], bool | None] = lambda model: None,
        choose: Callable[[], float] = random.random,
        tracing: Tracing | None = None,
    ) -> None:
        """`remaining`: each deployment's TPM left as last seen, shared with the status endpoint.
        `vision_of(model)`: whether the model's deployments take images, as configured (None: unknown).
        `tracing`: None when off; on, each admission and each attempt is a span of the request's."""
        self._deployments = deployments
        self._policy = policy
        self._admission = admission
        self._health = health
        self._upstream = upstream
        self._header_policy = header_policy
        self._credentials = credentials
        self._settings = settings
        self._choose = choose
        self._rules = RetryRules(settings, admission.wait_for_room_seconds, choose)
        self._vision_of = vision_of
        self._remaining = remaining
        self._adapter = adapter
        self._tracing = tracing

    async def dispatch(
        self,
        job: Job,
        model: str,
        ledger: Ledger | None = None,
        pinned: Deployment | None = None,
        traced: RequestSpan | None = None,
    ) -> Delivery:
        """`ledger`: where every reservation taken is recorded, for the caller to end whatever happens (the
        request's finish step); failed attempts' are ended here at once. None: the dispatcher keeps its own.
        `pinned`: the one deployment the request may go to (a conversation held by its resource): tried even
        when resting, since no other could answer; retried there, never elsewhere.
        `traced`: the request's span, when tracing is on: the parent of the admit and attempt spans."""
        if pinned is not None:
            plan = _pinned_plan(pinned)
        else:
            plan = Plan(model, self._ordered_deployments, self._fallbacks_of, self._is_available)
        state = LoopState(plan, Ledger(self._admission) if ledger is None else ledger)
        try:
            if traced is None:
                return await self._attempts(job, state)
            with traced.dispatching():
                return await self._attempts(job, state)
        except GatewayError as error:
            raise Undelivered(error, state.trace) from None

    async def pick_and_admit(self, key_id: str, model: str, estimate: int) -> Admitted:
        """A deployment of `model` with room for `estimate` tokens, chosen as HTTP requests' are: by priority,
        then weight and TPM left, healthy ones first (when none is healthy, Azure decides), waiting for room
        as admission allows. The caller calls Azure itself and reports back through `feedback`."""
        deployments = self._ordered_deployments(model)
        healthy = [deployment for deployment in deployments if self._health.is_available(deployment.id)]
        admitted = await self._admission.admit(key_id, model, healthy or deployments, estimate)
        self._remaining.from_budgets(admitted.deployment.id, admitted.states)
        return admitted

    async def _attempts(self, job: Job, state: LoopState) -> Delivery:
        # Most requests succeed at once: they skip the retry machinery (~50 us a request) altogether.
        try:
            return await self._try_once(job, state)
        except (GatewayError, Detour) as error:
            if not self._rules.worth_retrying(error):
                raise error.error if isinstance(error, Detour) else error from None
            first_failure: BaseException | None = error
        retrying = AsyncRetrying(
            retry=retry_if_exception(lambda error: self._rules.worth_retrying(error)),
            wait=lambda retry_state: self._rules.wait(retry_state, state),
            stop=lambda retry_state: self._rules.stop(retry_state, state, job),
            sleep=asyncio.sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    if first_failure is not None:
                        # Replayed as tenacity's first attempt, so its wait and stop rules judge it too.
                        replay, first_failure = first_failure, None
                        raise replay
                    return await self._try_once(job, state)
        except Detour as detour:
            raise detour.error from None
        raise AssertionError("unreachable: tenacity either returns a delivery or reraises")

    # -- one try ---------------------------------------------------------------------------------------

    async def _try_once(self, job: Job, state: LoopState) -> Delivery:
        if state.needs_new_round:
            state.plan.new_round()
            state.needs_new_round = state.round_tried = False
        candidate, admitted, adapted = await self._admitted_candidate(job, state)
        body = adapted.body
        waited_ms = round(state.waited_s * 1000, 3)
        attempt = Attempt(candidate.model, candidate.deployment.id, waited_ms, changes=list(adapted.changes))
        tried = state.trace.attempts
        if tried:
            metrics.retried(state.last_error)
        if candidate.fallback_from is not None and (not tried or tried[-1].model != candidate.model):
            metrics.fell_back(tried[-1].model if tried else state.plan.routed_model, candidate.model, state.reason)
        state.waited_s = 0.0
        state.trace.attempts.append(attempt)
        state.round_tried = True
        started = time.perf_counter()
        sending = self._send(job, state, candidate, admitted, body, attempt)
        if self._tracing is not None:
            operation = job.body.endpoint.operation
            sending = self._tracing.attempting(sending, candidate.deployment, attempt, operation, len(tried) - 1)
        try:
            delivery = await sending
        except GatewayError as error:
            seconds = time.perf_counter() - started
            attempt.latency_ms = round(seconds * 1000, 3)
            attempt.error = error.code
            metrics.attempt_ended(
                job.body.endpoint.operation, candidate.model, candidate.deployment.id, error.code, seconds
            )
            await self._after_failure(candidate.deployment, admitted, error, attempt, state.ledger)
            state.last_error = error
            state.reason = error.fallback_reason
            if state.reason != "failure" and error.status == 400 and state.plan.leave_model(state.reason):
                state.trace.notes.append(f"{candidate.model}: {error.code}, trying {state.plan.model}")
                raise ModelSwitch(error) from None
            raise
        attempt.latency_ms = round((time.perf_counter() - started) * 1000, 3)
        attempt.billed = True
        self._health.record_success(candidate.deployment.id)
        self._remaining.from_azure(candidate.deployment, delivery.response.headers)
        return delivery

    async def _admitted_candidate(self, job: Job, state: LoopState) -> tuple[Candidate, Admitted, Adapted]:
        """The next candidate that is healthy, can serve the request and has room in its budgets, with the
        request as that candidate's model takes it."""
        while (candidate := state.plan.next(state.reason)) is not None:
            adapted = Adapted(job.body, ())
            if candidate.model != state.plan.routed_model:
                why_not = self._adapter.why_not(job.body, candidate.model, vision=self._vision_of(candidate.model))
                if why_not is not None:
                    state.trace.notes.append(f"fallback {candidate.model} skipped: {why_not}")
                    continue
                adapted = self._adapter.adapt(job.body, candidate.model)
            admitting = self._admission.admit(
                job.key_id, candidate.model, [candidate.deployment], job.estimate, wait=False
            )
            if self._tracing is not None:
                admitting = self._tracing.admitting(admitting, candidate.deployment.id, job.estimate)
            try:
                admitted = await admitting
            except RateLimited as refused:
                if refused.by_client_key:
                    raise
                state.trace.notes.append(f"{candidate.deployment.id}: no room in its budget")
                state.last_error, state.reason = refused, "failure"
                state.round_tried = True
                continue
            state.ledger.opened(admitted)
            # Taken only now, so that a refused admission never holds a half-open breaker's probe slot.
            if not self._health.try_acquire(candidate.deployment.id):
                await state.ledger.refund(admitted)
                continue
            self._remaining.from_budgets(candidate.deployment.id, admitted.states)
            return candidate, admitted, adapted
        # Nothing left this round: the client gets the last error seen, Azure's or our own 429...
        state.round_over = True
        if not state.round_tried:
            # ...unless the round found every candidate resting: then it waits for the first to reopen.
            reopening = await soonest_reopening(self._resting(job, state), self._health, self._admission)
            if reopening is not None:
                state.idle_rounds += 1
                look = next_look(reopening, self._settings.backoff_initial_seconds)
                raise NotYet(refusal(state.plan.routed_model, look), look.in_seconds)
        if state.last_error is not None:
            raise state.last_error
        raise NoDeploymentAvailable.for_model(state.plan.routed_model)

    def _resting(self, job: Job, state: LoopState) -> list[Deployment]:
        """The round's untried deployments of models that could take the request."""
        return [
            candidate.deployment
            for candidate in state.plan.passed_over()
            if candidate.model == state.plan.routed_model
            or self._adapter.why_not(job.body, candidate.model, vision=self._vision_of(candidate.model)) is None
        ]

    async def _send(
        self, job: Job, state: LoopState, candidate: Candidate, admitted: Admitted, body: ClientBody, attempt: Attempt
    ) -> Delivery:
        sent = time.perf_counter()
        outbound = await build_upstream_request(
            candidate.deployment, body, job.client_headers, job.request_id, self._header_policy, self._credentials
        )
        if self._tracing is not None:
            self._tracing.propagate(outbound.headers)  # the attempt's span, as Azure's parent
        response = await self._upstream.send(outbound, time_left=job.deadline - time.monotonic())
        attempt.status = response.status_code
        deployment_id = candidate.deployment.id
        await raise_for_error(response, deployment_id)
        strip = outbound.adds_stream_usage
        if is_streamed(response):
            limit, left = self._settings.first_chunk_timeout_seconds, job.deadline - time.monotonic()
            chunks = await first_chunk(response, deployment_id, left if limit is None else min(limit, left))
            seconds = time.perf_counter() - sent
            metrics.attempt_first_chunk(job.body.endpoint.operation, candidate.model, deployment_id, seconds)
            return Delivery(candidate, admitted, response, None, chunks, strip, state.trace)
        whole = await read_whole(response, deployment_id)
        return Delivery(candidate, admitted, response, whole, None, strip, state.trace)

    async def _after_failure(
        self, deployment: Deployment, admitted: Admitted, error: GatewayError, attempt: Attempt, ledger: Ledger
    ) -> None:
        await learn_from_failure(self._health, self._admission, deployment, error)
        if isinstance(error, FirstChunkTimeout):
            # Azure accepted the request and may be generating: it bills that, so the tokens stay charged.
            attempt.billed = True
            await ledger.settle(admitted, None, {})
        else:
            await ledger.refund(admitted)

    # -- plan inputs -----------------------------------------------------------------------------------

    def _ordered_deployments(self, model: str) -> list[Deployment]:
        return balanced_order(self._deployments.for_model(model), self._remaining, self._choose)

    def _fallbacks_of(self, model: str, reason: FallbackReason) -> tuple[str, ...]:
        return self._policy.fallbacks_for(model, reason) if self._policy is not None else ()

    def _is_available(self, deployment: Deployment) -> bool:
        return self._health.is_available(deployment.id)


def _pinned_plan(deployment: Deployment) -> Plan:
    return Plan(
        deployment.model,
        lambda model: (deployment,) if model == deployment.model else (),
        lambda model, reason: (),
        lambda candidate: True,
    )
