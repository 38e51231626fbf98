"""read_offer(): what a browser's Sec-WebSocket-Protocol offers — the key, `realtime`, the beta protocol."""

from __future__ import annotations

import orjson
import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from gateway.realtime.subprotocols import BETA, KEY_PREFIX, REALTIME, Offer, read_offer
from tests.support.servers import uvicorn_on_loopback, ws_url

KEY = "sk-gateway-0123456789abcdef"


def test_browser_offer_with_key_and_beta() -> None:
    offer = read_offer(["realtime", f"openai-insecure-api-key.{KEY}", "openai-beta.realtime-v1"])
    assert offer == Offer(key=KEY, accept="realtime", beta=True)


def test_ga_browser_offer_without_beta() -> None:
    assert read_offer([REALTIME, KEY_PREFIX + KEY]) == Offer(key=KEY, accept=REALTIME, beta=False)


def test_items_of_a_comma_separated_header_are_trimmed() -> None:
    header = f"realtime, openai-insecure-api-key.{KEY}, openai-beta.realtime-v1"
    assert read_offer(header.split(",")) == Offer(key=KEY, accept=REALTIME, beta=True)


def test_order_does_not_matter() -> None:
    assert read_offer([BETA, KEY_PREFIX + KEY, REALTIME]) == Offer(key=KEY, accept=REALTIME, beta=True)


def test_nothing_offered() -> None:
    assert read_offer([]) == Offer(key=None, accept=None, beta=False)


def test_without_realtime_nothing_is_accepted() -> None:
    offer = read_offer([KEY_PREFIX + KEY, BETA])
    assert offer.accept is None
    assert (offer.key, offer.beta) == (KEY, True)


def test_the_key_is_never_the_subprotocol_to_accept() -> None:
    assert read_offer([KEY_PREFIX + KEY]).accept is None


@pytest.mark.parametrize("offered", ["Realtime", "realtime-v1", "openai-beta.realtime-v2", "OPENAI-BETA.REALTIME-V1"])
def test_lookalikes_are_ignored(offered: str) -> None:
    assert read_offer([offered]) == Offer()


def test_an_empty_key_is_no_key() -> None:
    assert read_offer([KEY_PREFIX, REALTIME]).key is None


def test_the_first_key_offered_is_the_one() -> None:
    assert read_offer([KEY_PREFIX + "sk-first", KEY_PREFIX + "sk-second"]).key == "sk-first"


def test_a_key_keeps_its_dots() -> None:
    assert read_offer([KEY_PREFIX + "sk.with.dots"]).key == "sk.with.dots"


def test_any_iterable_is_read() -> None:
    assert read_offer(iter([REALTIME, KEY_PREFIX + KEY])).key == KEY


def test_the_key_stays_out_of_repr() -> None:
    offer = read_offer([REALTIME, KEY_PREFIX + KEY, BETA])
    assert KEY not in repr(offer)
    assert "accept='realtime'" in repr(offer)


async def test_a_real_browser_handshake_is_read_and_answered_with_realtime() -> None:
    """Through uvicorn, as the gateway is served: the subprotocols arrive in the scope as a list, and
    accepting `offer.accept` is what a browser-style client requires to open the session."""

    async def endpoint(websocket: WebSocket) -> None:
        offer = read_offer(websocket.scope["subprotocols"])
        await websocket.accept(offer.accept)
        await websocket.send_bytes(orjson.dumps({"key": offer.key, "accept": offer.accept, "beta": offer.beta}))
        await websocket.close()

    app = Starlette(routes=[WebSocketRoute("/v1/realtime", endpoint)])
    async with uvicorn_on_loopback(app) as url:
        offered = [
            Subprotocol(name) for name in ("realtime", f"openai-insecure-api-key.{KEY}", "openai-beta.realtime-v1")
        ]
        async with connect(f"{ws_url(url)}/v1/realtime", subprotocols=offered) as client:
            assert client.subprotocol == "realtime"
            assert orjson.loads(await client.recv()) == {"key": KEY, "accept": "realtime", "beta": True}
