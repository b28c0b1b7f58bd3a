"""The ``client.aisearch`` namespace."""

from __future__ import annotations

from functools import cached_property

from ._base import AsyncResource
from .instances import AsyncInstances

__all__ = ["AsyncAISearch"]


class AsyncAISearch(AsyncResource):
    """Cloudflare AI Search (formerly AutoRAG)."""

    @cached_property
    def instances(self) -> AsyncInstances:
        """Instances of the default namespace."""
        return AsyncInstances(self._client)
