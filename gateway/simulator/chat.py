"""chat/completions: Azure-shaped replies, streamed or not, with tool calls, structured output and audio.

Streams follow Azure's order: the prompt-annotation chunk (empty id and model), a role chunk, content
chunks, a finish chunk with the content-filter annotations, an optional usage chunk, then [DONE]. A tool
call streams as Azure's do: its id and name first with empty arguments, then the arguments in pieces.

With tools, `tool_use` decides whether to call one (and which), and the arguments are valid against the
tool's parameters; with `response_format`, the content is JSON valid against the schema. Both are drawn
from the request's digest, so the same request gets the same call or the same JSON every time.
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass
from typing import Any

from gateway.routing.json_text import json_bytes, json_text  # any depth: clients' values reach replies too
from gateway.simulator import textgen, token_pieces
from gateway.simulator.delivery import DONE_EVENT, Reply, json_reply, sse_event, sse_reply
from gateway.simulator.errors import bad_request, content_filtered, invalid_value, missing
from gateway.simulator.filters import TRIGGER_BYTES, completion_filter_results, prompt_filter_results
from gateway.simulator.output_format import chat_output_schema
from gateway.simulator.params import Call
from gateway.simulator.schema_instance import instance_of
from gateway.simulator.tool_use import ToolSpec, arguments_for, chat_tools, tool_to_call
from gateway.simulator.voice import AudioClip, audio_clip

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_AUDIO_FORMATS = ("wav", "mp3", "pcm16", "flac", "opus", "aac")
_TOOL_RESULT_ROLES = ("tool", "function")
_TOOL_CALL_TOKENS = 4  # the call's framing, besides its name and arguments


@dataclass(frozen=True, slots=True)
class _ToolCall:
    id: str
    name: str


@dataclass(slots=True)
class _Choice:
    index: int
    pieces: list[str]  # the content, or the tool call's arguments, one token per piece
    complete: bool
    tool: _ToolCall | None
    audio: AudioClip | None

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    @property
    def finish_reason(self) -> str:
        if not self.complete:
            return "length"
        return "tool_calls" if self.tool else "stop"

    @property
    def tokens(self) -> int:
        framing = _TOOL_CALL_TOKENS + textgen.estimate_tokens(len(self.tool.name)) if self.tool else 0
        return framing + len(self.pieces) + (self.audio.tokens if self.audio else 0)


def chat_completion(call: Call) -> Reply:
    body, params = call.body, call.params
    messages = _messages(body)
    if TRIGGER_BYTES in call.raw:
        raise content_filtered()
    n = params.integer("n", 1, 1, 128)
    limit = params.integer("max_completion_tokens", None, 1, 10**7)
    limit = params.integer("max_tokens", limit, 1, 10**7)
    stream = params.flag("stream")
    options = body.get("stream_options")
    if options is not None and not stream:
        raise bad_request("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    audio_format = _audio_format(call, stream)
    schema = chat_output_schema(body, messages)
    tools = chat_tools(body.get("tools"))
    last = messages[-1]
    tool = tool_to_call(tools, body.get("tool_choice"), last.get("role") in _TOOL_RESULT_ROLES)
    seed = call.deployment.encode() + json_bytes(messages)
    choices = []
    for index in range(n):
        digest = textgen.digest(seed, str(index).encode())
        if tool:
            parts, complete = token_pieces.cut(token_pieces.pieces(arguments_for(tool, digest)), limit)
            choices.append(_Choice(index, parts, complete, _ToolCall(f"call_{digest.hex()[:24]}", tool.name), None))
        else:
            parts, complete = _content(call.deployment, digest, schema, limit)
            clip = audio_clip(audio_format, len(parts)) if audio_format else None
            choices.append(_Choice(index, parts, complete, None, clip))
    prompt_chars = textgen.message_chars(messages) + _definition_chars(tools, schema)
    usage = _usage(textgen.estimate_tokens(prompt_chars), choices)
    created = int(time.time())
    head: dict[str, Any] = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:29]}",
        "created": created,
        "model": call.model.response_model,
        "system_fingerprint": "fp_" + textgen.digest(call.model.name.encode()).hex()[:10],
    }
    if stream:
        return sse_reply(_events(head, choices, usage if include_usage else None))
    return json_reply(
        {
            **head,
            "object": "chat.completion",
            "choices": [_message_choice(c, created) for c in choices],
            "prompt_filter_results": prompt_filter_results(),
            "usage": usage,
        }
    )


def _content(deployment: str, digest: bytes, schema: Any, limit: int | None) -> tuple[list[str], bool]:
    """The reply as stream pieces of one token each (JSON when there is a schema), and whether it all fitted."""
    if schema is not None:
        return token_pieces.cut(token_pieces.pieces(json_text(instance_of(schema, digest))), limit)
    words, complete = textgen.cut(textgen.reply_words(deployment, digest), limit)
    return textgen.pieces(words, complete), complete


def _definition_chars(tools: list[ToolSpec], schema: Any) -> int:
    """What the tool definitions and the output schema add to the prompt the model reads."""
    tool_chars = sum(len(tool.name) + len(json_bytes(tool.parameters)) for tool in tools)
    return tool_chars + (len(json_bytes(schema)) if schema is not None else 0)


def _usage(prompt_tokens: int, choices: list[_Choice]) -> dict[str, Any]:
    completion_tokens = sum(c.tokens for c in choices)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "completion_tokens_details": {
            "accepted_prediction_tokens": 0,
            "audio_tokens": sum(c.audio.tokens for c in choices if c.audio),
            "reasoning_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
        "prompt_tokens_details": {"audio_tokens": 0, "cached_tokens": 0},
    }


def _messages(body: dict[str, Any]) -> list[Any]:
    messages = body.get("messages")
    if messages is None:
        raise missing("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("'messages' must be a non-empty array.", "messages", "invalid_value")
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if not isinstance(role, str) or role not in _ROLES:
            raise invalid_value(f"messages[{i}].role", "expected one of " + ", ".join(sorted(_ROLES)))
    return messages


def _audio_format(call: Call, stream: bool) -> str | None:
    modalities = call.body.get("modalities")
    if not isinstance(modalities, list) or "audio" not in modalities:
        return None
    if not call.model.audio_output:
        raise invalid_value("modalities", f"the model {call.model.name} does not support audio output.")
    audio = call.body.get("audio")
    if not isinstance(audio, dict) or "voice" not in audio:
        raise missing("audio")
    fmt = audio.get("format")
    if fmt not in _AUDIO_FORMATS:
        raise invalid_value("audio.format", "supported values are " + ", ".join(_AUDIO_FORMATS) + ".")
    if stream and fmt != "pcm16":
        raise invalid_value("audio.format", f"'{fmt}' is not supported when stream=true; use 'pcm16'.")
    if fmt not in ("wav", "mp3", "pcm16"):
        raise invalid_value("audio.format", f"'{fmt}' is unsupported by the simulator.")
    return str(fmt)


def _message_choice(choice: _Choice, created: int) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None, "annotations": []}
    if choice.tool:
        function = {"name": choice.tool.name, "arguments": choice.text}
        message["tool_calls"] = [{"id": choice.tool.id, "type": "function", "function": function}]
    elif choice.audio:
        message["audio"] = {
            "id": choice.audio.id,
            "data": base64.b64encode(choice.audio.data).decode(),
            "expires_at": created + 3600,
            "transcript": choice.text,
        }
    else:
        message["content"] = choice.text
    return {
        "index": choice.index,
        "message": message,
        "finish_reason": choice.finish_reason,
        "logprobs": None,
        "content_filter_results": completion_filter_results(),
    }


def _events(head: dict[str, Any], choices: list[_Choice], usage: dict[str, Any] | None) -> list[bytes]:
    with_usage = usage is not None
    base = {**head, "object": "chat.completion.chunk"}
    if with_usage:
        base["usage"] = None

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None, filters: bool = True) -> bytes:
        choice = {"index": index, "delta": delta, "finish_reason": finish, "logprobs": None}
        choice["content_filter_results"] = completion_filter_results() if filters else {}
        return sse_event({**base, "choices": [choice]})

    annotation: dict[str, Any] = {"id": "", "object": "", "created": 0, "model": ""}
    annotation.update(prompt_filter_results=prompt_filter_results(), choices=[])
    if with_usage:
        annotation["usage"] = None
    events = [sse_event(annotation)]
    for c in choices:
        if c.tool:
            function = {"name": c.tool.name, "arguments": ""}
            start = {"index": 0, "id": c.tool.id, "type": "function", "function": function}
            events.append(chunk(c.index, {"role": "assistant", "content": None, "tool_calls": [start]}, None, False))
            for piece in c.pieces:
                events.append(chunk(c.index, {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
        elif c.audio:
            events.append(chunk(c.index, {"role": "assistant", "content": None, "refusal": None}, None, False))
            for piece, data in zip(c.pieces, c.audio.pieces(len(c.pieces)), strict=True):
                audio = {"id": c.audio.id, "data": base64.b64encode(data).decode(), "transcript": piece}
                events.append(chunk(c.index, {"audio": audio}))
        else:
            events.append(chunk(c.index, {"role": "assistant", "content": "", "refusal": None}, None, False))
            events.extend(chunk(c.index, {"content": piece}) for piece in c.pieces)
        events.append(chunk(c.index, {}, c.finish_reason))
    if usage is not None:
        events.append(sse_event({**base, "choices": [], "usage": usage}))
    events.append(DONE_EVENT)
    return events
