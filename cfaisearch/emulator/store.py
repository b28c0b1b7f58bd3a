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
import dataclasses
import functools
import json
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

DB_FILENAME = "ai-search-emulator.sqlite3"
MMAP_BYTES = 1 << 30
CACHE_KIB = 64 * 1024
DEFAULT_NAMESPACE = "default"
TOKENIZERS = {"porter": "porter unicode61", "trigram": "trigram"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS namespaces (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    public_endpoint_id TEXT,
    public_endpoint_params TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS instances (
    pk INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace TEXT NOT NULL REFERENCES namespaces(name),
    id TEXT NOT NULL,
    config TEXT NOT NULL,
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    last_activity TEXT,
    last_manual_job REAL,
    last_sync REAL,
    UNIQUE (namespace, id)
);
CREATE TABLE IF NOT EXISTS items (
    pk INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_pk INTEGER NOT NULL REFERENCES instances(pk) ON DELETE CASCADE,
    id TEXT NOT NULL,
    key TEXT NOT NULL,
    source_id TEXT NOT NULL,
    checksum TEXT NOT NULL,
    status TEXT NOT NULL,
    next_action TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    modified_ms INTEGER NOT NULL,
    file_size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    content BLOB NOT NULL,
    raw_metadata TEXT NOT NULL,
    metadata TEXT NOT NULL,
    chunks_count INTEGER,
    UNIQUE (instance_pk, id),
    UNIQUE (instance_pk, source_id, key)
);
CREATE TABLE IF NOT EXISTS chunks (
    pk INTEGER PRIMARY KEY AUTOINCREMENT,
    item_pk INTEGER NOT NULL REFERENCES items(pk) ON DELETE CASCADE,
    instance_pk INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    text TEXT NOT NULL,
    start_byte INTEGER NOT NULL,
    end_byte INTEGER NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_item ON chunks (item_pk, seq);
CREATE INDEX IF NOT EXISTS chunks_by_instance ON chunks (instance_pk);
CREATE INDEX IF NOT EXISTS items_by_modified ON items (instance_pk, modified_ms);
CREATE TABLE IF NOT EXISTS item_logs (
    pk INTEGER PRIMARY KEY AUTOINCREMENT,
    item_pk INTEGER NOT NULL REFERENCES items(pk) ON DELETE CASCADE,
    timestamp TEXT NOT NULL,
    action TEXT NOT NULL,
    file_key TEXT NOT NULL,
    message TEXT NOT NULL,
    chunk_count INTEGER,
    processing_time_ms INTEGER,
    error_type TEXT
);
CREATE INDEX IF NOT EXISTS item_logs_by_item ON item_logs (item_pk, pk);
CREATE TABLE IF NOT EXISTS jobs (
    pk INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_pk INTEGER NOT NULL REFERENCES instances(pk) ON DELETE CASCADE,
    id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    description TEXT,
    created REAL NOT NULL,
    started_at TEXT,
    last_seen_at TEXT,
    ended_at TEXT,
    end_reason TEXT
);
CREATE TABLE IF NOT EXISTS job_logs (
    pk INTEGER PRIMARY KEY AUTOINCREMENT,
    job_pk INTEGER NOT NULL REFERENCES jobs(pk) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    message TEXT NOT NULL,
    message_type INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS job_logs_by_job ON job_logs (job_pk, pk);
CREATE INDEX IF NOT EXISTS items_by_status ON items (status, instance_pk);
CREATE INDEX IF NOT EXISTS jobs_running ON jobs (instance_pk) WHERE ended_at IS NULL;
CREATE TABLE IF NOT EXISTS tokens (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    cf_api_id TEXT NOT NULL,
    cf_api_key TEXT NOT NULL,
    name TEXT NOT NULL,
    legacy INTEGER NOT NULL,
    enabled INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL
);
"""


@dataclasses.dataclass
class NamespaceRow:
    name: str
    description: str | None
    public_endpoint_id: str | None
    public_endpoint_params: dict[str, Any] | None
    created_at: str


@dataclasses.dataclass
class InstanceRow:
    pk: int
    namespace: str
    id: str
    config: dict[str, Any]
    created_at: str
    modified_at: str
    last_activity: str | None
    last_manual_job: float | None
    last_sync: float | None


@dataclasses.dataclass
class ItemRow:
    pk: int
    instance_pk: int
    id: str
    key: str
    source_id: str
    checksum: str
    status: str
    next_action: str | None
    error: str | None
    created_at: str
    last_seen_at: str
    modified_ms: int
    file_size: int
    content_type: str
    raw_metadata: dict[str, Any]
    metadata: dict[str, Any]
    chunks_count: int | None


@dataclasses.dataclass
class NewItem:
    """Everything a source (upload, R2 file, crawled page) provides for an item."""

    id: str
    key: str
    source_id: str
    checksum: str
    modified_ms: int
    content_type: str
    content: bytes
    raw_metadata: dict[str, Any]
    metadata: dict[str, Any]


@dataclasses.dataclass
class ChunkRow:
    pk: int
    item_pk: int
    seq: int
    id: str
    text: str
    start_byte: int
    end_byte: int


@dataclasses.dataclass
class NewChunk:
    seq: int
    id: str
    text: str
    start_byte: int
    end_byte: int
    #: The scorer's binary encoding (see ``vectors``), never JSON.
    vector: bytes


@dataclasses.dataclass
class JobRow:
    pk: int
    instance_pk: int
    id: str
    source: str
    description: str | None
    created: float
    started_at: str | None
    last_seen_at: str | None
    ended_at: str | None
    end_reason: str | None


@dataclasses.dataclass
class TokenRow:
    id: str
    cf_api_id: str
    cf_api_key: str
    name: str
    legacy: bool
    enabled: bool
    created_at: str
    modified_at: str


@dataclasses.dataclass(frozen=True)
class ItemCriteria:
    """Exact-match filters of ``items.list`` (``None`` = any) and a key substring."""

    item_id: str | None = None
    key: str | None = None
    source_id: str | None = None
    status: str | None = None
    search: str = ""


# sort_by=status puts work in progress first, finished items last.
_ITEM_ORDERS = {
    "status": "CASE status WHEN 'running' THEN 0 WHEN 'queued' THEN 1 WHEN 'error' THEN 2"
    " WHEN 'outdated' THEN 3 WHEN 'skipped' THEN 4 WHEN 'completed' THEN 5 ELSE 6 END,"
    " last_seen_at DESC, key",
    "modified_at": "modified_ms DESC, created_at DESC, key DESC",
}

_ITEM_COLUMNS = (
    "pk, instance_pk, id, key, source_id, checksum, status, next_action, error, created_at, "
    "last_seen_at, modified_ms, file_size, content_type, raw_metadata, metadata, chunks_count"
)
_JOB_COLUMNS = (
    "pk, instance_pk, id, source, description, created, started_at, last_seen_at, ended_at, "
    "end_reason"
)


def _item(row: sqlite3.Row) -> ItemRow:
    values = dict(row)
    values["raw_metadata"] = json.loads(values["raw_metadata"])
    values["metadata"] = json.loads(values["metadata"])
    return ItemRow(**values)


def _instance(row: sqlite3.Row) -> InstanceRow:
    values = dict(row)
    values["config"] = json.loads(values["config"])
    return InstanceRow(**values)


def _namespace(row: sqlite3.Row) -> NamespaceRow:
    params = row["public_endpoint_params"]
    return NamespaceRow(
        name=row["name"],
        description=row["description"],
        public_endpoint_id=row["public_endpoint_id"],
        public_endpoint_params=None if params is None else json.loads(params),
        created_at=row["created_at"],
    )


def _token(row: sqlite3.Row) -> TokenRow:
    values = dict(row)
    del values["seq"]
    values["legacy"] = bool(values["legacy"])
    values["enabled"] = bool(values["enabled"])
    return TokenRow(**values)


def fts_table(instance_pk: int) -> str:
    # One FTS5 table per instance: BM25 statistics then come from that
    # instance's documents only, and the tokenizer can differ per instance.
    return f"fts_{int(instance_pk)}"


class Database:
    """Synchronous operations on one connection, always inside a transaction.

    The writer's instance records which instances' searchable content a
    transaction changed (``changed``), so ``Store`` can invalidate the
    retrieval caches once the transaction commits.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.changed: set[int] = set()

    @classmethod
    def connect(cls, path: str, *, reader: bool = False) -> Database:
        """Open ``path``; the writer creates the schema, readers are read-only."""
        # Reader connections are created on one pool thread and closed from another.
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=not reader)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        # Memory-mapped reads and a larger page cache: searches revisit the same
        # FTS5 doclists and chunk pages, which would otherwise be copied in again.
        conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        if reader:
            conn.execute("PRAGMA query_only = ON")
        else:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.executescript(_SCHEMA)
        return cls(conn)

    def _one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(sql, params).fetchone()
        return row

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    # -- meta -------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- namespaces ---------------------------------------------------------------

    def get_namespace(self, name: str) -> NamespaceRow | None:
        row = self._one("SELECT * FROM namespaces WHERE name = ?", (name,))
        return None if row is None else _namespace(row)

    def save_namespace(self, ns: NamespaceRow) -> None:
        params = (
            None if ns.public_endpoint_params is None else json.dumps(ns.public_endpoint_params)
        )
        self.conn.execute(
            "INSERT INTO namespaces (name, description, public_endpoint_id, public_endpoint_params,"
            " created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
            " description = excluded.description,"
            " public_endpoint_id = excluded.public_endpoint_id,"
            " public_endpoint_params = excluded.public_endpoint_params",
            (ns.name, ns.description, ns.public_endpoint_id, params, ns.created_at),
        )

    def delete_namespace(self, name: str) -> None:
        self.conn.execute("DELETE FROM namespaces WHERE name = ?", (name,))

    def list_namespaces(self) -> list[NamespaceRow]:
        return [_namespace(r) for r in self._all("SELECT * FROM namespaces ORDER BY seq")]

    # -- instances ----------------------------------------------------------------

    def get_instance(self, namespace: str, instance_id: str) -> InstanceRow | None:
        row = self._one(
            "SELECT * FROM instances WHERE namespace = ? AND id = ?", (namespace, instance_id)
        )
        return None if row is None else _instance(row)

    def get_instance_by_pk(self, pk: int) -> InstanceRow | None:
        row = self._one("SELECT * FROM instances WHERE pk = ?", (pk,))
        return None if row is None else _instance(row)

    def list_instances(self, namespace: str | None = None) -> list[InstanceRow]:
        if namespace is None:
            rows = self._all("SELECT * FROM instances ORDER BY pk")
        else:
            rows = self._all(
                "SELECT * FROM instances WHERE namespace = ? ORDER BY pk", (namespace,)
            )
        return [_instance(r) for r in rows]

    def count_instances(self, namespace: str) -> int:
        row = self._one("SELECT COUNT(*) AS n FROM instances WHERE namespace = ?", (namespace,))
        return int(row["n"]) if row else 0

    def insert_instance(
        self, namespace: str, instance_id: str, config: dict[str, Any], now: str, tokenizer: str
    ) -> InstanceRow:
        cursor = self.conn.execute(
            "INSERT INTO instances (namespace, id, config, created_at, modified_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (namespace, instance_id, json.dumps(config), now, now),
        )
        pk = int(cursor.lastrowid or 0)
        self.create_fts(pk, tokenizer)
        row = self.get_instance_by_pk(pk)
        assert row is not None
        return row

    def update_instance(self, pk: int, config: dict[str, Any], now: str) -> None:
        self.changed.add(pk)
        self.conn.execute(
            "UPDATE instances SET config = ?, modified_at = ? WHERE pk = ?",
            (json.dumps(config), now, pk),
        )

    def delete_instance(self, pk: int) -> None:
        self.changed.add(pk)
        self.conn.execute(f"DROP TABLE IF EXISTS {fts_table(pk)}")
        self.conn.execute("DELETE FROM instances WHERE pk = ?", (pk,))

    def set_instance_times(
        self,
        pk: int,
        *,
        last_activity: str | None = None,
        last_manual_job: float | None = None,
        last_sync: float | None = None,
    ) -> None:
        for column, value in (
            ("last_activity", last_activity),
            ("last_manual_job", last_manual_job),
            ("last_sync", last_sync),
        ):
            if value is not None:
                self.conn.execute(f"UPDATE instances SET {column} = ? WHERE pk = ?", (value, pk))

    def busy_instances(self) -> set[int]:
        """Instances with items waiting or being indexed, or a job still running.

        Both halves read partial indexes (``items_by_status``, ``jobs_running``)
        that hold only unfinished work, so the cost does not grow with the corpus.
        """
        rows = self._all(
            "SELECT DISTINCT instance_pk FROM items WHERE status IN ('queued', 'running')"
            " UNION SELECT instance_pk FROM jobs WHERE ended_at IS NULL"
        )
        return {int(r[0]) for r in rows}

    def is_busy(self, instance_pk: int) -> bool:
        """``busy_instances`` for one instance: two indexed existence checks."""
        row = self._one(
            "SELECT EXISTS (SELECT 1 FROM items WHERE status IN ('queued', 'running')"
            " AND instance_pk = ?) OR EXISTS (SELECT 1 FROM jobs WHERE ended_at IS NULL"
            " AND instance_pk = ?)",
            (instance_pk, instance_pk),
        )
        return bool(row and row[0])

    def create_fts(self, instance_pk: int, tokenizer: str) -> None:
        self.conn.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts_table(instance_pk)}"
            f" USING fts5(text, tokenize = '{TOKENIZERS[tokenizer]}')"
        )

    def reset_index(self, instance_pk: int, tokenizer: str) -> list[int]:
        """Drop the keyword index (tokenizer may change) and queue every item again."""
        self.changed.add(instance_pk)
        self.conn.execute(f"DROP TABLE IF EXISTS {fts_table(instance_pk)}")
        self.create_fts(instance_pk, tokenizer)
        self.conn.execute("DELETE FROM chunks WHERE instance_pk = ?", (instance_pk,))
        self.conn.execute(
            "UPDATE items SET status = 'queued', next_action = 'INDEX', error = NULL,"
            " chunks_count = NULL WHERE instance_pk = ?",
            (instance_pk,),
        )
        rows = self._all("SELECT pk FROM items WHERE instance_pk = ? ORDER BY pk", (instance_pk,))
        return [int(r["pk"]) for r in rows]

    # -- items ----------------------------------------------------------------------

    def get_item(self, instance_pk: int, item_id: str) -> ItemRow | None:
        row = self._one(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE instance_pk = ? AND id = ?",
            (instance_pk, item_id),
        )
        return None if row is None else _item(row)

    def get_item_by_pk(self, pk: int) -> ItemRow | None:
        row = self._one(f"SELECT {_ITEM_COLUMNS} FROM items WHERE pk = ?", (pk,))
        return None if row is None else _item(row)

    def find_items_by_key(self, instance_pk: int, key: str) -> list[ItemRow]:
        rows = self._all(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE instance_pk = ? AND key = ? ORDER BY pk",
            (instance_pk, key),
        )
        return [_item(r) for r in rows]

    def list_items(self, instance_pk: int, source_id: str | None = None) -> list[ItemRow]:
        sql = f"SELECT {_ITEM_COLUMNS} FROM items WHERE instance_pk = ?"
        params: list[Any] = [instance_pk]
        if source_id is not None:
            sql += " AND source_id = ?"
            params.append(source_id)
        return [_item(r) for r in self._all(sql + " ORDER BY pk", params)]

    def query_items(
        self,
        instance_pk: int,
        criteria: ItemCriteria,
        sort_by: str,
        page: tuple[int, int] | None,
    ) -> tuple[list[ItemRow], int]:
        """Items matching ``criteria``, sorted, and the number of matches.

        ``page`` is (offset, limit) applied in SQL; ``None`` returns every match
        (for filters that SQL cannot evaluate, such as metadata filters).
        """
        where = ["instance_pk = ?"]
        params: list[Any] = [instance_pk]
        for column, value in (
            ("id", criteria.item_id),
            ("key", criteria.key),
            ("source_id", criteria.source_id),
            ("status", criteria.status),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if criteria.search:
            # instr on lower(): a plain substring test, no LIKE wildcards to escape.
            where.append("instr(lower(key), ?) > 0")
            params.append(criteria.search.lower())
        condition = " AND ".join(where)
        order = _ITEM_ORDERS[sort_by]
        sql = f"SELECT {_ITEM_COLUMNS} FROM items WHERE {condition} ORDER BY {order}"
        if page is None:
            rows = [_item(r) for r in self._all(sql, params)]
            return rows, len(rows)
        total = self._one(f"SELECT COUNT(*) AS n FROM items WHERE {condition}", params)
        rows = [_item(r) for r in self._all(sql + " LIMIT ? OFFSET ?", [*params, *page[::-1]])]
        return rows, int(total["n"]) if total else 0

    def item_content(self, pk: int) -> bytes | None:
        row = self._one("SELECT content FROM items WHERE pk = ?", (pk,))
        return None if row is None else bytes(row["content"])

    def upsert_item(self, instance_pk: int, item: NewItem, now: str) -> ItemRow:
        """Insert or overwrite an item (keyed by source and key) and queue it for indexing.

        Existing chunks stay searchable until the new version is indexed.
        """
        self.changed.add(instance_pk)
        self.conn.execute(
            "INSERT INTO items (instance_pk, id, key, source_id, checksum, status, next_action,"
            " error, created_at, last_seen_at, modified_ms, file_size, content_type, content,"
            " raw_metadata, metadata) VALUES (?, ?, ?, ?, ?, 'queued', 'INDEX', NULL, ?, ?, ?,"
            " ?, ?, ?, ?, ?) ON CONFLICT (instance_pk, source_id, key) DO UPDATE SET"
            " checksum = excluded.checksum, status = 'queued', next_action = 'INDEX',"
            " error = NULL, last_seen_at = excluded.last_seen_at,"
            " modified_ms = excluded.modified_ms, file_size = excluded.file_size,"
            " content_type = excluded.content_type, content = excluded.content,"
            " raw_metadata = excluded.raw_metadata, metadata = excluded.metadata",
            (
                instance_pk,
                item.id,
                item.key,
                item.source_id,
                item.checksum,
                now,
                now,
                item.modified_ms,
                len(item.content),
                item.content_type,
                item.content,
                json.dumps(item.raw_metadata),
                json.dumps(item.metadata),
            ),
        )
        row = self._one(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE instance_pk = ? AND source_id = ?"
            " AND key = ?",
            (instance_pk, item.source_id, item.key),
        )
        assert row is not None
        return _item(row)

    def queue_item(self, pk: int, now: str) -> None:
        self.conn.execute(
            "UPDATE items SET status = 'queued', next_action = 'INDEX', error = NULL,"
            " last_seen_at = ? WHERE pk = ?",
            (now, pk),
        )

    def touch_item(self, pk: int, now: str) -> None:
        self.conn.execute("UPDATE items SET last_seen_at = ? WHERE pk = ?", (now, pk))

    def set_item_status(
        self,
        pk: int,
        status: str,
        now: str,
        *,
        error: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        next_action = "INDEX" if status in ("queued", "running") else None
        self.conn.execute(
            "UPDATE items SET status = ?, next_action = ?, error = ?, last_seen_at = ?"
            " WHERE pk = ?",
            (status, next_action, error, now, pk),
        )
        if metadata is not None:
            self._changed_item(pk)
            self.conn.execute(
                "UPDATE items SET metadata = ? WHERE pk = ?", (json.dumps(metadata), pk)
            )

    def _changed_item(self, item_pk: int) -> None:
        row = self._one("SELECT instance_pk FROM items WHERE pk = ?", (item_pk,))
        if row is not None:
            self.changed.add(int(row["instance_pk"]))

    def replace_chunks(self, item: ItemRow, chunks: Iterable[NewChunk]) -> int:
        self.changed.add(item.instance_pk)
        table = fts_table(item.instance_pk)
        self._drop_chunks(item.pk, table)
        count = 0
        for chunk in chunks:
            cursor = self.conn.execute(
                "INSERT INTO chunks (item_pk, instance_pk, seq, id, text, start_byte, end_byte,"
                " vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    item.pk,
                    item.instance_pk,
                    chunk.seq,
                    chunk.id,
                    chunk.text,
                    chunk.start_byte,
                    chunk.end_byte,
                    chunk.vector,
                ),
            )
            self.conn.execute(
                f"INSERT INTO {table} (rowid, text) VALUES (?, ?)", (cursor.lastrowid, chunk.text)
            )
            count += 1
        self.conn.execute("UPDATE items SET chunks_count = ? WHERE pk = ?", (count, item.pk))
        return count

    def _drop_chunks(self, item_pk: int, table: str) -> None:
        self.conn.execute(
            f"DELETE FROM {table} WHERE rowid IN (SELECT pk FROM chunks WHERE item_pk = ?)",
            (item_pk,),
        )
        self.conn.execute("DELETE FROM chunks WHERE item_pk = ?", (item_pk,))

    def delete_item(self, item: ItemRow) -> None:
        self.changed.add(item.instance_pk)
        self._drop_chunks(item.pk, fts_table(item.instance_pk))
        self.conn.execute("DELETE FROM items WHERE pk = ?", (item.pk,))

    def list_chunks(self, item_pk: int, offset: int, limit: int) -> tuple[list[ChunkRow], int]:
        total_row = self._one("SELECT COUNT(*) AS n FROM chunks WHERE item_pk = ?", (item_pk,))
        rows = self._all(
            "SELECT pk, item_pk, seq, id, text, start_byte, end_byte FROM chunks"
            " WHERE item_pk = ? ORDER BY seq LIMIT ? OFFSET ?",
            (item_pk, limit, offset),
        )
        total = int(total_row["n"]) if total_row else 0
        return [ChunkRow(**dict(r)) for r in rows], total

    def add_item_log(
        self,
        item_pk: int,
        now: str,
        action: str,
        file_key: str,
        message: str,
        *,
        chunk_count: int | None = None,
        processing_time_ms: int | None = None,
        error_type: str | None = None,
    ) -> None:
        self.conn.execute(
            "INSERT INTO item_logs (item_pk, timestamp, action, file_key, message, chunk_count,"
            " processing_time_ms, error_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (item_pk, now, action, file_key, message, chunk_count, processing_time_ms, error_type),
        )

    def list_item_logs(self, item_pk: int, after: int, limit: int) -> list[sqlite3.Row]:
        return self._all(
            "SELECT * FROM item_logs WHERE item_pk = ? AND pk > ? ORDER BY pk LIMIT ?",
            (item_pk, after, limit),
        )

    def pending_items(self) -> list[int]:
        rows = self._all("SELECT pk FROM items WHERE status IN ('queued', 'running') ORDER BY pk")
        return [int(r["pk"]) for r in rows]

    def storage_usage(self, instance_pk: int) -> dict[str, int]:
        row = self._one(
            "SELECT COUNT(*) AS objects, COALESCE(SUM(file_size), 0) AS payload,"
            " COALESCE(SUM(LENGTH(metadata) + LENGTH(raw_metadata)), 0) AS meta"
            " FROM items WHERE instance_pk = ?",
            (instance_pk,),
        )
        vectors = self._one(
            "SELECT COUNT(*) AS n FROM chunks WHERE instance_pk = ?", (instance_pk,)
        )
        assert row is not None
        assert vectors is not None
        return {
            "objects": int(row["objects"]),
            "payload": int(row["payload"]),
            "meta": int(row["meta"]),
            "vectors": int(vectors["n"]),
        }

    def item_status_counts(self, instance_pk: int) -> dict[str, int]:
        rows = self._all(
            "SELECT status, COUNT(*) AS n FROM items WHERE instance_pk = ? GROUP BY status",
            (instance_pk,),
        )
        return {str(r["status"]): int(r["n"]) for r in rows}

    def item_errors(self, instance_pk: int) -> dict[str, str]:
        rows = self._all(
            "SELECT key, error FROM items WHERE instance_pk = ? AND status = 'error' ORDER BY key",
            (instance_pk,),
        )
        return {str(r["key"]): str(r["error"]) for r in rows}

    # -- retrieval --------------------------------------------------------------------

    def chunk_layout(self, instance_pk: int) -> list[tuple[int, int, int]]:
        """(chunk pk, item pk, seq) of every chunk, in the tie-break order (key, item, seq)."""
        rows = self.conn.execute(
            "SELECT c.pk, c.item_pk, c.seq FROM chunks c JOIN items i ON i.pk = c.item_pk"
            " WHERE c.instance_pk = ? ORDER BY i.key, c.item_pk, c.seq",
            (instance_pk,),
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def item_facts(self, instance_pk: int) -> list[tuple[int, str, str, int]]:
        """(pk, key, metadata JSON, modified_ms) of every item of an instance."""
        rows = self.conn.execute(
            "SELECT pk, key, metadata, modified_ms FROM items WHERE instance_pk = ?",
            (instance_pk,),
        ).fetchall()
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def chunk_vectors(self, instance_pk: int) -> sqlite3.Cursor:
        """(chunk pk, vector blob) of every chunk of an instance, streamed."""
        return self.conn.execute(
            "SELECT pk, vector FROM chunks WHERE instance_pk = ?", (instance_pk,)
        )

    def keyword_ranked(self, instance_pk: int, match: str) -> Iterator[tuple[int, float]]:
        """(chunk pk, BM25 score, higher is better) of matching chunks, best first.

        FTS5 ranks from its own index; rows are fetched lazily, so a caller
        that stops early never pays for decoding the rest.
        """
        table = fts_table(instance_pk)
        cursor = self.conn.execute(
            f"SELECT rowid, rank FROM {table} WHERE {table} MATCH ? ORDER BY rank", (match,)
        )
        # FTS5's bm25() is negated (more negative is better) to sort ascending.
        return ((int(rowid), -float(score)) for rowid, score in cursor)

    def chunk_texts(self, pks: Sequence[int]) -> dict[int, tuple[str, str]]:
        """chunk pk -> (id, text) for a few chunks."""
        if not pks:
            return {}
        marks = ",".join("?" * len(pks))
        rows = self.conn.execute(
            f"SELECT pk, id, text FROM chunks WHERE pk IN ({marks})", tuple(pks)
        ).fetchall()
        return {int(r[0]): (str(r[1]), str(r[2])) for r in rows}

    def neighbour_chunks(self, item_pk: int, low: int, high: int) -> list[sqlite3.Row]:
        """Chunks of one item with ``low <= seq <= high``, in order."""
        return self._all(
            "SELECT pk, item_pk, seq, id, text FROM chunks WHERE item_pk = ?"
            " AND seq BETWEEN ? AND ? ORDER BY seq",
            (item_pk, low, high),
        )

    # -- jobs -------------------------------------------------------------------------------

    def insert_job(
        self, instance_pk: int, job_id: str, source: str, description: str | None, created: float
    ) -> JobRow:
        cursor = self.conn.execute(
            "INSERT INTO jobs (instance_pk, id, source, description, created)"
            " VALUES (?, ?, ?, ?, ?)",
            (instance_pk, job_id, source, description, created),
        )
        job = self.get_job_by_pk(int(cursor.lastrowid or 0))
        assert job is not None
        return job

    def get_job(self, instance_pk: int, job_id: str) -> JobRow | None:
        row = self._one(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE instance_pk = ? AND id = ?",
            (instance_pk, job_id),
        )
        return None if row is None else JobRow(**dict(row))

    def get_job_by_pk(self, pk: int) -> JobRow | None:
        row = self._one(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE pk = ?", (pk,))
        return None if row is None else JobRow(**dict(row))

    def list_jobs(self, instance_pk: int) -> list[JobRow]:
        rows = self._all(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE instance_pk = ? ORDER BY pk DESC",
            (instance_pk,),
        )
        return [JobRow(**dict(r)) for r in rows]

    def update_job(self, /, pk: int, **fields: str | None) -> None:
        allowed = {"started_at", "last_seen_at", "ended_at", "end_reason"}
        for column, value in fields.items():
            if column not in allowed:
                raise ValueError(column)
            self.conn.execute(f"UPDATE jobs SET {column} = ? WHERE pk = ?", (value, pk))

    def last_ended_job(self, instance_pk: int) -> JobRow | None:
        row = self._one(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE instance_pk = ? AND ended_at IS NOT NULL"
            " ORDER BY pk DESC LIMIT 1",
            (instance_pk,),
        )
        return None if row is None else JobRow(**dict(row))

    def end_unfinished_jobs(self, now: str, reason: str) -> None:
        self.conn.execute(
            "UPDATE jobs SET ended_at = ?, end_reason = ? WHERE ended_at IS NULL", (now, reason)
        )

    def add_job_log(self, job_pk: int, created_ms: int, message: str, message_type: int) -> None:
        self.conn.execute(
            "INSERT INTO job_logs (job_pk, created_at, message, message_type) VALUES (?, ?, ?, ?)",
            (job_pk, created_ms, message, message_type),
        )

    def list_job_logs(self, job_pk: int, offset: int, limit: int) -> tuple[list[sqlite3.Row], int]:
        total = self._one("SELECT COUNT(*) AS n FROM job_logs WHERE job_pk = ?", (job_pk,))
        rows = self._all(
            "SELECT pk, created_at, message, message_type FROM job_logs WHERE job_pk = ?"
            " ORDER BY pk LIMIT ? OFFSET ?",
            (job_pk, limit, offset),
        )
        return rows, int(total["n"]) if total else 0

    # -- tokens -----------------------------------------------------------------------------

    def get_token(self, token_id: str) -> TokenRow | None:
        row = self._one("SELECT * FROM tokens WHERE id = ?", (token_id,))
        return None if row is None else _token(row)

    def list_tokens(self) -> list[TokenRow]:
        return [_token(r) for r in self._all("SELECT * FROM tokens ORDER BY seq")]

    def save_token(self, token: TokenRow) -> None:
        self.conn.execute(
            "INSERT INTO tokens (id, cf_api_id, cf_api_key, name, legacy, enabled, created_at,"
            " modified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
            " cf_api_id = excluded.cf_api_id, cf_api_key = excluded.cf_api_key,"
            " name = excluded.name, legacy = excluded.legacy, modified_at = excluded.modified_at",
            (
                token.id,
                token.cf_api_id,
                token.cf_api_key,
                token.name,
                int(token.legacy),
                int(token.enabled),
                token.created_at,
                token.modified_at,
            ),
        )

    def delete_token(self, token_id: str) -> None:
        self.conn.execute("DELETE FROM tokens WHERE id = ?", (token_id,))


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
        #: Free for users of ``read`` to keep derived data (see ``retrieval``).
        self.caches: dict[str, Any] = {}

    async def open(self) -> None:
        if self._data_dir is None:
            self._temp_dir = await asyncio.to_thread(tempfile.mkdtemp, prefix="ai-search-emulator-")
            self._path = str(Path(self._temp_dir) / DB_FILENAME)
        else:
            await asyncio.to_thread(self._data_dir.mkdir, parents=True, exist_ok=True)
            self._path = str(self._data_dir / DB_FILENAME)
        loop = asyncio.get_running_loop()
        self._db = await loop.run_in_executor(self._writer, Database.connect, self._path)

    def generation(self, instance_pk: int) -> int:
        """How many committed transactions changed this instance's searchable content."""
        return self._generations.get(instance_pk, 0)

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
        db.conn.execute("BEGIN")
        try:
            return fn(db, *args, **kwargs)
        finally:
            db.conn.execute("COMMIT")

    async def close(self) -> None:
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
