"""``with_raw_response``: status, headers and request next to the parsed result."""

from __future__ import annotations

import ast
import asyncio
import datetime
import importlib
import inspect
import pkgutil
from pathlib import Path

import orjson
import pytest
from aiohttp import web

import cfaisearch as cf
import cfaisearch.resources
from cfaisearch._binary import AsyncBinaryResponse
from cfaisearch._pagination import Page
from cfaisearch._raw import AsyncRawResponse, RawResponse
from tests.support.clients import ACCOUNT, ServeFn, envelope, make_async, make_sync

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

JOBS = f"/client/v4/accounts/{ACCOUNT}/ai-search/instances/docs/jobs"
JOB = {"id": "j1", "source": "user", "started_at": "2026-01-01T00:00:00Z"}
DOWNLOAD = (
    f"/client/v4/accounts/{ACCOUNT}/ai-search/namespaces/default/instances/docs/items/it-1/download"
)


class Api:
    """Jobs endpoints that record what each request carried."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        self.queries: list[dict[str, str]] = []
        self.flaky = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(JOBS, self.list)
        app.router.add_get(JOBS + "/j1", self.get)
        app.router.add_get(JOBS + "/flaky", self.get_flaky)
        app.router.add_get(JOBS + "/odd", self.get_odd)
        app.router.add_get(JOBS + "/gone", self.get_gone)
        app.router.add_get(DOWNLOAD, self.download)
        return app

    def seen(self, request: web.Request) -> None:
        self.headers.append(dict(request.headers))
        self.queries.append(dict(request.query))

    async def get(self, request: web.Request) -> web.Response:
        self.seen(request)
        return web.json_response(envelope(JOB), headers={"cf-ray": "8f1e2d3c4b5a6978-SJC"})

    async def get_flaky(self, request: web.Request) -> web.Response:
        self.seen(request)
        self.flaky += 1
        if self.flaky == 1:
            return web.json_response({"success": False, "errors": []}, status=503)
        return web.json_response(envelope(JOB), headers={"cf-ray": "ray-2"})

    async def get_odd(self, request: web.Request) -> web.Response:
        self.seen(request)
        return web.json_response(envelope({"id": 5}), headers={"cf-ray": "ray-odd"})

    async def get_gone(self, request: web.Request) -> web.Response:
        self.seen(request)
        return web.json_response(
            {"success": False, "errors": [{"code": 7002, "message": "not found"}]}, status=404
        )

    async def list(self, request: web.Request) -> web.Response:
        self.seen(request)
        return web.json_response(
            envelope([JOB], result_info={"page": 1, "per_page": 1, "count": 1, "total_count": 3}),
            headers={"cf-ray": "ray-list"},
        )

    async def download(self, request: web.Request) -> web.Response:
        self.seen(request)
        return web.Response(body=b"file body", content_type="text/plain")


async def test_async_raw_response_of_jobs_get(serve: ServeFn) -> None:
    api = Api()
    base = await serve(api.app())
    async with make_async(base_url=base) as client:
        raw = await client.aisearch.instances.jobs.with_raw_response.get("j1", id="docs")
        normal = await client.aisearch.instances.jobs.get("j1", id="docs")
    assert isinstance(raw, AsyncRawResponse)
    assert raw.status_code == 200
    assert raw.headers["cf-ray"] == raw.headers["CF-Ray"] == "8f1e2d3c4b5a6978-SJC"
    assert raw.request_id == "8f1e2d3c4b5a6978-SJC"
    assert raw.http_request.method == "GET"
    assert raw.http_request.url == f"{base}/accounts/{ACCOUNT}/ai-search/instances/docs/jobs/j1"
    assert raw.retries_taken == 0
    assert raw.content is not None
    assert b'"id":"j1"' in raw.content.replace(b" ", b"")
    job = await raw.parse()
    assert isinstance(job, cf.types.Job)
    assert job == normal
    # Nothing marks a raw request on the wire: both requests carried the same headers.
    assert api.headers[0] == api.headers[1]


async def test_sync_raw_response_of_jobs_get(serve: ServeFn) -> None:
    api = Api()
    base = await serve(api.app())

    def use_sync_client() -> None:
        with make_sync(base_url=base) as client:
            raw = client.aisearch.instances.jobs.with_raw_response.get("j1", id="docs")
            assert raw.status_code == 200
            assert raw.request_id == "8f1e2d3c4b5a6978-SJC"
            assert raw.http_request.method == "GET"
            assert raw.parse() == client.aisearch.instances.jobs.get("j1", id="docs")
            # The whole tree has twins, reached from any level.
            via_root = client.aisearch.with_raw_response.instances.jobs.get("j1", id="docs")
            assert via_root.parse().id == "j1"

    await asyncio.to_thread(use_sync_client)


async def test_a_list_gives_the_raw_response_of_its_first_page(serve: ServeFn) -> None:
    api = Api()
    base = await serve(api.app())
    async with make_async(base_url=base) as client:
        raw = await client.aisearch.instances.jobs.with_raw_response.list("docs", per_page=1)
    assert raw.request_id == "ray-list"
    page = await raw.parse()
    assert isinstance(page, Page)
    assert [job.id for job in page] == ["j1"]
    assert page.result_info.total_count == 3
    assert api.queries == [{"per_page": "1"}]


async def test_retries_are_counted(serve: ServeFn) -> None:
    api = Api()
    base = await serve(api.app())
    async with make_async(base_url=base) as client:
        raw = await client.aisearch.instances.jobs.with_raw_response.get("flaky", id="docs")
    assert raw.retries_taken == 1
    assert raw.request_id == "ray-2"


async def test_an_undecodable_body_is_reported_by_parse(serve: ServeFn) -> None:
    api = Api()
    base = await serve(api.app())
    async with make_async(base_url=base) as client:
        raw = await client.aisearch.instances.jobs.with_raw_response.get("odd", id="docs")
        assert raw.request_id == "ray-odd"  # still inspectable
        with pytest.raises(cf.APIResponseValidationError):
            await raw.parse()
        with pytest.raises(cf.NotFoundError, match="not found"):
            await client.aisearch.instances.jobs.with_raw_response.get("gone", id="docs")


async def test_a_download_parses_to_its_unread_body(serve: ServeFn) -> None:
    api = Api()
    base = await serve(api.app())
    async with make_async(base_url=base) as client:
        items = client.aisearch.namespaces.instances.items
        raw = await items.with_raw_response.download("it-1", name="default", id="docs")
        assert raw.content is None  # streamed: the body belongs to the parsed response
        response = await raw.parse()
        assert isinstance(response, AsyncBinaryResponse)
        assert await response.read() == b"file body"


async def test_the_async_raw_response_has_the_official_surface(serve: ServeFn) -> None:
    api = Api()
    base = await serve(api.app())
    async with make_async(base_url=base, api_token="sekrit-token-value") as client:
        raw = await client.aisearch.instances.jobs.with_raw_response.get("j1", id="docs")
    assert raw.method == raw.http_request.method == "GET"
    assert raw.url == raw.http_request.url == f"{base.removesuffix('/client/v4')}{JOBS}/j1"
    assert "sekrit" not in repr(raw.http_request)
    assert not hasattr(raw.http_request, "headers")
    assert isinstance(raw.elapsed, datetime.timedelta)
    assert raw.elapsed.total_seconds() > 0
    assert raw.is_closed
    assert await raw.read() == raw.content
    assert orjson.loads(await raw.text()) == await raw.json()
    assert (await raw.json())["result"]["id"] == "j1"  # type: ignore[index]
    assert b"".join([c async for c in raw.iter_bytes(3)]) == raw.content
    assert "".join([t async for t in raw.iter_text()]) == await raw.text()


async def test_a_raw_download_reads_its_body(serve: ServeFn) -> None:
    api = Api()
    base = await serve(api.app())
    async with make_async(base_url=base) as client:
        items = client.aisearch.namespaces.instances.items
        raw = await items.with_raw_response.download("it-1", name="default", id="docs")
        assert not raw.is_closed
        assert await raw.text() == "file body"
        assert await raw.read() == b"file body"  # kept: read again


async def test_the_sync_raw_response_reads_without_await(serve: ServeFn) -> None:
    api = Api()
    base = await serve(api.app())

    def use_sync_client() -> None:
        with make_sync(base_url=base) as client:
            raw = client.aisearch.instances.jobs.with_raw_response.get("j1", id="docs")
            assert isinstance(raw, RawResponse)
            assert raw.json()["result"]["id"] == "j1"  # type: ignore[index]
            assert raw.text() == raw.read().decode()
            assert list(raw.iter_lines()) == raw.text().splitlines()
            assert raw.elapsed.total_seconds() > 0
            items = client.aisearch.namespaces.instances.items
            download = items.with_raw_response.download("it-1", name="default", id="docs")
            assert b"".join(download.iter_bytes(4)) == b"file body"

    await asyncio.to_thread(use_sync_client)


# -- every method has a twin ------------------------------------------------------------------


def _async_resources() -> list[type]:
    found = []
    for info in pkgutil.iter_modules(cfaisearch.resources.__path__):
        if not info.name.startswith("_"):
            module = importlib.import_module(f"cfaisearch.resources.{info.name}")
            found += [
                cls
                for name, cls in vars(module).items()
                if name.startswith("Async") and inspect.isclass(cls)
                if cls.__module__ == module.__name__
            ]
    return found


@pytest.mark.parametrize("resource", _async_resources(), ids=lambda cls: cls.__name__)
def test_every_resource_method_has_raw_twins(resource: type) -> None:
    stem = resource.__module__.rsplit(".", 1)[1]
    async_twin = getattr(
        importlib.import_module(f"cfaisearch._with_raw.{stem}"),
        f"{resource.__name__}WithRawResponse",
    )
    sync_twin = getattr(
        importlib.import_module(f"cfaisearch._sync.{stem}"),
        f"{resource.__name__[len('Async') :]}WithRawResponse",
    )
    # The helpers sending many kinds of request have none (see scripts/gen_sync.py).
    public = {n for n in dir(resource) if not n.startswith("_")} - {
        "with_raw_response",
        "with_streaming_response",
        "sync_directory",
        "wait_until_indexed",
    }
    assert public == {n for n in dir(async_twin) if not n.startswith("_")}
    assert public == {n for n in dir(sync_twin) if not n.startswith("_")}
    for name in public:
        member = inspect.getattr_static(resource, name)
        if hasattr(member, "func"):  # sub-resources
            continue
        signature = inspect.signature(member).parameters
        assert inspect.signature(getattr(async_twin, name)).parameters == signature, name
        assert inspect.signature(getattr(sync_twin, name)).parameters == signature, name
        assert inspect.iscoroutinefunction(getattr(async_twin, name)), name
    # And its streamed twins, async and sync, the same methods with the same parameters.
    for streaming in (
        getattr(
            importlib.import_module(f"cfaisearch._with_raw.{stem}"),
            f"{resource.__name__}WithStreamingResponse",
        ),
        getattr(
            importlib.import_module(f"cfaisearch._sync.{stem}"),
            f"{resource.__name__[len('Async') :]}WithStreamingResponse",
        ),
    ):
        assert public == {n for n in dir(streaming) if not n.startswith("_")}
        for name in public:
            member = inspect.getattr_static(resource, name)
            if not hasattr(member, "func"):
                signature = inspect.signature(member).parameters
                assert inspect.signature(getattr(streaming, name)).parameters == signature, name


def test_raw_twins_are_generated_not_written() -> None:
    package = Path(cfaisearch.__file__).parent / "_with_raw"
    for path in package.glob("*.py"):
        assert path.read_text().startswith("# Generated by scripts/gen_sync.py"), path
        ast.parse(path.read_text())
