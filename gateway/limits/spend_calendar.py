"""The calendar periods spend caps count in: the day and the month now, in the configured time zone.

A period is named by its date there ("2025-03-30", "2025-03") and ends at the zone's next midnight (for the
month, the midnight that starts the next month's first day). A day is not always 24 hours: on a daylight-saving
change it is 23 or 25, so ends are worked out as local midnights turned into instants, never by adding 86,400 s.

The clock is wall time (seconds since the epoch): replicas name the day by their own clocks, so near midnight two
replicas whose clocks differ by a few milliseconds may count one request in different days for those milliseconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAILY, MONTHLY = "daily", "monthly"


@dataclass(frozen=True, slots=True)
class SpendPeriod:
    kind: str  # DAILY or MONTHLY
    name: str  # its date in the zone: "2025-03-30" or "2025-03"
    ends_at: float  # when the next period starts, in seconds since the epoch


def time_zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or a ValueError that says what is wrong (the config loader shows it)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as 'UTC' or 'Europe/Paris'") from None


class SpendCalendar:
    """The day and month now in one zone, worked out again only once the day is over."""

    def __init__(self, zone: ZoneInfo, clock: Callable[[], float] = time.time) -> None:
        self.zone = zone
        self._clock = clock
        self._day = self._month = SpendPeriod(DAILY, "", 0.0)  # ended: the first call works them out
        self._day_starts = 0.0

    def now(self) -> float:
        return self._clock()

    def periods(self, now: float) -> tuple[SpendPeriod, SpendPeriod]:
        """The day and the month that hold `now`. A month ends at a day's end, so both hold until the day's."""
        if not self._day_starts <= now < self._day.ends_at:
            today = datetime.fromtimestamp(now, self.zone).date()
            next_month = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
            self._day_starts = self._midnight(today)
            self._day = SpendPeriod(DAILY, today.isoformat(), self._midnight(today + timedelta(days=1)))
            self._month = SpendPeriod(MONTHLY, today.strftime("%Y-%m"), self._midnight(next_month))
        return self._day, self._month

    def _midnight(self, day: date) -> float:
        # Where a DST change skips midnight itself (America/Santiago), fold 0 reads it with the offset before the
        # change: the instant the day begins.
        return datetime(day.year, day.month, day.day, tzinfo=self.zone).timestamp()
