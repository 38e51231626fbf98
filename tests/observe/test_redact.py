from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from gateway.observe.redact import REDACTED, RedactingFilter, Redactor, client_key_values, secret_values
from gateway.settings import load_config
from tests.support.gateway_config import write_config

AZURE_KEY = "azure-key-0123456789abcdef"
CLIENT_KEY = "sk-client-0123456789"
# The shape of an Entra access token (header.payload.signature, base64url JSON); not a real one.
ENTRA_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2NvZ25pdGl2ZXNlcnZpY2VzIn0.c2lnbmF0dXJl"

CONFIG = """\
resources:
  east:
    endpoint: https://east.openai.azure.com
    auth: {type: api-key, api_key_env: EAST_KEY}
  west:
    endpoint: https://west.openai.azure.com
    auth: {type: entra}
client_keys:
  env: TEAM_KEYS
rate_limits:
  redis_url: redis://:redis-password-123@127.0.0.1:6379/0
deployments:
  - {name: chat, model: gpt-4.1, resource: east}
"""
ENVIRON = {
    "EAST_KEY": AZURE_KEY,
    "TEAM_KEYS": f"team-a:{CLIENT_KEY}, bare-client-key-0123 ,",
    "AZURE_CLIENT_SECRET": "entra-client-secret-0123",
    "GATEWAY_ADMIN_KEYS": "ops:admin-key-0123456",
    "UNRELATED": "not-a-secret-at-all",
}


def test_known_secrets_are_replaced_wherever_they_stand() -> None:
    redactor = Redactor([AZURE_KEY, CLIENT_KEY])
    text = f"upstream said: bad key {AZURE_KEY}; client sent {CLIENT_KEY}."
    assert redactor.redact(text) == f"upstream said: bad key {REDACTED}; client sent {REDACTED}."


def test_a_known_secret_is_found_percent_encoded_in_a_url() -> None:
    redactor = Redactor(["key with/slash+plus"])
    assert redactor.redact("GET /x?k=key%20with%2Fslash%2Bplus") == f"GET /x?k={REDACTED}"


def test_a_key_that_contains_another_is_replaced_whole() -> None:
    redactor = Redactor(["sk-abcdefgh", "sk-abcdefgh-longer"])
    assert redactor.redact("sk-abcdefgh-longer") == REDACTED


def test_values_too_short_to_be_secrets_are_not_matched_by_value() -> None:
    # A 1-character "key" would otherwise turn every k in every line into [redacted].
    assert Redactor(["k", "short"]).redact("keep short lines") == "keep short lines"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/v1/realtime?model=auto&api-key=abc123", f"/v1/realtime?model=auto&api-key={REDACTED}"),
        ("/v1/chat/completions?api_key=abc&x=1", f"/v1/chat/completions?api_key={REDACTED}&x=1"),
        ("?key=abc#frag", f"?key={REDACTED}#frag"),
        ("/openai?subscription-key=abc", f"/openai?subscription-key={REDACTED}"),
        ("?access_token=abc", f"?access_token={REDACTED}"),
        (
            "https://a.blob.core.windows.net/c?sv=2024&sig=a%2Bb%3D&se=1",
            f"https://a.blob.core.windows.net/c?sv=2024&sig={REDACTED}&se=1",
        ),
        ('"WebSocket /v1/realtime?Token=abc" [accepted]', f'"WebSocket /v1/realtime?Token={REDACTED}" [accepted]'),
        ("api-key=abc&model=auto", f"api-key={REDACTED}&model=auto"),
        ("client_secret=abc", f"client_secret={REDACTED}"),
    ],
)
def test_secret_looking_query_parameters_are_redacted(text: str, expected: str) -> None:
    assert Redactor().redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "/v1/realtime?model=gpt-4o&deployment=d&api-version=2025-04-01-preview",
        "max_tokens=100 prompt_tokens=5",
        "monkeys=3",
    ],
)
def test_other_parameters_are_kept(text: str) -> None:
    assert Redactor().redact(text) == text


def test_bearer_credentials_and_entra_tokens_are_redacted_by_shape() -> None:
    redactor = Redactor()
    assert redactor.redact(f"Authorization: Bearer {ENTRA_TOKEN}") == f"Authorization: Bearer {REDACTED}"
    assert redactor.redact("authorization: bearer some-client-key==") == f"authorization: bearer {REDACTED}"
    assert redactor.redact(f"token {ENTRA_TOKEN} expired") == f"token {REDACTED} expired"


