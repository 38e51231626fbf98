"""A request's metric updates kept as plain sums until the metrics are read, then added in one go.

prometheus-client takes a lock and runs Python for every increment, and a histogram observation walks its
buckets: for the ~8 updates of one request, ~5% of the gateway's CPU. Here an update is a dict lookup and an
addition into the pending sums of its label values (a histogram's bucket found by bisection); `fold()` adds
what is pending to the real metrics, one increment per label values and bucket. `FoldBeforeCollect`,
registered before the metrics, folds whenever a registry is read, so every reader (the /metrics endpoint,
`get_sample_value`) sees every update. A worker process that shares its values through files (multiprocess
mode) is read by another process, so there `schedule_folds` also folds within a second of any update.

Histograms are filled through their children's `_sum` and `_buckets` (the values `observe` itself adds
to), which prometheus-client keeps private; tests/observe/test_metric_batches.py checks them against
`observe` for the locked version.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import Counter, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

_FOLD_WITHIN_SECONDS = 1.0


class PendingCounter:
    """A labelled counter's increments, summed per label values until folded."""

    def __init__(self, metric: Counter, batches: Batches) -> None:
        self._labels: Callable[..., Any] = metric.labels
        self._children: dict[tuple[str, ...], Any] = {}
        self._pending: dict[tuple[str, ...], float] = {}
        self._batches = batches
        batches.track(self)

    def add(self, values: tuple[str, ...], amount: float = 1.0) -> None:
        pending = self._pending
        pending[values] = pending.get(values, 0.0) + amount
        self._batches.updated()

    def fold(self) -> None:
        pending, self._pending = self._pending, {}
        for values, amount in pending.items():
            self._child(values).inc(amount)

    def _child(self, values: tuple[str, ...]) -> Any:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._labels(*values)
        return child


class PendingHistogram:
    """A labelled histogram's observations, as per-bucket counts and a sum per label values until folded."""

    def __init__(self, metric: Histogram, buckets: Iterable[float], batches: Batches) -> None:
        self._labels: Callable[..., Any] = metric.labels
        # As Histogram keeps them: each finite bound, then +Inf; an observation counts in the first bucket whose
        # bound is at least its value.
        self._bounds = (*sorted(float(bound) for bound in buckets), float("inf"))
        self._children: dict[tuple[str, ...], Any] = {}
        self._pending: dict[tuple[str, ...], tuple[list[float], list[int]]] = {}
        self._batches = batches
        batches.track(self)

    def add(self, values: tuple[str, ...], amount: float) -> None:
        entry = self._pending.get(values)
        if entry is None:
            entry = self._pending[values] = ([0.0], [0] * len(self._bounds))
        entry[0][0] += amount
        entry[1][bisect_left(self._bounds, amount)] += 1
        self._batches.updated()

    def fold(self) -> None:
        pending, self._pending = self._pending, {}
        for values, (total, counts) in pending.items():
            child = self._children.get(values)
            if child is None:
                child = self._children[values] = self._labels(*values)
            child._sum.inc(total[0])
            for bucket, count in zip(child._buckets, counts, strict=True):
                if count:
                    bucket.inc(count)


class Batches:
    """Every pending metric of the process, folded together."""

    def __init__(self, fold_within_seconds: float = _FOLD_WITHIN_SECONDS) -> None:
        self._pending: list[PendingCounter | PendingHistogram] = []
        self._fold_within_seconds = fold_within_seconds
        self._fold_soon = False  # multiprocess mode: fold within a second of an update
        self._fold_scheduled = False

    def track(self, pending: PendingCounter | PendingHistogram) -> None:
        self._pending.append(pending)

    def fold(self) -> None:
        self._fold_scheduled = False
        for pending in self._pending:
            pending.fold()

    def schedule_folds(self) -> None:
        """Readers are other processes: fold within a second of each update, without being asked."""
        self._fold_soon = True

    def updated(self) -> None:
        if self._fold_soon and not self._fold_scheduled:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.fold()  # no loop to fold later on (a script, a thread): at once
                return
            self._fold_scheduled = True
            loop.call_later(self._fold_within_seconds, self.fold)


class FoldBeforeCollect(Collector):
    """Registered before the metrics it folds into, so a registry reads them once they hold every update."""

    def __init__(self, batches: Batches) -> None:
        self._batches = batches

    def collect(self) -> Iterable[Metric]:
        self._batches.fold()
        return ()
