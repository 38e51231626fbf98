"""Prometheus metrics recorded as requests go: counts, latencies, tokens, admissions, retries and fallbacks.

Names follow OpenTelemetry's GenAI semantic conventions where they define one, as OTel's Prometheus exporter
maps them (dots to underscores, the unit `s` as `_seconds`, `{token}` dropped); the rest are `gateway_*`.
The gateway is a GenAI server to its clients and a GenAI client of Azure, so it has both kinds:

    gen_ai_server_request_duration_seconds      a whole request, as its client waited for it
    gen_ai_server_time_to_first_token_seconds   a stream: from the request's arrival to Azure's first chunk
    gen_ai_client_operation_duration_seconds    one upstream attempt (a stream's answering one: to its end)
    gen_ai_client_operation_time_to_first_chunk_seconds   one streamed upstream attempt, to its first chunk
    gen_ai_client_token_usage                   tokens Azure reported, gen_ai_token_type input or output
    gateway_requests_total                      requests by endpoint, model, deployment and status
    gateway_cost_usd_total                      USD at Azure's list prices (routing log's cost_usd), by key,
                                                model and deployment
    gateway_retries_total, gateway_fallbacks_total, gateway_admissions_total,
    gateway_admission_refusals_total, gateway_realtime_sessions_open

`gen_ai_request_model` is the model the client asked for (`auto` included), once routing accepted it: a name
the config knows, so a client cannot mint label values; `gen_ai_response_model` is the model that answered,
whose deployment is `deployment`. No label holds a client key: `key` is the key's configured name or its
digest-based id, as in the routing log. Per-deployment health and budgets are read at scrape time instead
(admin/metrics_endpoint.py), so requests pay nothing for them.

The hot path stays cheap: a request's updates are summed per label values (metric_batches.py) and added to
the metrics when they are read, so a request costs a dict lookup and an addition per update instead of
prometheus-client's label validation, lock and bucket walk.

Under `gateway serve --workers N` (N > 1) the CLI points PROMETHEUS_MULTIPROC_DIR at a fresh directory before
the workers start: each worker's values then live in files there, and any worker's /metrics sums them all.
"""

from __future__ import annotations

import atexit
import os
import time
from contextlib import AbstractContextManager
from typing import Any

from prometheus_client import REGISTRY, Counter, Gauge, Histogram

from gateway.errors import FallbackReason, GatewayError, RateLimited
from gateway.observe.metric_batches import Batches, FoldBeforeCollect, PendingCounter, PendingHistogram
from gateway.observe.routing_log import RequestRecord

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# OTel's gen_ai.operation.name for the endpoints it names; any other endpoint is named by its own path.
_OPERATION_NAMES = {"chat/completions": "chat", "completions": "text_completion", "embeddings": "embeddings"}
# The bucket boundaries the conventions recommend for each histogram.
_DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
_FIRST_TOKEN_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
_TOKEN_BUCKETS = tuple(float(4**power) for power in range(14))  # 1, 4, 16 ... 67108864
# Azure's two namings of a usage's parts (reply/usage.py): chat's, then the Responses API's.
_USAGE_PARTS = (("prompt_tokens", "completion_tokens"), ("input_tokens", "output_tokens"))

_GEN_AI_LABELS = ("gen_ai_operation_name", "gen_ai_request_model", "gen_ai_response_model")

# Per-request updates are summed first and folded into the metrics when a registry is read (metric_batches.py):
# the folding collector goes into the default registry before the metrics, so it runs before they are read.
_batches = Batches()
REGISTRY.register(FoldBeforeCollect(_batches))

REQUESTS = Counter(
    "gateway_requests",
    "Requests finished, by endpoint, model, deployment and status.",
    ("endpoint", "model", "deployment", "status"),
)
REQUEST_DURATION = Histogram(
    "gen_ai_server_request_duration_seconds",
    "Whole requests, from arrival to the answer's last byte.",
    (*_GEN_AI_LABELS, "error_type"),
    buckets=_DURATION_BUCKETS,
)
TIME_TO_FIRST_TOKEN = Histogram(
    "gen_ai_server_time_to_first_token_seconds",
    "Streams: from the request's arrival to the first chunk.",
    _GEN_AI_LABELS,
    buckets=_FIRST_TOKEN_BUCKETS,
)
TOKEN_USAGE = Histogram(
    "gen_ai_client_token_usage",
    "Tokens Azure reported per request, input or output.",
    (*_GEN_AI_LABELS, "gen_ai_token_type", "deployment"),
    buckets=_TOKEN_BUCKETS,
)
ATTEMPT_DURATION = Histogram(
    "gen_ai_client_operation_duration_seconds",
    "Upstream attempts, one per call to an Azure deployment.",
    ("gen_ai_operation_name", "gen_ai_request_model", "deployment", "error_type"),
    buckets=_DURATION_BUCKETS,
)
ATTEMPT_FIRST_CHUNK = Histogram(
    "gen_ai_client_operation_time_to_first_chunk_seconds",
    "Streamed upstream attempts, to Azure's first chunk.",
    ("gen_ai_operation_name", "gen_ai_request_model", "deployment"),
    buckets=_FIRST_TOKEN_BUCKETS,
)
RETRIES = Counter("gateway_retries", "Upstream attempts after a request's first, by what failed before.", ("reason",))
FALLBACKS = Counter(
    "gateway_fallbacks", "Requests moved to a fallback model, by reason.", ("from_model", "to_model", "reason")
)
COST = Counter(
    "gateway_cost_usd",
    "USD the requests' reported usage costs at Azure's list prices, by client key, model and deployment.",
    ("key", "model", "deployment"),
)
ADMISSIONS = Counter("gateway_admissions", "Budget checks that admitted a request, by deployment.", ("deployment",))
REFUSALS = Counter(
    "gateway_admission_refusals",
    "Budget checks that refused a request, by the budget that had no room.",
    ("budget", "deployment", "key"),
)
REALTIME_SESSIONS = Gauge("gateway_realtime_sessions_open", "Realtime sessions open now.", multiprocess_mode="livesum")

