"""The proxy overhead suite's two tables: every target's own figures, and the gateway's as ratios to the floor."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.bench.proxy_overhead import Measured


@dataclass(frozen=True)
class Row:
    """One figure of the gateway beside the floor's, measured in the same run."""

    key: str
    label: str
    gateway: float
    floor: float
    unit: str  # "req/s", "ms" or "chunks/s"
    target: str = ""  # what a check asks of this row, if one does

    @property
    def ratio(self) -> float:
        return self.gateway / self.floor if self.floor else math.nan

    @property
    def difference(self) -> float:
        return self.gateway - self.floor

    def as_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {"gateway": round(self.gateway, 3), "floor": round(self.floor, 3), "unit": self.unit}
        row["ratio"] = round(self.ratio, 4)
        if self.unit == "ms":
            row["added_ms"] = round(self.difference, 3)
        return row


def print_target_table(measured: Mapping[str, Measured], floor: str) -> None:
    base = measured[floor].loaded.rps
    print()
    print(f"  {'':<11}{'32 connections':^33}|{'1 connection':^18}|{'short stream':^18}|{'long stream':^10}|")
    print(
        f"  {'target':<11}{'req/s':>8}{'vs floor':>9}{'p50 ms':>8}{'p99 ms':>8}|{'p50 ms':>9}{'p99 ms':>9}|"
        f"{'TTFC p50':>9}{'p99':>9}|{'chunks/s':>10}| errors"
    )
    for name, m in measured.items():
        ratio = m.loaded.rps / base if base else math.nan
        print(
            f"  {name:<11}{m.loaded.rps:>8.0f}{ratio:>9.2f}{m.loaded.p50_ms:>8.2f}{m.loaded.p99_ms:>8.2f}|"
            f"{m.single.p50_ms:>9.3f}{m.single.p99_ms:>9.3f}|{m.first_chunk.p50_ms:>9.3f}{m.first_chunk.p99_ms:>9.3f}|"
            f"{m.long_stream.chunks_per_s_p50:>10.0f}| {m.errors}"
        )
    print()


def print_ratio_table(rows: Sequence[Row]) -> None:
    print(
        f"  {'the gateway against the floor, same run':<40}"
        f"{'gateway':>10}{'floor':>10}{'ratio':>7}{'added':>10}  target"
    )
    for row in rows:
        added = f"{row.difference:+.3f}" if row.unit == "ms" else ""
        number = "{:>10.3f}" if row.unit == "ms" else "{:>10.0f}"
        print(
            f"  {row.label:<40}{number.format(row.gateway)}{number.format(row.floor)}{row.ratio:>7.2f}{added:>10}"
            f"  {row.target}"
        )
    print()
