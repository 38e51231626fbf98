"""Generated requests for the fuzz suite (tests/e2e/test_fuzz.py): a body and headers for any endpoint.

Each endpoint's strategy starts from a body the simulator answers with 200 and bends it, so that most
requests get past the gateway's own checks and reach routing, admission and Azure, while some are broken
outright: fields set to values of the wrong type, odd unicode (lone surrogates escaped in JSON, RTL marks,
combining marks, NUL), deep and wide nesting, huge numbers written as JSON literals (`1e308`, 10**400),
hostile tool and `response_format` schemas, odd headers, and multipart bodies with odd boundaries, missing
or misplaced parts and duplicated fields.

The first choice of every weighted pick is the plain one, so that Hypothesis shrinks a failing request
towards the simplest body that still fails.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from hypothesis import strategies as st

from gateway.inbound.endpoints import ENDPOINTS, Endpoint
from gateway.simulator import media

T = TypeVar("T")
Draw = Callable[[st.SearchStrategy[Any]], Any]

CLIENT_KEY = "test-key-one"  # tests/support/gateway_config.py CLIENT_KEYS[0]
MAX_SHOWN_BODY = 3000  # a failing request's body is shown up to this many bytes


@dataclass(frozen=True, slots=True)
class FuzzRequest:
    """One generated request: POST /v1/<operation> with these raw headers and body bytes."""

    operation: str
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes

    def __repr__(self) -> str:
        # Hypothesis prints this for the failing example: headers and body as bytes, so they can be replayed.
        shown = self.body if len(self.body) <= MAX_SHOWN_BODY else self.body[:MAX_SHOWN_BODY] + b"...(cut)"
        return f"FuzzRequest(operation={self.operation!r}, headers={list(self.headers)!r}, body={shown!r})"


class Raw(str):
    """JSON text written into a body as it is: what a Python value cannot say (10**400 as a literal, depth
    beyond any recursion limit)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Pairs:
    """A JSON object that may name a key twice."""

    items: tuple[tuple[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Layout:
    """How a JSON document is written: separators, and whether strings escape every non-ASCII character."""

    item_separator: str = ","
    key_separator: str = ":"
    ascii_only: bool = False


def json_text(value: Any, layout: Layout = Layout()) -> str:
    """JSON text of generated values; a string holding a lone surrogate is always escaped (as \\udXXX), since
    UTF-8 cannot carry it."""
    if isinstance(value, Raw):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=layout.ascii_only or _has_surrogate(value))
    if isinstance(value, list | tuple):
        return "[" + layout.item_separator.join(json_text(item, layout) for item in value) + "]"
    pairs = value.items if isinstance(value, Pairs) else tuple(value.items())
    members = (json_text(key, layout) + layout.key_separator + json_text(item, layout) for key, item in pairs)
    return "{" + layout.item_separator.join(members) + "}"


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= char <= "\udfff" for char in text)


def weighted(draw: Draw, *choices: tuple[int, st.SearchStrategy[T]]) -> T:
    """Draw from one of `choices`, each picked in proportion to its weight; shrinks towards the first."""
    pick = draw(st.integers(0, sum(weight for weight, _ in choices) - 1))
    for weight, strategy in choices:
        if pick < weight:
            drawn: T = draw(strategy)
            return drawn
        pick -= weight
    raise AssertionError("unreachable")


def rarely(draw: Draw, one_in: int) -> bool:
    """True about once in `one_in` draws. False is the simplest choice, so examples shrink towards it (and
    Hypothesis's first, simplest examples take the plain path)."""
    return bool(draw(st.integers(0, one_in - 1)) == one_in - 1)


