"""What a request puts in the prompt: texts still to encode, and tokens known without encoding.

Chat messages are counted the way OpenAI's cookbook (`num_tokens_from_messages`) counts them, which matches
billed usage for GPT-4 / GPT-3.5-turbo-0613 and later and for the GPT-4o generation: 3 tokens of framing per
message, its role, content and name (+1 for a name), and 3 tokens priming the reply. On top of that recipe:
- text and refusal parts of list content are counted like string content; `tool_calls` (and the legacy
  `function_call`) count their function names and argument strings;
- image parts cost what image_tokens.py says; audio and file parts are billed by Azure in their own units
  and count nothing here;
- `tools` / legacy `functions` are rendered the way tool_prompt.py describes, an approximation;
- a `json_schema` response format counts as well: the model is shown the schema, so it is input. It is
  written as `_schema_text` does, after the layout of OpenAI's harmony format (an approximation).

Responses API bodies (`responses`) are counted on the same recipe, as the chat body that says the same would be:
`instructions` is a developer message; a string `input` is one user message; each input item is a message of
its own (3 framing + its role), as in harmony, where each function call is its own assistant message:
- a message: its text parts (`input_text`, `output_text`, `refusal`) and `input_image` parts by the image rule;
  `input_file` and `input_audio` count nothing, as in chat;
- `function_call` / `custom_tool_call`: an assistant message with the name and arguments (or input);
  `function_call_output` / `custom_tool_call_output`: a tool message with the output;
- `reasoning`: an assistant message with its summary and reasoning text (never the encrypted content);
- `computer_call_output` and `image_generation_call`: their image; `item_reference`: nothing (Azure holds it);
- anything else (other built-in tools' calls, odd values): its JSON text, a conservative guess that never raises;
- function tools are flat (`{"type": "function", "name": ...}`), rendered like chat's; `text.format` is a
  response format, as chat's `response_format`.
A body with `previous_response_id` (or `conversation`) continues a conversation Azure holds and bills as input,
but the gateway cannot see it: only what the request sends is counted. The usage in `response.completed`
settles the real figure.

Other endpoints: `completions` count `prompt` and `suffix`, `embeddings` `input`, the image endpoints
`prompt`, `audio/speech` `input` and `instructions`; every other operation puts no text in a prompt.
An embeddings request's inputs and a speech request's `input` are kept apart: see held_inputs.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.routing.held_inputs import held_apart
from gateway.routing.image_tokens import base64_image_tokens, image_part_tokens, image_url_tokens
from gateway.routing.json_text import json_text
from gateway.routing.tool_prompt import SYSTEM_MESSAGE_SHARED, TOOLS_OVERHEAD, render_tools

TOKENS_PER_MESSAGE = 3  # <|start|>{role}<|message|>{content}<|end|>
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3  # <|start|>assistant<|message|>
INSTRUCTIONS_ROLE = "developer"  # the role a Responses body's `instructions` take
_SYSTEM_ROLES = ("system", "developer")  # a tuple: a client's role may be unhashable
# Content parts of a Responses message (and of a reasoning item) whose `text` is prompt text.
_RESPONSES_TEXT_PARTS = ("input_text", "output_text", "text", "summary_text", "reasoning_text")


@dataclass(slots=True)
class PromptParts:
    """The texts a request puts in the prompt, and the tokens it adds that need no encoding."""

    texts: list[str] = field(default_factory=list)
    fixed: int = 0  # message framing, token-id prompts
    images: int = 0
    tool_text: str = ""
    tool_fixed: int = 0
    # Inputs a model's window holds one at a time (held_inputs.py), prompt tokens as the texts are; None: the
    # window holds the whole prompt. `apart_listed`: `input` was a list, each input is told by its index.
    apart: list[str | int] | None = None
    apart_listed: bool = False

    def chars(self) -> int:
        chars = sum(map(len, self.texts)) + len(self.tool_text)
        if self.apart:
            chars += sum(len(item) for item in self.apart if isinstance(item, str))
        return chars


def gather_prompt(operation: str, body: Mapping[str, Any]) -> PromptParts:
    prompt = PromptParts()
    if operation == "chat/completions":
        _gather_chat(body, prompt)
    elif operation == "responses":
        _gather_responses(body, prompt)
    elif operation == "completions":
        _gather_input(body.get("prompt"), prompt)
        _gather_input(body.get("suffix"), prompt)
    elif operation == "embeddings":
        prompt.apart, prompt.apart_listed = held_apart(body.get("input"))
    elif operation in ("images/generations", "images/edits"):
        _gather_input(body.get("prompt"), prompt)  # a multipart form gives ["..."]: counted the same
    elif operation == "audio/speech":
        prompt.apart, prompt.apart_listed = held_apart(body.get("input"))
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
            has_system = has_system or role in _SYSTEM_ROLES
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
    _gather_tools(definitions, has_system, prompt)
    response_format = body.get("response_format")
    if isinstance(response_format, Mapping) and response_format.get("type") == "json_schema":
        _gather_schema(response_format.get("json_schema"), prompt)


def _gather_tools(definitions: list[Any], has_system: bool, prompt: PromptParts) -> None:
    if definitions:
        prompt.tool_text = render_tools(definitions)
        if prompt.tool_text:
            prompt.tool_fixed = TOOLS_OVERHEAD - (SYSTEM_MESSAGE_SHARED if has_system else 0)


def _gather_schema(spec: Any, prompt: PromptParts) -> None:
    """A `json_schema` response format: chat's `response_format.json_schema`, or Responses' `text.format`."""
    if isinstance(spec, Mapping):
        prompt.texts.append(_schema_text(spec))


def _schema_text(spec: Mapping[str, Any]) -> str:
    name = spec.get("name")
    pieces = ["# Response Formats\n\n## ", name if isinstance(name, str) else "", "\n\n"]
    description = spec.get("description")
    if isinstance(description, str) and description:
        pieces += ["// ", description, "\n"]
    if "schema" in spec:
        pieces.append(json_text(spec["schema"]))
    return "".join(pieces)


def _gather_responses(body: Mapping[str, Any], prompt: PromptParts) -> None:
    # `previous_response_id` / `conversation`: the earlier turns Azure holds are not counted (see the docstring).
    has_system = False
    instructions = body.get("instructions")
    if isinstance(instructions, str):
        _frame(INSTRUCTIONS_ROLE, prompt)
        prompt.texts.append(instructions)
        has_system = True
    elif isinstance(instructions, list):  # a response object's form; a request's is a string
        has_system = _gather_items(instructions, prompt)
    given = body.get("input")
    if isinstance(given, str):
        _frame("user", prompt)
        prompt.texts.append(given)
    elif isinstance(given, list):
        has_system = _gather_items(given, prompt) or has_system
    elif given is not None:
        has_system = _gather_item(given, prompt) or has_system
    prompt.fixed += REPLY_PRIMING
    tools = body.get("tools")
    _gather_tools(tools if isinstance(tools, list) else [], has_system, prompt)
    text = body.get("text")
    output_format = text.get("format") if isinstance(text, Mapping) else None
    if isinstance(output_format, Mapping) and output_format.get("type") == "json_schema":
        _gather_schema(output_format, prompt)


def _gather_items(items: list[Any], prompt: PromptParts) -> bool:
    """Whether any of the items is a system or developer message."""
    has_system = False
    for item in items:
        has_system = _gather_item(item, prompt) or has_system
    return has_system


def _gather_item(item: Any, prompt: PromptParts) -> bool:
    """One Responses input item, a message of its own; whether it is a system or developer message."""
    texts = prompt.texts
    if not isinstance(item, Mapping):
        _frame(None, prompt)
        texts.append(item if isinstance(item, str) else json_text(item))
        return False
    kind = item.get("type")
    if kind == "message" or (kind is None and "role" in item):  # an "easy" input message has no type
        role = item.get("role")
        _frame(role, prompt)
        _gather_content(item.get("content"), prompt)
        return isinstance(role, str) and role in _SYSTEM_ROLES
    if kind in ("function_call", "custom_tool_call"):
        _frame("assistant", prompt)
        _gather_call(item, texts)
    elif kind in ("function_call_output", "custom_tool_call_output"):
        _frame("tool", prompt)
        _gather_content(item.get("output"), prompt)
    elif kind == "reasoning":
        _frame("assistant", prompt)
        for key in ("summary", "content"):
            _gather_content(item.get(key), prompt)
    elif kind == "computer_call_output":
        _frame("tool", prompt)
        screenshot = item.get("output")
        image_url = screenshot.get("image_url") if isinstance(screenshot, Mapping) else None
        prompt.images += image_url_tokens(image_url, "auto")
    elif kind == "image_generation_call":
        _frame("assistant", prompt)
        prompt.images += base64_image_tokens(item.get("result"), "auto")
    elif kind != "item_reference":  # an item Azure holds, like the turns of `previous_response_id`
        _frame(None, prompt)
        texts.append(json_text(item))
    return False


def _frame(role: Any, prompt: PromptParts) -> None:
    prompt.fixed += TOKENS_PER_MESSAGE
    if isinstance(role, str):
        prompt.texts.append(role)


def _gather_content(content: Any, prompt: PromptParts) -> None:
    """A Responses message's content, or a tool call's output: a string, or a list of content parts."""
    if isinstance(content, str):
        prompt.texts.append(content)
    elif isinstance(content, list):
        for part in content:
            _gather_response_part(part, prompt)
    elif content is not None:
        prompt.texts.append(json_text(content))


def _gather_response_part(part: Any, prompt: PromptParts) -> None:
    if not isinstance(part, Mapping):
        prompt.texts.append(part if isinstance(part, str) else json_text(part))
        return
    kind = part.get("type")
    if kind in _RESPONSES_TEXT_PARTS:
        text = part.get("text")
        if isinstance(text, str):
            prompt.texts.append(text)
    elif kind == "refusal":
        refusal = part.get("refusal")
        if isinstance(refusal, str):
            prompt.texts.append(refusal)
    elif kind == "input_image":  # by URL (a data: URL is measured) or by file id (assumed 1024x1024)
        prompt.images += image_url_tokens(part.get("image_url"), part.get("detail"))
    elif kind not in ("input_file", "input_audio"):  # those are billed in Azure's own units, as in chat
        prompt.texts.append(json_text(part))


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
