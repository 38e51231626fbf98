"""GET /gateway/ui: the operators' live page, and its files at /gateway/ui/<file> (ui_static/: hand-written,
no framework, nothing fetched from elsewhere, so the page works offline).

The page and its files hold no data, so they are served without a key. The page asks the operator for an
admin key, keeps it in the tab's sessionStorage and sends it in the `Authorization` header of every data call
(/gateway/feed, /gateway/deployments, /gateway/stats), which check it: a key never goes in a URL. The
Content-Security-Policy allows scripts, styles and connections to this gateway only, and no inline script,
so even a routing-log line crafted to look like markup cannot run anything on the page.

Each file is read once, at import; an ETag lets a browser revalidate its copy for a 304 instead of the bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import NotFound
from gateway.reply.headers import error_response, gateway_headers

_STATIC = files("gateway.admin").joinpath("ui_static")
CONTENT_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "ui.js": "text/javascript; charset=utf-8",
    "ui.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
PAGE = "index.html"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    # The key form is submitted by the script only: a form sent without it could put the key in a URL.
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    # Served again after an upgrade: the browser checks its copy (ETag) before every use.
    "cache-control": "no-cache",
}


@dataclass(frozen=True, slots=True)
class _File:
    body: bytes
    content_type: str
    etag: str


def _read(name: str, content_type: str) -> _File:
    body = _STATIC.joinpath(name).read_bytes()
    return _File(body, content_type, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


_FILES = {name: _read(name, content_type) for name, content_type in CONTENT_TYPES.items()}


async def page(request: Request) -> Response:
    return _serve(request, _FILES[PAGE])


async def asset(request: Request) -> Response:
    found = _FILES.get(request.path_params["name"])
    if found is None:
        error = NotFound(f"The operators' page has no file {request.path_params['name']!r}.")
        return error_response(error, gateway_headers(request.state.request_id))
    return _serve(request, found)


def _serve(request: Request, file: _File) -> Response:
    headers = {**gateway_headers(request.state.request_id), **_SECURITY_HEADERS, "etag": file.etag}
    if file.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(file.body, media_type=file.content_type, headers=headers)