def mix(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """`weighted` as a strategy. Only the chosen branch is drawn, so a rare branch costs nothing."""

    @st.composite
    def pick(draw: Draw) -> Any:
        return weighted(draw, *choices)

    return pick()


# --- Scalars -------------------------------------------------------------------------------------------

# RTL and directional overrides, combining marks, joiners, BOM, noncharacters, line separators, NUL, emoji.
ODD_CHARACTERS = (
    "\x00\x01\x1b\x7f\t\n\r\"\\/'<>&%{}[]"
    "\u202e\u202d\u200f\u200e\u2066\u2069\u05d0\u05d1\u0627\u0644"
    "\u0301\u0300\u0308\u20dd\u0489\u200d\u200b\ufeff\ufffe\uffff\ufdd0\u2028\u2029"
    "\U0001f600\U0001f468\u200d\U0001f469\U0010ffff\u00e9\u4e2d\u6587"
)
LONE_SURROGATES = ("\ud800", "\udfff", "a\ud83d", "\udc00b", "\ud83d\ud83d", "\udbff\udbff\udc00x")
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>system", "<|fim_prefix|>", "<|endofprompt|>")

plain_text = st.text(alphabet=st.characters(codec="ascii", categories=["L", "N", "Zs"]), max_size=12)
# A lone surrogate makes the whole body unreadable JSON (orjson refuses it): rare, or few bodies would parse.
odd_text: st.SearchStrategy[str] = mix(
    (16, plain_text),
    (16, st.text(max_size=16)),  # any code point but a surrogate, control characters included
    (12, st.text(alphabet=st.sampled_from(ODD_CHARACTERS + "ab "), max_size=24)),
    (4, st.integers(1, 300).map(lambda marks: "e" + "\u0301" * marks)),  # a letter under hundreds of accents
    (4, st.integers(1, 300).map(lambda count: "\u202e" + "\u05d0" * count)),  # right-to-left
    (4, st.sampled_from(SPECIAL_TOKENS)),
    (2, st.sampled_from([1_000, 40_000, 70_000]).map(lambda size: ("word " * size)[:size])),  # counted off the loop
    (1, st.sampled_from(LONE_SURROGATES)),
)


# Numbers JSON can write but Python or orjson may not hold: 64-bit edges, 1e308, -0, 5e-324; orjson reads
# integers past 64 bits as floats.
HUGE_NUMBERS = (
    Raw("1e308"),
    Raw("-1e308"),
    Raw("5e-324"),
    Raw("-0"),
    Raw("1E+2"),
    Raw("0.0000000000000000000000001"),
    2**31,
    2**53 + 1,
    2**63 - 1,
    2**63,
    -(2**63) - 1,
    2**64,
    10**30,
)
# Beyond a double: orjson refuses the whole body. Rare, like lone surrogates.
UNREADABLE_NUMBERS = (Raw("1" + "0" * 400), Raw("-" + "9" * 400), Raw("1e309"))
numbers: st.SearchStrategy[Any] = mix(
    (4, st.integers(-3, 5)),
    (4, st.integers(-(2**70), 2**70)),
    (4, st.sampled_from(HUGE_NUMBERS)),
    (4, st.floats(allow_nan=False, allow_infinity=False)),
    (1, st.sampled_from(UNREADABLE_NUMBERS)),
)


def counts() -> st.SearchStrategy[Any]:
    """A count field (max_tokens, n, dimensions): plausible small numbers first, then anything."""
    return mix(
        (4, st.integers(1, 64)),
        (1, st.integers(-3, 300_000)),
        (1, numbers),
        (1, st.deferred(lambda: odd_values)),
    )


# --- Any JSON value ------------------------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), numbers, odd_text)
keys = st.one_of(plain_text, odd_text)


def _deep(depth: int, kind: str, leaf: str) -> Raw:
    if kind == "[":
        return Raw("[" * depth + leaf + "]" * depth)
    if kind == "{":
        return Raw('{"a":' * depth + leaf + "}" * depth)
    # alternating, as a schema's enum or const might hold
    opening = '[{"a":' * (depth // 2)
    return Raw(opening + leaf + "}]" * (depth // 2))


# Depths around orjson's write limit (255) and up to its parse limit (1,024); rarely beyond, or a leaf orjson
# cannot read (the body is then refused whole).
deep_values = st.builds(
    _deep,
    mix((8, st.sampled_from([16, 64, 254, 255, 256, 257, 300, 512, 1023, 1024])), (1, st.sampled_from([1025, 5000]))),
    st.sampled_from(["[", "{", "[{"]),
    mix(
        (8, st.sampled_from(["1", '"x"', "null", "[]", "{}", '"\u00e9"'])),
        (1, st.sampled_from(['"\\ud800"', "1" + "0" * 400])),
    ),
)


def _wide(count: int, kind: str) -> Raw:
    if kind == "list":
        return Raw("[" + ",".join(str(index % 100) for index in range(count)) + "]")
    if kind == "strings":
        return Raw("[" + ",".join(f'"w{index}"' for index in range(count)) + "]")
    return Raw("{" + ",".join(f'"k{index}":{index}' for index in range(count)) + "}")


wide_values = st.builds(_wide, st.sampled_from([300, 3_000, 30_000]), st.sampled_from(["list", "strings", "object"]))

small_values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)),
    max_leaves=10,
)
# Containers where a string is expected break `value in {...}` and dict keys: often, since that is a classic.
odd_values: st.SearchStrategy[Any] = mix(
    (6, small_values),
    (2, st.sampled_from([[], {}, [[]], {"a": []}, [{}], ["user"]])),
    (1, deep_values),
    (1, wide_values),
)


def odd_or(plausible: st.SearchStrategy[Any], plain_weight: int = 3) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, sometimes anything at all."""
    return mix((plain_weight, plausible), (1, odd_values))


# --- JSON schemas (tools[].function.parameters, response_format.json_schema.schema) ------------------

SCHEMA_TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")
schema_type_names = st.one_of(st.sampled_from(SCHEMA_TYPES), st.sampled_from(["any", "", "Object", 5, None]))
# `required` is meant to list property names: also objects, numbers, nested lists, null.
required_entries = st.one_of(keys, st.just({}), st.just([]), st.just([["a"]]), numbers, st.none(), st.just({"a": 1}))


def _schema_members(children: st.SearchStrategy[Any] | None) -> st.SearchStrategy[dict[str, Any]]:
    """A schema node with a few members, each mostly what a schema holds there; `children` None: a leaf."""
    child = children if children is not None else st.just({"type": "string"})
    members: dict[str, st.SearchStrategy[Any]] = {
        "type": st.one_of(schema_type_names, st.lists(schema_type_names, max_size=6)),
        "properties": odd_or(st.dictionaries(keys, child, max_size=4)),
        "required": odd_or(st.lists(required_entries, max_size=4)),
        "items": odd_or(child),
        "enum": odd_or(st.lists(st.one_of(odd_values, deep_values), max_size=4)),
        "const": st.one_of(odd_values, deep_values),
        "anyOf": odd_or(st.lists(child, max_size=3)),
        "oneOf": st.lists(child, max_size=3),
        "allOf": st.lists(child, max_size=3),
        "description": odd_text,
        "$ref": st.sampled_from(["#", "#/properties/a", "#/$defs/x", ""]),
        "$defs": st.dictionaries(keys, child, max_size=2),
        "additionalProperties": st.one_of(st.booleans(), child),
        "default": odd_values,
    }

    @st.composite
    def node(draw: Draw) -> dict[str, Any]:
        chosen = draw(st.lists(st.sampled_from(sorted(members)), max_size=4, unique=True))
        return {name: draw(members[name]) for name in chosen}

    return node()


def _explosive_schema(depth: int, width: int, kinds: Sequence[str]) -> dict[str, Any]:
    """A small schema whose `type` lists repeat at every level: a renderer that renders once per listed type
    does width**depth work for a few hundred bytes."""
    node: dict[str, Any] = {"type": list(kinds) * width, "enum": ["a", "b"] if depth % 2 else None}
    for _ in range(depth):
        node = {"type": ["object"] * width, "properties": {"p": node, "q": node}, "required": ["p", "q"]}
    return node


explosive_schemas = st.builds(
    _explosive_schema, st.integers(1, 7), st.integers(1, 8), st.lists(st.sampled_from(SCHEMA_TYPES), max_size=3)
)
any_schemas: st.SearchStrategy[Any] = st.recursive(_schema_members(None), _schema_members, max_leaves=8)

# A property's schema: anything, and often the members a renderer writes out as they are (enum, const).
property_schemas = mix(
    (4, any_schemas),
    (
        2,
        st.fixed_dictionaries(
            {"enum": st.lists(st.one_of(odd_values, deep_values), min_size=1, max_size=4)},
            optional={"type": schema_type_names},
        ),
    ),
    (1, st.fixed_dictionaries({"const": st.one_of(odd_values, deep_values)})),
    (1, explosive_schemas),
)


@st.composite
def object_schemas(draw: Draw) -> dict[str, Any]:
    """What a function's parameters usually look like: an object whose properties (what a prompt renderer
    walks) have generated schemas, and a `required` list that may hold anything."""
    properties = draw(st.dictionaries(keys, property_schemas, min_size=1, max_size=4))
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    required = weighted(
        draw,
        (2, st.lists(st.sampled_from(sorted(properties)), unique=True)),
        (2, st.lists(required_entries, min_size=1, max_size=4)),
        (1, odd_values),
        (1, st.none()),
    )
    if required is not None:
        schema["required"] = required
    return schema


schemas: st.SearchStrategy[Any] = mix((4, object_schemas()), (2, any_schemas), (1, explosive_schemas), (1, odd_values))


@st.composite
def tools(draw: Draw) -> Any:
    """A `tools` list: function tools with generated parameter schemas, custom tools, unknown kinds."""

    @st.composite
    def one_tool(draw: Draw) -> Any:
        function = {"name": draw(odd_or(st.sampled_from(["get_weather", "f", "lookup"]))), "parameters": draw(schemas)}
        if draw(st.booleans()):
            function["description"] = draw(odd_text)
        if rarely(draw, 5):
            function["strict"] = draw(odd_or(st.booleans()))
        return weighted(
            draw,
            (6, st.just({"type": "function", "function": function})),
            (1, st.just({"type": "custom", "custom": {"name": "c", "description": draw(odd_text)}})),
            (1, st.just(function)),  # legacy `functions` entry shape
            (1, st.fixed_dictionaries({"type": odd_text, "function": odd_values})),
            (1, odd_values),
        )

    return weighted(draw, (8, st.lists(one_tool(), min_size=1, max_size=3)), (1, odd_values))


@st.composite
def response_formats(draw: Draw) -> Any:
    json_schema = {"name": draw(odd_or(st.just("answer"))), "schema": draw(schemas)}
    if draw(st.booleans()):
        json_schema["strict"] = draw(odd_or(st.booleans()))
    return weighted(
        draw,
        (4, st.just({"type": "json_schema", "json_schema": json_schema})),
        (1, st.sampled_from([{"type": "json_object"}, {"type": "text"}])),
        (2, st.fixed_dictionaries({"type": odd_values}, optional={"json_schema": odd_values})),
        (1, odd_values),
    )


# --- Chat messages ---------------------------------------------------------------------------------------

_PNG = media.png(8, 8, (0, 0, 0), (255, 255, 255))
_JPEG = media.jpeg(16, 16, (10, 20, 30), (200, 100, 0))
_WAV = media.wav(media.tone_pcm(0.05))
_MP3 = media.silent_mp3(0.05)


def _png_header(width: int, height: int) -> bytes:
    # A PNG signature and IHDR whose size fields say anything, followed by nothing: only the header is read.
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x02"


def _data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


image_urls = st.one_of(
    st.just("https://example.com/cat.png"),
    st.just(_data_url(_PNG)),
    st.just(_data_url(_JPEG, "image/jpeg")),
    st.builds(lambda w, h: _data_url(_png_header(w, h)), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
    st.builds(lambda raw: _data_url(b"\xff\xd8" + raw, "image/jpeg"), st.binary(max_size=64)),
    st.sampled_from(["data:image/png;base64,!!!!", "data:,", "data:image/png;base64", "data:;base64,\u00e9\u00e9"]),
    odd_text,
)


@st.composite
def content_parts(draw: Draw) -> Any:
    return weighted(
        draw,
        (4, st.fixed_dictionaries({"type": st.just("text"), "text": odd_or(plain_text)})),
        (
            2,
            st.fixed_dictionaries(
                {"type": st.just("image_url"), "image_url": odd_or(st.fixed_dictionaries({"url": image_urls}))},
                optional={"detail": st.sampled_from(["low", "high", "auto", "odd"])},
            ),
        ),
        (
            1,
            st.fixed_dictionaries(
                {
                    "type": st.just("input_audio"),
                    "input_audio": odd_or(
                        st.just({"data": base64.b64encode(_WAV).decode(), "format": "wav"}),
                    ),
                }
            ),
        ),
        (1, st.fixed_dictionaries({"type": st.just("refusal"), "refusal": odd_or(plain_text)})),
        (1, st.fixed_dictionaries({"type": odd_or(st.sampled_from(["file", "video", ""])), "text": odd_values})),
        (1, odd_text),
        (1, odd_values),
    )


@st.composite
def messages(draw: Draw) -> Any:
    @st.composite
    def one_message(draw: Draw) -> Any:
        roles = st.sampled_from(["user", "system", "developer", "assistant", "tool", "function"])
        message: dict[str, Any] = {"role": draw(odd_or(roles, plain_weight=6))}
        message["content"] = weighted(
            draw,
            (4, plain_text),
            (3, odd_text),
            (2, st.lists(content_parts(), max_size=4)),
            (1, st.none()),
            (1, odd_values),
        )
        extras = {
            "name": odd_or(plain_text),
            "tool_calls": odd_or(
                st.lists(
                    st.fixed_dictionaries(
                        {
                            "id": plain_text,
                            "type": st.just("function"),
                            "function": odd_or(st.fixed_dictionaries({"name": odd_text, "arguments": odd_text})),
                        }
                    ),
                    max_size=2,
                )
            ),
            "tool_call_id": odd_or(plain_text),
            "function_call": odd_or(st.fixed_dictionaries({"name": odd_text, "arguments": odd_text})),
            "refusal": odd_or(plain_text),
        }
        for name in draw(st.lists(st.sampled_from(sorted(extras)), max_size=2, unique=True)):
            message[name] = draw(extras[name])
        return weighted(draw, (12, st.just(message)), (1, odd_values))

    return weighted(draw, (12, st.lists(one_message(), min_size=1, max_size=4)), (1, st.just([])), (1, odd_values))


# --- Bodies, per endpoint --------------------------------------------------------------------------------

token_prompts = st.one_of(
    odd_text,
    st.lists(odd_text, min_size=1, max_size=3),
    st.lists(st.integers(-5, 200_000), min_size=1, max_size=8),
    st.lists(st.lists(st.integers(0, 100_000), min_size=1, max_size=4), min_size=1, max_size=3),
)
booleans = odd_or(st.booleans(), plain_weight=4)


@dataclass(frozen=True, slots=True)
class JsonShape:
    """What a JSON endpoint's body holds: a valid base per model, then each field it knows and its values."""

    models: tuple[str, ...]
    base: Mapping[str, Any]
    fields: Mapping[str, st.SearchStrategy[Any]]
    favoured: tuple[str, ...] = ()  # fields drawn more often: where the gateway itself reads the most

    def field_names(self) -> st.SearchStrategy[list[str]]:
        pool = sorted(self.fields) + [name for name in self.favoured for _ in range(4)]
        return st.lists(st.sampled_from(pool), max_size=4, unique=True)


