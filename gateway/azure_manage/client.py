"""Azure's management API (ARM) over httpx: an account, and its deployments page by page.

Every failure is a `ManagementError` whose message says what to fix (log in again, grant a role, check the
names), and never holds the bearer token.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

DEFAULT_MANAGEMENT_URL = "https://management.azure.com"
API_VERSION = "2023-05-01"
MANAGEMENT_SCOPE = "https://management.azure.com/.default"
# ARM throttles per identity and region; a few waits ride out a burst, more would hide a stuck loop.
MAX_TRIES = 5
# A retry-after longer than this is not waited for: the operator is told to try again later.
MAX_WAIT_SECONDS = 60.0
# Azure's messages are a sentence or two; anything longer is cut, so an HTML page cannot flood the terminal.
_MESSAGE_CHARS = 300

# Shorter "tokens" are test placeholders: masking them would mangle every word that holds them.
_MASKABLE_CHARS = 8

TokenSource = Callable[[], str]


class ManagementError(Exception):
    """Azure could not be asked, or refused: the message says why, and what the operator can do about it."""


@dataclass(frozen=True, slots=True)
class AccountRef:
    """One Azure OpenAI (Cognitive Services) account, as ARM names it."""

    subscription: str
    resource_group: str
    account: str

    @property
    def path(self) -> str:
        parts = (quote(self.subscription, safe=""), quote(self.resource_group, safe=""), quote(self.account, safe=""))
        return "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.CognitiveServices/accounts/{}".format(*parts)

    def describe(self) -> str:
        return f"account {self.account} (resource group {self.resource_group}, subscription {self.subscription})"


def token_from_environment(name: str, environ: Mapping[str, str]) -> TokenSource:
    """A bearer token an operator (or a pipeline) put in `name`, e.g. from `az account get-access-token`."""

    def read() -> str:
        token = environ.get(name, "").strip()
        if not token:
            raise ManagementError(
                f"environment variable {name} is empty or unset: set it to a management token "
                "(az account get-access-token --query accessToken -o tsv), or leave out --token-env "
                "to sign in with azure-identity"
            )
        return token

    return read


def token_from_azure_identity() -> TokenSource:
    """A token from azure-identity's DefaultAzureCredential (environment, managed identity, Azure CLI...)."""

    def fetch() -> str:
        # Imported here: azure-identity is heavy, and only this command (and Entra resources) need it.
        from azure.core.exceptions import ClientAuthenticationError
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
        try:
            return str(credential.get_token(MANAGEMENT_SCOPE).token)
        except ClientAuthenticationError as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ManagementError(
                f"azure-identity found no credential for the management API ({first_line}): run `az login`, "
                "or set a token in an environment variable and name it with --token-env"
            ) from None
        finally:
            credential.close()

    return fetch


