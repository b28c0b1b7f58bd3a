"""The official SDK's ``cloudflare.types.aisearch.namespaces`` names.

Each is an alias of the model (or list of models) the same call returns
here, so type annotations written for the official SDK keep working after
the import swap (see docs/migrating.md). Resolved on first use: importing
this module loads no model module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from cfaisearch.types.aisearch import resolve_alias

if TYPE_CHECKING:
    from typing import TypeAlias

    from cfaisearch.types.chat import ChatCompletion
    from cfaisearch.types.instances import Instance, InstanceListItem, InstanceStats
    from cfaisearch.types.search import SearchResult

    InstanceChatCompletionsResponse: TypeAlias = ChatCompletion
    InstanceCreateResponse: TypeAlias = Instance
    InstanceDeleteResponse: TypeAlias = Instance
    InstanceListResponse: TypeAlias = InstanceListItem
    InstanceReadResponse: TypeAlias = Instance
    InstanceSearchResponse: TypeAlias = SearchResult
    InstanceStatsResponse: TypeAlias = InstanceStats
    InstanceUpdateResponse: TypeAlias = Instance

_ALIASES: Final[dict[str, str]] = {
    "InstanceChatCompletionsResponse": "ChatCompletion",
    "InstanceCreateResponse": "Instance",
    "InstanceDeleteResponse": "Instance",
    "InstanceListResponse": "InstanceListItem",
    "InstanceReadResponse": "Instance",
    "InstanceSearchResponse": "SearchResult",
    "InstanceStatsResponse": "InstanceStats",
    "InstanceUpdateResponse": "Instance",
}
"""Official name -> what cfaisearch.types calls it (``list[X]``: a list of X)."""

__all__ = sorted(_ALIASES)


def __getattr__(name: str) -> Any:
    value = resolve_alias(__name__, _ALIASES, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
