"""Explain: where a request would go and why, over HTTP and from the shell, without calling Azure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import openai

from tests.conftest import Gateway
from tests.support.gateway_config import SHIPPED_CONFIG
from tests.support.simulator_control import SimulatorControl


def explain(gateway: Gateway, path: str, **kwargs: object) -> httpx.Response:
    headers = {"authorization": f"Bearer {gateway.client_key}", **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    return httpx.post(f"{gateway.url}/gateway/explain{path}", headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]


def test_explain_shows_model_deployment_features_and_path(gateway: Gateway, sim: SimulatorControl) -> None:
    body = {"model": "auto", "messages": [{"role": "user", "content": "Write a haiku about the sea"}]}
    response = explain(gateway, "/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["model"] == "gpt-4.5-preview"
    assert report["deployment"] == "azure/gpt-4.5-preview"
    assert report["features"]["task"] == "chat" and report["features"]["task_class"] == "creative"
    assert [(step["node"], step["answer"]) for step in report["path"]][-2:] == [("coding", "no"), ("creative", "yes")]
    assert all(step["reason"] for step in report["path"])
    assert report["prompt_tokens"] > 0
    assert response.headers["x-gateway-model"] == "gpt-4.5-preview"
    assert sim.requests() == []  # nothing reached Azure


def test_explain_multipart_with_hint_headers(gateway: Gateway, sim: SimulatorControl) -> None:
    response = explain(
        gateway,
        "/v1/audio/transcriptions",
        data={"model": "auto"},
        files={"file": ("a.wav", b"RIFF0000", "audio/wav")},
        headers={"x-route-latency": "low"},
    )
    report = response.json()
    assert report["model"] == "gpt-4o-mini-transcribe"
    assert report["features"]["latency"] == "low"
    assert sim.requests() == []


def test_explain_needs_a_key_and_rejects_unknown_endpoints(gateway: Gateway) -> None:
    denied = httpx.post(f"{gateway.url}/gateway/explain/v1/chat/completions", json={})
    assert denied.status_code == 401
    unknown = explain(gateway, "/v1/assistants", json={})
    assert unknown.status_code == 404 and unknown.json()["error"]["message"]


def test_auto_routes_real_requests_and_says_so(client: openai.OpenAI, gateway: Gateway, sim: SimulatorControl) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="auto",
        messages=[{"role": "user", "content": "What is the capital of Australia?"}],
        extra_headers={"x-route-cost": "low", "x-route-task": "general"},
    )
    assert raw.headers["x-gateway-model"] == "gpt-35-turbo"
    seen = sim.last_request()
    assert seen["path"] == "/openai/deployments/gpt-35-turbo/chat/completions"
    assert not [name for name in seen["headers"] if name.startswith("x-route")]  # hints stay in the gateway
    line = gateway.log_line(raw.headers["x-request-id"])
    assert line["model_requested"] == "auto" and line["model"] == "gpt-35-turbo"
    assert line["features"]["cost"] == "low"  # type: ignore[index]
    assert [step["node"] for step in line["path"]][-1] == "cost_effectiveness"  # type: ignore[union-attr]
    assert line["prompt_tokens"] and line["usage"]["total_tokens"] > 0  # type: ignore[index]


def test_streamed_usage_reaches_the_log(client: openai.OpenAI, gateway: Gateway) -> None:
    stream = client.chat.completions.create(
        model="gpt-4.1",
        messages=[{"role": "user", "content": "count to five"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    request_id = stream.response.headers["x-request-id"]
    usage = [chunk.usage for chunk in stream if chunk.usage][-1]
    line = gateway.log_line(request_id)
    assert line["usage"] == usage.model_dump(exclude_none=True) or line["usage"]["total_tokens"] == usage.total_tokens  # type: ignore[index]


def test_explain_from_the_shell(tmp_path: Path) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"model": "auto", "messages": [{"role": "user", "content": "Fix this bug"}]}))
    environ = {"PATH": "/usr/bin:/bin"}  # no Azure variables: explain needs none
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "explain", "/v1/chat/completions", str(request), "-H", "X-Route-Task: code",
         "-H", "X-Route-Cost: low", "--config", str(SHIPPED_CONFIG)],
        capture_output=True, text=True, timeout=120, env=environ,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["model"] == "gpt-4.1-mini"
    assert report["features"]["task_class_source"] == "X-Route-Task header"


COST_CONFIG = """\
resources:
  azure:
    endpoint: ${AZURE_OPENAI_ENDPOINT}
    auth: {type: api-key, api_key_env: AZURE_OPENAI_API_KEY}
deployments:
  - {name: gpt-4.1, model: gpt-4.1, resource: azure}
  - {name: gpt-4.1-mini, model: gpt-4.1-mini, resource: azure}
rate_limits: {default_max_tokens: 4000}
routing: {policy: policy.yaml}
"""
# Priced with the most output the request allows: with no max_tokens, rate_limits.default_max_tokens.
COST_POLICY = """\
start: costly
nodes:
  costly:
    ask: Low cost asked, and a request that may cost over $0.02 on gpt-4.1?
    when: {cost: low, most_usd: {on: gpt-4.1, over: 0.02}}
    yes: {models: [gpt-4.1-mini]}
    no: {models: [gpt-4.1]}
"""


def test_explain_from_the_shell_shows_a_cost_estimate(tmp_path: Path) -> None:
    (tmp_path / "gateway.yaml").write_text(COST_CONFIG)
    (tmp_path / "policy.yaml").write_text(COST_POLICY)
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"model": "auto", "messages": [{"role": "user", "content": "Fix this bug"}]}))
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "explain", "/v1/chat/completions", str(request), "-H", "X-Route-Cost: low",
         "--config", str(tmp_path / "gateway.yaml")],
        capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    # A short prompt, but 4,000 output tokens at $8 per million are $0.032 on gpt-4.1.
    assert report["model"] == "gpt-4.1-mini"
    [step] = report["path"]
    prompt = report["token_counts"]["o200k_base"]
    estimated, most = usd(prompt * 2 / 1e6), usd(prompt * 2 / 1e6 + 0.032)
    assert step["answer"] == "yes"
    assert step["reason"] == (
        f"cost is low (X-Route-Cost header); most_usd on gpt-4.1 {most} > $0.02 ({prompt:,} prompt tokens: "
        f"{estimated}; with up to 4,000 output tokens, the default: {most})"
    )


def usd(amount: float) -> str:
    return f"${round(amount, 6):.6f}".rstrip("0")
