"""Inspect step: a request's features from its endpoint, body and hint headers. Pure: no I/O.

Chat Completions and the Responses API are both "chat" to routing: the same text is classified, and what the
request needs of a model (routing/needs.py) says which models can take it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.inbound.fields import ClientBody
from gateway.routing.features import Features, TaskFamily
from gateway.routing.hints import RouteHints
from gateway.routing.needs import request_needs, requested_format
from gateway.routing.task_classifier import TaskVerdict, classify_task

_FAMILY_BY_OPERATION: dict[str, TaskFamily] = {
    "images/generations": "image_generation",
    "images/edits": "image_edit",
    "audio/speech": "text_to_speech",
    "audio/transcriptions": "transcription",
    "audio/translations": "translation",
    "completions": "completion",
    "embeddings": "embeddings",
    "realtime": "realtime",
    "responses": "chat",  # it has no audio output, so no audio generation either
}
_CHAT_TASKS = frozenset({"chat", "completion"})
_AUDIO_NEEDS = frozenset({"audio_input", "audio_output"})


def inspect_request(
    body: ClientBody, hints: RouteHints, output_tokens: int | None, *, classify: bool = True, output_choices: int = 1
) -> Features:
    """`classify=False` skips the task classifier: no question will ask when the client named its model."""
    needs = request_needs(body.endpoint.operation, body.json)
    task = task_family(body, needs)
    verdict = _task_class(body, task, hints) if classify or hints.task is not None else _NOT_CLASSIFIED
    return Features(
        operation=body.endpoint.operation,
        task=task,
        image_input="image_input" in needs,
        output_tokens=output_tokens,
        latency=hints.latency,
        cost=hints.cost,
        task_class=verdict.task_class,
        task_class_source="X-Route-Task header" if hints.task is not None else _source(task, classify),
        task_class_reason=verdict.reason,
        stream=body.stream,
        needs=needs,
        output_choices=output_choices,
    )


def task_family(body: ClientBody, needs: frozenset[str] | None = None) -> TaskFamily:
    """`needs`: the body's, when the caller has them already (request_needs walks the whole body)."""
    operation = body.endpoint.operation
    if operation != "chat/completions":
        return _FAMILY_BY_OPERATION[operation]
    if needs is None:
        needs = request_needs(operation, body.json)
    # Audio in or out: only the audio models take it (they answer through Chat Completions).
    if needs & _AUDIO_NEEDS:
        return "audio_generation"
    return "chat"


_NOT_CLASSIFIED = TaskVerdict("general", "not classified", {"code": 0.0, "creative": 0.0, "general": 0.0})


def _source(task: TaskFamily, classified: bool) -> str:
    if task not in _CHAT_TASKS:
        return "not a text task"
    return "classifier" if classified else "not classified: the client named its model"


def _task_class(body: ClientBody, task: TaskFamily, hints: RouteHints) -> TaskVerdict:
    if hints.task is not None:
        return TaskVerdict(hints.task, "X-Route-Task header", {"code": 0.0, "creative": 0.0, "general": 0.0})
    if task not in _CHAT_TASKS or body.json is None:
        return TaskVerdict("general", "not a text task", {"code": 0.0, "creative": 0.0, "general": 0.0})
    operation = body.endpoint.operation
    prompt, system = _responses_texts(body.json) if operation == "responses" else _prompt_texts(body.json)
    structured = requested_format(body.json, operation) is not None
    return classify_task(prompt, system=system, has_tools=bool(body.json.get("tools")), structured_output=structured)


def _prompt_texts(json_body: Mapping[str, Any]) -> tuple[str, str]:
    """The user's text (most recent last) and the system text, as the classifier reads them."""
    prompt = json_body.get("prompt")
    if isinstance(prompt, str):
        return prompt, ""
    if isinstance(prompt, list):
        return "\n".join(item for item in prompt if isinstance(item, str)), ""
    return _message_texts(json_body.get("messages"))


def _responses_texts(json_body: Mapping[str, Any]) -> tuple[str, str]:
    """A Responses body's `input` (a string, or items: messages among tool calls and their outputs) and its
    `instructions`, which stand where a system message would."""
    instructions = json_body.get("instructions")
    given = json_body.get("input")
    if isinstance(given, str):
        user, system = given, ""
    else:
        user, system = _message_texts(given)
    texts = [text for text in (instructions if isinstance(instructions, str) else "", system) if text]
    return user, "\n".join(texts)


def _message_texts(messages: Any) -> tuple[str, str]:
    user: list[str] = []
    system: list[str] = []
    for message in messages if isinstance(messages, list) else ():
        if not isinstance(message, dict):
            continue
        texts = _texts(message.get("content"))
        if message.get("role") in ("system", "developer"):
            system.extend(texts)
        elif message.get("role") == "user":
            user.extend(texts)
    return "\n".join(user), "\n".join(system)


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)]
    return []
