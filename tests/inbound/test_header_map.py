import pytest
from starlette.datastructures import Headers

from gateway.inbound.header_map import HeaderMap, MappedRequest

RAW = [(b"content-type", b"application/json"), (b"x-tag", b"first"), (b"x-tag", b"second"), (b"api-key", b"k")]


def _scope() -> dict[str, object]:
    return {"type": "http", "method": "POST", "path": "/v1/chat/completions", "headers": list(RAW)}


def test_lookups_answer_as_starlette_headers_do() -> None:
    mapped, plain = HeaderMap(_scope()), Headers(raw=list(RAW))
    for name in ("content-type", "Content-Type", "x-tag", "X-TAG", "api-key", "missing"):
        assert mapped.get(name) == plain.get(name)
        assert (name in mapped) == (name in plain)
    assert mapped["x-tag"] == "first"  # a repeated name reads as its first value
    assert mapped.getlist("x-tag") == ["first", "second"]
    assert list(mapped.items()) == list(plain.items())


def test_a_missing_header_raises_key_error_when_indexed() -> None:
    mapped = HeaderMap(_scope())
    with pytest.raises(KeyError):
        mapped["authorization"]
    assert mapped.get("authorization", "none") == "none"
    assert 3 not in mapped


async def test_a_mapped_request_reads_its_headers_through_one_header_map() -> None:
    request = MappedRequest(_scope())
    assert isinstance(request.headers, HeaderMap)
    assert request.headers is request.headers
    assert request.headers["api-key"] == "k"
