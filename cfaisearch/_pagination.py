"""Paginators for page-numbered list endpoints.

``await paginator`` gives the first page; ``async for item in paginator``
walks every item, fetching each page only when the previous one is used up,
and stops as soon as the API's counts show there is nothing more: it never
asks for a page it can tell is empty. A server that ignores ``page`` (and so
answers the same page again) ends the walk with :class:`PaginationError`
instead of looping. The sync facade wraps the same object in
:class:`SyncPager`, fetching one page per call on the client's private loop.

Pages also answer the official SDK's calls: ``has_next_page()``,
``next_page_info()``, ``get_next_page()`` and ``iter_pages()``. Lists that page
by cursor or offset (item logs, item chunks) are walked by
:func:`walk_entries`: iterating such a page gives every entry, fetching the
following pages as it goes.
"""

from __future__ import annotations

import weakref
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterator,
    Mapping,
    Sequence,
)
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, NoReturn, Protocol, TypeVar

import attrs

from ._exceptions import PaginationError
from ._models import BaseModel
from .types.shared import ResultInfo

if TYPE_CHECKING:
    from ._portal import Portal

__all__ = [
    "AsyncPaginator",
    "EntryWalk",
    "Page",
    "PageInfo",
    "SyncPager",
    "iterate_entries",
    "walk_entries",
    "walkable",
    "with_portal",
]

_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)


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
    _paginator: AsyncPaginator[_T] | None = attrs.field(default=None, repr=False, eq=False)
    """What fetches the following pages (None: this page stands alone)."""

    def __iter__(self) -> Iterator[_T]:
        """This page's items (``async for`` walks the following pages too)."""
        return iter(self.result)

    async def __aiter__(self) -> AsyncIterator[_T]:
        """Every item from this page on, fetching each following page when reached."""
        async for page in self.iter_pages():
            for item in page.result:
                yield item

    def next_page_info(self) -> PageInfo | None:
        """The query of the following page, or None when this page is the last."""
        return PageInfo(params={"page": self.number + 1}) if self.has_next_page() else None

    async def get_next_page(self) -> Page[_T]:
        """The following page; check :meth:`has_next_page` first."""
        following = await self._following()
        if following is None:
            raise RuntimeError(
                "No next page expected; check `.has_next_page()` before `.get_next_page()`"
            )
        return following

    async def iter_pages(self) -> AsyncIterator[Page[_T]]:
        """This page and each following one, fetched when the loop reaches it."""
        page: Page[_T] | None = self
        while page is not None:
            yield page
            page = await page._following()

    async def _following(self) -> Page[_T] | None:
        if self._paginator is None:
            return None
        return await self._paginator.next_page(self)

    def __len__(self) -> int:
        return len(self.result)

    @property
    def success(self) -> bool:
        """Always True: an answer with ``success: false`` raises instead of making a page."""
        return True

    def to_dict(
        self,
        *,
        mode: Literal["python", "json"] = "python",
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
    ) -> dict[str, object]:
        """The page as the official SDK dumps it, less the envelope's ``errors``/``messages``.

        Each item and ``result_info`` is dumped with the same options (see
        :meth:`cfaisearch.BaseModel.to_dict`).
        """
        options: dict[str, Any] = {
            "mode": mode,
            "use_api_names": use_api_names,
            "exclude_unset": exclude_unset,
            "exclude_defaults": exclude_defaults,
            "exclude_none": exclude_none,
        }
        return {
            "result": [
                item.to_dict(**options) if isinstance(item, BaseModel) else item
                for item in self.result
            ],
            "result_info": self.result_info.to_dict(**options),
            "success": True,
        }

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
            self._first = attrs.evolve(page, number=self._first_number or 1, paginator=self)
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
            fetched,
            number=number,
            items_before=page._items_through(),
            walked=walked,
            paginator=self,
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

    def iter_pages(self) -> AsyncIterator[Page[_T]]:
        """Every page in turn, starting with the first (the official SDK's name)."""
        return self.pages()

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

    # -- the official SDK's page calls; the pager stands for its (first) page --

    @classmethod
    def of_page(cls, portal: Portal, page: Page[_T]) -> SyncPager[_T]:
        """A pager standing for ``page``, fetched by a paginator (a raw list's first page)."""
        if page._paginator is None:
            raise ValueError("`page` was not fetched by a paginator")
        return cls._at(portal, page._paginator, page)

    @classmethod
    def _at(cls, portal: Portal, paginator: AsyncPaginator[_T], page: Page[_T]) -> SyncPager[_T]:
        """A pager standing for ``page``, a later page of the same walk."""
        pager = cls.__new__(cls)
        pager._portal = portal
        pager._paginator = paginator
        pager._first = page
        return pager

    @property
    def success(self) -> bool:
        """Always True: an answer with ``success: false`` raises instead of making a page."""
        return True

    def to_dict(
        self,
        *,
        mode: Literal["python", "json"] = "python",
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
    ) -> dict[str, object]:
        """This page as a dict (see :meth:`Page.to_dict`)."""
        return self._first.to_dict(
            mode=mode,
            use_api_names=use_api_names,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
        )

    def has_next_page(self) -> bool:
        """Whether a following page can hold items, judging by this page's counts."""
        return self._first.has_next_page()

    def next_page_info(self) -> PageInfo | None:
        """The query of the following page, or None when this page is the last."""
        return self._first.next_page_info()

    def get_next_page(self) -> SyncPager[_T]:
        """The following page; check :meth:`has_next_page` first."""
        following = self._portal.call(self._paginator.next_page, self._first)
        if following is None:
            raise RuntimeError(
                "No next page expected; check `.has_next_page()` before `.get_next_page()`"
            )
        return SyncPager._at(self._portal, self._paginator, following)

    def iter_pages(self) -> Iterator[SyncPager[_T]]:
        """This page and each following one, fetched when the loop reaches it."""
        for page in self.pages():
            yield SyncPager._at(self._portal, self._paginator, page)


