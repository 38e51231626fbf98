"""A text stream's usage, read from its SSE events as they pass, and its usage-only event removed for clients
that did not ask for one.

The gateway asks Azure for every chat stream's usage chunk (upstream/outbound.py): budgets are settled and the
routing log written with it. A client that did not ask for that chunk must not receive it, since it has no
choices and clients that read `choices[0]` break on it. A Responses API stream needs no asking: its
`response.completed` (or `.incomplete`, `.failed`) event carries the usage inside its `response`, and no event
of it is ever removed.

Events are passed on whole, as each ends, never part of one: a client's SSE parser acts on nothing before an
event's end anyway, and a stream Azure cuts mid-event can then still end in a well-formed error event rather
than one glued to half an event (reply/relay.py).

Events are split as the SSE spec has it (an event ends at a blank line; lines end in LF, CRLF or CR), so any
serialisation works: spaces in the JSON, CRLF or CR line endings, an event's data over several `data:` lines.
Parsing every event's JSON would cost more than relaying it: only events that may hold a usage object (the
text `"usage"` not followed by `: null`) are parsed, and the events passed on are the bytes Azure sent.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from gateway.reply.usage import last_usage_object

# Every blank line (an event's end) holds one of these: a line's end followed by the start of an empty line's.
# An LF followed by LF, or CR, begins an empty line; so does CR followed by CR (CR then LF is one line end).
_BLANK_LINE_STARTS = (b"\n\n", b"\n\r", b"\r\r")
_BLANK_LINES_IN_CRLF = (b"\n\r\n", b"\r\r\n")
# A chunk ending so ends an event, and not in a CR that the next chunk's LF may complete.
_CHUNK_OF_WHOLE_EVENTS = (b"\n\n", *_BLANK_LINES_IN_CRLF)
# An event's end, the CRLF that may complete it included.
_EVENT_END = re.compile(rb"\n\n|\n\r\n?|\r\r\n?")
_LINE_END = re.compile(rb"\r\n|\r|\n")
# Whitespace-tolerant; Azure writes `"usage":null` in every chunk of a stream that asked for usage, and in a
# Responses stream's `response.created` and `response.in_progress`.
_MAY_HOLD_USAGE = re.compile(rb'"usage"(?![ \t\r\n]*:[ \t\r\n]*null)')
# An event longer than this is passed on as it comes, not held back whole, so a stream that never ends its
# event holds no more than this much. A usage-only event is a few hundred bytes; Azure's content events hold
# a few tokens each.
LARGEST_READ_EVENT = 256 * 1024
# An oversize event's last bytes are kept and searched for a usage object at its end: a Responses stream's
# `response.completed` repeats the whole answer, its usage near its end (only `user`, `metadata` and a few
# short fields follow it).
OVERSIZE_TAIL_READ = 64 * 1024


class SseUsageReader:
    """Reads an SSE stream's usage as its chunks pass. `feed` returns the events Azure sent, as each ends;
    with `strip_usage_event`, minus the usage-only one."""

    def __init__(self, strip_usage_event: bool = False) -> None:
        self.usage: dict[str, Any] | None = None  # the last usage object the stream held
        self._strip = strip_usage_event
        self._pending = b""  # the start of an event not ended yet
        self._oversize = False  # the pending event is past LARGEST_READ_EVENT: passed on as it comes until it ends
        # The last event ended in CR at a chunk's end: an LF first in the next chunk completes that CRLF, so
        # it is passed on, or removed with the event when that was the usage-only one.
        self._ended_in_cr = False
        self._last_removed = False
        self._oversize_tail = b""  # the last OVERSIZE_TAIL_READ bytes passed on of the oversize event

    @property
    def mid_event(self) -> bool:
        """Whether part of an event has been passed on and not its end: only an oversize event is."""
        return self._oversize

    def feed(self, chunk: bytes) -> bytes:
        """The bytes to send the client now."""
        pending = self._pending
        if (
            not (pending or self._ended_in_cr or self._oversize)
            and chunk.endswith(_CHUNK_OF_WHOLE_EVENTS)
            and _MAY_HOLD_USAGE.search(chunk) is None
        ):
            return chunk  # the common chunk: whole events, no usage in them
        data = pending + chunk if pending else chunk
        passed: list[bytes] = []
        start = 0  # where the events still to read begin
        if self._ended_in_cr and data[:1] == b"\n":
            start = 1
            if not self._last_removed:
                passed.append(b"\n")
        if self._oversize:
            start = self._skip_oversize_event(data, start, passed)
        # The pending bytes hold no event end; one may straddle their last byte and the chunk's first.
        end = _last_event_end(data, max(start, len(pending) - 1))
        if end is not None:
            self._last_removed = self._read_events(data, start, end, passed)
            start = end
        self._ended_in_cr = start == len(data) and data[-1:] == b"\r"
        self._pending = data[start:]
        if len(self._pending) > LARGEST_READ_EVENT:
            # Too long to be a usage event: pass it on, all but its last byte (which may begin its end).
            self._oversize = True
            self._pass_oversize_part(self._pending[:-1], passed)
            self._pending = self._pending[-1:]
        return passed[0] if len(passed) == 1 else b"".join(passed)

    def flush(self) -> bytes:
        """At the stream's end: what is left, an event Azure did not end (read like any other)."""
        rest, self._pending = self._pending, b""
        passed: list[bytes] = []
        if self._oversize:
            self._end_oversize_event(rest, passed)
        elif rest:
            self._read_events(rest, 0, len(rest), passed)
        return b"".join(passed)

    def _skip_oversize_event(self, data: bytes, start: int, passed: list[bytes]) -> int:
        """Pass on the rest of the oversize event; where the events after it begin in `data`."""
        found = _EVENT_END.search(data, start)
        if found is None:
            self._pass_oversize_part(data[start:-1], passed)  # all but the last byte, which may begin the end
            return len(data) - 1
        self._end_oversize_event(data[start : found.end()], passed)
        return found.end()

    def _pass_oversize_part(self, part: bytes, passed: list[bytes]) -> None:
        passed.append(part)
        self._oversize_tail = (self._oversize_tail + part)[-OVERSIZE_TAIL_READ:]

    def _end_oversize_event(self, end: bytes, passed: list[bytes]) -> None:
        """Pass on the oversize event's last part and read the usage at its end, if any."""
        passed.append(end)
        tail, self._oversize_tail = self._oversize_tail + end, b""
        self._oversize = self._last_removed = False
        if _MAY_HOLD_USAGE.search(tail) is not None and (found := last_usage_object(tail)) is not None:
            self.usage = found

    def _read_events(self, data: bytes, start: int, end: int, passed: list[bytes]) -> bool:
        """Read the usage of the events in `data[start:end]`, passing on all but the usage-only one;
        whether the last of them was that one, removed."""
        if _MAY_HOLD_USAGE.search(data, start, end) is None:
            passed.append(data[start:end])  # the common case: one search, no event split or parsed
            return False
        position, removed = start, False
        for found in _EVENT_END.finditer(data, start, end):
            removed = self._read_event(data[position : found.end()], passed)
            position = found.end()
        if position < end:  # blank lines after the last event, or an event the stream's end cut
            removed = self._read_event(data[position:end], passed)
        return removed

    def _read_event(self, event: bytes, passed: list[bytes]) -> bool:
        """Read one event's usage and pass it on, unless it is the usage-only event to remove (then True)."""
        if _MAY_HOLD_USAGE.search(event) is not None and (found := usage_of_event(event)) is not None:
            self.usage, usage_only = found
            if usage_only and self._strip:
                return True
        passed.append(event)
        return False


