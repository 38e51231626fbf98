"""The policy compiler: the shipped tree compiles, and every mistake is named with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.pricing.cost import PriceList
from gateway.routing.conditions import CostOver, Pricing
from gateway.routing.model_facts import ModelCatalog
from gateway.routing.policy import Leaf, Question, load_policy
from gateway.settings import ConfigError
from tests.support.gateway_config import write_config

SHIPPED_POLICY = Path(__file__).resolve().parents[2] / "routes" / "policy.yaml"
SERVED = {
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-4.5-preview",
    "gpt-4",
    "gpt-4-32k",
    "gpt-35-turbo",
    "gpt-35-turbo-16k",
    "gpt-35-turbo-instruct",
    "gpt-image-1",
    "gpt-4o-mini-tts",
    "gpt-4o-transcribe",
    "gpt-4o-mini-transcribe",
    "gpt-4o-mini-audio-preview",
    "gpt-4o-mini-realtime-preview",
    "text-embedding-ada-002",
    "whisper",
}

PRICING = Pricing(PriceList(ModelCatalog()), default_max_tokens=1024)

SMALL = """\
start: kind
aliases:
  quick: {models: [mini]}
nodes:
  kind:
    ask: Code?
    when: {task_class: code}
    yes: big
    no: {models: [mini]}
  big:
    models: [large]
"""


def problem(tmp_path: Path, text: str) -> ConfigError:
    path = write_config(tmp_path, text, "policy.yaml")
    with pytest.raises(ConfigError) as caught:
        load_policy(path, {"mini", "large"}.__contains__)
    assert caught.value.path == str(path)
    return caught.value


def test_shipped_policy_encodes_the_seed_tree() -> None:
    policy = load_policy(SHIPPED_POLICY, SERVED.__contains__)
    questions = {name: node.ask for name, node in policy.nodes.items() if isinstance(node, Question)}
    assert set(questions.values()) >= {
        "Image generation?",
        "Chat completion?",
        "Complex technical / coding problem?",
        "Low cost and low latency required?",
        "Natural conversation / creative prompt?",
        "Large context input needed?",
        "Image input needed?",
        "Cost-effectiveness wanted?",
        "Text to speech?",
        "Speech to text?",
        "Speed / resource optimisation wanted?",
        "Audio generation?",
        "Real-time voice response needed?",
    }
    leaf_models = {model for node in policy.nodes.values() if isinstance(node, Leaf) for model in node.models}
    assert leaf_models == SERVED  # every model of the tree is in some leaf
    assert policy.aliases["auto"] == policy.start
    assert policy.larger_models["gpt-35-turbo"] == ("gpt-35-turbo-16k",)


def test_small_policy_compiles(tmp_path: Path) -> None:
    policy = load_policy(write_config(tmp_path, SMALL, "policy.yaml"), {"mini", "large"}.__contains__)
    assert set(policy.aliases) == {"auto", "quick"}
    question = policy.nodes["kind"]
    assert isinstance(question, Question)
    assert question.yes == "big" and question.no == "kind.no"


def test_unknown_target_names_the_line(tmp_path: Path) -> None:
    error = problem(tmp_path, SMALL.replace("yes: big", "yes: huge"))
    assert error.line == 8
    assert "'huge' is not a node" in error.problem


def test_model_without_deployment(tmp_path: Path) -> None:
    error = problem(tmp_path, SMALL.replace("models: [large]", "models: [large, gpt-9]"))
    assert error.line == 11
    assert "model 'gpt-9' has no deployment" in error.problem


def test_question_without_an_answer_branch(tmp_path: Path) -> None:
    error = problem(tmp_path, SMALL.replace("    no: {models: [mini]}\n", ""))
    assert error.line == 5
    assert "no 'no' branch and no default" in error.problem


def test_default_covers_a_missing_branch(tmp_path: Path) -> None:
    text = SMALL.replace("    no: {models: [mini]}\n", "    default: big\n")
    policy = load_policy(write_config(tmp_path, text, "policy.yaml"), {"mini", "large"}.__contains__)
    question = policy.nodes["kind"]
    assert isinstance(question, Question)
    assert question.no == "big" and question.no_by_default and not question.yes_by_default


def test_unknown_feature_in_condition(tmp_path: Path) -> None:
    error = problem(tmp_path, SMALL.replace("{task_class: code}", "{mood: happy}"))
    assert error.line == 7
    assert "unknown feature 'mood'" in error.problem


def test_wrong_feature_value(tmp_path: Path) -> None:
    error = problem(tmp_path, SMALL.replace("{task_class: code}", "{task_class: poetry}"))
    assert "'poetry' is not a value of task_class" in error.problem


def test_token_condition_checks_its_tokenizer_model(tmp_path: Path) -> None:
    error = problem(tmp_path, SMALL.replace("{task_class: code}", "{prompt_tokens: {over: 10, tokenizer_of: gpt-9}}"))
    assert "tokenizer_of names 'gpt-9'" in error.problem


def test_cycle_is_rejected(tmp_path: Path) -> None:
    error = problem(tmp_path, SMALL.replace("    models: [large]\n", "    models: [large]\n    otherwise: kind\n"))
    assert "loops" in error.problem


def test_unreachable_node_is_rejected(tmp_path: Path) -> None:
    error = problem(tmp_path, SMALL + "  orphan:\n    models: [mini]\n")
    assert error.line == 12
    assert "'orphan' can never be reached" in error.problem


def test_alias_may_not_shadow_a_model(tmp_path: Path) -> None:
    error = problem(tmp_path, SMALL.replace("  quick:", "  mini:"))
    assert error.line == 3
    assert "also the name of a served model" in error.problem


COSTLY = """\
start: costly
nodes:
  costly:
    ask: Costly?
    when:
      estimated_usd: {on: gpt-4.1, over: 0.05}
    yes: {models: [gpt-4.1-mini]}
    no: {models: [gpt-4.1]}
