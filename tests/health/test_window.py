from __future__ import annotations

import pytest

from gateway.health.window import RollingCounts


def test_counts_outcomes_within_the_window() -> None:
    counts = RollingCounts(window_seconds=10, slices=10)
    counts.add(100.0, failed=True)
    counts.add(100.5, failed=False)
    counts.add(104.0, failed=True)
    assert counts.counts(105.0) == (3, 2)
    assert counts.counts(109.9) == (3, 2)
    assert counts.counts(110.0) == (1, 1)  # the slice from 100 s has left the window
    assert counts.counts(113.9) == (1, 1)
    assert counts.counts(114.0) == (0, 0)


def test_memory_is_bounded_by_slices() -> None:
    counts = RollingCounts(window_seconds=10, slices=5)
    for step in range(10_000):
        counts.add(100.0 + step / 100, failed=step % 2 == 0)
    assert len(counts._recent) <= 5
    assert counts.counts(199.99) == (1000, 500)  # the last 10 s: 190.00 to 199.99


def test_a_clock_stepped_back_counts_in_the_newest_slice() -> None:
    counts = RollingCounts(window_seconds=10, slices=10)
    counts.add(100.0, failed=False)
    counts.add(95.0, failed=True)
    assert counts.counts(100.0) == (2, 1)


def test_clear() -> None:
    counts = RollingCounts(window_seconds=10)
    counts.add(100.0, failed=True)
    counts.clear()
    assert counts.counts(100.0) == (0, 0)


def test_rejects_an_empty_window() -> None:
    with pytest.raises(ValueError, match="positive"):
        RollingCounts(window_seconds=0)
