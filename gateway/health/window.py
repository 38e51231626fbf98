"""`RollingCounts`: how many requests finished, and how many failed, over the last few seconds.

Counts are kept in a fixed number of slices rather than one entry per request, so memory stays the
same at 10 or 10,000 requests a second. The price is resolution: an outcome counts for between
(1 - 1/slices) and all of the window.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

DEFAULT_SLICES = 20


@dataclass(slots=True)
class _Slice:
    index: int
    total: int = 0
    failed: int = 0


class RollingCounts:
    def __init__(self, window_seconds: float, slices: int = DEFAULT_SLICES) -> None:
        if window_seconds <= 0 or slices < 1:
            raise ValueError("window_seconds must be positive and slices at least 1")
        self._width = window_seconds / slices
        self._slices = slices
        self._recent: deque[_Slice] = deque()

    def add(self, now: float, failed: bool) -> None:
        index = self._index(now)
        self._forget_before(index)
        # `>=`: a wall clock stepped backwards lands in the newest slice rather than reordering them.
        if self._recent and self._recent[-1].index >= index:
            current = self._recent[-1]
        else:
            current = _Slice(index)
            self._recent.append(current)
        current.total += 1
        current.failed += failed

    def counts(self, now: float) -> tuple[int, int]:
        """(finished, failed) over the window ending at `now`."""
        self._forget_before(self._index(now))
        return sum(part.total for part in self._recent), sum(part.failed for part in self._recent)

    def clear(self) -> None:
        self._recent.clear()

    def _index(self, now: float) -> int:
        return math.floor(now / self._width)

    def _forget_before(self, index: int) -> None:
        oldest = index - self._slices + 1
        while self._recent and self._recent[0].index < oldest:
            self._recent.popleft()
