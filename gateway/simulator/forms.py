"""multipart/form-data bodies: text fields and uploaded files, as the handlers and the log need them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from gateway.simulator.errors import bad_request


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str | None
    content_type: str | None
    data: bytes

    def describe(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": len(self.data),
            "sha256": hashlib.sha256(self.data).hexdigest(),
        }


@dataclass(frozen=True, slots=True)
class FormBody:
    fields: dict[str, list[str]]
    files: dict[str, list[Upload]]

    def first_fields(self) -> dict[str, str]:
        return {name: values[0] for name, values in self.fields.items()}

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {k: v[0] if len(v) == 1 else v for k, v in self.fields.items()}
        for name, uploads in self.files.items():
            files = [u.describe() for u in uploads]
            described[name] = files[0] if len(files) == 1 else files
        return described


async def read_form(request: Request) -> FormBody:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise bad_request(
            f"Invalid Content-Type header ({content_type or 'none'}), expected multipart/form-data.",
            code="invalid_content_type",
        )
    fields: dict[str, list[str]] = {}
    files: dict[str, list[Upload]] = {}
    try:
        async with request.form(max_files=100, max_fields=1000) as form:
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    upload = Upload(value.filename, value.content_type, await value.read())
                    files.setdefault(name, []).append(upload)
                else:
                    fields.setdefault(name, []).append(value)
    except MultiPartException as exc:
        raise bad_request(f"Could not parse multipart form: {exc.message}") from exc
    return FormBody(fields, files)
