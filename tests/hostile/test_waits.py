"""Rule 6: ``wait()`` stops at its own ``timeout``, whatever the server does.

Every family of waits is run: ``instances.jobs``, ``namespaces.instances.jobs``
and ``namespaces.instances.items``. The clients keep their defaults (60 s per
request, 2 retries with real backoff) unless a test says otherwise, since those
are what used to stretch a short wait to minutes.
"""

from __future__ import annotations

import asyncio
import math
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiohttp import web
from aioresponses import aioresponses

import cfaisearch as cf
from cfaisearch import AsyncCloudflare, Cloudflare
from tests.support.clients import ACCOUNT, TOKEN, ServeFn, envelope, make_async, make_sync

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

Wait = Callable[..., Any]

RUNNING_JOB: dict[str, object] = {
    "id": "j",
    "source": "user",
    "last_seen_at": "2026-01-01T00:00:00Z",
}
QUEUED_ITEM: dict[str, object] = {
    "id": "i",
    "checksum": "c",
    "created_at": "2026-01-01T00:00:00Z",
    "key": "a.md",
    "last_seen_at": "2026-01-01T00:00:00Z",
    "namespace": "default",
    "status": "queued",
}

# (name, wait call, path under /ai-search, a not-yet-done state, its model)
FAMILIES: list[tuple[str, Wait, str, dict[str, object], type]] = [
    (
        "instances.jobs",
        lambda ai, **kw: ai.instances.jobs.wait("j", id="docs", **kw),
        "/instances/docs/jobs/j",
        RUNNING_JOB,
        cf.types.Job,
    ),
    (
        "namespaces.instances.jobs",
        lambda ai, **kw: ai.namespaces.instances.jobs.wait("j", name="default", id="docs", **kw),
        "/namespaces/default/instances/docs/jobs/j",
        RUNNING_JOB,
        cf.types.Job,
    ),
    (
        "namespaces.instances.items",
        lambda ai, **kw: ai.namespaces.instances.items.wait("i", name="default", id="docs", **kw),
        "/namespaces/default/instances/docs/items/i",
        QUEUED_ITEM,
        cf.types.Item,
    ),
]
IDS = [family[0] for family in FAMILIES]
WAITS = [pytest.param(family[1], id=family[0]) for family in FAMILIES]

# Far longer than any fixed wait should take, far shorter than the old 3 x 60 s.
OUTER_BOUND = 10.0


