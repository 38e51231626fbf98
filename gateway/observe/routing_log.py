"""The routing log: one JSON line per request, written when the request is over (streams included).

Each line also goes to this process's `live` lines (observe/live_lines.py), which the operators' feed
(/gateway/feed) serves, and each record into its `recent` counts (observe/recent_stats.py, /gateway/stats).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

import orjson

from gateway.observe.live_lines import LiveLines
from gateway.observe.recent_stats import RecentStats

if TYPE_CHECKING:
    from gateway.routing.features import Features

# Lines kept in memory for the live feed unless the config says otherwise (admin.feed.recent_lines).
RECENT_LINES = 1000


class _UtcClockText:
    """Now in UTC as `datetime.now(UTC).isoformat(timespec="milliseconds")` writes it, the date and time of day
    formatted once a second rather than on every request (a datetime built and formatted: ~1 us)."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def now(self) -> str:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second, self._prefix = second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self._prefix}.{int((now - second) * 1000):03d}+00:00"


_clock_text = _UtcClockText()


class _Timed:
    # Outside the dataclass's fields, so that orjson writes the record as it is without it (a perf_counter
    # reading means nothing in a log).
    __slots__ = ("started",)

    started: float  # time.perf_counter() when the request arrived


@dataclass(slots=True)
class RequestRecord(_Timed):
    request_id: str
    endpoint: str
    time: str = field(default_factory=_clock_text.now)
    key_id: str | None = None
    model_requested: str | None = None
    # The request's features: a routed HTTP request's Features itself (written as its fields, `needs` sorted),
    # else their dict.
    features: Features | dict[str, Any] | None = None
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
    cost_usd: float | None = None  # what `usage` costs at Azure's list prices (gateway/pricing/); None: not known
    # Realtime sessions only: responses, who closed the session and how, frames relayed each way.
    realtime: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.started = time.perf_counter()  # type: ignore[misc]  # mypy misses the slot _Timed declares

    def finish(self, status: int, error: str | None = None) -> None:
        self.status = status
        if error is not None:
            self.error = error
        self.latency_ms = round((time.perf_counter() - self.started) * 1000, 3)

    def as_json(self) -> bytes:
        # orjson writes a dataclass's fields itself, nested values included, in C: dataclasses.asdict would
        # deep-copy them first (~7% of a request's CPU), and a dict of its fields cost ~1%.
        return orjson.dumps(self, default=_sorted_if_set)


def _sorted_if_set(value: Any) -> Any:
    """orjson's fallback for what it cannot write itself: a set (Features.needs) as a sorted list."""
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"cannot write a {type(value).__name__} in a routing-log line")


class RoutingLog:
    def __init__(self, destination: str, recent_lines: int = RECENT_LINES) -> None:
        self._owns_stream = destination != "stdout"
        self._stream: IO[bytes] = sys.stdout.buffer if not self._owns_stream else open(destination, "ab")  # noqa: SIM115
        self.live = LiveLines(recent_lines)
        self.recent = RecentStats()

    def write(self, record: RequestRecord) -> None:
        line = record.as_json()
        self._stream.write(line + b"\n")
        # Flushed now, before the answer's last byte is sent (reply/relay.py): operators tail this live, and a
        # client that has its answer finds its line. (Lines written together at the end of an event-loop pass
        # saved ~3% of a request's CPU, but a client could then read the log before its line was there.)
        self._stream.flush()
        self.live.add(line)
        self.recent.add(record)

    def close(self) -> None:
        self.live.close()
        if self._owns_stream:
            self._stream.close()
