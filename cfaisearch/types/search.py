"""Search results: retrieved chunks and how they scored."""

from __future__ import annotations

from typing import Any, Literal

import attrs

from .._models import BaseModel
from .instances import FusionMethod

__all__ = [
    "ChunkItemRef",
    "InstanceError",
    "NamespaceSearchChunk",
    "NamespaceSearchResult",
    "QueryKind",
    "ScoringDetails",
    "SearchChunk",
    "SearchResult",
]

QueryKind = Literal["text", "image", "multimodal"]


@attrs.frozen(kw_only=True)
class ChunkItemRef(BaseModel):
    """The item (file or page) a chunk comes from."""

    key: str
    metadata: dict[str, Any] | None = None
    timestamp: float | None = None
    """Last modification time of the item, as the API sends it (a Unix timestamp)."""


@attrs.frozen(kw_only=True)
class ScoringDetails(BaseModel):
    """How a chunk's score was made up; each part only when it applied."""

    fusion_method: FusionMethod | None = None
    keyword_rank: float | None = None
    keyword_score: float | None = None
    reranking_score: float | None = None
    vector_rank: float | None = None
    vector_score: float | None = None


@attrs.frozen(kw_only=True)
class SearchChunk(BaseModel):
    """One retrieved chunk of text."""

    id: str
    score: float
    text: str
    type: str
    item: ChunkItemRef | None = None
    scoring_details: ScoringDetails | None = None


@attrs.frozen(kw_only=True)
class NamespaceSearchChunk(SearchChunk):
    """A chunk found by a namespace (multi-instance) query, with its instance."""

    instance_id: str


@attrs.frozen(kw_only=True)
class InstanceError(BaseModel):
    """An instance that failed during a namespace query (the others still answered)."""

    instance_id: str
    message: str


@attrs.frozen(kw_only=True)
class SearchResult(BaseModel):
    """Chunks found by an instance search, best first."""

    chunks: list[SearchChunk]
    query_kind: QueryKind
    search_query: str | None = None
    """The query actually run (rewritten when query rewriting is on)."""


@attrs.frozen(kw_only=True)
class NamespaceSearchResult(BaseModel):
    """Chunks found across a namespace's instances, merged and ranked."""

    chunks: list[NamespaceSearchChunk]
    query_kind: QueryKind
    errors: list[InstanceError] | None = None
    search_query: str | None = None
