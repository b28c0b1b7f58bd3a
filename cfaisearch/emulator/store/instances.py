"""Namespaces, instances (with their FTS5 tables) and the key-value meta table."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from typing import Any

from ._base import Queries

SCHEMA = """
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
"""


DEFAULT_NAMESPACE = "default"
TOKENIZERS = {"porter": "porter unicode61", "trigram": "trigram"}


@dataclasses.dataclass
class NamespaceRow:
    """A stored namespace."""

    name: str
    description: str | None
    public_endpoint_id: str | None
    public_endpoint_params: dict[str, Any] | None
    created_at: str


@dataclasses.dataclass
class InstanceRow:
    """A stored instance; ``config`` holds every setting as the API shows it."""

    pk: int
    namespace: str
    id: str
    config: dict[str, Any]
    created_at: str
    modified_at: str
    last_activity: str | None
    last_manual_job: float | None
    last_sync: float | None


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


def fts_table(instance_pk: int) -> str:
    # One FTS5 table per instance: BM25 statistics then come from that
    # instance's documents only, and the tokenizer can differ per instance.
    """Name of an instance's FTS5 table."""
    return f"fts_{int(instance_pk)}"


class InstanceQueries(Queries):
    """Settings (meta), namespaces, instances, their keyword indexes and busy checks."""

    def get_meta(self, key: str) -> str | None:
        """A value of the key-value meta table, or ``None``."""
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the key-value meta table."""
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def get_namespace(self, name: str) -> NamespaceRow | None:
        """A namespace by name, or ``None``."""
        row = self._one("SELECT * FROM namespaces WHERE name = ?", (name,))
        return None if row is None else _namespace(row)

    def save_namespace(self, ns: NamespaceRow) -> None:
        """Insert a namespace, or update its description and endpoint."""
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
        """Delete a namespace (callers check it is empty)."""
        self.conn.execute("DELETE FROM namespaces WHERE name = ?", (name,))

    def list_namespaces(self) -> list[NamespaceRow]:
        """Every namespace, oldest first."""
        return [_namespace(r) for r in self._all("SELECT * FROM namespaces ORDER BY seq")]

    def get_instance(self, namespace: str, instance_id: str) -> InstanceRow | None:
        """An instance by namespace and id, or ``None``."""
        row = self._one(
            "SELECT * FROM instances WHERE namespace = ? AND id = ?", (namespace, instance_id)
        )
        return None if row is None else _instance(row)

    def get_instance_by_pk(self, pk: int) -> InstanceRow | None:
        """An instance by primary key, or ``None``."""
        row = self._one("SELECT * FROM instances WHERE pk = ?", (pk,))
        return None if row is None else _instance(row)

    def list_instances(self, namespace: str | None = None) -> list[InstanceRow]:
        """Instances of one namespace (or all), oldest first."""
        if namespace is None:
            rows = self._all("SELECT * FROM instances ORDER BY pk")
        else:
            rows = self._all(
                "SELECT * FROM instances WHERE namespace = ? ORDER BY pk", (namespace,)
            )
        return [_instance(r) for r in rows]

    def count_instances(self, namespace: str) -> int:
        """How many instances a namespace holds."""
        row = self._one("SELECT COUNT(*) AS n FROM instances WHERE namespace = ?", (namespace,))
        return int(row["n"]) if row else 0

    def insert_instance(
        self, namespace: str, instance_id: str, config: dict[str, Any], now: str, tokenizer: str
    ) -> InstanceRow:
        """Store a new instance and create its keyword index."""
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
        """Replace an instance's configuration."""
        self.changed.add(pk)
        self.conn.execute(
            "UPDATE instances SET config = ?, modified_at = ? WHERE pk = ?",
            (json.dumps(config), now, pk),
        )

    def delete_instance(self, pk: int) -> None:
        """Delete an instance, its keyword index and (cascading) its items and jobs."""
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
        """Set the given activity and sync times; ``None`` leaves one unchanged."""
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
        """Create an instance's FTS5 table with the tokenizer it asks for."""
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
