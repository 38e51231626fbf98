"""Is a chat request a technical/coding problem, creative writing or conversation, or anything else?

The routing tree asks this when the client sends no `X-Route-Task` hint. It runs on every request, so it is
a hand-weighted scorer over word lists and text patterns (`task_signals`), not a model: fast, deterministic,
and able to say why it decided what it did.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from gateway.routing import task_signals as sig
from gateway.routing.task_signals import TaskClass

__all__ = ["MAX_PROMPT_CHARS", "MAX_SYSTEM_CHARS", "TaskClass", "TaskVerdict", "classify_task"]

# The end of a conversation says what is wanted now, and reading a megabyte of pasted context would cost
# milliseconds on every request. A system prompt states its persona and purpose in its opening sentences,
# and reading more of it costs ~45 us per 1,000 characters on every request that carries one.
MAX_PROMPT_CHARS = 8000
MAX_SYSTEM_CHARS = 600
# Within that, the regexes read the start and the end: a long paste in the middle adds little once the
# capped groups are full, and an instruction sits before or after what it is about ("Summarise this: ...",
# "... what does this error mean?"). Chinese words (one character is about a token) get a narrower window,
# and the request patterns ("write a poem", "how many ...") only read where a request is phrased. The windows
# were 600 + 1,000 characters; at 250 + 350 agreement on the labelled set is unchanged (its prompts are
# shorter) and a 1k-token prompt classifies in ~130 us instead of ~230 us, the bulk of the routing budget.
_SCAN_HEAD, _SCAN_TAIL = 250, 350
_INTENT_HEAD, _INTENT_TAIL = 250, 250
_ASK_HEAD, _ASK_TAIL = 200, 150

# A system prompt shapes the answer but the user's words decide the task: its evidence is damped and capped.
_SYSTEM_DAMPING = 0.4
_CLASSES: tuple[TaskClass, ...] = ("code", "creative", "general")
# Groups whose matched text is worth quoting in a reason; the others are described by their label.
_QUOTED_GROUPS = frozenset(
    {"error", "path", "identifier", "equation", "code_request", "tech", "math", "creative_request", "write"}
    | {"form", "roleplay", "brainstorm", "chat", "feelings", "tone", "task", "info", "question", "lay", "topic"}
)

# group -> {matched text -> weight}; a cue counts once however often it occurs.
_Evidence = dict[str, dict[str, float]]


@dataclass(frozen=True, slots=True)
class TaskVerdict:
    task_class: TaskClass
    reason: str  # short human-readable why, strongest signals first
    scores: Mapping[str, float]  # {"code": x, "creative": y, "general": z}


def classify_task(
    prompt: str, *, system: str = "", has_tools: bool = False, structured_output: bool = False
) -> TaskVerdict:
    text = prompt[-MAX_PROMPT_CHARS:]
    scan = _window(text, _SCAN_HEAD, _SCAN_TAIL)
    intent = _window(scan, _INTENT_HEAD, _INTENT_TAIL)
    low_intent = intent.lower()
    ask = _window(low_intent, _ASK_HEAD, _ASK_TAIL)
    evidence: _Evidence = {}
    _words(scan.lower(), low_intent, evidence)
    _shape(text, scan, intent, ask, evidence)
    _requests(ask, evidence)
    if system:
        _system(system[:MAX_SYSTEM_CHARS], evidence)
    # Tools and JSON output are common in technical integrations, but a poem can come back as JSON too.
    if has_tools:
        _add(evidence, "tools", "tools", 0.75)
    if structured_output:
        _add(evidence, "structured", "structured", 0.75)
    return _verdict(evidence)


def _window(text: str, head: int, tail: int) -> str:
    # Joined by a space, not a newline: a newline of ours would make every long prose prompt look like it
    # has lines worth checking for code, and the tail starts mid-line anyway.
    return text if len(text) <= head + tail else text[:head] + " " + text[-tail:]


def _add(evidence: _Evidence, group: str, example: str, weight: float) -> None:
    examples = evidence.setdefault(group, {})
    if weight > examples.get(example, 0.0):
        examples[example] = weight


def _words(low: str, low_intent: str, evidence: _Evidence) -> None:
    ascii_text = low if low.isascii() else " ".join(sig.ASCII_RUN_RE.findall(low))
    # dict.fromkeys, not set: set order varies with the per-process hash seed, and the reason must not.
    for found in dict.fromkeys(sig.ASCII_RE.findall(ascii_text)):
        cue = sig.ASCII_CUES.get(found) or sig.ASCII_CUES.get(" ".join(found.split()))
        if cue is not None:
            _add(evidence, cue.group, found, cue.weight)
    if not low_intent.isascii():
        for pattern in sig.CJK_RES:
            for found in dict.fromkeys(pattern.findall(low_intent)):
                cue = sig.CJK_CUES[found]
                _add(evidence, cue.group, found, cue.weight)
    if sig.GREETING_RE.match(low_intent):
        _add(evidence, "chat", "greeting", 1.5)
    if sig.ROLEPLAY_RE.match(low_intent):
        _add(evidence, "roleplay", "addresses a character", 2.0)


def _shape(text: str, scan: str, intent: str, ask: str, evidence: _Evidence) -> None:
    """Evidence from the shape of the text, mostly for code. Each regex runs only when a substring it needs
    is present, since most prompts are prose and a skipped check costs a fraction of a regex scan.
    """
    low = scan.lower()
    if any(hint in low for hint in sig.ERROR_HINTS) or any(mark in scan for mark in sig.ERROR_MARKS):
        _errors(scan, low, evidence)
    if any(hint in low for hint in sig.SQL_HINTS) and sig.SQL_RE.search(scan):
        _add(evidence, "sql", "SQL", 3.0)
    if _has_shell(scan):
        _add(evidence, "shell", "shell command", 2.0)
    if sig.MATH_GATE_RE.search(intent):
        _math(scan, intent, ask, evidence)
    expressive = scan.count("!!") + scan.count("！") + (0 if scan.isascii() else len(sig.EMOJI_RE.findall(scan)))
    if expressive:
        _add(evidence, "expressive", "emoji/exclamations", min(1.5, 0.25 + 0.5 * expressive))
    if "." in scan:
        _dotted(scan, evidence)
    if "```" in text or "~~~" in text:
        _add(evidence, "code_block", "code block", 4.0)
    if not sig.SYMBOLIC_RE.search(scan):
        return  # plain prose: nothing below can match
    if any(mark in scan for mark in sig.STACK_TRACE_MARKS) or ("(" in scan and sig.FRAME_RE.search(scan)):
        _add(evidence, "stack_trace", "stack trace", 4.0)
    if any(hint in scan for hint in sig.LOG_HINTS) and (logs := len(sig.LOG_LINE_RE.findall(scan))):
        _add(evidence, "logs", "log lines", 1.5 if logs == 1 else 2.5)
    _paths(scan, evidence)
    _identifiers(scan, evidence)
    if "`" in scan and (inline := len(sig.INLINE_CODE_RE.findall(scan))):
        _add(evidence, "inline_code", "inline code", min(1.5, 0.75 * inline))
    if "\n" in scan:
        lines: float = sum(scan.count(mark) for mark in sig.CODE_LINE_MARKS)
        lines += 0.5 * sum(scan.count(mark) for mark in sig.INDENT_MARKS)
        if lines >= 2:
            _add(evidence, "code_lines", f"{lines:g} code-like lines", min(4.0, 0.8 * lines))
    if len(scan) >= 40:
        symbols = (
            len(scan) - len(scan.translate(sig.DROP_SYMBOLS))
            if scan.isascii()
            else sum(scan.count(symbol) for symbol in sig.SYMBOLS)
        )
        if symbols > 0.06 * len(scan):
            _add(evidence, "symbols", "symbol-dense text", 1.5)


def _errors(scan: str, low: str, evidence: _Evidence) -> None:
    for phrase in sig.ERROR_PHRASES:
        if phrase in low:
            _add(evidence, "error", phrase.strip(), 1.5)
    if "Error" in scan or "Exception" in scan:
        for match in _first(sig.ERROR_NAME_RE.finditer(scan), 6):
            name = _ident_ending_at(scan, match.end())
            if len(name) > len(match.group()):  # "TypeError", "java.io.IOException"; a bare "Error" is prose
                _add(evidence, "error", name, 1.5)
    for mark in sig.ERROR_MARKS:
        if mark in scan:
            _add(evidence, "error", mark, 1.5)


def _dotted(scan: str, evidence: _Evidence) -> None:
    """File names ("app.py"), method calls ("json.loads(") and domains ("google.com")."""
    for match in _first(sig.EXTENSION_RE.finditer(scan), 6):
        before = scan[match.start() - 1 : match.start()]
        if before.isalnum() or before in ("_", "-"):
            _add(evidence, "path", _ident_ending_at(scan, match.end()), 1.0)
    if "(" in scan:
        for match in _first(sig.METHOD_CALL_RE.finditer(scan), 6):
            if scan[match.start() - 1 : match.start()].isalnum():
                _add(evidence, "identifier", _ident_ending_at(scan, match.end() - 1), 0.5)
    for match in _first(sig.DOMAIN_RE.finditer(scan), 6):
        if scan[match.start() - 1 : match.start()].isalnum():
            _add(evidence, "identifier", "domain name", 0.75)
            break


def _paths(scan: str, evidence: _Evidence) -> None:
    if "/" in scan:
        for match in _first(sig.UNIX_PATH_RE.finditer(scan), 6):
            # Not a URL ("https://x/y") nor a fraction ("and/or/both").
            if scan[match.start() - 1 : match.start()] in ("", " ", "\n", "\t", "'", '"', "(", "`", "=", "~", "."):
                _add(evidence, "path", match.group(), 1.0)
    if ":\\" in scan:
        for found in sig.WINDOWS_PATH_RE.findall(scan)[:4]:
            _add(evidence, "path", found, 1.0)


def _identifiers(scan: str, evidence: _Evidence) -> None:
    for operator in dict.fromkeys(sig.OPERATOR_RE.findall(scan)):
        _add(evidence, "identifier", operator, 0.5)
    if "_" in scan:
        for match in _first(sig.SNAKE_CASE_RE.finditer(scan), 6):
            name = _ident_ending_at(scan, match.end())
            if name[:1].isalpha() and len(name) > len(match.group()):
                _add(evidence, "identifier", name, 0.5)
    if ("0x" in scan or "0b" in scan) and sig.NUMBER_LITERAL_RE.search(scan):
        _add(evidence, "identifier", "0x/0b literal", 0.5)


def _has_shell(scan: str) -> bool:
    prompted = scan.startswith(("$ ", "# ", "> ", "% ")) or any(prompt in scan for prompt in sig.SHELL_PROMPTS)
    if prompted and sig.SHELL_PROMPT_RE.search(scan):
        return True
    if " -" in scan:
        for match in _first(sig.SHELL_FLAG_RE.finditer(scan), 12):
            before = scan[max(0, match.start() - 16) : match.start()].rsplit(None, 1)
            if before and before[-1].lstrip("`'\"($") in sig.SHELL_COMMANDS:
                return True
    return False


def _math(scan: str, intent: str, ask: str, evidence: _Evidence) -> None:
    for symbol in sig.MATH_SYMBOLS:
        if symbol in intent:
            _add(evidence, "equation", symbol, 1.0)
    if "^" in scan and sig.POWER_RE.search(scan):
        _add(evidence, "equation", "power", 1.0)
    if "[[" in scan and sig.MATRIX_RE.search(scan):
        _add(evidence, "equation", "matrix", 1.0)
    if "O(" in scan and sig.BIG_O_RE.search(scan):
        _add(evidence, "equation", "big-O", 1.0)
    # Equations and word problems are stated in the question itself, so only its window is read.
    if any(digit in intent for digit in sig.DIGITS):
        for found in sig.EQUATION_RE.findall(intent)[:4]:
            _add(evidence, "equation", found, 1.0)
        asks = sig.WORD_PROBLEM_RE.search(ask) is not None or any(mark in ask for mark in sig.CJK_WORD_PROBLEM_MARKS)
        if asks and len(sig.NUMBER_RE.findall(intent)) >= 2:
            _add(evidence, "word_problem", "word problem", 1.5)


def _first(matches: Iterator[re.Match[str]], limit: int) -> Iterator[re.Match[str]]:
    """A long paste can hold hundreds of matches; the capped groups are full after a few."""
    return itertools.islice(matches, limit)


def _ident_ending_at(text: str, end: int) -> str:
    """The identifier (dotted names included) that ends at `end`, e.g. "json.decoder.JSONDecodeError"."""
    token = text[max(0, end - 60) : end].rsplit(None, 1)
    if not token:
        return ""
    if token[-1].isascii():
        return token[-1].lstrip(sig.IDENT_LEADING_JUNK)
    match = sig.IDENT_TAIL_RE.search(token[-1])  # glued to Chinese text: "错误是ValueError"
    return match.group() if match else ""


def _requests(low: str, evidence: _Evidence) -> None:
    """Asking for an artefact is the strongest cue. When one message asks for both kinds ("write a
    function that generates a haiku"), the first request names the deliverable and the second only
    describes it, so the second counts for half. The patterns only run when the word lists found one of
    the nouns they need.
    """
    cjk = not low.isascii()
    code = creative = None
    if "tech" in evidence or "math" in evidence:
        code = _earliest(
            _request(low, sig.CODE_VERBS, sig.CODE_OBJECT_RE),
            _found(sig.CODE_PHRASE_RE.search(low)),
            _found(sig.CJK_CODE_REQUEST_RE.search(low)) if cjk else None,
        )
    if "form" in evidence or any(hint in low for hint in sig.CREATIVE_REQUEST_HINTS):
        creative = _earliest(
            _request(low, sig.CREATIVE_VERBS, sig.CREATIVE_OBJECT_RE), _found(sig.CREATIVE_PHRASE_RE.search(low))
        )
    if cjk and ("form" in evidence or any(hint in low for hint in sig.CJK_CREATIVE_REQUEST_HINTS)):
        creative = _earliest(creative, _found(sig.CJK_CREATIVE_REQUEST_RE.search(low)))
    code_weight, creative_weight = 3.0, 3.5
    if code is not None and creative is not None:
        if code[0] <= creative[0]:
            creative_weight /= 2
        else:
            code_weight /= 2
    if code is not None:
        _add(evidence, "code_request", code[1], code_weight)
    if creative is not None:
        _add(evidence, "creative_request", creative[1], creative_weight)
    elif code is None:
        bare = _found(sig.WRITE_RE.match(low))
        if bare is None and cjk and any(hint in low for hint in sig.CJK_WRITE_HINTS):
            starts = (m for m in _first(sig.CJK_WRITE_RE.finditer(low), 6) if _opens_clause(low, m.start()))
            bare = _found(next(starts, None))
        if bare is not None:
            _add(evidence, "write", bare[1], 1.25)


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
    for prefix in sig.CJK_WRITE_PREFIXES:
        if text.endswith(prefix, 0, start):
            start -= len(prefix)
            break
    return start == 0 or text[start - 1] in sig.CLAUSE_BREAKS


def _system(system: str, evidence: _Evidence) -> None:
    own: _Evidence = {}
    low = system.lower()
    _words(low, low, own)
    totals, _ = _class_scores(own, 0.0)
    if sig.SYSTEM_PERSONA_RE.search(low):  # "You are a friendly companion": a conversational deployment
        totals["creative"] += 2.5
    for task in _CLASSES:
        if totals[task] > 0:
            _add(evidence, f"system_{task}", f"system_{task}", totals[task] * _SYSTEM_DAMPING)


def _class_scores(evidence: _Evidence, prior: float) -> tuple[dict[TaskClass, float], list[tuple[float, str]]]:
    """Per-class totals, and each group's capped score for the reason."""
    totals: dict[TaskClass, float] = {"code": 0.0, "creative": 0.0, "general": prior}
    ranked = []
    for group, examples in evidence.items():
        task, cap, _ = sig.GROUPS[group]
        score = min(cap, sum(examples.values()))
        totals[task] += score
        ranked.append((score, group))
    return totals, ranked


def _verdict(evidence: _Evidence) -> TaskVerdict:
    totals, ranked = _class_scores(evidence, sig.GENERAL_PRIOR)
    # Decided on the rounded scores, so that a tie the caller can see in `scores` is a tie here too.
    scores: dict[str, float] = {task: round(totals[task], 2) for task in _CLASSES}
    best = max(scores.values())
    leaders = [task for task in _CLASSES if scores[task] == best]
    # Ties go to general: routing a doubtful request to the default model is the cheap mistake.
    winner: TaskClass = leaders[0] if len(leaders) == 1 else "general"
    return TaskVerdict(winner, _reason(winner, evidence, ranked), MappingProxyType(scores))


def _reason(winner: TaskClass, evidence: _Evidence, ranked: list[tuple[float, str]]) -> str:
    mine = [(-score, group) for score, group in ranked if sig.GROUPS[group].task == winner]
    if not mine:
        return "no strong signal (default)"
    mine.sort()  # strongest first; equal scores in group-name order, so the text is stable
    parts = []
    for _, group in mine[:3]:
        examples = evidence[group]
        label = sig.GROUPS[group].label
        if group == "code_lines":
            parts.append(next(iter(examples)))
        elif group not in _QUOTED_GROUPS:
            parts.append(label)
        else:
            strongest = sorted(examples, key=examples.__getitem__, reverse=True)[:3]  # stable: ties keep text order
            shown = ", ".join(_snippet(example) for example in strongest)
            parts.append(f"{len(examples)} {label} ({shown})" if len(examples) > 1 else f"{label} ({shown})")
    return "; ".join(parts)


def _snippet(text: str, limit: int = 32) -> str:
    if len(text) <= limit and "\n" not in text and "  " not in text:
        return text
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
