from __future__ import annotations

from typing import Any

import pytest
from rich.console import Console

from gateway.observe.log_entry import DecisionStep, LogEntry, parse_entry
from gateway.observe.log_render import clock_time, latency, outcome_style, render_entry, short_path
from tests.observe.log_samples import (
    BAD_KEY,
    CREATIVE,
    FAILED_EVERYWHERE,
    RESPONSES,
    THROTTLED_THEN_FELL_BACK,
    UNKNOWN_MODEL,
    line,
)


def entry(fields: dict[str, Any], **changes: Any) -> LogEntry:
    parsed = parse_entry(line(fields, **changes))
    assert parsed is not None
    return parsed


def rendered(fields: dict[str, Any], **changes: Any) -> str:
    return render_entry(entry(fields, **changes)).plain


def test_a_routed_request_shows_its_route_decision_tokens_latency_and_status() -> None:
    assert rendered(CREATIVE) == (
        "17:51:15.812  key-4e5a8f4373f5  chat/completions  auto -> gpt-4.5-preview @ azure/gpt-4.5-preview  "
        "[… legacy completion? no · coding? no · creative? yes]  7/21 tok  2.7 ms  200"
    )


def test_a_request_that_fell_back_says_how_many_attempts_and_to_which_model() -> None:
    assert rendered(THROTTLED_THEN_FELL_BACK) == (
        "17:51:15.908  key-4e5a8f4373f5  chat/completions  gpt-4.1 -> gpt-4.1-mini @ azure/gpt-4.1-mini  "
        "1/16 tok  5.7 ms  200  2 attempts, fell back gpt-4.1 -> gpt-4.1-mini"
    )


def test_a_failed_request_shows_its_error_and_the_gateways_prompt_count() -> None:
    assert rendered(FAILED_EVERYWHERE) == (
        "17:51:16.335  key-4e5a8f4373f5  chat/completions  auto -> gpt-4.1-mini @ sim/gpt-4.1-mini  "
        "8/- tok  13.1 ms  500 InternalServerError  6 attempts, fell back gpt-4.1 -> gpt-4.1-mini"
    )


def test_a_request_refused_before_routing_shows_blanks() -> None:
    assert rendered(BAD_KEY) == (
        "17:51:15.933  -                 chat/completions  - -> - @ -  -/- tok  0.1 ms  401 invalid_api_key"
    )
    assert rendered(UNKNOWN_MODEL).endswith("nope -> - @ -  -/- tok  0.1 ms  404 model_not_found")


def test_a_line_from_another_version_with_nothing_known_renders_all_blank() -> None:
    assert render_entry(LogEntry(None, None, None, None, None, None, (), None, None, None, None, None, ())).plain == (
        "-             -                 -                 - -> - @ -  -/- tok  -  -"
    )


def test_retries_on_one_model_count_attempts_without_a_fallback() -> None:
    attempts = [{**THROTTLED_THEN_FELL_BACK["attempts"][0], "status": 503}, THROTTLED_THEN_FELL_BACK["attempts"][0]]
    assert rendered(RESPONSES, attempts=attempts).endswith("1.2 ms  200  2 attempts")


@pytest.mark.parametrize(
    ("status", "style"), [(200, "green"), (201, "green"), (404, "yellow"), (429, "magenta"), (503, "red"), (None, "")]
)
def test_the_outcome_colours_the_route_and_the_status(status: int | None, style: str) -> None:
    assert outcome_style(status) == style
    text = render_entry(entry(THROTTLED_THEN_FELL_BACK, status=status))
    styled = {text.plain[span.start : span.end]: str(span.style) for span in text.spans}
    assert styled.get("gpt-4.1 -> gpt-4.1-mini @ azure/gpt-4.1-mini", "") == style
    assert styled[str(status) if status else "-"] == f"bold {style}".strip()


def test_on_a_colour_terminal_a_throttled_line_is_magenta() -> None:
    console = Console(record=True, width=300, force_terminal=True, color_system="standard")
    console.print(render_entry(entry(THROTTLED_THEN_FELL_BACK, status=429, error="429")))
    assert "\x1b[1;35m429 429\x1b[0m" in console.export_text(styles=True)


def test_the_path_shows_its_last_steps_named_by_node_or_by_a_shortened_ask() -> None:
    steps = (
        DecisionStep("embeddings", "Embeddings?", "no"),
        DecisionStep("low_cost_and_latency", "Low cost and low latency required?", "yes"),
    )
    assert short_path(steps) == "embeddings? no · low cost and latency? yes"
    asked = (DecisionStep(None, "Natural conversation / creative prompt?", None), DecisionStep(None, "Code?", "yes"))
    assert short_path(asked) == "Natural conversation…? - · Code? yes"


@pytest.mark.parametrize(
    ("logged", "shown"),
    [
        ("2026-11-27T17:51:15.812+00:00", "17:51:15.812"),
        ("2026-11-27T09:05:00+00:00", "09:05:00.000"),
        ("yesterday", "-"),
        (None, "-"),
    ],
)
def test_the_time_is_the_clock_time_to_the_millisecond(logged: str | None, shown: str) -> None:
    assert clock_time(logged) == shown


@pytest.mark.parametrize(
    ("milliseconds", "shown"), [(0.13, "0.1 ms"), (999.94, "999.9 ms"), (1234.5, "1.23 s"), (None, "-")]
)
def test_latency_in_milliseconds_then_seconds(milliseconds: float | None, shown: str) -> None:
    assert latency(milliseconds) == shown
