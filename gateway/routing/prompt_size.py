"""A request's prompt size in tokens, counted on first need and once per tokenizer.

Deciding is synchronous; a long prompt is counted in a worker thread instead, so a decision that
needs a count it does not have yet raises CountNeeded and the caller counts, then decides again. Whether
the prompt is long is only asked of a body small enough to gather on the loop (TokenCounter.gathers_inline):
a large one is gathered in the worker thread along with its first count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.routing.held_inputs import HELD_APART_OPERATIONS, HeldInput
from gateway.routing.prompt_parts import PromptParts, gather_prompt
from gateway.routing.token_count import PromptTokens, TokenCounter


class CountNeeded(Exception):
    def __init__(self, model: str) -> None:
        super().__init__(model)
        self.model = model


class PromptSize:
    def __init__(self, counter: TokenCounter, operation: str, body: Mapping[str, Any], body_bytes: int) -> None:
        """`body_bytes`: the size of `body` as the client sent it."""
        self._counter = counter
        self._operation = operation
        self._body = body
        self._gathers_inline = counter.gathers_inline(body_bytes)
        self._prompt: PromptParts | None = None  # gathered on the first count: many decisions need none
        self._counts: dict[str, PromptTokens] = {}

    def prompt_tokens(self, model: str) -> int:
        return self.count_for(model).total

    def largest_input(self, model: str) -> HeldInput | None:
        """The input `model`'s window must hold by itself, for a request whose window holds its inputs one at a
        time (held_inputs.py); None for any other, which this neither gathers nor counts."""
        if self._operation not in HELD_APART_OPERATIONS:
            return None
        return self.count_for(model).largest_input

    def count_for(self, model: str) -> PromptTokens:
        encoding = self._counter.encodings.name_for_model(model)
        found = self._counts.get(encoding)
        if found is None:
            if self._prompt is None and not self._gathers_inline:
                raise CountNeeded(model)
            prompt = self._gathered()
            # A long prompt, or an encoding not loaded yet (~0.3 s): counted in a worker thread, off the loop.
            if prompt.chars() > self._counter.offload_above_chars or not self._counter.encodings.is_loaded(encoding):
                raise CountNeeded(model)
            found = self._counts[encoding] = self._counter.count_parts(prompt, model)
        return found

    async def count_off_loop(self, model: str) -> None:
        encoding = self._counter.encodings.name_for_model(model)
        if self._prompt is None:
            gathered = await self._counter.gather_and_count_off_loop(self._operation, self._body, model)
            self._prompt, self._counts[encoding] = gathered
        else:
            self._counts[encoding] = await self._counter.count_parts_async(self._prompt, model)

    def _gathered(self) -> PromptParts:
        if self._prompt is None:
            self._prompt = gather_prompt(self._operation, self._body)
        return self._prompt

    def counted(self) -> dict[str, int]:
        return {encoding: count.total for encoding, count in self._counts.items()}
