"""A string matching a JSON-schema `pattern`, for the regular-expression subset schemas actually use.

Literals, escapes (\\d \\w \\s and their negations), `.`, character classes with ranges and negation, groups,
alternation, and the quantifiers ? * + {n} {n,} {n,m}; anchors and \\b only constrain where text goes, so
they generate nothing. Lookarounds, back-references and inline flags are beyond it: `string_matching`
answers None and the caller falls back. Every answer is checked with `re.search` before it is returned.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from gateway.simulator import textgen

_PRINTABLE = string.ascii_letters + string.digits + " -_."
_CLASSES = {
    "d": string.digits,
    "D": string.ascii_letters,
    "w": string.ascii_letters + string.digits + "_",
    "W": " -.",
    "s": " ",
    "S": string.ascii_letters,
}
_CONTROLS = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "0": "\0"}
_OPEN_REPEATS = 3  # extra repeats past the minimum for *, + and {n,}
_MAX_REPEAT = 64
_ECMA_NAMED_GROUP = re.compile(r"(?<!\\)\(\?<(?![=!])")


class _Unsupported(Exception):
    pass


@dataclass(frozen=True, slots=True)
class _Chars:
    choices: str  # one of these characters


@dataclass(frozen=True, slots=True)
class _Repeat:
    atom: _Chars | _Alternatives
    least: int
    most: int | None


@dataclass(frozen=True, slots=True)
class _Alternatives:
    branches: list[list[_Repeat]]


def string_matching(pattern: str, seed: bytes, words: list[str]) -> str | None:
    """A string `re.search(pattern, ...)` accepts, drawn from `seed` (and `words` where a class fits them)."""
    try:
        tree = _Parser(pattern).alternatives()
        text = _Writer(seed, words).alternatives(tree)
        return text if re.search(python_pattern(pattern), text) else None
    except (_Unsupported, re.error, IndexError, ValueError, RecursionError):
        return None


def python_pattern(pattern: str) -> str:
    """The pattern in Python's dialect: ECMA-262's named groups `(?<name>` are `(?P<name>` in `re`."""
    return _ECMA_NAMED_GROUP.sub("(?P<", pattern)


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.at = 0

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def take(self) -> str:
        char = self.text[self.at]
        self.at += 1
        return char

    def alternatives(self) -> _Alternatives:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.take()
            branches.append(self.sequence())
        return _Alternatives(branches)

    def sequence(self) -> list[_Repeat]:
        items: list[_Repeat] = []
        while self.peek() not in ("", "|", ")"):
            atom = self.atom()
            if atom is not None:
                items.append(self.quantified(atom))
        return items

    def atom(self) -> _Chars | _Alternatives | None:
        char = self.take()
        if char in "^$":
            return None
        if char == ".":
            return _Chars(_PRINTABLE)
        if char == "[":
            return _Chars(self.char_class())
        if char == "(":
            if self.peek() == "?":
                self.take()
                marker = self.take()
                if (marker == "P" and self.peek() == "<") or (marker == "<" and self.peek() not in "=!"):
                    while self.take() != ">":
                        pass
                elif marker != ":":
                    raise _Unsupported(marker)  # lookarounds, inline flags
            group = self.alternatives()
            if self.take() != ")":
                raise _Unsupported("(")
            return group
        if char == "\\":
            escaped = self.escape()
            return None if escaped == "" else _Chars(escaped)
        if char in "*+?{":
            raise _Unsupported(char)  # a quantifier with nothing to repeat
        return _Chars(char)

    def escape(self) -> str:
        char = self.take()
        if char in _CLASSES:
            return _CLASSES[char]
        if char in _CONTROLS:
            return _CONTROLS[char]
        if char in "bB":
            return ""  # a word boundary: the writer's pieces already sit on word boundaries or not, checked later
        if char == "u":
            code = self.text[self.at : self.at + 4]
            self.at += 4
            return chr(int(code, 16))
        if char == "x":
            code = self.text[self.at : self.at + 2]
            self.at += 2
            return chr(int(code, 16))
        if char.isdigit():
            raise _Unsupported("back-reference")
        return char

    def char_class(self) -> str:
        negated = self.peek() == "^"
        if negated:
            self.take()
        members: list[str] = []
        first = True
        while self.peek() != "]" or first:
            first = False
            char = self.take()
            single = self.escape() if char == "\\" else char
            if len(single) == 1 and self.peek() == "-" and self.text[self.at + 1 : self.at + 2] not in ("]", ""):
                self.take()
                end = self.take()
                end = self.escape() if end == "\\" else end
                members.extend(chr(code) for code in range(ord(single), ord(end) + 1))
            else:
                members.extend(single)
        self.take()
        if negated:
            return "".join(char for char in _PRINTABLE if char not in members)
        return "".join(dict.fromkeys(members))

    def quantified(self, atom: _Chars | _Alternatives) -> _Repeat:
        char = self.peek()
        if char == "?":
            least, most = 0, 1
        elif char == "*":
            least, most = 0, None
        elif char == "+":
            least, most = 1, None
        elif char == "{" and re.match(r"\{\d+(,\d*)?\}", self.text[self.at :]):
            end = self.text.index("}", self.at)
            low, _, high = self.text[self.at + 1 : end].partition(",")
            least = int(low)
            most = least if "," not in self.text[self.at : end] else int(high) if high else None
            self.at = end
        else:
            return _Repeat(atom, 1, 1)
        self.take()
        if self.peek() in ("?", "+"):  # lazy or possessive: the same strings match
            self.take()
        return _Repeat(atom, least, most)


class _Writer:
    def __init__(self, seed: bytes, words: list[str]) -> None:
        self.seed = seed
        self.words = words
        self.draws = 0

    def draw(self, span: int) -> int:
        self.draws += 1
        digest = textgen.digest(self.seed, str(self.draws).encode())
        return int.from_bytes(digest[:8], "big") % max(1, span)

    def alternatives(self, node: _Alternatives) -> str:
        branch = node.branches[self.draw(len(node.branches))]
        return "".join(self.repeat(item) for item in branch)

    def repeat(self, item: _Repeat) -> str:
        most = item.most if item.most is not None else item.least + _OPEN_REPEATS
        if isinstance(item.atom, _Chars) and item.most != 1:
            # A run of one class: a real word reads better than letter soup when the class allows it.
            for word in self.words:
                if item.least <= len(word) <= (item.most or _MAX_REPEAT) and all(c in item.atom.choices for c in word):
                    self.words = [w for w in self.words if w != word]
                    return word
        least = 1 if item.least == 0 and item.most is None else item.least
        count = min(least + self.draw(max(0, most - least) + 1), _MAX_REPEAT)
        return "".join(self.one(item.atom) for _ in range(count))

    def one(self, atom: _Chars | _Alternatives) -> str:
        if isinstance(atom, _Alternatives):
            return self.alternatives(atom)
        if not atom.choices:
            raise _Unsupported("empty class")
        return atom.choices[self.draw(len(atom.choices))]
