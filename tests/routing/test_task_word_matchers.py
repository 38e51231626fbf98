"""The word lists compiled for matching: every phrase findable, the longest one winning, whole words only."""

from __future__ import annotations

import pytest

from gateway.routing import task_lexicon_en, task_lexicon_zh
from gateway.routing.task_groups import GROUPS
from gateway.routing.task_word_matchers import ASCII_CUES, ASCII_RE, ASCII_RUN_RE, CJK_CUES, CJK_RES, Cue

LEXICONS = [task_lexicon_en.LEXICON, task_lexicon_zh.LEXICON]


@pytest.mark.parametrize("lexicon", LEXICONS, ids=["en", "zh"])
def test_lexicon_entries_are_scored_groups_and_matchable_phrases(lexicon: tuple[tuple[str, float, str], ...]) -> None:
    phrases = [phrase for group, weight, listed in lexicon for phrase in listed.split(", ")]
    assert {group for group, _, _ in lexicon} <= set(GROUPS)
    assert all(weight > 0 for _, weight, _ in lexicon)
    # The text is lower-cased before matching, so an upper-case phrase could never be found.
    assert all(phrase and phrase == phrase.lower() == phrase.strip() for phrase in phrases)
    # A second listing would be silently ignored (the first one counts).
    assert len(phrases) == len(set(phrases))


def test_cue_tables_hold_each_phrase_with_its_group_and_weight() -> None:
    assert ASCII_CUES["python"] == Cue("tech", 1.5)
    assert ASCII_CUES["zip code"] == Cue("topic", 0.3)
    assert CJK_CUES["代码"] == Cue("tech", 1.5)
    assert len(ASCII_CUES) == sum(len(listed.split(", ")) for _, _, listed in task_lexicon_en.LEXICON)


def test_every_english_phrase_is_found_whole() -> None:
    for phrase in ASCII_CUES:
        match = ASCII_RE.fullmatch(phrase)
        assert match is not None and match.group(1) == phrase, phrase


def test_every_chinese_phrase_is_found_by_exactly_one_of_the_split_patterns() -> None:
    assert len(CJK_RES) == 6
    for phrase in CJK_CUES:
        assert sum(pattern.fullmatch(phrase) is not None for pattern in CJK_RES) == 1, phrase


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("send it to my zip code", ["zip code"]),  # the longest phrase wins, so "code" is not counted alone
        ("a unit\n  test", ["unit\n  test"]),  # a space in a phrase matches any run of whitespace
        ("python3.11 and vue3", ["python", "vue"]),  # a version number still names the thing
        ("c++ and c#", ["c++", "c#"]),
        ("a bugle and pythonic code", ["code"]),  # whole words only
    ],
)
def test_english_matching(text: str, found: list[str]) -> None:
    assert ASCII_RE.findall(text) == found


def test_chinese_phrases_match_inside_running_text() -> None:
    text = "帮我写一段代码，顺便写一首诗"
    found = [match for pattern in CJK_RES for match in pattern.findall(text)]
    assert sorted(found) == sorted(["代码", "诗"])


def test_english_words_in_chinese_text_are_read_from_the_ascii_runs() -> None:
    runs = " ".join(ASCII_RUN_RE.findall("用python写一个docker部署脚本"))
    assert ASCII_RE.findall(runs) == ["python", "docker"]
