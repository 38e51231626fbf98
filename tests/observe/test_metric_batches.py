from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, Counter, Histogram

from gateway.observe.metric_batches import Batches, FoldBeforeCollect, PendingCounter, PendingHistogram

BUCKETS = (0.01, 0.1, 1.0, 10.0)
VALUES = (0.0, 0.01, 0.011, 0.5, 1.0, 3.0, 10.0, 12.5, 1e9)


def _registry_with(batches: Batches) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(FoldBeforeCollect(batches))  # before the metrics, as metrics.py registers it
    return registry


def _samples(registry: CollectorRegistry, name: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in registry.collect()
        if family.name == name
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def test_a_folded_histogram_reads_as_if_each_value_had_been_observed() -> None:
    batches = Batches()
    batched_registry, observed_registry = _registry_with(batches), CollectorRegistry()
    batched = PendingHistogram(
        Histogram("latency", "", ("route",), buckets=BUCKETS, registry=batched_registry), BUCKETS, batches
    )
    observed = Histogram("latency", "", ("route",), buckets=BUCKETS, registry=observed_registry)
    for value in VALUES:
        batched.add(("a",), value)
        observed.labels("a").observe(value)
    batched.add(("b",), 0.2)
    observed.labels("b").observe(0.2)
    assert _samples(batched_registry, "latency") == _samples(observed_registry, "latency")
    # Folded once: reading again adds nothing twice.
    assert _samples(batched_registry, "latency") == _samples(observed_registry, "latency")


def test_counter_increments_are_summed_per_label_values_until_the_registry_is_read() -> None:
    batches = Batches()
    registry = _registry_with(batches)
    counter = PendingCounter(Counter("requests", "", ("status",), registry=registry), batches)
    for status in ("200", "200", "429", "200"):
        counter.add((status,))
    counter.add(("200",), 2.0)
    assert registry.get_sample_value("requests_total", {"status": "200"}) == 5.0
    assert registry.get_sample_value("requests_total", {"status": "429"}) == 1.0
    counter.add(("429",))
    assert registry.get_sample_value("requests_total", {"status": "429"}) == 2.0


async def test_scheduled_folds_write_the_updates_without_a_reader() -> None:
    batches = Batches(fold_within_seconds=0.0)
    counter = Counter("requests", "", ("status",), registry=CollectorRegistry())
    pending = PendingCounter(counter, batches)
    pending.add(("200",))
    assert counter.labels("200")._value.get() == 0.0  # nobody asked yet
    batches.schedule_folds()
    pending.add(("200",))
    await asyncio.sleep(0)  # the loop's next turn runs the fold the update scheduled
    await asyncio.sleep(0)
    assert counter.labels("200")._value.get() == 2.0


def test_scheduled_folds_without_a_running_loop_happen_at_once() -> None:
    batches = Batches()
    batches.schedule_folds()
    counter = Counter("requests", "", ("status",), registry=CollectorRegistry())
    PendingCounter(counter, batches).add(("200",))
    assert counter.labels("200")._value.get() == 1.0
