"""The word lists compiled for matching: phrase -> cue tables and the regexes that find the phrases.

Built once at import from `task_lexicon_en` and `task_lexicon_zh`. Python's `re` costs roughly 15-50 ns per
character per pattern unless the pattern starts with a literal or a character class, so the English list is
found in one pass of one trie-shaped regex rather than one search per phrase, and the Chinese list in a few.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final, NamedTuple

from gateway.routing import task_lexicon_en, task_lexicon_zh
from gateway.routing.task_vocabulary import vocabulary


class Cue(NamedTuple):
    group: str
    weight: float


def _table(lexicon: Iterable[tuple[str, float, str]]) -> dict[str, Cue]:
    table: dict[str, Cue] = {}
    for group, weight, phrases in lexicon:
        for phrase in phrases.split(", "):
            table.setdefault(phrase, Cue(group, weight))  # the first listing of a phrase is the deliberate one
    return table


_Trie = dict[str, "_Trie"]


def _trie_pattern(phrases: Iterable[str]) -> str:
    """One regex alternative per phrase makes the engine retry every phrase at every position; a trie-shaped
    pattern shares prefixes, so a position costs about one comparison per character matched.
    """
    trie: _Trie = {}
    for phrase in phrases:
        node = trie
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[""] = {}  # a phrase ends here

    def render(node: _Trie) -> str:
        branches = [
            (r"\s+" if ch == " " else re.escape(ch)) + render(child) for ch, child in sorted(node.items()) if ch
        ]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        # Where a phrase ends but longer ones continue, the continuation is optional; greedy, so longest wins.
        return "(?:" + body + ")?" if "" in node else body

    return render(trie)


ASCII_CUES: Final[Mapping[str, Cue]] = MappingProxyType(_table(task_lexicon_en.LEXICON))
CJK_CUES: Final[Mapping[str, Cue]] = MappingProxyType(_table(task_lexicon_zh.LEXICON))
# The broad lists are matched apart: one of their phrases overlapping a hand phrase ("a short story" beside
# "short story about") must not take its place. A phrase the hand lists hold is theirs; each broad phrase goes
# to the table of its script, since the Chinese lists name tools in ASCII ("spring boot").
_BROAD = vocabulary("en") + vocabulary("zh")
BROAD_ASCII_CUES: Final[Mapping[str, Cue]] = MappingProxyType(
    {
        phrase: cue
        for phrase, cue in _table(_BROAD).items()
        if phrase.isascii() and phrase not in ASCII_CUES and phrase not in CJK_CUES
    }
)
BROAD_CJK_CUES: Final[Mapping[str, Cue]] = MappingProxyType(
    {phrase: cue for phrase, cue in _table(_BROAD).items() if not phrase.isascii() and phrase not in CJK_CUES}
)

# Word boundaries by hand, because CJK characters count as \w and \b would not split "用python写". A trailing
# version number still names the thing: "vue3", "python3.11", "html5".
ASCII_RE: Final = re.compile(r"(?<![a-z0-9_])(" + _trie_pattern(ASCII_CUES) + r")(?:\d+(?:\.\d+)*)?(?![a-z0-9_+#'])")


def _split_by_first_char(phrases: Iterable[str], parts: int) -> tuple[re.Pattern[str], ...]:
    """The engine tries each top-level branch in turn wherever a phrase could start, which for ~550 first
    characters costs far more than scanning the text a few times; several smaller tries are ~3x faster.
    """
    phrases = list(phrases)
    firsts = sorted({phrase[0] for phrase in phrases})
    return tuple(
        re.compile(_trie_pattern(p for p in phrases if p[0] in chunk))
        for chunk in (set(firsts[i::parts]) for i in range(parts))
    )


CJK_RES: Final = _split_by_first_char(CJK_CUES, 6)
BROAD_ASCII_RE: Final = re.compile(
    r"(?<![a-z0-9_])(" + _trie_pattern(BROAD_ASCII_CUES) + r")(?:\d+(?:\.\d+)*)?(?![a-z0-9_+#'])"
)
BROAD_CJK_RES: Final = _split_by_first_char(BROAD_CJK_CUES, 4)

# Chinese text: the English word list only needs the runs of ASCII between the Chinese characters.
ASCII_RUN_RE: Final = re.compile(r"[\x00-\x7f]+")