"""


def cost_problem(tmp_path: Path, text: str, pricing: Pricing | None = PRICING) -> ConfigError:
    path = write_config(tmp_path, text, "policy.yaml")
    with pytest.raises(ConfigError) as caught:
        load_policy(path, {"gpt-4.1", "gpt-4.1-mini", "whisper"}.__contains__, pricing)
    assert caught.value.path == str(path)
    return caught.value


def test_a_cost_condition_compiles_with_the_price_list(tmp_path: Path) -> None:
    path = write_config(tmp_path, COSTLY, "policy.yaml")
    policy = load_policy(path, {"gpt-4.1", "gpt-4.1-mini"}.__contains__, PRICING)
    question = policy.nodes["costly"]
    assert isinstance(question, Question)
    assert question.condition == CostOver("estimated_usd", 0.05, "gpt-4.1", PRICING)


def test_a_cost_condition_on_an_unpriced_model_names_the_line(tmp_path: Path) -> None:
    error = cost_problem(tmp_path, COSTLY.replace("on: gpt-4.1,", "on: whisper,"))
    assert error.line == 6
    assert error.problem == "in question 'costly': on names 'whisper', which has no token prices in the model table"


def test_a_cost_condition_on_an_unserved_model_names_the_line(tmp_path: Path) -> None:
    error = cost_problem(tmp_path, COSTLY.replace("on: gpt-4.1,", "on: gpt-9,"))
    assert error.line == 6
    assert error.problem == "in question 'costly': on names 'gpt-9', which no deployment serves"


def test_a_bad_threshold_names_the_line(tmp_path: Path) -> None:
    error = cost_problem(tmp_path, COSTLY.replace("over: 0.05", "over: -1"))
    assert error.line == 6
    assert "over is -1.0: a price in USD is a finite number, 0 or more" in error.problem


def test_a_cost_condition_needs_a_price_list(tmp_path: Path) -> None:
    error = cost_problem(tmp_path, COSTLY, pricing=None)
    assert "'estimated_usd' needs the model table's prices" in error.problem
