"""The Cloudflare v4 wire format: envelopes, JSON responses and timestamps."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from .errors import ApiError, ErrorCode

JSON = dict[str, Any]


def dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def iso(ts: float) -> str:
    """RFC 3339 UTC with microseconds and a ``Z`` suffix, as Cloudflare writes it."""
    moment = dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_iso() -> str:
    return iso(time.time())


def ray_id() -> str:
    # Real rays are 16 hex digits plus a colo code; "EMU" marks the emulator.
    return f"{secrets.token_hex(8)}-EMU"


def json_response(
    body: object, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        text=dumps(body),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def envelope(result: object, result_info: JSON | None = None) -> JSON:
    body: JSON = {"success": True, "errors": [], "messages": [], "result": result}
    if result_info is not None:
        body["result_info"] = result_info
    return body


def ok(result: object, *, status: int = 200, result_info: JSON | None = None) -> web.Response:
    return json_response(envelope(result, result_info), status=status)


def encoded_response(body: bytes) -> web.Response:
    """A 200 with JSON already encoded (by a search process), headed like ``json_response``."""
    return web.Response(body=body, content_type="application/json", charset="utf-8")


def error_body(code: int, message: str, pointer: str | None = None) -> JSON:
    error: JSON = {"code": code, "message": message}
    if pointer is not None:
        error["source"] = {"pointer": pointer}
    return {"success": False, "errors": [error], "messages": [], "result": None}


def error_response(err: ApiError) -> web.Response:
    return json_response(
        error_body(int(err.code), err.message, err.pointer),
        status=err.status,
        headers=err.headers,
    )


def simple_error(status: int, code: ErrorCode, message: str) -> web.Response:
    return error_response(ApiError(status, code, message))
