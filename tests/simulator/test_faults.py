"""Fault injection and the request log, in-process (socket-level faults are in test_live.py)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

import httpx
import pytest

from gateway.simulator.delivery import ConnectionDropped
from tests.simulator.helpers import AUTH, CLASSIC

CHAT = CLASSIC.format("gpt-4.1", "chat/completions")
BODY = {"messages": [{"role": "user", "content": "hi"}]}


async def add_fault(client: httpx.AsyncClient, **fault: Any) -> str:
    response = await client.post("/sim/faults", json=fault)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_429_fault_has_azures_body_and_retry_headers_then_runs_out(client: httpx.AsyncClient) -> None:
    await add_fault(client, status=429)
    limited = await client.post(CHAT, json=BODY, headers=AUTH)
    after = await client.post(CHAT, json=BODY, headers=AUTH)
    assert limited.status_code == 429
    error = limited.json()["error"]
    assert error["code"] == "429"
    assert error["message"].startswith(
        "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2025-04-01-preview"
    )
    assert "Please retry after 1 second" in error["message"]
    assert limited.headers["retry-after"] == "1"
    assert limited.headers["retry-after-ms"] == "1000"
    assert limited.headers["x-ms-region"] == "swedencentral"
    assert after.status_code == 200


async def test_500_default_body(client: httpx.AsyncClient) -> None:
    await add_fault(client, status=500)
    response = await client.post(CHAT, json=BODY, headers=AUTH)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "InternalServerError"


async def test_custom_body_and_headers_and_header_removal(client: httpx.AsyncClient) -> None:
    await add_fault(
        client,
        status=429,
        body={"error": {"code": "429", "message": "Rate limit is exceeded. Try again in 2 seconds."}},
        headers={"Retry-After": "2", "retry-after-ms": None, "x-custom": "yes"},
    )
    response = await client.post(CHAT, json=BODY, headers=AUTH)
    assert response.json()["error"]["message"] == "Rate limit is exceeded. Try again in 2 seconds."
    assert response.headers["retry-after"] == "2"
    assert "retry-after-ms" not in response.headers
    assert response.headers["x-custom"] == "yes"


async def test_headers_only_fault_decorates_a_normal_reply(client: httpx.AsyncClient) -> None:
    await add_fault(client, headers={"x-ratelimit-remaining-tokens": "12"})
    response = await client.post(CHAT, json=BODY, headers=AUTH)
    assert response.status_code == 200
    assert response.headers["x-ratelimit-remaining-tokens"] == "12"
    assert response.json()["object"] == "chat.completion"


async def test_matching_by_deployment_body_and_order(client: httpx.AsyncClient) -> None:
    await add_fault(client, deployment="gpt-4", status=503, times=-1)
    await add_fault(client, match_body="needle", status=500, times=2)
    await add_fault(client, status=429)

    async def status(deployment: str, text: str) -> int:
        body = {"messages": [{"role": "user", "content": text}]}
        return (await client.post(CLASSIC.format(deployment, "chat/completions"), json=body, headers=AUTH)).status_code

    assert await status("gpt-4", "needle") == 503
    assert await status("gpt-4.1", "a needle here") == 500
    assert await status("gpt-4.1", "hay") == 429
    assert await status("gpt-4.1", "needle") == 500
    assert await status("gpt-4.1", "needle") == 200
    assert await status("gpt-4", "x") == 503
    listed = (await client.get("/sim/faults")).json()
    assert [(f["deployment"], f["times_left"]) for f in listed] == [("gpt-4", -1)]
    assert (await client.delete("/sim/faults")).status_code == 204
    assert await status("gpt-4", "x") == 200


async def test_faults_do_not_apply_to_unauthenticated_requests(client: httpx.AsyncClient) -> None:
    await add_fault(client, status=500)
    assert (await client.post(CHAT, json=BODY)).status_code == 401
    assert (await client.post(CHAT, json=BODY, headers=AUTH)).status_code == 500


async def test_delay(client: httpx.AsyncClient) -> None:
    await add_fault(client, delay_ms=150)
    started = time.monotonic()
    response = await client.post(CHAT, json=BODY, headers=AUTH)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.15


async def test_drop_without_a_socket_raises_in_process(client: httpx.AsyncClient) -> None:
    await add_fault(client, drop_connection=True)
    with pytest.raises(ConnectionDropped):
        await client.post(CHAT, json=BODY, headers=AUTH)


@pytest.mark.parametrize(
    "fault",
    [
        {"times": 0},
        {"status": 99},
        {"status": "429"},
        {"body": {"error": {}}},
        {"headers": {"x": 1}},
        {"delay_ms": -1},
        {"cut_after_chunks": 1.5},
        {"drop_connection": "yes"},
        {"surprise": True},
        [],
    ],
)
async def test_invalid_faults_are_refused(client: httpx.AsyncClient, fault: Any) -> None:
    response = await client.post("/sim/faults", json=fault)
    assert response.status_code == 400
    assert response.json()["error"]
    assert (await client.get("/sim/faults")).json() == []


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


async def test_request_log_records_multipart_fields_and_files(client: httpx.AsyncClient) -> None:
    audio = b"RIFF....WAVEdata"
    await client.post(
        "/openai/v1/audio/transcriptions",
        files={"file": ("a.wav", audio, "audio/wav")},
        data={"model": "whisper", "timestamp_granularities[]": ["word", "segment"], "language": "en"},
        headers=AUTH,
    )
    (record,) = (await client.get("/sim/requests")).json()
    assert record["json"] is None
    assert record["deployment"] == "whisper"
    form = record["form"]
    assert form["model"] == "whisper"
    assert form["language"] == "en"
    assert form["timestamp_granularities[]"] == ["word", "segment"]
    assert form["file"] == {
        "filename": "a.wav",
        "content_type": "audio/wav",
        "size": len(audio),
        "sha256": hashlib.sha256(audio).hexdigest(),
    }


async def test_request_log_keeps_the_last_thousand(client: httpx.AsyncClient) -> None:
    for i in range(1003):
        await client.get(f"/x/{i}")
    log = (await client.get("/sim/requests")).json()
    assert len(log) == 1000
    assert log[0]["path"] == "/x/3"
    assert log[-1]["path"] == "/x/1002"


async def test_health_and_holds_listing(client: httpx.AsyncClient) -> None:
    assert (await client.get("/sim/health")).json() == {"status": "ok"}
    assert (await client.post("/sim/release/early")).json() == {"name": "early", "waiting": 0}
    assert (await client.get("/sim/holds")).json() == {"early": {"released": True, "waiting": 0}}


async def test_hold_reached_answers_when_a_response_arrives_at_the_hold(client: httpx.AsyncClient) -> None:
    await add_fault(client, deployment="gpt-4.1", hold="gate")
    reached = asyncio.create_task(client.get("/sim/holds/gate/reached"))
    await asyncio.sleep(0)
    assert not reached.done()  # nothing has reached the gate yet
    chat = asyncio.create_task(
        client.post(
            "/openai/deployments/gpt-4.1/chat/completions?api-version=2024-10-21",
            headers={"api-key": "simulator-key"},
            json={"messages": [{"role": "user", "content": "hi"}]},
        )
    )
    assert (await reached).json() == {"name": "gate", "reached": True}
    await client.post("/sim/release/gate")
    assert (await chat).status_code == 200
