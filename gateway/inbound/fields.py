"""What a request's body holds, once parsed: JSON fields, or multipart text fields and file parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.frozen import frozen
from gateway.inbound.endpoints import Endpoint


@dataclass(frozen=True, slots=True)
class FilePart:
    field: str
    filename: str | None
    content_type: str | None
    size: int


@frozen
class ClientBody:
    endpoint: Endpoint
    raw: bytes
    content_type: str  # the client's Content-Type, boundary included
    json: dict[str, Any] | None = None
    form: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[FilePart]] = field(default_factory=dict)

    @property
    def model(self) -> str:
        if self.json is not None:
            return str(self.json["model"])
        return self.form["model"][0]

    @property
    def stream(self) -> bool:
        if self.json is not None:
            return self.json.get("stream") is True
        return self.form.get("stream", ["false"])[0].lower() == "true"
