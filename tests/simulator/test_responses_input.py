"""The Responses API's `input` read into items (responses_input.py): listed with ids, kept without them, and
refused where OpenAI refuses it."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.simulator.errors import SimulatorError
from gateway.simulator.responses_input import item_id, kept, read_input, text_chars


def test_a_string_is_one_user_message() -> None:
    (item,) = read_input("hello")
    assert item.listed["id"].startswith("msg_") and len(item.listed["id"]) == 4 + 48
    assert item.kept == {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]}
    assert item.listed == {**item.kept, "id": item.listed["id"], "status": "completed"}


def test_string_and_part_contents_are_kept_alike_and_ids_do_not_count() -> None:
    as_string = read_input([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}])
    as_parts = read_input(
        [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}], "id": "msg_x"},
            {"role": "assistant", "content": [{"type": "output_text", "text": "yo", "logprobs": []}], "status": "x"},
        ]
    )
    assert [item.kept for item in as_string] == [item.kept for item in as_parts]
    assert as_parts[0].listed["id"] == "msg_x"
    assert as_string[1].kept["content"] == [{"type": "output_text", "text": "yo", "annotations": []}]


def test_function_calls_and_their_outputs_keep_their_fields() -> None:
    call, result, reasoning = read_input(
        [
            {"type": "function_call", "id": "fc_9", "call_id": "call_1", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "42"},
            {"type": "reasoning", "id": "rs_1", "summary": []},
        ]
    )
    assert call.listed == {
        "id": "fc_9",
        "type": "function_call",
        "call_id": "call_1",
        "name": "f",
        "arguments": "{}",
        "status": "completed",
    }
    assert result.listed["id"].startswith("fco_")
    assert result.kept == {"type": "function_call_output", "call_id": "call_1", "output": "42"}
    assert reasoning.kept == {"type": "reasoning", "summary": []}


def test_images_and_files_are_kept_as_sent() -> None:
    image = {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "low"}
    (item,) = read_input([{"role": "user", "content": [{"type": "input_text", "text": "what?"}, image]}])
    assert item.kept["content"][1] == image


@pytest.mark.parametrize(
    ("value", "param"),
    [
        (None, "input"),
        ([], "input"),
        (42, "input"),
        (["hi"], "input[0]"),
        ([{"role": "robot", "content": "x"}], "input[0].role"),
        ([{"role": "user"}], "input[0].content"),
        ([{"role": "user", "content": 5}], "input[0].content"),
        ([{"role": "user", "content": [{"type": "output_text", "text": "x"}]}], "input[0].content[0].type"),
        ([{"role": "assistant", "content": [{"type": "input_text", "text": "x"}]}], "input[0].content[0].type"),
        ([{"role": "user", "content": [{"type": "input_text"}]}], "input[0].content[0].text"),
        ([{"type": "function_call", "call_id": "c", "name": "f"}], "input[0].arguments"),
        ([{"type": "function_call", "call_id": "c", "name": 1, "arguments": "{}"}], "input[0].name"),
        ([{"type": "function_call_output", "call_id": "c", "output": 5}], "input[0].output"),
        ([{"type": "web_search_call"}], "input[0].type"),
    ],
)
def test_malformed_input_is_refused_naming_the_param(value: Any, param: str) -> None:
    with pytest.raises(SimulatorError) as caught:
        read_input(value)
    assert caught.value.status == 400
    assert caught.value.body["error"]["param"] == param


def test_text_chars_count_text_and_a_fixed_amount_per_other_part() -> None:
    items = [
        item.kept
        for item in read_input(
            [
                {
                    "role": "user",
                    "content": [{"type": "input_text", "text": "abcd"}, {"type": "input_image", "file_id": "f"}],
                },
                {"type": "function_call", "call_id": "c", "name": "fn", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c", "output": "123"},
            ]
        )
    ]
    assert text_chars(items) == 4 + 340 + 2 + 2 + 3


def test_kept_drops_only_id_and_status_and_ids_are_unique() -> None:
    assert kept({"id": "x", "status": "completed", "type": "message"}) == {"type": "message"}
    assert item_id("function_call").startswith("fc_")
    assert item_id("message") != item_id("message")
