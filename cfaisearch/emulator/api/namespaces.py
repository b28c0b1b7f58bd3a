"""Namespace endpoints: create, read, update, delete, list."""

from __future__ import annotations

import re
import secrets
from typing import Any

from aiohttp import web

from .. import views
from ..errors import ApiError, ErrorCode, conflict, invalid
from ..instance_config import PUBLIC_ENDPOINT_PARAMS
from ..store import DEFAULT_NAMESPACE, Database, NamespaceRow
from ..validation import Checker, array, clean, obj, query_str, string
from ..wire import now_iso, ok
from .common import page_params, paginate, read_json, require_namespace, state

NAMESPACE_NAME = re.compile(r"[a-z0-9_-]{1,32}")
MAX_ALLOWED_INSTANCES = 10

_PARAMS: dict[str, Checker] = {
    **PUBLIC_ENDPOINT_PARAMS,
    "instances_allowed": array(string(min_len=1), max_len=MAX_ALLOWED_INSTANCES),
}
_CREATE: dict[str, Checker] = {
    "name": string(min_len=1, max_len=32, pattern=NAMESPACE_NAME),
    "description": string(max_len=256, nullable=True),
    "public_endpoint_params": obj(_PARAMS),
}
_UPDATE: dict[str, Checker] = {
    "description": string(max_len=256, nullable=True),
    "public_endpoint_params": obj(_PARAMS, nullable=True),
}


def _check_allowed(db: Database, name: str, params: dict[str, Any] | None) -> None:
    for instance_id in (params or {}).get("instances_allowed") or []:
        if db.get_instance(name, instance_id) is None:
            raise ApiError(
                400,
                ErrorCode.INSTANCES_ALLOWED_UNKNOWN,
                f"instances_allowed_contains_unknown_instances: '{instance_id}'",
                pointer="/public_endpoint_params/instances_allowed",
            )


def _enable(ns: NamespaceRow) -> None:
    if (ns.public_endpoint_params or {}).get("enabled") and ns.public_endpoint_id is None:
        ns.public_endpoint_id = f"{secrets.token_hex(16)}"


def _insert(db: Database, fields: dict[str, Any]) -> NamespaceRow:
    name = fields["name"]
    if db.get_namespace(name) is not None:
        raise conflict(ErrorCode.ALREADY_EXISTS, f"namespace '{name}' already exists")
    params = fields.get("public_endpoint_params")
    _check_allowed(db, name, params)
    ns = NamespaceRow(name, fields.get("description"), None, params, now_iso())
    _enable(ns)
    db.save_namespace(ns)
    return ns


async def create(request: web.Request) -> web.Response:
    fields = clean(await read_json(request), _CREATE, required=("name",))
    ns = await state(request).store.run(_insert, fields)
    return ok(views.namespace(ns))


async def read(request: web.Request) -> web.Response:
    ns = await state(request).store.read(require_namespace, request.match_info["name"])
    return ok(views.namespace(ns))


def _update(db: Database, name: str, fields: dict[str, Any]) -> NamespaceRow:
    ns = require_namespace(db, name)
    if "description" in fields:
        if name == DEFAULT_NAMESPACE and fields["description"] != ns.description:
            raise invalid("description", "cannot be changed on the default namespace")
        ns.description = fields["description"]
    if "public_endpoint_params" in fields:
        # Replaced as a whole; null disables the endpoint but keeps its id.
        _check_allowed(db, name, fields["public_endpoint_params"])
        ns.public_endpoint_params = fields["public_endpoint_params"]
        _enable(ns)
    db.save_namespace(ns)
    return ns


async def update(request: web.Request) -> web.Response:
    fields = clean(await read_json(request), _UPDATE)
    ns = await state(request).store.run(_update, request.match_info["name"], fields)
    return ok(views.namespace(ns))


def _delete(db: Database, name: str) -> None:
    require_namespace(db, name)
    if name == DEFAULT_NAMESPACE:
        raise conflict(ErrorCode.NAMESPACE_NOT_DELETABLE, "the default namespace cannot be deleted")
    count = db.count_instances(name)
    if count:
        raise conflict(
            ErrorCode.NAMESPACE_NOT_DELETABLE,
            f"namespace '{name}' still has {count} instance(s); delete them first",
        )
    db.delete_namespace(name)


async def delete(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    await state(request).store.run(_delete, name)
    return ok({"name": name})


async def list_(request: web.Request) -> web.Response:
    page, per_page = page_params(request, max_per_page=100)
    search = (query_str(request.query, "search") or "").lower()
    rows = await state(request).store.read(Database.list_namespaces)
    if search:
        rows = [
            r for r in rows if search in r.name.lower() or search in (r.description or "").lower()
        ]
    selected, info = paginate(rows, page, per_page)
    return ok([views.namespace(r) for r in selected], result_info=info)
