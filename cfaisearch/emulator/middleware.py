"""Request pipeline: error envelopes, path and size guards, fault injection, authentication.

Order (outermost first): errors -> guards -> faults -> auth -> handler, so that
every failure, injected or not, leaves as a Cloudflare-style envelope.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re

from aiohttp import web
from aiohttp.typedefs import Handler

from .errors import ApiError, ErrorCode
from .faults import DROP_AFTER, Fault
from .state import STATE
from .validation import check_text
from .wire import error_response, simple_error

log = logging.getLogger(__name__)

# Dot segments and encoded separators, raw (before any decoding by aiohttp).
_PATH_TRICK = re.compile(r"(^|/)(\.|%2[eE]){1,2}(/|$)|%2[fF]|%5[cC]")

_EDGE_502 = """<!DOCTYPE html>
<html><head><title>502 Bad Gateway | AI Search emulator</title></head>
<body><h1>Error 502</h1><p>Bad gateway</p>
<p>The web server reported a bad gateway error (injected by the emulator).</p>
</body></html>
"""

_FAULT_CODES = {
    429: ErrorCode.RATE_LIMITED,
    502: ErrorCode.BAD_GATEWAY,
    503: ErrorCode.SERVICE_UNAVAILABLE,
}


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as err:
        return _api_error(err)
    except web.HTTPException as exc:
        return _from_http_exception(exc)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return simple_error(500, ErrorCode.INTERNAL, "internal server error")


def _api_error(err: ApiError) -> web.Response:
    response = error_response(err)
    if err.status == 413:
        # The rest of the body was never read: the connection cannot be reused.
        response.force_close()
    return response


def _from_http_exception(exc: web.HTTPException) -> web.StreamResponse:
    if exc.status == 404:
        return simple_error(404, ErrorCode.NO_ROUTE, "No route for that URI")
    if exc.status == 405:
        response = simple_error(
            405, ErrorCode.METHOD_NOT_ALLOWED, "Method not allowed for this route"
        )
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    if exc.status == 413:
        return _api_error(ApiError(413, ErrorCode.PAYLOAD_TOO_LARGE, "request body is too large"))
    if exc.status >= 400:
        return simple_error(exc.status, ErrorCode.MALFORMED_BODY, exc.reason)
    return exc


@web.middleware
async def guards_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    raw_path = request.raw_path.split("?", 1)[0]
    if _PATH_TRICK.search(raw_path):
        return simple_error(404, ErrorCode.NO_ROUTE, "No route for that URI")
    limit = request.app[STATE].config.max_request_bytes
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, ErrorCode.PAYLOAD_TOO_LARGE, f"request body exceeds {limit} bytes")
    return await handler(request)


def _check_url_text(request: web.Request) -> None:
    """Path parameters and query strings hold no NUL or lone surrogate (400 naming them)."""
    for name, value in request.match_info.items():
        check_text(value, name)
    for name, value in request.query.items():
        check_text(name, "query string")
        check_text(value, name)


@web.middleware
async def faults_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    fault, latency = request.app[STATE].faults.decide(request.method, request.path)
    if latency:
        await asyncio.sleep(latency)
    if fault is None:
        return await handler(request)
    if fault.kind == DROP_AFTER:
        # Handled in full, its changes stored; only the answer is lost. A
        # response the handler streams itself (SSE chat) is already sent by now.
        with contextlib.suppress(ApiError, web.HTTPException):
            await handler(request)
        return _drop(request, fault)
    if isinstance(fault.kind, str):
        return _drop(request, fault)
    return _error_response(fault.kind, fault.retry_after)


def _drop(request: web.Request, fault: Fault) -> web.StreamResponse:
    if request.transport is not None:
        request.transport.abort()  # no status line, no body: a dropped connection
    return web.Response(status=500, headers={"cf-emulator-fault": str(fault.kind)})


def _error_response(status: int, retry_after: int) -> web.Response:
    headers = {"cf-emulator-fault": str(status)}
    if status == 502:
        return web.Response(status=502, text=_EDGE_502, content_type="text/html", headers=headers)
    if status in (429, 503):
        headers["Retry-After"] = str(retry_after)
    code = _FAULT_CODES.get(status, ErrorCode.INTERNAL)
    message = f"injected fault: HTTP {status}"
    return error_response(ApiError(status, code, message, headers=headers))


def _authenticated(request: web.Request, token: str) -> bool | None:
    """True/False for good/bad credentials, None when none were sent."""
    headers = request.headers
    offered: list[str] = []
    authorization = headers.get("Authorization", "")
    if authorization.lower().startswith("bearer "):
        offered.append(authorization[7:].strip())
    if headers.get("X-Auth-Email") and headers.get("X-Auth-Key"):
        offered.append(headers["X-Auth-Key"])
    if headers.get("X-Auth-User-Service-Key"):
        offered.append(headers["X-Auth-User-Service-Key"])
    if not offered:
        return None
    # Header bytes that are not UTF-8 arrive as lone surrogates, which plain
    # encode() refuses; surrogatepass encodes any string, equal ones alike.
    expected = token.encode("utf-8", "surrogatepass")
    return any(hmac.compare_digest(o.encode("utf-8", "surrogatepass"), expected) for o in offered)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.match_info.http_exception is not None:
        return await handler(request)  # unknown route or method: let it answer 404/405
    state = request.app[STATE]
    verdict = _authenticated(request, state.api_token)
    if verdict is None:
        return simple_error(
            401,
            ErrorCode.AUTHENTICATION,
            "Authentication error: no credentials (send Authorization: Bearer <token>)",
        )
    if not verdict:
        return simple_error(
            401, ErrorCode.AUTHENTICATION, "Authentication error: invalid credentials"
        )
    account = request.match_info.get("account_id")
    if account is not None and account != state.config.account_id:
        return simple_error(
            404,
            ErrorCode.UNKNOWN_ACCOUNT,
            f"Could not route to /accounts/{account}, perhaps your object identifier is invalid?",
        )
    _check_url_text(request)
    return await handler(request)


MIDDLEWARES = (errors_middleware, guards_middleware, faults_middleware, auth_middleware)
