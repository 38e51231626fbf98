"""Collecting the evidence for the task classifier: which words a text uses, its shape, what it asks for.

Each collector records cues into an `Evidence` record, by group (`task_groups`); weighing them is
`task_verdict`'s job. The collectors run on every request, so each regex runs only when a substring it needs
is present (see the performance note in `task_text_patterns`), and matches are read only a few at a time.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping

from gateway.routing import task_text_patterns as pat
from gateway.routing.task_word_matchers import (
    ASCII_CUES,
    ASCII_RE,
    ASCII_RUN_RE,
    BROAD_ASCII_CUES,
    BROAD_ASCII_RE,
    BROAD_CJK_CUES,
    BROAD_CJK_RES,
    CJK_CUES,
    CJK_RES,
    Cue,
)

# group -> {matched text -> weight}; a cue counts once however often it occurs.
Evidence = dict[str, dict[str, float]]


def add_cue(evidence: Evidence, group: str, example: str, weight: float) -> None:
    """Record a cue once, at the strongest weight it was found with."""
    examples = evidence.setdefault(group, {})
    if weight > examples.get(example, 0.0):
        examples[example] = weight


def collect_words(low: str, low_intent: str, evidence: Evidence) -> None:
    """Cues from the word lists: the hand-weighted ones, then the broad ones (`task_vocabulary`) apart, so that
    a broad phrase never takes a hand phrase's place. Chinese words are read only in the narrower `low_intent`
    window, since one Chinese character is about a token; greetings and addressing a character only count at
    its very start.
    """
    ascii_text = low if low.isascii() else " ".join(ASCII_RUN_RE.findall(low))
    _listed_words(ascii_text, low_intent, ASCII_RE, ASCII_CUES, CJK_RES, CJK_CUES, evidence)
    _listed_words(ascii_text, low_intent, BROAD_ASCII_RE, BROAD_ASCII_CUES, BROAD_CJK_RES, BROAD_CJK_CUES, evidence)
    if pat.GREETING_RE.match(low_intent):
        add_cue(evidence, "chat", "greeting", 1.5)
    if pat.ACTION_RE.match(low_intent):
        add_cue(evidence, "roleplay", "acts in role", 2.5)
    if pat.ROLEPLAY_RE.match(low_intent):
        add_cue(evidence, "roleplay", "addresses a character", 2.0)


def _listed_words(
    ascii_text: str,
    low_intent: str,
    ascii_re: re.Pattern[str],
    ascii_cues: Mapping[str, Cue],
    cjk_res: tuple[re.Pattern[str], ...],
    cjk_cues: Mapping[str, Cue],
    evidence: Evidence,
) -> None:
    # dict.fromkeys, not set: set order varies with the per-process hash seed, and the reason must not.
    for found in dict.fromkeys(ascii_re.findall(ascii_text)):
        cue = ascii_cues.get(found) or ascii_cues.get(" ".join(found.split()))
        if cue is not None:
            add_cue(evidence, cue.group, found, cue.weight)
    if not low_intent.isascii():
        for pattern in cjk_res:
            for found in dict.fromkeys(pattern.findall(low_intent)):
                cue = cjk_cues[found]
                add_cue(evidence, cue.group, found, cue.weight)


def collect_shape(text: str, scan: str, intent: str, ask: str, evidence: Evidence) -> None:
    """Evidence from the shape of the text, mostly for code. Each regex runs only when a substring it needs
    is present, since most prompts are prose and a skipped check costs a fraction of a regex scan.
    """
    low = scan.lower()
    if any(hint in low for hint in pat.ERROR_HINTS) or any(mark in scan for mark in pat.ERROR_MARKS):
        _errors(scan, low, evidence)
    if any(hint in low for hint in pat.SQL_HINTS) and pat.SQL_RE.search(scan):
        add_cue(evidence, "sql", "SQL", 3.0)
    if _has_shell(scan):
        add_cue(evidence, "shell", "shell command", 2.0)
    if pat.MATH_GATE_RE.search(intent):
        _math(scan, intent, ask, evidence)
    expressive = scan.count("!!") + scan.count("！") + (0 if scan.isascii() else len(pat.EMOJI_RE.findall(scan)))
    if expressive:
        add_cue(evidence, "expressive", "emoji/exclamations", min(1.5, 0.25 + 0.5 * expressive))
    if "." in scan:
        _dotted(scan, evidence)
    if "```" in text or "~~~" in text:
        add_cue(evidence, "code_block", "code block", 4.0)
    if not pat.SYMBOLIC_RE.search(scan):
        return  # plain prose: nothing below can match
    if any(mark in scan for mark in pat.STACK_TRACE_MARKS) or ("(" in scan and pat.FRAME_RE.search(scan)):
        add_cue(evidence, "stack_trace", "stack trace", 4.0)
    if any(hint in scan for hint in pat.LOG_HINTS) and (logs := len(pat.LOG_LINE_RE.findall(scan))):
        add_cue(evidence, "logs", "log lines", 1.5 if logs == 1 else 2.5)
    _paths(scan, evidence)
    _identifiers(scan, evidence)
    if ("[" in scan or "\\" in scan or "(?" in scan) and any(mark in scan for mark in pat.REGEX_MARKS):
        add_cue(evidence, "regex", "regular expression", 3.0)
    if "`" in scan and (inline := len(pat.INLINE_CODE_RE.findall(scan))):
        add_cue(evidence, "inline_code", "inline code", min(1.5, 0.75 * inline))
    if "\n" in scan:
        lines: float = sum(scan.count(mark) for mark in pat.CODE_LINE_MARKS)
        lines += 0.5 * sum(scan.count(mark) for mark in pat.INDENT_MARKS)
        if lines >= 2:
            add_cue(evidence, "code_lines", f"{lines:g} code-like lines", min(4.0, 0.8 * lines))
    if len(scan) >= 40:
        symbols = (
            len(scan) - len(scan.translate(pat.DROP_SYMBOLS))
            if scan.isascii()
            else sum(scan.count(symbol) for symbol in pat.SYMBOLS)
        )
        if symbols > 0.06 * len(scan):
            add_cue(evidence, "symbols", "symbol-dense text", 1.5)


def _errors(scan: str, low: str, evidence: Evidence) -> None:
    for phrase in pat.ERROR_PHRASES:
        if phrase in low:
            add_cue(evidence, "error", phrase.strip(), 1.5)
    if "Error" in scan or "Exception" in scan:
        for match in _first(pat.ERROR_NAME_RE.finditer(scan), 6):
            name = _ident_ending_at(scan, match.end())
            if len(name) > len(match.group()):  # "TypeError", "java.io.IOException"; a bare "Error" is prose
                add_cue(evidence, "error", name, 1.5)
    for mark in pat.ERROR_MARKS:
        if mark in scan:
            add_cue(evidence, "error", mark, 1.5)


def _dotted(scan: str, evidence: Evidence) -> None:
    """File names ("app.py"), method calls ("json.loads(") and domains ("google.com")."""
    for match in _first(pat.EXTENSION_RE.finditer(scan), 6):
        before = scan[match.start() - 1 : match.start()]
        if before.isalnum() or before in ("_", "-"):
            add_cue(evidence, "path", _ident_ending_at(scan, match.end()), 1.0)
    if "(" in scan:
        for match in _first(pat.METHOD_CALL_RE.finditer(scan), 6):
            if scan[match.start() - 1 : match.start()].isalnum():
                add_cue(evidence, "identifier", _ident_ending_at(scan, match.end() - 1), 0.5)
    for match in _first(pat.DOMAIN_RE.finditer(scan), 6):
        if scan[match.start() - 1 : match.start()].isalnum():
            add_cue(evidence, "identifier", "domain name", 0.75)
            break


def _paths(scan: str, evidence: Evidence) -> None:
    if "/" in scan:
        for match in _first(pat.UNIX_PATH_RE.finditer(scan), 6):
            # Not a URL ("https://x/y") nor a fraction ("and/or/both").
            if scan[match.start() - 1 : match.start()] in ("", " ", "\n", "\t", "'", '"', "(", "`", "=", "~", "."):
                add_cue(evidence, "path", match.group(), 1.0)
    if ":\\" in scan:
        for found in pat.WINDOWS_PATH_RE.findall(scan)[:4]:
            add_cue(evidence, "path", found, 1.0)


def _identifiers(scan: str, evidence: Evidence) -> None:
    for operator in dict.fromkeys(pat.OPERATOR_RE.findall(scan)):
        add_cue(evidence, "identifier", operator, 0.5)
    if "_" in scan:
        for match in _first(pat.SNAKE_CASE_RE.finditer(scan), 6):
            name = _ident_ending_at(scan, match.end())
            if name[:1].isalpha() and len(name) > len(match.group()):
                add_cue(evidence, "identifier", name, 0.5)
    if ("0x" in scan or "0b" in scan) and pat.NUMBER_LITERAL_RE.search(scan):
        add_cue(evidence, "identifier", "0x/0b literal", 0.5)


def _has_shell(scan: str) -> bool:
    prompted = scan.startswith(("$ ", "# ", "> ", "% ")) or any(prompt in scan for prompt in pat.SHELL_PROMPTS)
    if prompted and pat.SHELL_PROMPT_RE.search(scan):
        return True
    if " -" in scan:
        for match in _first(pat.SHELL_FLAG_RE.finditer(scan), 12):
            before = scan[max(0, match.start() - 16) : match.start()].rsplit(None, 1)
            if before and before[-1].lstrip("`'\"($") in pat.SHELL_COMMANDS:
                return True
    return False


def _math(scan: str, intent: str, ask: str, evidence: Evidence) -> None:
    for symbol in pat.MATH_SYMBOLS:
        if symbol in intent:
            add_cue(evidence, "equation", symbol, 1.0)
    if "^" in scan and pat.POWER_RE.search(scan):
        add_cue(evidence, "equation", "power", 1.0)
    if "[[" in scan and pat.MATRIX_RE.search(scan):
        add_cue(evidence, "equation", "matrix", 1.0)
    if "O(" in scan and pat.BIG_O_RE.search(scan):
        add_cue(evidence, "equation", "big-O", 1.0)
    # Equations and word problems are stated in the question itself, so only its window is read.
    if any(digit in intent for digit in pat.DIGITS):
        for found in pat.EQUATION_RE.findall(intent)[:4]:
            add_cue(evidence, "equation", found, 1.0)
        asks = pat.WORD_PROBLEM_RE.search(ask) is not None or any(mark in ask for mark in pat.CJK_WORD_PROBLEM_MARKS)
        if asks and len(pat.NUMBER_RE.findall(intent)) >= 2:
            add_cue(evidence, "word_problem", "word problem", 1.5)


def _first(matches: Iterator[re.Match[str]], limit: int) -> Iterator[re.Match[str]]:
    """A long paste can hold hundreds of matches; the capped groups are full after a few."""
    return itertools.islice(matches, limit)


def _ident_ending_at(text: str, end: int) -> str:
    """The identifier (dotted names included) that ends at `end`, e.g. "json.decoder.JSONDecodeError"."""
    token = text[max(0, end - 60) : end].rsplit(None, 1)
    if not token:
        return ""
    if token[-1].isascii():
        return token[-1].lstrip(pat.IDENT_LEADING_JUNK)
    match = pat.IDENT_TAIL_RE.search(token[-1])  # glued to Chinese text: "错误是ValueError"
    return match.group() if match else ""


def collect_requests(low: str, evidence: Evidence) -> None:
    """Asking for an artefact is the strongest cue. When one message asks for both kinds ("write a
    function that generates a haiku"), the first request names the deliverable and the second only
    describes it, so the second counts for half. The patterns only run when the word lists found one of
    the nouns they need.
    """
    cjk = not low.isascii()
    code = creative = None
    if "tech" in evidence or "math" in evidence:
        code = _earliest(
            _request(low, pat.CODE_VERBS, pat.CODE_OBJECT_RE),
            _found(pat.CODE_PHRASE_RE.search(low)),
            _found(pat.CJK_CODE_REQUEST_RE.search(low)) if cjk else None,
        )
    if "form" in evidence or any(hint in low for hint in pat.CREATIVE_REQUEST_HINTS):
        creative = _earliest(
            _request(low, pat.CREATIVE_VERBS, pat.CREATIVE_OBJECT_RE), _found(pat.CREATIVE_PHRASE_RE.search(low))
        )
    if cjk and ("form" in evidence or any(hint in low for hint in pat.CJK_CREATIVE_REQUEST_HINTS)):
        creative = _earliest(creative, _found(pat.CJK_CREATIVE_REQUEST_RE.search(low)))
    code_weight, creative_weight = 3.0, 3.5
    if code is not None and creative is not None:
        if code[0] <= creative[0]:
            creative_weight /= 2
        else:
            code_weight /= 2
    if code is not None:
        add_cue(evidence, "code_request", code[1], code_weight)
    if creative is not None:
        add_cue(evidence, "creative_request", creative[1], creative_weight)
    elif code is None:
        bare = _found(pat.WRITE_RE.match(low))
        if bare is None and cjk and any(hint in low for hint in pat.CJK_WRITE_HINTS):
            starts = (m for m in _first(pat.CJK_WRITE_RE.finditer(low), 6) if _opens_clause(low, m.start()))
            bare = _found(next(starts, None))
        if bare is not None:
            add_cue(evidence, "write", bare[1], 1.25)


# Where a request starts, and its text.
_Request = tuple[int, str]


def _request(low: str, verbs: tuple[str, ...], object_re: re.Pattern[str]) -> _Request | None:
    """The earliest verb that starts a word and is followed, within a few words, by the object pattern."""
    best: _Request | None = None
    for verb in verbs:
        start = low.find(verb)
        while start >= 0 and (best is None or start < best[0]):
            if (start == 0 or not low[start - 1].isalnum()) and (match := object_re.match(low, start + len(verb))):
                best = (start, low[start : match.end()])
                break
            start = low.find(verb, start + 1)
    return best


def _found(match: re.Match[str] | None) -> _Request | None:
    return None if match is None else (match.start(), match.group())


def _earliest(*requests: _Request | None) -> _Request | None:
    present = [request for request in requests if request is not None]
    return min(present) if present else None


def _opens_clause(text: str, start: int) -> bool:
    for prefix in pat.CJK_WRITE_PREFIXES:
        if text.endswith(prefix, 0, start):
            start -= len(prefix)
            break
    return start == 0 or text[start - 1] in pat.CLAUSE_BREAKS
