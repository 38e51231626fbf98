"""Building the router from config: the policy, the traits, the tokenizers (from tokenizer_dir when set), the checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.pricing.cost import PriceList
from gateway.routing.conditions import Combined, CostOver
from gateway.routing.encodings import EncodingUnavailable
from gateway.routing.model_facts import ModelCatalog
from gateway.routing.policy import Question
from gateway.routing.setup import build_router, check_model_data, load_routing_policy, open_encodings, warm_tokenizers
from gateway.settings import ConfigError, GatewayConfig, load_config
from tests.routing.test_router import Case, chat, route
from tests.support.cost_policy import COST_POLICY, COSTLY_TEXT
from tests.support.gateway_config import SHIPPED_CONFIG, write_config
from tests.support.tokenizer_files import FILE_NAMES, copy_published_files

ENV = {"AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com", "AZURE_OPENAI_API_KEY": "k"}

CONFIG = """\
resources:
  azure:
    endpoint: https://res.openai.azure.com
    auth: {type: api-key, api_key_env: AZURE_OPENAI_API_KEY}
deployments:
  - {name: big, model: gpt-4.1, resource: azure}
  - {name: odd, model: gpt-odd, resource: azure, context_window: 1000}
"""
POLICY = """\
start: only
nodes:
  only:
    models: [gpt-4.1]
"""


def config(tmp_path: Path, routing: str = "") -> GatewayConfig:
    text = CONFIG + (f"routing:\n{routing}" if routing else "")
    return load_config(write_config(tmp_path, text), ENV)


def test_the_shipped_config_builds_a_router() -> None:
    shipped = load_config(SHIPPED_CONFIG, ENV)
    router = build_router(shipped)
    assert router.policy is not None and router.policy.source.endswith("routes/policy.yaml")
    assert all(router.traits.serves(deployment.model) for deployment in shipped.deployments)
    assert router.counter.offload_above_chars == shipped.routing.offload_above_chars == 32_768


def test_routing_settings_reach_the_router(tmp_path: Path) -> None:
    write_config(tmp_path, POLICY, "policy.yaml")
    router = build_router(config(tmp_path, "  policy: policy.yaml\n  offload_above_chars: 1000\n"))
    assert router.policy is not None and router.policy.source == str(tmp_path / "policy.yaml")
    assert router.policy.aliases == {"auto": "only"}
    assert router.counter.offload_above_chars == 1000
    traits = router.traits.get("gpt-odd")
    assert traits is not None and traits.context_window == 1000


def test_without_a_policy_clients_name_their_model(tmp_path: Path) -> None:
    plain = config(tmp_path)
    assert load_routing_policy(plain) is None
    assert build_router(plain).policy is None


def test_the_policy_may_name_only_served_models(tmp_path: Path) -> None:
    write_config(tmp_path, POLICY.replace("gpt-4.1", "gpt-35-turbo"), "policy.yaml")
    with pytest.raises(ConfigError) as caught:
        load_routing_policy(config(tmp_path, "  policy: policy.yaml\n"))
    assert "model 'gpt-35-turbo' has no deployment in the config" in caught.value.problem


def test_the_model_table_chooses_a_tokenizer_before_the_naming_rule(tmp_path: Path) -> None:
    table = tmp_path / "models.yaml"
    table.write_text("gpt-odd:\n  mode: chat\n  context_window: 1000\n  tokenizer: cl100k_base\n", encoding="utf-8")
    encodings = open_encodings(config(tmp_path), ModelCatalog(table))
    assert encodings.name_for_model("gpt-odd") == "cl100k_base"
    assert open_encodings(config(tmp_path), ModelCatalog()).name_for_model("gpt-odd") == "o200k_base"


def test_tokenizer_dir_is_read(tmp_path: Path) -> None:
    copied = copy_published_files(tmp_path)
    router = build_router(config(tmp_path, f"  tokenizer_dir: {tmp_path}\n"))
    assert router.counter.count("embeddings", {"input": "hello world"}, "gpt-4.1").total == 2
    copied["o200k_base"].unlink()  # read on first use: gone now, and the loaded encoding is still in use
    assert router.counter.count("embeddings", {"input": "hello world"}, "gpt-4.1").total == 2


def test_a_missing_tokenizer_dir_is_named(tmp_path: Path) -> None:
    bad = config(tmp_path, "  tokenizer_dir: no-such-dir\n")
    missing = tmp_path / "no-such-dir" / FILE_NAMES["cl100k_base"]
    with pytest.raises(EncodingUnavailable) as caught:
        build_router(bad)
    assert str(caught.value) == f"The cl100k_base tokenizer file {missing} is missing."
    with pytest.raises(EncodingUnavailable, match=FILE_NAMES["cl100k_base"]):
        open_encodings(bad, ModelCatalog())
    with pytest.raises(EncodingUnavailable, match=FILE_NAMES["cl100k_base"]):
        check_model_data(bad)


def test_a_tokenizer_dir_missing_one_file_names_that_file(tmp_path: Path) -> None:
    copy_published_files(tmp_path)["o200k_base"].unlink()
    with pytest.raises(EncodingUnavailable) as caught:
        check_model_data(config(tmp_path, f"  tokenizer_dir: {tmp_path}\n"))
    assert str(caught.value) == f"The o200k_base tokenizer file {tmp_path / FILE_NAMES['o200k_base']} is missing."


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_an_altered_tokenizer_file_fails_the_check_even_when_no_served_model_uses_it(tmp_path: Path, name: str) -> None:
    copied = copy_published_files(tmp_path)
    copied[name].write_bytes(copied[name].read_bytes() + b"\n")
    altered = config(tmp_path, f"  tokenizer_dir: {tmp_path}\n")  # serves o200k_base models only
    with pytest.raises(EncodingUnavailable, match=rf"The {name} tokenizer file .* has SHA-256 [0-9a-f]{{64}}, not"):
        check_model_data(altered)


def test_an_altered_tokenizer_file_fails_the_warm_up(tmp_path: Path) -> None:
    copied = copy_published_files(tmp_path)
    copied["o200k_base"].write_bytes(copied["o200k_base"].read_bytes() + b"\n")
    router = build_router(config(tmp_path, f"  tokenizer_dir: {tmp_path}\n"))  # files are hashed when read
    with pytest.raises(EncodingUnavailable, match="o200k_base"):
        warm_tokenizers(router)


def test_warm_tokenizers_loads_the_encodings_of_the_served_models_only(tmp_path: Path) -> None:
    router = build_router(config(tmp_path))  # gpt-4.1 and gpt-odd: o200k_base
    encodings = router.counter.encodings
    assert not encodings.is_loaded("o200k_base") and not encodings.is_loaded("cl100k_base")
    warm_tokenizers(router)
    assert encodings.is_loaded("o200k_base") and not encodings.is_loaded("cl100k_base")


def test_the_shipped_config_uses_both_encodings() -> None:
    # gpt-4 and the gpt-35-turbo family (and the policy's tokenizer_of: gpt-35-turbo) count with cl100k_base.
    encodings = build_router(load_config(SHIPPED_CONFIG, ENV)).counter.encodings
    assert encodings.in_use == {"o200k_base", "cl100k_base"}


# The issue's example (README, "Routing"): a prompt that would cost more than $0.05 on gpt-4.1 goes to
# gpt-4.1-mini when the client asks for low cost.
COST_CONFIG = """\
resources:
  azure:
    endpoint: https://res.openai.azure.com
    auth: {type: api-key, api_key_env: AZURE_OPENAI_API_KEY}
