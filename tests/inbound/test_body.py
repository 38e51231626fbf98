from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.types import Message

from gateway.errors import ClientDisconnected, GatewayError, InvalidRequest, PayloadTooLarge, ServerBusy
from gateway.inbound.body import read_body
from gateway.inbound.body_budget import BodyBudget, BodyLease


def room() -> BodyLease:
    """A lease on a budget no test body comes near: these tests are about the body, not the budget."""
    return BodyBudget(1 << 30).lease()


def request(chunks: list[bytes], content_length: bytes | None = None) -> tuple[Request, list[bytes]]:
    """A request whose body arrives in `chunks`; the list returned with it records the chunks read so far."""
    pending = list(chunks)
    delivered: list[bytes] = []

    async def receive() -> Message:
        chunk = pending.pop(0) if pending else b""
        delivered.append(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    headers = [(b"content-length", content_length)] if content_length is not None else []
    scope = {"type": "http", "method": "POST", "path": "/v1/chat/completions", "headers": headers}
    return Request(scope, receive), delivered


async def test_chunks_are_joined_in_order() -> None:
    incoming, _ = request([b'{"model":', b' "gpt-4.1"', b"}"], content_length=b"20")
    assert await read_body(incoming, 100, room()) == b'{"model": "gpt-4.1"}'


async def test_body_of_exactly_the_limit_is_accepted() -> None:
    incoming, _ = request([b"a" * 6, b"b" * 4])
    assert await read_body(incoming, 10, room()) == b"aaaaaabbbb"


async def test_declared_length_over_the_limit_is_413_before_any_byte_is_read() -> None:
    incoming, delivered = request([b"x" * 11], content_length=b"11")
    with pytest.raises(PayloadTooLarge) as caught:
        await read_body(incoming, 10, room())
    assert caught.value.status == 413 and caught.value.code == "request_too_large"
    assert "limit of 10 bytes" in caught.value.message
    assert delivered == []


async def test_chunked_upload_over_the_limit_is_413_as_soon_as_it_passes_it() -> None:
    incoming, delivered = request([b"a" * 6, b"b" * 6, b"c" * 6])  # no Content-Length: chunked
    with pytest.raises(PayloadTooLarge, match="limit of 10 bytes"):
        await read_body(incoming, 10, room())
    assert delivered == [b"a" * 6, b"b" * 6]  # the third chunk is never asked for


async def test_limit_is_written_with_thousands_separators() -> None:
    incoming, _ = request([b"x"], content_length=b"26214401")
    with pytest.raises(PayloadTooLarge, match="limit of 26,214,400 bytes"):
        await read_body(incoming, 26_214_400, room())


@pytest.mark.parametrize("declared", [b"ten", b"-1", b"1.5", b"", b"0x10"])
async def test_content_length_that_is_not_a_number_is_400(declared: bytes) -> None:
    incoming, delivered = request([b"{}"], content_length=declared)
    with pytest.raises(InvalidRequest) as caught:
        await read_body(incoming, 100, room())
    assert caught.value.status == 400 and caught.value.code == "invalid_content_length"
    assert delivered == []


async def test_content_length_with_a_non_ascii_digit_is_400() -> None:
    incoming, _ = request([b"{}"], content_length=b"\xb2")
    with pytest.raises(InvalidRequest):
        await read_body(incoming, 100, room())


@pytest.mark.parametrize("declared", ["\u0663".encode(), "\uff11".encode(), b"1\xb9"])
async def test_content_length_with_any_digit_str_isdigit_takes_but_ascii_does_not_is_400(declared: bytes) -> None:
    # Arabic-Indic three, fullwidth one (as UTF-8 bytes, read back as Latin-1), a superscript one after a 1.
    incoming, delivered = request([b"{}"], content_length=declared)
    with pytest.raises(InvalidRequest) as caught:
        await read_body(incoming, 100, room())
    assert (caught.value.status, caught.value.code) == (400, "invalid_content_length")
    assert delivered == []


async def test_a_content_length_of_thousands_of_digits_is_413_not_a_crash() -> None:
    # int() refuses strings of over 4,300 digits.
    incoming, delivered = request([b"{}"], content_length=b"9" * 5000)
    with pytest.raises(PayloadTooLarge):
        await read_body(incoming, 100, room())
    assert delivered == []


@pytest.mark.parametrize(("declared", "accepted"), [(b"0" * 5000 + b"2", True), (b"000101", False)])
async def test_leading_zeros_do_not_change_the_declared_length(declared: bytes, accepted: bool) -> None:
    incoming, _ = request([b"{}"], content_length=declared)
    if accepted:
        assert await read_body(incoming, 100, room()) == b"{}"
    else:
        with pytest.raises(PayloadTooLarge):
            await read_body(incoming, 100, room())


def disconnecting(chunks: list[bytes]) -> tuple[Request, list[str]]:
    """A request whose client sends `chunks` (more to come after each), then hangs up, as uvicorn tells it:
    an `http.disconnect` message. The list returned with it records the messages received."""
    pending = list(chunks)
    received: list[str] = []

    async def receive() -> Message:
        message: Message = (
            {"type": "http.request", "body": pending.pop(0), "more_body": True}
            if pending
            else {"type": "http.disconnect"}
        )
        received.append(message["type"])
        return message

    headers = [(b"content-length", b"1000")]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers}, receive), received


