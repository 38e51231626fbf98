"""Instances of JSON schemas: valid (checked by jsonschema, Draft 2020-12, formats included), deterministic,
plausible, finite for recursive schemas, and never an exception whatever the schema."""

from __future__ import annotations

import datetime
import enum
import uuid
from typing import Annotated, Any, Literal

import jsonschema
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from gateway.simulator.schema_instance import instance_of

VALIDATOR = jsonschema.Draft202012Validator
FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER
SEEDS = [b"", b"one", b"two", b"\x00" * 32, b"a much longer seed than the others"]


def assert_valid(schema: Any, instance: Any) -> None:
    VALIDATOR(schema, format_checker=FORMATS).validate(instance)


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Address(BaseModel):
    street: str
    city: str
    postcode: Annotated[str, Field(pattern=r"^[A-Z]{2}\d{2} \d[A-Z]{2}$")]


class Person(BaseModel):
    name: str
    age: Annotated[int, Field(ge=0, le=130)]
    height_m: Annotated[float, Field(gt=0.3, lt=2.6)]
    score: Annotated[float, Field(multiple_of=0.25, ge=0, le=10)]
    colour: Colour
    role: Literal["admin", "user", "guest"]
    nickname: str | None = None
    tags: Annotated[list[str], Field(min_length=2, max_length=4)]
    addresses: list[Address]
    counts: dict[str, int]
    born: datetime.date
    seen: datetime.datetime
    key: uuid.UUID
    handle: Annotated[str, Field(min_length=3, max_length=8, pattern=r"^[a-z]+$")]
    active: bool


class TreeNode(BaseModel):
    label: str
    children: list[TreeNode] = []
    parent: TreeNode | None = None


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: Annotated[int, Field(ge=1, le=9)]


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool


class Pet(BaseModel):
    pet: Annotated[Cat | Dog, Field(discriminator="kind")]
    pets: list[Cat | Dog]


MODELS: list[type[BaseModel]] = [Person, Address, TreeNode, Pet]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("seed", SEEDS)
def test_pydantic_schemas_get_valid_instances_that_pydantic_parses(model: type[BaseModel], seed: bytes) -> None:
    schema = model.model_json_schema()
    instance = instance_of(schema, seed)
    assert_valid(schema, instance)
    model.model_validate(instance)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_openai_strict_schemas_get_every_property(model: type[BaseModel]) -> None:
    # What `pydantic_function_tool` and `response_format=Model` send: strict, every property required.
    schema = openai.pydantic_function_tool(model)["function"]["parameters"]
    instance = instance_of(schema, b"strict")
    assert_valid(schema, instance)
    assert set(instance) == set(model.model_fields)
    model.model_validate(instance)


def test_optional_properties_are_filled_in_too() -> None:
    instance = instance_of(Person.model_json_schema(), b"seed")
    assert set(instance) == set(Person.model_fields)


def test_same_schema_and_seed_give_the_same_instance_and_other_seeds_others() -> None:
    schema = Person.model_json_schema()
    assert instance_of(schema, b"seed") == instance_of(schema, b"seed")
    assert len({repr(instance_of(schema, seed)) for seed in SEEDS}) == len(SEEDS)


def test_strings_are_words_and_formats_look_real() -> None:
    instance = instance_of(Person.model_json_schema(), b"words")
    assert all(word.isalpha() and word.islower() for word in instance["name"].split())
    assert datetime.date.fromisoformat(instance["born"]).year >= 2024
    assert datetime.datetime.fromisoformat(instance["seen"]).tzinfo is not None
    assert uuid.UUID(instance["key"]).version == 4


def test_a_recursive_model_terminates_with_nested_children() -> None:
    instance = instance_of(TreeNode.model_json_schema(), b"tree")

    def depth(node: dict[str, Any]) -> int:
        # Frugal levels (deep in the recursion) leave optional properties out.
        below = [depth(child) for child in node.get("children", [])]
        if node.get("parent") is not None:
            below.append(depth(node["parent"]))
        return 1 + max(below, default=0)

    assert 2 <= depth(instance) <= 8
    TreeNode.model_validate(instance)


def test_a_self_reference_with_no_way_out_still_terminates() -> None:
    schema = {"type": "object", "properties": {"next": {"$ref": "#"}}, "required": ["next"]}
    instance = instance_of(schema, b"loop")
    depth = 0
    while isinstance(instance, dict):
        instance, depth = instance["next"], depth + 1
    assert instance is None and 5 <= depth <= 30


def test_refs_that_double_at_each_level_stay_bounded() -> None:
    defs = {
        f"d{i}": {
            "type": "object",
            "properties": {"a": {"$ref": f"#/$defs/d{i + 1}"}, "b": {"$ref": f"#/$defs/d{i + 1}"}},
            "required": ["a", "b"],
        }
        for i in range(30)
    }
    defs["d30"] = {"type": "integer"}
    instance = instance_of({"$ref": "#/$defs/d0", "$defs": defs}, b"laughs")
    assert isinstance(instance, dict)
    assert len(repr(instance)) < 2_000_000


