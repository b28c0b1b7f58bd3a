"""Pages answer the official SDK's calls; item logs and chunks walk on by cursor and offset."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

import cfaisearch as cf
from cfaisearch._pagination import Page, PageInfo, SyncPager
from tests.support.clients import ACCOUNT, ServeFn, envelope, make_async, make_sync

INSTANCE = f"/client/v4/accounts/{ACCOUNT}/ai-search/namespaces/default/instances/docs"
JOBS = [{"id": f"j{n}", "source": "user"} for n in range(1, 6)]
LOGS = [
    {"action": "index", "fileKey": "a.md", "timestamp": f"2026-01-01T00:00:0{n}Z"} for n in range(5)
]
CHUNKS = [{"id": f"c{n}", "item": {"key": "a.md"}, "text": f"chunk {n}"} for n in range(5)]


class Api:
    """Jobs paged by number, logs by cursor, chunks by offset; each request recorded."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(f"{INSTANCE}/jobs", self.jobs)
        app.router.add_get(f"{INSTANCE}/items/it-1/logs", self.logs)
        app.router.add_get(f"{INSTANCE}/items/it-1/chunks", self.chunks)
        return app

    async def jobs(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.query))
        page, per_page = int(request.query.get("page", 1)), int(request.query["per_page"])
        start = (page - 1) * per_page
        info = {"page": page, "per_page": per_page, "total_count": len(JOBS)}
        return web.json_response(envelope(JOBS[start : start + per_page], result_info=info))

    async def logs(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.query))
        start, limit = int(request.query.get("cursor", 0)), int(request.query["limit"])
        end = start + limit
        info = {"cursor": str(end), "truncated": end < len(LOGS), "per_page": limit}
        return web.json_response(envelope(LOGS[start:end], result_info=info))

    async def chunks(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.query))
        offset, limit = int(request.query.get("offset", 0)), int(request.query["limit"])
        info = {"offset": offset, "limit": limit, "total": len(CHUNKS)}
        return web.json_response(envelope(CHUNKS[offset : offset + limit], result_info=info))


def ids(entries: object) -> list[str]:
    return [entry.id for entry in entries]  # type: ignore[attr-defined]


async def test_async_page_has_the_official_helpers(serve: ServeFn) -> None:
    api = Api()
    base = await serve(api.app())
    async with make_async(base_url=base) as client:
        jobs = client.aisearch.namespaces.instances.jobs
        page = await jobs.list("docs", name="default", per_page=2)
        assert ids(page.result) == ["j1", "j2"]
        assert page.result_info.total_count == 5
        assert page.has_next_page()
        assert page.next_page_info() == PageInfo(params={"page": 2})
        second = await page.get_next_page()
        assert ids(second.result) == ["j3", "j4"]
        assert [ids(p.result) async for p in second.iter_pages()] == [["j3", "j4"], ["j5"]]
        # ``async for`` over a page walks every item from that page on.
        assert [job.id async for job in page] == ["j1", "j2", "j3", "j4", "j5"]
        last = await second.get_next_page()
        assert not last.has_next_page()
        assert last.next_page_info() is None
        with pytest.raises(RuntimeError, match="has_next_page"):
            await last.get_next_page()
        # The paginator that ``list`` returns has them too.
        pages = [p async for p in jobs.list("docs", name="default", per_page=2).iter_pages()]
        assert [len(p) for p in pages] == [2, 2, 1]
        assert all(isinstance(p, Page) for p in pages)


async def test_sync_pager_has_the_official_helpers(serve: ServeFn) -> None:
    api = Api()
    base = await serve(api.app())

    def use_sync_client() -> None:
        with make_sync(base_url=base) as client:
            pager = client.aisearch.namespaces.instances.jobs.list(
                "docs", name="default", per_page=2
            )
            assert pager.has_next_page()
            assert pager.next_page_info() == PageInfo(params={"page": 2})
            second = pager.get_next_page()
            assert isinstance(second, SyncPager)
            assert ids(second.result) == ["j3", "j4"]
            assert second.result_info.page == 2
            assert ids(second) == ["j3", "j4", "j5"]  # iterating walks on from there
            walked = [ids(p.result) for p in pager.iter_pages()]
            assert walked == [["j1", "j2"], ["j3", "j4"], ["j5"]]
            last = second.get_next_page()
            assert not last.has_next_page()
            with pytest.raises(RuntimeError):
                last.get_next_page()
            # A raw list parses to a pager too, as the official sync page does.
            jobs = client.aisearch.namespaces.instances.jobs
            raw = jobs.with_raw_response.list("docs", name="default", per_page=2)
            assert isinstance(raw.parse(), SyncPager)
            assert ids(raw.parse()) == ["j1", "j2", "j3", "j4", "j5"]
            with jobs.with_streaming_response.list("docs", name="default", per_page=2) as r:
                assert ids(r.parse().get_next_page().result) == ["j3", "j4"]

    await asyncio.to_thread(use_sync_client)


