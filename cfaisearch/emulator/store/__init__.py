"""SQLite persistence: one writer thread, a pool of reader threads (WAL).

Every call of ``Store.run`` executes one function inside one write
transaction on the store's only writer thread, so writes never interleave.
``Store.read`` runs a function in a read transaction on one of several reader
threads, each with its own connection: in WAL mode readers see the last
committed state and neither wait for the writer nor for each other, so a GET
is never queued behind searches or indexing. The event loop never touches
the disk. An "in-memory" store is a database file in a private temporary
folder, deleted on close, because WAL needs a file.
"""

from __future__ import annotations

import asyncio
import functools
import shutil
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from .database import Database
from .instances import DEFAULT_NAMESPACE, TOKENIZERS, InstanceRow, NamespaceRow, fts_table
from .items import ChunkRow, ItemCriteria, ItemRow, NewChunk, NewItem
from .jobs import JobRow
from .tokens import TokenRow

__all__ = [
    "DB_FILENAME",
    "DEFAULT_NAMESPACE",
    "TOKENIZERS",
    "ChunkRow",
    "Database",
    "InstanceRow",
    "ItemCriteria",
    "ItemRow",
    "JobRow",
    "NamespaceRow",
    "NewChunk",
    "NewItem",
    "Store",
    "TokenRow",
    "fts_table",
]

P = ParamSpec("P")
T = TypeVar("T")

DB_FILENAME = "ai-search-emulator.sqlite3"

#: Threads for short reads (GETs) and, separately, for searches: a GET never
#: waits in a queue behind searches. Searches are CPU-bound Python, so more
#: search threads than cores would only contend for the GIL.
READERS = 4
SEARCHERS = 2


class Store:
    """Owns the writer thread and the reader pool.

    ``run`` executes one write transaction on the writer thread; ``read``
    executes one read-only transaction on a reader thread. ``generation``
    counts committed changes to an instance's searchable content, so caches
    built from a snapshot know when they are stale.
    """

    def __init__(self, data_dir: Path | None) -> None:
        self._data_dir = data_dir
        self._temp_dir: str | None = None
        self._path = ""
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ai-search-emu-db")
        self._readers = ThreadPoolExecutor(
            max_workers=READERS, thread_name_prefix="ai-search-emu-read"
        )
        self._searchers = ThreadPoolExecutor(
            max_workers=SEARCHERS, thread_name_prefix="ai-search-emu-search"
        )
        self._db: Database | None = None
        self._local = threading.local()
        self._reader_dbs: list[Database] = []
        self._lock = threading.Lock()
        self._generations: dict[int, int] = {}

    async def open(self) -> None:
        """Create the data folder (or a temporary one) and open the writer connection."""
        if self._data_dir is None:
            self._temp_dir = await asyncio.to_thread(tempfile.mkdtemp, prefix="ai-search-emulator-")
            self._path = str(Path(self._temp_dir) / DB_FILENAME)
        else:
            await asyncio.to_thread(self._data_dir.mkdir, parents=True, exist_ok=True)
            self._path = str(self._data_dir / DB_FILENAME)
        loop = asyncio.get_running_loop()
        self._db = await loop.run_in_executor(self._writer, Database.connect, self._path)

    @property
    def path(self) -> str:
        """The database file (a temporary one without ``data_dir``), once open."""
        return self._path

    def generation(self, instance_pk: int) -> int:
        """How many committed transactions changed this instance's searchable content.

        Inside a read transaction, the count as it stood when that transaction
        began: a cache built from its snapshot is never labelled newer than it.
        """
        counts: dict[int, int] | None = getattr(self._local, "generations", None)
        return (self._generations if counts is None else counts).get(instance_pk, 0)

    def generations(self) -> dict[int, int]:
        """Every instance's change count now (for a search process to label its caches)."""
        with self._lock:
            return dict(self._generations)

    async def run(
        self, fn: Callable[Concatenate[Database, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn(db, ...)`` in one write transaction on the writer thread."""
        # Even if the awaiting task is cancelled, the transaction runs to its
        # end on the store thread, so the database never sees half a change.
        loop = asyncio.get_running_loop()
        call = functools.partial(self._transaction, fn, *args, **kwargs)
        return await loop.run_in_executor(self._writer, call)

    async def read(
        self, fn: Callable[Concatenate[Database, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn(db, ...)`` in one read-only transaction (a snapshot) on a reader thread."""
        loop = asyncio.get_running_loop()
        call = functools.partial(self._read_transaction, fn, *args, **kwargs)
        return await loop.run_in_executor(self._readers, call)

    async def search(
        self, fn: Callable[Concatenate[Database, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``read`` for long reads (searches), on threads of their own."""
        loop = asyncio.get_running_loop()
        call = functools.partial(self._read_transaction, fn, *args, **kwargs)
        return await loop.run_in_executor(self._searchers, call)

    def _transaction(
        self, fn: Callable[Concatenate[Database, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        db = self._db
        if db is None:
            raise RuntimeError("store is not open")
        db.changed.clear()
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(db, *args, **kwargs)
        except BaseException:
            db.conn.execute("ROLLBACK")
            raise
        db.conn.execute("COMMIT")
        # Bumped after the commit: a reader that sees the new number also
        # sees the new data (the reverse may lag, which only costs a reload).
        with self._lock:
            for pk in db.changed:
                self._generations[pk] = self._generations.get(pk, 0) + 1
        return result

    def _reader(self) -> Database:
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            if self._db is None:
                raise RuntimeError("store is not open")
            db = Database.connect(self._path, reader=True)
            self._local.db = db
            with self._lock:
                self._reader_dbs.append(db)
        return db

    def _read_transaction(
        self, fn: Callable[Concatenate[Database, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        db = self._reader()
        # Taken before the snapshot (counts are bumped after each commit), so
        # the snapshot holds at least the changes these counts describe.
        with self._lock:
            self._local.generations = dict(self._generations)
        db.conn.execute("BEGIN")
        try:
            return fn(db, *args, **kwargs)
        finally:
            db.conn.execute("COMMIT")
            self._local.generations = None

    async def close(self) -> None:
        """Close every connection, stop the threads, delete a temporary folder."""
        db, self._db = self._db, None
        loop = asyncio.get_running_loop()
        await asyncio.to_thread(self._readers.shutdown, wait=True)
        await asyncio.to_thread(self._searchers.shutdown, wait=True)
        for reader in self._reader_dbs:
            reader.conn.close()
        self._reader_dbs.clear()
        if db is not None:
            await loop.run_in_executor(self._writer, db.conn.close)
        self._writer.shutdown(wait=True)
        if self._temp_dir is not None:
            await asyncio.to_thread(shutil.rmtree, self._temp_dir, ignore_errors=True)
            self._temp_dir = None
