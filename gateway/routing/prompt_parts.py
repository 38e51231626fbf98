"""What a request puts in the prompt: texts still to encode, and tokens known without encoding.

Chat messages are counted the way OpenAI's cookbook (`num_tokens_from_messages`) counts them, which matches
billed usage for GPT-4 / GPT-3.5-turbo-0613 and later and for the GPT-4o generation: 3 tokens of framing per
message, its role, content and name (+1 for a name), and 3 tokens priming the reply. On top of that recipe:
- text and refusal parts of list content are counted like string content; `tool_calls` (and the legacy
  `function_call`) count their function names and argument strings;
- image parts cost what image_tokens.py says; audio and file parts are billed by Azure in their own units
  and count nothing here;
- `tools` / legacy `functions` are rendered the way tool_prompt.py describes, an approximation.

Other endpoints: `completions` count `prompt` and `suffix`, `embeddings` `input`, the image endpoints
`prompt`, `audio/speech` `input` and `instructions`; every other operation puts no text in a prompt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.routing.image_tokens import image_part_tokens
from gateway.routing.tool_prompt import SYSTEM_MESSAGE_SHARED, TOOLS_OVERHEAD, render_tools

TOKENS_PER_MESSAGE = 3  # <|start|>{role}<|message|>{content}<|end|>
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3  # <|start|>assistant<|message|>


@dataclass(slots=True)
class PromptParts:
    """The texts a request puts in the prompt, and the tokens it adds that need no encoding."""

    texts: list[str] = field(default_factory=list)
    fixed: int = 0  # message framing, token-id prompts
    images: int = 0
    tool_text: str = ""
    tool_fixed: int = 0

    def chars(self) -> int:
        return sum(map(len, self.texts)) + len(self.tool_text)


def gather_prompt(operation: str, body: Mapping[str, Any]) -> PromptParts:
    prompt = PromptParts()
    if operation == "chat/completions":
        _gather_chat(body, prompt)
    elif operation == "completions":
        _gather_input(body.get("prompt"), prompt)
        _gather_input(body.get("suffix"), prompt)
    elif operation == "embeddings":
        _gather_input(body.get("input"), prompt)
    elif operation in ("images/generations", "images/edits"):
        _gather_input(body.get("prompt"), prompt)  # a multipart form gives ["..."]: counted the same
    elif operation == "audio/speech":
        _gather_input(body.get("input"), prompt)
        _gather_input(body.get("instructions"), prompt)
    return prompt


def _gather_input(value: Any, prompt: PromptParts) -> None:
    """A `prompt` / `input` field: a string, a list of strings, a list of token ids, or a list of such lists."""
    if isinstance(value, str):
        prompt.texts.append(value)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                prompt.texts.append(item)
            elif isinstance(item, int):
                prompt.fixed += 1
            elif isinstance(item, list):
                prompt.fixed += len(item)


def _gather_chat(body: Mapping[str, Any], prompt: PromptParts) -> None:
    texts = prompt.texts
    has_system = False
    messages = body.get("messages")
    for message in messages if isinstance(messages, list) else ():
        if not isinstance(message, Mapping):
            continue
        prompt.fixed += TOKENS_PER_MESSAGE
        role = message.get("role")
        if isinstance(role, str):
            texts.append(role)
            has_system = has_system or role in ("system", "developer")
        name = message.get("name")
        if isinstance(name, str):
            texts.append(name)
            prompt.fixed += TOKENS_PER_NAME
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            _gather_parts(content, prompt)
        refusal = message.get("refusal")
        if isinstance(refusal, str):
            texts.append(refusal)
        calls = message.get("tool_calls")
        for call in calls if isinstance(calls, list) else ():
            if isinstance(call, Mapping):
                _gather_call(call.get("function") or call.get("custom"), texts)
        _gather_call(message.get("function_call"), texts)
    prompt.fixed += REPLY_PRIMING
    definitions: list[Any] = []
    for key in ("tools", "functions"):
        listed = body.get(key)
        if isinstance(listed, list):
            definitions.extend(listed)
    if definitions:
        prompt.tool_text = render_tools(definitions)
        if prompt.tool_text:
            prompt.tool_fixed = TOOLS_OVERHEAD - (SYSTEM_MESSAGE_SHARED if has_system else 0)


def _gather_parts(parts: list[Any], prompt: PromptParts) -> None:
    for part in parts:
        if isinstance(part, str):
            prompt.texts.append(part)
        elif isinstance(part, Mapping):
            kind = part.get("type")
            if kind in ("text", "refusal"):
                text = part.get(kind)
                if isinstance(text, str):
                    prompt.texts.append(text)
            elif kind == "image_url":
                prompt.images += image_part_tokens(part.get("image_url"))


def _gather_call(call: Any, texts: list[str]) -> None:
    if isinstance(call, Mapping):
        for key in ("name", "arguments", "input"):
            value = call.get(key)
            if isinstance(value, str):
                texts.append(value)
