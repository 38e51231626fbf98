"""The shape of `gateway.yaml`. Unknown keys are errors: a typo must never silently fall back to a default."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, HttpUrl, model_validator

from gateway.settings.strict import Strict

KiB = 1024
MiB = 1024 * KiB


class ServerSettings(Strict):
    """Where the gateway listens, and what one client may hold of it before and while it is served.

    The header bounds apply before authentication, so an unauthenticated client can hold no more than they
    allow. Every bound is per worker process (`gateway serve --workers N` runs N of them).
    """

    host: str = "0.0.0.0"
    port: Annotated[int, Field(ge=0, le=65535)] = 8080
    # A request's line and headers together; larger gets 431 and the connection is closed.
    max_header_bytes: Annotated[int, Field(ge=KiB, le=MiB)] = 32 * KiB
    # From connecting (or from a request's first byte) to the end of its headers; later gets 408 and a close.
    header_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 10.0
    # A request body's longest silence between two chunks, and its longest time in all; beyond either, 408
    # and a close. A body the gateway is not reading yet (its own backlog) is not counted as silence.
    body_idle_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 30.0
    body_timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 300.0
    # An idle connection between requests is closed after this long. Keep it longer than the idle timeout
    # of a load balancer in front, or the balancer may send a request on a connection being closed.
    keep_alive_timeout_seconds: Annotated[int, Field(ge=1, le=3600)] = 5
    # Requests served at once (realtime sessions and the /healthz and /readyz probes not counted); more get
    # 503 with retry-after, before their body is read.
    max_concurrent_requests: Annotated[int, Field(gt=0)] = 1000
    # On SIGTERM or SIGINT, requests and streams in flight get this long (from the signal) to finish; then what
    # is still open (a live feed, a long stream) is cut, realtime sessions get 1001, and the process exits.
    drain_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    # drain_seconds' former name, still accepted with the same meaning; set one or the other.
    shutdown_timeout_seconds: Annotated[float, Field(gt=0, le=3600)] | None = None

    @model_validator(mode="after")
    def _one_drain_time(self) -> ServerSettings:
        if self.shutdown_timeout_seconds is not None and "drain_seconds" in self.model_fields_set:
            raise ValueError("set drain_seconds or its former name shutdown_timeout_seconds, not both")
        return self

    @property
    def drain_time_seconds(self) -> float:
        """The drain time, under either name."""
        if self.shutdown_timeout_seconds is not None:
            return self.shutdown_timeout_seconds
        return self.drain_seconds


class RateLimit(Strict):
    tpm: Annotated[int, Field(gt=0)] | None = None
    rpm: Annotated[int, Field(gt=0)] | None = None


class KeyRateLimit(RateLimit):
    # Limits of this key on one model, besides its overall limits.
    models: dict[str, RateLimit] = Field(default_factory=dict)
    # USD this key may spend per calendar day and month (client_keys.spend_time_zone), at Azure's list prices;
    # None: no cap. A request over either gets 429 budget_exceeded before Azure is called (limits/spend.py).
    daily_usd: Annotated[float, Field(gt=0)] | None = None
    monthly_usd: Annotated[float, Field(gt=0)] | None = None


class ClientKeySettings(Strict):
    # Comma-separated keys, each optionally named: "team-a:sk-1,team-b:sk-2". Read at start-up so the keys
    # themselves never sit in a file; logs and limits name a key by its name, or by a digest-based id.
    env: str = "GATEWAY_API_KEYS"
    # Every key's limits, unless `per_key` (by key name or id) says otherwise.
    limits: KeyRateLimit = KeyRateLimit()
    per_key: dict[str, KeyRateLimit] = Field(default_factory=dict)
    # The IANA time zone whose midnights (and first days of the month) reset the daily_usd and monthly_usd caps.
    spend_time_zone: str = "UTC"

    @model_validator(mode="after")
    def _spend_time_zone_is_known(self) -> ClientKeySettings:
        from gateway.limits.spend_calendar import time_zone  # the zone is read as the calendar will read it

        time_zone(self.spend_time_zone)
        return self


class FeedSettings(Strict):
    """The live feed of routing-log lines (GET /gateway/feed), per gateway process."""

    # Lines each process keeps in memory for a new watcher, and the most one watcher may fall behind by
    # before its oldest pending lines are dropped (and counted to it).
    recent_lines: Annotated[int, Field(ge=1, le=100_000)] = 1000
    # A comment line this often on a quiet feed, so proxies and browsers keep the connection open.
    keep_alive_seconds: Annotated[float, Field(gt=0, le=300)] = 15.0


class AdminSettings(Strict):
    """The operators' endpoints (/gateway/deployments, /gateway/feed, /gateway/stats, /metrics): admin keys,
    never client keys."""

    # Comma-separated admin keys, each optionally named, as client_keys.env. None configured: the operators'
    # endpoints answer 403, unless the gateway has no client keys either (local only, nothing authenticated).
    env: str = "GATEWAY_ADMIN_KEYS"
    feed: FeedSettings = FeedSettings()


class RateLimitSettings(Strict):
    """Where token and request budgets are kept, and how admission behaves."""

    # Unset: budgets live in this process's memory (one replica). Set: shared by every replica. The scheme says
    # the kind: redis:// or rediss:// (TLS) one server, redis+cluster:// Cluster, redis+sentinel:// Sentinel
    # (gateway/limits/redis_connect.py lists the forms).
    redis_url: str | None = None
    # TLS (rediss...): the CA bundle that signed the server's certificate; unset: the system's CAs.
    redis_ca_file: str | None = None
    # The environment variables holding the ACL username and password (kept out of the config and the logs).
    redis_username_env: str = "REDIS_USERNAME"
    redis_password_env: str = "REDIS_PASSWORD"
    when_redis_down: Literal["fail-open", "fail-closed"] = "fail-open"
    # `gateway serve --workers N` without redis_url: each worker process keeps budgets of its own, so each
    # enforces 1/N of every budget ("divide"), or the gateway does not start ("refuse").
    workers_without_redis: Literal["divide", "refuse"] = "divide"
    redis_timeout_seconds: Annotated[float, Field(gt=0)] = 0.25
    # After Redis fails, requests skip it for this long before trying it again (0: try on every request).
    redis_retry_seconds: Annotated[float, Field(ge=0, le=60)] = 1.0
    # At most this share of a per-minute limit in any 10 seconds, so a burst cannot spend the minute at once.
    burst_fraction: Annotated[float, Field(gt=0, le=1)] | None = 1 / 3
    # Output tokens a request is assumed to use when it sets no max_tokens (Azure estimates the same way).
    default_max_tokens: Annotated[int, Field(ge=0)] = 1024
    # Wait up to this long for room instead of refusing at once (0: refuse at once).
    wait_for_room_seconds: Annotated[float, Field(ge=0, le=60)] = 0

    @model_validator(mode="after")
    def _redis_url_is_usable(self) -> RateLimitSettings:
        if self.redis_url:
            # Parsed here so a bad URL fails at load, with its file and line; credentials are not needed yet.
            from gateway.limits.redis_connect import parse_redis_url

            parse_redis_url(self.redis_url, ca_file=self.redis_ca_file)
        elif self.redis_ca_file is not None:
            raise ValueError("redis_ca_file is set but redis_url is not")
        return self


class BodyLimits(Strict):
    """Largest accepted request bodies, checked before anything is sent upstream (Azure's own limits)."""

    json_bytes: Annotated[int, Field(gt=0)] = 50 * MiB
    audio_bytes: Annotated[int, Field(gt=0)] = 25 * MiB
    image_bytes: Annotated[int, Field(gt=0)] = 50 * MiB
    # Request-body bytes held at once by all requests of one worker process: a request takes room for its
    # body before reading it and gives it back when it ends; one that finds no room gets 503 with
    # retry-after, so concurrent uploads cannot grow memory past this (the process's RSS grows by a few
    # times this, for the parsed copies). At least the largest limit above, or such a body could never pass.
    buffered_bytes: Annotated[int, Field(gt=0)] = 200 * MiB

    @model_validator(mode="after")
    def _room_for_the_largest_body(self) -> BodyLimits:
        largest = max(self.json_bytes, self.audio_bytes, self.image_bytes)
        if self.buffered_bytes < largest:
            raise ValueError(
                f"buffered_bytes ({self.buffered_bytes:,}) must be at least the largest body limit ({largest:,}), "
                "or a body of that size could never be read"
            )
        return self


class UpstreamSettings(Strict):
    connect_timeout_seconds: Annotated[float, Field(gt=0)] = 5.0
    # Long by default: a large completion can take minutes, and the openai SDK itself waits 600 s.
    read_timeout_seconds: Annotated[float, Field(gt=0)] = 600.0
    max_connections: Annotated[int, Field(gt=0)] = 1000
    # Client headers passed on to Azure besides the built-in allow-list (lower-case names).
    forward_headers: tuple[str, ...] = ()


class LogSettings(Strict):
    # "stdout", or a file path the routing log is appended to.
    routing_log: str = "stdout"


class ApiKeyAuth(Strict):
    type: Literal["api-key"] = "api-key"
    api_key_env: str


class EntraAuth(Strict):
    type: Literal["entra"]
    scope: str = "https://cognitiveservices.azure.com/.default"
    # Optional user-assigned managed identity; otherwise DefaultAzureCredential decides.
    managed_identity_client_id: str | None = None


ApiStyle = Literal["classic", "v1"]
# Which Azure realtime URL a deployment's sessions dial: "ga" is /openai/v1/realtime?model=..., "beta" is
# /openai/realtime?api-version=...&deployment=... (the URL only: the protocol is the client's choice).
RealtimeApi = Literal["ga", "beta"]


class ResourceSettings(Strict):
    """One Azure OpenAI resource (an endpoint in one region) that deployments live on."""

    endpoint: HttpUrl
    auth: Annotated[ApiKeyAuth | EntraAuth, Field(discriminator="type")]
    api_style: ApiStyle = "classic"
    # Classic style: a dated version (default 2025-04-01-preview). v1 style: unset for GA, or "preview".
    api_version: str | None = None


class DeploymentSettings(Strict):
    name: str
    model: str
    resource: str
    # Per-deployment overrides of the resource's URL style and api-version.
    api_style: ApiStyle | None = None
    api_version: str | None = None
    # Realtime sessions' URL; unset: "ga" for v1-style deployments, "beta" for classic ones.
    realtime_api: RealtimeApi | None = None
    # Overrides of the model table (gateway/routing/models.yaml): prompt tokens, image input, tasks served.
    context_window: Annotated[int, Field(gt=0)] | None = None
    vision: bool | None = None
    tasks: tuple[str, ...] | None = None
    # The model version Azure deployed: the gateway does not use it; `gateway azure import` writes it and
    # `gateway azure check` compares it with Azure's.
    version: str | None = None
    # The deployment's Azure quota. rpm defaults as Azure sets it: 6 per 1,000 TPM.
    tpm: Annotated[int, Field(gt=0)] | None = None
    rpm: Annotated[int, Field(gt=0)] | None = None
    # Among a model's deployments, the lowest priority number is used first; within one priority, traffic
    # is shared by weight (and by how much of its TPM each has left).
    priority: Annotated[int, Field(ge=0)] = 0
    weight: Annotated[int, Field(gt=0)] = 1


ErrorClass = Literal["connection", "timeout", 408, 409, 429, 500, 502, 503, 504]


class RetrySettings(Strict):
    """What is tried again, and for how long. Other 4xx are never retried: the request itself is wrong."""

    # Connection failures, timeouts and these Azure statuses move the request to another deployment (or wait).
    retry_on: tuple[ErrorClass, ...] = ("connection", "timeout", 408, 409, 429, 500, 502, 503, 504)
    # Upstream calls per request, across deployments and fallback models.
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 6
    # Waits happen only when no other deployment or model can take the request: Azure's retry-after-ms,
    # then retry-after, otherwise exponential backoff from `backoff_initial_seconds`, jittered.
    backoff_initial_seconds: Annotated[float, Field(gt=0)] = 0.5
    backoff_max_seconds: Annotated[float, Field(gt=0)] = 8.0
    # A single wait longer than this is not worth it: the client gets the error (and its retry-after) instead.
    max_wait_seconds: Annotated[float, Field(ge=0)] = 30.0
    # Everything a request may take, waits included; a client's own x-stainless-read-timeout can shorten it.
    request_timeout_seconds: Annotated[float, Field(gt=0)] = 600.0
    # A stream that sends no first chunk within this is abandoned for another deployment. None: no limit.
    first_chunk_timeout_seconds: Annotated[float, Field(gt=0)] | None = 60.0


class RoutingSettings(Strict):
    # The routing policy YAML; a relative path is relative to this config file. Unset: clients must
    # name a served model.
    policy: str | None = None
    # Bodies larger than this (bytes) are gathered and counted in a worker thread, and prompts with more text
    # than this are tokenized there: never on the event loop.
    offload_above_chars: Annotated[int, Field(gt=0)] = 32_768
    # The directory holding tiktoken's o200k_base and cl100k_base files, named as tiktoken's cache names them
    # (a TIKTOKEN_CACHE_DIR works). Unset: the copies inside the installed litellm package. Either way each
    # file must match its published SHA-256, or the gateway does not start.
    tokenizer_dir: str | None = None


class RealtimeSettings(Strict):
    """WebSocket sessions at /v1/realtime."""

    # Concurrent sessions one client key may hold. Counted by each gateway process on its own: with N
    # replicas (or workers) a key may hold up to N times this many. null: no cap (the key's token and
    # request budgets still apply), for a gateway that trusts every key with its whole capacity.
    max_sessions_per_key: Annotated[int, Field(gt=0)] | None = 100


class HealthSettings(Strict):
    """How deployment health is judged: when a breaker opens, how long it stays open, how often replicas sync."""

    # Open the breaker after this many failures in a row...
    consecutive_failures: Annotated[int, Field(ge=1)] = 5
    # ...or when, over the last `window_seconds`, at least `min_requests` finished and at least
    # `failure_ratio` of them failed (the floor keeps one failure out of two from opening it).
    failure_ratio: Annotated[float, Field(gt=0, le=1)] = 0.5
    min_requests: Annotated[int, Field(ge=1)] = 10
    window_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    # An open breaker refuses for this long, then lets `half_open_probes` requests at a time test it.
    open_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    half_open_probes: Annotated[int, Field(ge=1)] = 1
    # How often the state other replicas shared in Redis is read back.
    sync_seconds: Annotated[float, Field(gt=0, le=60)] = 0.5


class AzureSettings(Strict):
    """Re-reading each deployment's quota from Azure's management API while the gateway runs (gateway/azure_manage/
    quota_sync.py): off unless `sync_seconds` is set, and only under `gateway serve` with a config file."""

    # How often; unset: never (`gateway azure check` still reports drift on demand).
    sync_seconds: Annotated[float, Field(gt=0)] | None = None
    subscription: str | None = None
    resource_group: str | None = None
    # Which Azure account each resource of `resources:` is, by name; a resource not listed is the account of its
    # own name (as `gateway azure import` names them).
    accounts: dict[str, str] = Field(default_factory=dict)
    management_url: str = "https://management.azure.com"
    # An environment variable holding a management bearer token; unset: azure-identity's DefaultAzureCredential.
    token_env: str | None = None

    @model_validator(mode="after")
    def _names_the_accounts_when_syncing(self) -> AzureSettings:
        if self.sync_seconds is not None and not (self.subscription and self.resource_group):
            raise ValueError("azure.sync_seconds needs azure.subscription and azure.resource_group")
        return self


class GatewayConfig(Strict):
    server: ServerSettings = ServerSettings()
    client_keys: ClientKeySettings = ClientKeySettings()
    limits: BodyLimits = BodyLimits()
    upstream: UpstreamSettings = UpstreamSettings()
    log: LogSettings = LogSettings()
    routing: RoutingSettings = RoutingSettings()
    rate_limits: RateLimitSettings = RateLimitSettings()
    retries: RetrySettings = RetrySettings()
    health: HealthSettings = HealthSettings()
    realtime: RealtimeSettings = RealtimeSettings()
    admin: AdminSettings = AdminSettings()
    azure: AzureSettings = AzureSettings()
    resources: dict[str, ResourceSettings]
    deployments: Annotated[tuple[DeploymentSettings, ...], Field(min_length=1)]
