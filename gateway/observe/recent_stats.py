"""This process's requests over the last 15 minutes, in fixed 10-second buckets, for the operators' page
(GET /gateway/stats): requests, errors, tokens in and out, and latency percentiles.

Bounded and cheap on the request's path: the buckets are made once and reused as time moves on. A finished
request adds a few numbers into the bucket of the moment it finished; a bucket older than the window is
emptied when its slot comes round again, so nothing grows and nothing has to be swept.

Latencies are counted in a small fixed histogram per bucket, whose bins grow by 25% from 1 ms to 10 minutes.
A percentile is read as the geometric middle of the bin holding it, which is within 12% of the true latency
(nearest rank) between 1 ms and 10 minutes; below 1 ms it reads 1 ms, above 10 minutes 10 minutes.
Realtime sessions count as requests, but their latency (how long the session stayed open) is not a request's
latency and is left out of the percentiles.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the routing log holds this process's RecentStats
    from gateway.observe.routing_log import RequestRecord

BUCKET_SECONDS = 10.0
BUCKETS = 90  # 15 minutes

_FIRST_EDGE_MS = 1.0
_GROWTH = 1.25
_LAST_EDGE_MS = 600_000.0
# Bin 0 holds latencies under the first edge, bin k those in [edge k-1, edge k), the last bin the rest.
_EDGES_MS = tuple(
    _FIRST_EDGE_MS * _GROWTH**power for power in range(math.ceil(math.log(_LAST_EDGE_MS / _FIRST_EDGE_MS, _GROWTH)) + 1)
)
# The value a percentile falling in each bin is read as: the geometric middle of a bin, the edge for the two ends.
_BIN_VALUES_MS = (
    _EDGES_MS[0],
    *(math.sqrt(low * high) for low, high in pairwise(_EDGES_MS)),
    _EDGES_MS[-1],
)
PRECISION = math.sqrt(_GROWTH) - 1  # the most a percentile read between the ends may be off, relatively
# Azure's two namings of a usage's parts: chat's, then the Responses API's (and realtime's).
_USAGE_PARTS = (("prompt_tokens", "completion_tokens"), ("input_tokens", "output_tokens"))


class _Bucket:
    __slots__ = ("errors", "latencies", "number", "requests", "tokens_in", "tokens_out")

    def __init__(self) -> None:
        self.number = -1  # which BUCKET_SECONDS-long stretch of time (since the epoch) it counts
        self.requests = 0
        self.errors = 0
        self.tokens_in = 0
        self.tokens_out = 0
        self.latencies = [0] * len(_BIN_VALUES_MS)

    def reuse_for(self, number: int) -> None:
        self.number = number
        self.requests = self.errors = self.tokens_in = self.tokens_out = 0
        self.latencies[:] = _NO_LATENCIES


_NO_LATENCIES = (0,) * len(_BIN_VALUES_MS)


@dataclass(frozen=True, slots=True)
class Summary:
    """What a stretch of time saw. `seconds`: how much of it the process was counting (the current bucket is
    still going, and a new process has not seen all of the window); rates are over that."""

    start: float  # epoch seconds
    seconds: float
    requests: int
    errors: int
    tokens_in: int
    tokens_out: int
    p50_ms: float | None  # None when no request with a latency finished in it
    p95_ms: float | None


@dataclass(frozen=True, slots=True)
class Window:
    bucket_seconds: float
    window_seconds: float
    now: float
    total: Summary
    buckets: list[Summary]  # oldest first, from the bucket the process started in at most BUCKETS ago


class RecentStats:
    def __init__(
        self, clock: Callable[[], float] | None = None, bucket_seconds: float = BUCKET_SECONDS, buckets: int = BUCKETS
    ) -> None:
        """`clock`: epoch seconds (the page draws the buckets against the browser's own clock); by default the
        epoch at start-up moved on by the monotonic clock, so a wall-clock step back never empties a bucket."""
        self._clock = clock or _monotonic_epoch()
        self._width = bucket_seconds
        self._buckets = [_Bucket() for _ in range(buckets)]
        self._started = self._clock()

    def add(self, record: RequestRecord) -> None:
        """A finished request (its status set): called for every routing-log line, so it stays a few adds."""
        number = int(self._clock() // self._width)
        bucket = self._buckets[number % len(self._buckets)]
        if bucket.number != number:
            bucket.reuse_for(number)
        bucket.requests += 1
        if record.status is None or record.status >= 400:
            bucket.errors += 1
        if record.latency_ms is not None and record.realtime is None:
            bucket.latencies[bisect_right(_EDGES_MS, record.latency_ms)] += 1
        usage = record.usage
        if usage:
            for input_name, output_name in _USAGE_PARTS:
                tokens_in, tokens_out = usage.get(input_name), usage.get(output_name)
                if tokens_in is not None or tokens_out is not None:
                    bucket.tokens_in += tokens_in if type(tokens_in) is int else 0
                    bucket.tokens_out += tokens_out if type(tokens_out) is int else 0
                    break

    def window(self) -> Window:
        """The last BUCKETS buckets (the current one included) that the process was counting."""
        now = self._clock()
        current = int(now // self._width)
        first = max(current - len(self._buckets) + 1, int(self._started // self._width))
        summaries: list[Summary] = []
        all_latencies = [0] * len(_BIN_VALUES_MS)
        for number in range(first, current + 1):
            bucket = self._buckets[number % len(self._buckets)]
            start = number * self._width
            seconds = min(now, start + self._width) - max(start, self._started)
            if bucket.number != number:
                summaries.append(Summary(start, seconds, 0, 0, 0, 0, None, None))
                continue
            all_latencies = [total + count for total, count in zip(all_latencies, bucket.latencies, strict=True)]
            summaries.append(
                Summary(
                    start,
                    seconds,
                    bucket.requests,
                    bucket.errors,
                    bucket.tokens_in,
                    bucket.tokens_out,
                    percentile(bucket.latencies, 0.5),
                    percentile(bucket.latencies, 0.95),
                )
            )
        total = Summary(
            first * self._width,
            sum(summary.seconds for summary in summaries),
            sum(summary.requests for summary in summaries),
            sum(summary.errors for summary in summaries),
            sum(summary.tokens_in for summary in summaries),
            sum(summary.tokens_out for summary in summaries),
            percentile(all_latencies, 0.5),
            percentile(all_latencies, 0.95),
        )
        return Window(self._width, self._width * len(self._buckets), now, total, summaries)


def _monotonic_epoch() -> Callable[[], float]:
    epoch_at_zero = time.time() - time.monotonic()

    def now() -> float:
        return epoch_at_zero + time.monotonic()

    return now


def percentile(latencies: list[int], fraction: float) -> float | None:
    """The latency (ms) at `fraction` of the histogram's counts, by nearest rank; None for an empty one."""
    counted = sum(latencies)
    if not counted:
        return None
    rank = max(1, math.ceil(fraction * counted))
    seen = 0
    for value, count in zip(_BIN_VALUES_MS, latencies, strict=True):
        seen += count
        if seen >= rank:
            return round(value, 3)
    raise ValueError("a histogram of fewer bins than the latency bins")
