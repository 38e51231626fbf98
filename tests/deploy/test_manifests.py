"""deploy/ as far as it can be checked without a container runtime: every manifest parses and is the kind it
should be, the names, ports and paths in the Dockerfile, compose.yaml and the Kubernetes manifests agree with
each other and with what the gateway reads, and the image's own command, run on the image's file layout with
compose.yaml's config and environment (a real redis-server, the simulator as Azure), serves a gateway that is
ready, passes the image's HEALTHCHECK and answers the openai SDK through the shared Redis.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import httpx
import openai
import pytest
import redis
import yaml

from gateway.responses.redis_homes import DEFAULT_KEY_PREFIX as RESPONSE_HOMES_PREFIX
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
DEPLOY_CONFIG = DEPLOY / "config" / "gateway.yaml"
SHIPPED_CONFIG = ROOT / "config" / "gateway.yaml"
POLICY = ROOT / "routes" / "policy.yaml"
GATEWAYS = ("gateway-1", "gateway-2")

EXPECTED_OBJECTS = {
    "configmap.yaml": [("v1", "ConfigMap"), ("v1", "ConfigMap")],
    "secret.yaml": [("v1", "Secret")],
    "deployment.yaml": [("apps/v1", "Deployment")],
    "service.yaml": [("v1", "Service")],
    "poddisruptionbudget.yaml": [("policy/v1", "PodDisruptionBudget")],
    "horizontalpodautoscaler.yaml": [("autoscaling/v2", "HorizontalPodAutoscaler")],
    "kustomization.yaml": [("kustomize.config.k8s.io/v1beta1", "Kustomization")],
}


# Reading the files


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]]  # (INSTRUCTION, its arguments), continuation lines joined

    def all(self, instruction: str) -> list[str]:
        return [arguments for name, arguments in self.instructions if name == instruction]

    def last(self, instruction: str) -> str:
        found = self.all(instruction)
        assert found, f"stage {self.name} has no {instruction}"
        return found[-1]


def dockerfile_stages() -> list[Stage]:
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    arguments: dict[str, str] = {}
    stages: list[Stage] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        instruction, rest = instruction.upper(), re.sub(r"\s+", " ", rest.strip())
        if instruction == "ARG" and not stages:
            name, _, default = rest.partition("=")
            arguments[name] = default
        elif instruction == "FROM":
            base, _, name = rest.partition(" AS ")
            base = re.sub(r"\$\{(\w+)\}", lambda match: arguments[match.group(1)], base)
            stages.append(Stage(base, name, []))
        else:
            stages[-1].instructions.append((instruction, rest))
    return stages


def runtime_stage() -> Stage:
    return dockerfile_stages()[-1]


def image_command() -> list[str]:
    command: list[str] = json.loads(runtime_stage().last("CMD"))
    return command


def healthcheck_command() -> list[str]:
    options, _, command = runtime_stage().last("HEALTHCHECK").partition(" CMD ")
    assert options.startswith("--"), options
    checked: list[str] = json.loads(command)
    return checked


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def manifests(name: str) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all((KUBERNETES / name).read_text()) if document is not None]


def deployment() -> dict[str, Any]:
    return manifests("deployment.yaml")[0]


def gateway_container() -> dict[str, Any]:
    containers = deployment()["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    container: dict[str, Any] = containers[0]
    return container


def container_port(port: int | str) -> int:
    """A port as a probe or a Service names it (a number, or the name of one of the container's ports)."""
    if isinstance(port, int):
        return port
    named = {entry["name"]: entry["containerPort"] for entry in gateway_container()["ports"]}
    return int(named[port])


_COMPOSE_VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def interpolate(value: str, environ: Mapping[str, str]) -> str:
    """A compose.yaml value as `docker compose` fills it in: ${NAME}, ${NAME:-default}, ${NAME:?error}."""

    def fill(match: re.Match[str]) -> str:
        name, kind, text = match.groups()
        if environ.get(name):
            return environ[name]
        if kind == "?":
            raise LookupError(f"compose refuses to start: {text}")
        return text if kind == "-" else ""

    return _COMPOSE_VARIABLE.sub(fill, value)


def names_the_gateway_reads() -> set[str]:
    """Environment variables the gateway reads: those its code names, and those its deploy config expands or
    names (client_keys.env, a resource's api_key_env)."""
    in_code = {
        name
        for path in (ROOT / "gateway").rglob("*.py")
        for name in re.findall(r"[\"']([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)[\"']", path.read_text(encoding="utf-8"))
    }
    text = DEPLOY_CONFIG.read_text()
    config = yaml.safe_load(text)
    named = {config["client_keys"]["env"]}
    named |= {resource["auth"]["api_key_env"] for resource in config["resources"].values() if "auth" in resource}
    return in_code | named | set(re.findall(r"\$\{(\w+)", text))


# Every file parses, and is what it should be


@pytest.mark.parametrize("path", sorted(DEPLOY.rglob("*.yaml")), ids=lambda path: str(path.relative_to(DEPLOY)))
def test_every_yaml_file_parses(path: Path) -> None:
    documents = [document for document in yaml.safe_load_all(path.read_text()) if document is not None]
    assert documents and all(isinstance(document, dict) for document in documents)


def test_the_kubernetes_manifests_are_the_expected_kinds_and_api_versions() -> None:
    found = {
        path.name: [(document["apiVersion"], document["kind"]) for document in manifests(path.name)]
        for path in KUBERNETES.glob("*.yaml")
    }
    assert found == EXPECTED_OBJECTS


def test_the_kustomization_applies_every_manifest() -> None:
    kustomization = manifests("kustomization.yaml")[0]
    assert sorted(kustomization["resources"]) == sorted(set(EXPECTED_OBJECTS) - {"kustomization.yaml"})
    assert [image["name"] for image in kustomization["images"]] == [gateway_container()["image"]]


def test_service_budget_and_autoscaler_all_find_the_deployments_pods() -> None:
    spec = deployment()["spec"]
    pod_labels = spec["template"]["metadata"]["labels"]
    service = manifests("service.yaml")[0]
    budget = manifests("poddisruptionbudget.yaml")[0]
    autoscaler = manifests("horizontalpodautoscaler.yaml")[0]
    for selector in (
        spec["selector"]["matchLabels"],
        service["spec"]["selector"],
        budget["spec"]["selector"]["matchLabels"],
    ):
        assert selector.items() <= pod_labels.items()
    target = autoscaler["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == (
        "apps/v1",
        "Deployment",
        deployment()["metadata"]["name"],
    )
    # The budget leaves a pod to serve while another is drained.
    assert budget["spec"]["minAvailable"] < autoscaler["spec"]["minReplicas"]
    # The autoscaler measures CPU against the container's request.
    assert autoscaler["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert "cpu" in gateway_container()["resources"]["requests"]
    assert "memory" in gateway_container()["resources"]["limits"]


# The image


def test_the_image_is_built_in_two_stages_from_the_lock() -> None:
    builder, runtime = dockerfile_stages()
    assert runtime.base == builder.base == "python:3.11-slim"
    runs = " ; ".join(builder.all("RUN"))
    assert "pip install --require-hashes -r requirements.txt" in runs
    assert "pip install --no-deps --no-build-isolation ." in runs
    assert "-r requirements-dev.txt" not in runs  # test and lock tools stay out of the image
    assert runtime.all("COPY")[0] == f"--from={builder.name} /opt/venv /opt/venv"


def test_the_build_backend_pin_the_image_takes_from_the_dev_lock_is_the_locked_setuptools(tmp_path: Path) -> None:
    # requirements.txt has no build backend; the Dockerfile cuts setuptools' entry, hashes and all, out of
    # requirements-dev.txt. The cut runs here on the real lock, so a lock whose layout changed fails now.
    (step,) = [run for run in dockerfile_stages()[0].all("RUN") if "> build-backend.txt" in run]
    cut = step.split(" && ")[0]
    shutil.copy(ROOT / "requirements-dev.txt", tmp_path)
    subprocess.run(["sh", "-c", cut], cwd=tmp_path, check=True)
    lines = (tmp_path / "build-backend.txt").read_text().splitlines()
    locked = re.search(r"^setuptools==(\S+)", (ROOT / "requirements-dev.txt").read_text(), re.MULTILINE)
    assert locked is not None
    assert lines[0] == f"setuptools=={locked.group(1)} \\"
    assert len(lines) >= 2 and all(re.fullmatch(r" +--hash=sha256:[0-9a-f]{64}( \\)?", line) for line in lines[1:])
    assert not lines[-1].endswith("\\")


def test_the_image_runs_as_a_user_that_is_not_root_as_kubernetes_requires() -> None:
    user, _, group = runtime_stage().last("USER").partition(":")
    assert user.isdigit() and int(user) != 0 and group.isdigit() and int(group) != 0
    pod = deployment()["spec"]["template"]["spec"]["securityContext"]
    assert pod["runAsNonRoot"] is True and (pod["runAsUser"], pod["runAsGroup"]) == (int(user), int(group))
    container = gateway_container()["securityContext"]
    assert container["allowPrivilegeEscalation"] is False and container["readOnlyRootFilesystem"] is True


def test_the_image_copies_only_what_the_dockerignore_lets_into_the_build() -> None:
    allowed = {
        line.removeprefix("!").rstrip("/")
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    lines = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    assert "*" in lines  # everything else stays out of the build context
    copied = {
        source.rstrip("/")
        for stage in dockerfile_stages()
        for copy in stage.all("COPY")
        if not copy.startswith("--from")
        for source in copy.split()[:-1]
    }
    assert copied == allowed
    assert all((ROOT / source).exists() for source in copied)


def test_no_secret_is_baked_into_the_image_or_committed_in_the_secret() -> None:
    for stage in dockerfile_stages():
        for instruction in ("ENV", "ARG"):
            for arguments in stage.all(instruction):
                assert not re.search(r"KEY|SECRET|PASSWORD|TOKEN|REDIS_URL", arguments), arguments
    secret = manifests("secret.yaml")[0]
    assert "data" not in secret
    assert all(re.search(r"<[a-z-]+>", value) for value in secret["stringData"].values())


# Ports, paths and names agree


def test_every_port_agrees_with_the_images_command() -> None:
    port = int(option(image_command(), "--port"))
    assert runtime_stage().last("EXPOSE") == str(port)
    health = urlsplit(re.findall(r"'(http://[^']+)'", " ".join(healthcheck_command()))[0])
    assert health.port == port
    assert yaml.safe_load(DEPLOY_CONFIG.read_text())["server"]["port"] == port  # so serving without --port agrees
    published = [entry.split(":") for service in GATEWAYS for entry in compose()["services"][service]["ports"]]
    assert [int(inside) for _outside, inside in published] == [port] * len(GATEWAYS)
    assert len({outside for outside, _inside in published}) == len(GATEWAYS)
    container = gateway_container()
    assert "command" not in container and "args" not in container  # the image's CMD, port and all
    assert [entry["containerPort"] for entry in container["ports"]] == [port]
    service_ports = manifests("service.yaml")[0]["spec"]["ports"]
    assert [container_port(entry["targetPort"]) for entry in service_ports] == [port]
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container_port(container[probe]["httpGet"]["port"]) == port


def test_compose_points_the_replicas_at_its_own_redis_and_simulator() -> None:
    services = compose()["services"]
    simulator_port = int(option(services["simulator"]["command"], "--port"))
    for name in GATEWAYS:
        environment = services[name]["environment"]
        endpoint = urlsplit(interpolate(environment["AZURE_OPENAI_ENDPOINT"], {}))
        assert (endpoint.hostname, endpoint.port) == ("simulator", simulator_port)
        redis_address = urlsplit(environment["REDIS_URL"])
        assert redis_address.hostname in services and redis_address.port == 6379
        # The simulator accepts the key the gateways send it, unless both are given.
        assert interpolate(environment["AZURE_OPENAI_API_KEY"], {}) == interpolate(
            services["simulator"]["environment"]["SIMULATOR_API_KEY"], {}
        )
        # Without client keys a replica would bind 127.0.0.1, unreachable: compose refuses to start instead.
        with pytest.raises(LookupError):
            interpolate(environment["GATEWAY_API_KEYS"], {})
        assert set(services[name]["depends_on"]) == {"redis", "simulator"}
    health_url = urlsplit(re.findall(r"'(http://[^']+)'", " ".join(services["simulator"]["healthcheck"]["test"]))[0])
    assert health_url.port == simulator_port


def test_every_environment_variable_set_for_the_gateway_is_one_it_reads() -> None:
    read = names_the_gateway_reads()
    services = compose()["services"]
    for name in (*GATEWAYS, "simulator"):
        assert set(services[name]["environment"]) <= read, name
    container_env = {entry["name"]: entry for entry in gateway_container()["env"]}
    assert set(container_env) <= read
    assert {"AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "GATEWAY_API_KEYS", "REDIS_URL"} <= set(container_env)
    # Every variable comes from the Secret, and the Secret holds exactly those.
    secret = manifests("secret.yaml")[0]
    references = [entry["valueFrom"]["secretKeyRef"] for entry in container_env.values()]
    assert {reference["name"] for reference in references} == {secret["metadata"]["name"]}
    assert {reference["key"] for reference in references} == set(secret["stringData"])


def test_the_deploy_config_is_the_shipped_one_sharing_redis() -> None:
    deployed = yaml.safe_load(DEPLOY_CONFIG.read_text())
    shipped = yaml.safe_load(SHIPPED_CONFIG.read_text())
    assert deployed.pop("rate_limits") == {"redis_url": "${REDIS_URL}"}
    assert deployed == shipped


def test_the_configmaps_carry_the_config_and_policy_where_the_image_reads_them() -> None:
    mounts = {mount["name"]: mount["mountPath"] for mount in gateway_container()["volumeMounts"]}
    volumes = {
        volume["configMap"]["name"]: mounts[volume["name"]]
        for volume in deployment()["spec"]["template"]["spec"]["volumes"]
        if "configMap" in volume
    }
    served = {
        PurePosixPath(volumes[config_map["metadata"]["name"]]) / key: text
        for config_map in manifests("configmap.yaml")
        for key, text in config_map["data"].items()
    }
    config_path = PurePosixPath(option(image_command(), "--config"))
    policy_path = PurePosixPath(
        os.path.normpath(config_path.parent / yaml.safe_load(DEPLOY_CONFIG.read_text())["routing"]["policy"])
    )
    assert served == {config_path: DEPLOY_CONFIG.read_text(), policy_path: POLICY.read_text()}


# The image's command, run


def image_layout(root: Path) -> Path:
    """The runtime stage's COPYs from the build context, then compose.yaml's volumes over them, under `root`
    standing for the image's /."""
    copies = [copy.split() for copy in runtime_stage().all("COPY") if not copy.startswith("--from")]
    mounts = [volume.split(":")[:2] for volume in compose()["services"][GATEWAYS[0]]["volumes"]]
    for source, target in [(ROOT / source, target) for source, target in copies] + [
        (DEPLOY / source, target) for source, target in mounts
    ]:
        destination = root / target.lstrip("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, destination)
    workdir = root / runtime_stage().last("WORKDIR").lstrip("/")
    assert workdir.is_dir()
    return workdir


def in_image(argv: list[str], root: Path, port: str) -> list[str]:
    """`argv` as run here: paths inside the image under `root`, and the port the test chose (tests run side
    by side) where `argv` has a `--port` or a loopback URL."""
    moved = [str(root / argument.lstrip("/")) if argument.startswith("/app/") else argument for argument in argv]
    if "--port" in moved:
        moved[moved.index("--port") + 1] = port
    return [re.sub(r"//127\.0\.0\.1:\d+/", f"//127.0.0.1:{port}/", argument) for argument in moved]


def image_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """This machine's environment without the gateway's variables, the runtime stage's ENV with this
    virtualenv standing for /opt/venv, and `extra`."""
    environ = {
        name: value for name, value in os.environ.items() if not name.startswith(("AZURE_", "GATEWAY_", "REDIS_"))
    }
    venv_bin = str(Path(sys.executable).parent)
    for assignment in " ".join(runtime_stage().all("ENV")).split():
        name, _, value = assignment.partition("=")
        environ[name] = value.replace("/opt/venv/bin", venv_bin).replace("$PATH", os.environ["PATH"])
    return {**environ, **extra}


@dataclass
class Served:
    process: subprocess.Popen[str]
    stdout: str = ""  # what it wrote there, once stopped


@contextmanager
def started(argv: list[str], environ: Mapping[str, str], cwd: Path) -> Iterator[Served]:
    """A server process, yielded once uvicorn says it listens (read from its stderr: no polling); stopped as
    `docker stop` stops a container, with SIGTERM."""
    with subprocess.Popen(
        argv, env=environ, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stderr is not None
        seen = []
        for line in process.stderr:
            seen.append(line)
            if "Uvicorn running on" in line:
                break
        else:
            process.wait(timeout=30)
            pytest.fail(f"{argv[:2]} exited with {process.returncode} before serving:\n{''.join(seen)}")
        served = Served(process)
        try:
            yield served
        finally:
            process.terminate()
            served.stdout, _ = process.communicate(timeout=60)


def test_the_images_command_serves_the_compose_config_with_redis_and_the_simulator(
    tmp_path: Path, redis_url: str
) -> None:
    services = compose()["services"]
    workdir = image_layout(tmp_path)
    gateway_port, simulator_port = str(free_port()), str(free_port())
    client_key = "deploy-test-key-kept-secret"
    # compose.yaml's environment as `docker compose up` fills it in, its service names standing for loopback.
    compose_environ = {"GATEWAY_API_KEYS": f"deploy-test:{client_key}"}
    gateway_environ = {
        name: interpolate(value, compose_environ) for name, value in services[GATEWAYS[0]]["environment"].items()
    }
    simulator_address = f"simulator:{option(services['simulator']['command'], '--port')}"
    gateway_environ["AZURE_OPENAI_ENDPOINT"] = gateway_environ["AZURE_OPENAI_ENDPOINT"].replace(
        simulator_address, f"127.0.0.1:{simulator_port}"
    )
    gateway_environ["REDIS_URL"] = redis_url
    simulator_environ = {
        name: interpolate(value, compose_environ) for name, value in services["simulator"]["environment"].items()
    }
    simulator_argv = in_image(services["simulator"]["command"], tmp_path, simulator_port)
    gateway_argv = in_image(image_command(), tmp_path, gateway_port)
    # The image's command, word for word but for where /app is and the port (`gateway` is found on the PATH,
    # this virtualenv standing for /opt/venv).
    config_path = option(image_command(), "--config")
    differing = [(image, here) for image, here in zip(image_command(), gateway_argv, strict=True) if image != here]
    assert differing == [
        (config_path, str(tmp_path / config_path.lstrip("/"))),
        (option(image_command(), "--port"), gateway_port),
    ]

    with (
        started(simulator_argv, image_environment(simulator_environ), workdir),
        started(gateway_argv, image_environment(gateway_environ), workdir) as gateway,
    ):
        base_url = f"http://127.0.0.1:{gateway_port}"
        ready = httpx.get(f"{base_url}/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            path = gateway_container()[probe]["httpGet"]["path"]
            assert httpx.get(f"{base_url}{path}").status_code == 200, path

        health = in_image(healthcheck_command(), tmp_path, gateway_port)
        assert f"127.0.0.1:{gateway_port}/healthz" in health[-1]
        assert subprocess.run(health, env=image_environment({}), timeout=30).returncode == 0

        with openai.OpenAI(base_url=f"{base_url}/v1", api_key=client_key, max_retries=0, timeout=30) as client:
            response = client.responses.create(model="gpt-4.1-mini", input="Hello")
        assert response.output_text
        # Where the response lives went to the Redis every replica shares, so a follow-up reaching the other
        # replica finds it.
        with redis.Redis.from_url(redis_url, decode_responses=True) as shared:
            assert shared.get(f"{RESPONSE_HOMES_PREFIX}{response.id}") == "azure/gpt-4.1-mini"
    # The routing log went to stdout, where `docker logs` shows it.
    routing_lines = [json.loads(line) for line in gateway.stdout.splitlines() if line.startswith("{")]
    assert [line["status"] for line in routing_lines] == [200]
    # With the gateway stopped the same health check fails, so it can tell.
    assert subprocess.run(health, env=image_environment({}), timeout=30, capture_output=True).returncode != 0


def test_orchestrators_wait_longer_than_the_gateways_drain_before_killing_it() -> None:
    from gateway.settings import load_config

    environ = {
        "AZURE_OPENAI_ENDPOINT": "http://simulator:9100",
        "AZURE_OPENAI_API_KEY": "k",
        "GATEWAY_API_KEYS": "k",
        "REDIS_URL": "redis://redis:6379/0",
    }
    drain = load_config(str(DEPLOY / "config" / "gateway.yaml"), environ).server.drain_time_seconds
    for name in ("gateway-1", "gateway-2"):
        grace = compose()["services"][name]["stop_grace_period"]
        assert grace.endswith("s") and float(grace[:-1]) > drain
    assert deployment()["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > drain
