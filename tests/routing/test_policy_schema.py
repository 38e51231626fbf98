"""The shape of a policy file: leaves and questions told apart, targets by name or in place, strict keys and types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from gateway.routing.policy_schema import FallbackSpec, LeafSpec, PolicySpec, QuestionSpec
from tests.routing.test_policy import SMALL, problem


def parse(data: dict[str, Any]) -> PolicySpec:
    # As load_policy validates: JSON mode, strict.
    return PolicySpec.model_validate_json(orjson.dumps(data), strict=True)


def rejected(data: dict[str, Any]) -> list[tuple[tuple[int | str, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        parse(data)
    return [(error["loc"], error["type"]) for error in caught.value.errors()]


def test_leaf_needs_models(tmp_path: Path) -> None:
    error = problem(tmp_path, SMALL.replace("models: [large]", "models: []"))
    assert error.line == 11


def test_unknown_key_in_a_question(tmp_path: Path) -> None:
    error = problem(tmp_path, SMALL.replace("    ask: Code?\n", "    ask: Code?\n    maybe: big\n"))
    assert error.line == 7
    assert "unknown key 'maybe'" in error.problem


def test_a_node_with_models_is_a_leaf_and_any_other_a_question() -> None:
    spec = parse(
        {
            "start": "q",
            "nodes": {
                "q": {"ask": "Code?", "when": {"task_class": "code"}, "yes": "big", "no": {"models": ["mini"]}},
                "big": {"models": ["large", "larger"], "otherwise": "q"},
            },
        }
    )
    question, leaf = spec.nodes["q"], spec.nodes["big"]
    assert isinstance(question, QuestionSpec) and isinstance(leaf, LeafSpec)
    assert leaf.models == ("large", "larger") and leaf.otherwise == "q"
    assert question.yes == "big"  # a target by name stays a name
    assert question.no == LeafSpec(models=("mini",))  # a target written in place is a leaf
    assert question.default is None


def test_a_question_holding_models_is_read_as_a_leaf() -> None:
    errors = rejected({"start": "q", "nodes": {"q": {"ask": "Code?", "when": {}, "models": ["mini"]}}})
    assert (("nodes", "q", "leaf", "ask"), "extra_forbidden") in errors
    assert (("nodes", "q", "leaf", "when"), "extra_forbidden") in errors


def test_optional_sections_default_to_empty() -> None:
    spec = parse({"start": "only", "nodes": {"only": {"models": ["mini"]}}})
    assert spec.aliases == {} and spec.escalation == ()
    assert spec.fallbacks == FallbackSpec()
    assert spec.fallbacks.on_failure == spec.fallbacks.on_context_length == spec.fallbacks.on_content_filter == {}


def test_aliases_escalation_and_fallbacks_are_read() -> None:
    spec = parse(
        {
            "start": "only",
            "aliases": {"quick": {"models": ["mini"]}, "smart": "only"},
            "nodes": {"only": {"models": ["large"]}},
            "escalation": [["mini", "large"]],
            "fallbacks": {"on_failure": {"large": ["mini"]}, "on_content_filter": {}},
        }
    )
    assert spec.aliases == {"quick": LeafSpec(models=("mini",)), "smart": "only"}
    assert spec.escalation == (("mini", "large"),)
    assert spec.fallbacks.on_failure == {"large": ("mini",)}


@pytest.mark.parametrize(
    ("data", "where", "kind"),
    [
        ({"nodes": {"only": {"models": ["m"]}}}, ("start",), "missing"),
        ({"start": "only"}, ("nodes",), "missing"),
        ({"start": "only", "nodes": {"only": {"models": "m"}}}, ("nodes", "only", "leaf", "models"), "tuple_type"),
        ({"start": "only", "nodes": {"only": {"models": [7]}}}, ("nodes", "only", "leaf", "models", 0), "string_type"),
        ({"start": "s", "nodes": {"s": {"ask": "?", "when": "x"}}}, ("nodes", "s", "question", "when"), "dict_type"),
        ({"start": "only", "nodes": {"only": {"when": {}}}}, ("nodes", "only", "question", "ask"), "missing"),
        ({"start": "only", "nodes": {}, "extra": 1}, ("extra",), "extra_forbidden"),
        ({"start": "s", "nodes": {}, "fallbacks": {"on_timeout": {}}}, ("fallbacks", "on_timeout"), "extra_forbidden"),
        ({"start": "s", "nodes": {}, "escalation": [["a", 1]]}, ("escalation", 0, 1), "string_type"),
    ],
)
def test_malformed_policies_are_rejected_where_they_go_wrong(
    data: dict[str, Any], where: tuple[int | str, ...], kind: str
) -> None:
    assert (where, kind) in rejected(data)


def test_specs_are_frozen() -> None:
    leaf = LeafSpec(models=("mini",))
    with pytest.raises(ValidationError):
        leaf.models = ("large",)  # type: ignore[misc]
