"""Routing step: a request's features, then the decision, with the prompt counted for the chosen model."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import Headers

from gateway.frozen import frozen
from gateway.inbound.fields import ClientBody
from gateway.routing.decide import Decision, decide
from gateway.routing.features import Features
from gateway.routing.hints import read_hints
from gateway.routing.inspect_request import inspect_request
from gateway.routing.model_traits import ModelTraitsTable
from gateway.routing.policy import Policy
from gateway.routing.prompt_size import CountNeeded, PromptSize
from gateway.routing.token_count import TokenCounter, requested_choices, requested_output_tokens


@frozen
class Routed:
    features: Features
    decision: Decision
    prompt_tokens: int  # counted with the chosen model's tokenizer
    counted: dict[str, int]  # every count the decision needed, by tokenizer


@dataclass(frozen=True, slots=True)
class Router:
    policy: Policy | None
    traits: ModelTraitsTable
    counter: TokenCounter

    async def route(self, body: ClientBody, headers: Headers) -> Routed:
        json_body = body.json or {}
        walks_tree = self.policy is not None and self.policy.entry_for(body.model) is not None
        output_tokens, choices = requested_output_tokens(json_body), requested_choices(json_body)
        features = inspect_request(
            body, read_hints(headers), output_tokens, classify=walks_tree, output_choices=choices
        )
        # A form's fields are not counted (its files are most of its bytes): there is nothing to gather.
        gathered_bytes = len(body.raw) if body.json is not None else 0
        size = PromptSize(self.counter, body.endpoint.operation, json_body, gathered_bytes)
        while True:
            try:
                decision = decide(self.policy, self.traits, features, size, body.model)
                prompt_tokens = size.prompt_tokens(decision.model)
                break
            except CountNeeded as needed:
                # A long prompt: count it in a worker thread, then decide again with the count known.
                await size.count_off_loop(needed.model)
        return Routed(features, decision, prompt_tokens, size.counted())