@pytest.fixture
def silent_base_url() -> Iterator[str]:
    """A server whose kernel accepts connections but which never reads or answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/client/v4"


@pytest.fixture
async def default_client(silent_base_url: str) -> AsyncIterator[AsyncCloudflare]:
    async with AsyncCloudflare(
        api_token=TOKEN, account_id=ACCOUNT, base_url=silent_base_url
    ) as client:
        yield client


async def bounded(call: Awaitable[object]) -> None:
    """Await ``call``; an unfixed wait fails here instead of hanging the suite."""
    await asyncio.wait_for(call, OUTER_BOUND)


@pytest.mark.parametrize("wait", WAITS)
async def test_a_silent_server_cannot_stretch_a_wait(
    default_client: AsyncCloudflare, wait: Wait
) -> None:
    """Rule 6: each poll's request gets only what is left of the wait's timeout."""
    started = time.monotonic()
    with pytest.raises(cf.WaitTimeoutError, match="never answered") as info:
        await bounded(wait(default_client.aisearch, timeout=1, poll_interval=0.1))
    assert time.monotonic() - started < 3
    assert info.value.last is None
    # The request's own timeout and the wait's deadline race; either is the cause.
    # (asyncio.TimeoutError is TimeoutError from Python 3.11 on, a class of its own on 3.10.)
    assert isinstance(info.value.__cause__, (cf.APITimeoutError, asyncio.TimeoutError))


def test_a_sync_wait_on_a_silent_server_stops_at_its_timeout(silent_base_url: str) -> None:
    """Rule 6: the same through the sync client (whose own timeout would be 4 s, twice)."""
    with Cloudflare(
        api_token=TOKEN, account_id=ACCOUNT, base_url=silent_base_url, timeout=4, max_retries=1
    ) as client:
        started = time.monotonic()
        with pytest.raises(cf.WaitTimeoutError):
            client.aisearch.namespaces.instances.items.wait(
                "i", name="default", id="docs", timeout=1, poll_interval=0.1
            )
        assert time.monotonic() - started < 3


@pytest.mark.parametrize(("name", "wait", "path", "state", "model"), FAMILIES, ids=IDS)
async def test_a_server_going_silent_mid_wait_leaves_the_last_state(
    serve: ServeFn,
    name: str,
    wait: Wait,
    path: str,
    state: dict[str, object],
    model: type,
) -> None:
    """Rule 6: a timeout at the deadline becomes WaitTimeoutError with the last state, chained."""
    answered = 0
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        nonlocal answered
        if answered:
            await release.wait()
        answered += 1
        return web.json_response(envelope(state))

    app = web.Application()
    app.router.add_get(f"/client/v4/accounts/{ACCOUNT}/ai-search{path}", handler)
    base_url = await serve(app)
    try:
        async with AsyncCloudflare(api_token=TOKEN, account_id=ACCOUNT, base_url=base_url) as c:
            with pytest.raises(cf.WaitTimeoutError, match="still") as info:
                await bounded(wait(c.aisearch, timeout=1, poll_interval=0.2))
    finally:
        release.set()
    assert isinstance(info.value.last, model)
    assert isinstance(info.value.__cause__, (cf.APITimeoutError, asyncio.TimeoutError))


@pytest.mark.parametrize("wait", WAITS)
async def test_retry_after_cannot_stretch_a_wait(serve: ServeFn, wait: Wait) -> None:
    """Rule 6: retries and their backoff inside one poll are bounded by the wait too."""

    async def unavailable(request: web.Request) -> web.Response:
        return web.json_response(
            {"success": False, "errors": [{"code": 1, "message": "busy"}]},
            status=503,
            headers={"Retry-After": "30"},
        )

    app = web.Application()
    app.router.add_get("/{tail:.*}", unavailable)
    base_url = await serve(app)
    async with AsyncCloudflare(api_token=TOKEN, account_id=ACCOUNT, base_url=base_url) as client:
        started = time.monotonic()
        with pytest.raises(cf.WaitTimeoutError, match="never answered"):
            await bounded(wait(client.aisearch, timeout=1, poll_interval=0.1))
        assert time.monotonic() - started < 3


BAD_SECONDS = [math.nan, math.inf, -math.inf, -1.0, 0]


@pytest.mark.parametrize("value", BAD_SECONDS, ids=repr)
@pytest.mark.parametrize("parameter", ["timeout", "poll_interval"])
@pytest.mark.parametrize("wait", WAITS)
async def test_bad_durations_are_refused_before_any_request(
    mocked: aioresponses, wait: Wait, parameter: str, value: float
) -> None:
    """Rule 6: nan, infinite, negative or zero timeouts and poll intervals are a ValueError."""
    async with make_async() as client:
        with pytest.raises(ValueError, match=f"`{parameter}`"):
            await wait(client.aisearch, **{parameter: value})
    assert mocked.requests == {}


@pytest.mark.parametrize("parameter", ["timeout", "poll_interval"])
def test_bad_durations_are_refused_by_the_sync_client(mocked: aioresponses, parameter: str) -> None:
    """Rule 6: the same checks through the sync client."""
    bad: dict[str, Any] = {parameter: math.nan}
    with make_sync() as client, pytest.raises(ValueError, match=f"`{parameter}`"):
        client.aisearch.instances.jobs.wait("j", id="docs", **bad)
    assert mocked.requests == {}


@pytest.mark.parametrize("parameter", ["timeout", "poll_interval"])
async def test_a_duration_must_be_a_number(mocked: aioresponses, parameter: str) -> None:
    """Rule 6: a duration that is not a number is a TypeError naming it."""
    not_a_number: dict[str, Any] = {parameter: "5"}
    async with make_async() as client:
        with pytest.raises(TypeError, match=f"`{parameter}`"):
            await client.aisearch.instances.jobs.wait("j", id="docs", **not_a_number)
    assert mocked.requests == {}
