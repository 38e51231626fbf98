"""`gateway azure import` and `gateway azure check`: a config's resources and deployments from Azure's
management API, and a config compared with it.

check's exit code: 0 the config matches Azure, 1 it drifted, 2 the comparison could not be made (Azure
could not be asked, or the config could not be read).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from gateway.azure_manage.client import (
    DEFAULT_MANAGEMENT_URL,
    AccountRef,
    ManagementClient,
    ManagementError,
    TokenSource,
    token_from_azure_identity,
    token_from_environment,
)
from gateway.azure_manage.config_text import ConfigTextError, ImportedResource, render, rewrite
from gateway.azure_manage.deployments import AccountDeployments, read_deployments
from gateway.azure_manage.drift import ConfiguredDeployment, compare

NO_DRIFT, DRIFTED, NOT_COMPARED = 0, 1, 2
DEFAULT_API_KEY_ENV = "AZURE_OPENAI_API_KEY"
_NOT_IN_A_VARIABLE_NAME = re.compile(r"[^A-Z0-9_]")


def add_azure_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    azure = commands.add_parser(
        "azure",
        help="import deployments and quota from Azure's management API, or check a config against it",
        description="Read an Azure OpenAI account's deployments (model, version, quota) from Azure's management "
        "API: print them as the config's resources: and deployments: blocks (or write them into a config), or "
        "compare a config with them.",
    )
    actions = azure.add_subparsers(required=True, metavar="ACTION")

    importing = actions.add_parser(
        "import",
        help="print (or --write) the resources: and deployments: blocks for one or more accounts",
        description="Each --account becomes one resource (named after the account, or by --resource-name) with "
        "its endpoint, and its ready deployments with their model, version, tpm and rpm. "
        "Deployments not ready (still provisioning, failed) are left out and named on stderr.",
    )
    _add_account_options(importing)
    importing.add_argument(
        "--api-key-env",
        action="append",
        default=[],
        metavar="NAME",
        help=f"the variable holding the account's api-key, once per --account (default: {DEFAULT_API_KEY_ENV}, "
        f"or {DEFAULT_API_KEY_ENV}_<ACCOUNT> for several accounts)",
    )
    importing.add_argument("--entra", action="store_true", help="resources sign in with Entra ID, not an api-key")
    importing.add_argument(
        "--write",
        metavar="FILE",
        help="replace the resources: and deployments: blocks of this config file, keeping every other line",
    )
    importing.set_defaults(run=run_import)

    checking = actions.add_parser(
        "check",
        help="compare a config's deployments with Azure's; exit 0 if they match, 1 if they drifted, 2 if not asked",
        description="Compare the config's resources named after the accounts (or by --resource-name) with the "
        "accounts' deployments in Azure: a deployment missing on either side, another model or version (when the "
        "config recorded one), other tpm or rpm.",
    )
    checking.add_argument("--config", default=os.environ.get("GATEWAY_CONFIG", "config/gateway.yaml"))
    _add_account_options(checking)
    checking.set_defaults(run=run_check)


def _add_account_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--subscription", required=True, help="the subscription id")
    parser.add_argument("--resource-group", required=True)
    parser.add_argument(
        "--account", action="append", required=True, help="the Azure OpenAI account's name (repeatable: regions)"
    )
    parser.add_argument(
        "--resource-name",
        action="append",
        default=[],
        metavar="NAME",
        help="the config's name for the account's resource, once per --account (default: the account's name)",
    )
    parser.add_argument("--management-url", default=DEFAULT_MANAGEMENT_URL, help="default: %(default)s")
    parser.add_argument(
        "--token-env",
        metavar="NAME",
        help="read the management API's bearer token from this variable (default: azure-identity's "
        "DefaultAzureCredential)",
    )


def run_import(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    try:
        accounts = _named_accounts(args)
        key_envs = _api_key_envs(args, accounts)
        with _client(args, environ) as client:
            resources = [
                _imported(client, ref, name, key_env, sys.stderr)
                for (name, ref), key_env in zip(accounts.items(), key_envs, strict=True)
            ]
    except ManagementError as error:
        print(f"gateway: {error}", file=sys.stderr)
        return NOT_COMPARED
    if not args.write:
        sys.stdout.write(render(resources))
        return 0
    path = Path(args.write)
    try:
        existing = path.read_text(encoding="utf-8") if path.exists() else ""  # a new file holds the blocks alone
        _replace_file(path, rewrite(existing, resources))
    except (OSError, ConfigTextError) as error:
        print(f"gateway: {path}: not written: {error}", file=sys.stderr)
        return 1
    count = sum(len(resource.deployments) for resource in resources)
    print(f"gateway: wrote {count} deployment(s) on {len(resources)} resource(s) into {path}", file=sys.stderr)
    return 0


def run_check(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> int:
    from gateway.settings import ConfigError

    environ = os.environ if environ is None else environ
    try:
        configured = configured_deployments(Path(args.config), environ)
        accounts = _named_accounts(args)
    except (ConfigError, ManagementError) as error:
        print(f"gateway: {error}", file=sys.stderr)
        return NOT_COMPARED
    known = {item.resource for item in configured}
    for name in accounts:
        if name not in known:
            print(f"gateway: the config has no deployments on a resource named {name}", file=sys.stderr)
    try:
        with _client(args, environ) as client:
            in_azure = {name: _read(client, ref, sys.stderr).deployments for name, ref in accounts.items()}
    except ManagementError as error:
        print(f"gateway: {error}", file=sys.stderr)
        return NOT_COMPARED
    drifts = compare(configured, in_azure)
    for drift in drifts:
        print(f"drift: {drift}")
    compared = sum(len(items) for items in in_azure.values())
    if drifts:
        print(f"{args.config}: {len(drifts)} difference(s) from Azure")
        return DRIFTED
    print(f"{args.config}: matches Azure ({compared} deployment(s) on {len(in_azure)} resource(s))")
    return NO_DRIFT


def configured_deployments(path: Path, environ: Mapping[str, str]) -> list[ConfiguredDeployment]:
    """The config's deployments with their quota as enforced, and their model versions where the config has them.
    Variables the comparison does not need (endpoints, keys) may be unset."""
    from gateway.limits.budget_book import deployment_limit
    from gateway.settings import ConfigError, load_config

    try:
        config = load_config(path, environ)
    except ConfigError:
        # Most likely a variable only serving needs; placeholders stand in (a `${VAR:-default}` then reads
        # the placeholder, not its default, so the complete environment is tried first).
        lenient = _PlaceholderEnviron(environ)
        config = load_config(path, lenient)
    found: list[ConfiguredDeployment] = []
    for item in config.deployments:
        limit = deployment_limit(item)
        found.append(ConfiguredDeployment(item.resource, item.name, item.model, item.version, limit.tpm, limit.rpm))
    return found


class _PlaceholderEnviron(dict[str, str]):
    """The environment, with a placeholder for every unset variable: a drift check calls no deployment."""

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(key) or "http://unset.invalid"


def _named_accounts(args: argparse.Namespace) -> dict[str, AccountRef]:
    """The config's resource name for each --account, in the order given."""
    accounts: list[str] = args.account
    names: list[str] = args.resource_name or accounts
    if len(names) != len(accounts):
        raise ManagementError(f"give --resource-name once per --account ({len(accounts)}), or not at all")
    if len(set(names)) != len(names):
        raise ManagementError("each --account needs its own resource name; two would share one")
    return {
        name: AccountRef(args.subscription, args.resource_group, account)
        for name, account in zip(names, accounts, strict=True)
    }


