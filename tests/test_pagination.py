"""Pagination across pages against a loopback server, async and sync."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from tests.support.clients import ACCOUNT, ServeFn, envelope, make_async, make_sync

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

PATH = f"/client/v4/accounts/{ACCOUNT}/ai-search/instances/docs/jobs"


class Pages:
    """A jobs list of ``total`` items; records every ``page`` asked for."""

    def __init__(self, total: int, *, send_total: bool = True, send_per_page: bool = True) -> None:
        self.total = total
        self.send_total = send_total
        self.send_per_page = send_per_page
        self.asked: list[str | None] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.asked.append(request.query.get("page"))
        page = int(request.query.get("page", "1"))
        per_page = int(request.query.get("per_page", "20"))
        ids = range((page - 1) * per_page, min(page * per_page, self.total))
        info: dict[str, int] = {"page": page, "count": len(ids)}
        if self.send_per_page:
            info["per_page"] = per_page
        if self.send_total:
            info["total_count"] = self.total
        return web.json_response(
            envelope([{"id": f"job-{i}", "source": "user"} for i in ids], result_info=info)
        )


async def start(serve: ServeFn, pages: Pages) -> str:
    app = web.Application()
    app.router.add_get(PATH, pages.handle)
    return await serve(app)


@pytest.mark.parametrize(
    ("total", "flags", "expected_pages"),
    [
        (7, {}, ["1", "2", "3"]),  # total_count says when to stop
        (6, {}, ["1", "2"]),  # an exact multiple needs no probe for an empty page
        (0, {}, ["1"]),
        (7, {"send_total": False}, ["1", "2", "3"]),  # a short page is the last
        (6, {"send_total": False}, ["1", "2", "3"]),  # only an empty page can tell here
        (6, {"send_total": False, "send_per_page": False}, ["1", "2", "3"]),
    ],
)
async def test_async_iteration_walks_every_item_without_extra_requests(
    serve: ServeFn, total: int, flags: dict[str, bool], expected_pages: list[str]
) -> None:
    pages = Pages(total, **flags)
    base = await start(serve, pages)
    async with make_async(base_url=base) as client:
        ids = [job.id async for job in client.aisearch.instances.jobs.list("docs", per_page=3)]
    assert ids == [f"job-{i}" for i in range(total)]
    assert ["1" if p is None else p for p in pages.asked] == expected_pages


async def test_await_then_iterate_reuses_the_first_page(serve: ServeFn) -> None:
    pages = Pages(5)
    base = await start(serve, pages)
    async with make_async(base_url=base) as client:
        paginator = client.aisearch.instances.jobs.list("docs", per_page=2)
        first = await paginator
        assert [j.id for j in first.result] == ["job-0", "job-1"]
        assert first.result_info.total_count == 5
        assert first.has_next_page()
        numbers = [p.number async for p in paginator.pages()]
    assert numbers == [1, 2, 3]
    assert pages.asked == [None, "2", "3"]


async def test_iteration_is_lazy(serve: ServeFn) -> None:
    pages = Pages(100)
    base = await start(serve, pages)
    async with make_async(base_url=base) as client:
        async for job in client.aisearch.instances.jobs.list("docs", per_page=10):
            if job.id == "job-12":
                break
    assert pages.asked == [None, "2"]


async def test_starting_page_is_respected(serve: ServeFn) -> None:
    pages = Pages(7)
    base = await start(serve, pages)
    async with make_async(base_url=base) as client:
        ids = [j.id async for j in client.aisearch.instances.jobs.list("docs", page=2, per_page=3)]
    assert ids == ["job-3", "job-4", "job-5", "job-6"]
    assert pages.asked == ["2", "3"]


async def test_sync_pager_walks_pages_from_inside_a_running_loop(serve: ServeFn) -> None:
    pages = Pages(7)
    base = await start(serve, pages)

    def walk() -> tuple[list[str], list[str], int | None]:
        with make_sync(base_url=base) as client:
            pager = client.aisearch.instances.jobs.list("docs", per_page=3)
            first = [j.id for j in pager.result]
            return first, [j.id for j in pager], pager.result_info.total_count

    # The loopback server runs on this test's loop, so the sync client runs in a thread.
    first, every, total = await asyncio.to_thread(walk)
    assert first == ["job-0", "job-1", "job-2"]
    assert every == [f"job-{i}" for i in range(7)]
    assert total == 7
    assert pages.asked == [None, "2", "3"]
