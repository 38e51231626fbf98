"""The live feed of routing-log lines (GET /gateway/feed) and the admin keys, on the shipped config served
for real with the simulator as Azure, called by the openai SDK and read by an httpx streaming client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import openai
import pytest

from gateway.app import create_app
from tests.conftest import Gateway, Simulator
from tests.support.feed_reader import FeedReader
from tests.support.gateway_config import CLIENT_KEYS, SIMULATOR_KEY, shipped_config
from tests.support.servers import serve

ADMIN_KEY = "admin-key-for-the-feed"


@pytest.fixture(scope="module")
def gateway(simulator: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The shipped config with an admin key besides the client keys."""
    log_path = tmp_path_factory.mktemp("live-feed") / "routing.log"
    config, environ = shipped_config(simulator.url, log_path)
    with serve(create_app(config, {**environ, "GATEWAY_ADMIN_KEYS": f"ops:{ADMIN_KEY}"})) as url:
        yield Gateway(url, log_path)


@pytest.fixture
def sdk(gateway: Gateway) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.client_key, max_retries=0, timeout=30) as client:
        yield client


@contextmanager
def watching(gateway: Gateway, headers: dict[str, str] | None = None) -> Iterator[FeedReader]:
    """On the feed from the moment its opening comment arrived: every line written later reaches it."""
    headers = {"authorization": f"Bearer {ADMIN_KEY}"} if headers is None else headers
    with (
        httpx.Client(base_url=gateway.url, timeout=30) as client,
        client.stream("GET", "/gateway/feed", headers=headers) as response,
    ):
        reader = FeedReader(response)
        assert reader.event().kind == "comment"
        yield reader


def chat(sdk: openai.OpenAI, model: str = "gpt-4.1", **options: object) -> str:
    """The request's id, from the gateway's x-request-id."""
    raw = sdk.chat.completions.with_raw_response.create(
        model=model,
        messages=[{"role": "user", "content": "Say hello"}],
        **options,  # type: ignore[arg-type]
    )
    raw.parse()
    return raw.headers["x-request-id"]


def test_a_request_made_while_watching_shows_up_on_the_feed(gateway: Gateway, sdk: openai.OpenAI) -> None:
    with watching(gateway) as feed:
        request_id = chat(sdk, model="auto")
        line = feed.line_of(request_id)
    assert line["status"] == 200 and line["endpoint"] == "chat/completions"
    assert line["model_requested"] == "auto" and line["model"] and line["deployment"]
    assert line["path"] and line["usage"]["total_tokens"] > 0
    assert line == gateway.log_line(request_id)  # exactly the routing log's line


def test_several_operators_see_the_same_lines(gateway: Gateway, sdk: openai.OpenAI) -> None:
    with watching(gateway) as first, watching(gateway, {"api-key": ADMIN_KEY}) as second:
        request_id = chat(sdk, stream=True, stream_options={"include_usage": True})
        assert first.line_of(request_id) == second.line_of(request_id)


def test_a_newcomer_gets_the_recent_lines_first(gateway: Gateway, sdk: openai.OpenAI) -> None:
    request_id = chat(sdk)
    gateway.log_line(request_id)  # written: the replica keeps it for whoever comes next
    with watching(gateway) as feed:
        assert feed.line_of(request_id)["status"] == 200


def test_no_key_ever_reaches_the_feed(gateway: Gateway, sdk: openai.OpenAI) -> None:
    with watching(gateway) as feed:
        chat(sdk)
        httpx.post(f"{gateway.url}/v1/chat/completions", headers={"api-key": CLIENT_KEYS[1]}, json={"model": "x"})
        httpx.post(f"{gateway.url}/v1/embeddings", headers={"authorization": f"Bearer {ADMIN_KEY}"}, json={})
        httpx.get(f"{gateway.url}/gateway/deployments", headers={"authorization": f"Bearer {ADMIN_KEY}"})
        last = chat(sdk, model="gpt-4.1-mini")
        assert feed.line_of(last)["status"] == 200
    written = bytes(feed.raw)
    assert written.count(b"data: ") >= 3
    for secret in (*CLIENT_KEYS, ADMIN_KEY, SIMULATOR_KEY):
        assert secret.encode() not in written


def test_an_admin_key_is_not_a_client_key(gateway: Gateway) -> None:
    with (
        openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=ADMIN_KEY, max_retries=0, timeout=30) as admin_sdk,
        pytest.raises(openai.AuthenticationError) as caught,
    ):
        admin_sdk.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "Hi"}])
    assert caught.value.status_code == 401


@pytest.mark.parametrize("path", ["/gateway/feed", "/gateway/deployments"])
def test_a_client_key_is_refused_by_the_admin_endpoints(gateway: Gateway, path: str) -> None:
    response = httpx.get(f"{gateway.url}{path}", headers={"authorization": f"Bearer {gateway.client_key}"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "admin_key_required"
    assert response.json()["error"]["type"] == "permission_error"


def test_the_deployments_answer_the_admin_key(gateway: Gateway) -> None:
    response = httpx.get(f"{gateway.url}/gateway/deployments", headers={"api-key": ADMIN_KEY})
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["data"]} >= {"azure/gpt-4.1", "azure/gpt-4.1-mini"}
