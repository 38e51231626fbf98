from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from gateway.errors import Unauthorized
from gateway.inbound.admin_auth import AdminKeys, AdminOnly
from gateway.inbound.client_auth import ANONYMOUS, ClientKeys, key_id

VARIABLE = "GATEWAY_ADMIN_KEYS"
CLIENTS = ClientKeys(["team-a:sk-client", "sk-bare-client"])


def admin_keys(value: str | None, clients: ClientKeys = CLIENTS) -> AdminKeys:
    environ = {} if value is None else {VARIABLE: value}
    return AdminKeys.from_environ(VARIABLE, environ, clients)


def bearer(key: str) -> Headers:
    return Headers({"authorization": f"Bearer {key}"})


def test_admin_keys_are_named_as_client_keys_are_and_sent_the_same_ways() -> None:
    keys = admin_keys(" ops:sk-admin , sk-bare-admin,")
    assert keys.authenticate(bearer("sk-admin")) == "ops"
    assert keys.authenticate(Headers({"api-key": "sk-bare-admin"})) == key_id("sk-bare-admin")


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer wrong"}, {"authorization": "Basic sk-admin"}])
def test_no_key_or_an_unknown_one_is_401_naming_the_variable(headers: dict[str, str]) -> None:
    with pytest.raises(Unauthorized) as caught:
        admin_keys("ops:sk-admin").authenticate(Headers(headers))
    assert caught.value.status == 401 and caught.value.code == "invalid_api_key"
    assert VARIABLE in caught.value.message and "sk-admin" not in caught.value.message


@pytest.mark.parametrize("headers", [bearer("sk-client"), Headers({"api-key": "sk-bare-client"})])
def test_a_client_key_is_refused_with_403(headers: Headers) -> None:
    with pytest.raises(AdminOnly) as caught:
        admin_keys("ops:sk-admin").authenticate(headers)
    error = caught.value
    assert (error.status, error.code) == (403, "admin_key_required")
    assert error.body()["error"]["type"] == "permission_error"
    assert VARIABLE in error.message and "sk-client" not in error.message


def test_an_admin_key_is_not_a_client_key() -> None:
    admin_keys("ops:sk-admin")
    with pytest.raises(Unauthorized):
        CLIENTS.authenticate(bearer("sk-admin"))


def test_without_admin_keys_the_admin_endpoints_are_off_and_say_how_to_turn_them_on() -> None:
    for key in ("sk-client", "anything"):
        with pytest.raises(AdminOnly) as caught:
            admin_keys(None).authenticate(bearer(key))
        error = caught.value
        assert (error.status, error.code) == (403, "admin_keys_not_configured")
        assert f"Set {VARIABLE}" in error.message and "restart" in error.message


def test_without_any_keys_the_local_gateway_is_open() -> None:
    keys = admin_keys("", ClientKeys([]))
    assert keys.authenticate(Headers({})) == ANONYMOUS
    assert keys.authenticate(bearer("anything")) == ANONYMOUS


def test_admin_keys_without_client_keys_are_still_required() -> None:
    keys = admin_keys("ops:sk-admin", ClientKeys([]))
    assert keys.authenticate(bearer("sk-admin")) == "ops"
    with pytest.raises(Unauthorized):
        keys.authenticate(Headers({}))


@pytest.mark.parametrize("value", ["sk-client", "ops:sk-client", "ops:sk-admin,team-a:sk-client", "sk-bare-client"])
def test_a_key_that_is_both_stops_start_up_without_naming_it(value: str) -> None:
    with pytest.raises(ValueError, match=f"a key in {VARIABLE} is also a client key") as caught:
        admin_keys(value)
    assert "sk-" not in str(caught.value)