def usage_of_event(event: bytes) -> tuple[dict[str, Any], bool] | None:
    """The usage object of one SSE event, and whether it is a chat stream's usage-only event (no choices, or
    none left); None when the event holds no usage object. A Responses event's usage is its `response`'s,
    and such an event is never usage-only."""
    data = event_data(event)
    if data is None:
        return None
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(payload, dict):
        return None
    usage = payload.get("usage")
    if isinstance(usage, dict):
        return usage, payload.get("choices") in (None, [])
    response = payload.get("response")
    usage = response.get("usage") if isinstance(response, dict) else None
    return (usage, False) if isinstance(usage, dict) else None


def event_data(event: bytes) -> bytes | None:
    """An event's data, as the SSE spec builds it: its `data` fields' values joined by LF; None if it has none.
    Comments and the other fields (event, id, retry) are ignored."""
    values = [
        value[1:] if value[:1] == b" " else value
        for name, _, value in (line.partition(b":") for line in _LINE_END.split(event))
        if name == b"data"
    ]
    return b"\n".join(values) if values else None


def _last_event_end(data: bytes, search_from: int) -> int | None:
    """Where the last event that ended in `data` ends (its blank line starting after `search_from`), or None."""
    if data.endswith(_BLANK_LINE_STARTS, search_from):  # the common chunk: it ends where an event does
        blank = len(data) - 2
    elif data.endswith(_BLANK_LINES_IN_CRLF, search_from):
        blank = len(data) - 3
    else:
        blank = max(data.rfind(pair, search_from) for pair in _BLANK_LINE_STARTS)
        if blank < 0:
            return None
    end = blank + 2
    if data[end - 1] == 0x0D and data[end : end + 1] == b"\n":
        end += 1  # the empty line ended in CRLF
    return end
