"""inspect_request: a request's task family, image input, needs, hints and task class, from its endpoint, body and
headers; for Chat Completions and Responses bodies alike."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.inbound.endpoints import ENDPOINTS
from gateway.inbound.fields import ClientBody
from gateway.routing import inspect_request as inspect_module
from gateway.routing.conversation_text import Conversation
from gateway.routing.hints import RouteHints
from gateway.routing.inspect_request import inspect_request, task_family
from gateway.routing.task_classifier import TaskVerdict

NO_HINTS = RouteHints()


def json_body(operation: str, payload: dict[str, Any]) -> ClientBody:
    return ClientBody(ENDPOINTS[operation], b"", "application/json", json={"model": "auto", **payload})


def form_body(operation: str, **fields: str) -> ClientBody:
    form = {name: [value] for name, value in {"model": "auto", **fields}.items()}
    return ClientBody(ENDPOINTS[operation], b"", "multipart/form-data; boundary=x", form=form)


def user(content: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": content}]}


@pytest.mark.parametrize(
    ("body", "family"),
    [
        (json_body("chat/completions", user("hi")), "chat"),
        (json_body("chat/completions", {**user("hi"), "modalities": ["text", "audio"]}), "audio_generation"),
        (json_body("chat/completions", {**user("hi"), "modalities": ["text"]}), "chat"),
        (json_body("chat/completions", {**user("hi"), "modalities": "audio"}), "chat"),  # not a list: not read
        (json_body("chat/completions", user([{"type": "input_audio", "input_audio": {}}])), "audio_generation"),
        (json_body("completions", {"prompt": "Once"}), "completion"),
        (json_body("embeddings", {"input": "x"}), "embeddings"),
        (json_body("images/generations", {"prompt": "a fox"}), "image_generation"),
        (json_body("audio/speech", {"input": "hi", "voice": "alloy"}), "text_to_speech"),
        (form_body("images/edits", prompt="add a hat"), "image_edit"),
        (form_body("audio/transcriptions"), "transcription"),
        (form_body("audio/translations"), "translation"),
        (json_body("responses", {"input": "hi"}), "chat"),
        # Responses has no audio output: `modalities` is not one of its fields, and audio in is no audio task.
        (json_body("responses", {"input": "hi", "modalities": ["audio"]}), "chat"),
        (json_body("responses", {"input": [{"role": "user", "content": [{"type": "input_audio"}]}]}), "chat"),
    ],
)
def test_task_family(body: ClientBody, family: str) -> None:
    assert task_family(body) == family


@pytest.mark.parametrize(
    ("operation", "payload", "expected"),
    [
        ("chat/completions", user([{"type": "text", "text": "x"}, {"type": "image_url", "image_url": {}}]), True),
        ("chat/completions", user([{"type": "text", "text": "image_url"}]), False),
        ("chat/completions", user("image_url"), False),
        ("chat/completions", {"messages": ["image_url", None, {"content": [None, "image_url"]}]}, False),
        ("chat/completions", user([{"type": "input_image", "image_url": "x"}]), False),  # Responses' name
        ("responses", {"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]}, True),
        ("responses", {"input": "input_image"}, False),
        ("embeddings", {"input": "x"}, False),
    ],
)
def test_image_input(operation: str, payload: dict[str, Any], expected: bool) -> None:
    features = inspect_request(json_body(operation, payload), NO_HINTS, None, classify=False)
    assert features.image_input is expected
    assert ("image_input" in features.needs) is expected


class ClassifierSpy:
    def __init__(self, verdict: TaskVerdict) -> None:
        self.verdict = verdict
        self.calls: list[tuple[tuple[str, ...], dict[str, Any]]] = []

    def __call__(self, conversation: Conversation, **options: Any) -> TaskVerdict:
        self.calls.append((conversation.turns, {"system": conversation.system, **options}))
        return self.verdict


@pytest.fixture
def classifier(monkeypatch: pytest.MonkeyPatch) -> ClassifierSpy:
    spy = ClassifierSpy(TaskVerdict("code", "a traceback", {"code": 2.0, "creative": 0.0, "general": 0.0}))
    monkeypatch.setattr(inspect_module, "classify_conversation", spy)
    return spy


def test_the_features_of_a_chat_request(classifier: ClassifierSpy) -> None:
    payload = {**user([{"type": "image_url", "image_url": {"url": "x"}}]), "stream": True}
    features = inspect_request(
        json_body("chat/completions", payload), RouteHints("low", "normal"), 512, output_choices=2
    )
    assert features.as_dict() == {
        "operation": "chat/completions",
        "task": "chat",
        "image_input": True,
        "output_tokens": 512,
        "latency": "low",
        "cost": "normal",
        "task_class": "code",
        "task_class_source": "classifier",
        "task_class_reason": "a traceback",
        "stream": True,
        "needs": ["image_input"],
        "output_choices": 2,
    }


def test_the_features_of_a_responses_request(classifier: ClassifierSpy) -> None:
    payload = {
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "x"}, {"type": "input_image"}]}],
        "tools": [{"type": "function", "name": "lookup", "parameters": {"type": "object"}}],
        "text": {"format": {"type": "json_schema", "name": "answer", "schema": {"type": "object"}}},
        "reasoning": {"effort": "low"},
        "stream": True,
    }
    features = inspect_request(json_body("responses", payload), NO_HINTS, 300)
    assert features.as_dict() == {
        "operation": "responses",
        "task": "chat",
        "image_input": True,
        "output_tokens": 300,
        "latency": "unspecified",
        "cost": "unspecified",
        "task_class": "code",
        "task_class_source": "classifier",
        "task_class_reason": "a traceback",
        "stream": True,
        "needs": ["image_input", "json_schema", "reasoning", "responses_api", "tools"],
        "output_choices": 1,
    }


def test_the_classifier_reads_user_and_system_text_and_the_request_shape(classifier: ClassifierSpy) -> None:
    payload = {
        "messages": [
            {"role": "system", "content": "You review code."},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "not read"},
            {"role": "developer", "content": [{"type": "text", "text": "Be terse."}]},
            {"role": "user", "content": [{"type": "text", "text": "second"}, {"type": "image_url", "image_url": {}}]},
            "not a message",
        ],
        "tools": [{"type": "function", "function": {"name": "run"}}],
        "response_format": {"type": "json_schema", "json_schema": {}},
    }
    inspect_request(json_body("chat/completions", payload), NO_HINTS, None)
    assert classifier.calls == [
        (("first", "second"), {"system": "You review code.\nBe terse.", "has_tools": True, "structured_output": True})
    ]


@pytest.mark.parametrize(
    ("payload", "prompt", "options"),
    [
        ({"input": "Write a haiku"}, ("Write a haiku",), {}),
        ({"input": "x", "instructions": "You are a poet."}, ("x",), {"system": "You are a poet."}),
        (
            {
                "instructions": "Be brief.",
                "input": [
                    {"role": "developer", "content": "Answer in French."},
                    {"role": "user", "content": [{"type": "input_text", "text": "first"}, {"type": "input_image"}]},
                    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "not read"}]},
                    {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
                    {"type": "function_call_output", "call_id": "c1", "output": "not read either"},
                    {"type": "message", "role": "user", "content": "second"},
                    {"role": "system", "content": [{"type": "input_text", "text": "No emoji."}]},
                    "not an item",
                ],
            },
            ("first", "second"),
            {"system": "Be brief.\nAnswer in French.\nNo emoji."},
        ),
        ({"input": "x", "tools": [{"type": "web_search_preview"}]}, ("x",), {"has_tools": True}),
        ({"input": "x", "text": {"format": {"type": "json_object"}}}, ("x",), {"structured_output": True}),
        ({"input": "x", "text": {"format": {"type": "text"}}, "response_format": {"type": "json_object"}}, ("x",), {}),
        ({"previous_response_id": "resp_1"}, (), {}),  # input carried on from before
        ({"input": {"not": "a list"}, "instructions": 7}, (), {}),
    ],
)
def test_the_classifier_reads_a_responses_body(
    classifier: ClassifierSpy, payload: dict[str, Any], prompt: tuple[str, ...], options: dict[str, Any]
) -> None:
    inspect_request(json_body("responses", payload), NO_HINTS, None)
    expected = {"system": "", "has_tools": False, "structured_output": False, **options}
    assert classifier.calls == [(prompt, expected)]


@pytest.mark.parametrize(
    ("payload", "prompt", "options"),
    [
        ({"prompt": "Once upon"}, ("Once upon",), {}),
        ({"prompt": ["a", 7, "b"]}, ("a\nb",), {}),
        ({"prompt": "x", "tools": [], "response_format": {"type": "text"}}, ("x",), {}),
        ({"prompt": "x", "response_format": {"type": "json_object"}}, ("x",), {"structured_output": True}),
    ],
)
def test_the_classifier_reads_a_legacy_prompt(
    classifier: ClassifierSpy, payload: dict[str, Any], prompt: tuple[str, ...], options: dict[str, Any]
) -> None:
    inspect_request(json_body("completions", payload), NO_HINTS, None)
    expected = {"system": "", "has_tools": False, "structured_output": False, **options}
    assert classifier.calls == [(prompt, expected)]


def test_the_task_header_wins_and_the_classifier_is_not_asked(classifier: ClassifierSpy) -> None:
    features = inspect_request(json_body("chat/completions", user("Fix my bug")), RouteHints(task="creative"), None)
    assert (features.task_class, features.task_class_source) == ("creative", "X-Route-Task header")
    assert features.task_class_reason == "X-Route-Task header"
    # Even for a named model: the header is the client's word.
    named = inspect_request(
        json_body("chat/completions", user("Fix my bug")), RouteHints(task="creative"), None, classify=False
    )
    assert named.task_class == "creative"
    assert classifier.calls == []


def test_a_named_model_is_not_classified(classifier: ClassifierSpy) -> None:
    features = inspect_request(json_body("chat/completions", user("Fix my bug")), NO_HINTS, None, classify=False)
    assert (features.task_class, features.task_class_source) == (
        "general",
        "not classified: the client named its model",
    )
    assert features.task_class_reason == "not classified"
    assert classifier.calls == []


@pytest.mark.parametrize(
    "body",
    [
        json_body("embeddings", {"input": "def f(): pass"}),
        json_body("chat/completions", {**user("hi"), "modalities": ["audio"]}),
        form_body("audio/transcriptions", prompt="def f(): pass", stream="true"),
    ],
)
def test_other_tasks_are_not_text_tasks(classifier: ClassifierSpy, body: ClientBody) -> None:
    features = inspect_request(body, NO_HINTS, None)
    assert (features.task_class, features.task_class_source, features.task_class_reason) == (
        "general",
        "not a text task",
        "not a text task",
    )
    assert features.image_input is False
    assert classifier.calls == []


def test_a_form_body_streams_by_its_field() -> None:
    features = inspect_request(form_body("audio/transcriptions", stream="True"), NO_HINTS, None)
    assert (features.task, features.stream, features.image_input) == ("transcription", True, False)


def test_a_transcription_form_needs_the_format_and_timestamps_it_asks_for() -> None:
    features = inspect_request(form_body("audio/transcriptions", response_format="srt"), NO_HINTS, None)
    assert features.needs == {"transcript_srt"}
    stamped = form_body("audio/translations", **{"timestamp_granularities[]": "word"})
    assert inspect_request(stamped, NO_HINTS, None).needs == {"timestamps"}
    assert inspect_request(form_body("images/edits", response_format="srt"), NO_HINTS, None).needs == frozenset()


@pytest.mark.parametrize(
    "payload",
    [
        {"messages": [{"role": [], "content": "hi"}]},
        {"messages": [{"role": {"r": 1}, "content": "hi"}]},
        {**user("hi"), "response_format": {"type": []}},
        {**user("hi"), "response_format": {"type": {"json_schema": 1}}},
    ],
)
def test_unhashable_values_where_a_name_belongs_are_read_as_no_name(payload: dict[str, Any]) -> None:
    features = inspect_request(json_body("chat/completions", payload), NO_HINTS, None)
    assert features.task == "chat" and features.task_class_source == "classifier"
