"""Paginators for page-numbered list endpoints.

``await paginator`` gives the first page; ``async for item in paginator``
walks every item, fetching each page only when the previous one is used up,
and stops as soon as the API's counts show there is nothing more: it never
asks for a page it can tell is empty. A server that ignores ``page`` (and so
answers the same page again) ends the walk with :class:`PaginationError`
instead of looping. The sync facade wraps the same object in
:class:`SyncPager`, fetching one page per call on the client's private loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar

import attrs

from ._exceptions import PaginationError
from .types.shared import ResultInfo

if TYPE_CHECKING:
    from ._portal import Portal

__all__ = ["AsyncPaginator", "Page", "SyncPager"]

_T = TypeVar("_T")


def _count(value: object) -> int | None:
    """A count from ``result_info``, or None if absent or not a count (tolerant decoding)."""
    return value if type(value) is int and value >= 0 else None


@attrs.frozen(kw_only=True)
class Page(Generic[_T]):
    """One page of a list: its items and the API's ``result_info``."""

    result: list[_T]
    result_info: ResultInfo
    number: int = 1
    """The page number this page was fetched as (1-based)."""
    _items_before: int | None = attrs.field(default=None, repr=False, eq=False)
    """How many items the walk saw before this page; None for the first page."""
    _walked: dict[int, int] | None = attrs.field(default=None, repr=False, eq=False)
    """The walk so far: the page number of each set of items (see :func:`_fingerprint`)."""

    def __iter__(self) -> Iterator[_T]:
        return iter(self.result)

    def __len__(self) -> int:
        return len(self.result)

    def _items_through(self) -> int:
        """How many items the list holds up to the end of this page."""
        before = self._items_before
        if before is None:
            per_page = _count(self.result_info.per_page) or len(self.result)
            before = (self.number - 1) * per_page
        return before + len(self.result)

    def has_next_page(self) -> bool:
        """Whether a following page can hold items, judging by this page's counts."""
        if not self.result:
            return False
        info = self.result_info
        total_pages = _count(info.total_pages)
        if total_pages is not None and self.number >= total_pages:
            return False
        total_count = _count(info.total_count)
        if total_count is not None:
            return self._items_through() < total_count
        per_page = _count(info.per_page)
        if per_page:
            return len(self.result) >= per_page
        return True


def _fingerprint(items: list[Any]) -> int:
    """The same for the same items (as many times each) in any order."""
    return hash(tuple(sorted(map(repr, items))))


class AsyncPaginator(Generic[_T]):
    """Awaitable for the first page, async-iterable over every item."""

    def __init__(
        self,
        fetch: Callable[[int | None], Awaitable[Page[_T]]],
        *,
        url: str,
        first_page: int | None = None,
    ) -> None:
        self._fetch = fetch
        self._url = url
        self._first_number = first_page
        self._first: Page[_T] | None = None

    async def first_page(self) -> Page[_T]:
        """The first page (fetched once, then remembered)."""
        if self._first is None:
            page = await self._fetch(self._first_number)
            self._first = attrs.evolve(page, number=self._first_number or 1)
        return self._first

    async def next_page(self, page: Page[_T]) -> Page[_T] | None:
        """The page after ``page``, or None when ``page`` was the last."""
        if not page.has_next_page():
            return None
        number = page.number + 1
        fetched = await self._fetch(number)
        echoed = _count(fetched.result_info.page)
        if echoed is not None and echoed != number:
            self._stuck(number, f"answered page {echoed} instead")
        # A server that ignores ``page`` may also cycle through pages, or
        # reorder the same items: any set of items seen before ends the walk.
        walked = page._walked
        if walked is None:  # a new walk, from the first page
            walked = {_fingerprint(page.result): page.number}
        if fetched.result:
            earlier = walked.setdefault(_fingerprint(fetched.result), number)
            if earlier != number:
                self._stuck(number, f"answered the same items as page {earlier}")
        return attrs.evolve(
            fetched, number=number, items_before=page._items_through(), walked=walked
        )

    def _stuck(self, number: int, what: str) -> NoReturn:
        raise PaginationError(
            f"Asked for page {number} of GET {self._url}, the API {what}; "
            "stopped instead of reading the same page again",
            method="GET",
            url=self._url,
        )

    def __await__(self) -> Generator[Any, None, Page[_T]]:
        return self.first_page().__await__()

    async def pages(self) -> AsyncIterator[Page[_T]]:
        """Every page in turn, starting with the first."""
        page: Page[_T] | None = await self.first_page()
        while page is not None:
            yield page
            page = await self.next_page(page)

    async def __aiter__(self) -> AsyncIterator[_T]:
        async for page in self.pages():
            for item in page.result:
                yield item


class SyncPager(Generic[_T]):
    """The sync facade's list result: the first page, iterable over every item."""

    def __init__(self, portal: Portal, paginator: AsyncPaginator[_T]) -> None:
        self._portal = portal
        self._paginator = paginator
        self._first = portal.call(paginator.first_page)

    @property
    def result(self) -> list[_T]:
        """Items of the first page."""
        return self._first.result

    @property
    def result_info(self) -> ResultInfo:
        """``result_info`` of the first page."""
        return self._first.result_info

    def first_page(self) -> Page[_T]:
        return self._first

    def pages(self) -> Iterator[Page[_T]]:
        """Every page in turn; each is fetched when the loop reaches it."""
        page: Page[_T] | None = self._first
        while page is not None:
            yield page
            page = self._portal.call(self._paginator.next_page, page)

    def __iter__(self) -> Iterator[_T]:
        for page in self.pages():
            yield from page.result
