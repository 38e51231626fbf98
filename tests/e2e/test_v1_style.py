"""The v1 URL style: Azure reads the deployment from the body's `model`, so it must name the deployment."""

from __future__ import annotations

import openai

from tests.conftest import GatewayFactory
from tests.support.simulator_control import SimulatorControl

# The simulator knows deployments named like models; this resource maps model names to them under
# different client-facing model names, the way operators alias regional deployments.
V1_CONFIG = """
resources:
  sweden:
    endpoint: "${SIMULATOR_URL}"
    auth: {type: api-key, api_key_env: SIM_KEY}
    api_style: v1
deployments:
  - {name: gpt-4.1-mini, model: house-chat, resource: sweden}
  - {name: whisper, model: house-whisper, resource: sweden}
  - {name: gpt-4.1, model: gpt-4.1, resource: sweden, api_style: classic, api_version: 2024-10-21}
"""


def test_v1_json_body_names_the_deployment(make_gateway: GatewayFactory, sim: SimulatorControl) -> None:
    with (
        make_gateway(V1_CONFIG) as gateway,
        openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.client_key, max_retries=0) as client,
    ):
        raw = client.chat.completions.with_raw_response.create(
            model="house-chat", messages=[{"role": "user", "content": "hi"}], temperature=0.5
        )
        assert raw.parse().choices[0].message.content
        assert raw.headers["x-gateway-deployment"] == "sweden/gpt-4.1-mini"
        seen = sim.last_request()
        assert seen["path"] == "/openai/v1/chat/completions"
        assert "api-version" not in seen["query"]
        assert seen["json"] == {
            "model": "gpt-4.1-mini",
            "messages": [{"role": "user", "content": "hi"}],
            "temperature": 0.5,
        }


def test_v1_multipart_model_field_names_the_deployment(make_gateway: GatewayFactory, sim: SimulatorControl) -> None:
    with (
        make_gateway(V1_CONFIG) as gateway,
        openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.client_key, max_retries=0) as client,
    ):
        audio = b"RIFF" + b"\x00" * 200
        result = client.audio.transcriptions.create(
            model="house-whisper", file=("a.wav", audio, "audio/wav"), language="en"
        )
        assert result.text
        seen = sim.last_request()
        assert seen["path"] == "/openai/v1/audio/transcriptions"
        assert seen["query"]["api-version"] == "preview"
        assert seen["form"]["model"] == "whisper"
        assert seen["form"]["language"] == "en"
        assert seen["form"]["file"]["size"] == len(audio)


def test_per_deployment_style_and_version_override(make_gateway: GatewayFactory, sim: SimulatorControl) -> None:
    with (
        make_gateway(V1_CONFIG) as gateway,
        openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.client_key, max_retries=0) as client,
    ):
        client.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "hi"}])
        seen = sim.last_request()
        assert seen["path"] == "/openai/deployments/gpt-4.1/chat/completions"
        assert seen["query"]["api-version"] == "2024-10-21"
