"""Which turn of a conversation decides its task: the last user turn, unless it only continues an earlier one.

A coding session whose last turn asks for a limerick is a creative request now; "now make it faster" after a
function is still a coding one. So the last turn is read on its own first, and only a short turn with no request
of its own that reads as a follow-up ("now ...", "make it ...", "another one", "再来一个", or a few words that
lean on what came before) is read together with the turn before it (or the one before that, when that decides
nothing either).
"""

from __future__ import annotations

import re
from typing import Final

from gateway.routing.conversation_text import Conversation
from gateway.routing.task_classifier import TaskVerdict, classify_task, rule_verdict
from gateway.routing.task_verdict import decisive

# A follow-up is short: a new task comes with what it is about. Chinese says as much in about half the characters.
_FOLLOW_UP_CHARS: Final = 90
_ELLIPTIC_CHARS: Final = 30  # this short, a turn leans on the one before whatever its first word
# How much of the assistant's answer a follow-up is read with: its opening shows what kind of answer it is.
_REPLY_CHARS: Final = 600
# How far back a follow-up is looked for its task: further back, the conversation has moved on.
_EARLIER_TURNS: Final = 3
# The groups of a request made in so many words ("write a poem", "写一个函数"), or of a turn that says how the
# user feels or asks for ideas: a turn with one asks anew.
_OWN_REQUESTS: Final = frozenset(
    {"creative_request", "code_request", "code_block", "stack_trace", "sql", "regex", "brainstorm", "feelings"}
)
_FOLLOW_UP_RE: Final = re.compile(
    r"\W*(?:now|also|and|then|ok(?:ay)?|great|thanks|thank you|cool|nice|perfect|but|so|what about|how about|"
    r"wait|hmm|ooh|oh|again|another|one more|more|less|shorter|longer|simpler|smaller|faster|slower|why|isn't|"
    r"doesn't|add|remove|use|change|instead|same|try|redo|rewrite|fix|make|do|can you|could you|please|pls|it|"
    r"this|that|these|those|ones?|round|continue|go on|keep going|the (?:first|second|third|last|next|previous|"
    r"above)|in (?:english|french|spanish|german|chinese|japanese|python|java)\b|"
    r"再|继续|繼續|接着|接著|改成|改为|改為|换成|換成|那|还有|還有|然后|然後|为什么|為什麼|短一|长一|長一|多加|"
    r"少一|加上|去掉|好的|谢谢|謝謝|可以|能不能|第二|第三|上面|这个|這個|那个|那個|它|下联|下聯|结局|結局|如果|要是)"
)
# A short question about what was said before: "how would that change at 100x?", "what if they refuse?".
_POINTS_BACK_RE: Final = re.compile(
    r"\b(?:that|those|these|them|they|it|ones|the same|instead|again|your turn|\w+er ones?)\b|"
    r"这个|這個|那个|那個|它|他们|他們|[呢吗嗎][？?]\s*$"
)
_CJK_RE: Final = re.compile(r"[\u3400-\u9fff]")
# "Also, a different question: ..." turns to something new, however it starts.
_NEW_TOPIC: Final = (
    "different question",
    "another question",
    "unrelated",
    "serious question",
    "quick question",
    "by the way",
    "btw",
    "separate question",
    "另外",
    "顺便问",
    "順便問",
    "对了",
    "對了",
    "另外问",
    "另外問",
    "换个话题",
    "換個話題",
    "另一个问题",
    "另一個問題",
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
    last, asked_anew = _after_new_topic(turns[-1])
    if asked_anew:
        return last, f"the last user turn ({count} of {count}), from where it turns to something new"
    if not _follows_up(last, rules(last)):
        return last, f"the last user turn ({count} of {count})"
    quoted = _quote(turns[-1])
    for index in range(count - 2, max(-1, count - 2 - _EARLIER_TURNS), -1):
        joined = turns[index] + "\n" + turns[-1]
        if decisive(rules(joined)):
            return joined, f"user turn {index + 1} of {count}, which the last ({quoted}) follows up"
    if conversation.last_reply:
        # What the assistant answered shows what is being followed up: code, a poem, an email.
        answered = turns[-2] + "\n" + conversation.last_reply[:_REPLY_CHARS] + "\n" + turns[-1]
        if decisive(rules(answered)):
            return answered, f"the last user turn ({quoted}) with the turn and the answer it follows up"
    return turns[-2] + "\n" + turns[-1], f"the last user turn ({quoted}) with the one before, neither decisive"


def _after_new_topic(text: str) -> tuple[str, bool]:
    """A turn that thanks or jokes first, then turns to a new question ("lol. Serious question though: ...",
    "可爱。另外问一下 ..."): what it asks is what follows the marker, and the small talk before would only blur it."""
    low = text.lower()
    starts = [low.find(marker) for marker in _NEW_TOPIC]
    start = min((found for found in starts if found >= 0), default=-1)
    if start < 0 or start > len(text) // 2:
        return text, False
    return text[start:], True


def _follows_up(text: str, verdict: TaskVerdict) -> bool:
    """A turn that leans on the one before: short, with no request of its own in so many words, and either very
    short or opening like a follow-up ("now make it faster", "another one", "再来一个", "结局改成悲剧")."""
    scale = 0.5 if _CJK_RE.search(text) else 1.0
    if len(text) > _FOLLOW_UP_CHARS * scale or _OWN_REQUESTS & verdict.groups:
        return False
    low = text.lower()
    if any(marker in low for marker in _NEW_TOPIC):
        return False
    return (
        len(text) <= _ELLIPTIC_CHARS * scale
        or _FOLLOW_UP_RE.match(low) is not None
        or _POINTS_BACK_RE.search(low) is not None
    )


def _quote(text: str, limit: int = 40) -> str:
    flat = " ".join(text.split())
    return f"“{flat}”" if len(flat) <= limit else f"“{flat[: limit - 1]}…”"
