"""Collecting evidence: what each collector records, and what it leaves alone."""

from __future__ import annotations

import pytest

from gateway.routing.task_evidence import Evidence, add_cue, collect_requests, collect_shape, collect_words


def words(text: str) -> Evidence:
    evidence: Evidence = {}
    collect_words(text.lower(), text.lower(), evidence)
    return evidence


def shape(text: str) -> Evidence:
    evidence: Evidence = {}
    collect_shape(text, text, text, text.lower(), evidence)
    return evidence


def requests(text: str) -> Evidence:
    low = text.lower()
    evidence = words(low)
    collect_requests(low, evidence)
    return evidence


def test_a_cue_counts_once_at_its_strongest_weight() -> None:
    evidence: Evidence = {}
    add_cue(evidence, "tech", "python", 0.5)
    add_cue(evidence, "tech", "python", 1.5)
    add_cue(evidence, "tech", "python", 1.0)
    assert evidence == {"tech": {"python": 1.5}}


def test_words_record_their_group_and_weight() -> None:
    assert words("Is Python good for a zip code lookup?") == {
        "tech": {"python": 1.5},
        "topic": {"zip code": 0.3},  # the everyday sense swallows "code"
    }
    assert words("帮我写一首关于大海的诗")["form"] == {"诗": 1.5}


def test_english_words_are_found_in_chinese_text() -> None:
    assert words("用python写个脚本")["tech"] == {"python": 1.5, "脚本": 1.5}


def test_greetings_and_addressing_a_character_only_count_at_the_start() -> None:
    assert words("hello there")["chat"]["greeting"] == 1.5
    assert "greeting" not in words("say hello to my mother").get("chat", {})
    assert words("You are a pirate captain")["roleplay"] == {"addresses a character": 2.0}
    assert "roleplay" not in words("you are right")


@pytest.mark.parametrize(
    ("text", "group"),
    [
        ('Traceback (most recent call last):\n  File "a.py", line 1', "stack_trace"),
        ("SELECT id, name FROM users WHERE id = 1", "sql"),
        ("try running ls -la in the folder", "shell"),
        ("```\nx = 1\n```", "code_block"),
        ("it fails with java.io.IOException somewhere", "error"),
        ("open /etc/nginx/nginx.conf", "path"),
        ("solve 2x + 3 = 7", "equation"),
    ],
)
def test_the_shape_of_the_text(text: str, group: str) -> None:
    assert group in shape(text)


def test_plain_prose_has_no_shape() -> None:
    assert shape("The lighthouse keeper climbed the stairs and counted the ships") == {}


def test_the_first_request_names_the_deliverable_and_the_second_counts_half() -> None:
    evidence = requests("Write a function to sort a list and tell me a joke")
    assert evidence["code_request"] == {"write a function": 3.0}
    assert evidence["creative_request"] == {"tell me a joke": 1.75}
    evidence = requests("Tell me a joke and write a function to sort a list")
    assert evidence["creative_request"] == {"tell me a joke": 3.5}
    assert evidence["code_request"] == {"write a function": 1.5}


def test_a_story_about_code_asks_for_a_story() -> None:
    evidence = requests("Write a haiku about a python function")
    assert evidence["creative_request"] == {"write a haiku": 3.5}
    assert "code_request" not in evidence


def test_a_bare_request_to_write_counts_for_writing() -> None:
    assert requests("Please write something about my grandmother")["write"] == {"please write": 1.25}
    assert requests("帮我写一段话")["write"] == {"写": 1.25}
    assert requests("帮我写一个函数，把列表排序")["code_request"] == {"写一个函数": 3.0}
    assert "write" not in requests("帮我写一个函数，把列表排序")  # asking for code is not asking for prose


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("our signup form checks ^\\d{3}-\\d{4}$ and rejects '555-1234 ' when pasted", True),
        ("postcode check ^[A-Z]{1,2}[0-9][A-Z0-9]? rejects 'ec1a 1bb'", True),
        ("the price went from [10] to [20] (roughly) over two years", False),
    ],
)
def test_a_regular_expression_is_evidence_of_code(text: str, found: bool) -> None:
    evidence: Evidence = {}
    collect_shape(text, text, text, text.lower(), evidence)
    assert ("regex" in evidence) is found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("*hands over two silver coins* north, to the mountains", True),
        ("（把包袱放下）掌櫃的，先來一壺好酒", True),
        ("please read the *important* clause", False),
    ],
)
def test_an_opening_action_is_role_play(text: str, found: bool) -> None:
    evidence: Evidence = {}
    collect_words(text.lower(), text.lower(), evidence)
    assert ("acts in role" in evidence.get("roleplay", {})) is found
