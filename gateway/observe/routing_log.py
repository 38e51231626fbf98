"""The routing log: one JSON line per request, written when the request is over (streams included).

Each line also goes to this process's `live` lines (observe/live_lines.py), which the operators' feed
(/gateway/feed) serves.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

import orjson

from gateway.observe.live_lines import LiveLines

# Lines kept in memory for the live feed unless the config says otherwise (admin.feed.recent_lines).
RECENT_LINES = 1000


@dataclass(slots=True)
class RequestRecord:
    request_id: str
    endpoint: str
    started: float = field(default_factory=time.perf_counter)
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="milliseconds"))
    key_id: str | None = None
    model_requested: str | None = None
    features: dict[str, Any] | None = None
    path: list[dict[str, Any]] | None = None  # the questions the decision asked, answers and reasons
    notes: list[str] | None = None  # candidates passed over, escalations
    prompt_tokens: int | None = None  # counted by the gateway with the chosen model's tokenizer
    model: str | None = None
    deployment: str | None = None
    stream: bool = False
    status: int | None = None
    upstream_status: int | None = None
    attempts: list[dict[str, Any]] | None = None  # every upstream try: model, deployment, status, error, latency, wait
    error: str | None = None
    latency_ms: float | None = None
    bytes_out: int | None = None
    usage: dict[str, Any] | None = None  # as Azure reported it (realtime: summed over the session's responses)
    # Realtime sessions only: responses, who closed the session and how, frames relayed each way.
    realtime: dict[str, Any] | None = None

    def finish(self, status: int, error: str | None = None) -> None:
        self.status = status
        if error is not None:
            self.error = error
        self.latency_ms = round((time.perf_counter() - self.started) * 1000, 3)

    def as_json(self) -> bytes:
        # orjson serialises the nested values itself: dataclasses.asdict would deep-copy them first, which
        # cost ~7% of the gateway's CPU per request.
        return orjson.dumps({name: getattr(self, name) for name in _LOGGED_FIELDS})


_LOGGED_FIELDS = tuple(name for name in RequestRecord.__dataclass_fields__ if name != "started")


class RoutingLog:
    def __init__(self, destination: str, recent_lines: int = RECENT_LINES) -> None:
        self._owns_stream = destination != "stdout"
        self._stream: IO[bytes] = sys.stdout.buffer if not self._owns_stream else open(destination, "ab")  # noqa: SIM115
        self.live = LiveLines(recent_lines)

    def write(self, record: RequestRecord) -> None:
        line = record.as_json()
        self._stream.write(line + b"\n")
        self._stream.flush()  # operators tail this live
        self.live.add(line)

    def close(self) -> None:
        self.live.close()
        if self._owns_stream:
            self._stream.close()