# "auto" and the aliases walk routes/policy.yaml; the others name a deployment; a few name nothing served.
OTHER_MODELS = ("gpt-4.1", "whisper", "no-such-model", "", "GPT-4.1", " gpt-4.1", "gpt-4.1\u0000", "auto\u202e")

JSON_SHAPES: dict[str, JsonShape] = {
    "chat/completions": JsonShape(
        ("gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4", "gpt-35-turbo", "auto", "fast", "cheap", "smart"),
        {"messages": [{"role": "user", "content": "Say hello."}]},
        {
            "messages": messages(),
            "tools": tools(),
            "functions": tools(),
            "tool_choice": odd_or(
                st.one_of(
                    st.sampled_from(["auto", "none", "required"]),
                    st.just({"type": "function", "function": {"name": "get_weather"}}),
                )
            ),
            "response_format": response_formats(),
            "max_tokens": counts(),
            "max_completion_tokens": counts(),
            "n": counts(),
            "stream": booleans,
            "stream_options": odd_or(st.fixed_dictionaries({"include_usage": st.booleans()})),
            "temperature": odd_or(st.floats(0, 2)),
            "modalities": odd_or(st.sampled_from([["text"], ["text", "audio"], ["audio"]])),
            "audio": odd_or(st.just({"voice": "alloy", "format": "wav"})),
            "function_call": odd_or(st.sampled_from(["auto", "none"])),
            "logit_bias": odd_or(st.dictionaries(st.integers(0, 10**6).map(str), st.integers(-100, 100), max_size=3)),
            "stop": odd_or(st.lists(plain_text, max_size=4)),
            "seed": numbers,
            "user": odd_text,
            "metadata": odd_values,
        },
        favoured=("messages", "tools", "response_format", "max_tokens", "stream"),
    ),
    "responses": JsonShape(
        ("gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-35-turbo", "auto", "fast", "cheap", "smart"),
        {"input": "Say hello."},
        {
            "input": odd_or(st.one_of(plain_text, messages())),
            "instructions": odd_or(odd_text),
            "tools": odd_or(st.lists(st.fixed_dictionaries({"type": st.just("function"), "name": plain_text}))),
            "tool_choice": odd_or(st.sampled_from(["auto", "none", "required"])),
            "text": odd_or(st.builds(lambda fmt: {"format": fmt}, response_formats())),
            "reasoning": odd_or(st.fixed_dictionaries({"effort": st.sampled_from(["low", "high"])})),
            "max_output_tokens": counts(),
            "previous_response_id": odd_or(st.just("resp_unknown")),
            "store": booleans,
            "background": booleans,
            "stream": booleans,
            "metadata": odd_values,
        },
        favoured=("input", "tools", "text", "max_output_tokens", "stream"),
    ),
    "completions": JsonShape(
        ("gpt-35-turbo-instruct", "auto", "cheap"),
        {"prompt": "Say hello."},
        {
            "prompt": odd_or(token_prompts),
            "suffix": odd_or(plain_text),
            "max_tokens": counts(),
            "n": counts(),
            "best_of": counts(),
            "stream": booleans,
            "stream_options": odd_or(st.fixed_dictionaries({"include_usage": st.booleans()})),
            "echo": booleans,
            "logprobs": counts(),
            "stop": odd_or(st.lists(plain_text, max_size=4)),
        },
        favoured=("prompt", "max_tokens", "stream"),
    ),
    "embeddings": JsonShape(
        ("text-embedding-ada-002", "auto"),
        {"input": "hello"},
        {
            "input": odd_or(token_prompts),
            "dimensions": counts(),
            "encoding_format": odd_or(st.sampled_from(["float", "base64"])),
            "user": odd_text,
            "stream": booleans,
        },
        favoured=("input",),
    ),
    "images/generations": JsonShape(
        ("gpt-image-1", "auto"),
        {"prompt": "A lighthouse at dusk."},
        {
            "prompt": odd_or(odd_text),
            "n": counts(),
            "size": odd_or(st.sampled_from(["1024x1024", "1024x1536", "1536x1024", "auto"])),
            "quality": odd_or(st.sampled_from(["low", "medium", "high", "auto"])),
            "output_format": odd_or(st.sampled_from(["png", "jpeg"])),
            "background": odd_or(st.sampled_from(["transparent", "opaque", "auto"])),
            "output_compression": counts(),
            "stream": booleans,
            "response_format": odd_values,
        },
        favoured=("prompt", "n"),
    ),
    "audio/speech": JsonShape(
        ("gpt-4o-mini-tts", "auto"),
        {"input": "Hello there.", "voice": "alloy"},
        {
            "input": odd_or(odd_text),
            "voice": odd_or(st.one_of(st.sampled_from(["alloy", "nova", "verse"]), st.just({"id": "custom-1"}))),
            "response_format": odd_or(st.sampled_from(["mp3", "wav", "pcm", "opus"])),
            "speed": odd_or(st.floats(0.25, 4)),
            "instructions": odd_or(odd_text),
            "stream_format": odd_or(st.sampled_from(["audio", "sse"])),
            "stream": booleans,
        },
        favoured=("input", "voice"),
    ),
}


