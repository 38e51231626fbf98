"""Percentiles over plain lists of samples (nearest-rank, the definition wrk uses too)."""

from __future__ import annotations

import math


def percentile(samples: list[float], pct: float) -> float:
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]
