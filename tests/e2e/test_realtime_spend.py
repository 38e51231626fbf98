"""Spend caps on realtime sessions (realtime/session.py): a capped key's session is admitted while the key has
room, charged its cost when it ends (its routing-log line's cost_usd), and the key's next session refused with
429 budget_exceeded at the handshake, before Azure is called."""

from __future__ import annotations

import orjson
import pytest
from openai import AsyncOpenAI
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.conftest import GatewayFactory
from tests.simulator.realtime_helpers import until, user_text
from tests.support.gateway_config import CLIENT_KEYS
from tests.support.session_lines import session_line
from tests.support.simulator_control import SimulatorControl

KEY = CLIENT_KEYS[0]
MODEL = "gpt-4o-mini-realtime-preview"
CONFIG = f"""
client_keys:
  per_key:
    {{key}}: {{{{daily_usd: 0.00002}}}}
resources:
  sim: {{{{endpoint: "${{{{SIMULATOR_URL}}}}", auth: {{{{type: api-key, api_key_env: SIM_KEY}}}}}}}}
deployments:
  - {{{{name: {MODEL}, model: {MODEL}, resource: sim}}}}
"""


async def test_a_session_is_charged_its_cost_and_the_next_one_refused_once_the_cap_is_spent(
    make_gateway: GatewayFactory, sim: SimulatorControl
) -> None:
    from gateway.inbound.client_auth import key_id

    with make_gateway(CONFIG.format(key=key_id(KEY))) as gateway:
        client = AsyncOpenAI(base_url=f"{gateway.url}/v1", api_key=KEY)
        async with client.realtime.connect(model=MODEL) as conn:
            assert (await conn.recv()).type == "session.created"
            await conn.conversation.item.create(item=user_text("Tell me a long story about the sea, please."))
            await conn.response.create()
            await until(conn, "response.done")
        first_id = str(sim.last_request()["headers"]["x-ms-client-request-id"])
        line = session_line(gateway.routing_log, first_id)
        assert line["status"] == 101 and line["cost_usd"] > 0.00002  # one session took the key past its cap
        called = len(sim.requests())

        url = "ws" + gateway.url.removeprefix("http") + f"/v1/realtime?model={MODEL}"
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, additional_headers={"Authorization": f"Bearer {KEY}"}):
                pass
        response = refused.value.response
        assert response.status_code == 429
        assert orjson.loads(response.body)["error"]["code"] == "budget_exceeded"
        assert response.headers["x-should-retry"] == "false"
        assert len(sim.requests()) == called  # refused before Azure was called
        refusal = gateway.log_line(response.headers["x-request-id"])
        assert (refusal["status"], refusal["error"]) == (429, "budget_exceeded")
