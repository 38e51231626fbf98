"""Token-sized pieces of JSON text: they join back to the text, split where a tokenizer would, and cut."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.simulator.token_pieces import cut, pieces


def test_json_splits_into_words_and_punctuation_runs() -> None:
    text = '{"name":"alpha bravo","age":42, "tags": [1.5, null]}'
    assert pieces(text) == [
        '{"', "name", '":"', "alpha", " bravo", '","', "age", '":', "42", ",", ' "', "tags", '":', " [",
        "1", ".", "5", ",", " null", "]}",
    ]  # fmt: skip


@given(st.text())
def test_pieces_join_back_to_the_text(text: str) -> None:
    assert "".join(pieces(text)) == text
    assert all(pieces(text))


def test_cut_keeps_what_fits() -> None:
    parts = pieces('{"a":"b c"}')
    assert cut(parts, None) == (parts, True)
    assert cut(parts, len(parts)) == (parts, True)
    assert cut(parts, 2) == (['{"', "a"], False)
