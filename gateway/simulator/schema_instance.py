"""A JSON value valid against a JSON schema, chosen deterministically: the simulator's structured output.

Covers the subset OpenAI structured outputs and tool parameters use (and pydantic writes): types and type
lists, enum/const, objects, arrays, string formats and simple patterns, number bounds and multipleOf,
anyOf/oneOf/allOf, and $ref into the root's $defs/definitions. Every value is drawn from a digest of
the seed and the value's path in the document, so one (schema, seed) always gives the same value and a
change deep in a schema does not reshuffle its siblings.

Recursive schemas terminate: past a few $ref expansions the generator turns frugal (null branches, empty
arrays, required properties only), and past a hard depth, or a budget of values, it gives up with null.
A schema it cannot satisfy never raises: the answer is then null, or the nearest plausible value.
"""

from __future__ import annotations

import math
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.routing.json_text import json_text as json_text  # re-exported: an instance's text, at any depth
from gateway.simulator import textgen
from gateway.simulator.schema_pattern import python_pattern, string_matching

_FILLER_START = 4  # textgen.reply_words opens with "Simulated reply from <model>:"; the rest is filler
_FRUGAL_AFTER_REFS = 2  # $ref expansions on one path before recursion is steered to its shortest end
_FRUGAL_AFTER_DEPTH = 8
_GIVE_UP_DEPTH = 24
_MAX_ITEMS = 64  # an absurd minItems/minLength gets a sane value rather than megabytes
_MAX_CHARS = 4096
_MAX_VALUES = 20_000  # values per instance: $defs referring to each other twice per level would double each time
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_TYPE_ORDER = ("object", "array", "string", "integer", "number", "boolean", "null")


def instance_of(schema: Any, seed: bytes) -> Any:
    """A JSON value valid against `schema` (the JSON-schema subset OpenAI structured outputs and tool parameters
    use), chosen deterministically from `seed`."""
    try:
        return _Maker(schema, seed).value(schema, "", 0, 0)
    except (RecursionError, ValueError, TypeError, OverflowError, ArithmeticError):
        return None


