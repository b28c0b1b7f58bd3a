"""Background indexing of items: parse, chunk, embed, store, log.

Items move queued -> running -> completed / skipped / error. Uploads are
queued and processed by one worker task; sync jobs index their files inline
so they can report progress and be cancelled between files.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from . import vectors
from .metadata import build, schema_of
from .parsing import DocumentError, UnsupportedDocument, chunk, parse
from .store import Database, ItemRow, NewChunk, NewItem, Store
from .wire import now_iso

log = logging.getLogger(__name__)


def item_id(namespace: str, instance_id: str, source_id: str, key: str) -> str:
    # Derived from identity, so re-uploading a key keeps its id and results
    # are reproducible across runs.
    """Stable item id derived from (namespace, instance, source, key)."""
    seed = "\0".join((namespace, instance_id, source_id, key))
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def checksum(content: bytes) -> str:
    """MD5 hex digest of an item's content, as the service reports it."""
    return hashlib.md5(content, usedforsecurity=False).hexdigest()


def chunk_id(item: str, digest: str, seq: int) -> str:
    """Stable chunk id derived from (item, content checksum, position)."""
    return hashlib.sha256(f"{item}:{digest}:{seq}".encode()).hexdigest()[:32]


@dataclasses.dataclass(frozen=True)
class _Outcome:
    status: str
    chunks: list[NewChunk]
    metadata: dict[str, Any]
    error: str | None = None
    error_type: str | None = None


def _prepare(
    item: ItemRow, content: bytes, config: Mapping[str, Any], scorer: vectors.Scorer
) -> _Outcome:
    """CPU-bound part of indexing; runs in a worker thread."""
    try:
        doc = parse(item.key, item.content_type, content)
    except UnsupportedDocument as exc:
        return _Outcome("skipped", [], item.metadata, str(exc))
    except DocumentError as exc:
        return _Outcome("error", [], item.metadata, str(exc), exc.error_type)
    schema = schema_of(config["custom_metadata"])
    # HTML <meta> tags feed schema fields; explicit upload metadata wins.
    raw = {k: v for k, v in doc.metadata.items() if k in schema} | item.raw_metadata
    metadata, _ = build(item.key, item.modified_ms, raw, schema)
    pieces = chunk(doc.body, config["chunk_size"], config["chunk_overlap"], enabled=config["chunk"])
    if not pieces:
        return _Outcome("skipped", [], metadata, "document has no text to index")
    encoded = scorer.encode([p.text for p in pieces])
    chunks = [
        NewChunk(
            seq=p.seq,
            id=chunk_id(item.id, item.checksum, p.seq),
            text=p.text,
            start_byte=p.start_byte,
            end_byte=p.end_byte,
            vector=vector,
        )
        for p, vector in zip(pieces, encoded, strict=True)
    ]
    return _Outcome("completed", chunks, metadata)


def _begin(db: Database, pk: int, now: str) -> tuple[ItemRow, bytes, dict[str, Any]] | None:
    item = db.get_item_by_pk(pk)
    instance = db.get_instance_by_pk(item.instance_pk) if item else None
    content = db.item_content(pk)
    if item is None or instance is None or content is None:
        return None
    db.set_item_status(pk, "running", now)
    db.add_item_log(pk, now, "running", item.key, "indexing started")
    return item, content, instance.config


def _finish(
    db: Database, item: ItemRow, outcome: _Outcome, elapsed_ms: int, now: str
) -> str | None:
    current = db.get_item_by_pk(item.pk)
    if current is None:
        return None
    if current.checksum != item.checksum or current.status != "running":
        return current.status  # re-uploaded meanwhile: the newer version is queued
    count = db.replace_chunks(current, outcome.chunks)
    db.set_item_status(item.pk, outcome.status, now, error=outcome.error, metadata=outcome.metadata)
    messages = {
        "completed": f"indexed {count} chunks",
        "skipped": f"skipped: {outcome.error}",
        "error": f"failed: {outcome.error}",
    }
    db.add_item_log(
        item.pk,
        now,
        outcome.status,
        item.key,
        messages[outcome.status],
        chunk_count=count,
        processing_time_ms=elapsed_ms,
        error_type=outcome.error_type,
    )
    db.set_instance_times(item.instance_pk, last_activity=now)
    return outcome.status


def _upsert(db: Database, instance_pk: int, item: NewItem, now: str, action: str) -> ItemRow:
    row = db.upsert_item(instance_pk, item, now)
    db.add_item_log(row.pk, now, "queued", row.key, f"{action}; waiting to be indexed")
    return row


class Indexer:
    """Indexes queued items one at a time, off the event loop."""

    def __init__(self, store: Store, index_delay: float, scorer: vectors.Scorer) -> None:
        self._store = store
        self._scorer = scorer
        self._delay = index_delay
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        self._queued: set[int] = set()
        self._waiters: dict[int, list[asyncio.Future[None]]] = {}
        self._worker: asyncio.Task[None] | None = None
        #: Instances whose keyword index gained segments since it was last merged.
        self._unmerged: set[int] = set()

    async def start(self) -> None:
        """Start the worker and queue the items a previous run left unfinished."""
        self._worker = asyncio.create_task(self._work(), name="ai-search-emu-indexer")
        # Items left queued/running by a previous run are picked up again.
        for pk in await self._store.run(Database.pending_items):
            self.enqueue(pk)

    async def stop(self) -> None:
        """Stop the worker; every waiter is released."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        for waiters in self._waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
        self._waiters.clear()

    async def upsert(self, instance_pk: int, item: NewItem, action: str) -> ItemRow:
        """Store (or overwrite) an item as ``queued``; the caller decides how it gets indexed."""
        return await self._store.run(_upsert, instance_pk, item, now_iso(), action)

    def enqueue(self, pk: int) -> asyncio.Future[None]:
        """Queue an item; the future resolves once the worker has processed it."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(pk, []).append(waiter)
        if pk not in self._queued:
            self._queued.add(pk)
            self._queue.put_nowait(pk)
        return waiter

    async def _work(self) -> None:
        while True:
            pk = await self._queue.get()
            self._queued.discard(pk)
            # Waiters registered from now on wait for the next run of this item.
            waiters = self._waiters.pop(pk, [])
            try:
                await self.index(pk)
            except Exception:  # one bad item must not stop indexing for everyone
                log.exception("indexing item %s failed", pk)
            finally:
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
            if self._queue.empty():
                await self.merge_keyword_indexes()

    async def merge_keyword_indexes(self) -> None:
        """Merge the keyword index of every instance indexed into since the last merge.

        Each step is a write transaction of its own, so other writes interleave.
        """
        while self._unmerged:
            instance_pk = self._unmerged.pop()
            while await self._store.run(Database.merge_keyword_index, instance_pk):
                pass

    async def index(self, pk: int) -> str | None:
        """Index one item now; its final status, or ``None`` if it no longer exists."""
        started = await self._store.run(_begin, pk, now_iso())
        if started is None:
            return None
        item, content, config = started
        if self._delay:
            await asyncio.sleep(self._delay)
        began = time.perf_counter()
        outcome = await asyncio.to_thread(_prepare, item, content, config, self._scorer)
        elapsed_ms = int((time.perf_counter() - began) * 1000)
        status = await self._store.run(_finish, item, outcome, elapsed_ms, now_iso())
        self._unmerged.add(item.instance_pk)
        return status