@st.composite
def json_bodies(draw: Draw, operation: str) -> bytes:
    shape = JSON_SHAPES[operation]
    model = weighted(draw, (8, st.sampled_from(shape.models)), (1, st.sampled_from(OTHER_MODELS)), (1, odd_values))
    body: dict[str, Any] = {"model": model, **shape.base}
    for name in draw(shape.field_names()):
        body[name] = draw(shape.fields[name])
    if rarely(draw, 8):
        del body[draw(st.sampled_from(sorted(body)))]  # a field missing: often a required one
    if rarely(draw, 8):
        body[draw(keys)] = draw(odd_values)  # a field nobody knows
    layout = draw(
        st.sampled_from(
            [Layout(), Layout(", ", ": "), Layout(",\n  ", " : "), Layout(ascii_only=True), Layout("\t,", ":\r\n")]
        )
    )
    document: Any = body
    if rarely(draw, 10):
        duplicated = draw(st.sampled_from(sorted(body) or ["model"]))
        document = Pairs((*body.items(), (duplicated, draw(odd_values))))
    text = json_text(document, layout)
    return weighted(
        draw,
        (60, st.just(text.encode("utf-8"))),
        (1, st.builds(lambda value: json_text(value).encode(), odd_values)),  # not an object at all
        (1, st.builds(lambda cut: text.encode()[:cut], st.integers(0, len(text)))),  # cut short
        (1, st.sampled_from([b"\xef\xbb\xbf", b" \n", b""]).map(lambda prefix: prefix + text.encode())),
        (1, st.sampled_from([b" x", b"}", b"\x00", b"\xff"]).map(lambda suffix: text.encode() + suffix)),
        (1, st.builds(lambda enc: text.encode(enc, "replace"), st.sampled_from(["utf-16", "latin-1", "utf-32"]))),
    )