deployments:
  - {name: big, model: gpt-4.1, resource: azure}
  - {name: mini, model: gpt-4.1-mini, resource: azure}
  - {name: odd, model: gpt-odd, resource: azure, context_window: 1000}
rate_limits: {default_max_tokens: 2048}
routing: {policy: policy.yaml}
"""
LOW_COST = {"x-route-cost": "low"}


def cost_config(tmp_path: Path, policy: str = COST_POLICY) -> GatewayConfig:
    write_config(tmp_path, policy, "policy.yaml")
    return load_config(write_config(tmp_path, COST_CONFIG), ENV)


async def test_the_issue_example_sends_a_costly_prompt_of_a_low_cost_client_to_mini(tmp_path: Path) -> None:
    router = build_router(cost_config(tmp_path))
    costly = await route(router, Case("x", chat(COSTLY_TEXT), "-", headers=LOW_COST))
    assert costly.decision.model == "gpt-4.1-mini"
    step = costly.decision.path[0]
    prompt = costly.counted["o200k_base"]
    assert (step.node, step.answer) == ("costly", "yes")
    assert step.reason.startswith(
        f"cost is low (X-Route-Cost header); estimated_usd on gpt-4.1 ${prompt * 2 / 1e6:.6f}".rstrip("0")
    )
    assert f"> $0.05 ({prompt:,} prompt tokens: $" in step.reason
    assert "with up to 2,048 output tokens, the default: $" in step.reason  # rate_limits.default_max_tokens
    no_hint = await route(router, Case("x", chat(COSTLY_TEXT), "-"))
    assert no_hint.decision.model == "gpt-4.1"
    small = await route(router, Case("x", chat("What is the capital of Australia?"), "-", headers=LOW_COST))
    assert small.decision.model == "gpt-4.1" and "<= $0.05" in small.decision.path[0].reason


def test_the_router_prices_with_the_price_list_it_is_given(tmp_path: Path) -> None:
    prices = PriceList(ModelCatalog())
    router = build_router(cost_config(tmp_path), prices=prices)
    assert router.policy is not None
    question = router.policy.nodes["costly"]
    assert isinstance(question, Question)
    assert isinstance(question.condition, Combined)
    cost = question.condition.parts[1]
    assert isinstance(cost, CostOver) and cost.pricing.prices is prices
    assert cost.pricing.default_max_tokens == 2048


def test_a_cost_condition_on_a_model_without_prices_stops_loading(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_routing_policy(cost_config(tmp_path, COST_POLICY.replace("on: gpt-4.1,", "on: gpt-odd,")))
    assert caught.value.path == str(tmp_path / "policy.yaml") and caught.value.line == 5
    assert (
        caught.value.problem == "in question 'costly': on names 'gpt-odd', which has no token prices in the model table"
    )
