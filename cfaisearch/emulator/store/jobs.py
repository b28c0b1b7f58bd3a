"""Sync jobs and job logs."""

from __future__ import annotations

import dataclasses
import sqlite3

from ._base import Queries

SCHEMA = """
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
CREATE INDEX IF NOT EXISTS jobs_running ON jobs (instance_pk) WHERE ended_at IS NULL;
"""


@dataclasses.dataclass
class JobRow:
    """A stored sync job."""

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


_JOB_COLUMNS = (
    "pk, instance_pk, id, source, description, created, started_at, last_seen_at, ended_at, "
    "end_reason"
)


class JobQueries(Queries):
    """Sync jobs and their logs."""

    def insert_job(
        self, instance_pk: int, job_id: str, source: str, description: str | None, created: float
    ) -> JobRow:
        """Record a new job (not started yet)."""
        cursor = self.conn.execute(
            "INSERT INTO jobs (instance_pk, id, source, description, created)"
            " VALUES (?, ?, ?, ?, ?)",
            (instance_pk, job_id, source, description, created),
        )
        job = self.get_job_by_pk(int(cursor.lastrowid or 0))
        assert job is not None
        return job

    def get_job(self, instance_pk: int, job_id: str) -> JobRow | None:
        """A job by instance and id, or ``None``."""
        row = self._one(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE instance_pk = ? AND id = ?",
            (instance_pk, job_id),
        )
        return None if row is None else JobRow(**dict(row))

    def get_job_by_pk(self, pk: int) -> JobRow | None:
        """A job by primary key, or ``None``."""
        row = self._one(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE pk = ?", (pk,))
        return None if row is None else JobRow(**dict(row))

    def list_jobs(self, instance_pk: int) -> list[JobRow]:
        """An instance's jobs, newest first."""
        rows = self._all(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE instance_pk = ? ORDER BY pk DESC",
            (instance_pk,),
        )
        return [JobRow(**dict(r)) for r in rows]

    def update_job(self, /, pk: int, **fields: str | None) -> None:
        """Set some of a job's times and end reason."""
        allowed = {"started_at", "last_seen_at", "ended_at", "end_reason"}
        for column, value in fields.items():
            if column not in allowed:
                raise ValueError(column)
            self.conn.execute(f"UPDATE jobs SET {column} = ? WHERE pk = ?", (value, pk))

    def last_ended_job(self, instance_pk: int) -> JobRow | None:
        """An instance's most recently ended job, or ``None``."""
        row = self._one(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE instance_pk = ? AND ended_at IS NOT NULL"
            " ORDER BY pk DESC LIMIT 1",
            (instance_pk,),
        )
        return None if row is None else JobRow(**dict(row))

    def end_unfinished_jobs(self, now: str, reason: str) -> None:
        """End every job still running, with ``reason``."""
        self.conn.execute(
            "UPDATE jobs SET ended_at = ?, end_reason = ? WHERE ended_at IS NULL", (now, reason)
        )

    def add_job_log(self, job_pk: int, created_ms: int, message: str, message_type: int) -> None:
        """Append an entry to a job's log."""
        self.conn.execute(
            "INSERT INTO job_logs (job_pk, created_at, message, message_type) VALUES (?, ?, ?, ?)",
            (job_pk, created_ms, message, message_type),
        )

    def list_job_logs(self, job_pk: int, offset: int, limit: int) -> tuple[list[sqlite3.Row], int]:
        """One page of a job's log, oldest first, and its total."""
        total = self._one("SELECT COUNT(*) AS n FROM job_logs WHERE job_pk = ?", (job_pk,))
        rows = self._all(
            "SELECT pk, created_at, message, message_type FROM job_logs WHERE job_pk = ?"
            " ORDER BY pk LIMIT ? OFFSET ?",
            (job_pk, limit, offset),
        )
        return rows, int(total["n"]) if total else 0