HAND_WRITTEN: dict[str, Any] = {
    "type list": {"type": ["string", "null"]},
    "nullable integer list": {"type": "array", "items": {"type": ["integer", "null"]}, "minItems": 3},
    "const": {"const": {"fixed": [1, 2]}},
    "enum of mixed values": {"enum": [1, "two", None, [3]]},
    "anyOf": {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "integer", "minimum": 10}]},
    "oneOf integer or number": {"oneOf": [{"type": "integer"}, {"type": "number", "not": {"type": "integer"}}]},
    "allOf merges objects": {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"properties": {"b": {"type": "integer", "minimum": 5}}, "required": ["b"]},
        ]
    },
    "definitions (draft-07 refs)": {
        "type": "object",
        "properties": {"x": {"$ref": "#/definitions/X"}},
        "required": ["x"],
        "definitions": {"X": {"type": "string", "enum": ["p", "q"]}},
    },
    "ref with siblings": {
        "$defs": {"N": {"type": "integer"}},
        "type": "object",
        "properties": {"n": {"$ref": "#/$defs/N", "minimum": 40, "maximum": 42}},
    },
    "formats": {
        "type": "object",
        "properties": {
            fmt: {"type": "string", "format": fmt}
            for fmt in ("date", "date-time", "time", "email", "uri", "uuid", "hostname", "ipv4", "ipv6", "duration")
        },
        "additionalProperties": False,
    },
    "exclusive bounds": {"type": "number", "exclusiveMinimum": 1, "exclusiveMaximum": 1.5},
    "tight integer": {"type": "integer", "exclusiveMinimum": 6, "exclusiveMaximum": 8},
    "negative range": {"type": "integer", "maximum": -1000},
    "multipleOf tenths": {"type": "number", "multipleOf": 0.1, "minimum": 1, "maximum": 2},
    "multipleOf hundredths": {"type": "number", "multipleOf": 0.01},
    "multipleOf seven": {"type": "integer", "multipleOf": 7, "minimum": 50},
    "unique enum items": {"type": "array", "items": {"enum": ["a", "b", "c"]}, "minItems": 3, "uniqueItems": True},
    "exact item count": {"type": "array", "items": {"type": "boolean"}, "minItems": 5, "maxItems": 5},
    "prefixItems": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "items": False},
    "length bounds": {"type": "string", "minLength": 40, "maxLength": 45},
    "exact length": {"type": "string", "minLength": 7, "maxLength": 7},
    "one character": {"type": "string", "maxLength": 1},
    "dict of integers": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
    "min properties": {"type": "object", "minProperties": 3},
    "no type, keywords say object": {"properties": {"a": {"type": "boolean"}}, "required": ["a"]},
    "required but unlisted": {"type": "object", "properties": {}, "required": ["ghost"]},
    "nested arrays": {"type": "array", "items": {"type": "array", "items": {"type": "number"}, "minItems": 1}},
    "empty schema": {},
    "true": True,
    "null": {"type": "null"},
}

PATTERNS = [
    r"^[a-z]+$",
    r"^[A-Z]{3}-\d{4}$",
    r"^\d{5}(-\d{4})?$",
    r"^(red|green|blue)$",
    r"^[A-Za-z0-9._%+-]+@[a-z]+\.[a-z]{2,3}$",
    r"^\+?[0-9 ]{7,15}$",
    r"^#[0-9a-fA-F]{6}$",
    r"^(?:[a-z]+_)*[a-z]+$",
    r"[^0-9]{3}",
    r"^\w+\s\w+$",
]


@pytest.mark.parametrize("name", list(HAND_WRITTEN))
@pytest.mark.parametrize("seed", SEEDS)
def test_hand_written_schemas_get_valid_instances(name: str, seed: bytes) -> None:
    assert_valid(HAND_WRITTEN[name], instance_of(HAND_WRITTEN[name], seed))


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("seed", SEEDS)
def test_patterns_are_matched(pattern: str, seed: bytes) -> None:
    schema = {"type": "string", "pattern": pattern}
    instance = instance_of(schema, seed)
    assert_valid(schema, instance)


def test_a_simple_class_pattern_gives_a_word() -> None:
    instance = instance_of({"type": "string", "pattern": "^[a-z]+$"}, b"seed")
    assert instance in instance_of({"type": "string"}, b"seed") or instance.isalpha()
    assert instance.isalpha() and len(instance) >= 3


def test_draft_04_boolean_exclusive_bounds() -> None:
    schema = {"type": "integer", "minimum": 3, "exclusiveMinimum": True, "maximum": 5, "exclusiveMaximum": True}
    assert instance_of(schema, b"seed") == 4
    jsonschema.Draft4Validator(schema).validate(instance_of(schema, b"seed"))


