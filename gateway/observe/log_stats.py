"""`gateway logs --stats`: per model and deployment, the requests, errors, 429s, p50/p95 latency, tokens
in/out, fallbacks and cost over the lines read; then per client key, the requests, tokens and cost.

A cost is the sum of the lines' `cost_usd` (Azure's list prices for the usage Azure reported); a group none of
whose lines has one shows it blank, as not known rather than free.

Only aggregates are kept, never the lines: a group's latencies go into a histogram of logarithmic buckets,
each 2% wider than the one below it, so a percentile is known to within 1% of its value (the bucket's
geometric middle is at most that far from anything in the bucket), in at most ~1,200 counters per group
(from a microsecond to three hours) however many lines are read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rich.console import Group
from rich.table import Table

from gateway.observe.log_entry import LogEntry
from gateway.observe.log_render import BLANK, latency

BUCKET_GROWTH = 1.02
SMALLEST_MS = 0.001  # anything faster counts as this: a microsecond is below what the log's clock says
_LOG_GROWTH = math.log(BUCKET_GROWTH)


@dataclass(slots=True)
class LatencyHistogram:
    counts: dict[int, int] = field(default_factory=dict)  # bucket index -> latencies in it
    total: int = 0

    def add(self, milliseconds: float) -> None:
        bucket = math.floor(math.log(max(milliseconds, SMALLEST_MS) / SMALLEST_MS) / _LOG_GROWTH)
        self.counts[bucket] = self.counts.get(bucket, 0) + 1
        self.total += 1

    def percentile(self, fraction: float) -> float | None:
        """The latency `fraction` of the requests took at most (nearest rank), to within 1%."""
        if self.total == 0:
            return None
        rank = max(1, math.ceil(fraction * self.total))
        seen = 0
        for bucket in sorted(self.counts):
            seen += self.counts[bucket]
            if seen >= rank:
                return float(SMALLEST_MS * BUCKET_GROWTH ** (bucket + 0.5))
        raise AssertionError("the counts add up to the total")  # pragma: no cover


@dataclass(slots=True)
class GroupStats:
    requests: int = 0
    errors: int = 0  # answered with a status of 400 or more
    throttled: int = 0  # answered 429
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = None  # None: no line of the group had a cost
    fallbacks: int = 0  # requests that went on to another model
    latencies: LatencyHistogram = field(default_factory=LatencyHistogram)

    def add(self, entry: LogEntry) -> None:
        self.requests += 1
        if entry.status is not None and entry.status >= 400:
            self.errors += 1
        if entry.status == 429:
            self.throttled += 1
        self.tokens_in += entry.tokens_in or 0
        self.tokens_out += entry.tokens_out or 0
        if entry.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + entry.cost_usd
        if entry.fell_back:
            self.fallbacks += 1
        if entry.latency_ms is not None:
            self.latencies.add(entry.latency_ms)


@dataclass(slots=True)
class LogStats:
    groups: dict[tuple[str, str], GroupStats] = field(default_factory=dict)  # (model, deployment) -> stats
    keys: dict[str, GroupStats] = field(default_factory=dict)  # client key id -> stats
    total: GroupStats = field(default_factory=GroupStats)

    def add(self, entry: LogEntry) -> None:
        # A request refused before routing (a bad key, an unknown model) has no model: it is a group too.
        key = (entry.model or BLANK, entry.deployment or BLANK)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = GroupStats()
        group.add(entry)
        key_group = self.keys.get(entry.key_id or BLANK)
        if key_group is None:
            key_group = self.keys[entry.key_id or BLANK] = GroupStats()
        key_group.add(entry)
        self.total.add(entry)

    def tables(self) -> Group:
        """What --stats shows: the table per model and deployment, then the one per client key."""
        return Group(self.table(), self.key_table())

    def table(self) -> Table:
        table = Table(title="Requests by model and deployment (p50/p95 within 1%)")
        table.add_column("model")
        table.add_column("deployment")
        headings = ("requests", "errors", "429s", "p50", "p95", "tokens in", "tokens out", "fallbacks", "cost USD")
        for heading in headings:
            table.add_column(heading, justify="right")
        for (model, deployment), group in sorted(self.groups.items()):
            table.add_row(model, deployment, *_cells(group))
        table.add_section()
        table.add_row("all", "", *_cells(self.total), style="bold")
        return table

    def key_table(self) -> Table:
        table = Table(title="Requests by client key")
        table.add_column("key")
        for heading in ("requests", "tokens in", "tokens out", "cost USD"):
            table.add_column(heading, justify="right")
        for key, group in sorted(self.keys.items()):
            table.add_row(key, *_key_cells(group))
        table.add_section()
        table.add_row("all", *_key_cells(self.total), style="bold")
        return table


def _cells(group: GroupStats) -> list[str]:
    return [
        str(group.requests),
        str(group.errors),
        str(group.throttled),
        latency(group.latencies.percentile(0.50)),
        latency(group.latencies.percentile(0.95)),
        str(group.tokens_in),
        str(group.tokens_out),
        str(group.fallbacks),
        usd(group.cost_usd),
    ]


def _key_cells(group: GroupStats) -> list[str]:
    return [str(group.requests), str(group.tokens_in), str(group.tokens_out), usd(group.cost_usd)]


def usd(amount: float | None) -> str:
    # Six decimals: one request on a small model costs millionths of a dollar.
    return BLANK if amount is None else f"{amount:.6f}"
