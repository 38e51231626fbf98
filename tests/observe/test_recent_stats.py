"""The last 15 minutes in 10-second buckets, driven by an injected clock: nothing here waits for time to pass."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest

from gateway.observe.recent_stats import BUCKET_SECONDS, BUCKETS, PRECISION, RecentStats, percentile
from gateway.observe.routing_log import RequestRecord

START = 1_700_000_000.0  # a bucket's start: 10-second buckets since the epoch


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def finished(
    status: int = 200,
    latency_ms: float | None = 100.0,
    usage: dict[str, Any] | None = None,
    realtime: dict[str, Any] | None = None,
) -> RequestRecord:
    record = RequestRecord("id", "chat/completions", usage=usage, realtime=realtime)
    record.status, record.latency_ms = status, latency_ms
    return record


def test_a_request_counts_in_the_bucket_of_the_moment_it_finished() -> None:
    clock = Clock(START + 3)
    stats = RecentStats(clock)
    stats.add(finished(200, 120.0, {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}))
    stats.add(finished(502, 40.0))
    clock.now = START + 5
    window = stats.window()
    assert [bucket.start for bucket in window.buckets] == [START]
    (bucket,) = window.buckets
    assert (bucket.requests, bucket.errors, bucket.tokens_in, bucket.tokens_out) == (2, 1, 11, 7)
    assert bucket.seconds == 2  # counted from START + 3, when the process started, to now
    assert window.total.requests == 2 and window.total.tokens_in == 11
    assert (window.now, window.bucket_seconds, window.window_seconds) == (START + 5, 10, 900)


@pytest.mark.parametrize(
    ("usage", "tokens"),
    [
        ({"prompt_tokens": 5, "completion_tokens": 2}, (5, 2)),  # chat
        ({"input_tokens": 9, "output_tokens": 4, "total_tokens": 13}, (9, 4)),  # Responses API, realtime
        ({"prompt_tokens": 8, "total_tokens": 8}, (8, 0)),  # embeddings
        ({"prompt_tokens": "8", "completion_tokens": True}, (0, 0)),  # not counts
        ({"total_tokens": 3}, (0, 0)),
        (None, (0, 0)),
    ],
)
def test_tokens_in_and_out_are_azures_usage(usage: dict[str, Any] | None, tokens: tuple[int, int]) -> None:
    stats = RecentStats(Clock())
    stats.add(finished(usage=usage))
    assert (stats.window().total.tokens_in, stats.window().total.tokens_out) == tokens


@pytest.mark.parametrize(("status", "error"), [(200, False), (304, False), (400, True), (429, True), (500, True)])
def test_errors_are_statuses_from_400(status: int, error: bool) -> None:
    stats = RecentStats(Clock())
    stats.add(finished(status))
    assert stats.window().total.errors == int(error)


def test_buckets_roll_every_ten_seconds_oldest_first() -> None:
    clock = Clock()
    stats = RecentStats(clock)
    for second in range(0, 35, 5):  # two requests in each of the buckets at 0, 10, 20; one at 30
        clock.now = START + second
        stats.add(finished())
    clock.now = START + 34
    window = stats.window()
    assert [bucket.start - START for bucket in window.buckets] == [0, 10, 20, 30]
    assert [bucket.requests for bucket in window.buckets] == [2, 2, 2, 1]
    assert [bucket.seconds for bucket in window.buckets] == [10, 10, 10, 4]  # the current one is still going
    assert window.total.requests == 7 and window.total.seconds == 34


def test_a_quiet_bucket_is_there_with_nothing_in_it() -> None:
    clock = Clock()
    stats = RecentStats(clock)
    stats.add(finished())
    clock.now = START + 25
    stats.add(finished())
    window = stats.window()
    assert [(bucket.requests, bucket.p50_ms is None) for bucket in window.buckets] == [
        (1, False),
        (0, True),
        (1, False),
    ]


def test_buckets_older_than_fifteen_minutes_are_gone() -> None:
    clock = Clock()
    stats = RecentStats(clock)
    stats.add(finished(500, usage={"prompt_tokens": 1000, "completion_tokens": 1000}))
    clock.now = START + BUCKET_SECONDS * BUCKETS - 1  # still in the window: the last of its 90 buckets
    assert stats.window().total.requests == 1
    clock.now = START + BUCKET_SECONDS * BUCKETS  # the first bucket's slot comes round again
    window = stats.window()
    assert len(window.buckets) == BUCKETS and window.buckets[0].start == START + BUCKET_SECONDS
    assert (window.total.requests, window.total.errors, window.total.tokens_in) == (0, 0, 0)
    stats.add(finished(200, 5.0))  # into the reused slot: what it held before is not added to it
    window = stats.window()
    assert (window.buckets[-1].requests, window.buckets[-1].errors, window.buckets[-1].tokens_in) == (1, 0, 0)
    assert window.total.p95_ms == pytest.approx(5.0, rel=PRECISION)


def test_the_window_never_holds_more_than_its_buckets() -> None:
    clock = Clock()
    stats = RecentStats(clock)
    seconds = range(0, 3 * 3600, 7)  # three hours of requests
    for second in seconds:
        clock.now = START + second
        stats.add(finished(latency_ms=float(second % 900 + 1)))
    window = stats.window()
    assert len(window.buckets) == BUCKETS
    assert window.total.seconds == BUCKET_SECONDS * (BUCKETS - 1) + seconds[-1] % 10
    first_kept = seconds[-1] // 10 - (BUCKETS - 1)
    assert window.total.requests == sum(1 for second in seconds if second // 10 >= first_kept)


def test_a_long_quiet_spell_leaves_nothing_behind() -> None:
    clock = Clock()
    stats = RecentStats(clock)
    stats.add(finished())
    clock.now = START + 3 * 3600
    window = stats.window()
    assert window.total.requests == 0 and window.total.p50_ms is None
    assert all(bucket.requests == 0 for bucket in window.buckets)


@pytest.mark.parametrize("latency_ms", [1.0, 1.7, 9.99, 42.0, 100.0, 333.3, 1234.5, 20_000.0, 599_000.0])
def test_a_percentile_is_within_the_stated_precision(latency_ms: float) -> None:
    stats = RecentStats(Clock())
    stats.add(finished(latency_ms=latency_ms))
    total = stats.window().total
    assert PRECISION < 0.12
    for read in (total.p50_ms, total.p95_ms):
        assert read is not None and abs(read - latency_ms) <= PRECISION * latency_ms


def test_p50_and_p95_of_many_latencies_by_nearest_rank() -> None:
    latencies = [float(1 + (index * 7919) % 5000) for index in range(1000)]  # 1..5000 ms, shuffled
    stats = RecentStats(Clock())
    for latency in latencies:
        stats.add(finished(latency_ms=latency))
    ranked = sorted(latencies)
    total = stats.window().total
    for fraction, read in ((0.5, total.p50_ms), (0.95, total.p95_ms)):
        exact = ranked[math.ceil(fraction * len(ranked)) - 1]
        assert read is not None and abs(read - exact) <= PRECISION * exact


def test_latencies_past_the_ends_read_as_the_ends() -> None:
    stats = RecentStats(Clock())
    stats.add(finished(latency_ms=0.2))
    assert stats.window().total.p50_ms == 1.0
    stats = RecentStats(Clock())
    stats.add(finished(latency_ms=3_600_000.0))
    assert (stats.window().total.p50_ms or 0) >= 600_000


def test_realtime_sessions_count_but_their_length_is_no_latency() -> None:
    stats = RecentStats(Clock())
    stats.add(finished(latency_ms=300_000.0, realtime={"responses": 3}, usage={"input_tokens": 4, "output_tokens": 6}))
    total = stats.window().total
    assert (total.requests, total.tokens_in, total.tokens_out, total.p50_ms) == (1, 4, 6, None)


def test_a_request_without_a_latency_counts_without_one() -> None:
    stats = RecentStats(Clock())
    stats.add(finished(latency_ms=None))
    total = stats.window().total
    assert total.requests == 1 and total.p50_ms is None


def test_percentile_of_a_histogram() -> None:
    assert percentile([0, 0, 0], 0.5) is None
    assert percentile([1, 0, 3], 0.25) == 1.0  # the first bin reads as the first edge (1 ms)
    assert percentile([1, 0, 3], 0.5) == pytest.approx(math.sqrt(1.25 * 1.5625), abs=0.001)  # [1.25, 1.5625) ms


def test_by_default_buckets_are_on_the_epoch_as_the_browser_reads_it() -> None:
    before = time.time()
    now = RecentStats().window().now
    after = time.time()
    assert before - 1 <= now <= after + 1  # the monotonic clock moves it on; the epoch anchors it
