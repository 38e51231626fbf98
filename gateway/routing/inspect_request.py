"""Inspect step: a request's features from its endpoint, body and hint headers. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.inbound.fields import ClientBody
from gateway.routing.features import Features, TaskFamily
from gateway.routing.hints import RouteHints
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
}
_CHAT_TASKS = frozenset({"chat", "completion"})


def inspect_request(
    body: ClientBody, hints: RouteHints, output_tokens: int | None, *, classify: bool = True
) -> Features:
    """`classify=False` skips the task classifier: no question will ask when the client named its model."""
    task = task_family(body)
    verdict = _task_class(body, task, hints) if classify or hints.task is not None else _NOT_CLASSIFIED
    return Features(
        operation=body.endpoint.operation,
        task=task,
        image_input=has_image_input(body.json) if body.json is not None else False,
        output_tokens=output_tokens,
        latency=hints.latency,
        cost=hints.cost,
        task_class=verdict.task_class,
        task_class_source="X-Route-Task header" if hints.task is not None else _source(task, classify),
        task_class_reason=verdict.reason,
        stream=body.stream,
    )


def task_family(body: ClientBody) -> TaskFamily:
    operation = body.endpoint.operation
    if operation != "chat/completions":
        return _FAMILY_BY_OPERATION[operation]
    assert body.json is not None
    modalities = body.json.get("modalities")
    if isinstance(modalities, list) and "audio" in modalities:
        return "audio_generation"
    if _has_part(body.json, "input_audio"):
        return "audio_generation"
    return "chat"


def has_image_input(json_body: Mapping[str, Any]) -> bool:
    return _has_part(json_body, "image_url")


def _has_part(json_body: Mapping[str, Any], part_type: str) -> bool:
    messages = json_body.get("messages")
    if not isinstance(messages, list):
        return False
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") == part_type:
                    return True
    return False


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
    prompt, system = _prompt_texts(body.json)
    response_format = body.json.get("response_format")
    # Tuples, not sets: a client's value may be unhashable (a list), and `in` a set would raise on it.
    structured = isinstance(response_format, dict) and response_format.get("type") in ("json_schema", "json_object")
    return classify_task(prompt, system=system, has_tools=bool(body.json.get("tools")), structured_output=structured)


def _prompt_texts(json_body: Mapping[str, Any]) -> tuple[str, str]:
    """The user's text (most recent last) and the system text, as the classifier reads them."""
    prompt = json_body.get("prompt")
    if isinstance(prompt, str):
        return prompt, ""
    if isinstance(prompt, list):
        return "\n".join(item for item in prompt if isinstance(item, str)), ""
    user: list[str] = []
    system: list[str] = []
    for message in json_body.get("messages") or ():
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
