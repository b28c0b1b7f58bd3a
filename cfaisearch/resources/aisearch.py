"""The ``client.aisearch`` namespace."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from ._base import AsyncResource

if TYPE_CHECKING:
    from .instances import AsyncInstances
    from .namespaces import AsyncNamespaces
    from .tokens import AsyncTokens

__all__ = ["AsyncAISearch"]


class AsyncAISearch(AsyncResource):
    """Cloudflare AI Search (formerly AutoRAG)."""

    @cached_property
    def instances(self) -> AsyncInstances:
        """Instances addressed by id alone (Cloudflare now prefers ``namespaces.instances``)."""
        from .instances import AsyncInstances

        return AsyncInstances(self._client)

    @cached_property
    def namespaces(self) -> AsyncNamespaces:
        """Namespaces, their instances, jobs and items."""
        from .namespaces import AsyncNamespaces

        return AsyncNamespaces(self._client)

    @cached_property
    def tokens(self) -> AsyncTokens:
        """Service tokens used to read R2 data sources."""
        from .tokens import AsyncTokens

        return AsyncTokens(self._client)
