"""Request shapes: the dictionaries that methods accept for nested parameters.

Plain dicts are sent as they are; these TypedDicts only let type checkers
verify them, and mirror the official SDK's ``*_params`` types key for key (so
dicts written for it work here unchanged). Every name ends in ``Param`` to
keep it apart from the response model of the same noun (``IndexMethodParam``
is what you send, ``IndexMethod`` what you get back).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, TypeAlias

if sys.version_info >= (3, 11):
    from typing import Required, TypedDict
else:  # pragma: no cover - exercised on 3.10 only
    from typing_extensions import Required, TypedDict

from .chat import MessageRole
from .instances import (
    BoostDirection,
    CacheThreshold,
    CacheTTL,
    FusionMethod,
    InstanceType,
    KeywordMatchMode,
    KeywordTokenizer,
    MetadataType,
    SyncInterval,
)

__all__ = [
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
]

# -- instance configuration ---------------------------------------------------------


class CustomMetadataFieldParam(TypedDict, total=False):
    data_type: Required[MetadataType]
    field_name: Required[str]
    """Case-insensitive; ``timestamp``, ``folder`` and ``filename`` are reserved."""


class IndexMethodParam(TypedDict, total=False):
    """At least one must be true; changing it re-indexes everything."""

    keyword: Required[bool]
    vector: Required[bool]


class IndexingOptionsParam(TypedDict, total=False):
    keyword_tokenizer: KeywordTokenizer
    use_ocr: bool


class InstanceMetadataParam(TypedDict, total=False):
    created_from_aisearch_wizard: bool
    worker_domain: str


class EndpointOptionsParam(TypedDict, total=False):
    disabled: bool


class McpOptionsParam(TypedDict, total=False):
    description: str
    disabled: bool


class RateLimitParam(TypedDict, total=False):
    period_ms: int
    requests: int
    technique: Literal["fixed", "sliding"]


class PublicEndpointParam(TypedDict, total=False):
    """Replaced as a whole on update: resend every setting you want to keep."""

    authorized_hosts: Sequence[str]
    chat_completions_endpoint: EndpointOptionsParam
    custom_domains: Sequence[str] | None
    default_domain_enabled: bool
    enabled: bool
    mcp: McpOptionsParam
    rate_limit: RateLimitParam
    search_endpoint: EndpointOptionsParam


class NamespacePublicEndpointParam(PublicEndpointParam, total=False):
    instances_allowed: Sequence[str]
    """Instance ids the namespace endpoint searches (at most 10)."""


class BoostByParam(TypedDict, total=False):
    field: Required[str]
    """``timestamp`` or a ``custom_metadata`` field."""
    direction: BoostDirection


class RetrievalOptionsParam(TypedDict, total=False):
    boost_by: Sequence[BoostByParam]
    keyword_match_mode: KeywordMatchMode


class WebCrawlerDiscoverOptionsParam(TypedDict, total=False):
    depth: float
    include_external_links: bool
    include_subdomains: bool
    limit: float
    max_age: float
    source: Literal["all", "sitemaps", "links"]


class ContentSelectorParam(TypedDict, total=False):
    path: Required[str]
    selector: Required[str]


class WebCrawlerParseOptionsParam(TypedDict, total=False):
    content_selector: Sequence[ContentSelectorParam]
    include_headers: Mapping[str, str]
    include_images: bool
    specific_sitemaps: Sequence[str]
    use_browser_rendering: bool


class WebCrawlerParam(TypedDict, total=False):
    discover_options: WebCrawlerDiscoverOptionsParam
    parse_options: WebCrawlerParseOptionsParam
    parse_type: Literal["sitemap", "discover"]


class SourceParam(TypedDict, total=False):
    exclude_items: Sequence[str]
    include_items: Sequence[str]
    prefix: str
    r2_jurisdiction: str
    web_crawler: WebCrawlerParam


# -- instance settings -------------------------------------------------------------------
# The keywords of an instance's ``create`` and ``update``, declared once here:
# scripts/gen_sync.py writes them (sorted, each also accepting ``NOT_GIVEN``)
# into both methods of both instance families and both clients, and
# tests/integration/test_settings_roundtrip.py checks the emulator keeps each one.


class _InstanceSettings(TypedDict, total=False):
    """What ``create`` and ``update`` both accept."""

    ai_gateway_id: str | None
    aisearch_model: str | None
    cache: bool
    cache_threshold: CacheThreshold
    cache_ttl: CacheTTL
    chunk: bool
    chunk_overlap: int
    chunk_size: int
    custom_metadata: Iterable[CustomMetadataFieldParam]
    embedding_model: str | None
    fusion_method: FusionMethod
    index_method: IndexMethodParam
    indexing_options: IndexingOptionsParam | None
    max_num_results: int
    metadata: InstanceMetadataParam
    public_endpoint_params: PublicEndpointParam
    reranking: bool
    reranking_model: str | None
    retrieval_options: RetrievalOptionsParam | None
    rewrite_model: str | None
    rewrite_query: bool
    score_threshold: float
    source: str | None
    source_params: SourceParam | None
    sync_interval: SyncInterval
    token_id: str


class _InstanceCreateSettings(_InstanceSettings, total=False):
    """The settings of a new instance."""

    hybrid_search_enabled: bool
    type: InstanceType | None


class _InstanceUpdateSettings(_InstanceSettings, total=False):
    """The settings an existing instance can change."""

    paused: bool
    summarization: bool
    summarization_model: str | None
    system_prompt_aisearch: str | None
    system_prompt_index_summarization: str | None
    system_prompt_rewrite_query: str | None


# -- conversations ----------------------------------------------------------------------


class TextContentPartParam(TypedDict, total=False):
    text: Required[str]
    type: Required[Literal["text"]]


class ImageURLParam(TypedDict, total=False):
    url: Required[str]


class ImageContentPartParam(TypedDict, total=False):
    image_url: Required[ImageURLParam]
    type: Required[Literal["image_url"]]


class ContentFileParam(TypedDict, total=False):
    filename: Required[str]
    file_data: str
    file_id: str


class FileContentPartParam(TypedDict, total=False):
    file: Required[ContentFileParam]
    type: Required[Literal["file"]]


ContentPartParam: TypeAlias = TextContentPartParam | ImageContentPartParam | FileContentPartParam


class MessageParam(TypedDict, total=False):
    """One conversation turn. For multimodal search, put parts on the last user turn."""

    content: Required[str | Sequence[ContentPartParam] | None]
    role: Required[MessageRole]


# -- retrieval options --------------------------------------------------------------------


class CacheOptionsParam(TypedDict, total=False):
    cache_threshold: CacheThreshold
    enabled: bool


class QueryRewriteParam(TypedDict, total=False):
    enabled: bool
    model: str
    rewrite_prompt: str


class RerankingParam(TypedDict, total=False):
    enabled: bool
    match_threshold: float
    model: str


class RetrievalParam(TypedDict, total=False):
    boost_by: Sequence[BoostByParam]
    """Replaces the instance's boosts for this request; ``[]`` turns boosting off."""
    context_expansion: int
    filters: Mapping[str, Any]
    """A metadata filter, e.g. ``{"folder": "docs/", "timestamp": {"$gte": 1735689600}}``."""
    fusion_method: FusionMethod
    keyword_match_mode: KeywordMatchMode
    match_threshold: float
    max_num_results: int
    retrieval_type: Literal["vector", "keyword", "hybrid"]
    return_on_failure: bool


class AISearchOptionsParam(TypedDict, total=False):
    """Per-request retrieval settings (``aisearch_options=``)."""

    cache: CacheOptionsParam
    custom_metadata: Mapping[str, str | float | bool]
    """At most 2 entries, attached to AI Gateway logs of this request."""
    query_rewrite: QueryRewriteParam
    reranking: RerankingParam
    retrieval: RetrievalParam


class NamespaceAISearchOptionsParam(AISearchOptionsParam, total=False):
    instance_ids: Required[Sequence[str]]
    """The namespace's instances to query (1-10)."""
