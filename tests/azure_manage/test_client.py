"""The management API client (client.py) against respx: paging, refusals, throttling, and the token kept out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from gateway.azure_manage.client import (
    API_VERSION,
    MANAGEMENT_SCOPE,
    AccountRef,
    ManagementClient,
    ManagementError,
    token_from_azure_identity,
    token_from_environment,
)

BASE = "https://arm.test"
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOi-a-long-bearer-token"
REF = AccountRef("sub-1", "rg-ai", "contoso-swe")
ACCOUNT_URL = f"{BASE}{REF.path}"
DEPLOYMENTS_URL = f"{ACCOUNT_URL}/deployments"


class RecordedSleep:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def waits() -> RecordedSleep:
    return RecordedSleep()


@pytest.fixture
def management(waits: RecordedSleep) -> Iterator[ManagementClient]:
    with ManagementClient(lambda: TOKEN, BASE, sleep=waits, max_tries=3) as client:
        yield client


def arm_error(status: int, code: str, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}}, headers=headers)


def deployment(name: str) -> dict[str, Any]:
    return {"name": name, "properties": {"model": {"name": "gpt-4o"}, "provisioningState": "Succeeded"}}


@respx.mock
def test_deployments_follow_next_link_with_the_token_and_api_version(management: ManagementClient) -> None:
    second_page = f"{DEPLOYMENTS_URL}?api-version={API_VERSION}&$skipToken=2"
    first = respx.get(DEPLOYMENTS_URL, params={"api-version": API_VERSION}).mock(
        side_effect=lambda request: httpx.Response(
            200,
            json={"value": [deployment("a"), deployment("b")], "nextLink": second_page}
            if "$skipToken" not in request.url.params
            else {"value": [deployment("c")]},
        )
    )
    found = management.deployments(REF)
    assert [item["name"] for item in found] == ["a", "b", "c"]
    assert first.call_count == 2
    for call in first.calls:
        assert call.request.headers["authorization"] == f"Bearer {TOKEN}"
        assert call.request.url.params["api-version"] == API_VERSION
    assert first.calls[1].request.url.params["$skipToken"] == "2"


@respx.mock
def test_a_next_link_to_another_host_is_not_followed_with_the_token(management: ManagementClient) -> None:
    respx.get(DEPLOYMENTS_URL).respond(200, json={"value": [], "nextLink": "https://elsewhere.test/page2"})
    elsewhere = respx.get("https://elsewhere.test/page2").respond(200, json={"value": []})
    with pytest.raises(ManagementError, match="another host"):
        management.deployments(REF)
    assert not elsewhere.called


@respx.mock
def test_the_account_document_is_read(management: ManagementClient) -> None:
    respx.get(ACCOUNT_URL).respond(200, json={"properties": {"endpoint": "https://contoso-swe.openai.azure.com/"}})
    assert management.account(REF)["properties"]["endpoint"] == "https://contoso-swe.openai.azure.com/"


@respx.mock
def test_401_says_to_sign_in_again_and_never_shows_the_token(management: ManagementClient) -> None:
    # Even an answer that echoed the token (Azure's does not) must not bring it into the message.
    respx.get(DEPLOYMENTS_URL).mock(return_value=arm_error(401, "InvalidAuthenticationToken", f"bad token {TOKEN}"))
    with pytest.raises(ManagementError) as raised:
        management.deployments(REF)
    message = str(raised.value)
    assert "401 InvalidAuthenticationToken" in message and "az login" in message
    assert TOKEN not in message


@respx.mock
def test_403_names_the_account_and_the_role_to_grant(management: ManagementClient) -> None:
    respx.get(DEPLOYMENTS_URL).mock(return_value=arm_error(403, "AuthorizationFailed", "The client does not have"))
    with pytest.raises(ManagementError) as raised:
        management.deployments(REF)
    message = str(raised.value)
    assert "403 AuthorizationFailed" in message
    assert "account contoso-swe" in message and "deployments/read" in message


@respx.mock
def test_404_for_an_unknown_account_says_which_names_to_check(management: ManagementClient) -> None:
    respx.get(ACCOUNT_URL).mock(return_value=arm_error(404, "ResourceNotFound", "The Resource was not found."))
    with pytest.raises(ManagementError) as raised:
        management.account(REF)
    message = str(raised.value)
    assert "no account contoso-swe (resource group rg-ai, subscription sub-1)" in message
    assert "--resource-group" in message


@respx.mock
def test_429_waits_retry_after_then_succeeds(management: ManagementClient, waits: RecordedSleep) -> None:
    route = respx.get(DEPLOYMENTS_URL).mock(
        side_effect=[
            arm_error(429, "TooManyRequests", "slow down", **{"retry-after": "7"}),
            httpx.Response(200, json={"value": [deployment("a")]}),
        ]
    )
    assert [item["name"] for item in management.deployments(REF)] == ["a"]
    assert waits.waits == [7.0]
    assert route.call_count == 2


@respx.mock
def test_429_without_retry_after_backs_off_and_gives_up_after_the_tries(
    management: ManagementClient, waits: RecordedSleep
) -> None:
    route = respx.get(DEPLOYMENTS_URL).mock(return_value=arm_error(429, "TooManyRequests", "slow down"))
    with pytest.raises(ManagementError, match="still throttling"):
        management.deployments(REF)
    assert route.call_count == 3
    assert waits.waits == [2.0, 4.0]


@respx.mock
def test_a_retry_after_longer_than_worth_waiting_is_not_waited(
    management: ManagementClient, waits: RecordedSleep
) -> None:
    respx.get(DEPLOYMENTS_URL).mock(return_value=arm_error(429, "TooManyRequests", "x", **{"retry-after": "3600"}))
    with pytest.raises(ManagementError, match="asks to wait 3600 s"):
        management.deployments(REF)
    assert waits.waits == []


@respx.mock
def test_an_unreachable_api_is_a_management_error(management: ManagementClient) -> None:
    respx.get(DEPLOYMENTS_URL).mock(side_effect=httpx.ConnectError("connection refused"))
    with pytest.raises(ManagementError, match=f"cannot reach the management API at {BASE}"):
        management.deployments(REF)


@respx.mock
def test_an_answer_that_is_not_json_is_a_management_error(management: ManagementClient) -> None:
    respx.get(ACCOUNT_URL).respond(200, text="<html>proxy login</html>")
    with pytest.raises(ManagementError, match="something other than JSON"):
        management.account(REF)


@respx.mock
def test_the_token_is_asked_for_once() -> None:
    asked: list[int] = []

    def token() -> str:
        asked.append(1)
        return TOKEN

    respx.get(ACCOUNT_URL).respond(200, json={})
    with ManagementClient(token, BASE) as client:
        client.account(REF)
        client.account(REF)
    assert asked == [1]


def test_a_token_from_the_environment() -> None:
    assert token_from_environment("ARM_TOKEN", {"ARM_TOKEN": f" {TOKEN}\n"})() == TOKEN


def test_an_unset_token_variable_is_named() -> None:
    with pytest.raises(ManagementError, match="ARM_TOKEN is empty or unset"):
        token_from_environment("ARM_TOKEN", {})()


def test_azure_identity_is_asked_for_the_management_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    import azure.identity

    asked: list[tuple[str, ...]] = []

    class Credential:
        def get_token(self, *scopes: str) -> Any:
            asked.append(scopes)
            return type("AccessToken", (), {"token": TOKEN})()

        def close(self) -> None:
            pass

    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", Credential)
    assert token_from_azure_identity()() == TOKEN
    assert asked == [(MANAGEMENT_SCOPE,)]


def test_azure_identity_without_a_credential_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    import azure.identity
    from azure.core.exceptions import ClientAuthenticationError

    class Credential:
        def get_token(self, *scopes: str) -> Any:
            raise ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token.\nAttempted: ...")

        def close(self) -> None:
            pass

    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", Credential)
    with pytest.raises(ManagementError) as raised:
        token_from_azure_identity()()
    assert "failed to retrieve a token" in str(raised.value) and "--token-env" in str(raised.value)