def _api_key_envs(args: argparse.Namespace, accounts: Mapping[str, AccountRef]) -> list[str | None]:
    if args.entra:
        return [None] * len(accounts)
    given: list[str] = args.api_key_env
    if given:
        if len(given) != len(accounts):
            raise ManagementError(f"give --api-key-env once per --account ({len(accounts)}), or not at all")
        return list(given)
    if len(accounts) == 1:
        return [DEFAULT_API_KEY_ENV]
    # Each account has keys of its own, so each resource gets a variable of its own.
    return [
        f"{DEFAULT_API_KEY_ENV}_{_NOT_IN_A_VARIABLE_NAME.sub('_', ref.account.upper())}" for ref in accounts.values()
    ]


def _client(args: argparse.Namespace, environ: Mapping[str, str]) -> ManagementClient:
    token: TokenSource = (
        token_from_environment(args.token_env, environ) if args.token_env else token_from_azure_identity()
    )
    return ManagementClient(token, args.management_url)


def _imported(
    client: ManagementClient, ref: AccountRef, name: str, api_key_env: str | None, report: TextIO
) -> ImportedResource:
    properties = client.account(ref).get("properties")
    endpoint = properties.get("endpoint") if isinstance(properties, dict) else None
    if not isinstance(endpoint, str) or not endpoint:
        raise ManagementError(f"Azure's answer for {ref.describe()} has no properties.endpoint")
    return ImportedResource(name, endpoint, api_key_env, _read(client, ref, report).deployments)


def _read(client: ManagementClient, ref: AccountRef, report: TextIO) -> AccountDeployments:
    found = read_deployments(client.deployments(ref))
    for line in found.left_out:
        print(f"gateway: {ref.account}: left out {line}", file=report)
    for line in found.notes:
        print(f"gateway: {ref.account}: {line}", file=report)
    return found


def _replace_file(path: Path, text: str) -> None:
    """All at once: a reader (a gateway reloading) sees the old file or the new one, never half of it."""
    staged = path.with_name(f".{path.name}.importing")
    staged.write_text(text, encoding="utf-8")
    try:
        if path.exists():
            os.chmod(staged, path.stat().st_mode & 0o7777)
        os.replace(staged, path)
    except OSError:
        staged.unlink(missing_ok=True)
        raise
