"""Item endpoints: upload (multipart), create-or-update, sync, get, list, delete,
download, logs (cursor-paged) and chunks (offset-paged)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import time
import warnings
from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.multipart import BadContentDispositionHeader, BadContentDispositionParam

from .. import views
from ..errors import ApiError, ErrorCode, invalid, not_found
from ..filters import compile_filter, matches
from ..indexer import checksum, item_id
from ..metadata import build, filterable, schema_of
from ..parsing import guess_content_type
from ..sources import bucket_path
from ..store import Database, InstanceRow, ItemCriteria, ItemRow, NewItem
from ..validation import (
    INT64_MAX,
    boolean,
    check_text,
    clean,
    enum,
    load_json,
    query_enum,
    query_int,
    query_str,
    string,
)
from ..wire import now_iso, ok
from .common import (
    load_instance,
    namespace_name,
    page_params,
    paginate,
    read_json,
    require_instance,
    state,
)

MAX_KEY = 128
BUILTIN = "builtin"
ITEM_STATUSES = ("queued", "running", "completed", "error", "skipped", "outdated")


def _require_item(
    db: Database, namespace: str, instance_id: str, item: str
) -> tuple[InstanceRow, ItemRow]:
    instance = require_instance(db, namespace, instance_id)
    row = db.get_item(instance.pk, item)
    if row is None:
        raise not_found(ErrorCode.ITEM_NOT_FOUND, f"item '{item}'")
    return instance, row


async def _load_item(request: web.Request) -> tuple[InstanceRow, ItemRow]:
    info = request.match_info
    return await state(request).store.read(
        _require_item, namespace_name(request), info["id"], info["item_id"]
    )


def _check_key(key: str, field: str) -> str:
    if not key or len(key) > MAX_KEY:
        raise invalid(field, f"file name must be 1-{MAX_KEY} characters")
    check_text(key, field)  # undecodable header bytes arrive as lone surrogates
    if (
        key.startswith("/")
        or "\\" in key
        or ".." in key.split("/")
        or any(ord(c) < 32 for c in key)
    ):
        raise invalid(field, "file name must be a relative path without '..' or control characters")
    return key


async def _read_part(part: BodyPartReader, limit: int) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk():
        data += chunk
        if len(data) > limit:
            raise ApiError(413, ErrorCode.PAYLOAD_TOO_LARGE, "request body is too large")
    return bytes(data)


_BAD_DISPOSITION = (BadContentDispositionHeader, BadContentDispositionParam)
_BAD_DISPOSITION_MESSAGE = "invalid Content-Disposition header"


def _malformed_multipart(problem: object) -> ApiError:
    return ApiError(400, ErrorCode.MALFORMED_BODY, f"malformed multipart body: {problem}")


def _disposition(part: BodyPartReader) -> tuple[str | None, str | None]:
    """The part's ``name`` and ``filename``; a malformed Content-Disposition is a 400.

    aiohttp only warns about such headers (and drops them); turned into errors
    here, with no ``await`` inside, so no other request sees the changed filter.
    """
    with warnings.catch_warnings():
        for category in _BAD_DISPOSITION:
            warnings.simplefilter("error", category)
        try:
            return part.name, part.filename
        except _BAD_DISPOSITION:
            raise _malformed_multipart(_BAD_DISPOSITION_MESSAGE) from None


def _field_text(raw: bytes, field: str) -> str:
    try:
        return check_text(raw.decode("utf-8-sig"), field)
    except UnicodeDecodeError:
        raise invalid(field, "must be UTF-8 text") from None


async def _read_upload(request: web.Request) -> tuple[str, str, bytes, dict[str, Any], bool]:
    if request.content_type != "multipart/form-data":
        raise ApiError(400, ErrorCode.MALFORMED_BODY, "uploads must be multipart/form-data")
    limit = state(request).config.max_request_bytes
    filename: str | None = None
    content_type = ""
    content = b""
    fields: dict[str, str] = {}
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue  # nested multipart: not part of this API
            name, part_filename = _disposition(part)
            if name == "file":
                filename = part_filename or ""
                content_type = check_text(part.headers.get("Content-Type", ""), "file")
                content = await _read_part(part, limit)
            elif name in ("metadata", "wait_for_completion"):
                fields[name] = _field_text(await _read_part(part, limit), name)
            else:
                await part.release()
    except _BAD_DISPOSITION:
        # Raised by aiohttp's reader itself (it peeks at the first part's
        # header) where warnings are errors, e.g. under pytest.
        raise _malformed_multipart(_BAD_DISPOSITION_MESSAGE) from None
    except (ValueError, AssertionError, RuntimeError, HttpProcessingError) as exc:
        # aiohttp's multipart reader signals malformed framing with these
        # (HttpProcessingError: part headers too long or unparsable).
        message = exc.message if isinstance(exc, HttpProcessingError) else exc
        raise _malformed_multipart(message) from None
    if filename is None:
        raise invalid("file", "is required (a file part with a filename)")
    key = _check_key(filename, "file")
    max_file = state(request).config.max_file_bytes
    if len(content) > max_file:
        raise invalid("file", f"must be at most {max_file} bytes")
    metadata: dict[str, Any] = {}
    if fields.get("metadata", "").strip():
        metadata = load_json(fields["metadata"], "metadata")
        if not isinstance(metadata, dict):
            raise invalid("metadata", "must be a JSON object encoded as a string")
    wait_raw = fields.get("wait_for_completion", "false").strip().lower()
    if wait_raw not in ("true", "false"):
        raise invalid("wait_for_completion", "must be 'true' or 'false'")
    return key, content_type or guess_content_type(key), content, metadata, wait_raw == "true"


async def _settle(request: web.Request, pk: int, wait: bool) -> ItemRow:
    """Queue an item; with ``wait`` return once indexed (or when the wait times out)."""
    st = state(request)
    if not wait:
        # Read before queueing: the worker (a different thread) may otherwise
        # start first, and the answer must show the item as it was stored.
        row = await st.store.read(Database.get_item_by_pk, pk)
        st.indexer.enqueue(pk)
    else:
        done = st.indexer.enqueue(pk)
        # On timeout the item is answered as still running, as the service does.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(done), st.config.wait_timeout)
        row = await st.store.read(Database.get_item_by_pk, pk)
    if row is None:
        raise not_found(ErrorCode.ITEM_NOT_FOUND, "item")
    return row


async def upload(request: web.Request) -> web.Response:
    st = state(request)
    instance = await load_instance(request)
    key, content_type, content, raw, wait = await _read_upload(request)
    modified_ms = int(time.time() * 1000)
    schema = schema_of(instance.config["custom_metadata"])
    metadata, warnings = build(key, modified_ms, raw, schema)
    new = NewItem(
        id=item_id(instance.namespace, instance.id, BUILTIN, key),
        key=key,
        source_id=BUILTIN,
        checksum=checksum(content),
        modified_ms=modified_ms,
        content_type=content_type,
        content=content,
        raw_metadata=raw,
        metadata=metadata,
    )
    row = await st.indexer.upsert(instance.pk, new, "uploaded")
    row = await _settle(request, row.pk, wait)
    return ok(views.item(row, instance.namespace) | {"warnings": warnings})


_REINDEX = {"next_action": enum("INDEX"), "wait_for_completion": boolean()}


async def _from_bucket(request: web.Request, instance: InstanceRow, key: str) -> NewItem | None:
    """An R2 object that is not an item yet, read from the bucket folder."""
    root = state(request).config.r2_root
    if instance.config["type"] != "r2" or root is None:
        return None
    bucket = bucket_path(root, instance.config["source"])
    path = bucket / key
    # A symlink in the bucket folder must not expose files outside it.
    inside = await asyncio.to_thread(lambda: path.resolve().is_relative_to(bucket.resolve()))
    if not inside or not await asyncio.to_thread(path.is_file):
        return None
    content = await asyncio.to_thread(path.read_bytes)
    modified_ms = int((await asyncio.to_thread(path.stat)).st_mtime * 1000)
    source_id = f"r2:{instance.config['source']}"
    schema = schema_of(instance.config["custom_metadata"])
    return NewItem(
        id=item_id(instance.namespace, instance.id, source_id, key),
        key=key,
        source_id=source_id,
        checksum=checksum(content),
        modified_ms=modified_ms,
        content_type=guess_content_type(key),
        content=content,
        raw_metadata={},
        metadata=build(key, modified_ms, {}, schema)[0],
    )


async def create_or_update(request: web.Request) -> web.Response:
    st = state(request)
    instance = await load_instance(request)
    body = clean(
        await read_json(request),
        {**_REINDEX, "key": string(min_len=1, max_len=MAX_KEY)},
        required=("key", "next_action"),
    )
    key = _check_key(body["key"], "key")
    existing = await st.store.run(Database.find_items_by_key, instance.pk, key)
    if existing:
        # Prefer the uploaded copy when the key exists in several sources.
        target = next((i for i in existing if i.source_id == BUILTIN), existing[0])
        await st.store.run(Database.queue_item, target.pk, now_iso())
        pk = target.pk
    else:
        new = await _from_bucket(request, instance, key)
        if new is None:
            raise not_found(ErrorCode.ITEM_NOT_FOUND, f"no stored content for key '{key}'; item")
        pk = (await st.indexer.upsert(instance.pk, new, "registered")).pk
    row = await _settle(request, pk, body.get("wait_for_completion", False))
    return ok(views.item(row, instance.namespace))


async def sync(request: web.Request) -> web.Response:
    st = state(request)
    instance, item = await _load_item(request)
    body = clean(await read_json(request), _REINDEX, required=("next_action",))
    await st.store.run(Database.queue_item, item.pk, now_iso())
    row = await _settle(request, item.pk, body.get("wait_for_completion", False))
    return ok(views.item(row, instance.namespace))


async def get(request: web.Request) -> web.Response:
    instance, item = await _load_item(request)
    return ok(views.item(item, instance.namespace))


async def delete(request: web.Request) -> web.Response:
    st = state(request)
    _, item = await _load_item(request)
    await st.store.run(Database.delete_item, item)
    return ok({"key": item.key})


async def download(request: web.Request) -> web.Response:
    st = state(request)
    _, item = await _load_item(request)
    content = await st.store.read(Database.item_content, item.pk)
    if content is None:
        raise not_found(ErrorCode.ITEM_NOT_FOUND, f"item '{item.id}'")
    filename = item.key.rsplit("/", 1)[-1]
    return web.Response(
        body=content,
        content_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
        },
    )


def _metadata_filter(request: web.Request) -> Any:
    raw = query_str(request.query, "metadata_filter", max_len=2048)
    if raw is None:
        return None
    return compile_filter(load_json(raw, "metadata_filter"), "metadata_filter")


async def list_(request: web.Request) -> web.Response:
    st = state(request)
    page, per_page = page_params(request, min_per_page=0)
    wanted_id = query_str(request.query, "item_id", max_len=64)
    key = query_str(request.query, "key")
    source = query_str(request.query, "source", max_len=512)
    status = query_enum(request.query, "status", ITEM_STATUSES)
    search = (query_str(request.query, "search") or "").lower()
    sort_by = query_enum(request.query, "sort_by", ("status", "modified_at")) or "status"
    compiled = _metadata_filter(request)
    instance = await load_instance(request)
    criteria = ItemCriteria(wanted_id, key, source, status, search)
    if compiled is None:
        # Filtering, sorting and paging all happen in SQL.
        selected, total = await st.store.read(
            Database.query_items, instance.pk, criteria, sort_by, ((page - 1) * per_page, per_page)
        )
        info = {"page": page, "per_page": per_page, "count": len(selected), "total_count": total}
    else:
        # Metadata filters follow Python typing rules; SQL narrows the rows first.
        rows, _ = await st.store.read(Database.query_items, instance.pk, criteria, sort_by, None)
        schema = schema_of(instance.config["custom_metadata"])
        rows = [r for r in rows if matches(compiled, filterable(r.metadata, schema))]
        selected, info = paginate(rows, page, per_page)
    return ok([views.item(r, instance.namespace) for r in selected], result_info=info)


async def chunks(request: web.Request) -> web.Response:
    st = state(request)
    limit = query_int(request.query, "limit", 20, lo=1, hi=100)
    offset = query_int(request.query, "offset", 0, lo=0)
    _, item = await _load_item(request)
    rows, total = await st.store.read(Database.list_chunks, item.pk, offset, limit)
    info = {"count": len(rows), "limit": limit, "offset": offset, "total": total}
    return ok([views.item_chunk(r, item) for r in rows], result_info=info)


def _decode_cursor(raw: str | None) -> int:
    if raw is None:
        return 0
    try:
        after = int(base64.urlsafe_b64decode(raw.encode() + b"==").decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        after = -1
    if not 0 <= after <= INT64_MAX:  # SQLite could not even compare with it
        raise invalid("cursor", "is not a cursor returned by this endpoint")
    return after


async def logs(request: web.Request) -> web.Response:
    st = state(request)
    limit = query_int(request.query, "limit", 50, lo=1, hi=100)
    after = _decode_cursor(query_str(request.query, "cursor"))
    _, item = await _load_item(request)
    # One extra row tells whether another page exists.
    rows = await st.store.read(Database.list_item_logs, item.pk, after, limit + 1)
    truncated = len(rows) > limit
    rows = rows[:limit]
    cursor = None
    if truncated:
        cursor = base64.urlsafe_b64encode(str(rows[-1]["pk"]).encode()).decode().rstrip("=")
    info = {"count": len(rows), "per_page": limit, "cursor": cursor, "truncated": truncated}
    return ok([views.item_log(r) for r in rows], result_info=info)
