from __future__ import annotations

from typing import Any

import pytest

from gateway.observe.log_entry import LogEntry, parse_entry
from gateway.observe.log_filter import LineFilter, StatusMatch
from tests.observe.log_samples import BAD_KEY, CODING, CREATIVE, FAILED_EVERYWHERE, THROTTLED_THEN_FELL_BACK, line


def entry(fields: dict[str, Any], **changes: Any) -> LogEntry:
    parsed = parse_entry(line(fields, **changes))
    assert parsed is not None
    return parsed


def test_no_filter_keeps_every_line() -> None:
    assert LineFilter().matches(entry(BAD_KEY)) and LineFilter().matches(entry({}))


def test_a_model_matches_when_asked_for_served_by_or_tried() -> None:
    gpt_41 = LineFilter(models={"gpt-4.1"})
    assert gpt_41.matches(entry(CODING))  # asked auto, served by gpt-4.1
    assert gpt_41.matches(entry(THROTTLED_THEN_FELL_BACK))  # asked gpt-4.1, tried it, served by gpt-4.1-mini
    assert not gpt_41.matches(entry(CREATIVE))
    assert LineFilter(models={"gpt-4.1-nano", "gpt-4.5-preview"}).matches(entry(CREATIVE))  # any of them


def test_a_deployment_matches_by_its_whole_name_or_its_name_alone() -> None:
    assert LineFilter(deployments={"azure/gpt-4.1"}).matches(entry(CODING))
    assert LineFilter(deployments={"gpt-4.1"}).matches(entry(CODING))
    assert LineFilter(deployments={"sim/gpt-4.1-b"}).matches(entry(FAILED_EVERYWHERE))  # tried only
    assert not LineFilter(deployments={"gpt-4"}).matches(entry(CODING))  # not a prefix match
    assert not LineFilter(deployments={"gpt-4.1"}).matches(entry(BAD_KEY))


def test_a_key_matches_its_id() -> None:
    assert LineFilter(keys={"key-4e5a8f4373f5"}).matches(entry(CODING))
    assert not LineFilter(keys={"key-other"}).matches(entry(CODING))
    assert not LineFilter(keys={"key-4e5a8f4373f5"}).matches(entry(BAD_KEY))  # no key id


@pytest.mark.parametrize(
    ("written", "matching", "not_matching"),
    [
        ("429", [429], [200, 428, 500]),
        ("5xx", [500, 503, 599], [429, 200]),
        ("4XX", [400, 401, 429], [500]),
        ("429, 5xx", [429, 500, 502], [404, 200]),
    ],
)
def test_statuses_written_exactly_or_by_class(written: str, matching: list[int], not_matching: list[int]) -> None:
    status = StatusMatch.parse(written)
    assert [code for code in matching + not_matching if status.matches(code)] == matching


@pytest.mark.parametrize("written", ["6xx", "42", "abc", "", "429,", "4xxx"])
def test_what_is_not_a_status_is_refused_saying_how_to_write_one(written: str) -> None:
    with pytest.raises(ValueError, match="write 429, 5xx or 429,5xx"):
        StatusMatch.parse(written)


def test_the_status_filter_skips_lines_without_a_status() -> None:
    errors_5xx = LineFilter(status=StatusMatch.parse("5xx"))
    assert errors_5xx.matches(entry(FAILED_EVERYWHERE)) and not errors_5xx.matches(entry(CODING))
    assert not errors_5xx.matches(entry(CODING, status=None))


def test_errors_are_statuses_of_400_and_more() -> None:
    errors = LineFilter(errors_only=True)
    assert [errors.matches(entry(CODING, status=code)) for code in (200, 399, 400, 429, 500)] == [
        False,
        False,
        True,
        True,
        True,
    ]
    assert not errors.matches(entry(CODING, status=None))


def test_slower_than_keeps_requests_that_took_longer() -> None:
    slower = LineFilter(slower_than_ms=5.0)
    assert slower.matches(entry(CODING, latency_ms=5.001)) and not slower.matches(entry(CODING, latency_ms=5.0))
    assert not slower.matches(entry(CODING, latency_ms=None))


def test_every_filter_given_must_hold() -> None:
    both = LineFilter(models={"gpt-4.1-mini"}, errors_only=True)
    assert both.matches(entry(FAILED_EVERYWHERE))
    assert not both.matches(entry(THROTTLED_THEN_FELL_BACK))  # gpt-4.1-mini, but answered 200
