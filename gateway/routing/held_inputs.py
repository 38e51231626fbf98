"""Inputs a model's window holds one at a time, not together: an embeddings request's, a speech request's `input`.

Azure limits an embeddings request per input (each at most the model's window; text-embedding-ada-002 takes
8,191 tokens), not per request, so a window check must read the largest input while the TPM estimate and the
cost still count them all. A TTS model's window (gpt-4o-mini-tts: 2,000 tokens) holds the text it speaks, not
its `instructions`, which are limited in characters instead (inbound/endpoints.py). Counting a prompt
(token_count.py) finds the largest of them along with the total; no other request is counted for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.frozen import frozen

HELD_APART_OPERATIONS = frozenset({"embeddings", "audio/speech"})
INPUT = "input"  # the field that holds them, on both endpoints


@frozen
class HeldInput:
    """The input a model's window must hold by itself: the largest of an embeddings request's, a speech request's."""

    param: str  # how the client would name it: `input`, or `input[3]` for the fourth of a list
    tokens: int


def held_apart(value: Any) -> tuple[list[str | int], bool]:
    """An `input`'s inputs, each a text or a token array's length, and whether it was a list of them.

    A string, or an array of token ids, is one input; otherwise each item of a list is one, keeping its index
    (an item that is neither counts nothing) so that an input too long is told by the index the client gave it.
    """
    if isinstance(value, str):
        return [value], False
    if not isinstance(value, list):
        return [], False
    if value and all(isinstance(item, int) for item in value):
        return [len(value)], False
    inputs: list[str | int] = []
    for item in value:
        if isinstance(item, str):
            inputs.append(item)
        elif isinstance(item, list):
            inputs.append(len(item))
        else:
            inputs.append(1 if isinstance(item, int) else 0)  # as a flattened prompt counts an odd token id
    return inputs, True


def largest_held(
    inputs: list[str | int], listed: bool, tokens_of: Callable[[str], int]
) -> tuple[HeldInput | None, int]:
    """The largest of `inputs` (the first, among equals), and all their tokens; None for no inputs."""
    total, largest, at = 0, -1, 0
    for index, item in enumerate(inputs):
        tokens = item if isinstance(item, int) else tokens_of(item)
        total += tokens
        if tokens > largest:
            largest, at = tokens, index
    if largest < 0:
        return None, 0
    return HeldInput(f"{INPUT}[{at}]" if listed else INPUT, largest), total
