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
from gateway.routing.task_classifier import TaskVerdict, classify_task
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
    turns = conversation.turns
    if not turns:
        return classify_task("", system=conversation.system, has_tools=has_tools, structured_output=structured_output)

    def classify(text: str) -> TaskVerdict:
        return classify_task(text, system=conversation.system, has_tools=has_tools, structured_output=structured_output)

    last = classify(turns[-1])
    count = len(turns)
    if count == 1:
        return last
    if not _follows_up(turns[-1], last):
        return _told(last, f"the last user turn ({count} of {count})")
    quoted = _quote(turns[-1])
    first_read: TaskVerdict | None = None
    for index in range(count - 2, max(-1, count - 2 - _EARLIER_TURNS), -1):
        joined = classify(turns[index] + "\n" + turns[-1])
        if decisive(joined):
            return _told(joined, f"user turn {index + 1} of {count}, which the last ({quoted}) follows up")
        first_read = first_read or joined
    assert first_read is not None  # count > 1: the loop ran
    return _told(first_read, f"the last user turn ({quoted}) with the one before, neither decisive")


def _follows_up(text: str, verdict: TaskVerdict) -> bool:
    return len(text) <= _FOLLOW_UP_CHARS and not decisive(verdict) and _FOLLOW_UP_RE.match(text.lower()) is not None


def _told(verdict: TaskVerdict, turn: str) -> TaskVerdict:
    return TaskVerdict(verdict.task_class, f"{turn}: {verdict.reason}", verdict.scores)


def _quote(text: str, limit: int = 40) -> str:
    flat = " ".join(text.split())
    return f"“{flat}”" if len(flat) <= limit else f"“{flat[: limit - 1]}…”"
