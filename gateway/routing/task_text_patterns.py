"""The hand-written text patterns the task classifier looks for, compiled once at import.

Two kinds: the shape of the text (code blocks, stack traces, paths, shell commands, equations, ...), and
what the user asks for ("write a poem", "写一个函数"). Next to each pattern are the plain substrings that
gate it, or that stand in for a pattern where `in` is enough (stack-trace marks, verbs found with str.find):
the evidence collectors in `task_evidence` only run a pattern when a substring it needs occurs.

Performance note: Python's `re` costs roughly 15-50 ns per character per pattern unless the pattern starts
with a literal or a character class (then the engine skips ahead in C), while `in` / `str.count` are ~50x
cheaper still. So the structural patterns start with literals and are gated on substrings they need, and the
request patterns only read the start and end of the text, lower-cased (case-insensitive matching is slow too).
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Final

# ---------------------------------------------------------------------------------------------------------
# The shape of the text. Each pattern starts with a literal or a single character class, which lets the
# engine skip ahead cheaply, and runs only when a substring it needs occurs; word boundaries are checked on
# the few matches instead of at every position.
# ---------------------------------------------------------------------------------------------------------
# Each of these occurs almost only in stack traces / crash output.
STACK_TRACE_MARKS: Final = (
    "Traceback (most recent call last)",
    "Exception in thread",
    "\npanic: ",
    "goroutine ",
    "error[E",
    "Segmentation fault",
    "core dumped",
    "\nCaused by: ",
    '\n  File "',
    "--> src/",
)
# Java/JS/C# frames: "at com.acme.Foo.bar(Foo.java:42)", "at render (app.js:10:5)".
FRAME_RE: Final = re.compile(r"at [\w$.<>/]+ ?\([^()\n]*:\d+(?::\d+)?\)")
ERROR_PHRASES: Final = (
    "error: ",
    "connection refused",
    "command not found",
    "permission denied",
    "no such file or directory",
    "failed to start",
    "exit code ",
    "exit status ",
    "bad gateway",
    "internal server error",
    "gateway timeout",
    "service unavailable",
    "outofmemory",
    "out of memory",
    "segmentation fault",
)
ERROR_HINTS: Final = ("error", "exception", "refused", "denied", "not found", "failed", "exit ", "memory", "gateway")
ERROR_NAME_RE: Final = re.compile(r"(?:Error|Exception)\b")
ERROR_MARKS: Final = ("ERR_", "OOM", "OutOfMemory")
LOG_HINTS: Final = ("INFO", "WARN", "ERROR", "DEBUG", "FATAL", "TRACE")
LOG_LINE_RE: Final = re.compile(
    r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d[^\n]*?\b(?:INFO|WARN|WARNING|ERROR|DEBUG|FATAL|TRACE)\b"
)
UNIX_PATH_RE: Final = re.compile(r"/[\w.-]+/[\w.-]+")
WINDOWS_PATH_RE: Final = re.compile(r"[A-Za-z]:\\[\w\\.-]+")
EXTENSION_RE: Final = re.compile(
    r"\.(?:py|js|mjs|ts|tsx|jsx|java|go|rs|rb|php|cpp|hpp|cs|kt|swift|scala|sh|bash|ps1|bat|cmd|exe|dll|msi|"
    r"apk|jar|dylib|sln|csproj|sql|yaml|yml|toml|ini|cfg|conf|json|xml|gradle|ipynb|tf|vue|lock|env|pem|txt|"
    r"log|csv|html|css)\b"
)
INLINE_CODE_RE: Final = re.compile(r"`[^`\n]{1,80}`")
OPERATOR_RE: Final = re.compile(r"!==|===|->|=>|::|&&|\|\||\(\)|!=|\+=")
# The identifier ending at / starting from a position (ASCII only: Chinese text has no spaces around them).
IDENT_TAIL_RE: Final = re.compile(r"[\w.$]+\Z", re.ASCII)
IDENT_LEADING_JUNK: Final = "([{<\"'`=,;:!?*&|+-/"
SNAKE_CASE_RE: Final = re.compile(r"_[a-z0-9]+")
METHOD_CALL_RE: Final = re.compile(r"\.[A-Za-z_]\w*\(")
NUMBER_LITERAL_RE: Final = re.compile(r"0[xb][0-9a-fA-F]+\b")
# A shell prompt starting a line, or a command followed by a flag ("ls -la", "git log --oneline").
SHELL_PROMPTS: Final = ("\n$ ", "\n# ", "\n> ", "\nPS ", "\n% ")
SHELL_PROMPT_RE: Final = re.compile(
    r"(?:\$|#|>|%|PS [A-Z]:\\[^>\n]*>)\s+(?:sudo|cd|ls|git|docker|kubectl|pip3?|npm|npx|yarn|python3?|curl|"
    r"make|cargo|go|apt(?:-get)?|brew|cat|grep|export|echo|chmod|ssh|systemctl|terraform|helm|java|node)\b"
)
SHELL_FLAG_RE: Final = re.compile(r" --?[a-zA-Z]")
SHELL_COMMANDS: Final = frozenset(
    {"ls", "grep", "find", "curl", "wget", "docker", "kubectl", "git", "pip", "pip3", "npm", "npx", "yarn", "tar"}
    | {"chmod", "chown", "ssh", "scp", "awk", "sed", "ps", "kill", "netstat", "lsof", "set", "du", "df", "rm", "cp"}
    | {"mv", "python", "python3", "node", "java", "go", "cargo", "make", "brew", "apt", "apt-get", "systemctl"}
    | {"journalctl", "terraform", "helm", "gcc", "clang", "rsync", "tail", "head"}
)
SQL_HINTS: Final = ("select", "insert into", "delete from", "create table", "alter table", " join ", "group by")
SQL_RE: Final = re.compile(
    r"SELECT\b[^;]{1,300}?\bFROM\b|INSERT\s+INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|"
    r"CREATE\s+(?:TABLE|INDEX|VIEW)\b|ALTER\s+TABLE\b|(?:LEFT|INNER|RIGHT|OUTER)\s+JOIN\b|GROUP\s+BY\b|"
    r"select\s+(?:\*|count\(|distinct\b|[\w.]+\s*,)[^;]{0,300}?\bfrom\b"
)
# Prose lines rarely end in a brace or semicolon or start with `def`/`const`; one such line can be chance,
# several in one message are pasted source or config.
CODE_LINE_MARKS: Final = (
    ";\n",
    "{\n",
    "}\n",
    "):\n",
    "\ndef ",
    "\nclass ",
    "\nimport ",
    "\nreturn",
    "\nconst ",
    "\nfunction",
    "\n#include",
    "\npublic ",
    "\nFROM ",
    " = ",
)
# Without any of these characters a text cannot hold a trace, path, identifier or code line.
SYMBOLIC_RE: Final = re.compile(r"[`{}\[\]();=<>_\\|&*#$@^~/:\n]")
INDENT_MARKS: Final = ("\n    ", "\n\t")
# Pieces only a regular expression has: "^\d{3}-\d{4}$", "[A-Z]{1,2}", "(?:", "[^,]".
REGEX_MARKS: Final = ("\\d", "\\w", "\\s", "\\b", "]{", "]+", "]*", "(?:", "(?=", "(?!", "[^", "[a-z", "[A-Z", "[0-9")
SYMBOLS: Final = "{}[]();=<>_\\|&*#$@^~"
# str.maketrans builds a plain dict; the view keeps the shared table read-only.
DROP_SYMBOLS: Final = MappingProxyType(str.maketrans("", "", SYMBOLS))
# Without a digit, operator, bracket or math sign there is no equation to find ("f(x)" and "O(n)" have "(").
MATH_GATE_RE: Final = re.compile(r"[\d^√∑∫≤≥≠∞π²³\[(]")
MATH_SYMBOLS: Final = ("√", "∑", "∫", "≤", "≥", "≠", "∞", "π", "²", "³", "f(x)", "sqrt(", "log(")
# "3x^2", "2x + y = 5", "12 * 7 =", "[[2,1],[1,2]]", "O(n log n)".
POWER_RE: Final = re.compile(r"\^\s*\d")
EQUATION_RE: Final = re.compile(r"\d\s*[a-z]\s*[-+*/=]\s*[\d(a-z]|\d\s*[-+*/^]\s*\d+\s*=")
MATRIX_RE: Final = re.compile(r"\[\[[-\d.,\s\[\]]+\]\]")
BIG_O_RE: Final = re.compile(r"O\([^)]{1,12}\)")
# Arithmetic word problems: several quantities and a request to work something out.
DIGITS: Final = "0123456789"
NUMBER_RE: Final = re.compile(r"\d+(?:[.,]\d+)?")
WORD_PROBLEM_RE: Final = re.compile(
    r"how (?:many|much|long|far|fast|old)\b|when (?:does|will|do)\b|what time\b|what is the (?:probability|"
    r"chance|sum|area|value|average|total)\b|calculate|compute|solve|find the\b"
)
CJK_WORD_PROBLEM_MARKS: Final = ("多少", "各有", "求", "计算", "計算", "算一下", "算出", "几个", "几只", "几支", "几次")
EMOJI_RE: Final = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")
# Domain names suggest a technical question ("what happens when I type google.com"), weakly: shops have them.
DOMAIN_RE: Final = re.compile(r"\.(?:com|org|net|io|dev|app|cn|co)\b")

# ---------------------------------------------------------------------------------------------------------
# What the user asks for. English puts the artefact after the verb within a few words ("write a short
# poem"); the gap may not cross "about"/"for"/"that", so "write a story about code" asks for a story.
# ---------------------------------------------------------------------------------------------------------
_GAP = r"(?:\s+(?!about\b|on\b|for\b|that\b|which\b|where\b)[\w'+#.-]+){0,4}?\s+"
# Each verb is found with str.find and the object pattern is matched right after it: one alternation of
# all the verbs would be retried at every position of the text.
CODE_VERBS: Final = (
    "write",
    "writing",
    "implement",
    "create",
    "build",
    "generate",
    "code",
    "make",
    "give me",
    "show me",
    "fix",
    "debug",
    "refactor",
    "optimize",
    "optimise",
    "convert",
    "port",
    "set up",
    "setup",
    "design",
)
CODE_OBJECT_RE: Final = re.compile(
    _GAP + r"(?:function|method|class|script|program|regex|regular expression|query|sql|one-liner|oneliner|"
    r"unit tests?|tests?|api|endpoint|cli|dockerfile|workflow|algorithm|module|component|snippet|code|bash|"
    r"makefile|interface|lru cache|cache|parser|decorator|hook|rate limiter|server|bot|macro|formula|"
    r"cron expression|expression|plugin|extension|scraper|crawler|website|web app|webpage|landing page|app|"
    r"microservice|pipeline)s?\b"
)
CODE_PHRASE_RE: Final = re.compile(
    r"(?:regex|regular expression|sql|query|one-liner|function|command|script|formula|macro) (?:for|to|that)\b|"
    r"how (?:would|do|can|should|could) (?:you|i|we) (?:build|implement|automate|code|program|architect)\b"
)
CREATIVE_VERBS: Final = (
    "write",
    "compose",
    "tell",
    "create",
    "make up",
    "invent",
    "draft",
    "pen",
    "sing",
    "give me",
    "come up with",
    "craft",
    "generate",
    "continue",
    "describe",
    "rewrite",
    "retell",
    "adapt",
    "reimagine",
)
CREATIVE_OBJECT_RE: Final = re.compile(
    _GAP + r"(?:poem|poetry|story|stories|tale|haiku|limerick|sonnet|lyrics|song|rap|verse|joke|riddle|slogan|"
    r"tagline|fairy tale|fable|novel|screenplay|dialogue|monologue|love letter|toast|scene|chapter|fiction|"
    r"fanfic|ballad|ode|pun|rhyme|tweet|caption|eulogy|vows|plot|backstory)s?\b"
)
CREATIVE_REQUEST_HINTS: Final = ("once upon", "continue", "let's", "let us")
CREATIVE_PHRASE_RE: Final = re.compile(
    r"once upon a time|continue the story|let(?:'s| us) (?:role-?play|pretend|play a game)"
)
# Chinese puts the head noun last ("写一个关于程序员的故事"), so allow a modifier before it, but not across a
# clause break.
CJK_CREATIVE_REQUEST_HINTS: Final = ("续写", "續寫", "编", "編")
CJK_CREATIVE_REQUEST_RE: Final = re.compile(
    r"(?<![读讀])(?:写|寫|编|編|作|创作|創作|讲|講|说个|說個|来|來|想|出|生成|续写|續寫|接着写)[^，。！？,.!?\n]{0,16}?"
    r"(?:诗|詩|故事|小说|小說|歌词|歌詞|笑话|笑話|段子|广告语|廣告語|口号|口號|标语|標語|绝句|絕句|对联|對聯|情话|"
    r"情話|开场白|開場白|剧本|劇本|童话|童話|散文|台词|臺詞|文案|祝福语|祝福語|谜语|謎語|寓言|描写|描寫|短句|金句|"
    r"歌|rap|场面|場面|场景|場景|传说|傳說|誓词|誓詞|儿歌|兒歌|超级英雄|告白|表白|情书|情書|祝福|贺词|賀詞|开头|"
    r"開頭|开场|結尾|结尾|朋友圈)|(?:续写|續寫)[：:]|编(?:一个|个|一段|一首|一篇|段|首|篇|一句|句)(?!程序|代码|程式)|"
    r"(?:一|两|兩|三|四|五|六|七|八|九|十|几|幾)首(?!先|页|頁|次|都)"
)
CJK_CODE_REQUEST_RE: Final = re.compile(
    r"(?:写|寫|实现|實現|编写|編寫|生成|优化|優化|修复|修復|重构|重構|改|调试|調試)(?:一|个|個|段|下|这|這|条|條|份|些|"
    r"下面|以下|的|\s){0,4}(?:[A-Za-z+#]+\s*)?(?:函数|函數|脚本|腳本|程序|程式|正则|正則|SQL|sql|代码|代碼|类|類|接口|"
    r"算法|单元测试|單元測試|单测|组件|組件|方法|命令|查询|查詢|爬虫|爬蟲|API|api|bug|Bug|BUG)|"
    r"用\s*[A-Za-z][A-Za-z+#]*\s*(?:写|寫|实现|實現|做|来|來)|(?:怎么|怎麼|如何|怎样|怎樣)(?:用代码|用程序)?"
    r"(?:实现|實現|自动化|自動化)"
)
# A bare request to write. Unless its object is a known general document (task cues) or code (code
# requests), people who ask for writing without naming the kind mostly want prose for its own sake.
WRITE_RE: Final = re.compile(
    r"\W*(?:(?:can|could|would|will) you |please |pls |ok(?:ay)?,? (?:now )?|now |hey,? )*(?:write|compose|pen|"
    r"make up|tell me|continue)\b"
)
CJK_WRITE_HINTS: Final = ("写", "寫", "编", "編", "描")
# The caller checks that the verb opens a clause (after an optional 帮我/请).
CJK_WRITE_RE: Final = re.compile(r"(?:写|寫|描写|描寫|编|編)(?![代程脚腳邮郵周週报報简簡])")
CJK_WRITE_PREFIXES: Final = ("帮我", "幫我", "给我", "給我", "请", "請")
CLAUSE_BREAKS: Final = "，。！？,.!?：:；; \n"
# Conversation openers and addressing the assistant as a character; both only count at the very start.
GREETING_RE: Final = re.compile(r"\W*(?:hi+|hello|hey+|hiya|yo|howdy|good (?:morning|afternoon|evening))\b")
ROLEPLAY_RE: Final = re.compile(
    r"\s*(?:you(?:'re| are) (?!right|wrong|correct|welcome)|act as (?:a|an|my) (?!translator|interpreter|editor|"
    r"linux|terminal|sql|python|javascript|api)|let's (?:role-?play|pretend)|你是(?!不是|谁|誰|否|怎么|怎麼|如何))"
)
# An action in role-play: "*hands over two silver coins* north, to the mountains", or one in full-width
# parentheses before a line of Chinese dialogue.
ACTION_RE: Final = re.compile(r"\s*(?:\*[^*\n]{2,80}\*|（[^）\n]{2,40}）)")
SYSTEM_PERSONA_RE: Final = re.compile(r"\b(?:companion|friend|character|persona|storyteller|poet|novelist)\b")
