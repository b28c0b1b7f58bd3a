"""Service API tokens."""

from __future__ import annotations

import dataclasses
import sqlite3

from ._base import Queries

SCHEMA = """
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
class TokenRow:
    """A stored service API token, secret included (never sent back)."""

    id: str
    cf_api_id: str
    cf_api_key: str
    name: str
    legacy: bool
    enabled: bool
    created_at: str
    modified_at: str


def _token(row: sqlite3.Row) -> TokenRow:
    values = dict(row)
    del values["seq"]
    values["legacy"] = bool(values["legacy"])
    values["enabled"] = bool(values["enabled"])
    return TokenRow(**values)


class TokenQueries(Queries):
    """Registered service API tokens (the secret is stored, never returned)."""

    def get_token(self, token_id: str) -> TokenRow | None:
        """A token by id, or ``None``."""
        row = self._one("SELECT * FROM tokens WHERE id = ?", (token_id,))
        return None if row is None else _token(row)

    def list_tokens(self) -> list[TokenRow]:
        """Every token, oldest first."""
        return [_token(r) for r in self._all("SELECT * FROM tokens ORDER BY seq")]

    def save_token(self, token: TokenRow) -> None:
        """Insert a token, or update its fields (``enabled`` and ``created_at`` stay)."""
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
        """Delete a token (callers check no instance uses it)."""
        self.conn.execute("DELETE FROM tokens WHERE id = ?", (token_id,))


#: Threads for short reads (GETs) and, separately, for searches: a GET never
#: waits in a queue behind searches. Searches are CPU-bound Python, so more
#: search threads than cores would only contend for the GIL.