@pytest.mark.parametrize("chunks", [[b'{"model": "gpt-4.1", '], [b"a" * 10, b"b" * 10], []])
async def test_a_client_that_hangs_up_mid_body_is_a_client_disconnected_error(chunks: list[bytes]) -> None:
    incoming, received = disconnecting(chunks)
    with pytest.raises(ClientDisconnected) as caught:
        await read_body(incoming, 1000, room())
    error = caught.value
    assert received == ["http.request"] * len(chunks) + ["http.disconnect"]
    assert f"after sending {sum(map(len, chunks)):,} bytes" in error.message
    assert (error.status, error.code, error.retry_class) == (499, "client_disconnected", None)
    assert error.body() == {
        "error": {
            "message": error.message,
            "type": "invalid_request_error",
            "param": None,
            "code": "client_disconnected",
        }
    }
    assert isinstance(error, GatewayError)  # the pipeline ends it as a refusal, not as a bug


async def test_declared_length_is_not_trusted_for_the_limit() -> None:
    # A client that declares less than it sends is still stopped at the limit.
    incoming, _ = request([b"a" * 8, b"b" * 8], content_length=b"4")
    with pytest.raises(PayloadTooLarge):
        await read_body(incoming, 10, room())


async def test_empty_body_is_empty_bytes() -> None:
    incoming, _ = request([], content_length=b"0")
    assert await read_body(incoming, 10, room()) == b""


async def test_a_declared_body_takes_its_room_before_it_is_read() -> None:
    budget = BodyBudget(1000)
    incoming, _ = request([b"x" * 300], content_length=b"300")
    with budget.lease() as lease:
        assert await read_body(incoming, 500, lease) == b"x" * 300
        assert budget.held == 300
    assert budget.held == 0


async def test_no_room_in_the_budget_is_server_busy_before_any_byte_is_read() -> None:
    budget = BodyBudget(1000)
    with budget.lease() as other:
        other.cover(800)
        incoming, delivered = request([b"x" * 300], content_length=b"300")
        with pytest.raises(ServerBusy), budget.lease() as lease:
            await read_body(incoming, 500, lease)
        assert delivered == [] and budget.held == 800


async def test_a_chunked_body_takes_room_as_its_chunks_arrive() -> None:
    budget = BodyBudget(1000)
    with budget.lease() as other:
        other.cover(700)
        incoming, _ = request([b"a" * 200, b"b" * 200])  # no Content-Length
        with pytest.raises(ServerBusy), budget.lease() as lease:
            await read_body(incoming, 500, lease)
        assert budget.held == 700
