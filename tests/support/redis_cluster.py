"""A real Redis Cluster on loopback: masters and their replicas, each a `redis-server --cluster-enabled yes`,
joined by `redis-cli --cluster create`; for tests of the gateway's Redis client against a Cluster, and of a
master failing over to its replica.

A node that misses `NODE_TIMEOUT_MS` of pings is judged failed and its replica takes over: small here, so a
failover takes a couple of seconds. Waiting is by polling what the nodes say (CLUSTER INFO, CLUSTER NODES),
never by sleeping a fixed time.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.support.redis_nodes import RedisNode
from tests.support.servers import free_port

NODE_TIMEOUT_MS = 1000
SETTLE_TIMEOUT_S = 30.0
POLL_S = 0.05


@dataclass(frozen=True)
class ClusterNodeState:
    node_id: str
    address: str  # host:port
    is_master: bool
    failed: bool
    slots: tuple[tuple[int, int], ...]


class RedisClusterNodes:
    """The processes of one cluster, and what they say about its state."""

    def __init__(self, nodes: list[RedisNode]) -> None:
        self.nodes = nodes

    @property
    def url(self) -> str:
        """The gateway's URL for this cluster: two nodes to start from (either may be the one that dies)."""
        return "redis+cluster://" + ",".join(node.address for node in self.nodes[:2])

    def running(self) -> list[RedisNode]:
        return [node for node in self.nodes if node.running]

    def node_at(self, address: str) -> RedisNode:
        return next(node for node in self.nodes if node.address == address)

    def keyslot(self, key: str) -> int:
        with self._client(self.running()[0]) as client:
            return int(client.execute_command("CLUSTER", "KEYSLOT", key))

    def states(self) -> list[ClusterNodeState]:
        """CLUSTER NODES as one running node sees it."""
        with self._client(self.running()[0]) as client:
            text = client.execute_command("CLUSTER", "NODES")
        return [_node_state(line) for line in str(text).splitlines() if line.strip()]

    def master_of(self, slot: int) -> RedisNode:
        for state in self.states():
            if state.is_master and not state.failed and any(low <= slot <= high for low, high in state.slots):
                return self.node_at(state.address)
        raise LookupError(f"no live master serves slot {slot}")

    def wait_until_ok(self) -> None:
        """Until every running node says `cluster_state:ok`, and every replica is in sync with its master."""
        self._wait(lambda: all(self._cluster_ok(node) for node in self.running()), "the cluster to be ok")
        self._wait(lambda: all(self._replica_synced(node) for node in self.running()), "the replicas to sync")

    def wait_for_new_master(self, slot: int, old: RedisNode) -> RedisNode:
        """Until a node other than `old` is the live master of `slot`, as every running node sees it."""

        def promoted() -> bool:
            try:
                return self.master_of(slot) is not old and all(self._cluster_ok(node) for node in self.running())
            except LookupError:
                return False

        self._wait(promoted, f"a replica to take over slot {slot}")
        return self.master_of(slot)

    def flush_scripts(self) -> None:
        """SCRIPT FLUSH on every running node, as a restart or a promoted replica without them leaves it."""
        for node in self.running():
            with self._client(node) as client:
                client.script_flush()

    def _replica_synced(self, node: RedisNode) -> bool:
        with self._client(node) as client:
            replication = client.info("replication")
        return replication["role"] == "master" or replication.get("master_link_status") == "up"

    def _cluster_ok(self, node: RedisNode) -> bool:
        with self._client(node) as client:
            info = str(client.execute_command("CLUSTER", "INFO"))
        return "cluster_state:ok" in info

    def _wait(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {SETTLE_TIMEOUT_S} s for {what}: {self.states()}")
            time.sleep(POLL_S)  # polling the nodes' own view: there is nothing to await

    @staticmethod
    def _client(node: RedisNode) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=node.port, decode_responses=True, socket_timeout=5)


@contextmanager
def redis_cluster(masters: int = 3, replicas_per_master: int = 1) -> Iterator[RedisClusterNodes]:
    """A started cluster, every slot served; stopped, nodes and files, when the block ends."""
    cli = shutil.which("redis-cli")
    if cli is None:
        raise RuntimeError("redis-cli is not installed: run `make redis-server`")
    with tempfile.TemporaryDirectory(prefix="redis-cluster-") as workdir, ExitStack() as stack:
        nodes = []
        for index in range(masters * (1 + replicas_per_master)):
            port = free_port()
            args = ["--port", str(port), "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
            # The cluster bus on a free port too (by default port + 10000, maybe taken, or past 65535).
            args += ["--cluster-port", str(free_port()), "--cluster-node-timeout", str(NODE_TIMEOUT_MS)]
            # A replica takes over however long ago it last heard its master (by default, not if that was
            # more than ten node timeouts ago: a test's fresh replica may not have heard it for long).
            args += ["--cluster-replica-validity-factor", "0"]
            node = RedisNode(Path(workdir) / f"node-{index}", port, args)
            node.start()
            stack.callback(node.stop)
            nodes.append(node)
        create = [cli, "--cluster", "create", *(node.address for node in nodes)]
        create += ["--cluster-replicas", str(replicas_per_master), "--cluster-yes"]
        subprocess.run(create, check=True, capture_output=True, text=True, timeout=60)
        cluster = RedisClusterNodes(nodes)
        cluster.wait_until_ok()
        yield cluster


def _node_state(line: str) -> ClusterNodeState:
    # <id> <ip:port@cport> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot> <slot> ...
    fields = line.split()
    flags = fields[2].split(",")
    slots = []
    for entry in fields[8:]:
        if entry.startswith("["):  # a slot being migrated
            continue
        low, _, high = entry.partition("-")
        slots.append((int(low), int(high or low)))
    return ClusterNodeState(
        node_id=fields[0],
        address=fields[1].split("@")[0],
        is_master="master" in flags,
        failed="fail" in flags or "fail?" in flags,
        slots=tuple(slots),
    )