# --- Multipart bodies ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Part:
    name: bytes
    data: bytes
    filename: bytes | None = None
    content_type: bytes | None = None


@dataclass(frozen=True, slots=True)
class MultipartShape:
    models: tuple[str, ...]
    text_fields: Mapping[str, st.SearchStrategy[str]]
    uploads: Mapping[str, tuple[bytes, bytes, bytes]]  # field -> (filename, content type, data) of a valid file


_ODD_FIELD_TEXTS = st.one_of(st.sampled_from(["1", "0", "-1", "true", "nan", "inf", "1e400", "", "1" * 500]), odd_text)


def _text_field(*plain: str) -> st.SearchStrategy[str]:
    return mix((3, st.sampled_from(plain)), (1, _ODD_FIELD_TEXTS))


_AUDIO_FIELDS = {
    "response_format": _text_field("json", "text", "srt", "verbose_json", "vtt"),
    "temperature": _text_field("0", "0.5", "1"),
    "prompt": _text_field("Names: Ada, Grace."),
    "stream": _text_field("false", "true", "TRUE"),
}
MULTIPART_SHAPES: dict[str, MultipartShape] = {
    "images/edits": MultipartShape(
        ("gpt-image-1", "auto"),
        {
            "prompt": _text_field("Add a hat."),
            "n": _text_field("1", "2"),
            "size": _text_field("1024x1024", "auto"),
            "quality": _text_field("low", "high"),
            "stream": _text_field("false", "true"),
        },
        {"image": (b"in.png", b"image/png", _PNG), "image[]": (b"in.jpg", b"image/jpeg", _JPEG)},
    ),
    "audio/transcriptions": MultipartShape(
        ("whisper", "gpt-4o-transcribe", "gpt-4o-mini-transcribe", "auto"),
        {**_AUDIO_FIELDS, "language": _text_field("en", "de"), "timestamp_granularities[]": _text_field("word")},
        {"file": (b"speech.wav", b"audio/wav", _WAV)},
    ),
    "audio/translations": MultipartShape(
        ("whisper", "auto"), _AUDIO_FIELDS, {"file": (b"speech.mp3", b"audio/mpeg", _MP3)}
    ),
}
# Text fields a valid form carries besides `model`.
REQUIRED_TEXT = {"images/edits": ("prompt",), "audio/transcriptions": (), "audio/translations": ()}

