from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from gateway.errors import Unauthorized
from gateway.inbound.client_auth import ANONYMOUS, ClientKeys, key_id


def test_no_keys_means_local_anonymous_access() -> None:
    keys = ClientKeys.from_environ("GATEWAY_API_KEYS", {})
    assert not keys.enabled
    assert keys.authenticate(Headers({})) == ANONYMOUS


def test_bearer_and_api_key_headers_identify_the_key_without_revealing_it() -> None:
    keys = ClientKeys.from_environ("K", {"K": " alpha , beta,"})
    assert keys.enabled
    assert keys.authenticate(Headers({"authorization": "Bearer beta"})) == key_id("beta")
    assert keys.authenticate(Headers({"api-key": "alpha"})) == key_id("alpha")
    assert "alpha" not in key_id("alpha") and key_id("alpha") != key_id("beta")


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer wrong"}, {"authorization": "Basic alpha"}, {"authorization": "Bearer "}],
)
def test_missing_or_wrong_key_is_401(headers: dict[str, str]) -> None:
    keys = ClientKeys(["alpha"])
    with pytest.raises(Unauthorized) as caught:
        keys.authenticate(Headers(headers))
    assert caught.value.status == 401
    assert "alpha" not in caught.value.message


def test_named_keys_are_identified_by_their_name() -> None:
    keys = ClientKeys.from_environ("K", {"K": "team-a:sk-alpha,sk-bare"})
    assert keys.authenticate(Headers({"authorization": "Bearer sk-alpha"})) == "team-a"
    assert keys.authenticate(Headers({"authorization": "Bearer sk-bare"})) == key_id("sk-bare")
    assert keys.ids == {"team-a", key_id("sk-bare")}
    with pytest.raises(Unauthorized):
        keys.authenticate(Headers({"authorization": "Bearer team-a:sk-alpha"}))
