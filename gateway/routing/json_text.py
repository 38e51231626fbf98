"""Compact JSON text of any value a client's body can hold, at any depth: what a schema costs as written.

orjson writes it in the common case. It refuses values nested deeper than 255 levels (its parser accepts
1,024, so a request may well hold them), integers beyond 64 bits and lone surrogates; those are written
here instead, without recursion, so neither orjson's limit nor Python's recursion limit can raise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson


def json_bytes(value: Any) -> bytes:
    """`value` as compact JSON bytes, for a body sent on (orjson's own bytes in the common case)."""
    try:
        return orjson.dumps(value, default=str)
    except orjson.JSONEncodeError:
        return _written_without_recursion(value).encode()


def json_text(value: Any) -> str:
    """`value` as compact JSON; values JSON has no type for are written as strings."""
    try:
        return orjson.dumps(value, default=str).decode()
    except orjson.JSONEncodeError:
        return _written_without_recursion(value)


class _Written(str):
    """Text already in its JSON form (a bracket, a separator, `"key":`), unlike a string value still to quote."""

    __slots__ = ()


def _written_without_recursion(value: Any) -> str:
    out: list[str] = []
    pending: list[Any] = [value]  # popped from the end: containers push their closing bracket first
    while pending:
        item = pending.pop()
        if isinstance(item, _Written):
            out.append(item)
        elif isinstance(item, Mapping):
            pending.append(_Written("}"))
            entries = list(item.items())
            for index in range(len(entries) - 1, -1, -1):
                key, member = entries[index]
                pending.append(member)
                pending.append(_Written(_scalar(key if isinstance(key, str) else str(key)) + ":"))
                if index:
                    pending.append(_Written(","))
            pending.append(_Written("{"))
        elif isinstance(item, list | tuple):
            pending.append(_Written("]"))
            for index in range(len(item) - 1, -1, -1):
                pending.append(item[index])
                if index:
                    pending.append(_Written(","))
            pending.append(_Written("["))
        else:
            out.append(_scalar(item))
    return "".join(out)


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # keeps a lone surrogate, as the client sent it
    if value is None or isinstance(value, bool | float):
        return orjson.dumps(value).decode()
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # over Python's 4,300-digit conversion limit: as many digits, all nines
            sign = "-" if value < 0 else ""
            return sign + "9" * (value.bit_length() * 30103 // 100_000 + 1)
    return json.dumps(str(value), ensure_ascii=False)
