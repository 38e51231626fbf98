"""The log of requests that reached the simulated Azure (recorder.py), as tests read it from /sim/requests."""

from __future__ import annotations

import httpx

from gateway.simulator.recorder import MAX_RECORDS, RequestLog, make_record
from tests.simulator.helpers import AUTH, CLASSIC

CHAT = CLASSIC.format("gpt-4.1", "chat/completions")
BODY = {"messages": [{"role": "user", "content": "hi"}]}


async def test_request_log_records_json_requests(client: httpx.AsyncClient) -> None:
    await client.post(CHAT, json={**BODY, "model": "x"}, headers={**AUTH, "x-trace": "t1"})
    await client.post("/openai/v1/embeddings", json={"model": "text-embedding-ada-002", "input": "x"}, headers=AUTH)
    await client.get("/nowhere")
    log = (await client.get("/sim/requests")).json()
    first, second, third = log
    assert first["method"] == "POST"
    assert first["path"] == "/openai/deployments/gpt-4.1/chat/completions"
    assert first["query"] == {"api-version": "2025-04-01-preview"}
    assert first["headers"]["x-trace"] == "t1"
    assert first["headers"]["api-key"] == "simulator-key"
    assert (first["deployment"], first["operation"]) == ("gpt-4.1", "chat/completions")
    assert first["json"] == {**BODY, "model": "x"}
    assert first["body_size"] == int(first["headers"]["content-length"])
    assert first["form"] is None
    assert (second["deployment"], second["operation"]) == ("text-embedding-ada-002", "embeddings")
    assert (third["path"], third["deployment"], third["operation"]) == ("/nowhere", None, None)
    assert (await client.delete("/sim/requests")).status_code == 204
    assert (await client.get("/sim/requests")).json() == []


async def test_request_log_keeps_the_last_thousand(client: httpx.AsyncClient) -> None:
    for i in range(1003):
        await client.get(f"/x/{i}")
    log = (await client.get("/sim/requests")).json()
    assert len(log) == 1000
    assert log[0]["path"] == "/x/3"
    assert log[-1]["path"] == "/x/1002"


def test_log_keeps_the_newest_records_up_to_its_limit() -> None:
    log = RequestLog(limit=2)
    for n in range(3):
        log.add({"n": n})
    assert log.snapshot() == [{"n": 1}, {"n": 2}]
    log.clear()
    assert log.snapshot() == []
    assert MAX_RECORDS == 1000


def test_snapshot_is_a_copy() -> None:
    log = RequestLog()
    log.add({"n": 0})
    log.snapshot().clear()
    assert log.snapshot() == [{"n": 0}]


def test_record_lowercases_header_names_and_joins_repeated_headers() -> None:
    raw = [(b"X-Trace", b"a"), (b"x-trace", b"b"), (b"Api-Key", b"k"), (b"X-Caf\xe9", b"\xe9")]
    record = make_record(
        method="POST",
        path="/openai/v1/embeddings",
        query={"api-version": "v1"},
        raw_headers=raw,
        deployment="d",
        operation="embeddings",
        body_size=12,
        json={"input": "x"},
        form=None,
    )
    assert record == {
        "method": "POST",
        "path": "/openai/v1/embeddings",
        "query": {"api-version": "v1"},
        "headers": {"x-trace": "a, b", "api-key": "k", "x-café": "é"},
        "deployment": "d",
        "operation": "embeddings",
        "body_size": 12,
        "json": {"input": "x"},
        "form": None,
    }
