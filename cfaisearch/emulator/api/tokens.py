"""AI Search token endpoints; the stored secret (``cf_api_key``) is never returned."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from .. import views
from ..errors import ErrorCode, conflict, not_found
from ..store import Database, TokenRow
from ..validation import Checker, boolean, clean, query_str, string
from ..wire import now_iso, ok
from .common import page_params, paginate, read_json, state

_BODY: dict[str, Checker] = {
    "cf_api_id": string(min_len=1, max_len=256),
    "cf_api_key": string(min_len=1, max_len=1024),
    "name": string(min_len=1, max_len=256),
    "legacy": boolean(),
}
_REQUIRED = ("cf_api_id", "cf_api_key", "name")


def _require(db: Database, token_id: str) -> TokenRow:
    token = db.get_token(token_id)
    if token is None:
        raise not_found(ErrorCode.TOKEN_NOT_FOUND, f"token '{token_id}'")
    return token


def _check_unique(db: Database, fields: dict[str, Any], own_id: str | None) -> None:
    for other in db.list_tokens():
        if other.id == own_id:
            continue
        if other.name == fields["name"] or other.cf_api_id == fields["cf_api_id"]:
            raise conflict(
                ErrorCode.ALREADY_EXISTS,
                "a token with this name or cf_api_id is already registered",
            )


def _insert(db: Database, fields: dict[str, Any]) -> TokenRow:
    _check_unique(db, fields, None)
    now = now_iso()
    token = TokenRow(
        id=str(uuid.uuid4()),
        cf_api_id=fields["cf_api_id"],
        cf_api_key=fields["cf_api_key"],
        name=fields["name"],
        legacy=fields.get("legacy", False),
        enabled=True,
        created_at=now,
        modified_at=now,
    )
    db.save_token(token)
    return token


async def create(request: web.Request) -> web.Response:
    fields = clean(await read_json(request), _BODY, required=_REQUIRED)
    token = await state(request).store.run(_insert, fields)
    return ok(views.token(token), status=201)


def _replace(db: Database, token_id: str, fields: dict[str, Any]) -> TokenRow:
    token = _require(db, token_id)
    _check_unique(db, fields, token_id)
    token.cf_api_id = fields["cf_api_id"]
    token.cf_api_key = fields["cf_api_key"]
    token.name = fields["name"]
    token.legacy = fields.get("legacy", token.legacy)
    token.modified_at = now_iso()
    db.save_token(token)
    return token


async def update(request: web.Request) -> web.Response:
    fields = clean(await read_json(request), _BODY, required=_REQUIRED)
    token = await state(request).store.run(_replace, request.match_info["id"], fields)
    return ok(views.token(token))


async def read(request: web.Request) -> web.Response:
    token = await state(request).store.read(_require, request.match_info["id"])
    return ok(views.token(token))


def _delete(db: Database, token_id: str) -> None:
    _require(db, token_id)
    users = [i.id for i in db.list_instances() if i.config.get("token_id") == token_id]
    if users:
        raise conflict(
            ErrorCode.TOKEN_IN_USE, f"token is used by instance(s) {', '.join(sorted(users))}"
        )
    db.delete_token(token_id)


async def delete(request: web.Request) -> web.Response:
    token_id = request.match_info["id"]
    await state(request).store.run(_delete, token_id)
    return ok({"id": token_id})


async def list_(request: web.Request) -> web.Response:
    page, per_page = page_params(request, max_per_page=100)
    search = (query_str(request.query, "search") or "").lower()
    rows = await state(request).store.read(Database.list_tokens)
    if search:
        rows = [r for r in rows if search in r.name.lower()]
    selected, info = paginate(rows, page, per_page)
    return ok([views.token(r) for r in selected], result_info=info)