@attrs.frozen(kw_only=True)
class PageInfo:
    """What the next request of a walk asks for (the official SDK's ``next_page_info()``)."""

    params: Mapping[str, object]


# -- lists that page by cursor or offset ---------------------------------------------------

_P = TypeVar("_P", bound="_WalkablePage[Any]")


class _WalkablePage(Protocol[_T_co]):
    @property
    def result(self) -> Sequence[_T_co]: ...


@attrs.frozen(kw_only=True)
class EntryWalk(Generic[_P]):
    """How a cursor or offset page reaches the page after it."""

    following: Callable[[_P, set[object]], Awaitable[_P | None]]
    """The page after the given one, or None at the end; raises PaginationError if stuck.

    The set is the walk's own record of what it has seen, for ``following`` to fill."""
    portal: Portal | None = None
    """The sync client's portal, for a plain ``for`` loop to fetch on (None: async client)."""


# Each walkable page's walk, by the page's id while it lives. Kept beside the
# page, not in it: the page is a model, decoded from whatever the server sends.
_walks: Final[dict[int, EntryWalk[Any]]] = {}


def walkable(page: _P, following: Callable[[_P, set[object]], Awaitable[_P | None]]) -> _P:
    """``page`` (just decoded) made walkable: ``following`` fetches the page after one."""
    key = id(page)
    _walks[key] = EntryWalk(following=following)
    weakref.finalize(page, _walks.pop, key, None)
    return page


def with_portal(portal: Portal, page: _P) -> _P:
    """``page`` (just returned to the sync client) with its walk bound to ``portal``."""
    walk = _walks.get(id(page))
    if walk is not None:
        _walks[id(page)] = attrs.evolve(walk, portal=portal)
    return page


async def walk_entries(page: _P) -> AsyncIterator[Any]:
    """Every entry of ``page`` and of the pages after it, each fetched when reached."""
    current: _P | None = page
    walked: set[object] = set()  # each walk, even from the same page, starts afresh
    while current is not None:
        for entry in current.result:
            yield entry
        walk = _walks.get(id(current))
        current = None if walk is None else await walk.following(current, walked)


def iterate_entries(page: _P) -> Iterator[Any]:
    """``for entry in page``: every entry with the sync client, this page's with the async one."""
    walk = _walks.get(id(page))
    if walk is None or walk.portal is None:
        return iter(page.result)
    return walk.portal.iterate(lambda: walk_entries(page))
