"""Indexing jobs and their log entries."""

from __future__ import annotations

from typing import Literal

import attrs

from .._models import BaseModel

__all__ = ["Job", "JobLog", "JobSource"]

JobSource = Literal["user", "schedule"]
"""Who started a job. A value unknown to this version is kept as its string."""


@attrs.frozen(kw_only=True)
class Job(BaseModel):
    """An indexing (sync) job of an instance.

    Timestamps are strings, exactly as the API sends them (the official SDK
    types them the same way); ``ended_at``/``end_reason`` are set once the job
    has finished, failed or been cancelled.
    """

    id: str
    source: JobSource
    description: str | None = None
    end_reason: str | None = None
    ended_at: str | None = None
    last_seen_at: str | None = None
    started_at: str | None = None

    @property
    def ended(self) -> bool:
        """Whether the job has reached its end (finished, failed or cancelled)."""
        return self.ended_at is not None or self.end_reason is not None


@attrs.frozen(kw_only=True)
class JobLog(BaseModel):
    """One log line of a job."""

    id: int
    created_at: float
    message: str
    message_type: int
