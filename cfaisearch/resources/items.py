"""Items (files, pages) of an instance: ``/namespaces/{name}/instances/{id}/items``."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal, TypeVar

import attrs

from .. import types as _types
from .._exceptions import PaginationError
from .._files import UploadFile, upload_form
from .._options import NOT_GIVEN, NotGiven, RequestOptions, Unpack, resolve_options
from .._pagination import _fingerprint, walkable
from ._base import (
    AsyncResource,
    body,
    check_int,
    page_params,
    poll,
    required_str,
    segment,
)

if TYPE_CHECKING:
    from .._binary import AsyncBinaryResponse
    from .._options import ResolvedOptions
    from .._pagination import AsyncPaginator
    from ..types.directory_sync import SyncEvent, SyncMetadata, SyncReport
    from ..types.items import (
        Item,
        ItemChunksPage,
        ItemDeleteResult,
        ItemLogsPage,
        ItemStatus,
        ItemUploadResult,
    )

__all__ = ["AsyncItems"]

_WalkedPage = TypeVar("_WalkedPage", "ItemLogsPage", "ItemChunksPage")

PER_PAGE_RANGE = (0, 50)
MAX_LIMIT = 100


class AsyncItems(AsyncResource):
    """Upload, index, inspect, download and delete the items of an instance."""

    def _path(self, account_id: str | None, name: str, id: str, *rest: str) -> str:
        return self._ai_search(
            account_id,
            "namespaces",
            segment("name", name),
            "instances",
            segment("id", id),
            "items",
            *rest,
        )

    def list(
        self,
        id: str,
        *,
        account_id: str | None = None,
        name: str,
        item_id: str | None = None,
        key: str | None = None,
        metadata_filter: str | None = None,
        page: int | None = None,
        per_page: int | None = None,
        search: str | None = None,
        sort_by: Literal["status", "modified_at"] | None = None,
        source: str | None = None,
        status: ItemStatus | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[Item]:
        """List the items of instance ``id``, page by page (iterate for every item).

        ``metadata_filter`` is a JSON filter such as ``'{"folder": "docs/"}'``;
        ``source`` is a ``source_id`` (``"builtin"`` for uploads).
        """
        query = {
            **page_params(page, per_page, per_page_range=PER_PAGE_RANGE),
            "item_id": item_id,
            "key": key,
            "metadata_filter": metadata_filter,
            "search": search,
            "sort_by": sort_by,
            "source": source,
            "status": status,
        }
        return self._client.paginate(
            _types.Item,
            self._path(account_id, name, id),
            query=query,
            options=resolve_options(options),
        )

    async def upload(
        self,
        id: str,
        *,
        account_id: str | None = None,
        name: str,
        file: UploadFile,
        **options: Unpack[RequestOptions],
    ) -> ItemUploadResult:
        """Upload a document to instance ``id``; its file name becomes the item key.

        ``file`` is ``{"file": content, "metadata": ..., "wait_for_completion": ...}``
        where content is bytes, a binary file, a path, or ``(filename, content[,
        content_type])``. The content is streamed, never read whole. An existing
        key is overwritten and indexed again. Not retried once the request may
        have reached the server.
        """
        return await self._client.get_result(
            _types.ItemUploadResult,
            "POST",
            self._path(account_id, name, id),
            multipart=upload_form(file),
            options=resolve_options(options),
        )

    async def create_or_update(
        self,
        id: str,
        *,
        account_id: str | None = None,
        name: str,
        key: str,
        next_action: Literal["INDEX"],
        wait_for_completion: bool | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOptions],
    ) -> Item:
        """Register item ``key`` (already in the instance's storage) and queue it for indexing.

        With ``wait_for_completion=True`` the API answers once indexing is over.
        """
        return await self._client.get_result(
            _types.Item,
            "PUT",
            self._path(account_id, name, id),
            body=body(
                key=required_str("key", key),
                next_action=next_action,
                wait_for_completion=wait_for_completion,
            ),
            options=resolve_options(options),
        )

    async def get(
        self,
        item_id: str,
        *,
        account_id: str | None = None,
        name: str,
        id: str,
        **options: Unpack[RequestOptions],
    ) -> Item:
        """Get item ``item_id``."""
        return await self._client.get_result(
            _types.Item,
            "GET",
            self._path(account_id, name, id, segment("item_id", item_id)),
            options=resolve_options(options),
        )

    async def sync(
        self,
        item_id: str,
        *,
        account_id: str | None = None,
        name: str,
        id: str,
        next_action: Literal["INDEX"],
        wait_for_completion: bool | NotGiven = NOT_GIVEN,
        **options: Unpack[RequestOptions],
    ) -> Item:
        """Index item ``item_id`` again.

        Not retried once the request may have reached the server.
        """
        return await self._client.get_result(
            _types.Item,
            "PATCH",
            self._path(account_id, name, id, segment("item_id", item_id)),
            body=body(next_action=next_action, wait_for_completion=wait_for_completion),
            options=resolve_options(options),
        )

    async def delete(
        self,
        item_id: str,
        *,
        account_id: str | None = None,
        name: str,
        id: str,
        **options: Unpack[RequestOptions],
    ) -> ItemDeleteResult:
        """Delete item ``item_id``: its stored file and its indexed chunks."""
        return await self._client.get_result(
            _types.ItemDeleteResult,
            "DELETE",
            self._path(account_id, name, id, segment("item_id", item_id)),
            options=resolve_options(options),
        )

    async def download(
        self,
        item_id: str,
        *,
        account_id: str | None = None,
        name: str,
        id: str,
        **options: Unpack[RequestOptions],
    ) -> AsyncBinaryResponse:
        """Download the original file of item ``item_id``.

        The body is not read yet: use ``read()``, ``iter_bytes()`` or
        ``write_to_file(path)`` on the result; close it if you read none of it.
        """
        return await self._client.get_binary(
            self._path(account_id, name, id, segment("item_id", item_id), "download"),
            options=resolve_options(options),
        )

    async def logs(
        self,
        item_id: str,
        *,
        account_id: str | None = None,
        name: str,
        id: str,
        cursor: str | None = None,
        limit: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> ItemLogsPage:
        """Get up to ``limit`` (1-100) processing events of item ``item_id``.

        Continue from ``cursor``, the previous page's ``next_cursor``.
        """
        if limit is not None:
            check_int("limit", limit, 1, MAX_LIMIT)
        path = self._path(account_id, name, id, segment("item_id", item_id), "logs")
        return await self._logs_page(path, cursor, limit, resolve_options(options))

    async def _logs_page(
        self, path: str, cursor: str | None, limit: int | None, options: ResolvedOptions
    ) -> ItemLogsPage:
        """One page of logs, walkable: iterating it fetches the pages after it."""
        page = await self._client.get_result_with_info(
            _types.ItemLogsPage, path, query={"cursor": cursor, "limit": limit}, options=options
        )

        async def logs_after(previous: ItemLogsPage, walked: set[object]) -> ItemLogsPage | None:
            after = previous.next_cursor
            if after is None:
                return None
            walked.add(("cursor", cursor))
            if ("cursor", after) in walked:
                raise self._stuck(path, f"gave cursor {after!r} again")
            following = await self._logs_page(path, after, limit, options)
            return self._checked_new(path, previous, following, walked)

        return walkable(page, logs_after)

    async def chunks(
        self,
        item_id: str,
        *,
        account_id: str | None = None,
        name: str,
        id: str,
        limit: int | None = None,
        offset: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> ItemChunksPage:
        """Get up to ``limit`` (1-100) indexed chunks of item ``item_id`` from ``offset``."""
        if limit is not None:
            check_int("limit", limit, 1, MAX_LIMIT)
        if offset is not None:
            check_int("offset", offset, 0, None)
        path = self._path(account_id, name, id, segment("item_id", item_id), "chunks")
        return await self._chunks_page(path, offset, limit, resolve_options(options))

    async def _chunks_page(
        self, path: str, offset: int | None, limit: int | None, options: ResolvedOptions
    ) -> ItemChunksPage:
        """One window of chunks, walkable: iterating it fetches the windows after it."""
        page = await self._client.get_result_with_info(
            _types.ItemChunksPage, path, query={"limit": limit, "offset": offset}, options=options
        )
        start = offset or 0
        if page.offset is None and start:  # not echoed: it starts where it was asked to
            page = attrs.evolve(page, offset=start)

        async def window_after(
            previous: ItemChunksPage, walked: set[object]
        ) -> ItemChunksPage | None:
            after = previous.next_offset
            if after is None:
                return None
            # A window that starts elsewhere than asked (a server ignoring
            # ``offset``) would have the walk read the same chunks forever.
            if previous.offset not in (start, None):
                raise self._stuck(path, f"answered offset {previous.offset!r} for {start}")
            following = await self._chunks_page(path, after, limit, options)
            return self._checked_new(path, previous, following, walked)

        return walkable(page, window_after)

    def _checked_new(
        self, path: str, previous: _WalkedPage, page: _WalkedPage, walked: set[object]
    ) -> _WalkedPage:
        """``page``, fetched after ``previous``, unless this walk has read its entries already.

        ``walked`` is what this walk has seen (fingerprints of entries, see
        ``_fingerprint``, and cursors); only a walk pays for the fingerprints.
        """
        for entries in [page.result] if walked else [previous.result, page.result]:
            if entries:
                fingerprint = _fingerprint(entries)
                if fingerprint in walked:
                    raise self._stuck(path, "answered entries it gave before")
                walked.add(fingerprint)
        return page

    def _stuck(self, path: str, what: str) -> PaginationError:
        url = self._client.base_url + path
        return PaginationError(
            f"Walking GET {url}, the API {what}; stopped instead of reading the same entries again",
            method="GET",
            url=url,
        )

    async def wait(
        self,
        item_id: str,
        *,
        account_id: str | None = None,
        name: str,
        id: str,
        poll_interval: float = 2.0,
        timeout: float = 600.0,
    ) -> Item:
        """Poll item ``item_id`` until its status is completed, error or skipped.

        Gives up after ``timeout`` seconds, each request included, raising
        :class:`~cfaisearch.WaitTimeoutError` (carrying the last ``Item`` seen,
        or None).
        """
        return await poll(
            lambda seconds: self.get(
                item_id, account_id=account_id, name=name, id=id, timeout=seconds
            ),
            lambda item: item.done,
            poll_interval=poll_interval,
            timeout=timeout,
            request_timeout=self._client.timeout,
            subject=f"item {item_id!r} of instance {id!r} in namespace {name!r}",
            progress=lambda item: f"still {item.status} (key {item.key!r})",
        )

    async def sync_directory(
        self,
        directory: str | os.PathLike[str],
        *,
        id: str,
        account_id: str | None = None,
        name: str = "default",
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        delete: bool = False,
        concurrency: int = 8,
        metadata: SyncMetadata | None = None,
        wait: bool = False,
        wait_timeout: float = 600.0,
        poll_interval: float = 2.0,
        on_progress: Callable[[SyncEvent], object] | None = None,
    ) -> SyncReport:
        """Upload the files of ``directory`` that instance ``id`` lacks or holds changed.

        Keys are paths relative to ``directory`` (POSIX); ``include``/``exclude``
        are globs on them (``**`` crosses directories). The instance's items are
        listed once first; a file is unchanged when its MD5 is the item's
        checksum. With ``delete=True``, uploaded items in scope whose file is
        gone are deleted. One file's failure is recorded in the report's
        ``failed`` and the rest go on; an authentication or permission error
        stops the sync. With ``wait=True``, returns once every upload is indexed.
        See docs/items.md for the details.
        """
        from .._directory_sync import DirectorySync

        run = DirectorySync.checked(
            self,
            directory,
            id=id,
            account_id=account_id,
            name=name,
            include=include,
            exclude=exclude,
            delete=delete,
            concurrency=concurrency,
            metadata=metadata,
            wait=wait,
            wait_timeout=wait_timeout,
            poll_interval=poll_interval,
            on_progress=on_progress,
        )
        return await run.run()
