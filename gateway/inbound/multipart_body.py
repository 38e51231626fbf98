"""Parse a multipart/form-data body (uploads for audio and image edits) into fields and file summaries.

python-multipart does the parsing; the raw body is still what goes upstream. What it cannot read is a 400:
`invalid_multipart` for a malformed part or a body cut off before its closing delimiter,
`invalid_content_type` for a boundary longer than it takes. A required field sent in the wrong kind of part
(a `model` uploaded as a file, a `file` sent as text) is a 400 naming that field: the gateway routes on the
text it reads, and Azure must not be left to pick another reading of the same field.
"""

from __future__ import annotations

from python_multipart.multipart import MultipartParser, parse_options_header

from gateway.errors import InvalidRequest
from gateway.inbound.endpoints import Endpoint
from gateway.inbound.fields import ClientBody, FilePart

MAX_PARTS = 1000
MAX_TEXT_FIELD_BYTES = 1024 * 1024
# python-multipart's own limit; RFC 2046 allows 70, and every HTTP client stays under it.
MAX_BOUNDARY_BYTES = 256


class _PartCollector:
    """python-multipart callbacks that keep text fields and only the size of file contents."""

    def __init__(self) -> None:
        self.form: dict[str, list[str]] = {}
        self.files: dict[str, list[FilePart]] = {}
        self.parts = 0
        self.ended = False  # the closing delimiter was read: the body is whole
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._data = bytearray()
        self._size = 0

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise InvalidRequest(f"Too many multipart parts (the limit is {MAX_PARTS}).", code="invalid_multipart")
        self._headers = {}
        self._data = bytearray()
        self._size = 0

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_name.strip().lower()] = self._header_value.strip()
        self._header_name = b""
        self._header_value = b""

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._size += end - start
        if b"filename" not in self._headers.get(b"content-disposition", b""):
            if self._size > MAX_TEXT_FIELD_BYTES:
                raise InvalidRequest("A multipart text field is over 1 MiB.", code="invalid_multipart")
            self._data += data[start:end]

    def on_part_end(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options:
            content_type = self._headers.get(b"content-type")
            self.files.setdefault(name, []).append(
                FilePart(
                    field=name,
                    filename=options[b"filename"].decode("utf-8", "replace"),
                    content_type=content_type.decode("latin-1") if content_type else None,
                    size=self._size,
                )
            )
        else:
            self.form.setdefault(name, []).append(self._data.decode("utf-8", "replace"))

    def on_end(self) -> None:
        self.ended = True


def multipart_boundary(content_type: str) -> bytes:
    media_type, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise InvalidRequest(
            f"Invalid Content-Type header ({content_type or 'none'}): this endpoint expects "
            "multipart/form-data with a boundary.",
            code="invalid_content_type",
        )
    if len(boundary) > MAX_BOUNDARY_BYTES:
        raise InvalidRequest(
            f"Invalid Content-Type header: its multipart boundary is {len(boundary):,} characters long, "
            f"over the limit of {MAX_BOUNDARY_BYTES}.",
            code="invalid_content_type",
        )
    return boundary


def parse_multipart_body(endpoint: Endpoint, content_type: str, raw: bytes) -> ClientBody:
    boundary = multipart_boundary(content_type)
    collector = _PartCollector()
    try:
        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": collector.on_part_begin,
                "on_header_field": collector.on_header_field,
                "on_header_value": collector.on_header_value,
                "on_header_end": collector.on_header_end,
                "on_part_data": collector.on_part_data,
                "on_part_end": collector.on_part_end,
                "on_end": collector.on_end,
            },
            max_header_count=16,
        )
        parser.write(raw)
        parser.finalize()
    except InvalidRequest:
        raise
    except Exception as exc:  # python-multipart raises several types for malformed input
        raise InvalidRequest(f"The multipart body is malformed: {exc}", code="invalid_multipart") from None
    if collector.parts == 0:
        raise InvalidRequest("The multipart body has no parts.", code="invalid_multipart")
    if not collector.ended:
        # The parser keeps what it has read so far: a cut-off body must not pass as a shorter one.
        raise InvalidRequest(
            "The multipart body ends before its closing boundary: it was cut off or is malformed.",
            code="invalid_multipart",
        )
    _check_required(endpoint, collector)
    return ClientBody(endpoint=endpoint, raw=raw, content_type=content_type, form=collector.form, files=collector.files)


def _check_required(endpoint: Endpoint, collector: _PartCollector) -> None:
    for required in endpoint.required:
        names = required.split("|")
        upload = any(name in endpoint.uploads for name in names)
        wanted, other = (collector.files, collector.form) if upload else (collector.form, collector.files)
        misplaced = next((name for name in names if name in other), None)
        if misplaced is not None:
            kind, not_kind = ("a file upload", "a text field") if upload else ("a text field", "a file upload")
            raise InvalidRequest(
                f"Invalid multipart part for '{misplaced}': it must be {kind}, not {not_kind}.", param=misplaced
            )
        if not any(name in wanted for name in names):
            raise InvalidRequest(
                f"Missing required parameter: '{names[0]}'.",
                param=names[0],
                code="missing_required_parameter",
            )


def replace_text_field(raw: bytes, boundary: bytes, name: str, value: str) -> bytes:
    """The same multipart body with text field `name` set to `value`; every other byte is kept.

    Splitting on the delimiter is exact: RFC 2046 forbids it inside any part's content.
    """
    delimiter = b"\r\n--" + boundary
    segments = (b"\r\n" + raw).split(delimiter)
    wanted = f'name="{name}"'.encode()
    for position, segment in enumerate(segments):
        head, separator, _ = segment.partition(b"\r\n\r\n")
        if separator and wanted in head and b"filename=" not in head:
            segments[position] = head + separator + value.encode()
    return delimiter.join(segments)[2:]


def add_text_field(raw: bytes, boundary: bytes, name: str, value: str) -> bytes:
    """The same multipart body with a text field `name` = `value` as its first part; every other byte is kept.

    First, not last: the parts end in the closing delimiter, and the preamble before the first delimiter is
    not a part, so the new part goes right after it.
    """
    delimiter = b"--" + boundary
    start = raw.find(delimiter)
    if start < 0:
        return raw
    part = delimiter + f'\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode() + b"\r\n"
    return raw[:start] + part + raw[start:]


def drop_text_field(raw: bytes, boundary: bytes, name: str) -> bytes:
    """The same multipart body without any text field named `name`; every other byte is kept.

    File parts are never dropped, even under that name. The preamble and the closing delimiter (the first
    and last segments) are never parts, so they are kept as they are.
    """
    delimiter = b"\r\n--" + boundary
    segments = (b"\r\n" + raw).split(delimiter)
    if len(segments) < 3:
        return raw
    middle = [segment for segment in segments[1:-1] if _text_part_name(segment) != name]
    return delimiter.join([segments[0], *middle, segments[-1]])[2:]


def _text_part_name(segment: bytes) -> str | None:
    """The field name of a text part (None for a file part), read from its Content-Disposition header the way
    the parser reads it, so quoting and header case cannot make the two disagree."""
    head, _, _ = segment.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        header, colon, value = line.partition(b":")
        if colon and header.strip().lower() == b"content-disposition":
            _, options = parse_options_header(value.strip())
            if b"filename" in options:
                return None
            return options.get(b"name", b"").decode("utf-8", "replace")
    return None
