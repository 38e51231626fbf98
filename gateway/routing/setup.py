"""Build the router from config: the compiled policy, model traits, tokenizers. Done once, at start-up."""

from __future__ import annotations

import ctypes
from pathlib import Path

from gateway.pricing.cost import PriceList
from gateway.routing.conditions import Pricing
from gateway.routing.encodings import Encodings
from gateway.routing.model_facts import ModelCatalog
from gateway.routing.model_traits import ModelTraitsTable
from gateway.routing.policy import Policy, load_policy
from gateway.routing.router import Router
from gateway.routing.token_count import TokenCounter
from gateway.settings.schema import GatewayConfig


def load_routing_policy(config: GatewayConfig, prices: PriceList | None = None) -> Policy | None:
    """`prices`: what the policy's cost conditions price requests with; None reads the model table for them
    (checking a config, which serves nothing)."""
    served = {deployment.model for deployment in config.deployments}
    if config.routing.policy is None:
        return None
    pricing = Pricing(prices or PriceList(ModelCatalog()), config.rate_limits.default_max_tokens)
    return load_policy(config.routing.policy, served.__contains__, pricing)


def build_router(config: GatewayConfig, catalog: ModelCatalog | None = None, prices: PriceList | None = None) -> Router:
    """`prices`: the price list the gateway logs each request's cost with, so routing and the log agree."""
    catalog = catalog or ModelCatalog()
    encodings = open_encodings(config, catalog)
    traits = ModelTraitsTable.build(config.deployments, catalog)
    return Router(
        policy=load_routing_policy(config, prices or PriceList(catalog)),
        traits=traits,
        counter=TokenCounter(encodings, offload_above_chars=config.routing.offload_above_chars),
    )


def open_encodings(config: GatewayConfig, catalog: ModelCatalog) -> Encodings:
    directory = config.routing.tokenizer_dir
    return Encodings(
        Path(directory) if directory is not None else None,
        catalog.tokenizers(),
        served_models=[deployment.model for deployment in config.deployments],
    )


def check_model_data(config: GatewayConfig) -> None:
    """What start-up will read besides the config: the model table and the tokenizer files, hashes checked.

    Raises ModelDataUnavailable or EncodingUnavailable, whose messages name the file.
    """
    open_encodings(config, ModelCatalog()).verify()


def warm_tokenizers(router: Router) -> None:
    """Load the tokenizers of the served models now rather than on the first request that needs each (~0.3 s
    apiece); every model a request is counted for is a served one (policies name no other)."""
    router.counter.encodings.preload()
    _return_freed_heap()


def _return_freed_heap() -> None:
    # Loading parses each file into ~200k Python objects, freed once tiktoken has built its own table. glibc keeps
    # the freed memory for reuse unless asked to give it back (~5 MiB of idle RSS); other C libraries lack the
    # call, and nothing is lost without it.
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return
    trim(0)
