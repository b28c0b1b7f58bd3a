"""Helpers shared by handlers: state access, body reading, lookups, pagination."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from aiohttp import web

from .. import instance_config
from ..errors import ApiError, ErrorCode, not_found
from ..state import STATE, EmulatorState
from ..store import DEFAULT_NAMESPACE, Database, InstanceRow, NamespaceRow
from ..validation import decode_utf8, load_json, query_int

T = TypeVar("T")


def state(request: web.Request) -> EmulatorState:
    return request.app[STATE]


def namespace_name(request: web.Request) -> str:
    # Un-namespaced (deprecated) paths act on the default namespace.
    return request.match_info.get("name", DEFAULT_NAMESPACE)


async def read_json(request: web.Request, *, allow_empty: bool = False) -> dict[str, Any]:
    raw = await request.read()  # aiohttp enforces client_max_size (413)
    return json_body(raw, allow_empty=allow_empty)


def json_body(raw: bytes, *, allow_empty: bool = False) -> dict[str, Any]:
    """A request body as a JSON object, or the 400 that ``read_json`` answers."""
    if not raw.strip():
        if allow_empty:
            return {}
        raise ApiError(400, ErrorCode.MALFORMED_BODY, "request body must be a JSON object")
    value = load_json(decode_utf8(raw, "request body"), "")
    if not isinstance(value, dict):
        raise ApiError(400, ErrorCode.MALFORMED_BODY, "request body must be a JSON object")
    return value


def require_namespace(db: Database, name: str) -> NamespaceRow:
    ns = db.get_namespace(name)
    if ns is None:
        raise not_found(ErrorCode.NAMESPACE_NOT_FOUND, f"namespace '{name}'")
    return ns


def require_instance(db: Database, namespace: str, instance_id: str) -> InstanceRow:
    require_namespace(db, namespace)
    row = db.get_instance(namespace, instance_id)
    if row is None:
        raise not_found(ErrorCode.INSTANCE_NOT_FOUND, f"instance '{instance_id}'")
    return row


async def load_instance(request: web.Request) -> InstanceRow:
    ns, instance_id = namespace_name(request), request.match_info["id"]
    return await state(request).store.read(require_instance, ns, instance_id)


def render_instance(row: InstanceRow, busy: set[int], *, listed: bool = False) -> dict[str, Any]:
    """``Instance`` (or ``InstanceListItem``) of a row; ``busy`` from ``busy_instances``."""
    return instance_config.view(
        row.id,
        row.namespace,
        row.config,
        created_at=row.created_at,
        modified_at=row.modified_at,
        last_activity=row.last_activity,
        status="indexing" if row.pk in busy else "active",
        listed=listed,
    )


def instance_view(db: Database, row: InstanceRow) -> dict[str, Any]:
    """One instance as the API shows it (its busy check is two indexed lookups)."""
    return render_instance(row, {row.pk} if db.is_busy(row.pk) else set())


def page_params(
    request: web.Request, *, min_per_page: int = 1, max_per_page: int = 50, default: int = 20
) -> tuple[int, int]:
    page = query_int(request.query, "page", 1, lo=1)
    per_page = query_int(request.query, "per_page", default, lo=min_per_page, hi=max_per_page)
    return page, per_page


def paginate(rows: Sequence[T], page: int, per_page: int) -> tuple[list[T], dict[str, int]]:
    """One page of ``rows``; pages past the end are empty, never an error."""
    start = (page - 1) * per_page
    selected = list(rows[start : start + per_page]) if per_page else []
    info = {"page": page, "per_page": per_page, "count": len(selected), "total_count": len(rows)}
    return selected, info
