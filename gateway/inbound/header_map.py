"""A request's headers as Starlette's `Headers`, looked up in a dict built once instead of by a scan.

Starlette's `Headers` decodes and compares every header on each lookup, and a missing one (most of the
routing hints and optional headers the pipeline asks about) costs a raised and caught KeyError. A request
on the hot path asks for about twenty names; one dict of its few headers answers each in one step.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import Scope


class HeaderMap(Headers):
    def __init__(self, scope: Scope) -> None:
        super().__init__(scope=scope)
        # ASGI servers give names in lower case; a name sent twice reads as its first value, as in Headers.
        self._first: dict[str, str] = {}
        for name, value in self._list:
            self._first.setdefault(name.decode("latin-1"), value.decode("latin-1"))

    def __getitem__(self, key: str) -> str:
        return self._first[key.lower()]

    def __contains__(self, key: Any) -> bool:
        return isinstance(key, str) and key.lower() in self._first

    def get(self, key: str, default: Any = None) -> Any:
        return self._first.get(key.lower(), default)


class MappedRequest(Request):
    """A Request whose `headers` is a HeaderMap."""

    @property
    def headers(self) -> Headers:
        if not hasattr(self, "_headers"):
            self._headers = HeaderMap(self.scope)
        return self._headers