_requests = PendingCounter(REQUESTS, _batches)
_request_duration = PendingHistogram(REQUEST_DURATION, _DURATION_BUCKETS, _batches)
_first_token = PendingHistogram(TIME_TO_FIRST_TOKEN, _FIRST_TOKEN_BUCKETS, _batches)
_token_usage = PendingHistogram(TOKEN_USAGE, _TOKEN_BUCKETS, _batches)
_attempt_duration = PendingHistogram(ATTEMPT_DURATION, _DURATION_BUCKETS, _batches)
_attempt_first_chunk = PendingHistogram(ATTEMPT_FIRST_CHUNK, _FIRST_TOKEN_BUCKETS, _batches)
_admissions = PendingCounter(ADMISSIONS, _batches)
_cost = PendingCounter(COST, _batches)


def fold_pending() -> FoldBeforeCollect:
    """A collector that, registered in a registry before anything else, folds the pending updates into the
    metrics each time that registry is read (the multiprocess registry of /metrics)."""
    return FoldBeforeCollect(_batches)


def operation_name(endpoint: str) -> str:
    return _OPERATION_NAMES.get(endpoint, endpoint)


def request_ended(record: RequestRecord) -> None:
    """A request's (or realtime session's) counts, duration and tokens, once its record is finished."""
    model, deployment = record.model or "", record.deployment or ""
    _requests.add((record.endpoint, model, deployment, str(record.status)))
    operation, requested = operation_name(record.endpoint), _requested_model(record)
    if record.latency_ms is not None:
        seconds = record.latency_ms / 1000
        _request_duration.add((operation, requested, model, record.error or ""), seconds)
    if record.cost_usd:
        _cost.add((record.key_id or "", model, deployment), record.cost_usd)
    usage = record.usage
    if usage:
        for input_name, output_name in _USAGE_PARTS:
            tokens_in, tokens_out = usage.get(input_name), usage.get(output_name)
            if tokens_in is not None or tokens_out is not None:
                if type(tokens_in) is int:
                    _token_usage.add((operation, requested, model, "input", deployment), tokens_in)
                if type(tokens_out) is int:
                    _token_usage.add((operation, requested, model, "output", deployment), tokens_out)
                break


def first_token(record: RequestRecord, model: str) -> None:
    """A stream's first chunk is in hand: the time since the request arrived."""
    seconds = time.perf_counter() - record.started
    _first_token.add((operation_name(record.endpoint), _requested_model(record), model), seconds)


def attempt_ended(endpoint: str, model: str, deployment: str, error: str | None, seconds: float) -> None:
    _attempt_duration.add((operation_name(endpoint), model, deployment, error or ""), seconds)


def attempt_first_chunk(endpoint: str, model: str, deployment: str, seconds: float) -> None:
    _attempt_first_chunk.add((operation_name(endpoint), model, deployment), seconds)


def retried(after: GatewayError | None) -> None:
    RETRIES.labels(failure_reason(after)).inc()


def fell_back(from_model: str, to_model: str, reason: FallbackReason) -> None:
    FALLBACKS.labels(from_model, to_model, reason).inc()


def admitted(deployment: str) -> None:
    _admissions.add((deployment,))


def refused(deployment: str, blocked_by: str | None) -> None:
    """`blocked_by`: the refusing budget's key (limits/budget_book.py): `dep:<id>`, `key:<key id>`, or
    `key:<key id>:model:<model>`."""
    REFUSALS.labels(*_refusal_labels(deployment, blocked_by)).inc()


def realtime_session_open() -> AbstractContextManager[Any]:
    """Counts a realtime session as open while the block runs."""
    return REALTIME_SESSIONS.track_inprogress()


def failure_reason(error: GatewayError | None) -> str:
    """Why a request was tried again, in few values: `budget` (our own had no room), Azure's status or
    `connection`/`timeout` (what retries.retry_on names), or the fallback reason of a model switch."""
    if error is None:
        return "unknown"
    if isinstance(error, RateLimited):
        return "budget"
    if error.fallback_reason != "failure":
        return error.fallback_reason
    if error.retry_class is not None:
        return str(error.retry_class)
    return str(error.status)


def _requested_model(record: RequestRecord) -> str:
    # Only a routed request's model is one the config knows; before routing it is whatever the client sent.
    return (record.model_requested or "") if record.features is not None else ""


def _refusal_labels(deployment: str, blocked_by: str | None) -> tuple[str, str, str]:
    """(budget kind, deployment, key id): a key's budget is the same on every deployment, so none is named."""
    if blocked_by is None:
        return "unknown", deployment, ""
    kind, _, rest = blocked_by.partition(":")
    if kind == "key":
        key, _, model = rest.partition(":model:")
        return ("client_key_model" if model else "client_key"), "", key
    return "deployment", deployment, ""


def _forget_this_process_at_exit() -> None:
    # A worker's live gauges (open realtime sessions) must stop counting once it is gone; the other metrics
    # keep their totals, as counters should, with whatever was still pending folded in first.
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        from prometheus_client import multiprocess

        atexit.register(multiprocess.mark_process_dead, os.getpid())
        atexit.register(_batches.fold)
        _batches.schedule_folds()  # another process reads this one's values


_forget_this_process_at_exit()
