from __future__ import annotations

from gateway.settings.expansions import Expansions

KEY = "sk-live-0123456789"


def expansions(*entries: tuple[tuple[str | int, ...], list[tuple[str, str]], bool]) -> Expansions:
    found = Expansions()
    for path, variables, whole in entries:
        found.add(path, variables, whole)
    return found


def test_a_value_not_expanded_is_quoted_as_it_is() -> None:
    found = expansions((("server", "host"), [("HOST", "east")], True))
    assert found.quote(("server", "port"), "eighty") == "'eighty'"
    assert found.quote(("server", "port"), 80) == "80"


def test_a_value_that_was_one_reference_is_named_by_its_variable() -> None:
    found = expansions((("server", "port"), [("AZURE_OPENAI_API_KEY", KEY)], True))
    shown = found.quote(("server", "port"), KEY)
    assert shown == "${AZURE_OPENAI_API_KEY} (value not shown)"


def test_a_value_built_from_references_names_each_variable() -> None:
    found = expansions((("endpoint",), [("HOST", "east.example.com"), ("PORT", "8443")], False))
    shown = found.quote(("endpoint",), "https://east.example.com:8443/x")
    assert shown == "a value built from ${HOST} and ${PORT} (not shown)"
    assert "east.example.com" not in shown


def test_a_mapping_holding_an_expanded_value_is_not_quoted() -> None:
    found = expansions((("resources", "east", "auth", "type"), [("SECRET", KEY)], True))
    shown = found.quote(("resources", "east", "auth"), {"type": KEY})
    assert shown == "a value built from ${SECRET} (not shown)"


def test_a_value_whose_default_was_used_is_quoted() -> None:
    # Nothing came from the environment: the text was written in the file.
    found = expansions((("server", "host"), [], True))
    assert found.quote(("server", "host"), "localhost") == "'localhost'"


def test_a_message_repeating_an_expanded_value_names_the_variable_instead() -> None:
    found = expansions((("auth",), [("AZURE_OPENAI_API_KEY", KEY)], True))
    message = f"Input tag '{KEY}' found using 'type' does not match any of the expected tags"
    assert found.conceal(("auth",), message) == (
        "Input tag '${AZURE_OPENAI_API_KEY}' found using 'type' does not match any of the expected tags"
    )


def test_a_long_value_is_concealed_even_inside_a_word() -> None:
    found = expansions((("a",), [("KEY", KEY)], True))
    assert found.conceal(("a",), f"x{KEY}y") == "x${KEY}y"


def test_a_short_value_is_concealed_only_where_it_stands_alone() -> None:
    found = expansions((("port",), [("PORT", "80")], True))
    assert found.conceal(("port",), "got 80, below 1080") == "got ${PORT}, below 1080"


def test_the_longer_of_two_overlapping_values_is_concealed_whole() -> None:
    found = expansions((("a",), [("SHORT", "sk-live-0123"), ("LONG", KEY)], False))
    assert found.conceal(("a",), f"{KEY} and sk-live-0123") == "${LONG} and ${SHORT}"
