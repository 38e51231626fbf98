"""decide(): walking a policy from an alias, honouring a named model, and the error when nothing fits.

Hand-built policies and traits test the walk itself; the shipped policy is used for features no HTTP request
produces, and for what requests need of a model (the table of real requests through Router.route is in
test_router.py).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest
from starlette.datastructures import Headers

from gateway.errors import ContextLengthExceeded, InvalidRequest, ModelNotFound
from gateway.inbound.endpoints import ENDPOINTS
from gateway.inbound.json_body import parse_json_body
from gateway.routing.conditions import OneOf
from gateway.routing.decide import Decision, Step, decide
from gateway.routing.features import Features
from gateway.routing.held_inputs import HeldInput
from gateway.routing.model_traits import ModelTraits, ModelTraitsTable
from gateway.routing.policy import Leaf, Node, Policy, Question
from gateway.routing.router import Routed, Router
from gateway.routing.setup import build_router
from gateway.settings import load_config
from tests.support.features import chat_features
from tests.support.gateway_config import SHIPPED_CONFIG

ENV = {"AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com", "AZURE_OPENAI_API_KEY": "k"}


@pytest.fixture(scope="module")
def router() -> Router:
    return build_router(load_config(SHIPPED_CONFIG, ENV))


# --- the shipped policy, with features no HTTP endpoint produces ----------------------------------------------


def realtime_features() -> Features:
    return Features(
        operation="realtime",
        task="realtime",
        image_input=False,
        output_tokens=None,
        latency="unspecified",
        cost="unspecified",
        task_class="general",
        task_class_source="not a text task",
        task_class_reason="",
        stream=True,
    )


class NoTokens:
    def prompt_tokens(self, model: str) -> int:
        return 0

    def largest_input(self, model: str) -> HeldInput | None:
        return None


def test_realtime_leaf(router: Router) -> None:
    decision = decide(router.policy, router.traits, realtime_features(), NoTokens(), "auto")
    assert decision.model == "gpt-4o-mini-realtime-preview"
    assert [(step.node, step.answer) for step in decision.path][-2:] == [
        ("audio_generation", "yes"),
        ("realtime_voice", "yes"),
    ]


def test_a_task_the_tree_does_not_know_takes_the_default(router: Router) -> None:
    features = dataclasses.replace(realtime_features(), task="moderation")  # type: ignore[arg-type]
    # The default leads to the strongest model, which cannot serve it either: a clear 400, not a guess.
    with pytest.raises(InvalidRequest) as caught:
        decide(router.policy, router.traits, features, NoTokens(), "auto")
    assert caught.value.code == "no_route"
    assert "(gpt-4.1)" in caught.value.message and "does not serve moderation" in caught.value.message


# --- the shipped policy and what requests need of a model ------------------------------------------------------

PERSON = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
# What client.chat.completions.parse(model="auto", response_format=Person) sends.
PARSE = {"type": "json_schema", "json_schema": {"name": "Person", "schema": PERSON, "strict": True}}
IMAGE = {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}


async def route(router: Router, operation: str, payload: dict[str, Any], **headers: str) -> Routed:
    body = parse_json_body(ENDPOINTS[operation], "application/json", orjson.dumps({"model": "auto", **payload}))
    return await router.route(body, Headers(headers))


def ask(text: str | list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}], **fields}


def said(*parts: dict[str, Any]) -> dict[str, Any]:
    """A Responses body whose input is one user message of these parts."""
    return {"input": [{"role": "user", "content": list(parts)}]}


async def test_structured_output_on_auto_never_lands_on_a_model_without_it(router: Router) -> None:
    plain = await route(router, "chat/completions", ask("Summarise our refund policy"))
    assert plain.decision.model == "gpt-35-turbo"  # the same request without a schema: the cost-effective leaf
    routed = await route(router, "chat/completions", ask("Summarise our refund policy", response_format=PARSE))
    assert routed.features.needs == {"json_schema"}
    assert routed.decision.model == "gpt-4.1"
    assert routed.decision.notes == (
        "gpt-35-turbo skipped: no structured outputs (json_schema)",
        "gpt-35-turbo-16k skipped: no structured outputs (json_schema)",
        "gpt-35-turbo-instruct skipped: it does not serve chat",
        "cost_effective_leaf: no model fits, going on to image_input",
        "gpt-4-32k skipped: no structured outputs (json_schema)",
        "image_input.no: no model fits, going on to strongest",
    )


@pytest.mark.parametrize(
    ("payload", "model"),
    [
        (ask([{"type": "text", "text": "What is this?"}, IMAGE], response_format=PARSE), "gpt-4.1"),  # not gpt-4
        (ask("Reply in JSON: who won in 2020?", response_format={"type": "json_object"}), "gpt-35-turbo"),
        (
            ask([{"type": "text", "text": "What is this? JSON."}, IMAGE], response_format={"type": "json_object"}),
            "gpt-4.1",
        ),
        (
            ask("What's the weather in Paris?", tools=[{"type": "function", "function": {"name": "weather"}}]),
            "gpt-35-turbo",
        ),
    ],
)
async def test_what_a_chat_request_needs_picks_the_model(router: Router, payload: dict[str, Any], model: str) -> None:
    routed = await route(router, "chat/completions", payload, **{"x-route-task": "general"})
    assert routed.decision.model == model


@pytest.mark.parametrize(
    ("payload", "headers", "model"),
    [
        ({"input": "Summarise our refund policy"}, {}, "gpt-4.1"),
        (
            {
                "input": "Summarise our refund policy",
                "text": {"format": {"type": "json_schema", "name": "P", "schema": PERSON}},
            },
            {},
            "gpt-4.1",
        ),
        (
            {"input": "Write a poem about the sea", "instructions": "You are a poet."},
            {"x-route-task": "creative"},
            "gpt-4.1",
        ),
        ({"input": "Fix this bug"}, {"x-route-task": "code", "x-route-cost": "low"}, "gpt-4.1-mini"),
        (said({"type": "input_text", "text": "What is it?"}, {"type": "input_image", "image_url": "x"}), {}, "gpt-4.1"),
        (said({"type": "input_text", "text": "Sum it up"}, {"type": "input_file", "file_id": "f"}), {}, "gpt-4.1"),
    ],
)
async def test_auto_on_the_responses_api_lands_on_a_model_that_serves_it(
    router: Router, payload: dict[str, Any], headers: dict[str, str], model: str
) -> None:
    routed = await route(router, "responses", payload, **headers)
    assert "responses_api" in routed.features.needs and routed.features.task == "chat"
    assert routed.decision.model == model
    for note in routed.decision.notes:  # gpt-35-turbo, gpt-4, gpt-4-32k and gpt-4.5-preview are passed over
        assert ": no model fits" in note or "no Responses API" in note or "does not serve chat" in note, note


async def test_a_creative_responses_request_passes_over_gpt_45_preview(router: Router) -> None:
    routed = await route(router, "responses", {"input": "A poem, please"}, **{"x-route-task": "creative"})
    assert routed.decision.notes[0] == "gpt-4.5-preview skipped: no Responses API"


async def test_a_need_no_shipped_model_has_is_a_no_route_400(router: Router) -> None:
    with pytest.raises(InvalidRequest) as caught:
        await route(router, "chat/completions", ask("Think hard: is 2**61-1 prime?", reasoning_effort="high"))
    assert (caught.value.code, caught.value.param) == ("no_route", "reasoning_effort")
    assert caught.value.message == (
        "No model the routing policy offers for this request (gpt-4.1) can serve it: "
        "no reasoning (reasoning_effort / reasoning)."
    )


async def test_a_named_model_lacking_a_need_is_still_sent(router: Router) -> None:
    routed = await route(router, "chat/completions", ask("hi", model="gpt-35-turbo", response_format=PARSE))
    assert routed.decision.model == "gpt-35-turbo"
    assert routed.decision.notes == (
        "gpt-35-turbo named though it has no structured outputs (json_schema): sent as named, Azure decides",
    )


# --- hand-built policies --------------------------------------------------------------------------------------


class Tokens:
    """The same prompt size for every tokenizer; records which models were counted for."""

    def __init__(self, count: int, largest: HeldInput | None = None) -> None:
        self.count = count
        self.largest = largest  # an input held apart (embeddings, speech); None: the window holds the prompt
        self.asked: list[str] = []

    def prompt_tokens(self, model: str) -> int:
        self.asked.append(model)
        return self.count

    def largest_input(self, model: str) -> HeldInput | None:
        return self.largest


def traits(*items: tuple[str, int | None, bool, str] | tuple[str, int | None, bool, str, set[str]]) -> ModelTraitsTable:
    """(model, context window, vision, task[, what else it lacks]) per model."""
    return ModelTraitsTable(
        ModelTraits(
            model,
            window,
            vision,
            frozenset({task}),
            "config",
            frozenset(lacks[0] if lacks else ()) | ({"image_input"} if not vision else set()),
        )
        for model, window, vision, task, *lacks in items
    )


TRAITS = traits(
    ("small", 1_000, False, "chat", {"json_schema", "tools", "responses_api"}),
    ("medium", 2_000, True, "chat", {"responses_api"}),
    ("medium-plain", 2_000, True, "chat", {"reasoning"}),
    ("large", 8_000, True, "chat"),
    ("unknown-window", None, False, "chat"),
    ("speech", None, False, "text_to_speech"),
)


def policy(*nodes: Node, start: str, larger_models: dict[str, tuple[str, ...]] | None = None) -> Policy:
    return Policy(
        source="test",
        start=start,
        nodes={node.name: node for node in nodes},
        aliases={"auto": start},
        larger_models=larger_models or {},
    )


def question(name: str, yes: str, no: str, *, yes_by_default: bool = False, no_by_default: bool = False) -> Question:
    return Question(name, f"{name}?", OneOf("task", ("chat",)), yes, no, yes_by_default, no_by_default)


def test_the_walk_records_each_answer_and_the_first_model_that_fits_wins() -> None:
    tree = policy(
        question("is_chat", "sizes", "voices"),
        Leaf("sizes", ("small", "medium", "large"), None),
        Leaf("voices", ("speech",), None),
        start="is_chat",
    )
    tokens = Tokens(1_500)
    decision = decide(tree, TRAITS, chat_features(output_tokens=200), tokens, "auto")
    assert decision == Decision(
        model="medium",
        requested="auto",
        leaf="sizes",
        path=(Step("is_chat", "is_chat?", "yes", "task is chat (endpoint chat/completions)", False),),
        notes=("small skipped: 1,500 prompt + 200 output tokens exceed its 1,000-token window",),
    )
    assert tokens.asked == ["small", "medium"]  # large was never considered


def test_an_answer_without_a_branch_of_its_own_is_marked_by_default() -> None:
    tree = policy(
        question("is_chat", "sizes", "voices", no_by_default=True),
        Leaf("sizes", ("large",), None),
        Leaf("voices", ("speech",), None),
        start="is_chat",
    )
    yes = decide(tree, TRAITS, chat_features(), Tokens(10), "auto")
    no = decide(tree, TRAITS, chat_features(task="text_to_speech", operation="audio/speech"), Tokens(10), "auto")
    assert (yes.model, no.model) == ("large", "speech")
    assert [(step.answer, step.by_default) for step in yes.path] == [("yes", False)]
    assert [(step.answer, step.by_default) for step in no.path] == [("no", True)]


def test_a_leaf_where_nothing_fits_goes_on_to_otherwise() -> None:
    tree = policy(Leaf("cheap", ("small",), "big"), Leaf("big", ("large",), None), start="cheap")
    decision = decide(tree, TRAITS, chat_features(), Tokens(5_000), "auto")
    assert (decision.model, decision.leaf) == ("large", "big")
    assert decision.notes == (
        "small skipped: 5,000 prompt + 0 output tokens exceed its 1,000-token window",
        "cheap: no model fits, going on to big",
    )


def test_images_skip_models_without_vision() -> None:
    tree = policy(Leaf("sizes", ("small", "medium"), None), start="sizes")
    features = chat_features(image_input=True, needs=frozenset({"image_input"}))
    decision = decide(tree, TRAITS, features, Tokens(10), "auto")
    assert decision.model == "medium"
    assert decision.notes == ("small skipped: no image input",)


def test_a_leaf_takes_the_first_model_that_has_every_need() -> None:
    tree = policy(Leaf("sizes", ("small", "medium", "large"), None), start="sizes")
    tokens = Tokens(10)
    features = chat_features(needs=frozenset({"json_schema", "tools", "responses_api"}))
    decision = decide(tree, TRAITS, features, tokens, "auto")
    assert decision.model == "large"
    assert decision.notes == (
        "small skipped: no Responses API, no structured outputs (json_schema), no tool calling",
        "medium skipped: no Responses API",
    )
    assert tokens.asked == ["large"]  # a model that lacks a need is not counted for
    assert decide(tree, TRAITS, chat_features(needs=frozenset({"reasoning"})), tokens, "auto").model == "small"


def test_a_model_whose_abilities_are_unknown_is_never_skipped_for_them() -> None:
    tree = policy(Leaf("only", ("unknown-window",), None), start="only")
    features = chat_features(needs=frozenset({"json_schema", "tools", "reasoning", "responses_api"}))
    assert decide(tree, TRAITS, features, Tokens(10), "auto").notes == ()


def test_when_no_model_of_the_leaf_has_a_need_otherwise_is_taken() -> None:
    tree = policy(Leaf("cheap", ("small",), "big"), Leaf("big", ("large",), None), start="cheap")
    decision = decide(tree, TRAITS, chat_features(needs=frozenset({"tools"})), Tokens(10), "auto")
    assert (decision.model, decision.leaf) == ("large", "big")
    assert decision.notes == ("small skipped: no tool calling", "cheap: no model fits, going on to big")


def test_a_need_no_model_has_is_a_no_route_400_naming_it() -> None:
    tree = policy(Leaf("sizes", ("small", "medium"), None), start="sizes")
    with pytest.raises(InvalidRequest) as caught:
        decide(tree, TRAITS, chat_features(needs=frozenset({"responses_api"})), Tokens(10), "auto")
    assert type(caught.value) is InvalidRequest and caught.value.code == "no_route"
    assert caught.value.message == (
        "No model the routing policy offers for this request (small, medium) can serve it: no Responses API."
    )


def test_a_prompt_too_long_is_told_over_a_missing_need() -> None:
    tree = policy(Leaf("sizes", ("medium", "small"), None), start="sizes")
    with pytest.raises(ContextLengthExceeded) as caught:
        decide(tree, TRAITS, chat_features(needs=frozenset({"tools"})), Tokens(5_000), "auto")
    assert "for medium, 5,000 prompt" in caught.value.message


def test_an_unknown_window_is_never_a_reason_to_skip() -> None:
    tree = policy(Leaf("only", ("unknown-window",), None), start="only")
    tokens = Tokens(10_000_000)
    assert decide(tree, TRAITS, chat_features(output_tokens=10**6), tokens, "auto").model == "unknown-window"
    assert tokens.asked == []  # nothing to compare the count with, so nothing is counted


def test_no_model_that_serves_the_task_is_a_no_route_400() -> None:
    tree = policy(Leaf("voices", ("speech",), None), start="voices")
    with pytest.raises(InvalidRequest) as caught:
        decide(tree, TRAITS, chat_features(), Tokens(10), "auto")
    assert type(caught.value) is InvalidRequest and caught.value.code == "no_route"
    assert caught.value.message == (
        "No model the routing policy offers for this request (speech) can serve it: it does not serve chat."
    )


@pytest.mark.parametrize(
    ("operation", "task", "param"),
    [("chat/completions", "chat", "messages"), ("completions", "completion", "prompt"), ("responses", "chat", "input")],
)
def test_a_prompt_too_long_names_the_field_that_holds_it(operation: str, task: str, param: str) -> None:
    tree = policy(Leaf("cheap", ("small",), None), start="cheap")
    traits_of_task = traits(("small", 1_000, False, task))
    features = chat_features(task=task, operation=operation)
    with pytest.raises(ContextLengthExceeded) as caught:
        decide(tree, traits_of_task, features, Tokens(5_000), "auto")
    assert caught.value.param == param
    with pytest.raises(ContextLengthExceeded) as named:
        decide(tree, traits_of_task, features, Tokens(5_000), "small")
    assert named.value.param == param


def test_a_window_too_small_is_told_rather_than_a_model_that_never_could() -> None:
    # small served the request but was too small; speech, met later in the walk, never could serve it.
    tree = policy(Leaf("cheap", ("small",), "voices"), Leaf("voices", ("speech",), None), start="cheap")
    with pytest.raises(ContextLengthExceeded) as caught:
        decide(tree, TRAITS, chat_features(), Tokens(5_000), "auto")
    assert caught.value.param == "messages"
    assert caught.value.message == (
        "The request is too long for every model the routing policy offers that can serve it: for small, "
        "5,000 prompt + 0 output tokens exceed its 1,000-token window."
    )


def test_within_a_leaf_the_last_window_misfit_is_told() -> None:
    tree = policy(Leaf("sizes", ("small", "medium", "speech"), None), start="sizes")
    with pytest.raises(ContextLengthExceeded) as caught:
        decide(tree, TRAITS, chat_features(), Tokens(5_000), "auto")
    assert "for medium, 5,000 prompt + 0 output tokens exceed its 2,000-token window" in caught.value.message


def test_a_named_model_is_honoured_whatever_the_task() -> None:
    tree = policy(Leaf("sizes", ("large",), None), start="sizes")
    decision = decide(tree, TRAITS, chat_features(), Tokens(10), "speech")
    assert decision == Decision("speech", "speech", None, (), ())


def test_a_named_model_too_small_escalates_along_its_chain() -> None:
    tree = policy(Leaf("sizes", ("large",), None), start="sizes", larger_models={"small": ("medium", "large")})
    decision = decide(tree, TRAITS, chat_features(output_tokens=500), Tokens(2_000), "small")
    assert (decision.model, decision.requested, decision.leaf, decision.path) == ("large", "small", None, ())
    assert decision.notes == (
        "small skipped: 2,000 prompt + 500 output tokens exceed its 1,000-token window",
        "medium skipped: 2,000 prompt + 500 output tokens exceed its 2,000-token window",
        "escalated from small to large: the prompt does not fit small",
    )


def test_a_named_model_that_lacks_a_need_is_sent_as_named_with_a_note() -> None:
    tree = policy(Leaf("sizes", ("large",), None), start="sizes")
    features = chat_features(needs=frozenset({"json_schema", "image_input"}), image_input=True)
    decision = decide(tree, TRAITS, features, Tokens(10), "small")
    assert (decision.model, decision.leaf, decision.path) == ("small", None, ())
    assert decision.notes == (
        "small named though it has no image input, no structured outputs (json_schema): sent as named, Azure decides",
    )


def test_a_named_model_escalates_only_to_a_larger_one_that_lacks_nothing_more() -> None:
    # small lacks tools, which the client chose knowingly; medium-plain lacks reasoning, which small has.
    chain = {"small": ("medium-plain", "large")}
    tree = policy(Leaf("sizes", ("large",), None), start="sizes", larger_models=chain)
    tools = decide(tree, TRAITS, chat_features(needs=frozenset({"tools"})), Tokens(1_500), "small")
    assert tools.model == "medium-plain"
    assert tools.notes == (
        "small named though it has no tool calling: sent as named, Azure decides",
        "small skipped: 1,500 prompt + 0 output tokens exceed its 1,000-token window",
        "escalated from small to medium-plain: the prompt does not fit small",
    )
    reasoning = decide(tree, TRAITS, chat_features(needs=frozenset({"tools", "reasoning"})), Tokens(1_500), "small")
    assert reasoning.model == "large"
    assert reasoning.notes[2] == "medium-plain skipped: no reasoning (reasoning_effort / reasoning)"


def test_a_named_model_too_small_for_its_whole_chain_is_context_length_exceeded() -> None:
    tree = policy(Leaf("sizes", ("large",), None), start="sizes", larger_models={"small": ("medium",)})
    with pytest.raises(ContextLengthExceeded) as caught:
        decide(tree, TRAITS, chat_features(output_tokens=100), Tokens(2_000), "small")
    assert caught.value.message.startswith(
        "This model's maximum context length is 1,000 tokens. However, you requested 2,100 tokens "
        "(2,000 in the messages, 100 in the completion), and no larger model of its family can take them."
    )
    assert caught.value.param == "messages"


def test_without_a_policy_named_models_are_honoured_and_aliases_are_unknown() -> None:
    assert decide(None, TRAITS, chat_features(), Tokens(10), "medium").model == "medium"
    with pytest.raises(ContextLengthExceeded):
        decide(None, TRAITS, chat_features(), Tokens(1_001), "small")  # no chain to escalate along
    with pytest.raises(ModelNotFound) as caught:
        decide(None, TRAITS, chat_features(), Tokens(10), "auto")
    assert caught.value.param == "model" and "`auto`" in caught.value.message


def test_a_model_no_deployment_serves_is_not_found() -> None:
    tree = policy(Leaf("sizes", ("large",), None), start="sizes")
    with pytest.raises(ModelNotFound):
        decide(tree, TRAITS, chat_features(), Tokens(10), "gpt-9")


# --- inputs a window holds one at a time, and a transcription form's needs --------------------------------------

APART_TRAITS = traits(
    ("embed", 8_191, False, "embeddings"),
    ("embed-large", 16_000, False, "embeddings"),
    ("short-tts", 2_000, False, "text_to_speech"),
    ("tts", None, False, "text_to_speech"),
    ("fast-transcribe", 16_000, False, "transcription", {"transcript_srt", "timestamps"}),
    ("whisper", None, False, "transcription"),
)
EMBEDDINGS = chat_features(task="embeddings", operation="embeddings")
SPEECH = chat_features(task="text_to_speech", operation="audio/speech")
TRANSCRIPTION = chat_features(task="transcription", operation="audio/transcriptions")


def test_each_input_has_the_window_to_itself() -> None:
    # 20,000 tokens in all, but no input over 8,191: the window holds them one at a time.
    tree = policy(Leaf("embed", ("embed",), None), start="embed")
    fits = decide(tree, APART_TRAITS, EMBEDDINGS, Tokens(20_000, HeldInput("input[1]", 8_191)), "auto")
    assert (fits.model, fits.notes) == ("embed", ())
    with pytest.raises(ContextLengthExceeded) as caught:
        decide(tree, APART_TRAITS, EMBEDDINGS, Tokens(9_120, HeldInput("input[3]", 9_120)), "auto")
    assert caught.value.param == "input"
    assert caught.value.message == (
        "The request is too long for every model the routing policy offers that can serve it: for embed, "
        "input[3] is 9,120 tokens, over its limit of 8,191 per input."
    )


def test_a_leaf_passes_an_input_too_long_to_a_model_that_holds_it() -> None:
    tree = policy(Leaf("voices", ("short-tts", "tts"), None), start="voices")
    decision = decide(tree, APART_TRAITS, SPEECH, Tokens(2_300, HeldInput("input", 2_001)), "auto")
    assert decision.model == "tts"
    assert decision.notes == ("short-tts skipped: input is 2,001 tokens, over its limit of 2,000 per input",)


def test_a_named_model_an_input_is_too_long_for_escalates_or_names_the_input() -> None:
    tree = policy(Leaf("embed", ("embed",), None), start="embed", larger_models={"embed": ("embed-large",)})
    escalated = decide(tree, APART_TRAITS, EMBEDDINGS, Tokens(9_200, HeldInput("input[3]", 9_120)), "embed")
    assert escalated.model == "embed-large"
    with pytest.raises(ContextLengthExceeded) as caught:
        decide(None, APART_TRAITS, EMBEDDINGS, Tokens(9_200, HeldInput("input[3]", 9_120)), "embed")
    assert caught.value.param == "input"
    assert caught.value.message == (
        "input[3] is 9,120 tokens; embed takes at most 8,191 per input, and no larger model of its family can take it."
    )


def test_a_transcript_no_model_of_the_leaf_returns_is_a_400_naming_the_option() -> None:
    tree = policy(Leaf("ears", ("fast-transcribe", "whisper"), None), start="ears")
    srt = decide(
        tree, APART_TRAITS, dataclasses.replace(TRANSCRIPTION, needs=frozenset({"transcript_srt"})), Tokens(0), "auto"
    )
    assert srt.model == "whisper"
    assert srt.notes == ("fast-transcribe skipped: no srt transcripts (response_format)",)
    only = policy(Leaf("ears", ("fast-transcribe",), None), start="ears")
    for need, param in (("transcript_srt", "response_format"), ("timestamps", "timestamp_granularities")):
        features = dataclasses.replace(TRANSCRIPTION, needs=frozenset({need}))
        with pytest.raises(InvalidRequest) as caught:
            decide(only, APART_TRAITS, features, Tokens(0), "auto")
        assert (caught.value.status, caught.value.code, caught.value.param) == (400, "no_route", param)
        assert param in caught.value.message


def test_decision_as_dicts() -> None:
    tree = policy(question("is_chat", "sizes", "sizes"), Leaf("sizes", ("large",), None), start="is_chat")
    decision = decide(tree, TRAITS, chat_features(), Tokens(10), "auto")
    step = {
        "node": "is_chat",
        "ask": "is_chat?",
        "answer": "yes",
        "reason": "task is chat (endpoint chat/completions)",
        "by_default": False,
    }
    assert decision.path_as_dicts() == [step]
    assert decision.as_dict() == {
        "model": "large",
        "requested": "auto",
        "leaf": "sizes",
        "path": (step,),
        "notes": (),
    }
