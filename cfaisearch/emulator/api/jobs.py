"""Sync job endpoints: create, list, get, logs and (namespaced only) cancel."""

from __future__ import annotations

from aiohttp import web

from .. import views
from ..errors import ErrorCode, not_found
from ..store import Database, JobRow
from ..validation import INT64_MAX, clean, enum, string
from ..wire import ok
from .common import (
    load_instance,
    namespace_name,
    page_params,
    paginate,
    read_json,
    require_instance,
    state,
)


def _require_job(db: Database, namespace: str, instance_id: str, job_id: str) -> JobRow:
    instance = require_instance(db, namespace, instance_id)
    job = db.get_job(instance.pk, job_id)
    if job is None:
        raise not_found(ErrorCode.JOB_NOT_FOUND, f"job '{job_id}'")
    return job


async def _load_job(request: web.Request) -> JobRow:
    info = request.match_info
    return await state(request).store.read(
        _require_job, namespace_name(request), info["id"], info["job_id"]
    )


async def create(request: web.Request) -> web.Response:
    st = state(request)
    instance = await load_instance(request)
    # The SDK sends {} when no description is given; an empty body is fine too.
    body = clean(await read_json(request, allow_empty=True), {"description": string(max_len=1024)})
    job = await st.jobs.create(instance, "user", body.get("description"))
    return ok(views.job(job))


async def list_(request: web.Request) -> web.Response:
    st = state(request)
    page, per_page = page_params(request, min_per_page=0)
    instance = await load_instance(request)
    rows = await st.store.read(Database.list_jobs, instance.pk)
    selected, info = paginate(rows, page, per_page)
    return ok([views.job(j) for j in selected], result_info=info)


async def get(request: web.Request) -> web.Response:
    return ok(views.job(await _load_job(request)))


async def cancel(request: web.Request) -> web.Response:
    st = state(request)
    job = await _load_job(request)
    clean(await read_json(request), {"action": enum("cancel")}, required=("action",))
    return ok(views.job(await st.jobs.cancel(job)))


async def logs(request: web.Request) -> web.Response:
    st = state(request)
    page, per_page = page_params(request, min_per_page=0, max_per_page=100)
    job = await _load_job(request)
    # Far past the end either way; SQLite refuses offsets beyond 64 bits.
    offset = min((page - 1) * per_page, INT64_MAX)
    rows, total = await st.store.read(Database.list_job_logs, job.pk, offset, per_page)
    info = {"page": page, "per_page": per_page, "count": len(rows), "total_count": total}
    return ok([views.job_log(r) for r in rows], result_info=info)