class _Maker:
    def __init__(self, root: Any, seed: bytes) -> None:
        self.root = root
        self.seed = seed
        self.budget = _MAX_VALUES

    def digest(self, path: str) -> bytes:
        return textgen.digest(self.seed, path.encode())

    def number(self, path: str, span: int) -> int:
        """A number in [0, span) drawn from the path's digest."""
        return int.from_bytes(self.digest(path)[:8], "big") % max(1, span)

    def words(self, path: str) -> list[str]:
        return textgen.reply_words("", self.digest(path))[_FILLER_START:]

    def value(self, schema: Any, path: str, depth: int, refs: int) -> Any:
        self.budget -= 1
        if depth > _GIVE_UP_DEPTH or self.budget < 0:
            return None
        if schema is True:
            return self.anything(path)
        if not isinstance(schema, dict):
            return None  # `false`, or not a schema: nothing is valid, null is the least wrong
        schema, refs = self.resolve(schema, refs)
        frugal = refs > _FRUGAL_AFTER_REFS or depth > _FRUGAL_AFTER_DEPTH
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return enum[self.number(path + "#enum", len(enum))]
        if isinstance(schema.get("allOf"), list):
            merged = {key: value for key, value in schema.items() if key != "allOf"}
            for part in schema["allOf"]:
                merged = _merge(merged, self.resolve(part, refs)[0] if isinstance(part, dict) else {})
            return self.value(merged, path, depth + 1, refs)
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                rest = {k: v for k, v in schema.items() if k != key}
                branch = self.branch(branches, path, frugal)
                if not isinstance(branch, dict):
                    return self.value(branch, path, depth + 1, refs)
                chosen, branch_refs = self.resolve(branch, refs)
                return self.value(_merge(rest, chosen), path, depth + 1, branch_refs)
        kind = self.kind(schema, path, frugal)
        if kind == "object":
            return self.object(schema, path, depth, refs, frugal)
        if kind == "array":
            return self.array(schema, path, depth, refs, frugal)
        if kind == "string":
            return self.string(schema, path)
        if kind == "integer":
            return self.integer(schema, path)
        if kind == "number":
            return self.real(schema, path)
        if kind == "boolean":
            return self.number(path, 2) == 0
        if kind == "null":
            return None
        return self.anything(path)

    def resolve(self, schema: dict[str, Any], refs: int) -> tuple[dict[str, Any], int]:
        """The schema with its $ref (and its target's, in turn) replaced by what it points to."""
        for _ in range(_GIVE_UP_DEPTH):
            ref = schema.get("$ref")
            if not isinstance(ref, str):
                break
            target = _pointer(self.root, ref)
            siblings = {key: value for key, value in schema.items() if key != "$ref"}
            schema = {**target, **siblings} if isinstance(target, dict) else siblings
            refs += 1
        return schema, refs

    def branch(self, branches: list[Any], path: str, frugal: bool) -> Any:
        if frugal:
            # The shortest way out of a recursion: a null branch, else one that does not recurse.
            for branch in branches:
                if isinstance(branch, dict) and "null" in _types(branch):
                    return branch
            for branch in branches:
                if isinstance(branch, dict) and "$ref" not in branch:
                    return branch
        return branches[self.number(path + "#of", len(branches))]

    def kind(self, schema: dict[str, Any], path: str, frugal: bool) -> str | None:
        types = _types(schema)
        if types:
            if frugal and "null" in types:
                return "null"
            real = [t for t in types if t != "null"]
            return real[0] if real else types[0]
        if any(key in schema for key in ("properties", "required", "additionalProperties", "patternProperties")):
            return "object"
        if any(key in schema for key in ("items", "prefixItems", "minItems", "maxItems", "contains")):
            return "array"
        if any(key in schema for key in ("minLength", "maxLength", "pattern", "format")):
            return "string"
        if any(key in schema for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
            return "number"
        return None

    def anything(self, path: str) -> Any:
        return " ".join(self.words(path)[:2])

    def object(self, schema: dict[str, Any], path: str, depth: int, refs: int, frugal: bool) -> dict[str, Any]:
        properties = schema.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        required = [name for name in schema.get("required") or [] if isinstance(name, str)]
        extra = schema.get("additionalProperties", True)
        # Strict mode lists every property as required; otherwise optional ones are included too, which
        # is what a model filling a form does, unless recursion asks for the shortest valid answer.
        names = [name for name in properties if not frugal or name in required]
        names += [name for name in required if name not in names]
        result: dict[str, Any] = {}
        for name in names:
            sub = properties.get(name, extra if isinstance(extra, dict) else True)
            result[name] = self.value(sub, f"{path}/{name}", depth + 1, refs)
        lowest = schema.get("minProperties")
        wanted = lowest if isinstance(lowest, int) else (0 if frugal or properties else 1)
        highest = schema.get("maxProperties")
        if isinstance(highest, int):
            wanted = min(wanted, highest)
        if extra is not False and "propertyNames" not in schema:
            for index, word in enumerate(self.words(path + "#keys")):
                if len(result) >= min(wanted, _MAX_ITEMS):
                    break
                if word not in result:
                    result[word] = self.value(extra, f"{path}/{index}", depth + 1, refs)
        return result

    def array(self, schema: dict[str, Any], path: str, depth: int, refs: int, frugal: bool) -> list[Any]:
        lowest = _whole(schema.get("minItems"), 0)
        highest = _whole(schema.get("maxItems"), lowest + 3)
        prefix = schema.get("prefixItems")
        prefix = prefix if isinstance(prefix, list) else []
        items = schema.get("items", True)
        if isinstance(items, list):  # draft-07 tuple form
            prefix, items = items, schema.get("additionalItems", True)
        if items is False:
            highest = min(highest, len(prefix))
        lowest = min(lowest, highest, _MAX_ITEMS)
        count = lowest if frugal else min(highest, max(lowest, 1 + self.number(path + "#n", 3)), _MAX_ITEMS)
        contains = schema.get("contains")
        result: list[Any] = []
        for index in range(count):
            item_path = f"{path}/{index}"
            if index < len(prefix):
                sub = prefix[index]
            elif index == 0 and isinstance(contains, dict) and not prefix:
                sub = _merge(items if isinstance(items, dict) else {}, contains)
            else:
                sub = items
            item = self.value(sub, item_path, depth + 1, refs)
            if schema.get("uniqueItems") is True and item in result:
                for attempt in range(1, 8):  # another draw; an enum too small to fill the array stays short
                    item = self.value(sub, f"{item_path}~{attempt}", depth + 1, refs)
                    if item not in result:
                        break
                else:
                    continue
            result.append(item)
        return result

    def string(self, schema: dict[str, Any], path: str) -> str:
        lowest = min(_whole(schema.get("minLength"), 0), _MAX_CHARS)
        highest = _whole(schema.get("maxLength"), max(lowest, _MAX_CHARS))
        pattern = schema.get("pattern")
        formatted = self.formatted(schema.get("format"), path)
        if formatted is not None and lowest <= len(formatted) <= highest and _matches(pattern, formatted):
            return formatted
        if isinstance(pattern, str):
            for attempt in range(8):
                text = string_matching(pattern, self.digest(f"{path}#pattern{attempt}"), self.words(path))
                if text is not None and lowest <= len(text) <= highest:
                    return text
        return _fit(" ".join(self.words(path)[:3]), lowest, highest, self.words(path + "#more"))

    def formatted(self, fmt: Any, path: str) -> str | None:
        if not isinstance(fmt, str):
            return None
        moment = _EPOCH + timedelta(minutes=self.number(path + "#when", 3 * 365 * 24 * 60))
        word, other = [*self.words(path), "alpha", "bravo"][:2]
        return {
            "date": moment.strftime("%Y-%m-%d"),
            "date-time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "time": moment.strftime("%H:%M:%SZ"),
            "duration": f"P{1 + self.number(path + '#days', 30)}D",
            "email": f"{word}.{other}@example.com",
            "idn-email": f"{word}.{other}@example.com",
            "hostname": f"{word}.example.com",
            "idn-hostname": f"{word}.example.com",
            "uri": f"https://example.com/{word}/{other}",
            "iri": f"https://example.com/{word}/{other}",
            "url": f"https://example.com/{word}/{other}",
            "uri-reference": f"/{word}/{other}",
            "uuid": str(uuid.UUID(bytes=self.digest(path + "#uuid")[:16], version=4)),
            "ipv4": f"192.0.2.{1 + self.number(path + '#ip', 254)}",
            "ipv6": f"2001:db8::{1 + self.number(path + '#ip', 65534):x}",
        }.get(fmt)

    def integer(self, schema: dict[str, Any], path: str) -> int:
        low, high = _bounds(schema)
        lowest = math.floor(low[0]) + 1 if low and low[1] else math.ceil(low[0]) if low else None
        highest = math.ceil(high[0]) - 1 if high and high[1] else math.floor(high[0]) if high else None
        first, last = (int(end) for end in _span(lowest, highest, 1, 100))
        step = _step(schema.get("multipleOf"))
        if step:
            for candidate in self.multiples(step, first, last, path):
                if candidate == int(candidate):
                    return int(candidate)
        return first + self.number(path, last - first + 1)

    def real(self, schema: dict[str, Any], path: str) -> float:
        low, high = _bounds(schema)
        step = _step(schema.get("multipleOf"))
        lowest, highest = _span(low[0] if low else None, high[0] if high else None, 0, 100)
        if step:
            for candidate in self.multiples(step, lowest, highest, path):
                if _inside(candidate, low, high):
                    return candidate
        # Quarter fractions look like prices and measures, and tell a "number" from an "integer" branch.
        quarters = max(1, int((highest - lowest) * 4))
        candidate = lowest + self.number(path, quarters) / 4 + 0.25
        if _inside(candidate, low, high):
            return candidate
        return (lowest + highest) / 2

    def multiples(self, step: float, lowest: float, highest: float, path: str) -> list[float]:
        """Multiples of `step` within the bounds that also pass a float division check, seed-ordered."""
        first, last = math.ceil(lowest / step), math.floor(highest / step)
        if last < first:
            return []
        start = first + self.number(path + "#k", min(last - first + 1, 10**6))
        found = []
        for k in [start, *range(first, min(last, first + 50) + 1)]:
            candidate = k * step
            if isinstance(step, float):
                candidate = float(repr(round(candidate, 12)))
            quotient = candidate / step
            if quotient == int(quotient) and lowest <= candidate <= highest:
                found.append(candidate)
        return found


def _types(schema: dict[str, Any]) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared] if declared in _TYPE_ORDER else []
    if isinstance(declared, list):
        return [t for t in declared if isinstance(t, str) and t in _TYPE_ORDER]
    return []


