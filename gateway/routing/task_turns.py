"""Which turn of a conversation decides its task: the last user turn, unless it only continues an earlier one.

A coding session whose last turn asks for a limerick is a creative request now; "now make it faster" after a
function is still a coding one. So the last turn is classified on its own first, and only a short turn with
no decisive signal of its own that reads as a follow-up ("now ...", "make it ...", "another one", "再来一个")
is read together with the turn before it (or the one before that, when that adds nothing decisive either).
"""

from __future__ import annotations

import re
from typing import Final

from gateway.routing.conversation_text import Conversation
from gateway.routing.task_classifier import TaskVerdict, classify_task, rule_verdict
from gateway.routing.task_verdict import decisive

# A follow-up is short: a new task comes with what it is about.
_FOLLOW_UP_CHARS: Final = 160
# How far back a follow-up is looked for its task: further back, the conversation has moved on.
_EARLIER_TURNS: Final = 3
_FOLLOW_UP_RE: Final = re.compile(
    r"\W*(?:now|also|and|then|ok(?:ay)?|great|thanks|thank you|cool|nice|perfect|but|so|what about|how about|"
    r"again|another|one more|more|less|shorter|longer|simpler|smaller|faster|slower|why|add|remove|use|change|"
    r"instead|same|try|redo|rewrite|fix|make|do|can you|could you|please|pls|same|it|this|that|the (?:first|"
    r"second|third|last|next|previous|above)|in (?:english|french|spanish|german|chinese|japanese|python|java)\b|"
    r"再|继续|繼續|改成|换成|換成|改为|改為|那|还有|還有|然后|然後|为什么|為什麼|短一点|短一點|长一点|長一點|"
    r"好的|谢谢|謝謝|可以|能不能|第二|第三|上面|这个|這個|那个|那個|它)"
)


def classify_conversation(conversation: Conversation, *, has_tools: bool, structured_output: bool) -> TaskVerdict:
    text, turn = deciding_text(conversation, has_tools=has_tools, structured_output=structured_output)
    verdict = classify_task(text, system=conversation.system, has_tools=has_tools, structured_output=structured_output)
    return verdict if turn is None else TaskVerdict(verdict.task_class, f"{turn}: {verdict.reason}", verdict.scores)


def deciding_text(conversation: Conversation, *, has_tools: bool, structured_output: bool) -> tuple[str, str | None]:
    """The text that says what is asked (the last turn, or a follow-up with the turn it follows), and which turn
    that is, in words (None for a single turn). Follow-ups are told by the rules alone: what is certain."""
    turns = conversation.turns
    if len(turns) < 2:
        return (turns[0] if turns else ""), None

    def rules(text: str) -> TaskVerdict:
        return rule_verdict(text, system=conversation.system, has_tools=has_tools, structured_output=structured_output)

    count = len(turns)
    if not _follows_up(turns[-1], rules(turns[-1])):
        return turns[-1], f"the last user turn ({count} of {count})"
    quoted = _quote(turns[-1])
    for index in range(count - 2, max(-1, count - 2 - _EARLIER_TURNS), -1):
        joined = turns[index] + "\n" + turns[-1]
        if decisive(rules(joined)):
            return joined, f"user turn {index + 1} of {count}, which the last ({quoted}) follows up"
    return turns[-2] + "\n" + turns[-1], f"the last user turn ({quoted}) with the one before, neither decisive"


def _follows_up(text: str, verdict: TaskVerdict) -> bool:
    return len(text) <= _FOLLOW_UP_CHARS and not decisive(verdict) and _FOLLOW_UP_RE.match(text.lower()) is not None


def _quote(text: str, limit: int = 40) -> str:
    flat = " ".join(text.split())
    return f"“{flat}”" if len(flat) <= limit else f"“{flat[: limit - 1]}…”"
