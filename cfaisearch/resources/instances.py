"""Instances in the default namespace (``/instances``)."""

from __future__ import annotations

from functools import cached_property

from ._base import AsyncResource
from .jobs import AsyncJobs

__all__ = ["AsyncInstances"]


class AsyncInstances(AsyncResource):
    """AI Search instances of the account's default namespace."""

    @cached_property
    def jobs(self) -> AsyncJobs:
        """Indexing jobs of an instance."""
        return AsyncJobs(self._client)
