"""Is a chat request a technical/coding problem, creative writing or conversation, or anything else?

The routing tree asks this when the client sends no `X-Route-Task` hint. It runs on every request, so it is
a hand-weighted scorer over word lists and text patterns, not a model: fast, deterministic, and able to say
why it decided what it did. This module decides which parts of a request are read and puts the steps
together: the word lists are in `task_lexicon_en`/`task_lexicon_zh` (compiled by `task_word_matchers`), the
text patterns in `task_text_patterns`, collecting evidence in `task_evidence`, and weighing it in
`task_verdict`, with the groups it is weighed by in `task_groups`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from gateway.routing.task_evidence import Evidence, add_cue, collect_requests, collect_shape, collect_words
from gateway.routing.task_groups import GROUPS, TASK_CLASSES, TaskClass
from gateway.routing.task_material import MATERIAL_DAMPING, MATERIAL_MOST, text_task_instruction
from gateway.routing.task_model import TaskModel, load_task_model, rule_inputs, text_features
from gateway.routing.task_text_patterns import SYSTEM_PERSONA_RE
from gateway.routing.task_verdict import TaskVerdict, class_scores, decisive, group_scores, lead, reach_verdict

__all__ = [
    "MAX_PROMPT_CHARS",
    "MAX_SYSTEM_CHARS",
    "TaskClass",
    "TaskVerdict",
    "classify_task",
    "read_evidence",
    "rule_verdict",
]

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

TASK_MODEL = load_task_model()

# The system prompt is context: it settles what the user's words leave open (a lead under this), and never
# overrules a clear ask ("You are a senior Python engineer" + "write my dad a birthday poem").
SYSTEM_SETTLES_UNDER = 1.0
# A system prompt shapes the answer but the user's words decide the task: its evidence is damped and capped.
_SYSTEM_DAMPING = 0.4


def classify_task(
    prompt: str, *, system: str = "", has_tools: bool = False, structured_output: bool = False
) -> TaskVerdict:
    evidence, low = read_evidence(prompt, system=system, has_tools=has_tools, structured_output=structured_output)
    rules = reach_verdict(evidence)
    # Where the rules lead clearly (about 60% of the labelled set) the model agrees with them all but once in a
    # thousand, measured leaving each writing round out of its training: it is asked only where they do not.
    if TASK_MODEL is None or decisive(rules):
        return rules
    return _revised(TASK_MODEL, rules, evidence, low)


def rule_verdict(
    prompt: str, *, system: str = "", has_tools: bool = False, structured_output: bool = False
) -> TaskVerdict:
    """The hand-written rules' verdict alone: what is certain in a text, as the turn reading asks."""
    evidence, _ = read_evidence(prompt, system=system, has_tools=has_tools, structured_output=structured_output)
    return reach_verdict(evidence)


def read_evidence(prompt: str, *, system: str, has_tools: bool, structured_output: bool) -> tuple[Evidence, str]:
    """The rules' evidence, and the lower-cased text they read (the learned model reads its words)."""
    text = prompt[-MAX_PROMPT_CHARS:]
    scan = _window(text, _SCAN_HEAD, _SCAN_TAIL)
    intent = _window(scan, _INTENT_HEAD, _INTENT_TAIL)
    low_intent = intent.lower()
    ask = _window(low_intent, _ASK_HEAD, _ASK_TAIL)
    evidence: Evidence = {}
    low = scan.lower()
    collect_words(low, low_intent, evidence)
    collect_shape(text, scan, intent, ask, evidence)
    collect_requests(ask, evidence)
    material_task = text_task_instruction(low)
    if material_task is not None:
        _damp_material(*material_task, evidence)
    if system and lead(reach_verdict(evidence)) < SYSTEM_SETTLES_UNDER:
        _system(system[:MAX_SYSTEM_CHARS], evidence)
    # Tools and JSON output are common in technical integrations, but a poem can come back as JSON too.
    if has_tools:
        add_cue(evidence, "tools", "tools", 0.75)
    if structured_output:
        add_cue(evidence, "structured", "structured", 0.75)
    return evidence, low


def _damp_material(instruction: str, creative: bool, evidence: Evidence) -> None:
    """Code evidence of a text task's material ("translate this README: ...") counts for little, and so do the
    technical words of its instruction, which name the material or its categories ("tag as frontend/backend")."""
    own: Evidence = {}
    collect_requests(instruction, own)
    for group, examples in evidence.items():
        if GROUPS[group].task == "code":
            kept = own.get(group, {})
            for example in examples:
                if example not in kept:
                    examples[example] *= MATERIAL_DAMPING
            # However much material there is, it is material: a group's damped share stays under one cue's.
            damped = sum(weight for example, weight in examples.items() if example not in kept)
            if damped > MATERIAL_MOST:
                for example in examples:
                    if example not in kept:
                        examples[example] *= MATERIAL_MOST / damped
    if creative:
        add_cue(evidence, "creative_material", "creative writing about given material", 2.0)
    else:
        add_cue(evidence, "material", "text task on given material", 2.0)


def _revised(model: TaskModel, rules: TaskVerdict, evidence: Evidence, low: str) -> TaskVerdict:
    words = text_features(low)
    task_class, totals = model.decide(rule_inputs(group_scores(evidence), rules.scores, rules.task_class), words)
    scores: Mapping[str, float] = MappingProxyType({task: round(totals[task], 2) for task in TASK_CLASSES})
    if task_class == rules.task_class:
        return TaskVerdict(task_class, rules.reason, scores)
    telling = model.telling_words(task_class, words)
    said = f"words {', '.join(telling)}" if telling else "the weight of the evidence"
    reason = f"learned model, from {said} (the rules read {rules.task_class}: {rules.reason})"
    return TaskVerdict(task_class, reason, scores)


def _window(text: str, head: int, tail: int) -> str:
    # Joined by a space, not a newline: a newline of ours would make every long prose prompt look like it
    # has lines worth checking for code, and the tail starts mid-line anyway.
    return text if len(text) <= head + tail else text[:head] + " " + text[-tail:]


def _system(system: str, evidence: Evidence) -> None:
    own: Evidence = {}
    low = system.lower()
    collect_words(low, low, own)
    totals, _ = class_scores(own, 0.0)
    if SYSTEM_PERSONA_RE.search(low):  # "You are a friendly companion": a conversational deployment
        totals["creative"] += 2.5
    for task in TASK_CLASSES:
        if totals[task] > 0:
            add_cue(evidence, f"system_{task}", f"system_{task}", totals[task] * _SYSTEM_DAMPING)
