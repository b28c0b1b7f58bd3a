"""Items (files and pages) of an instance, their processing logs and indexed chunks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Final, Literal, overload

import attrs

from .._models import BaseModel
from .._wire import wire
from .instances import MetadataType
from .search import ChunkItemRef

__all__ = [
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
]

ItemStatus = Literal["queued", "running", "completed", "error", "skipped", "outdated"]
DONE_STATUSES: Final = frozenset({"completed", "error", "skipped"})
"""Statuses an item stays in until something changes it: processing is over."""


@attrs.frozen(kw_only=True)
class Item(BaseModel):
    """A file or page of an instance, and where its indexing stands."""

    id: str
    checksum: str
    chunks_count: int | None = None
    created_at: datetime
    file_size: float | None = None
    key: str
    last_seen_at: datetime
    metadata: dict[str, str | float | bool] | None = None
    namespace: str
    next_action: Literal["INDEX", "DELETE"] | None = None
    source_id: str | None = None
    """``"builtin"`` for uploads, ``"<type>:<source>"`` for external sources."""
    status: ItemStatus
    error: str | None = None
    """Why processing failed, when ``status`` is ``"error"``."""

    @property
    def done(self) -> bool:
        """Whether processing is over: completed, failed or skipped."""
        # A tolerant decode may keep an unhashable value the server sent.
        return isinstance(self.status, str) and self.status in DONE_STATUSES


@attrs.frozen(kw_only=True)
class UploadWarning(BaseModel):
    """Metadata of an upload that was stored but not made filterable.

    ``expected_type`` is set for ``custom_metadata_value_not_indexed`` (the value
    did not convert to the field's type); ``custom_metadata_field_not_filterable``
    means the field is not in the instance's ``custom_metadata`` schema.
    """

    code: Literal["custom_metadata_value_not_indexed", "custom_metadata_field_not_filterable"]
    expected_type: MetadataType | None = None
    field: str


@attrs.frozen(kw_only=True)
class ItemUploadResult(Item):
    """The uploaded item, with warnings about its metadata."""

    warnings: list[UploadWarning] | None = None


@attrs.frozen(kw_only=True)
class ItemDeleteResult(BaseModel):
    """The key of the deleted item."""

    key: str


@attrs.frozen(kw_only=True)
class ItemLog(BaseModel):
    """One processing event of an item."""

    action: str
    chunk_count: int | None = attrs.field(default=None, metadata=wire("chunkCount"))
    error_type: str | None = attrs.field(default=None, metadata=wire("errorType"))
    file_key: str = attrs.field(metadata=wire("fileKey"))
    message: str | None = None
    processing_time_ms: int | None = attrs.field(default=None, metadata=wire("processingTimeMs"))
    timestamp: datetime


@attrs.frozen(kw_only=True)
class ItemChunk(BaseModel):
    """One indexed chunk of an item, with its byte range in the source file."""

    id: str
    item: ChunkItemRef
    text: str
    end_byte: float | None = None
    start_byte: float | None = None


@attrs.frozen(kw_only=True)
class ItemLogsPage(BaseModel):
    """Log entries of an item, oldest first, and the cursor to the next ones.

    Iterating it walks every entry, fetching the following pages as it goes
    (``async for`` with the async client); ``len`` and indexing are this
    page's. While ``truncated`` is true, ``next_cursor`` (as ``cursor=``)
    gives the next page.
    """

    result: list[ItemLog]
    count: int | None = None
    cursor: str | None = None
    per_page: int | None = None
    truncated: bool | None = None

    @property
    def next_cursor(self) -> str | None:
        """The cursor of the following entries, or None when there are none."""
        return self.cursor if self.truncated else None

    def __iter__(self) -> Iterator[ItemLog]:
        """Every entry (the sync client fetches the following pages; the async one
        gives this page's: use ``async for`` there)."""
        from .._pagination import iterate_entries

        return iterate_entries(self)

    def __aiter__(self) -> AsyncIterator[ItemLog]:
        """Every entry, fetching the following pages when reached."""
        from .._pagination import walk_entries

        return walk_entries(self)

    def __len__(self) -> int:
        return len(self.result)

    @overload
    def __getitem__(self, index: int) -> ItemLog: ...
    @overload
    def __getitem__(self, index: slice) -> list[ItemLog]: ...
    def __getitem__(self, index: int | slice) -> ItemLog | list[ItemLog]:
        return self.result[index]


@attrs.frozen(kw_only=True)
class ItemChunksPage(BaseModel):
    """A window of an item's chunks: ``limit`` chunks from ``offset`` of ``total``.

    Iterating it walks every chunk, fetching the following windows as it goes
    (``async for`` with the async client); ``len`` and indexing are this
    window's. ``next_offset`` (as ``offset=``) gives the following window.
    """

    result: list[ItemChunk]
    count: int | None = None
    limit: int | None = None
    offset: int | None = None
    total: int | None = None

    @property
    def next_offset(self) -> int | None:
        """Where the following window starts, or None when this one is the last."""
        if not self.result:
            return None
        # Counts a tolerant decode kept with the wrong type are treated as absent.
        offset, total, limit = (
            value if isinstance(value, int) and not isinstance(value, bool) else None
            for value in (self.offset, self.total, self.limit)
        )
        end = (offset or 0) + len(self.result)
        if total is not None:
            return end if end < total else None
        # Without a total, a short window is the last one.
        return end if limit is None or len(self.result) >= limit else None

    def __iter__(self) -> Iterator[ItemChunk]:
        """Every chunk (the sync client fetches the following windows; the async one
        gives this window's: use ``async for`` there)."""
        from .._pagination import iterate_entries

        return iterate_entries(self)

    def __aiter__(self) -> AsyncIterator[ItemChunk]:
        """Every chunk, fetching the following windows when reached."""
        from .._pagination import walk_entries

        return walk_entries(self)

    def __len__(self) -> int:
        return len(self.result)

    @overload
    def __getitem__(self, index: int) -> ItemChunk: ...
    @overload
    def __getitem__(self, index: slice) -> list[ItemChunk]: ...
    def __getitem__(self, index: int | slice) -> ItemChunk | list[ItemChunk]:
        return self.result[index]
