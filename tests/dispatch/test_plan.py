"""The order in which a request's candidates are tried: deployments, then fallback models, round by round."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.dispatch.plan import Plan
from gateway.routing.policy import FallbackReason
from gateway.settings.schema import ApiKeyAuth
from gateway.upstream.deployments import Deployment

DEPLOYMENTS = {
    "gpt-4.1": ["east/gpt-4.1", "west/gpt-4.1"],
    "gpt-4.1-mini": ["east/gpt-4.1-mini"],
    "gpt-4.1-nano": ["east/gpt-4.1-nano"],
    "gpt-35-turbo": ["east/gpt-35-turbo"],
    "gpt-35-turbo-16k": ["east/gpt-35-turbo-16k"],
}
CHAINS: dict[FallbackReason, dict[str, tuple[str, ...]]] = {
    "failure": {"gpt-4.1": ("gpt-4.1-mini", "gpt-4.1-nano"), "gpt-35-turbo": ("gpt-35-turbo-16k",)},
    "context_length": {"gpt-35-turbo": ("gpt-35-turbo-16k",)},
}


def deployment(deployment_id: str) -> Deployment:
    resource, name = deployment_id.split("/")
    auth = ApiKeyAuth(type="api-key", api_key_env="K")
    return Deployment(deployment_id, name, name, resource, "http://127.0.0.1:9", "classic", "2024-10-21", auth)


def plan(model: str, down: Sequence[str] = ()) -> Plan:
    return Plan(
        model,
        lambda name: [deployment(item) for item in DEPLOYMENTS[name]],
        lambda name, reason: CHAINS.get(reason, {}).get(name, ()),
        lambda item: item.id not in down,
    )


def drain(p: Plan) -> list[tuple[str, str, str | None]]:
    tried = []
    while (candidate := p.next()) is not None:
        tried.append((candidate.model, candidate.deployment.id, candidate.fallback_from))
    return tried


def test_every_deployment_of_the_model_then_its_fallbacks_in_order() -> None:
    assert drain(plan("gpt-4.1")) == [
        ("gpt-4.1", "east/gpt-4.1", None),
        ("gpt-4.1", "west/gpt-4.1", None),
        ("gpt-4.1-mini", "east/gpt-4.1-mini", "gpt-4.1"),
        ("gpt-4.1-nano", "east/gpt-4.1-nano", "gpt-4.1-mini"),
    ]


def test_unavailable_deployments_are_passed_over() -> None:
    assert [item[1] for item in drain(plan("gpt-4.1", down=["east/gpt-4.1", "east/gpt-4.1-mini"]))] == [
        "west/gpt-4.1",
        "east/gpt-4.1-nano",
    ]


def test_has_untried_says_whether_the_round_can_go_on_without_waiting() -> None:
    p = plan("gpt-4.1-nano")
    assert p.has_untried()
    assert p.next() is not None
    assert not p.has_untried()
    assert p.next() is None


def test_passed_over_is_what_the_round_reached_and_did_not_try_in_order() -> None:
    p = plan("gpt-4.1", down=["east/gpt-4.1", "east/gpt-4.1-nano"])
    first = p.next()
    assert first is not None and first.deployment.id == "west/gpt-4.1"
    # Only what the round reached: the fallback models are not yet.
    assert [(item.model, item.deployment.id) for item in p.passed_over()] == [("gpt-4.1", "east/gpt-4.1")]
    assert drain(p) == [("gpt-4.1-mini", "east/gpt-4.1-mini", "gpt-4.1")]
    assert [(item.model, item.deployment.id, item.fallback_from) for item in p.passed_over()] == [
        ("gpt-4.1", "east/gpt-4.1", None),
        ("gpt-4.1-nano", "east/gpt-4.1-nano", "gpt-4.1-mini"),
    ]
    p.new_round()
    assert [item.deployment.id for item in p.passed_over()] == ["east/gpt-4.1", "west/gpt-4.1"]


def test_a_context_length_error_leaves_the_model_for_its_larger_one_at_once() -> None:
    p = plan("gpt-35-turbo")
    first = p.next()
    assert first is not None and first.model == "gpt-35-turbo"
    assert p.leave_model("context_length")
    candidate = p.next("context_length")
    assert candidate is not None and candidate.model == "gpt-35-turbo-16k"
    assert not p.leave_model("context_length")  # the 16k model has no larger one


def test_a_model_with_no_chain_for_the_reason_has_nowhere_to_go() -> None:
    p = plan("gpt-4.1")
    assert not p.leave_model("content_filter")
    assert p.model == "gpt-4.1"


def test_a_new_round_starts_again_from_the_routed_model() -> None:
    p = plan("gpt-4.1")
    drain(p)
    p.new_round()
    candidate = p.next()
    assert candidate is not None and candidate.deployment.id == "east/gpt-4.1"