async def test_async_logs_and_chunks_walk_every_entry(serve: ServeFn) -> None:
    api = Api()
    base = await serve(api.app())
    async with make_async(base_url=base) as client:
        items = client.aisearch.namespaces.instances.items
        logs = await items.logs("it-1", name="default", id="docs", limit=2)
        # ``len``, indexing and a plain ``for`` are this page's.
        assert len(logs) == 2
        assert logs[1].timestamp.second == 1
        assert [log.timestamp.second for log in logs] == [0, 1]
        assert [log.timestamp.second async for log in logs] == [0, 1, 2, 3, 4]
        assert [r.get("cursor") for r in api.requests] == [None, "2", "4"]
        # Each walk starts afresh: walking the same page again is no loop.
        assert len([log async for log in logs]) == 5
        assert [r.get("cursor") for r in api.requests[3:]] == ["2", "4"]
        del api.requests[3:]

        chunks = await items.chunks("it-1", name="default", id="docs", limit=2)
        assert ids(chunks) == ["c0", "c1"]
        assert [chunk.id async for chunk in chunks] == ["c0", "c1", "c2", "c3", "c4"]
        assert [r.get("offset") for r in api.requests[3:]] == [None, "2", "4"]


async def test_sync_logs_and_chunks_walk_every_entry(serve: ServeFn) -> None:
    api = Api()
    base = await serve(api.app())

    def use_sync_client() -> None:
        with make_sync(base_url=base) as client:
            items = client.aisearch.namespaces.instances.items
            logs = items.logs("it-1", name="default", id="docs", limit=2)
            assert len(logs) == 2
            assert [log.timestamp.second for log in logs] == [0, 1, 2, 3, 4]
            assert len(list(logs)) == 5  # again, from the first page
            chunks = items.chunks("it-1", name="default", id="docs", limit=3)
            assert chunks[0].id == "c0"
            assert ids(chunks) == ["c0", "c1", "c2", "c3", "c4"]
            # Through the raw twin too.
            raw = items.with_raw_response.chunks("it-1", name="default", id="docs", limit=3)
            assert len(list(raw.parse())) == 5

    await asyncio.to_thread(use_sync_client)


async def test_a_cursor_given_again_stops_the_walk(serve: ServeFn) -> None:
    async def logs(request: web.Request) -> web.Response:
        cursor = request.query.get("cursor", "")
        entries = LOGS[:2] if not cursor else LOGS[2:4]
        return web.json_response(
            envelope(entries, result_info={"cursor": "same", "truncated": True})
        )

    app = web.Application()
    app.router.add_get(f"{INSTANCE}/items/it-1/logs", logs)
    base = await serve(app)
    async with make_async(base_url=base) as client:
        page = await client.aisearch.namespaces.instances.items.logs(
            "it-1", name="default", id="docs"
        )
        seen: list[object] = []

        async def walk() -> None:
            async for log in page:
                seen.append(log)

        with pytest.raises(cf.PaginationError, match="cursor 'same' again"):
            await walk()
        assert len(seen) == 4  # the entries before the loop were real


@pytest.mark.parametrize("echo", [True, False], ids=["echoes-offset-0", "no-offset"])
async def test_a_server_ignoring_offset_stops_the_walk(serve: ServeFn, echo: bool) -> None:
    async def chunks(request: web.Request) -> web.Response:
        info = {"offset": 0} if echo else {}
        return web.json_response(envelope(CHUNKS[:2], result_info=info))

    app = web.Application()
    app.router.add_get(f"{INSTANCE}/items/it-1/chunks", chunks)
    base = await serve(app)
    async with make_async(base_url=base) as client:
        page = await client.aisearch.namespaces.instances.items.chunks(
            "it-1", name="default", id="docs"
        )
        with pytest.raises(cf.PaginationError):
            async for _ in page:
                pass
