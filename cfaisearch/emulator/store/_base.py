"""What every query mixin needs: a connection and the set of changed instances."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any


class Queries:
    """One connection, always used inside a transaction (see ``Store``).

    The writer's instance records which instances' searchable content a
    transaction changed (``changed``), so ``Store`` can invalidate the
    retrieval caches once the transaction commits.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.changed: set[int] = set()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(sql, params).fetchone()
        return row

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()
