"""``with_streaming_response``: the official context-manager form, async and sync."""

from __future__ import annotations

import asyncio
import warnings

import pytest
from aiohttp import web

import cfaisearch as cf
from cfaisearch._binary import AsyncBinaryResponse, BinaryResponse
from cfaisearch._raw import AsyncRawResponse, RawResponse
from tests.support.clients import ACCOUNT, ServeFn, envelope, make_async, make_sync

ITEMS = f"/client/v4/accounts/{ACCOUNT}/ai-search/namespaces/default/instances/docs/items"
JOBS = f"/client/v4/accounts/{ACCOUNT}/ai-search/namespaces/default/instances/docs/jobs"
TOP_LEVEL_JOBS = f"/client/v4/accounts/{ACCOUNT}/ai-search/instances/docs/jobs"
JOB = {"id": "j1", "source": "user", "started_at": "2026-01-01T00:00:00Z"}
BODY = bytes(range(256)) * 1000  # several network chunks


def app() -> web.Application:
    async def download(request: web.Request) -> web.Response:
        return web.Response(body=BODY, content_type="application/octet-stream")

    async def job(request: web.Request) -> web.Response:
        return web.json_response(envelope(JOB), headers={"cf-ray": "ray-1"})

    application = web.Application()
    application.router.add_get(f"{ITEMS}/it-1/download", download)
    application.router.add_get(f"{JOBS}/j1", job)
    application.router.add_get(f"{TOP_LEVEL_JOBS}/j1", job)
    return application


async def test_async_download_streams_in_a_context_manager(serve: ServeFn) -> None:
    base = await serve(app())
    async with make_async(base_url=base) as client:
        items = client.aisearch.namespaces.instances.items
        async with items.with_streaming_response.download(
            "it-1", name="default", id="docs"
        ) as response:
            assert isinstance(response, AsyncRawResponse)
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/octet-stream"
            chunks = [chunk async for chunk in response.iter_bytes(4096)]
        assert b"".join(chunks) == BODY
        assert all(len(chunk) == 4096 for chunk in chunks[:-1])
        assert response.is_closed is False  # a streamed body is never kept whole


async def test_async_leaving_unread_releases_the_connection(serve: ServeFn) -> None:
    base = await serve(app())
    async with make_async(base_url=base) as client:
        items = client.aisearch.namespaces.instances.items
        async with items.with_streaming_response.download(
            "it-1", name="default", id="docs"
        ) as response:
            download = await response.parse()
            assert isinstance(download, AsyncBinaryResponse)
            assert not download._response.closed
        assert download._response.closed


async def test_async_json_operation_parses_on_request(serve: ServeFn) -> None:
    base = await serve(app())
    async with make_async(base_url=base) as client:
        jobs = client.aisearch.namespaces.instances.jobs
        async with jobs.with_streaming_response.get("j1", name="default", id="docs") as response:
            assert response.request_id == "ray-1"
            job = await response.parse()
            assert (await response.json())["result"]["id"] == "j1"  # type: ignore[index]
        assert isinstance(job, cf.types.Job)
        assert job == await jobs.get("j1", name="default", id="docs")


async def test_the_request_is_sent_on_entering_not_on_calling(serve: ServeFn) -> None:
    seen: list[str] = []

    async def job(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.json_response(envelope(JOB))

    application = web.Application()
    application.router.add_get(f"{JOBS}/j1", job)
    base = await serve(application)
    async with make_async(base_url=base) as client:
        jobs = client.aisearch.namespaces.instances.jobs
        manager = jobs.with_streaming_response.get("j1", name="default", id="docs")
        await asyncio.sleep(0)
        assert seen == []
        async with manager as response:
            assert seen == [JOBS + "/j1"]
            assert (await response.parse()).id == "j1"


async def test_errors_raise_on_entering(serve: ServeFn) -> None:
    base = await serve(web.Application())  # every path answers 404
    async with make_async(base_url=base, max_retries=0) as client:
        jobs = client.aisearch.namespaces.instances.jobs
        with pytest.raises(cf.NotFoundError):
            async with jobs.with_streaming_response.get("j1", name="default", id="docs"):
                pytest.fail("entered despite the error")


async def test_sync_streaming_download_and_json(serve: ServeFn) -> None:
    base = await serve(app())

    def use_sync_client() -> None:
        with make_sync(base_url=base) as client:
            items = client.aisearch.namespaces.instances.items
            with items.with_streaming_response.download(
                "it-1", name="default", id="docs"
            ) as response:
                assert isinstance(response, RawResponse)
                assert b"".join(response.iter_bytes()) == BODY
            with items.with_streaming_response.download(
                "it-1", name="default", id="docs"
            ) as response:
                download = response.parse()
                assert isinstance(download, BinaryResponse)
            assert download._async._response.closed  # left unread: released
            # Reached from any level of the tree.
            root = client.aisearch.with_streaming_response
            with root.namespaces.instances.jobs.get("j1", name="default", id="docs") as response:
                assert response.parse().id == "j1"
                assert response.json()["result"]["id"] == "j1"  # type: ignore[index]

    await asyncio.to_thread(use_sync_client)


async def test_a_deprecated_method_warns_once_through_its_streaming_twin(serve: ServeFn) -> None:
    base = await serve(app())
    async with make_async(base_url=base) as client:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            async with client.aisearch.instances.jobs.with_streaming_response.get(
                "j1", id="docs"
            ) as response:
                assert (await response.parse()).id == "j1"
    assert [str(w.message) for w in caught] == [
        "`aisearch.instances.jobs.get` is deprecated; "
        "use `aisearch.namespaces.instances.jobs.get` instead"
    ]
    assert caught[0].filename == __file__
