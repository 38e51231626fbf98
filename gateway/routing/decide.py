"""Deciding the model: walk the policy from the requested alias, or honour a named model. Pure: no I/O.

The decision carries its path (each question, its answer and why) and notes on every candidate it
passed over, so `explain` and the routing log can show an operator exactly why a request went where.

A leaf's model must serve the request's task, lack none of its needs (routing/needs.py: structured outputs,
tools, image input, the Responses API, a transcript format, ...) and hold its prompt: the whole of it, or for
embeddings and speech the one input its window holds by itself (routing/held_inputs.py). A model the client
names is its choice: it is sent even when it lacks a need (Azure has the last word), with a note saying so.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Protocol

from gateway.errors import ContextLengthExceeded, InvalidRequest, ModelNotFound
from gateway.frozen import frozen
from gateway.routing.conditions import TokenSource
from gateway.routing.features import Features
from gateway.routing.held_inputs import INPUT, HeldInput
from gateway.routing.model_traits import ModelTraits, ModelTraitsTable
from gateway.routing.needs import describe, param_of, unmet
from gateway.routing.policy import Leaf, Policy


class WindowTokens(TokenSource, Protocol):
    def largest_input(self, model: str) -> HeldInput | None:
        """The input `model`'s window holds by itself, where it does not hold the whole prompt at once."""
        ...


@frozen
class Step:
    node: str
    ask: str
    answer: str  # yes | no
    reason: str
    by_default: bool  # the answer had no branch of its own: the question's default was taken


@frozen
class Decision:
    model: str
    requested: str
    leaf: str | None  # the policy leaf that chose, None when the client named the model
    path: tuple[Step, ...]
    notes: tuple[str, ...]  # candidates passed over and escalations, in order

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def path_as_dicts(self) -> list[dict[str, Any]]:
        return [asdict(step) for step in self.path]


@frozen
class _Misfit:
    reason: str
    window: bool  # too small a context window, as opposed to a task or input it cannot take
    model: str = ""
    param: str | None = None  # the request field a 400 for it names, where one field is to blame


def decide(
    policy: Policy | None, traits: ModelTraitsTable, features: Features, tokens: WindowTokens, requested: str
) -> Decision:
    entry = policy.entry_for(requested) if policy is not None else None
    if policy is not None and entry is not None:
        return _walk(policy, traits, features, tokens, requested, entry)
    model_traits = traits.get(requested)
    if model_traits is None:
        raise ModelNotFound.named(requested)
    return _honour(policy, traits, model_traits, features, tokens)


def _walk(
    policy: Policy, traits: ModelTraitsTable, features: Features, tokens: WindowTokens, requested: str, entry: str
) -> Decision:
    path: list[Step] = []
    notes: list[str] = []
    walk_misfit: _Misfit | None = None
    node_name = entry
    while True:  # the compiler rejects cycles, so this ends
        node = policy.nodes[node_name]
        if isinstance(node, Leaf):
            chosen, leaf_misfit = _first_fitting(node, traits, features, tokens, notes)
            if chosen is not None:
                return Decision(chosen, requested, node.name, tuple(path), tuple(notes))
            if leaf_misfit is not None:
                walk_misfit = _telling(walk_misfit, leaf_misfit)
            if node.otherwise is None:
                raise _no_candidate(node, walk_misfit)
            notes.append(f"{node.name}: no model fits, going on to {node.otherwise}")
            node_name = node.otherwise
            continue
        verdict = node.condition.evaluate(features, tokens)
        answer = "yes" if verdict.holds else "no"
        by_default = node.yes_by_default if verdict.holds else node.no_by_default
        path.append(Step(node.name, node.ask, answer, verdict.reason, by_default))
        node_name = node.yes if verdict.holds else node.no


def _first_fitting(
    leaf: Leaf, traits: ModelTraitsTable, features: Features, tokens: WindowTokens, notes: list[str]
) -> tuple[str | None, _Misfit | None]:
    last: _Misfit | None = None
    for model in leaf.models:
        model_traits = traits.get(model)
        assert model_traits is not None  # the compiler checked every model has a deployment
        misfit = _misfit(model_traits, features, tokens)
        if misfit is None:
            return model, None
        notes.append(f"{model} skipped: {misfit.reason}")
        last = _telling(last, misfit)
    return None, last


