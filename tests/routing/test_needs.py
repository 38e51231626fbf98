"""Needs: what a Chat Completions or Responses request needs from a model, and what a model of the table lacks."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gateway.routing.model_facts import ModelCatalog, ModelFacts
from gateway.routing.needs import (
    NEEDS,
    describe,
    field_of,
    lacking,
    param_of,
    request_needs,
    requested_format,
    unmet,
)

CHAT = "chat/completions"
RESPONSES = "responses"
FUNCTION = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
RESPONSES_FUNCTION = {"type": "function", "name": "lookup", "parameters": {"type": "object"}}


def chat(*parts: dict[str, Any], **fields: Any) -> dict[str, Any]:
    content: Any = list(parts) if parts else "hi"
    return {"model": "auto", "messages": [{"role": "user", "content": content}], **fields}


def responses(*parts: dict[str, Any], **fields: Any) -> dict[str, Any]:
    given: Any = [{"role": "user", "content": list(parts)}] if parts else "hi"
    return {"model": "auto", "input": given, **fields}


@pytest.mark.parametrize(
    ("operation", "body", "needs"),
    [
        (CHAT, chat(), set()),
        (CHAT, chat({"type": "text", "text": "x"}, {"type": "image_url", "image_url": {"url": "x"}}), {"image_input"}),
        (CHAT, chat({"type": "input_audio", "input_audio": {}}), {"audio_input"}),
        (CHAT, chat({"type": "file", "file": {"file_id": "f"}}), {"file_input"}),
        (CHAT, chat({"type": "input_image"}, {"type": "input_file"}), set()),  # Responses' names
        (CHAT, chat(modalities=["text", "audio"]), {"audio_output"}),
        (CHAT, chat(modalities="audio"), set()),  # not a list: not read
        (CHAT, chat(response_format={"type": "json_schema", "json_schema": {"name": "x"}}), {"json_schema"}),
        (CHAT, chat(response_format={"type": "json_object"}), {"json_object"}),
        (CHAT, chat(response_format={"type": "text"}), set()),
        (CHAT, chat(response_format={"type": ["json_schema"]}), set()),  # unhashable: no name
        (CHAT, chat(text={"format": {"type": "json_schema"}}), set()),  # Responses' field
        (CHAT, chat(tools=[FUNCTION]), {"tools"}),
        (CHAT, chat(tools=[FUNCTION], tool_choice="auto"), {"tools"}),
        (CHAT, chat(tools=[FUNCTION], tool_choice={"type": "function", "function": {"name": "lookup"}}), {"tools"}),
        (CHAT, chat(tools=[FUNCTION], tool_choice="none"), set()),
        (CHAT, chat(tools=[]), set()),
        (CHAT, chat(tools=[FUNCTION], parallel_tool_calls=True), {"tools", "parallel_tool_calls"}),
        (CHAT, chat(tools=[FUNCTION], parallel_tool_calls=False), {"tools"}),
        (CHAT, chat(tools=[FUNCTION], parallel_tool_calls="true"), {"tools"}),  # only JSON true says so
        (CHAT, chat(parallel_tool_calls=True), set()),  # no tools to call at once
        (CHAT, chat(tools=[FUNCTION], tool_choice="none", parallel_tool_calls=True), set()),
        (CHAT, chat(functions=[{"name": "lookup"}]), {"tools"}),  # the deprecated form
        (CHAT, chat(functions=[{"name": "lookup"}], function_call="none"), set()),
        (CHAT, chat(reasoning_effort="low"), {"reasoning"}),
        (CHAT, chat(reasoning_effort=None), set()),
        (CHAT, chat(reasoning={"effort": "low"}), set()),  # Responses' field
        (RESPONSES, responses(), {"responses_api"}),
        (RESPONSES, {"model": "auto", "previous_response_id": "resp_1"}, {"responses_api"}),
        (
            RESPONSES,
            responses({"type": "input_text", "text": "x"}, {"type": "input_image"}),
            {"responses_api", "image_input"},
        ),
        (RESPONSES, responses({"type": "input_file", "file_id": "f"}), {"responses_api", "file_input"}),
        (RESPONSES, responses({"type": "input_audio"}), {"responses_api", "audio_input"}),
        (RESPONSES, responses({"type": "image_url"}, {"type": "file"}), {"responses_api"}),  # Chat's names
        (
            RESPONSES,
            {
                "model": "auto",
                "input": [
                    {"type": "function_call", "call_id": "c", "name": "shot", "arguments": "{}"},
                    {"type": "function_call_output", "call_id": "c", "output": [{"type": "input_image"}]},
                ],
            },
            {"responses_api", "image_input"},
        ),
        (RESPONSES, responses(modalities=["audio"]), {"responses_api"}),  # no audio output on Responses
        (RESPONSES, responses(text={"format": {"type": "json_schema", "name": "x"}}), {"responses_api", "json_schema"}),
        (RESPONSES, responses(text={"format": {"type": "json_object"}}), {"responses_api", "json_object"}),
        (RESPONSES, responses(text={"verbosity": "low"}), {"responses_api"}),
        (RESPONSES, responses(response_format={"type": "json_object"}), {"responses_api"}),  # Chat's field
        (RESPONSES, responses(tools=[RESPONSES_FUNCTION]), {"responses_api", "tools"}),
        (RESPONSES, responses(tools=[{"type": "custom", "name": "grep"}]), {"responses_api", "tools"}),
        (RESPONSES, responses(tools=[{"type": "web_search_preview"}]), {"responses_api"}),  # Azure runs it
        (RESPONSES, responses(tools=[RESPONSES_FUNCTION], tool_choice="none"), {"responses_api"}),
        (
            RESPONSES,
            responses(tools=[RESPONSES_FUNCTION], parallel_tool_calls=True),
            {"responses_api", "tools", "parallel_tool_calls"},
        ),
        (RESPONSES, responses(reasoning={"effort": "high"}), {"responses_api", "reasoning"}),
        (RESPONSES, responses(reasoning={"summary": "auto"}), {"responses_api", "reasoning"}),
        (RESPONSES, responses(reasoning={}), {"responses_api"}),
        (RESPONSES, responses(reasoning={"effort": None}), {"responses_api"}),
        (RESPONSES, responses(reasoning_effort="high"), {"responses_api"}),  # Chat's field
        ("completions", {"model": "auto", "prompt": "x", "response_format": {"type": "json_object"}}, set()),
        ("embeddings", {"model": "auto", "input": "x"}, set()),
    ],
)
def test_request_needs(operation: str, body: dict[str, Any], needs: set[str]) -> None:
    assert request_needs(operation, body) == needs


def test_a_form_body_needs_nothing() -> None:
    assert request_needs("audio/transcriptions", None) == frozenset()


@pytest.mark.parametrize(
    ("operation", "body", "expected"),
    [
        (CHAT, chat(response_format={"type": "json_schema"}), "json_schema"),
        ("completions", {"response_format": {"type": "json_object"}}, "json_object"),
        (CHAT, chat(response_format={"type": "text"}), None),
        (CHAT, chat(response_format="json_object"), None),
        (RESPONSES, responses(text={"format": {"type": "json_object"}}), "json_object"),
        (RESPONSES, responses(text="json_object"), None),
        (RESPONSES, responses(text={"format": {"type": {"json_schema": 1}}}), None),
    ],
)
def test_requested_format(operation: str, body: dict[str, Any], expected: str | None) -> None:
    assert requested_format(body, operation) == expected


@pytest.fixture(scope="module")
def catalog() -> ModelCatalog:
    return ModelCatalog()


@pytest.mark.parametrize(
    ("model", "lacks"),
    [
        ("gpt-4.1", {"audio_input", "audio_output", "reasoning"}),
        ("gpt-35-turbo", set(NEEDS) - {"json_object", "tools"}),
        ("gpt-4", set(NEEDS) - {"image_input", "tools"}),
        (
            "gpt-4.5-preview",
            {"responses_api", "audio_input", "file_input", "audio_output", "parallel_tool_calls", "reasoning"},
        ),
        (
            "gpt-4o-mini-audio-preview",
            {"responses_api", "image_input", "file_input", "json_schema", "json_object", "reasoning"},
        ),
        ("my-fine-tune", set()),  # not in the table: unknown, never a reason to skip
    ],
)
def test_what_the_shipped_table_says_a_model_lacks(catalog: ModelCatalog, model: str, lacks: set[str]) -> None:
    assert lacking(catalog.facts(model)) == lacks


def test_a_deployments_claim_about_images_wins(catalog: ModelCatalog) -> None:
    assert "image_input" not in lacking(catalog.facts("gpt-35-turbo"), vision=True)
    assert "image_input" in lacking(catalog.facts("gpt-4"), vision=False)  # a gpt-4 0613 deployment
    assert lacking(catalog.facts("my-fine-tune"), vision=False) == {"image_input"}
    assert lacking(catalog.facts("my-fine-tune"), vision=True) == frozenset()


def test_every_need_is_a_fact_of_the_table(tmp_path: Path) -> None:
    """A model whose table row says yes to everything lacks nothing: no need reads a fact the table lacks."""
    table = tmp_path / "models.yaml"
    facts = "".join(f"  {fact}: true\n" for fact in ("image_input", "audio_input", "pdf_input", "audio_output"))
    facts += "".join(
        f"  {need}: true\n"
        for need in NEEDS
        if need not in ("image_input", "audio_input", "file_input", "audio_output")
    )
    table.write_text(f"able:\n  mode: chat\n  tokenizer: o200k_base\n{facts}")
    able = ModelCatalog(table).facts("able")
    assert lacking(able) == frozenset()
    assert lacking(replace(able, pdf_input=False)) == {"file_input"}
    assert lacking(ModelFacts("x", "chat", None, None, "o200k_base", source="table")) == set(NEEDS)


def test_unmet_keeps_the_telling_order_and_describe_names_each() -> None:
    lacks = frozenset({"reasoning", "json_schema", "image_input", "audio_output"})
    found = unmet({"json_schema", "tools", "image_input", "reasoning"}, lacks)
    assert found == ("image_input", "json_schema", "reasoning")
    assert (
        describe(found)
        == "no image input, no structured outputs (json_schema), no reasoning (reasoning_effort / reasoning)"
    )
    assert unmet({"tools"}, lacks) == ()
    assert describe(unmet({"responses_api"}, frozenset(NEEDS))) == "no Responses API"


def test_a_transcription_models_lacks_include_what_it_cannot_return(catalog: ModelCatalog) -> None:
    assert {"transcript_srt", "timestamps"} <= lacking(catalog.facts("gpt-4o-transcribe"))
    assert lacking(catalog.facts("whisper")) >= {"transcript_diarized_json"}
    assert "transcript_srt" not in lacking(catalog.facts("whisper"))


def test_transcript_needs_are_told_after_the_bodys_and_name_their_option() -> None:
    lacks = frozenset({"transcript_srt", "timestamps", "tools"})
    found = unmet({"timestamps", "transcript_srt", "tools"}, lacks)
    assert found == ("tools", "transcript_srt", "timestamps")
    assert describe(found) == (
        "no tool calling, no srt transcripts (response_format), no timestamps (timestamp_granularities)"
    )
    assert param_of(found, "audio/transcriptions") == "tools"  # the first need's field
    assert param_of(("transcript_srt", "timestamps"), "audio/transcriptions") == "response_format"
    assert param_of(("timestamps",), "audio/transcriptions") == "timestamp_granularities"


@pytest.mark.parametrize(
    ("need", "chat", "responses"),
    [
        ("image_input", "messages", "input"),
        ("file_input", "messages", "input"),
        ("json_schema", "response_format", "text.format"),
        ("json_object", "response_format", "text.format"),
        ("tools", "tools", "tools"),
        ("parallel_tool_calls", "parallel_tool_calls", "parallel_tool_calls"),
        ("reasoning", "reasoning_effort", "reasoning"),
        ("audio_output", "modalities", "modalities"),
        ("responses_api", None, None),  # the endpoint's own: no field to name
    ],
)
def test_each_need_names_the_field_that_makes_it(need: str, chat: str | None, responses: str | None) -> None:
    assert param_of((need,), "chat/completions") == chat
    assert param_of((need,), "responses") == responses


@pytest.mark.parametrize(
    ("need", "operation", "field"),
    [
        ("reasoning", CHAT, "reasoning_effort"),
        ("reasoning", RESPONSES, "reasoning"),
        ("parallel_tool_calls", RESPONSES, "parallel_tool_calls"),
        ("json_schema", CHAT, None),  # response_format also carries other choices: never dropped for a need
        ("tools", CHAT, None),
    ],
)
def test_field_of(need: str, operation: str, field: str | None) -> None:
    assert field_of(need, operation) == field