def _pointer(root: Any, ref: str) -> Any:
    """What a local $ref ("#", "#/$defs/Name", "#/definitions/Name", any JSON pointer) points to."""
    if not ref.startswith("#"):
        return {}
    node = root
    for token in ref[1:].split("/")[1:] if ref != "#" else []:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return {}
    return node if isinstance(node, dict | bool) else {}


def _merge(base: dict[str, Any], extra: Any) -> dict[str, Any]:
    """Two schemas that must both hold, as one: properties and required combined, types intersected."""
    if not isinstance(extra, dict):
        return base
    merged = dict(base)
    for key, value in extra.items():
        if key not in merged:
            merged[key] = value
        elif key == "properties" and isinstance(value, dict) and isinstance(merged[key], dict):
            properties = dict(merged[key])
            for name, sub in value.items():
                properties[name] = {"allOf": [properties[name], sub]} if name in properties else sub
            merged[key] = properties
        elif key == "required" and isinstance(value, list) and isinstance(merged[key], list):
            merged[key] = merged[key] + [name for name in value if name not in merged[key]]
        elif key == "type":
            ours, theirs = _types(merged), _types(extra)
            both = [t for t in ours if t in theirs or (t == "integer" and "number" in theirs)]
            both += [t for t in theirs if t == "integer" and "number" in ours and t not in both]
            merged[key] = both or value
        elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
            merged["allOf"] = [*merged.get("allOf", []), {key: value}]
        else:
            merged[key] = value
    return merged


