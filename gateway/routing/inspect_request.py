"""Inspect step: a request's features from its endpoint, body and hint headers. Pure: no I/O.

Chat Completions and the Responses API are both "chat" to routing: the same text is classified, and what the
request needs of a model (routing/needs.py) says which models can take it.
"""

from __future__ import annotations

from gateway.inbound.fields import ClientBody
from gateway.routing.conversation_text import chat_conversation, responses_conversation
from gateway.routing.features import Features, TaskFamily
from gateway.routing.hints import RouteHints
from gateway.routing.needs import request_needs, requested_format
from gateway.routing.task_classifier import TaskVerdict
from gateway.routing.task_turns import classify_conversation
from gateway.routing.transcript_needs import transcript_needs

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
    operation = body.endpoint.operation
    needs = request_needs(operation, body.json) if body.json is not None else transcript_needs(operation, body.form)
    task = task_family(body, needs)
    verdict = _task_class(body, task, hints) if classify or hints.task is not None else _NOT_CLASSIFIED
    return Features(
        operation=operation,
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
    conversation = responses_conversation(body.json) if operation == "responses" else chat_conversation(body.json)
    structured = requested_format(body.json, operation) is not None
    return classify_conversation(conversation, has_tools=bool(body.json.get("tools")), structured_output=structured)
