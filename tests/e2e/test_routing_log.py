from __future__ import annotations

import openai

from gateway.inbound.client_auth import key_id
from tests.conftest import Gateway


def test_one_line_per_request_with_key_id_never_the_key(client: openai.OpenAI, gateway: Gateway) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4.1-nano", messages=[{"role": "user", "content": "log me"}]
    )
    stream = client.chat.completions.create(
        model="gpt-4.1-nano", messages=[{"role": "user", "content": "stream me"}], stream=True
    )
    streamed_id = stream.response.headers["x-request-id"]
    list(stream)
    plain = gateway.log_line(raw.headers["x-request-id"])
    assert plain["endpoint"] == "chat/completions"
    assert plain["model"] == "gpt-4.1-nano" and plain["deployment"] == "azure/gpt-4.1-nano"
    assert plain["status"] == 200 and plain["upstream_status"] == 200 and plain["error"] is None
    assert plain["key_id"] == key_id(gateway.client_key)
    assert isinstance(plain["latency_ms"], float) and plain["latency_ms"] > 0
    streamed = gateway.log_line(streamed_id)
    assert streamed["stream"] is True and streamed["status"] == 200 and streamed["bytes_out"] > 0
    assert gateway.client_key not in gateway.routing_log.read_text()
