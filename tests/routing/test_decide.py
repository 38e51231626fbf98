"""decide(): walking a policy from an alias, honouring a named model, and the error when nothing fits.

Hand-built policies and traits test the walk itself; the shipped policy is used for features no HTTP request
produces (the table of real requests through Router.route is in test_router.py).
"""

from __future__ import annotations

import dataclasses

import pytest

from gateway.errors import ContextLengthExceeded, InvalidRequest, ModelNotFound
from gateway.routing.conditions import OneOf
from gateway.routing.decide import Decision, Step, decide
from gateway.routing.features import Features
from gateway.routing.model_traits import ModelTraits, ModelTraitsTable
from gateway.routing.policy import Leaf, Node, Policy, Question
from gateway.routing.router import Router
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


# --- hand-built policies --------------------------------------------------------------------------------------


class Tokens:
    """The same prompt size for every tokenizer; records which models were counted for."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.asked: list[str] = []

    def prompt_tokens(self, model: str) -> int:
        self.asked.append(model)
        return self.count


def traits(*items: tuple[str, int | None, bool, str]) -> ModelTraitsTable:
    """(model, context window, vision, task) per model."""
    return ModelTraitsTable(
        ModelTraits(model, window, vision, frozenset({task}), "config") for model, window, vision, task in items
    )


TRAITS = traits(
    ("small", 1_000, False, "chat"),
    ("medium", 2_000, True, "chat"),
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
    decision = decide(tree, TRAITS, chat_features(image_input=True), Tokens(10), "auto")
    assert decision.model == "medium"
    assert decision.notes == ("small skipped: it takes no image input",)


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
