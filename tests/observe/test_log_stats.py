from __future__ import annotations

import io
import math
import random

import pytest
from rich.console import Console

from gateway.observe.log_entry import parse_entry
from gateway.observe.log_stats import BUCKET_GROWTH, LatencyHistogram, LogStats
from tests.observe.log_samples import (
    BAD_KEY,
    CODING,
    FAILED_EVERYWHERE,
    RESPONSES,
    THROTTLED_THEN_FELL_BACK,
    UNKNOWN_MODEL,
    line,
)

PRECISION = math.sqrt(BUCKET_GROWTH) - 1  # the half-bucket the docstring promises: under 1%


def test_percentiles_are_within_one_percent_of_the_nearest_rank() -> None:
    latencies = [random.Random(7).lognormvariate(3, 1.5) for _ in range(20_000)]
    histogram = LatencyHistogram()
    for value in latencies:
        histogram.add(value)
    ordered = sorted(latencies)
    assert PRECISION < 0.01
    for fraction in (0.5, 0.95, 0.99, 1.0):
        exact = ordered[math.ceil(fraction * len(ordered)) - 1]
        estimate = histogram.percentile(fraction)
        assert estimate is not None and abs(estimate - exact) <= exact * PRECISION


def test_the_histogram_keeps_counters_not_latencies() -> None:
    histogram = LatencyHistogram()
    for step in range(100_000):
        histogram.add(1 + step % 1000)  # 1 ms .. 1 s
    assert histogram.total == 100_000
    assert len(histogram.counts) < math.log(1000) / math.log(BUCKET_GROWTH) + 2


def test_tiny_and_zero_latencies_are_counted_and_no_latency_is_no_percentile() -> None:
    histogram = LatencyHistogram()
    assert histogram.percentile(0.5) is None
    histogram.add(0.0)
    histogram.add(0.0001)
    assert histogram.total == 2
    assert histogram.percentile(1.0) == pytest.approx(0.001, rel=0.01)


def stats_of(*lines: bytes) -> LogStats:
    stats = LogStats()
    for raw in lines:
        entry = parse_entry(raw)
        assert entry is not None
        stats.add(entry)
    return stats


def test_requests_are_counted_per_model_and_deployment_with_a_total() -> None:
    stats = stats_of(
        line(CODING),
        line(CODING, status=429, error="429", usage=None),
        line(THROTTLED_THEN_FELL_BACK),
        line(FAILED_EVERYWHERE),
        line(BAD_KEY),
        line(UNKNOWN_MODEL),
        line(RESPONSES),
    )
    gpt_41 = stats.groups[("gpt-4.1", "azure/gpt-4.1")]
    assert (gpt_41.requests, gpt_41.errors, gpt_41.throttled, gpt_41.fallbacks) == (3, 1, 1, 0)
    assert (gpt_41.tokens_in, gpt_41.tokens_out) == (11 + 21 + 1, 20 + 20)  # the 429 counts the prompt (21)
    assert stats.groups[("gpt-4.1-mini", "azure/gpt-4.1-mini")].fallbacks == 1
    refused = stats.groups[("-", "-")]
    assert (refused.requests, refused.errors) == (2, 2)
    total = stats.total
    assert (total.requests, total.errors, total.throttled, total.fallbacks) == (7, 4, 1, 2)


def test_the_table_has_a_row_per_group_and_a_total_row() -> None:
    stats = stats_of(line(CODING), line(CODING, latency_ms=3.0), line(FAILED_EVERYWHERE))
    console = Console(record=True, width=200, file=io.StringIO())
    console.print(stats.table())
    shown = console.export_text()
    rows = [row.split("│")[1:-1] for row in shown.splitlines() if row.startswith("│")]
    assert [[cell.strip() for cell in row] for row in rows] == [
        ["gpt-4.1", "azure/gpt-4.1", "2", "0", "0", "1.7 ms", "3.0 ms", "22", "40", "0", "-"],
        ["gpt-4.1-mini", "sim/gpt-4.1-mini", "1", "1", "0", "13.0 ms", "13.0 ms", "8", "0", "1", "-"],
        ["all", "", "3", "1", "0", "3.0 ms", "13.0 ms", "30", "40", "1", "-"],
    ]
    assert "p50/p95 within 1%" in shown


def test_cost_is_summed_per_model_and_deployment_and_per_key() -> None:
    stats = stats_of(
        line(CODING, cost_usd=0.000125),
        line(CODING, cost_usd=0.5, key_id="key-other"),
        line(CODING, cost_usd=None),  # not known: counted as a request, adds no cost
        line(FAILED_EVERYWHERE),
        line(BAD_KEY),
    )
    assert stats.groups[("gpt-4.1", "azure/gpt-4.1")].cost_usd == 0.500125
    assert stats.groups[("gpt-4.1-mini", "sim/gpt-4.1-mini")].cost_usd is None  # no line had a cost: unknown
    assert stats.keys["key-4e5a8f4373f5"].cost_usd == 0.000125 and stats.keys["key-4e5a8f4373f5"].requests == 3
    assert stats.keys["key-other"].cost_usd == 0.5 and stats.keys["-"].requests == 1
    assert stats.total.cost_usd == 0.500125
    console = Console(record=True, width=200, file=io.StringIO())
    console.print(stats.tables())
    by_model, by_key = console.export_text().split("Requests by client key")
    model_rows = [[cell.strip() for cell in row.split("│")[1:-1]] for row in by_model.splitlines() if "│" in row]
    key_rows = [[cell.strip() for cell in row.split("│")[1:-1]] for row in by_key.splitlines() if "│" in row]
    assert [row[-1] for row in model_rows] == ["-", "0.500125", "-", "0.500125"]  # refused, 4.1, 4.1-mini, all
    assert key_rows == [
        ["-", "1", "0", "0", "-"],
        ["key-4e5a8f4373f5", "3", "30", "40", "0.000125"],  # two coding lines, the failed one
        ["key-other", "1", "11", "20", "0.500000"],
        ["all", "5", "41", "60", "0.500125"],
    ]
