"""Response models and request shapes of the AI Search API."""

from __future__ import annotations

from .jobs import Job, JobLog, JobSource
from .shared import ResultInfo

__all__ = ["Job", "JobLog", "JobSource", "ResultInfo"]