class ManagementClient:
    """Reads accounts and deployments. `sleep` is how 429's retry-after is waited for (tests record it)."""

    def __init__(
        self,
        token: TokenSource,
        base_url: str = DEFAULT_MANAGEMENT_URL,
        *,
        transport: httpx.BaseTransport | None = None,
        max_tries: int = MAX_TRIES,
        max_wait_seconds: float = MAX_WAIT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        timeout_seconds: float = 30.0,
    ) -> None:
        self._token_source = token
        self._token: str | None = None
        self._base = httpx.URL(base_url.rstrip("/"))
        self._http = httpx.Client(transport=transport, timeout=timeout_seconds, follow_redirects=False)
        self._max_tries = max_tries
        self._max_wait_seconds = max_wait_seconds
        self._sleep = sleep

    def __enter__(self) -> ManagementClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def account(self, ref: AccountRef) -> dict[str, Any]:
        """The account's own document: `properties.endpoint`, `location`, `kind`."""
        return self._get(self._url(ref.path), ref)

    def deployments(self, ref: AccountRef) -> list[dict[str, Any]]:
        """Every deployment of the account, following `nextLink` from page to page."""
        found: list[dict[str, Any]] = []
        url: httpx.URL | None = self._url(f"{ref.path}/deployments")
        while url is not None:
            page = self._get(url, ref)
            values = page.get("value")
            if not isinstance(values, list):
                raise ManagementError(f"the deployments of {ref.describe()} came without a 'value' list")
            found.extend(item for item in values if isinstance(item, dict))
            url = self._next_page(page.get("nextLink"), ref)
        return found

    def _url(self, path: str) -> httpx.URL:
        return httpx.URL(f"{self._base}{path}", params={"api-version": API_VERSION})

    def _next_page(self, link: object, ref: AccountRef) -> httpx.URL | None:
        if not link:
            return None
        url = httpx.URL(str(link))
        # The token goes with every page: a link to any other host would hand it to that host.
        if (url.scheme, url.host, url.port) != (self._base.scheme, self._base.host, self._base.port):
            raise ManagementError(
                f"the deployments of {ref.describe()} continue at another host ({url.host}); not following it"
            )
        return url

    def _bearer(self) -> str:
        if self._token is None:
            self._token = self._token_source()
        return self._token

    def _get(self, url: httpx.URL, ref: AccountRef) -> dict[str, Any]:
        for attempt in range(1, self._max_tries + 1):
            try:
                response = self._http.get(url, headers={"authorization": f"Bearer {self._bearer()}"})
            except httpx.TransportError as error:
                raise ManagementError(
                    f"cannot reach the management API at {self._base}: {type(error).__name__}: {error}"
                ) from None
            if response.status_code == 429 and attempt < self._max_tries:
                self._sleep(self._wait_before_retry(response, attempt))
                continue
            if response.status_code != 200:
                raise ManagementError(self._refusal(response, ref))
            try:
                document = response.json()
            except ValueError:
                document = None
            if not isinstance(document, dict):
                raise ManagementError(f"the management API answered {url.path} with something other than JSON")
            return document
        raise AssertionError("unreachable: the last try returns or raises")

    def _wait_before_retry(self, response: httpx.Response, attempt: int) -> float:
        try:
            wait = float(response.headers.get("retry-after", ""))
        except ValueError:
            wait = float(2**attempt)  # no usable retry-after: back off 2, 4, 8... seconds
        if wait > self._max_wait_seconds:
            raise ManagementError(
                f"the management API is throttling (429) and asks to wait {wait:.0f} s: try again later"
            )
        return max(wait, 0.0)

    def _refusal(self, response: httpx.Response, ref: AccountRef) -> str:
        said = self._azure_said(response)
        status = response.status_code
        if status == 401:
            return (
                f"the management API refused the token (401{said}): it is missing, expired or for another "
                "tenant; run `az login` again, or put a fresh token in the --token-env variable"
            )
        if status == 403:
            return (
                f"the identity may not read {ref.describe()} (403{said}): give it a role with "
                "Microsoft.CognitiveServices/accounts/deployments/read (Reader, or Cognitive Services "
                "Contributor) on the account or its resource group"
            )
        if status == 404:
            return (
                f"no {ref.describe()} (404{said}): check --subscription, --resource-group and --account "
                "(the account's name, not its endpoint)"
            )
        if status == 429:
            return f"the management API is still throttling (429{said}) after {self._max_tries} tries: try again later"
        return f"the management API answered {status}{said} for {ref.describe()}"

    def _azure_said(self, response: httpx.Response) -> str:
        """`: Code: message` from ARM's error body, cut short, with the token masked should it ever be echoed."""
        try:
            error = response.json().get("error", {})
            code, message = str(error.get("code", "")), str(error.get("message", ""))
        except (ValueError, AttributeError):
            return ""
        text = ": ".join(part for part in (code, message[:_MESSAGE_CHARS]) if part)
        if self._token and len(self._token) >= _MASKABLE_CHARS:
            text = text.replace(self._token, "***")
        return f" {text}" if text else ""
