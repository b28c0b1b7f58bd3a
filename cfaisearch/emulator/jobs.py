"""Sync jobs: scan an instance's external source, index what changed, drop what vanished.

Jobs of one instance run one after another. User-triggered jobs are limited
to one per ``manual_sync_interval``; the scheduler starts ``schedule`` jobs
every ``sync_interval`` for unpaused instances. ``end_reason`` is one of
``completed``, ``cancelled``, ``failed: <why>`` or ``interrupted: <why>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid

from .config import EmulatorConfig
from .crawler import crawl
from .errors import ApiError, ErrorCode, not_found
from .indexer import Indexer, checksum, item_id
from .metadata import build, schema_of
from .sources import SourceDocument, SourceError, scan_bucket
from .store import Database, InstanceRow, JobRow, NewItem, Store
from .wire import now_iso

log = logging.getLogger(__name__)

# Job log message_type values (undocumented by the service; the emulator's choice).
INFO, WARNING, ERROR = 1, 2, 3


def _now_ms() -> int:
    return int(time.time() * 1000)


def _insert_job(
    db: Database,
    instance_pk: int,
    source: str,
    description: str | None,
    now: float,
    min_interval: float,
    job_id: str,
) -> JobRow:
    instance = db.get_instance_by_pk(instance_pk)
    if instance is None:  # deleted since the request looked it up
        raise not_found(ErrorCode.INSTANCE_NOT_FOUND, "instance")
    if source == "user":
        last = instance.last_manual_job
        if last is not None and now - last < min_interval:
            wait = max(1, math.ceil(min_interval - (now - last)))
            raise ApiError(
                429,
                ErrorCode.SYNC_RATE_LIMITED,
                f"a sync can be triggered at most every {min_interval:g} seconds;"
                f" retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )
        db.set_instance_times(instance_pk, last_manual_job=now)
    db.set_instance_times(instance_pk, last_sync=now)
    job = db.insert_job(instance_pk, job_id, source, description, now)
    db.add_job_log(job.pk, int(now * 1000), f"job queued ({source})", INFO)
    return job


def _end_job(db: Database, job_pk: int, reason: str, message: str, level: int) -> None:
    job = db.get_job_by_pk(job_pk)
    if job is None or job.ended_at is not None:
        return
    now = now_iso()
    db.update_job(job_pk, ended_at=now, last_seen_at=now, end_reason=reason)
    db.add_job_log(job_pk, _now_ms(), message, level)


def _due_instances(db: Database, now: float, override: float | None) -> list[InstanceRow]:
    busy = db.busy_instances()
    due = []
    for instance in db.list_instances():
        config = instance.config
        if config["type"] is None or config["paused"] or not config["enable"]:
            continue
        interval = override if override is not None else config["sync_interval"]
        last = instance.last_sync or 0.0
        if instance.pk not in busy and now - last >= interval:
            due.append(instance)
    return due


class JobManager:
    """Creates, runs (one at a time per instance), cancels and schedules sync jobs."""

    def __init__(self, store: Store, indexer: Indexer, config: EmulatorConfig) -> None:
        self._store = store
        self._indexer = indexer
        self._config = config
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._cancel: dict[int, asyncio.Event] = {}
        self._instance_of: dict[int, int] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._scheduler: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the scheduler and mark jobs a previous run left running as interrupted."""
        await self._store.run(
            Database.end_unfinished_jobs, now_iso(), "interrupted: emulator restarted"
        )
        if self._config.scheduler_enabled:
            self._scheduler = asyncio.create_task(self._schedule(), name="ai-search-emu-scheduler")

    async def stop(self) -> None:
        """Cancel running jobs and the scheduler."""
        tasks = [t for t in (self._scheduler, *self._tasks.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def create(self, instance: InstanceRow, source: str, description: str | None) -> JobRow:
        """Record a job for an instance and queue it to run."""
        if instance.config["type"] is None:
            raise ApiError(
                400,
                ErrorCode.NO_SYNC_SOURCE,
                "this instance has no external data source to sync; uploaded items are"
                " indexed as they arrive",
            )
        job = await self._store.run(
            _insert_job,
            instance.pk,
            source,
            description,
            time.time(),
            self._config.manual_sync_interval,
            str(uuid.uuid4()),
        )
        self._cancel[job.pk] = asyncio.Event()
        self._instance_of[job.pk] = instance.pk
        task = asyncio.create_task(
            self._run(job.pk, instance.pk), name=f"ai-search-emu-job-{job.id}"
        )
        self._tasks[job.pk] = task
        task.add_done_callback(lambda _: self._forget(job.pk))
        return job

    def _forget(self, job_pk: int) -> None:
        self._tasks.pop(job_pk, None)
        self._cancel.pop(job_pk, None)
        self._instance_of.pop(job_pk, None)

    async def cancel(self, job: JobRow) -> JobRow:
        """Stop a job and return its final state (unchanged if it already ended)."""
        if job.ended_at is not None:
            return job
        event = self._cancel.get(job.pk)
        if event is not None:
            event.set()
        task = self._tasks.get(job.pk)
        if job.started_at is None or task is None:
            # Not running (yet): end it now; its task exits as soon as it wakes up.
            await self._end(job.pk, "cancelled", "job cancelled before it started")
        else:
            await asyncio.wait({task}, timeout=10)  # stops at the next file boundary
        fresh = await self._store.run(Database.get_job_by_pk, job.pk)
        return fresh or job

    def cancel_instance(self, instance_pk: int) -> None:
        """Stop every job of an instance that is being deleted."""
        for job_pk, owner in list(self._instance_of.items()):
            if owner == instance_pk:
                self._cancel[job_pk].set()

    async def _run(self, job_pk: int, instance_pk: int) -> None:
        cancel = self._cancel[job_pk]
        lock = self._locks.setdefault(instance_pk, asyncio.Lock())
        try:
            async with lock:
                job = await self._store.run(Database.get_job_by_pk, job_pk)
                if job is None or job.ended_at is not None:
                    return
                if cancel.is_set():
                    await self._end(job_pk, "cancelled", "job cancelled before it started")
                    return
                await self._execute(job, instance_pk, cancel)
        except asyncio.CancelledError:
            await asyncio.shield(
                self._end(job_pk, "interrupted: emulator stopped", "job interrupted", WARNING)
            )
            raise
        except Exception as exc:  # a bug must end the job, not leave it running forever
            log.exception("job %s failed", job_pk)
            await self._end(job_pk, f"failed: internal error: {exc}", "job failed", ERROR)

    async def _end(self, job_pk: int, reason: str, message: str, level: int = INFO) -> None:
        await self._store.run(_end_job, job_pk, reason, message, level)

    async def _log(self, job_pk: int, message: str, level: int = INFO) -> None:
        def write(db: Database) -> None:
            db.add_job_log(job_pk, _now_ms(), message, level)
            db.update_job(job_pk, last_seen_at=now_iso())

        await self._store.run(write)

    async def _step(self, cancel: asyncio.Event) -> bool:
        """Pause between files (``job_step_delay``); True when the job was cancelled."""
        if self._config.job_step_delay > 0:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(cancel.wait(), self._config.job_step_delay)
        return cancel.is_set()

    async def _scan(self, instance: InstanceRow) -> list[SourceDocument]:
        config = instance.config
        params = config["source_params"] or {}
        include = params.get("include_items") or []
        exclude = params.get("exclude_items") or []
        if config["type"] == "r2":
            if self._config.r2_root is None:
                raise SourceError("the emulator was started without an R2 root folder (--r2-root)")
            return await asyncio.to_thread(
                scan_bucket,
                self._config.r2_root,
                config["source"],
                prefix=params.get("prefix") or "",
                include=include,
                exclude=exclude,
                max_bytes=self._config.max_file_bytes,
            )
        return await crawl(
            config["source"],
            params,
            timeout=self._config.crawl_timeout,
            include=include,
            exclude=exclude,
        )

    async def _execute(self, job: JobRow, instance_pk: int, cancel: asyncio.Event) -> None:
        now = now_iso()
        await self._store.run(Database.update_job, job.pk, started_at=now, last_seen_at=now)
        await self._log(job.pk, f"job started ({job.source})")
        instance = await self._store.run(Database.get_instance_by_pk, instance_pk)
        if instance is None:
            await self._end(job.pk, "failed: instance deleted", "instance deleted", ERROR)
            return
        try:
            documents = await self._scan(instance)
        except SourceError as exc:
            await self._end(job.pk, f"failed: {exc}", str(exc), ERROR)
            return
        source_id = f"{instance.config['type']}:{instance.config['source']}"
        existing = {
            i.key: i for i in await self._store.run(Database.list_items, instance_pk, source_id)
        }
        keys = {d.key for d in documents}
        removed = [item for key, item in existing.items() if key not in keys]
        todo = [
            d for d in documents
            if d.key not in existing or existing[d.key].checksum != checksum(d.content)
        ]  # fmt: skip
        unchanged = [existing[d.key].pk for d in documents if d not in todo]
        await self._log(
            job.pk,
            f"found {len(documents)} files: {len(todo)} new or changed, {len(unchanged)}"
            f" unchanged, {len(removed)} removed",
        )
        for item in removed:
            if await self._step(cancel):
                await self._end(job.pk, "cancelled", "job cancelled")
                return
            await self._store.run(Database.delete_item, item)
            await self._log(job.pk, f"removed {item.key}")
        for document in todo:
            if await self._step(cancel):
                await self._end(job.pk, "cancelled", "job cancelled")
                return
            status = await self._index(instance, source_id, document)
            level = INFO if status == "completed" else WARNING
            await self._log(job.pk, f"{document.key}: {status}", level)

        def touch(db: Database) -> None:
            for pk in unchanged:
                db.touch_item(pk, now_iso())

        await self._store.run(touch)
        await self._indexer.merge_keyword_indexes()
        await self._end(job.pk, "completed", f"job completed: {len(todo)} files indexed")

    async def _index(self, instance: InstanceRow, source_id: str, document: SourceDocument) -> str:
        schema = schema_of(instance.config["custom_metadata"])
        metadata, _ = build(document.key, document.modified_ms, {}, schema)
        item = NewItem(
            id=item_id(instance.namespace, instance.id, source_id, document.key),
            key=document.key,
            source_id=source_id,
            checksum=checksum(document.content),
            modified_ms=document.modified_ms,
            content_type=document.content_type,
            content=document.content,
            raw_metadata={},
            metadata=metadata,
        )
        row = await self._indexer.upsert(instance.pk, item, "found by a sync job")
        if document.skip_reason is not None:
            reason = document.skip_reason
            await self._store.run(
                Database.set_item_status, row.pk, "skipped", now_iso(), error=reason
            )
            return "skipped"
        return await self._indexer.index(row.pk) or "deleted"

    async def _schedule(self) -> None:
        while True:
            await asyncio.sleep(self._config.scheduler_tick)
            try:
                due = await self._store.run(
                    _due_instances, time.time(), self._config.sync_interval_override
                )
                for instance in due:
                    await self.create(instance, "schedule", None)
            except Exception:  # keep scheduling even if one round fails
                log.exception("scheduled sync failed")
