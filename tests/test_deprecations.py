"""The top-level ``aisearch.instances`` family warns, as the official SDK's does."""

from __future__ import annotations

import asyncio
import warnings
from functools import cached_property

import pytest
from aiohttp import web

from cfaisearch.resources.instances import AsyncInstances
from cfaisearch.resources.jobs import AsyncJobs
from tests.support.clients import ACCOUNT, ServeFn, envelope, make_async, make_sync

TOP = f"/client/v4/accounts/{ACCOUNT}/ai-search/instances"
NAMESPACED = f"/client/v4/accounts/{ACCOUNT}/ai-search/namespaces/default/instances"
JOB = {"id": "j1", "source": "user"}
JOBS_GET = (
    r"`aisearch\.instances\.jobs\.get` is deprecated; "
    r"use `aisearch\.namespaces\.instances\.jobs\.get` instead"
)


def app() -> web.Application:
    async def job(request: web.Request) -> web.Response:
        return web.json_response(envelope(JOB))

    async def jobs(request: web.Request) -> web.Response:
        return web.json_response(envelope([JOB], result_info={"page": 1, "total_count": 1}))

    application = web.Application()
    for base in (TOP, NAMESPACED):
        application.router.add_get(f"{base}/docs/jobs/j1", job)
        application.router.add_get(f"{base}/docs/jobs", jobs)
    return application


@pytest.mark.parametrize(
    ("resource", "family"),
    [(AsyncInstances, "instances"), (AsyncJobs, "instances.jobs")],
    ids=["instances", "jobs"],
)
def test_every_top_level_method_is_deprecated(resource: type, family: str) -> None:
    methods = [
        name
        for name, member in vars(resource).items()
        if not name.startswith("_") and not isinstance(member, cached_property)
    ]
    assert methods
    for name in methods:
        method = getattr(resource, name)
        assert hasattr(method, "__wrapped__"), name
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(TypeError):  # no arguments: fails once it has warned
                method()
        assert [str(w.message) for w in caught] == [
            f"`aisearch.{family}.{name}` is deprecated; "
            f"use `aisearch.namespaces.{family}.{name}` instead"
        ]


async def test_an_async_call_warns_once_at_the_callers_line(serve: ServeFn) -> None:
    base = await serve(app())
    async with make_async(base_url=base) as client:
        with pytest.warns(DeprecationWarning, match=JOBS_GET) as caught:
            job = await client.aisearch.instances.jobs.get("j1", id="docs")
        assert job.id == "j1"
        assert len(caught) == 1
        assert caught[0].filename == __file__
        # Its raw and streamed twins warn once too, at the caller's line.
        with pytest.warns(DeprecationWarning, match=JOBS_GET) as caught:
            raw = await client.aisearch.instances.jobs.with_raw_response.get("j1", id="docs")
        assert (await raw.parse()).id == "j1"
        assert [w.filename for w in caught] == [__file__]
        # A list warns when called, before anything is sent.
        with pytest.warns(DeprecationWarning, match="instances.jobs.list") as caught:
            paginator = client.aisearch.instances.jobs.list("docs")
        assert [w.filename for w in caught] == [__file__]
        assert [job.id async for job in paginator] == ["j1"]


async def test_the_namespaced_family_does_not_warn(serve: ServeFn) -> None:
    base = await serve(app())
    async with make_async(base_url=base) as client:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            jobs = client.aisearch.namespaces.instances.jobs
            assert (await jobs.get("j1", name="default", id="docs")).id == "j1"
            assert [job.id async for job in jobs.list("docs", name="default")] == ["j1"]


async def test_a_sync_call_warns_once_at_the_callers_line(serve: ServeFn) -> None:
    base = await serve(app())

    def use_sync_client() -> None:
        with make_sync(base_url=base) as client:
            jobs = client.aisearch.instances.jobs
            with pytest.warns(DeprecationWarning, match=JOBS_GET) as caught:
                assert jobs.get("j1", id="docs").id == "j1"
            assert [w.filename for w in caught] == [__file__]
            with pytest.warns(DeprecationWarning, match=JOBS_GET) as caught:
                assert jobs.with_raw_response.get("j1", id="docs").parse().id == "j1"
            assert [w.filename for w in caught] == [__file__]
            with pytest.warns(DeprecationWarning, match="instances.jobs.list") as caught:
                assert [job.id for job in jobs.list("docs")] == ["j1"]
            assert [w.filename for w in caught] == [__file__]

    await asyncio.to_thread(use_sync_client)


def test_by_default_the_warning_shows_in_the_users_script() -> None:
    """Python shows DeprecationWarnings attributed to ``__main__`` by default: the
    warning must be attributed to the user's line, not to the SDK's."""
    with warnings.catch_warnings(record=True) as caught:
        # Python's default filters, in the order it has them.
        warnings.resetwarnings()
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
        namespace = {"__name__": "__main__", "AsyncInstances": AsyncInstances}
        exec(  # the user's script, calling a deprecated method (which then fails)
            "try:\n    AsyncInstances.list(None)\nexcept AttributeError:\n    pass\n",
            namespace,
        )
    assert [str(w.message)[:30] for w in caught] == ["`aisearch.instances.list` is d"]