# RFC 2046's boundary characters, and some it does not allow.
BOUNDARY_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? "
boundaries = mix(
    (8, st.text(alphabet=BOUNDARY_CHARS.strip(), min_size=1, max_size=70)),
    (1, st.sampled_from([1, 69, 70, 71, 255, 256, 257, 300, 1000, 5000]).map(lambda n: "b" * n)),
    (1, st.text(alphabet=st.sampled_from(BOUNDARY_CHARS + '";\\\u00e9\u00ff\t'), min_size=1, max_size=20)),
)
# A file's bytes as uploaded: the valid file, nothing, noise, or the right signature and then nothing.
upload_data = st.one_of(
    st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"RIFF\xff\xff\xff\xffWAVEfmt ", b"\xff\xfb"]), st.binary(max_size=64)
)


@st.composite
def parts_for(draw: Draw, operation: str) -> list[Part]:
    shape = MULTIPART_SHAPES[operation]
    model = weighted(draw, (8, st.sampled_from(shape.models)), (1, st.sampled_from(OTHER_MODELS)), (1, odd_text))
    parts = [Part(b"model", _encoded(model))]
    required = REQUIRED_TEXT[operation]
    names = [*required, *draw(st.lists(st.sampled_from(sorted(shape.text_fields)), max_size=3, unique=True))]
    parts += [Part(name.encode(), _encoded(draw(shape.text_fields[name]))) for name in dict.fromkeys(names)]
    upload_names = sorted(shape.uploads)
    for name in draw(st.lists(st.sampled_from(upload_names), min_size=1, max_size=2, unique=True)):
        filename, content_type, data = shape.uploads[name]
        if rarely(draw, 6):
            data = draw(upload_data)
        if rarely(draw, 8):
            filename = draw(st.sampled_from([b"", b"noext", b'a"b.wav', b"\xc3\xa9.wav", b"../../x.png", b"a\\b.png"]))
        parts.append(Part(name.encode(), data, filename, content_type))
    # Then break it, now and then: drop, duplicate, swap kinds, add strangers.
    for _ in range(weighted(draw, (6, st.just(0)), (2, st.just(1)), (1, st.just(2)))):
        index = draw(st.integers(0, len(parts) - 1))
        part = parts[index]
        change = draw(st.integers(0, 6))
        if change == 0:
            del parts[index]
        elif change == 1:
            parts.append(part)  # the same field twice
        elif change == 2:
            parts.insert(index, Part(part.name, _encoded(draw(odd_text)), part.filename, part.content_type))
        elif change == 3:
            # text sent as a file (a `model` upload), or a file sent as text
            parts[index] = Part(part.name, part.data, None if part.filename else b"x.txt", part.content_type)
        elif change == 4:
            parts.append(Part(_encoded(draw(odd_text)), _encoded(draw(odd_text))))
        elif change == 5:
            parts[index] = Part(_encoded(draw(odd_text)), part.data, part.filename, part.content_type)
        else:
            parts[index] = Part(part.name, part.data, part.filename, _encoded(draw(odd_text)))
    return parts


