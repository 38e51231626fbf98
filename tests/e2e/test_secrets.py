"""No secret is ever written: each kind is planted, then everything the gateway and its CLI wrote is searched.

The secrets: the Azure api-key in the environment, client keys in GATEWAY_API_KEYS, a key in the query string
of an HTTP request and of the realtime WebSocket URL, a key the gateway refuses, and a `${VAR}` misplaced in
the config for `gateway check`. The output searched: `gateway check`'s stdout and stderr; a served gateway
process's stdout and stderr (uvicorn's lines included); its routing log; and the status line, headers and
body of every answer it gave.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from gateway.simulator import SimulatorSettings, create_simulator_app
from tests.support.gateway_config import SHIPPED_CONFIG, write_config
from tests.support.servers import free_port, serve

GATEWAY = [sys.executable, "-m", "gateway"]
POLICY = (SHIPPED_CONFIG.parent / "../routes/policy.yaml").resolve()


def planted(kind: str) -> str:
    # Fresh each run, so a match can only be the planted value.
    return f"{kind}-planted-{secrets.token_hex(12)}"


AZURE_KEY = planted("azure")
NAMED_CLIENT_KEY = planted("client")
BARE_CLIENT_KEY = planted("bare-client")
QUERY_KEY = planted("query")
REFUSED_KEY = planted("refused")
CLIENT_KEYS = f"team-a:{NAMED_CLIENT_KEY},{BARE_CLIENT_KEY}"
SECRETS = (AZURE_KEY, NAMED_CLIENT_KEY, BARE_CLIENT_KEY, QUERY_KEY, REFUSED_KEY)


def clean_environ(**planted_variables: str) -> dict[str, str]:
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(("AZURE_", "GATEWAY_"))}
    return {**inherited, **planted_variables}


def secrets_in(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def shipped_config_text(routing_log: str = "stdout") -> str:
    text = SHIPPED_CONFIG.read_text().replace("  policy: ../routes/policy.yaml", f"  policy: {POLICY}")
    return text.replace("  routing_log: stdout", f"  routing_log: {routing_log}")


# --- gateway check ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("misplaced", "variable"),
    [
        (("  port: 8080", "  port: ${AZURE_OPENAI_API_KEY}"), "AZURE_OPENAI_API_KEY"),
        (("  port: 8080", "  port: ${GATEWAY_API_KEYS}"), "GATEWAY_API_KEYS"),
        (
            (
                "    api_style: classic\n    api_version:",
                "    api_style: v1\n    api_version: ${AZURE_OPENAI_API_KEY} #",
            ),
            "AZURE_OPENAI_API_KEY",
        ),
        (("      type: api-key", "      type: ${AZURE_OPENAI_API_KEY}"), "AZURE_OPENAI_API_KEY"),
        (("resource: azure}\n", "resource: '${GATEWAY_API_KEYS}'}\n"), "GATEWAY_API_KEYS"),
        (("  host: 0.0.0.0", "  host: ['x${AZURE_OPENAI_API_KEY}']"), "AZURE_OPENAI_API_KEY"),
    ],
    ids=["port", "port-from-client-keys", "api-version", "auth-type", "resource-reference", "inside-a-list"],
)
def test_gateway_check_names_a_misplaced_variable_and_never_prints_its_value(
    tmp_path: Path, misplaced: tuple[str, str], variable: str
) -> None:
    text = shipped_config_text()
    assert misplaced[0] in text
    path = write_config(tmp_path, text.replace(misplaced[0], misplaced[1], 1))
    environ = clean_environ(
        AZURE_OPENAI_ENDPOINT="http://127.0.0.1:9", AZURE_OPENAI_API_KEY=AZURE_KEY, GATEWAY_API_KEYS=CLIENT_KEYS
    )
    result = subprocess.run(
        [*GATEWAY, "check", "--config", str(path)], env=environ, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert f"{path}:" in result.stderr and "config error" in result.stderr
    assert f"${{{variable}}}" in result.stderr
    assert secrets_in(result.stdout + result.stderr) == []


# --- a served gateway -------------------------------------------------------------------------------------


@dataclass
class Served:
    url: str
    routing_log: Path
    answers: list[str] = field(default_factory=list)  # status, headers and body of each answer, as text
    statuses: list[int] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""


def _record(served: Served, response: httpx.Response) -> None:
    served.statuses.append(response.status_code)
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.multi_items())
    served.answers.append(f"{response.status_code} {response.reason_phrase}\n{headers}\n\n{response.text}")


def _http_traffic(served: Served) -> None:
    chat = {"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "hello"}]}
    bearer = {"authorization": f"Bearer {NAMED_CLIENT_KEY}"}
    with httpx.Client(base_url=served.url, timeout=30) as client:
        calls = [
            # Served, with a key in the query string as an Azure-style client appends one.
            client.post("/v1/chat/completions", params={"api-key": QUERY_KEY}, json=chat, headers=bearer),
            client.post(
                "/v1/chat/completions", params={"key": QUERY_KEY}, json={**chat, "stream": True}, headers=bearer
            ),
            client.post("/v1/chat/completions", json=chat, headers={"api-key": BARE_CLIENT_KEY}),
            # Refused: a wrong key, a key only in the query string, no key.
            client.post("/v1/chat/completions", json=chat, headers={"authorization": f"Bearer {REFUSED_KEY}"}),
            client.post("/v1/chat/completions", params={"api-key": NAMED_CLIENT_KEY}, json=chat),
            client.post("/v1/chat/completions", params={"token": QUERY_KEY}, json=chat),
            # Errors after authentication: a bad body, an unknown model, an unknown path.
            client.post(
                "/v1/chat/completions",
                params={"api-key": QUERY_KEY},
                content=b"{not json",
                headers={**bearer, "content-type": "application/json"},
            ),
            client.post(
                "/v1/chat/completions",
                params={"sig": QUERY_KEY},
                json={**chat, "model": "no-such-model"},
                headers=bearer,
            ),
            client.get("/v1/no-such-endpoint", params={"api-key": QUERY_KEY}, headers=bearer),
            client.post("/v1/embeddings", params={"api-key": QUERY_KEY}, json={"model": 3}, headers=bearer),
        ]
    for response in calls:
        _record(served, response)


def _realtime_traffic(served: Served) -> None:
    url = "ws" + served.url.removeprefix("http") + "/v1/realtime"
    bearer = {"authorization": f"Bearer {NAMED_CLIENT_KEY}"}
    # Accepted: uvicorn logs the handshake with its whole query string.
    with connect(f"{url}?model=auto&api-key={QUERY_KEY}", additional_headers=bearer) as ws:
        assert orjson.loads(ws.recv(timeout=30))["type"] == "session.created"
    # Refused: the key only in the query string, as Azure's realtime URL takes it.
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{url}?model=auto&api-key={BARE_CLIENT_KEY}").close()
    response = refused.value.response
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.raw_items())
    served.statuses.append(response.status_code)
    served.answers.append(f"{response.status_code}\n{headers}\n\n{response.body.decode(errors='replace')}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    directory = tmp_path_factory.mktemp("secrets")
    routing_log = directory / "routing.log"
    config = write_config(directory, shipped_config_text(str(routing_log)))
    stdout_path = directory / "stdout"
    port = free_port()
    with serve(create_simulator_app(SimulatorSettings(api_key=AZURE_KEY))) as simulator_url:
        environ = clean_environ(
            AZURE_OPENAI_ENDPOINT=simulator_url, AZURE_OPENAI_API_KEY=AZURE_KEY, GATEWAY_API_KEYS=CLIENT_KEYS
        )
        with (
            stdout_path.open("w") as stdout,
            subprocess.Popen(
                [*GATEWAY, "serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
                env=environ,
                stdout=stdout,
                stderr=subprocess.PIPE,
                text=True,
            ) as process,
        ):
            assert process.stderr is not None
            started = []
            for line in process.stderr:  # until uvicorn reports the address: no sleeping
                started.append(line)
                if "Uvicorn running on" in line:
                    break
            result = Served(f"http://127.0.0.1:{port}", routing_log)
            try:
                assert "Uvicorn running on" in "".join(started), "".join(started)
                _http_traffic(result)
                _realtime_traffic(result)
            finally:
                process.terminate()
                _, rest = process.communicate(timeout=30)
            result.stderr = "".join(started) + rest
    result.stdout = stdout_path.read_text()
    return result


def test_the_traffic_was_served_and_refused_as_planned(served: Served) -> None:
    # Without this the searches below could pass on a gateway that answered nothing.
    assert served.statuses == [200, 200, 200, 401, 401, 401, 400, 404, 404, 400, 401]
    log = served.routing_log.read_text()
    assert log.count("\n") >= 6 and '"endpoint":"realtime"' in log


def test_no_answer_holds_a_secret(served: Served) -> None:
    leaked = {answer.split("\n", 1)[0]: secrets_in(answer) for answer in served.answers if secrets_in(answer)}
    assert leaked == {}


def test_the_routing_log_and_stdout_hold_no_secret(served: Served) -> None:
    assert secrets_in(served.routing_log.read_text()) == []
    assert secrets_in(served.stdout) == []


def test_stderr_holds_no_secret_though_uvicorn_logged_the_handshakes(served: Served) -> None:
    assert '"WebSocket /v1/realtime?model=auto&api-key=' in served.stderr  # the line was written...
    assert secrets_in(served.stderr) == []  # ...with its key redacted
