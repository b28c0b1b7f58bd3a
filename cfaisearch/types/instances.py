"""AI Search instances: their configuration, list entries and statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import attrs

from .._models import BaseModel
from .._wire import wire

__all__ = [
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
]

# Enumerations: a value unknown to this version is kept as it came.
CacheThreshold = Literal["super_strict_match", "close_enough", "flexible_friend", "anything_goes"]
CacheTTL = Literal[600, 1800, 3600, 7200, 21600, 43200, 86400, 172800, 259200, 518400]
"""Similarity-cache lifetime in seconds (10 minutes to 6 days)."""
SyncInterval = Literal[900, 1800, 3600, 7200, 14400, 21600, 43200, 86400]
"""Seconds between scheduled syncs of an external source (15 minutes to 24 hours)."""
FusionMethod = Literal["max", "rrf"]
InstanceType = Literal["r2", "web-crawler"]
KeywordMatchMode = Literal["and", "or"]
KeywordTokenizer = Literal["porter", "trigram"]
BoostDirection = Literal["asc", "desc", "exists", "not_exists"]
MetadataType = Literal["text", "number", "boolean", "datetime"]


@attrs.frozen(kw_only=True)
class CustomMetadataField(BaseModel):
    """A filterable metadata field of an instance's schema."""

    data_type: MetadataType
    field_name: str


@attrs.frozen(kw_only=True)
class IndexMethod(BaseModel):
    """Which indexes an instance keeps: vector (embeddings), keyword (BM25), or both."""

    keyword: bool
    vector: bool


@attrs.frozen(kw_only=True)
class IndexingOptions(BaseModel):
    keyword_tokenizer: KeywordTokenizer | None = None
    use_ocr: bool | None = None


@attrs.frozen(kw_only=True)
class InstanceMetadata(BaseModel):
    created_from_aisearch_wizard: bool | None = None
    worker_domain: str | None = None


@attrs.frozen(kw_only=True)
class EndpointOptions(BaseModel):
    """Settings of one public endpoint path (search or chat completions)."""

    disabled: bool | None = None


@attrs.frozen(kw_only=True)
class McpOptions(BaseModel):
    """Settings of the public MCP endpoint."""

    description: str | None = None
    disabled: bool | None = None


@attrs.frozen(kw_only=True)
class RateLimit(BaseModel):
    """Rate limit shared by all public endpoints of an instance or namespace."""

    period_ms: int | None = None
    requests: int | None = None
    technique: Literal["fixed", "sliding"] | None = None


@attrs.frozen(kw_only=True)
class PublicEndpointParams(BaseModel):
    """The unauthenticated public endpoint of an instance."""

    authorized_hosts: list[str] | None = None
    chat_completions_endpoint: EndpointOptions | None = None
    custom_domains: list[str] | None = None
    default_domain_enabled: bool | None = None
    enabled: bool | None = None
    mcp: McpOptions | None = None
    rate_limit: RateLimit | None = None
    search_endpoint: EndpointOptions | None = None


@attrs.frozen(kw_only=True)
class BoostBy(BaseModel):
    """A metadata field that boosts matching chunks.

    ``data_type`` is only reported by instance lists.
    """

    field: str
    data_type: MetadataType | None = attrs.field(default=None, metadata=wire("dataType"))
    direction: BoostDirection | None = None


@attrs.frozen(kw_only=True)
class RetrievalOptions(BaseModel):
    boost_by: list[BoostBy] | None = None
    keyword_match_mode: KeywordMatchMode | None = None


@attrs.frozen(kw_only=True)
class WebCrawlerDiscoverOptions(BaseModel):
    """Options of ``parse_type="discover"`` crawls."""

    depth: float | None = None
    include_external_links: bool | None = None
    include_subdomains: bool | None = None
    limit: float | None = None
    max_age: float | None = None
    source: Literal["all", "sitemaps", "links"] | None = None


@attrs.frozen(kw_only=True)
class ContentSelector(BaseModel):
    """Index only the element matching ``selector`` on pages matching ``path``."""

    path: str
    selector: str


@attrs.frozen(kw_only=True)
class WebCrawlerParseOptions(BaseModel):
    content_selector: list[ContentSelector] | None = None
    include_headers: dict[str, str] | None = None
    include_images: bool | None = None
    specific_sitemaps: list[str] | None = None
    use_browser_rendering: bool | None = None


@attrs.frozen(kw_only=True)
class WebCrawlerParams(BaseModel):
    discover_options: WebCrawlerDiscoverOptions | None = None
    parse_options: WebCrawlerParseOptions | None = None
    parse_type: Literal["sitemap", "discover"] | None = None


@attrs.frozen(kw_only=True)
class SourceParams(BaseModel):
    """What to read from the data source (paths, prefix, crawler settings)."""

    exclude_items: list[str] | None = None
    include_items: list[str] | None = None
    prefix: str | None = None
    r2_jurisdiction: str | None = None
    web_crawler: WebCrawlerParams | None = None


