"""The day and month a spend is counted in, and when each resets, in the configured zone: month ends, the
year's end, and the days a daylight-saving change makes 23 or 25 hours long."""

from __future__ import annotations

from datetime import datetime

import pytest

from gateway.limits.spend_calendar import DAILY, MONTHLY, SpendCalendar, time_zone
from tests.limits.conftest import SimulatedClock

PARIS = time_zone("Europe/Paris")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, zone: str = "Europe/Paris") -> float:
    return datetime(year, month, day, hour, minute, tzinfo=time_zone(zone)).timestamp()


def test_periods_are_named_by_their_local_date_and_end_at_the_next_local_midnight() -> None:
    # 23:30 in Paris on 14 May is 21:30 UTC: still the 14th there, whatever UTC's date.
    now = at(2025, 5, 14, 23, 30)
    day, month = SpendCalendar(PARIS).periods(now)
    assert (day.kind, day.name, day.ends_at) == (DAILY, "2025-05-14", at(2025, 5, 15))
    assert (month.kind, month.name, month.ends_at) == (MONTHLY, "2025-05", at(2025, 6, 1))
    assert day.ends_at - now == 30 * 60


@pytest.mark.parametrize(
    ("now", "day_name", "month_name", "next_month"),
    [
        ((2025, 1, 31, 23, 59), "2025-01-31", "2025-01", (2025, 2, 1)),
        ((2024, 2, 29, 12, 0), "2024-02-29", "2024-02", (2024, 3, 1)),  # a leap year's February
        ((2025, 12, 31, 23, 0), "2025-12-31", "2025-12", (2026, 1, 1)),  # the year's end
    ],
)
def test_a_months_last_day_ends_the_month_at_its_midnight(
    now: tuple[int, ...], day_name: str, month_name: str, next_month: tuple[int, int, int]
) -> None:
    day, month = SpendCalendar(PARIS).periods(at(*now))
    assert (day.name, month.name) == (day_name, month_name)
    assert day.ends_at == month.ends_at == at(*next_month)


def test_the_spring_dst_day_is_23_hours_and_the_autumn_one_25() -> None:
    calendar = SpendCalendar(PARIS)
    spring, _ = calendar.periods(at(2025, 3, 30, 0, 0))
    assert spring.name == "2025-03-30" and spring.ends_at - at(2025, 3, 30) == 23 * 3600
    autumn, _ = calendar.periods(at(2025, 10, 26, 12, 0))
    assert autumn.name == "2025-10-26" and autumn.ends_at - at(2025, 10, 26) == 25 * 3600


def test_a_zone_whose_dst_change_skips_midnight_starts_the_day_when_the_clocks_jump() -> None:
    # Santiago moved its clocks from 00:00 to 01:00 on 8 September 2024: that day began at 04:00 UTC.
    day, _ = SpendCalendar(time_zone("America/Santiago")).periods(at(2024, 9, 7, 12, zone="America/Santiago"))
    assert day.name == "2024-09-07"
    assert day.ends_at == datetime.fromisoformat("2024-09-08T04:00:00+00:00").timestamp()


def test_the_periods_move_on_when_the_clock_passes_midnight_and_not_before() -> None:
    clock = SimulatedClock(at(2025, 3, 31, 23, 59))
    calendar = SpendCalendar(PARIS, clock)
    day, month = calendar.periods(calendar.now())
    assert (day.name, month.name) == ("2025-03-31", "2025-03")
    clock.advance(59.999)
    assert calendar.periods(calendar.now()) == (day, month)
    clock.advance(0.001)
    later_day, later_month = calendar.periods(calendar.now())
    assert (later_day.name, later_month.name) == ("2025-04-01", "2025-04")
    assert later_month.ends_at == at(2025, 5, 1)


def test_a_clock_set_back_finds_the_earlier_day_again() -> None:
    calendar = SpendCalendar(PARIS)
    calendar.periods(at(2025, 6, 2, 8))
    day, _ = calendar.periods(at(2025, 6, 1, 23))
    assert day.name == "2025-06-01"


def test_an_unknown_zone_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"unknown time zone 'Mars/Olympus'.*IANA"):
        time_zone("Mars/Olympus")
    with pytest.raises(ValueError, match="unknown time zone"):
        time_zone("../etc/passwd")