def test_redacting_twice_changes_nothing_more() -> None:
    redactor = Redactor([AZURE_KEY])
    once = redactor.redact(f"?api-key={AZURE_KEY} Bearer {ENTRA_TOKEN} {AZURE_KEY}")
    assert redactor.redact(once) == once


def test_client_keys_are_known_as_entries_and_as_keys() -> None:
    assert client_key_values(f"team-a:{CLIENT_KEY}, bare ,,") == [f"team-a:{CLIENT_KEY}", "bare", CLIENT_KEY]
    assert client_key_values("") == []


def test_the_secrets_of_a_config_are_its_keys_from_the_environment(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, CONFIG), ENVIRON)
    found = secret_values(config, ENVIRON)
    assert set(found) == {
        AZURE_KEY,
        f"team-a:{CLIENT_KEY}",
        CLIENT_KEY,
        "bare-client-key-0123",
        "entra-client-secret-0123",
        "redis-password-123",
        "ops:admin-key-0123456",
        "admin-key-0123456",
    }
    redactor = Redactor.from_config(config, ENVIRON)
    text = " ".join([*found, "not-a-secret-at-all"])
    assert redactor.redact(text) == " ".join([REDACTED] * len(found) + ["not-a-secret-at-all"])


def record(msg: object, *args: object, exc_info: bool = False) -> logging.LogRecord:
    info = sys.exc_info() if exc_info else None
    return logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, msg, args or None, info)


def test_the_filter_redacts_the_uvicorn_websocket_line() -> None:
    # As uvicorn's WebSocket protocols log a handshake: the path with its whole query string as an argument.
    path = f"/v1/realtime?model=auto&api-key={CLIENT_KEY}"
    accepted = record('%s - "WebSocket %s" [accepted]', "127.0.0.1:5000", path)
    refused = record('%s - "WebSocket %s" %d', "127.0.0.1:5000", path, 401)
    redacting = RedactingFilter(Redactor([CLIENT_KEY]))
    assert redacting.filter(accepted) is True and redacting.filter(refused) is True  # kept, only redacted
    redacted_path = f"/v1/realtime?model=auto&api-key={REDACTED}"
    assert accepted.getMessage() == f'127.0.0.1:5000 - "WebSocket {redacted_path}" [accepted]'
    assert refused.getMessage() == f'127.0.0.1:5000 - "WebSocket {redacted_path}" 401'


def test_the_filter_redacts_the_message_and_mapping_arguments() -> None:
    line = record(f"key {AZURE_KEY} in %(where)s", {"where": f"?sig={AZURE_KEY}"})
    RedactingFilter(Redactor([AZURE_KEY])).filter(line)
    assert line.getMessage() == f"key {REDACTED} in ?sig={REDACTED}"


def test_the_filter_keeps_numbers_and_objects_without_secrets_as_they_are() -> None:
    marker = object()
    line = record("%d requests, %.1f s, %r", 3, 1.5, marker)
    RedactingFilter(Redactor([AZURE_KEY])).filter(line)
    assert line.args == (3, 1.5, marker)


def test_the_filter_redacts_an_object_whose_text_holds_a_secret() -> None:
    line = record("failed: %s", ValueError(f"bad url https://x/?api-key={AZURE_KEY}"))
    RedactingFilter(Redactor([AZURE_KEY])).filter(line)
    assert line.getMessage() == f"failed: bad url https://x/?api-key={REDACTED}"


def test_the_filter_redacts_a_traceback_as_any_formatter_writes_it() -> None:
    try:
        raise RuntimeError(f"connect failed: Bearer {ENTRA_TOKEN}")
    except RuntimeError:
        line = record("upstream call failed", exc_info=True)
    RedactingFilter().filter(line)
    written = logging.Formatter().format(line)
    assert "RuntimeError: connect failed: Bearer [redacted]" in written
    assert ENTRA_TOKEN not in written


def test_the_filter_can_learn_the_secrets_once_the_config_is_loaded(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("tests.observe.redact")
    redacting = RedactingFilter()
    caplog.handler.addFilter(redacting)
    try:
        log.warning("before: %s", AZURE_KEY)
        redacting.redactor = Redactor([AZURE_KEY])
        log.warning("after: %s", AZURE_KEY)
    finally:
        caplog.handler.removeFilter(redacting)
    assert caplog.messages == [f"before: {AZURE_KEY}", f"after: {REDACTED}"]
