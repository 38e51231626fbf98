"""A real Redis Sentinel setup on loopback: a master, its replica, and one Sentinel watching them as `SERVICE`;
for tests of the gateway following the master the Sentinel names, through a failover.

Waiting is by polling what the Sentinel and the servers say, never by sleeping a fixed time.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import redis

from tests.support.redis_nodes import SENTINEL_READY, RedisNode
from tests.support.servers import free_port

SERVICE = "gateway-master"
SETTLE_TIMEOUT_S = 30.0
POLL_S = 0.05


class SentinelSetup:
    def __init__(self, master: RedisNode, replica: RedisNode, sentinel: RedisNode) -> None:
        self.master = master
        self.replica = replica
        self.sentinel = sentinel

    @property
    def url(self) -> str:
        return f"redis+sentinel://{self.sentinel.address}/{SERVICE}"

    def master_address(self) -> str:
        with redis.Redis(host="127.0.0.1", port=self.sentinel.port, decode_responses=True) as client:
            host, port = client.sentinel_get_master_addr_by_name(SERVICE)
        return f"{host}:{port}"

    def fail_over(self) -> None:
        """Has the Sentinel promote the replica (SENTINEL FAILOVER), and waits until the replica says it is master."""
        with redis.Redis(host="127.0.0.1", port=self.sentinel.port, decode_responses=True) as client:
            client.execute_command("SENTINEL", "FAILOVER", SERVICE)
        _wait(lambda: self.master_address() == self.replica.address, "the Sentinel to name the replica")
        _wait(lambda: _role(self.replica) == "master", "the replica to become master")

    def wait_until_ready(self) -> None:
        """Until the replica is in sync and the Sentinel knows it as a replica it could promote."""
        _wait(lambda: _replication(self.replica).get("master_link_status") == "up", "the replica to sync")

        def sentinel_knows_the_replica() -> bool:
            with redis.Redis(host="127.0.0.1", port=self.sentinel.port, decode_responses=True) as client:
                replicas = client.sentinel_slaves(SERVICE)
            return any(
                f"{entry['ip']}:{entry['port']}" == self.replica.address and entry.get("master-link-status") == "ok"
                for entry in replicas
            )

        _wait(sentinel_knows_the_replica, "the Sentinel to find the replica")


@contextmanager
def redis_sentinel() -> Iterator[SentinelSetup]:
    with tempfile.TemporaryDirectory(prefix="redis-sentinel-") as workdir, ExitStack() as stack:
        folder = Path(workdir)
        master_port, replica_port = free_port(), free_port()
        master = RedisNode(folder / "master", master_port, ["--port", str(master_port)])
        replica_args = ["--port", str(replica_port), "--replicaof", "127.0.0.1", str(master_port)]
        replica = RedisNode(folder / "replica", replica_port, replica_args)
        sentinel_port = free_port()
        sentinel_dir = folder / "sentinel"
        sentinel_dir.mkdir()
        # The Sentinel rewrites its config file as it learns: it must be a file of its own, writable.
        (sentinel_dir / "sentinel.conf").write_text(
            f"port {sentinel_port}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {master.port} 1\n"
            f"sentinel down-after-milliseconds {SERVICE} 1000\n"
            f"sentinel failover-timeout {SERVICE} 10000\n"
        )
        sentinel = RedisNode(sentinel_dir, sentinel_port, ["sentinel.conf", "--sentinel"], ready_line=SENTINEL_READY)
        for node in (master, replica, sentinel):
            node.start()
            stack.callback(node.stop)
        setup = SentinelSetup(master, replica, sentinel)
        setup.wait_until_ready()
        yield setup


def _replication(node: RedisNode) -> dict[str, object]:
    with redis.Redis(host="127.0.0.1", port=node.port, decode_responses=True) as client:
        info: dict[str, object] = client.info("replication")
    return info


def _role(node: RedisNode) -> object:
    return _replication(node)["role"]


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {SETTLE_TIMEOUT_S} s for {what}")
        time.sleep(POLL_S)  # polling the servers' own view: there is nothing to await
