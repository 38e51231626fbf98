"""What replicas tell each other of a deployment's health (shared.py writes and reads it through Redis).

Its own module so that the board can read records without importing Redis's client: a gateway without Redis
never loads it (~6 MiB of every worker's memory).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SharedRecord:
    """One deployment's shared state; a field is None when no live record says it."""

    open_until: float | None = None
    closed_at: float | None = None
    cooling_until: float | None = None
