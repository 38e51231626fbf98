"""Technical words that are only material to work on: "tag these tickets: 'login returns 500'", "translate this
README", "summarise this incident report for the board". The seed's question is whether the request is a complex
technical problem, not whether its text carries technical words, so when the instruction asks for a text task
(translate, summarise, extract, classify, proofread, tabulate) about material given with it, the code evidence the
material alone brings counts for little. A request to debug, fix or write code about the material stays technical.
"""

from __future__ import annotations

import re
from typing import Final

# Where the material begins: after a colon, a line break or an opening quote, near the start.
_MATERIAL_START_RE: Final = re.compile(r"[:：]|\n|[「“\"『《]")
_INSTRUCTION_MOST: Final = 220  # an instruction longer than this is a question in its own right
_MATERIAL_LEAST: Final = 30
# A closing line with these is a line of the material (code), not an instruction after it.
_CODE_MARKS: Final = ("(", "=", "{", ";")
# What the code evidence of the material alone still counts for.
MATERIAL_DAMPING: Final = 0.2
MATERIAL_MOST: Final = 1.0  # per evidence group

# Text tasks on the material: a general request however technical the material.
_TEXT_TASKS: Final = (
    "translat",
    "summar",
    "tl;dr",
    "tldr",
    "extract",
    "pull out",
    "classify",
    "categori",
    "tag ",
    "tag each",
    "label each",
    "label these",
    "proofread",
    "typo",
    "sentiment",
    "into a table",
    "as a table",
    "make a table",
    "sort these",
    "group these",
    "count how many",
    "meeting minutes",
    "non-technical",
    "plain language",
    "plain english",
    "标上",
    "標上",
    "类别",
    "類別",
    "which of these",
    "for each",
    "glossary",
    "markdown table",
    "a table",
    "shorten",
    "condense",
    "only list",
    "assign each",
    "match each",
    "using this mapping",
    "what language",
    "sentence case",
    "title case",
    "show notes",
    "rate each",
    "urgency",
    "数一下",
    "數一下",
    "几个人提到",
    "幾個人提到",
    "出现了几次",
    "出現了幾次",
    "rewrite",
    "turn this",
    "turn these",
    "turn a few",
    "list each",
    "list every",
    "list all",
    "buckets",
    "action items",
    "for our customers",
    "分成",
    "列出",
    "翻译",
    "翻譯",
    "译成",
    "譯成",
    "翻成",
    "总结",
    "總結",
    "摘要",
    "概括",
    "提取",
    "抽取",
    "抽出",
    "整理成",
    "整理出",
    "分类",
    "分類",
    "归类",
    "歸類",
    "标签",
    "標籤",
    "校对",
    "校對",
    "错别字",
    "錯字",
    "改写成",
    "改寫成",
    "统计",
    "統計",
    "情感",
    "会议纪要",
    "會議紀錄",
    "會議記錄",
    "非技术",
    "非技術",
)
# Creative writing about the material ("a haiku from these commit messages"): creative, not technical either.
_CREATIVE_TASKS: Final = (
    "poem",
    "haiku",
    "limerick",
    "lyrics",
    "shanty",
    "sonnet",
    "ballad",
    "rap ",
    "诗",
    "詩",
    "歌词",
    "歌詞",
    "段子",
    "相声",
    "相聲",
    "小红书",
    "小紅書",
    "日记",
    "日記",
    "短剧",
    "短劇",
)
# An instruction that asks to work on the material as code: debug it, fix it, write or explain code for it.
# "Keep the code identifiers as they are" or "lines with an error code" are still text tasks.
_CODE_WORK_RE: Final = re.compile(
    r"\b(?:debug|what'?s wrong|what is wrong|why (?:does|is|do|did)\b|bugs? in|regex|regular expression|"
    r"(?:fix|write|explain|review|optimi[sz]e|refactor|convert|port|rewrite) (?:the |this |my |a |these )?"
    r"(?:code|function|script|query|queries|program|class|method|sql)|parse|parser|scripts?|awk|sed|grep|bash|"
    r"shell)\b|"
    r"修复|修復|解决|解決|调试|除錯|报错原因|怎么改|怎麼改|(?:写|寫|改|优化|優化)[^，。,.\n]{0,20}?"
    r"(?:代码|代碼|程式|程序|脚本|腳本|函数|函式|正则|正規|命令|指令|公式)"
)


def text_task_instruction(low: str) -> tuple[str, bool] | None:
    """The instruction of a text task given with its material (lower-cased text), and whether the task is creative
    writing, or None when the text is not one: the opening words up to where the material begins, or a short
    closing line after it."""
    # The first break after which the instruction asks for a text task: a quote may open inside the
    # instruction ("sort the clauses on 『服務可用率』 into a table: ...").
    for start in _MATERIAL_START_RE.finditer(low, 0, _INSTRUCTION_MOST):
        if len(low) - start.end() < _MATERIAL_LEAST:
            break
        head = low[: start.start()]
        if _CODE_WORK_RE.search(head) is not None:
            return None  # "fix the bug in this summary function: ..."
        if (creative := _asks_text_task(head)) is not None:
            return head, creative
    end = low.rstrip()
    closing = max(end.rfind("\n"), end.rfind("。", 0, len(end) - 1), end.rfind(". ", 0, len(end) - 1))
    if closing >= _MATERIAL_LEAST and len(end) - closing <= _INSTRUCTION_MOST:
        tail = end[closing + 1 :]
        if not any(mark in tail for mark in _CODE_MARKS) and (creative := _asks_text_task(tail)) is not None:
            return tail, creative
    return None


def _asks_text_task(instruction: str) -> bool | None:
    """Whether the instruction asks for creative writing (True) or a text task (False); None: for neither."""
    if _CODE_WORK_RE.search(instruction) is not None:
        return None
    if any(task in instruction for task in _CREATIVE_TASKS):
        return True
    return False if any(task in instruction for task in _TEXT_TASKS) else None
