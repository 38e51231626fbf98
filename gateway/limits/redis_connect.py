"""Where the gateway's Redis is and how to reach it, read from `rate_limits` (no Redis client imported here).

The URL's scheme says what kind of Redis it is; an `s` after `redis` means TLS:

    redis://[user:password@]host:port[/db]                    one server (or a managed cache's endpoint)
    rediss://...                                              one server, over TLS
    redis+cluster://[user:password@]host:port[,host:port]     Redis Cluster: some of its nodes, to find the rest
    rediss+cluster://...                                      Redis Cluster, over TLS
    redis+sentinel://host:port[,host:port]/service[/db]       the master that these Sentinels name `service`
    rediss+sentinel://...                                     that master over TLS (and the Sentinels too)

Credentials (ACL username and password) come from the environment variables `redis_username_env` and
`redis_password_env` name (REDIS_USERNAME, REDIS_PASSWORD), so no secret need sit in the config; a password
in the URL still works, and the environment wins when both are set. `redis_ca_file` is the CA bundle
that checks the server's certificate (TLS only; unset: the system's CAs). A Sentinel URL's credentials are
the master's; the Sentinels themselves are asked without any.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from gateway.settings.schema import RateLimitSettings

RedisKind = Literal["server", "cluster", "sentinel"]

_SCHEMES: dict[str, tuple[RedisKind, bool]] = {
    "redis": ("server", False),
    "rediss": ("server", True),
    "unix": ("server", False),
    "redis+cluster": ("cluster", False),
    "rediss+cluster": ("cluster", True),
    "redis+sentinel": ("sentinel", False),
    "rediss+sentinel": ("sentinel", True),
}
SUPPORTED_SCHEMES = tuple(f"{scheme}://" for scheme in _SCHEMES)
DEFAULT_PORT = {"server": 6379, "cluster": 6379, "sentinel": 26379}


@dataclass(frozen=True)
class RedisTarget:
    """One Redis deployment: its kind, its nodes, and the credentials and CA to reach it."""

    url: str
    kind: RedisKind
    tls: bool
    nodes: tuple[tuple[str, int], ...]
    db: int = 0
    service: str | None = None  # Sentinel: the master's name
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None

    @property
    def shown(self) -> str:
        """The URL as it may be logged: any password replaced by `***`."""
        return without_password(self.url)

    @property
    def server_url(self) -> str:
        """A kind "server" target's URL for redis-py, with the credentials taken out (they are passed apart)."""
        parts = urlsplit(self.url)
        host = parts.netloc.rpartition("@")[2]
        return parts._replace(netloc=host).geturl()


def parse_redis_url(
    url: str, *, username: str | None = None, password: str | None = None, ca_file: str | None = None
) -> RedisTarget:
    """The target `url` names; `username` and `password`, when given, win over the URL's.

    Raises ValueError, with a message that never holds the password, for a URL the gateway cannot use.
    """
    shown = without_password(url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ValueError(f"redis_url {shown!r}: the scheme must be one of {', '.join(SUPPORTED_SCHEMES)}")
    kind, tls = _SCHEMES[scheme]
    if ca_file is not None and not tls:
        raise ValueError(f"redis_ca_file is set but redis_url {shown!r} is not TLS: use rediss:// (or rediss+...)")
    userinfo, _, hosts = parts.netloc.rpartition("@")
    url_username, _, url_password = userinfo.partition(":")
    path = [segment for segment in parts.path.split("/") if segment]
    service = None
    if kind == "sentinel":
        if not path:
            raise ValueError(f"redis_url {shown!r}: a Sentinel URL ends with the master's name: /<service>[/<db>]")
        service, path = unquote(path[0]), path[1:]
    db = _db(path, shown) if scheme != "unix" else 0
    nodes = () if scheme == "unix" else _nodes(hosts, DEFAULT_PORT[kind], shown)
    if kind == "server" and len(nodes) > 1:
        raise ValueError(f"redis_url {shown!r}: one server has one address; several nodes are redis+cluster://")
    if kind == "cluster" and db != 0:
        raise ValueError(f"redis_url {shown!r}: Redis Cluster has database 0 only")
    return RedisTarget(
        url=url,
        kind=kind,
        tls=tls,
        nodes=nodes,
        db=db,
        service=service,
        username=username or unquote(url_username) or None,
        password=password or unquote(url_password) or None,
        ca_file=ca_file,
    )


def redis_target(settings: RateLimitSettings, environ: Mapping[str, str] = os.environ) -> RedisTarget | None:
    """The Redis that `rate_limits` configures, credentials read from `environ`; None without a redis_url."""
    if not settings.redis_url:
        return None
    return parse_redis_url(
        settings.redis_url,
        username=environ.get(settings.redis_username_env) or None,
        password=environ.get(settings.redis_password_env) or None,
        ca_file=settings.redis_ca_file,
    )


def redis_secrets(settings: RateLimitSettings, environ: Mapping[str, str] = os.environ) -> list[str]:
    """The Redis password(s) the gateway holds, for the log redactor: the environment's and the URL's."""
    if not settings.redis_url:
        return []
    values = [environ.get(settings.redis_password_env, ""), unquote(urlsplit(settings.redis_url).password or "")]
    return [value for value in values if value]


def without_password(url: str) -> str:
    """`url` with the password of its user part (if any) replaced by `***`; the rest as written."""
    parts = urlsplit(url)
    userinfo, at, hosts = parts.netloc.rpartition("@")
    if not at:
        return url
    username, colon, _ = userinfo.partition(":")
    return parts._replace(netloc=f"{username}{':***' if colon else ''}@{hosts}").geturl()


def _nodes(hosts: str, default_port: int, shown: str) -> tuple[tuple[str, int], ...]:
    nodes = []
    for entry in hosts.split(","):
        if not entry:
            raise ValueError(f"redis_url {shown!r}: an empty host")
        if entry.startswith("["):  # an IPv6 literal: [::1]:6379
            host, _, rest = entry[1:].partition("]")
            port_text = rest.removeprefix(":")
        else:
            host, _, port_text = entry.partition(":")
        try:
            port = int(port_text) if port_text else default_port
        except ValueError:
            raise ValueError(f"redis_url {shown!r}: {port_text!r} is not a port") from None
        if not host or not 0 < port < 65536:
            raise ValueError(f"redis_url {shown!r}: {entry!r} is not host:port")
        nodes.append((host, port))
    return tuple(nodes)


def _db(path: list[str], shown: str) -> int:
    if not path:
        return 0
    if len(path) > 1 or not path[0].isdigit():
        raise ValueError(f"redis_url {shown!r}: the path must be a database number, as /0")
    return int(path[0])
