"""Deterministic filler text and rough token counts (textgen.py)."""

from __future__ import annotations

import pytest

from gateway.simulator import textgen


def test_digest_is_stable_and_separates_its_parts() -> None:
    assert textgen.digest(b"a", b"b") == textgen.digest(b"a", b"b")
    assert len(textgen.digest(b"a")) == 32
    assert textgen.digest(b"a", b"b") != textgen.digest(b"ab")
    assert textgen.digest(b"a", b"b") != textgen.digest(b"b", b"a")


def test_reply_words_name_the_model_then_add_4_to_20_filler_words() -> None:
    counts = set()
    for n in range(200):
        seed = textgen.digest(str(n).encode())
        words = textgen.reply_words("dep", seed, "answer")
        assert words[:4] == ["Simulated", "answer", "from", "dep:"]
        assert len(words) == 4 + 4 + seed[0] % 17
        counts.add(len(words))
        assert words == textgen.reply_words("dep", seed, "answer")
    assert min(counts) == 8 and max(counts) == 24
    assert textgen.reply_words("m", bytes(32))[1] == "reply"


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        (None, (["a", "b", "c"], True)),
        (3, (["a", "b", "c"], True)),
        (5, (["a", "b", "c"], True)),
        (2, (["a", "b"], False)),
    ],
)
def test_cut(limit: int | None, expected: tuple[list[str], bool]) -> None:
    assert textgen.cut(["a", "b", "c"], limit) == expected


def test_render_ends_a_complete_reply_with_a_full_stop() -> None:
    assert textgen.render(["Hello", "there"], complete=True) == "Hello there."
    assert textgen.render(["Hello", "there"], complete=False) == "Hello there"


@pytest.mark.parametrize("complete", [True, False])
def test_pieces_add_up_to_the_rendered_text(complete: bool) -> None:
    words = ["one", "two", "three"]
    pieces = textgen.pieces(words, complete)
    assert len(pieces) == 3
    assert "".join(pieces) == textgen.render(words, complete)
    assert pieces[1] == " two"
    assert textgen.pieces([], complete) == []


@pytest.mark.parametrize(("chars", "tokens"), [(0, 1), (1, 1), (4, 1), (5, 2), (400, 100)])
def test_estimate_tokens_is_a_quarter_of_the_characters_at_least_one(chars: int, tokens: int) -> None:
    assert textgen.estimate_tokens(chars) == tokens


def test_message_chars_counts_text_and_prices_other_parts() -> None:
    messages = [
        {"role": "system", "content": "abcd"},
        {"role": "user", "content": [{"type": "text", "text": "xy"}, {"type": "image_url", "image_url": {}}]},
        {"role": "assistant", "content": None},
        "not a message",
    ]
    assert textgen.message_chars(messages) == 4 + 2 + 340
    assert textgen.message_chars([]) == 0
