"""One validated model call, and typed access to its parameters with Azure-style 400s."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, overload

from gateway.simulator.catalog import ModelSpec, Operation
from gateway.simulator.errors import SimulatorError, bad_request, invalid_value, missing
from gateway.simulator.forms import FormBody


class Params:
    """Request parameters from a JSON body, or from form fields (where every value arrives as text)."""

    def __init__(self, values: Mapping[str, Any], from_form: bool = False) -> None:
        self._values = values
        self._from_form = from_form

    def raw(self, name: str) -> Any:
        return self._values.get(name)

    def text(self, name: str, required: bool = False, max_length: int | None = None) -> str | None:
        value = self._values.get(name)
        if value is None:
            if required:
                raise missing(name)
            return None
        if not isinstance(value, str):
            raise _wrong_type(name, "a string")
        if required and not value:
            raise bad_request(f"'{name}' must not be empty.", name, "empty_string")
        if max_length is not None and len(value) > max_length:
            raise bad_request(
                f"'{name}' is too long: {len(value)} characters, the maximum is {max_length}.",
                name,
                "string_above_max_length",
            )
        return value

    @overload
    def integer(self, name: str, default: int, low: int, high: int) -> int: ...
    @overload
    def integer(self, name: str, default: None, low: int, high: int) -> int | None: ...
    def integer(self, name: str, default: int | None, low: int, high: int) -> int | None:
        value = self._number(name, int)
        if value is None:
            return default
        if not low <= value <= high:
            raise invalid_value(name, f"{value} is outside [{low}, {high}].")
        return int(value)

    def number(self, name: str, default: float, low: float, high: float) -> float:
        value = self._number(name, float)
        if value is None:
            return default
        if not low <= value <= high:
            raise invalid_value(name, f"{value} is outside [{low}, {high}].")
        return float(value)

    def choice(self, name: str, choices: Collection[str], default: str) -> str:
        value = self.text(name)
        if value is None:
            return default
        if value not in choices:
            allowed = ", ".join(f"'{c}'" for c in choices)
            raise invalid_value(name, f"'{value}'. Supported values are: {allowed}.")
        return value

    def flag(self, name: str) -> bool:
        value = self._values.get(name)
        if self._from_form and isinstance(value, str):
            return value.lower() == "true"
        if value is not None and not isinstance(value, bool):
            raise _wrong_type(name, "a boolean")
        return bool(value)

    def _number(self, name: str, kind: type[int] | type[float]) -> int | float | None:
        value = self._values.get(name)
        if value is None:
            return None
        if self._from_form and isinstance(value, str):
            try:
                return kind(value)
            except ValueError:
                raise _wrong_type(name, f"a {'number' if kind is float else 'integer'}") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _wrong_type(name, "a number")
        if kind is int and not float(value).is_integer():
            raise _wrong_type(name, "an integer")
        return value


def _wrong_type(name: str, expected: str) -> SimulatorError:
    return bad_request(f"Invalid type for '{name}': expected {expected}.", name, "invalid_type")


@dataclass(frozen=True, slots=True)
class Call:
    """A request that passed auth and routing: what the operation handlers work from."""

    operation: Operation
    deployment: str
    model: ModelSpec
    params: Params
    # The parsed JSON object (empty for multipart calls), for structured fields like `messages`.
    body: dict[str, Any]
    form: FormBody | None
    raw: bytes