@attrs.frozen(kw_only=True)
class Instance(BaseModel):
    """An AI Search instance, as create, read, update and delete return it."""

    id: str
    created_at: datetime
    modified_at: datetime
    ai_gateway_id: str | None = None
    aisearch_model: str | None = attrs.field(default=None, metadata=wire("ai_search_model"))
    cache: bool | None = None
    cache_threshold: CacheThreshold | None = None
    cache_ttl: CacheTTL | None = None
    chunk_overlap: int | None = None
    chunk_size: int | None = None
    created_by: str | None = None
    custom_metadata: list[CustomMetadataField] | None = None
    embedding_model: str | None = None
    enable: bool | None = None
    engine_version: float | None = None
    fusion_method: FusionMethod | None = None
    hybrid_search_enabled: bool | None = None
    index_method: IndexMethod | None = None
    indexing_options: IndexingOptions | None = None
    last_activity: datetime | None = None
    max_num_results: int | None = None
    metadata: InstanceMetadata | None = None
    modified_by: str | None = None
    namespace: str | None = None
    paused: bool | None = None
    public_endpoint_id: str | None = None
    public_endpoint_params: PublicEndpointParams | None = None
    reranking: bool | None = None
    reranking_model: str | None = None
    retrieval_options: RetrievalOptions | None = None
    rewrite_model: str | None = None
    rewrite_query: bool | None = None
    score_threshold: float | None = None
    source: str | None = None
    source_params: SourceParams | None = None
    status: str | None = None
    sync_interval: SyncInterval | None = None
    token_id: str | None = None
    type: InstanceType | None = None


@attrs.frozen(kw_only=True)
class InstanceListItem(BaseModel):
    """An instance as lists return it.

    Lists always report the core settings, and add the chunking, summarization
    and system-prompt settings that single-instance responses leave out.
    """

    id: str
    ai_gateway_id: str | None = None
    aisearch_model: str | None = attrs.field(default=None, metadata=wire("ai_search_model"))
    cache: bool
    cache_threshold: CacheThreshold | None = None
    cache_ttl: CacheTTL
    chunk: bool
    chunk_overlap: float | None = None
    chunk_size: float | None = None
    created_at: datetime
    created_by: str | None = None
    custom_metadata: list[CustomMetadataField] | None = None
    embedding_model: str | None = None
    enable: bool
    engine_version: float
    fusion_method: FusionMethod
    hybrid_search_enabled: bool
    index_method: IndexMethod
    indexing_options: IndexingOptions | None = None
    last_activity: datetime | None = None
    max_num_results: float | None = None
    metadata: InstanceMetadata | None = None
    modified_at: datetime
    modified_by: str | None = None
    namespace: str
    paused: bool
    public_endpoint_id: str | None = None
    public_endpoint_params: PublicEndpointParams | None = None
    reranking: bool
    reranking_model: str | None = None
    retrieval_options: RetrievalOptions | None = None
    rewrite_model: str | None = None
    rewrite_query: bool
    score_threshold: float | None = None
    source: str | None = None
    source_params: SourceParams | None = None
    status: str
    summarization: bool
    summarization_model: str | None = None
    sync_interval: SyncInterval
    system_prompt_aisearch: str | None = attrs.field(
        default=None, metadata=wire("system_prompt_ai_search")
    )
    system_prompt_index_summarization: str | None = None
    system_prompt_rewrite_query: str | None = None
    token_id: str | None = None
    type: InstanceType | None = None


@attrs.frozen(kw_only=True)
class EngineR2(BaseModel):
    """Storage used by a managed instance's built-in R2 bucket."""

    metadata_size_bytes: int = attrs.field(metadata=wire("metadataSizeBytes"))
    object_count: int = attrs.field(metadata=wire("objectCount"))
    payload_size_bytes: int = attrs.field(metadata=wire("payloadSizeBytes"))


@attrs.frozen(kw_only=True)
class EngineVectorize(BaseModel):
    """A managed instance's built-in vector index."""

    dimensions: int
    vectors_count: int = attrs.field(metadata=wire("vectorsCount"))


@attrs.frozen(kw_only=True)
class StatsEngine(BaseModel):
    """Storage and index facts; only managed instances report them."""

    r2: EngineR2 | None = None
    vectorize: EngineVectorize | None = None


@attrs.frozen(kw_only=True)
class InstanceStats(BaseModel):
    """Item counts per status and indexing activity of an instance.

    When ``degraded`` is true the counts could not be computed and are None.
    """

    completed: int | None = None
    degraded: bool | None = None
    engine: StatsEngine | None = None
    error: int | None = None
    file_embed_errors: dict[str, Any] | None = None
    index_source_errors: dict[str, Any] | None = None
    last_activity: datetime | None = None
    outdated: int | None = None
    queued: int | None = None
    running: int | None = None
    skipped: int | None = None