def _bounds(schema: dict[str, Any]) -> tuple[tuple[float, bool] | None, tuple[float, bool] | None]:
    """(lower, upper) bounds as (value, exclusive), reading both draft-04 booleans and 2020-12 numbers."""
    low: tuple[float, bool] | None = None
    high: tuple[float, bool] | None = None
    if _number(schema.get("minimum")):
        low = (schema["minimum"], schema.get("exclusiveMinimum") is True)
    if _number(schema.get("exclusiveMinimum")) and (low is None or schema["exclusiveMinimum"] >= low[0]):
        low = (schema["exclusiveMinimum"], True)
    if _number(schema.get("maximum")):
        high = (schema["maximum"], schema.get("exclusiveMaximum") is True)
    if _number(schema.get("exclusiveMaximum")) and (high is None or schema["exclusiveMaximum"] <= high[0]):
        high = (schema["exclusiveMaximum"], True)
    return low, high


def _span(lowest: float | None, highest: float | None, floor: int, width: int) -> tuple[float, float]:
    """Both ends of a range, filling an open end with a plausible width."""
    if lowest is not None and highest is not None:
        return lowest, max(lowest, highest)
    if lowest is not None:
        return lowest, lowest + width
    if highest is not None:
        return highest - width, highest
    return floor, floor + width


def _inside(value: float, low: tuple[float, bool] | None, high: tuple[float, bool] | None) -> bool:
    above = low is None or (value > low[0] if low[1] else value >= low[0])
    below = high is None or (value < high[0] if high[1] else value <= high[0])
    return above and below


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _step(value: Any) -> float | None:
    """multipleOf's value, when it is a usable one."""
    return value if _number(value) and value > 0 else None


def _whole(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


def _matches(pattern: Any, text: str) -> bool:
    if not isinstance(pattern, str):
        return True
    try:
        return re.search(python_pattern(pattern), text) is not None
    except re.error:
        return True  # a pattern Python cannot read is one we cannot check either


def _fit(text: str, lowest: int, highest: int, more: list[str]) -> str:
    """`text` lengthened with more words, or cut, to a length within [lowest, highest]."""
    for word in more:
        if len(text) >= lowest:
            break
        text += " " + word
    text = text[:highest]
    if len(text.rstrip()) >= lowest:
        text = text.rstrip()  # a cut that ends on a space reads better without it
    return text.ljust(lowest, "x")