def _telling(kept: _Misfit | None, new: _Misfit) -> _Misfit:
    """The misfit worth telling the client: one that served the request but was too small beats one
    that never could, so a prompt too long for every model is a context-length error, not a bad route."""
    return kept if kept is not None and kept.window and not new.window else new


def _misfit(
    model: ModelTraits, features: Features, tokens: WindowTokens, excused: frozenset[str] = frozenset()
) -> _Misfit | None:
    """`excused`: needs not to hold against the model (a named model's, which the client chose knowingly)."""
    if features.task not in model.tasks:
        return _Misfit(f"it does not serve {features.task.replace('_', ' ')}", window=False)
    lacks = unmet(features.needs - excused, model.lacks)
    if lacks:
        return _Misfit(describe(lacks), window=False, param=param_of(lacks, features.operation))
    if model.context_window is None:
        return None
    held = tokens.largest_input(model.model)
    if held is not None:
        if held.tokens <= model.context_window:
            return None
        return _Misfit(
            f"{held.param} is {held.tokens:,} tokens, over its limit of {model.context_window:,} per input",
            window=True,
            model=model.model,
            param=INPUT,
        )
    prompt = tokens.prompt_tokens(model.model)
    output = features.output_tokens or 0
    if prompt + output > model.context_window:
        return _Misfit(
            f"{prompt:,} prompt + {output:,} output tokens exceed its {model.context_window:,}-token window",
            window=True,
            model=model.model,
            param=prompt_param(features.operation),
        )
    return None


def _honour(
    policy: Policy | None, traits: ModelTraitsTable, model: ModelTraits, features: Features, tokens: WindowTokens
) -> Decision:
    lacks = unmet(features.needs, model.lacks)
    notes = [f"{model.model} named though it has {describe(lacks)}: sent as named, Azure decides"] if lacks else []
    misfit = _misfit(model, features, tokens, excused=features.needs)
    # A model the client names is its choice: only a prompt it cannot hold moves the request on,
    # and only to a larger model of its family, never to another kind of model.
    if misfit is None or not misfit.window:
        return Decision(model.model, model.model, None, (), tuple(notes))
    notes.append(f"{model.model} skipped: {misfit.reason}")
    for larger in policy.larger_models.get(model.model, ()) if policy is not None else ():
        larger_traits = traits.get(larger)
        assert larger_traits is not None
        # The larger model stands in for the named one: it may lack what that lacks, and nothing more.
        larger_misfit = _misfit(larger_traits, features, tokens, excused=frozenset(lacks))
        if larger_misfit is None:
            notes.append(f"escalated from {model.model} to {larger}: the prompt does not fit {model.model}")
            return Decision(larger, model.model, None, (), tuple(notes))
        notes.append(f"{larger} skipped: {larger_misfit.reason}")
    held = tokens.largest_input(model.model)
    if held is not None:
        raise ContextLengthExceeded(
            f"{held.param} is {held.tokens:,} tokens; {model.model} takes at most {model.context_window:,} per "
            "input, and no larger model of its family can take it.",
            param=INPUT,
        )
    prompt = tokens.prompt_tokens(model.model)
    output = features.output_tokens or 0
    raise ContextLengthExceeded(
        f"This model's maximum context length is {model.context_window:,} tokens. However, you requested "
        f"{prompt + output:,} tokens ({prompt:,} in the messages, {output:,} in the completion), and no larger "
        "model of its family can take them. Please reduce the length of the messages or completion.",
        param=prompt_param(features.operation),
    )


def prompt_param(operation: str) -> str:
    """The body field that holds a request's prompt, which a too-long error names."""
    return _PROMPT_PARAMS.get(operation, INPUT)


_PROMPT_PARAMS = {"chat/completions": "messages", "completions": "prompt"}


def _no_candidate(leaf: Leaf, misfit: _Misfit | None) -> InvalidRequest:
    listed = ", ".join(leaf.models)
    reason = misfit.reason if misfit else "none is available"
    if misfit is not None and misfit.window:
        return ContextLengthExceeded(
            f"The request is too long for every model the routing policy offers that can serve it: "
            f"for {misfit.model}, {reason}.",
            param=misfit.param,
        )
    return InvalidRequest(
        f"No model the routing policy offers for this request ({listed}) can serve it: {reason}.",
        param=misfit.param if misfit is not None else None,
        code="no_route",
    )
