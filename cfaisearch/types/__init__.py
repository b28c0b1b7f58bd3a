"""Response models and request shapes of the AI Search API.

Models (attrs, frozen) are what methods return; ``*Param`` TypedDicts describe
the dicts methods accept for nested parameters.

Imported lazily: ``import cfaisearch.types`` is cheap, and each model module
loads when one of its names is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    # What type checkers see (a star import re-exports its module's __all__);
    # tests/test_public_names.py checks it names the same modules as _EXPORTS.
    from .chat import *  # noqa: F403
    from .directory_sync import *  # noqa: F403
    from .instances import *  # noqa: F403
    from .items import *  # noqa: F403
    from .jobs import *  # noqa: F403
    from .namespaces import *  # noqa: F403
    from .params import *  # noqa: F403
    from .search import *  # noqa: F403
    from .shared import *  # noqa: F403
    from .tokens import *  # noqa: F403

_EXPORTS: Final[dict[str, tuple[str, ...]]] = {
    ".chat": (
        "ChatCompletion",
        "ChatUsage",
        "Choice",
        "ChoiceMessage",
        "ContentFile",
        "ContentPart",
        "ImageURL",
        "MessageRole",
        "NamespaceChatCompletion",
    ),
    ".directory_sync": (
        "SyncEvent",
        "SyncEventKind",
        "SyncFailure",
        "SyncMetadata",
        "SyncReport",
    ),
    ".instances": (
        "BoostBy",
        "BoostDirection",
        "CacheThreshold",
        "CacheTTL",
        "ContentSelector",
        "CustomMetadataField",
        "EndpointOptions",
        "EngineR2",
        "EngineVectorize",
        "FusionMethod",
        "IndexMethod",
        "IndexingOptions",
        "Instance",
        "InstanceListItem",
        "InstanceMetadata",
        "InstanceStats",
        "InstanceType",
        "KeywordMatchMode",
        "KeywordTokenizer",
        "McpOptions",
        "MetadataType",
        "PublicEndpointParams",
        "RateLimit",
        "RetrievalOptions",
        "SourceParams",
        "StatsEngine",
        "SyncInterval",
        "WebCrawlerDiscoverOptions",
        "WebCrawlerParams",
        "WebCrawlerParseOptions",
    ),
    ".items": (
        "DONE_STATUSES",
        "Item",
        "ItemChunk",
        "ItemChunksPage",
        "ItemDeleteResult",
        "ItemLog",
        "ItemLogsPage",
        "ItemStatus",
        "ItemUploadResult",
        "UploadWarning",
    ),
    ".jobs": (
        "Job",
        "JobLog",
        "JobSource",
    ),
    ".namespaces": ("Namespace", "NamespacePublicEndpointParams"),
    ".params": (
        "AISearchOptionsParam",
        "BoostByParam",
        "CacheOptionsParam",
        "ContentFileParam",
        "ContentPartParam",
        "ContentSelectorParam",
        "CustomMetadataFieldParam",
        "EndpointOptionsParam",
        "FileContentPartParam",
        "ImageContentPartParam",
        "ImageURLParam",
        "IndexMethodParam",
        "IndexingOptionsParam",
        "InstanceMetadataParam",
        "McpOptionsParam",
        "MessageParam",
        "NamespaceAISearchOptionsParam",
        "NamespacePublicEndpointParam",
        "PublicEndpointParam",
        "QueryRewriteParam",
        "RateLimitParam",
        "RerankingParam",
        "RetrievalOptionsParam",
        "RetrievalParam",
        "SourceParam",
        "TextContentPartParam",
        "WebCrawlerDiscoverOptionsParam",
        "WebCrawlerParam",
        "WebCrawlerParseOptionsParam",
    ),
    ".search": (
        "ChunkItemRef",
        "InstanceError",
        "NamespaceSearchChunk",
        "NamespaceSearchResult",
        "QueryKind",
        "ScoringDetails",
        "SearchChunk",
        "SearchResult",
    ),
    ".shared": ("ResultInfo",),
    ".tokens": ("Token",),
}
"""Module -> the public names it defines: the package's one list of names.

Each entry mirrors that module's ``__all__`` (tests/test_public_names.py checks
it), so a name is found without importing every module.
"""

_HOMES: Final = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    module = _HOMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
