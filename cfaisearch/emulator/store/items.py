"""Items, chunks and item logs, and the reads that retrieval makes over them."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ._base import Queries
from .instances import fts_table

#: Pages of merged keyword index written per merge step (one write transaction).
MERGE_PAGES = 500

SCHEMA = """
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
CREATE INDEX IF NOT EXISTS items_by_status ON items (status, instance_pk);
"""


@dataclasses.dataclass
class ItemRow:
    """A stored item, without its content."""

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
    """A stored chunk, without its vector."""

    pk: int
    item_pk: int
    seq: int
    id: str
    text: str
    start_byte: int
    end_byte: int


@dataclasses.dataclass
class NewChunk:
    """A chunk ready to store: text, position in the item and encoded vector."""

    seq: int
    id: str
    text: str
    start_byte: int
    end_byte: int
    #: The scorer's binary encoding (see ``vectors``), never JSON.
    vector: bytes


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


def _item(row: sqlite3.Row) -> ItemRow:
    values = dict(row)
    values["raw_metadata"] = json.loads(values["raw_metadata"])
    values["metadata"] = json.loads(values["metadata"])
    return ItemRow(**values)


class ItemQueries(Queries):
    """Items, their chunks (text, vectors and keyword index rows), logs and retrieval reads."""

    def get_item(self, instance_pk: int, item_id: str) -> ItemRow | None:
        """An item by instance and id, or ``None``."""
        row = self._one(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE instance_pk = ? AND id = ?",
            (instance_pk, item_id),
        )
        return None if row is None else _item(row)

    def get_item_by_pk(self, pk: int) -> ItemRow | None:
        """An item by primary key, or ``None``."""
        row = self._one(f"SELECT {_ITEM_COLUMNS} FROM items WHERE pk = ?", (pk,))
        return None if row is None else _item(row)

    def find_items_by_key(self, instance_pk: int, key: str) -> list[ItemRow]:
        """An instance's items with this key (one per source)."""
        rows = self._all(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE instance_pk = ? AND key = ? ORDER BY pk",
            (instance_pk, key),
        )
        return [_item(r) for r in rows]

    def list_items(self, instance_pk: int, source_id: str | None = None) -> list[ItemRow]:
        """An instance's items (of one source, if given), oldest first."""
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
            # instr: a plain substring test, no LIKE wildcards to escape.
            where.append("instr(py_lower(key), ?) > 0")
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
        """The stored bytes of an item, or ``None``."""
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
        """Mark an item to be indexed again."""
        self.conn.execute(
            "UPDATE items SET status = 'queued', next_action = 'INDEX', error = NULL,"
            " last_seen_at = ? WHERE pk = ?",
            (now, pk),
        )

    def touch_item(self, pk: int, now: str) -> None:
        """Record that a sync saw an unchanged item."""
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
        """Set an item's status (and error, and metadata when given)."""
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
        """Replace an item's chunks and keyword index rows; the chunk count."""
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

    def merge_keyword_index(self, instance_pk: int) -> bool:
        """One step of merging an instance's keyword index; whether there was work to do.

        Every write adds a segment to FTS5's index, and a query reads every
        segment: after 1,000 one-item uploads a two-word query took 9 times as
        long as on a merged index. Merging (levels of two segments into one,
        ``MERGE_PAGES`` pages per step) changes no content, so no cache is stale.
        """
        table = fts_table(instance_pk)
        exists = self._one("SELECT 1 FROM sqlite_master WHERE name = ?", (table,))
        if exists is None:  # the instance was deleted meanwhile
            return False
        self.conn.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('usermerge', 2)")
        before = self.conn.total_changes
        merge = f"INSERT INTO {table} ({table}, rank) VALUES ('merge', ?)"
        self.conn.execute(merge, (MERGE_PAGES,))
        # FTS5's documented test: fewer than two changes means nothing was merged.
        return self.conn.total_changes - before >= 2

    def _drop_chunks(self, item_pk: int, table: str) -> None:
        self.conn.execute(
            f"DELETE FROM {table} WHERE rowid IN (SELECT pk FROM chunks WHERE item_pk = ?)",
            (item_pk,),
        )
        self.conn.execute("DELETE FROM chunks WHERE item_pk = ?", (item_pk,))

    def delete_item(self, item: ItemRow) -> None:
        """Delete an item with its chunks, keyword rows and logs."""
        self.changed.add(item.instance_pk)
        self._drop_chunks(item.pk, fts_table(item.instance_pk))
        self.conn.execute("DELETE FROM items WHERE pk = ?", (item.pk,))

    def list_chunks(self, item_pk: int, offset: int, limit: int) -> tuple[list[ChunkRow], int]:
        """One page of an item's chunks, in order, and their total."""
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
        """Append an entry to an item's log."""
        self.conn.execute(
            "INSERT INTO item_logs (item_pk, timestamp, action, file_key, message, chunk_count,"
            " processing_time_ms, error_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (item_pk, now, action, file_key, message, chunk_count, processing_time_ms, error_type),
        )

    def list_item_logs(self, item_pk: int, after: int, limit: int) -> list[sqlite3.Row]:
        """Up to ``limit`` log entries of an item after the cursor ``after``."""
        return self._all(
            "SELECT * FROM item_logs WHERE item_pk = ? AND pk > ? ORDER BY pk LIMIT ?",
            (item_pk, after, limit),
        )

    def pending_items(self) -> list[int]:
        """Items still queued or running (to resume after a restart)."""
        rows = self._all("SELECT pk FROM items WHERE status IN ('queued', 'running') ORDER BY pk")
        return [int(r["pk"]) for r in rows]

    def storage_usage(self, instance_pk: int) -> dict[str, int]:
        """Object count, payload and metadata bytes, and vector count of an instance."""
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
        """How many items of an instance are in each status."""
        rows = self._all(
            "SELECT status, COUNT(*) AS n FROM items WHERE instance_pk = ? GROUP BY status",
            (instance_pk,),
        )
        return {str(r["status"]): int(r["n"]) for r in rows}

    def item_errors(self, instance_pk: int) -> dict[str, str]:
        """{key: error} of an instance's items that failed."""
        rows = self._all(
            "SELECT key, error FROM items WHERE instance_pk = ? AND status = 'error' ORDER BY key",
            (instance_pk,),
        )
        return {str(r["key"]): str(r["error"]) for r in rows}

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
