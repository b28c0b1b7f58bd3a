"""Rule 15: pagination never loops, and stops as soon as the counts say the list ended.

Each server here is a real loopback aiohttp app. Servers that would make a
naive walker loop stop answering items after ``LIMIT`` requests, so a
regression fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import cfaisearch as cf
from tests.support.clients import ServeFn, make_sync
from tests.support.paging import PATH, Server, jobs, walk

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")


async def test_a_server_that_echoes_the_page_it_ignored_ends_the_walk(serve: ServeFn) -> None:
    """Rule 15: the same page number echoed back for page 2 is a PaginationError."""
    server = Server(lambda page, per: (jobs(0, per), {"page": 1, "per_page": per}))
    base = await server.start(serve)
    with pytest.raises(cf.PaginationError, match=r"page 2 .*answered page 1") as info:
        await walk(base)
    assert isinstance(info.value, cf.APIError)
    assert info.value.method == "GET"
    assert info.value.url.endswith(PATH)
    assert server.asked == [1, 2]


@pytest.mark.parametrize("echo", [False, True])
async def test_a_server_that_answers_the_same_items_again_ends_the_walk(
    serve: ServeFn, echo: bool
) -> None:
    """Rule 15: identical items on the next page end the walk (echoed page number or not)."""
    server = Server(lambda page, per: (jobs(0, per), {"page": page} if echo else {}))
    base = await server.start(serve)
    seen: list[str | None] = []
    with pytest.raises(cf.PaginationError, match=r"same items as page 1"):
        await walk(base, into=seen)
    assert seen == ["job-0", "job-1", "job-2"]
    assert server.asked == [1, 2]


async def test_the_sync_pager_stops_a_looping_server_too(serve: ServeFn) -> None:
    """Rule 15: the sync client's pager raises the same error."""
    server = Server(lambda page, per: (jobs(0, per), {"page": 1, "per_page": per}))
    base = await server.start(serve)

    def sync_walk() -> None:
        with make_sync(base_url=base) as client:
            list(client.aisearch.instances.jobs.list("docs", per_page=3))

    with pytest.raises(cf.PaginationError):
        await asyncio.to_thread(sync_walk)
    assert server.asked == [1, 2]


async def test_the_walk_stops_at_total_count_whatever_the_page_sizes(serve: ServeFn) -> None:
    """Rule 15: items counted so far reach ``total_count``: no further page is asked for."""
    sizes = {1: 3, 2: 2}  # the server returns a short first page and reports no per_page
    starts = {1: 0, 2: 3}

    def answer(page: int, per: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return jobs(starts.get(page, 5), sizes.get(page, 0)), {"page": page, "total_count": 5}

    server = Server(answer)
    base = await server.start(serve)
    assert await walk(base) == [f"job-{i}" for i in range(5)]
    assert server.asked == [1, 2]


async def test_the_walk_stops_at_total_pages(serve: ServeFn) -> None:
    """Rule 15: page ``total_pages`` is the last one, even when it is full."""

    def answer(page: int, per: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return jobs((page - 1) * per, per), {"page": page, "per_page": per, "total_pages": 2}

    server = Server(answer)
    base = await server.start(serve)
    assert await walk(base) == [f"job-{i}" for i in range(6)]
    assert server.asked == [1, 2]


async def test_a_tolerant_walk_ignores_counts_that_are_not_counts(serve: ServeFn) -> None:
    """Rule 15: junk in ``result_info`` (kept as received when tolerant) is no count at all."""

    def answer(page: int, per: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        junk = {"page": "first", "per_page": {"n": per}, "total_count": [7], "total_pages": True}
        return jobs((page - 1) * per, min(per, max(0, 7 - (page - 1) * per))), junk

    server = Server(answer)
    base = await server.start(serve)
    ids = await walk(base, _strict_response_validation=False)
    assert ids == [f"job-{i}" for i in range(7)]
    # Without a usable per_page only an empty page shows the end.
    assert server.asked == [1, 2, 3, 4]
