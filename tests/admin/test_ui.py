"""GET /gateway/ui and its files: served without a key (they hold no data), with a strict CSP, from the
package's own files (nothing from elsewhere). The page in a real browser: tests/e2e/test_ui_browser.py."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gateway.admin import ui
from tests.admin._app import (
    AUTH,
    CONFIG,
    assert_gateway_headers,
    assert_openai_error,
    config_from,
    started,
    with_admin_key,
)

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "gateway" / "admin" / "ui_static"
ASSETS = {
    "ui.js": "text/javascript; charset=utf-8",
    "ui.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
    "index.html": "text/html; charset=utf-8",
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with started(*with_admin_key(config_from(tmp_path, CONFIG))) as client:
        yield client


def csp_directives(header: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


def test_the_page_is_served_without_a_key(client: TestClient) -> None:
    response = client.get("/gateway/ui")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.content == (STATIC / "index.html").read_bytes()
    assert_gateway_headers(response)


def test_the_page_allows_only_this_gateways_scripts_and_no_inline_script(client: TestClient) -> None:
    headers = client.get("/gateway/ui").headers
    directives = csp_directives(headers["content-security-policy"])
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"] and directives["connect-src"] == ["'self'"]
    assert directives["form-action"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in value or "*" in value for values in directives.values() for value in values)
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def test_the_page_has_no_inline_script_or_style_that_the_policy_would_block() -> None:
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", page, re.S)
    assert scripts == [""]  # one script, by src, with nothing inline
    assert not re.search(r"\son[a-z]+=", page) and "style=" not in page and "<style" not in page


def test_everything_the_page_loads_is_served_by_the_gateway(client: TestClient) -> None:
    """No CDN: each src and href of the page is one of its own files, served here (the page works offline)."""
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    references = set(re.findall(r'(?:src|href)="([^"]+)"', page))
    assert references == {"ui/ui.js", "ui/ui.css", "ui/icon.svg"}
    for reference in references:
        assert client.get(f"/gateway/{reference}").status_code == 200
    script = (STATIC / "ui.js").read_text(encoding="utf-8")
    assert "http://" not in script.replace("http://www.w3.org/2000/svg", "") and "https://" not in script


@pytest.mark.parametrize(("name", "content_type"), ASSETS.items())
def test_each_file_has_its_type_and_a_cache_header(client: TestClient, name: str, content_type: str) -> None:
    response = client.get(f"/gateway/ui/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.content == (STATIC / name).read_bytes()
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers["etag"])


def test_a_browsers_copy_is_revalidated_with_its_etag(client: TestClient) -> None:
    etag = client.get("/gateway/ui/ui.js").headers["etag"]
    unchanged = client.get("/gateway/ui/ui.js", headers={"if-none-match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    other = client.get("/gateway/ui/ui.js", headers={"if-none-match": '"something-else"'})
    assert other.status_code == 200 and other.content


@pytest.mark.parametrize("path", ["/gateway/ui/nothing.js", "/gateway/ui/..%2Fui.py", "/gateway/ui/ui_static"])
def test_an_unknown_file_is_an_openai_shaped_404(client: TestClient, path: str) -> None:
    assert_openai_error(client.get(path), 404, "not_found")


def test_a_file_is_never_read_from_outside_the_page_files(client: TestClient) -> None:
    for path in ("/gateway/ui/../stats", "/gateway/ui/%2e%2e/feed.py", "/gateway/ui/sub/ui.js"):
        response = client.get(path)
        assert response.status_code in (401, 404)  # an admin endpoint's refusal or no such file
        assert b"import" not in response.content


def test_the_page_holds_no_data_and_no_key(client: TestClient) -> None:
    """Served to anyone, so it must not carry what the data calls guard."""
    for name in ASSETS:
        body = client.get(f"/gateway/ui/{name}", headers=AUTH).content
        assert b"admin-key-one" not in body and b"test-key-one" not in body


def test_only_get(client: TestClient) -> None:
    assert_openai_error(client.post("/gateway/ui"), 405, None)
    assert_openai_error(client.post("/gateway/ui/ui.js"), 405, None)


def test_every_page_file_is_served_and_installed_with_the_package() -> None:
    """The files are read from the installed package: pyproject's package-data must take each of them."""
    on_disk = {path.name for path in STATIC.iterdir()}
    assert on_disk == set(ASSETS) == set(ui.CONTENT_TYPES)
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"
    ]["gateway"]
    for name in on_disk:
        assert any(fnmatch(f"admin/ui_static/{name}", pattern) for pattern in package_data), name
