"""held_inputs: an `input`'s inputs as a model's window holds them, one at a time, and the largest of them."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.routing.held_inputs import HeldInput, held_apart, largest_held


@pytest.mark.parametrize(
    ("value", "inputs", "listed"),
    [
        ("one text", ["one text"], False),
        (["a", "b"], ["a", "b"], True),
        ([101, 102, 103], [3], False),  # an array of token ids is one input
        ([[101, 102, 103], [104]], [3, 1], True),
        (["a", None, {"x": 1}, 7, [1, 2]], ["a", 0, 0, 1, 2], True),  # each keeps the index the client gave it
        ([], [], True),
        (None, [], False),
        ({"text": "x"}, [], False),
    ],
)
def test_held_apart(value: Any, inputs: list[str | int], listed: bool) -> None:
    assert held_apart(value) == (inputs, listed)


def test_largest_held_counts_them_all_and_names_the_largest_by_its_index() -> None:
    tokens = {"short": 1, "longer one": 3, "tie": 3}
    assert largest_held(["short", 2, "longer one", "tie"], True, tokens.__getitem__) == (HeldInput("input[2]", 3), 9)
    assert largest_held(["longer one"], False, tokens.__getitem__) == (HeldInput("input", 3), 3)
    assert largest_held([5], False, tokens.__getitem__) == (HeldInput("input", 5), 5)
    assert largest_held([], True, tokens.__getitem__) == (None, 0)
