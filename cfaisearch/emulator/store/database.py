"""The connection: schema creation and every aggregate's queries in one object."""

from __future__ import annotations

import sqlite3

from . import instances, items, jobs, tokens
from .instances import InstanceQueries
from .items import ItemQueries
from .jobs import JobQueries
from .tokens import TokenQueries

MMAP_BYTES = 1 << 30
CACHE_KIB = 64 * 1024
#: In creation order: later tables reference earlier ones.
SCHEMA = "\n".join((instances.SCHEMA, items.SCHEMA, jobs.SCHEMA, tokens.SCHEMA))


def _lower(value: str | None) -> str | None:
    return None if value is None else str(value).lower()


class Database(InstanceQueries, ItemQueries, JobQueries, TokenQueries):
    """Synchronous operations on one connection, always inside a transaction."""

    @classmethod
    def connect(cls, path: str, *, reader: bool = False) -> Database:
        """Open ``path``; the writer creates the schema, readers are read-only."""
        # Reader connections are created on one pool thread and closed from another.
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=not reader)
        conn.row_factory = sqlite3.Row
        # SQLite's lower() folds ASCII only; item searches match keys as Python does.
        conn.create_function("py_lower", 1, _lower, deterministic=True)
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
            # CREATE ... IF NOT EXISTS throughout: opening an existing file is a no-op.
            conn.executescript(SCHEMA)
        return cls(conn)