def test_enum_and_const_win_at_any_level() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "const": "fixed"}, "b": {"enum": [7]}}}
    assert instance_of(schema, b"x") == {"a": "fixed", "b": 7}


def test_frugal_recursion_prefers_the_null_branch() -> None:
    schema = {
        "$defs": {
            "L": {
                "type": "object",
                "properties": {"next": {"anyOf": [{"$ref": "#/$defs/L"}, {"type": "null"}]}},
                "required": ["next"],
            }
        },
        "$ref": "#/$defs/L",
    }
    instance = instance_of(schema, b"chain")
    assert_valid(schema, instance)
    while instance is not None:
        instance = instance["next"]


ODD_SCHEMAS: list[Any] = [
    None,
    42,
    "string",
    [],
    False,
    {"type": 5},
    {"type": "unknown"},
    {"$ref": "#/nowhere"},
    {"$ref": 3},
    {"$ref": "http://example.com/schema"},
    {"properties": []},
    {"allOf": "x"},
    {"anyOf": []},
    {"enum": []},
    {"type": "array", "minItems": 10**9},
    {"type": "string", "minLength": 10**9},
    {"type": "integer", "minimum": 10, "maximum": 1},
    {"type": "number", "multipleOf": 0},
    {"type": "number", "multipleOf": -2},
    {"type": "number", "minimum": 1e308, "maximum": float("inf")},
    {"type": "string", "pattern": "("},
    {"type": "string", "pattern": "(?=lookahead)x"},
    {"type": "string", "pattern": r"(a)\1"},
    {"type": "object", "required": [None, 3, {}], "additionalProperties": False},
    {"type": "object", "minProperties": "many", "maxProperties": -1},
]


@pytest.mark.parametrize("schema", ODD_SCHEMAS, ids=repr)
def test_odd_schemas_never_raise(schema: Any) -> None:
    instance_of(schema, b"odd")


@pytest.mark.parametrize("schema", [None, 42, "x", [], False], ids=repr)
def test_an_unusable_schema_gives_null(schema: Any) -> None:
    assert instance_of(schema, b"odd") is None


# A strategy of satisfiable schemas: whatever it draws, the instance must validate.
_leaves = st.one_of(
    st.builds(
        lambda lo, extra: {"type": "string", "minLength": lo, "maxLength": lo + extra},
        st.integers(0, 20),
        st.integers(0, 20),
    ),
    st.builds(
        lambda lo, extra: {"type": "integer", "minimum": lo, "maximum": lo + extra},
        st.integers(-1000, 1000),
        st.integers(0, 50),
    ),
    st.builds(
        lambda lo, extra: {"type": "number", "minimum": lo, "exclusiveMaximum": lo + extra},
        st.floats(-1e6, 1e6),
        st.floats(0.01, 1e3),
    ),
    st.sampled_from(
        [{"type": "boolean"}, {"type": "null"}, {"type": "string", "format": "email"}, {"type": ["number", "null"]}]
    ),
    st.lists(st.one_of(st.integers(), st.text(max_size=5), st.none()), min_size=1, max_size=4).map(
        lambda values: {"enum": values}
    ),
)


def _compound(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    @st.composite
    def an_object(draw: st.DrawFn) -> dict[str, Any]:
        properties = draw(st.dictionaries(st.text("abcdefgh", min_size=1, max_size=6), children, max_size=4))
        required = draw(st.lists(st.sampled_from(sorted(properties)), unique=True)) if properties else []
        strict = draw(st.booleans())
        return {"type": "object", "properties": properties, "required": required, "additionalProperties": not strict}

    arrays = st.builds(
        lambda items, lo, extra: {"type": "array", "items": items, "minItems": lo, "maxItems": lo + extra},
        children,
        st.integers(0, 3),
        st.integers(0, 3),
    )
    any_of = st.lists(children, min_size=1, max_size=3).map(lambda branches: {"anyOf": branches})
    return st.one_of(an_object(), arrays, any_of)


satisfiable_schemas = st.recursive(_leaves, _compound, max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(satisfiable_schemas, st.binary(max_size=8))
def test_generated_schemas_get_valid_instances(schema: Any, seed: bytes) -> None:
    assert_valid(schema, instance_of(schema, seed))


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
schema_keys = st.sampled_from(
    [
        "type",
        "properties",
        "required",
        "items",
        "enum",
        "const",
        "anyOf",
        "oneOf",
        "allOf",
        "$ref",
        "$defs",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "multipleOf",
        "additionalProperties",
        "prefixItems",
        "uniqueItems",
        "exclusiveMinimum",
    ]
)
garbage_schemas = st.recursive(
    json_values,
    lambda children: st.dictionaries(schema_keys, st.one_of(children, json_values), max_size=5),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(garbage_schemas, st.binary(max_size=4))
def test_any_json_as_a_schema_never_raises(schema: Any, seed: bytes) -> None:
    instance_of(schema, seed)
