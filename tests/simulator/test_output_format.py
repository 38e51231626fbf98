"""chat/completions' response_format: the schema an answer follows, and Azure's 400s for a bad one."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.simulator.errors import SimulatorError
from gateway.simulator.output_format import ANY_OBJECT, chat_output_schema

JSON_MESSAGES = [{"role": "system", "content": "Answer in JSON."}, {"role": "user", "content": "Hi"}]
PLAIN_MESSAGES = [{"role": "user", "content": "Hi"}]
SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}


def schema_for(response_format: Any, messages: list[Any] = PLAIN_MESSAGES) -> Any:
    return chat_output_schema({"response_format": response_format}, messages)


def test_free_text_has_no_schema() -> None:
    assert chat_output_schema({}, PLAIN_MESSAGES) is None
    assert schema_for(None) is None
    assert schema_for({"type": "text"}) is None


def test_json_schema_gives_its_schema() -> None:
    assert schema_for({"type": "json_schema", "json_schema": {"name": "a", "schema": SCHEMA, "strict": True}}) == SCHEMA
    assert schema_for({"type": "json_schema", "json_schema": {"name": "a"}}) == ANY_OBJECT


@pytest.mark.parametrize(
    "messages",
    [
        JSON_MESSAGES,
        [{"role": "user", "content": [{"type": "text", "text": "Reply as json please"}]}],
        [{"role": "developer", "content": "Use a JSON object."}, {"role": "user", "content": "x"}],
    ],
)
def test_json_object_needs_the_word_json_anywhere_in_any_case(messages: list[Any]) -> None:
    assert schema_for({"type": "json_object"}, messages) == ANY_OBJECT


def test_json_object_without_the_word_json_is_azures_400() -> None:
    with pytest.raises(SimulatorError) as caught:
        schema_for({"type": "json_object"}, [{"role": "user", "content": [{"type": "image_url"}, "JSON"]}])
    assert caught.value.status == 400
    assert caught.value.body == {
        "error": {
            "message": "'messages' must contain the word 'json' in some form, to use 'response_format' of type "
            "'json_object'.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": None,
        }
    }


@pytest.mark.parametrize(
    ("response_format", "param", "code", "message"),
    [
        ("json_object", "response_format", "invalid_type", "expected an object, but got a string instead."),
        ([], "response_format", "invalid_type", "expected an object, but got an array instead."),
        ({}, "response_format.type", "missing_required_parameter", "Missing required parameter"),
        ({"type": "xml"}, "response_format.type", "invalid_value", "Invalid value: 'xml'. Supported values are"),
        ({"type": "json_schema"}, "response_format.json_schema", "missing_required_parameter", "Missing"),
        ({"type": "json_schema", "json_schema": {"schema": {}}}, "response_format.json_schema.name", "missing", "'"),
    ],
)
def test_a_bad_response_format_is_a_400_naming_it(response_format: Any, param: str, code: str, message: str) -> None:
    with pytest.raises(SimulatorError) as caught:
        schema_for(response_format, JSON_MESSAGES)
    error = caught.value.body["error"]
    assert caught.value.status == 400
    assert (error["param"], error["type"]) == (param, "invalid_request_error")
    assert error["code"].startswith(code)
    assert message in error["message"]
