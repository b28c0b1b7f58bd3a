"""The official SDK's ``cloudflare.types.aisearch`` names.

Each is an alias of the model (or list of models) the same call returns
here, so type annotations written for the official SDK keep working after
the import swap (see docs/migrating.md). Resolved on first use: importing
this module loads no model module.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from typing import TypeAlias

    from cfaisearch.types.chat import ChatCompletion, NamespaceChatCompletion
    from cfaisearch.types.instances import Instance, InstanceListItem, InstanceStats
    from cfaisearch.types.namespaces import Namespace
    from cfaisearch.types.search import NamespaceSearchResult, SearchResult
    from cfaisearch.types.tokens import Token

    InstanceChatCompletionsResponse: TypeAlias = ChatCompletion
    InstanceCreateResponse: TypeAlias = Instance
    InstanceDeleteResponse: TypeAlias = Instance
    InstanceListResponse: TypeAlias = InstanceListItem
    InstanceReadResponse: TypeAlias = Instance
    InstanceSearchResponse: TypeAlias = SearchResult
    InstanceStatsResponse: TypeAlias = InstanceStats
    InstanceUpdateResponse: TypeAlias = Instance
    NamespaceChatCompletionsResponse: TypeAlias = NamespaceChatCompletion
    NamespaceCreateResponse: TypeAlias = Namespace
    NamespaceListResponse: TypeAlias = Namespace
    NamespaceReadResponse: TypeAlias = Namespace
    NamespaceSearchResponse: TypeAlias = NamespaceSearchResult
    NamespaceUpdateResponse: TypeAlias = Namespace
    TokenCreateResponse: TypeAlias = Token
    TokenListResponse: TypeAlias = Token
    TokenReadResponse: TypeAlias = Token
    TokenUpdateResponse: TypeAlias = Token

_ALIASES: Final[dict[str, str]] = {
    "InstanceChatCompletionsResponse": "ChatCompletion",
    "InstanceCreateResponse": "Instance",
    "InstanceDeleteResponse": "Instance",
    "InstanceListResponse": "InstanceListItem",
    "InstanceReadResponse": "Instance",
    "InstanceSearchResponse": "SearchResult",
    "InstanceStatsResponse": "InstanceStats",
    "InstanceUpdateResponse": "Instance",
    "NamespaceChatCompletionsResponse": "NamespaceChatCompletion",
    "NamespaceCreateResponse": "Namespace",
    "NamespaceListResponse": "Namespace",
    "NamespaceReadResponse": "Namespace",
    "NamespaceSearchResponse": "NamespaceSearchResult",
    "NamespaceUpdateResponse": "Namespace",
    "TokenCreateResponse": "Token",
    "TokenListResponse": "Token",
    "TokenReadResponse": "Token",
    "TokenUpdateResponse": "Token",
}
"""Official name -> what cfaisearch.types calls it (``list[X]``: a list of X)."""

__all__ = sorted(_ALIASES)


def resolve_alias(module: str, aliases: dict[str, str], name: str) -> Any:
    """The cfaisearch type that ``name`` of ``module`` stands for."""
    target = aliases.get(name)
    if target is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    types = importlib.import_module("cfaisearch.types")
    if target.startswith("list["):
        return list[getattr(types, target[5:-1])]  # type: ignore[misc]
    return getattr(types, target)


def __getattr__(name: str) -> Any:
    value = resolve_alias(__name__, _ALIASES, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
