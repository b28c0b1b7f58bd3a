"""Instance endpoints: create, read, update, delete, list, stats (top-level and namespaced)."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

from aiohttp import web

from .. import instance_config
from ..errors import ErrorCode, conflict, invalid
from ..sources import bucket_path
from ..store import DEFAULT_NAMESPACE, Database, InstanceRow
from ..validation import query_enum, query_str
from ..wire import now_iso, ok
from .common import (
    instance_view,
    load_instance,
    namespace_name,
    page_params,
    paginate,
    read_json,
    render_instance,
    require_instance,
    require_namespace,
    state,
)

STATUSES = ("queued", "running", "completed", "error", "skipped", "outdated")


async def _bucket_exists(request: web.Request, bucket: str) -> bool:
    root = state(request).config.r2_root
    if root is None or not instance_config.BUCKET_NAME.fullmatch(bucket):
        return False
    return await asyncio.to_thread(bucket_path(root, bucket).is_dir)


async def _check_source(request: web.Request, config: dict[str, Any]) -> None:
    """Infer ``type`` from ``source`` like the service does, and check the source exists."""
    source = config["source"]
    if source is not None and not source.strip():
        source = None
    kind = config["type"]
    if kind is None and source is not None:
        if source.startswith(("http://", "https://")):
            kind = "web-crawler"
        elif await _bucket_exists(request, source):
            kind = "r2"
        else:
            raise invalid("source", "is neither an http(s) URL nor an R2 bucket of --r2-root")
    if kind is not None and source is None:
        raise invalid("source", f"is required for type '{kind}'")
    if kind == "r2":
        assert source is not None
        if state(request).config.r2_root is None:
            raise invalid("source", "R2 sources need the emulator to run with --r2-root")
        if not await _bucket_exists(request, source):
            raise invalid("source", f"R2 bucket '{source}' does not exist under --r2-root")
        if not config["token_id"]:
            raise invalid("token_id", "is required for R2 sources (register one with POST /tokens)")
    config["type"], config["source"] = kind, source


def _check_common(namespace: str, config: dict[str, Any]) -> None:
    if config["metadata"].get("search_for_agents") and namespace != DEFAULT_NAMESPACE:
        raise invalid("metadata.search_for_agents", "is only allowed in the default namespace")
    if config["public_endpoint_params"].get("enabled") and not config["public_endpoint_id"]:
        # Generated on first enable and never rotated.
        config["public_endpoint_id"] = secrets.token_hex(16)


def _check_token(db: Database, config: dict[str, Any]) -> None:
    if config["token_id"] and db.get_token(config["token_id"]) is None:
        raise invalid("token_id", f"token '{config['token_id']}' is not registered")


def _insert(db: Database, namespace: str, instance_id: str, config: dict[str, Any]) -> InstanceRow:
    require_namespace(db, namespace)
    if db.get_instance(namespace, instance_id) is not None:
        raise conflict(ErrorCode.ALREADY_EXISTS, f"instance '{instance_id}' already exists")
    _check_token(db, config)
    tokenizer = (config["indexing_options"] or {}).get("keyword_tokenizer", "porter")
    row = db.insert_instance(namespace, instance_id, config, now_iso(), tokenizer)
    # The first scheduled sync is due one sync_interval after creation.
    db.set_instance_times(row.pk, last_sync=time.time())
    return row


async def create(request: web.Request) -> web.Response:
    st = state(request)
    namespace = namespace_name(request)
    body = await read_json(request)
    config = instance_config.validate_create(body)
    instance_id = config.pop("id")
    await _check_source(request, config)
    _check_common(namespace, config)
    row = await st.store.run(_insert, namespace, instance_id, config)
    if config["type"] is not None and st.config.initial_sync:
        await st.jobs.create(row, "schedule", None)
    return ok(await st.store.run(instance_view, row), status=201)


async def read(request: web.Request) -> web.Response:
    st = state(request)
    row = await load_instance(request)
    return ok(await st.store.read(instance_view, row))


def _tokenizer(config: dict[str, Any]) -> str:
    return str((config["indexing_options"] or {}).get("keyword_tokenizer", "porter"))


def _needs_reindex(old: dict[str, Any], new: dict[str, Any]) -> bool:
    if any(old[f] != new[f] for f in instance_config.REINDEX_FIELDS):
        return True
    before, after = old["indexing_options"] or {}, new["indexing_options"] or {}
    return _tokenizer(old) != _tokenizer(new) or before.get("use_ocr") != after.get("use_ocr")


def _save(
    db: Database, namespace: str, instance_id: str, config: dict[str, Any], reindex: bool
) -> tuple[InstanceRow, list[int]]:
    row = require_instance(db, namespace, instance_id)
    _check_token(db, config)
    db.update_instance(row.pk, config, now_iso())
    queued = db.reset_index(row.pk, _tokenizer(config)) if reindex else []
    fresh = db.get_instance_by_pk(row.pk)
    assert fresh is not None
    return fresh, queued


async def update(request: web.Request) -> web.Response:
    st = state(request)
    row = await load_instance(request)
    body = await read_json(request)
    config = instance_config.apply_update(row.config, body)
    if "source" in body and config["type"] is None and config["source"]:
        raise invalid("source", "cannot be added to an upload-only instance")
    if config["type"] is not None:
        await _check_source(request, config)
    _check_common(row.namespace, config)
    reindex = _needs_reindex(row.config, config)
    fresh, queued = await st.store.run(_save, row.namespace, row.id, config, reindex)
    for pk in queued:
        st.indexer.enqueue(pk)
    return ok(await st.store.run(instance_view, fresh))


def _remove(db: Database, namespace: str, instance_id: str) -> tuple[InstanceRow, dict[str, Any]]:
    row = require_instance(db, namespace, instance_id)
    view = instance_view(db, row)
    ns = db.get_namespace(namespace)
    params = ns.public_endpoint_params if ns else None
    if ns is not None and params and instance_id in (params.get("instances_allowed") or []):
        params["instances_allowed"] = [i for i in params["instances_allowed"] if i != instance_id]
        db.save_namespace(ns)
    db.delete_instance(row.pk)
    return row, view


async def delete(request: web.Request) -> web.Response:
    st = state(request)
    row, view = await st.store.run(_remove, namespace_name(request), request.match_info["id"])
    st.jobs.cancel_instance(row.pk)
    return ok(view)


def _list(
    db: Database, namespace: str | None, path_namespace: str | None
) -> tuple[list[InstanceRow], set[int]]:
    if path_namespace is not None:
        require_namespace(db, path_namespace)
        if namespace is not None and namespace != path_namespace:
            return [], set()
        namespace = path_namespace
    return db.list_instances(namespace), db.busy_instances()


async def list_(request: web.Request) -> web.Response:
    st = state(request)
    page, per_page = page_params(request, max_per_page=100)
    search = query_str(request.query, "search")
    namespace = query_str(request.query, "namespace", max_len=32)
    hostname = query_str(request.query, "hostname")
    query_enum(request.query, "order_by", ("created_at",))
    direction = query_enum(request.query, "order_by_direction", ("asc", "desc")) or "asc"
    # The top-level list spans every namespace (it has a namespace filter).
    rows, busy = await st.store.read(_list, namespace, request.match_info.get("name"))
    if search:
        rows = [r for r in rows if search.lower() in r.id.lower()]
    if hostname:
        rows = [
            r
            for r in rows
            if str(
                (r.config["metadata"].get("search_for_agents") or {}).get("hostname", "")
            ).lower()
            == hostname.lower()
        ]
    rows.sort(key=lambda r: (r.created_at, r.pk), reverse=direction == "desc")
    selected, info = paginate(rows, page, per_page)
    views = [render_instance(r, busy, listed=True) for r in selected]
    return ok(views, result_info=info)


def _stats(db: Database, namespace: str, instance_id: str, dimensions: int) -> dict[str, Any]:
    row = require_instance(db, namespace, instance_id)
    counts = db.item_status_counts(row.pk)
    usage = db.storage_usage(row.pk)
    last_job = db.last_ended_job(row.pk)
    source_errors: dict[str, Any] = {}
    if last_job is not None and (last_job.end_reason or "").startswith("failed"):
        source_errors[str(row.config["source"])] = last_job.end_reason
    return {
        **{status: counts.get(status, 0) for status in STATUSES},
        "last_activity": row.last_activity,
        "degraded": False,
        "file_embed_errors": db.item_errors(row.pk),
        "index_source_errors": source_errors,
        "engine": {
            "r2": {
                "metadataSizeBytes": usage["meta"],
                "objectCount": usage["objects"],
                "payloadSizeBytes": usage["payload"],
            },
            "vectorize": {"dimensions": dimensions, "vectorsCount": usage["vectors"]},
        },
    }


async def stats(request: web.Request) -> web.Response:
    st = state(request)
    result = await st.store.read(
        _stats, namespace_name(request), request.match_info["id"], st.retriever.scorer.dimensions
    )
    return ok(result)