def _encoded(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


@st.composite
def multipart_bodies(draw: Draw, operation: str) -> tuple[bytes, bytes]:
    """(Content-Type value, body) of a form for `operation`, written with a generated boundary and layout."""
    parts = draw(parts_for(operation))
    boundary = _encoded(draw(boundaries))
    quoted = rarely(draw, 4)
    content_type = b"multipart/form-data; boundary=" + (b'"' + boundary + b'"' if quoted else boundary)
    newline = weighted(draw, (9, st.just(b"\r\n")), (1, st.just(b"\n")))
    body = bytearray()
    if rarely(draw, 10):
        body += b"preamble text" + newline
    for part in parts:
        body += b"--" + boundary + newline
        disposition = b'form-data; name="' + part.name + b'"'
        if part.filename is not None:
            disposition += b'; filename="' + part.filename + b'"'
        body += b"Content-Disposition: " + disposition + newline
        if part.content_type is not None:
            body += b"Content-Type: " + part.content_type + newline
        body += newline + part.data + newline
    ending = weighted(
        draw,
        (12, st.just(b"--" + boundary + b"--" + newline)),
        (1, st.just(b"")),  # never closed
        (1, st.just(b"--" + boundary + newline)),  # closed like a part that never comes
        (1, st.just(b"--" + boundary + b"--" + newline + b"epilogue")),
        (1, st.just(b"--wrong-boundary--" + newline)),
    )
    body += ending
    if rarely(draw, 16):
        content_type = draw(
            st.sampled_from(
                [b"multipart/form-data", b"multipart/form-data; boundary=", b"multipart/mixed; boundary=" + boundary]
            )
        )
    return content_type, bytes(body)


# --- Headers ---------------------------------------------------------------------------------------------

# Bytes a server hands the application in a header value: visible ASCII, space and obs-text (0x80-0xFF).
header_bytes = st.binary(max_size=40).map(
    lambda raw: bytes(byte if byte >= 0x20 and byte != 0x7F else 0x20 for byte in raw)
)
non_ascii_values = st.sampled_from(
    [b"\xe9", b"application/json; q=\xff", b"text/\xc3\xa9vent-stream", b"\x80\x81", b"*/*\xa0"]
)
odd_header_values = st.one_of(header_bytes, non_ascii_values, st.sampled_from([b"", b" ", b"\t"]))


json_content_types: st.SearchStrategy[bytes | None] = mix(
    (12, st.just(b"application/json")),
    (
        3,
        st.sampled_from(
            [
                b"application/json; charset=utf-8",
                b"APPLICATION/JSON",
                b"application/json ; charset=latin-1",
                b"application/vnd.api+json",
                b"application/json; boundary=x",
                b"text/plain",
                b"multipart/form-data; boundary=x",
                b"application/x-www-form-urlencoded",
                b"application/json; " + b"p=v;" * 400,
            ]
        ),
    ),
    (1, st.none()),
    (1, non_ascii_values),
    (1, header_bytes),
)


@st.composite
def headers_for(draw: Draw, content_type: bytes | None, json_endpoint: bool) -> tuple[tuple[bytes, bytes], ...]:
    auth = weighted(
        draw,
        (30, st.just([(b"authorization", b"Bearer " + CLIENT_KEY.encode())])),
        (3, st.just([(b"api-key", CLIENT_KEY.encode())])),
        (1, st.just([])),
        (1, st.builds(lambda value: [(b"authorization", value)], odd_header_values)),
        (1, st.just([(b"authorization", b"Bearer " + CLIENT_KEY.encode() + b"\xe9")])),
    )
    headers: list[tuple[bytes, bytes]] = list(auth)
    if json_endpoint:
        content_type = draw(json_content_types)
    elif rarely(draw, 13):
        content_type = draw(st.one_of(st.none(), non_ascii_values, header_bytes, st.just(b"application/json")))
    if content_type is not None:
        headers.append((b"content-type", content_type))
        if rarely(draw, 20):
            headers.append((b"content-type", draw(odd_header_values)))  # sent twice
    optional = {
        b"accept": st.one_of(st.sampled_from([b"application/json", b"*/*", b"text/event-stream"]), odd_header_values),
        b"x-route-latency": st.one_of(st.sampled_from([b"low", b"normal", b"LOW ", b"high"]), odd_header_values),
        b"x-route-cost": st.one_of(st.sampled_from([b"low", b"normal"]), odd_header_values),
        b"x-route-task": st.one_of(st.sampled_from([b"code", b"creative", b"general", b"Code"]), odd_header_values),
        # The openai SDK's own read timeout; only values that leave time to answer (the gateway then shortens
        # its deadline, and a request given a few milliseconds rightly times out).
        b"x-stainless-read-timeout": st.sampled_from(
            [b"600", b"60.5", b"0", b"-1", b"nan", b"inf", b"1e400", b"abc", b"\xd9\xa6\xd9\xa0", b""]
        ),
        b"x-padding": st.sampled_from([1_000, 8_000, 32_000]).map(lambda n: b"p" * n),
        b"x-ms-client-request-id": odd_header_values,
        b"user-agent": odd_header_values,
    }
    for name in draw(st.lists(st.sampled_from(sorted(optional)), max_size=3, unique=True)):
        headers.append((name, draw(optional[name])))
    return tuple(headers)


@st.composite
def fuzz_requests(draw: Draw, operation: str) -> FuzzRequest:
    """A generated request for `operation`, one of ENDPOINTS."""
    endpoint: Endpoint = ENDPOINTS[operation]
    if endpoint.body_kind == "json":
        body = draw(json_bodies(operation))
        return FuzzRequest(operation, draw(headers_for(None, json_endpoint=True)), body)
    content_type, body = draw(multipart_bodies(operation))
    if rarely(draw, 20):
        body = draw(json_bodies("chat/completions"))  # a JSON body where a form is expected
    return FuzzRequest(operation, draw(headers_for(content_type, json_endpoint=False)), body)
