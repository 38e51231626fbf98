"""redis_connect.py: the Redis URL forms (one server, TLS, Cluster, Sentinel), credentials from the environment,
and no password in any message about a URL."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.limits.redis_connect import parse_redis_url, redis_secrets, redis_target, without_password
from gateway.observe.redact import Redactor
from gateway.settings.schema import RateLimitSettings

PASSWORD = "url-password-123"


def test_one_server_plain_and_over_tls() -> None:
    plain = parse_redis_url("redis://cache.internal:6380/2")
    assert (plain.kind, plain.tls, plain.nodes, plain.db) == ("server", False, (("cache.internal", 6380),), 2)
    tls = parse_redis_url("rediss://cache.redis.cache.windows.net:6380", ca_file="/etc/ca.pem")
    assert (tls.kind, tls.tls, tls.ca_file, tls.db) == ("server", True, "/etc/ca.pem", 0)


def test_a_cluster_is_several_nodes_to_start_from() -> None:
    target = parse_redis_url("rediss+cluster://10.0.0.1:7000,10.0.0.2,[::1]:7002")
    assert (target.kind, target.tls) == ("cluster", True)
    assert target.nodes == (("10.0.0.1", 7000), ("10.0.0.2", 6379), ("::1", 7002))


def test_sentinel_names_its_master_and_defaults_to_the_sentinel_port() -> None:
    target = parse_redis_url("redis+sentinel://s1,s2:26380/gateway-master/3")
    assert (target.kind, target.service, target.db) == ("sentinel", "gateway-master", 3)
    assert target.nodes == (("s1", 26379), ("s2", 26380))


def test_credentials_from_the_environment_win_over_the_urls() -> None:
    from_url = parse_redis_url(f"redis://alice:{PASSWORD}@h:1")
    assert (from_url.username, from_url.password) == ("alice", PASSWORD)
    overridden = parse_redis_url(f"redis://alice:{PASSWORD}@h:1", username="bob", password="env-password")
    assert (overridden.username, overridden.password) == ("bob", "env-password")
    # The URL handed to redis-py carries no credentials: they go apart, so the environment's are the ones used.
    assert overridden.server_url == "redis://h:1"


def test_settings_name_the_environment_variables() -> None:
    settings = RateLimitSettings(redis_url="rediss://h:6380", redis_ca_file="/ca.pem", redis_password_env="CACHE_PW")
    target = redis_target(settings, {"REDIS_USERNAME": "gateway", "CACHE_PW": "env-password-456"})
    assert target is not None
    assert (target.username, target.password, target.ca_file) == ("gateway", "env-password-456", "/ca.pem")
    assert redis_target(RateLimitSettings(), {}) is None  # no Redis configured


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        (f"http://:{PASSWORD}@h:1", "scheme must be one of"),
        (f"redis://:{PASSWORD}@h1:1,h2:2", r"several nodes are redis\+cluster://"),
        (f"redis+cluster://:{PASSWORD}@h1:1/1", "database 0 only"),
        (f"redis+sentinel://:{PASSWORD}@h1:1", "master's name"),
        (f"redis://:{PASSWORD}@h:port", "'port' is not a port"),
        (f"redis://:{PASSWORD}@h:1/zero", "database number"),
    ],
)
def test_an_unusable_url_is_refused_without_showing_its_password(url: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint) as refused:
        parse_redis_url(url)
    assert PASSWORD not in str(refused.value)
    assert ":***@" in str(refused.value)  # the URL is shown, its password masked


def test_the_config_refuses_an_unusable_url_or_a_ca_file_without_tls() -> None:
    with pytest.raises(ValidationError, match="scheme must be one of") as refused:
        RateLimitSettings(redis_url=f"memcached://:{PASSWORD}@h:1")
    assert PASSWORD not in str(refused.value.errors()[0]["msg"])
    with pytest.raises(ValidationError, match="not TLS: use rediss://"):
        RateLimitSettings(redis_url="redis://h:1", redis_ca_file="/ca.pem")
    with pytest.raises(ValidationError, match="redis_url is not"):
        RateLimitSettings(redis_ca_file="/ca.pem")


def test_without_password_masks_only_the_password() -> None:
    assert without_password(f"rediss://alice:{PASSWORD}@h:6380/0") == "rediss://alice:***@h:6380/0"
    assert without_password("redis://alice@h:1") == "redis://alice@h:1"  # a username alone is no secret
    assert without_password("redis://h:1") == "redis://h:1"


def test_the_redis_passwords_are_known_to_the_redactor() -> None:
    settings = RateLimitSettings(redis_url=f"redis://:{PASSWORD}@h:1")
    secrets = redis_secrets(settings, {"REDIS_PASSWORD": "env-password-456"})
    redactor = Redactor(secrets)
    line = redactor.redact(f"cannot reach redis://:{PASSWORD}@h:1 with AUTH default env-password-456")
    assert PASSWORD not in line and "env-password-456" not in line
    assert redis_secrets(RateLimitSettings(), {"REDIS_PASSWORD": "env-password-456"}) == []  # no Redis, no secret
