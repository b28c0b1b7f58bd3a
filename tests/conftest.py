"""Shared fixtures: clients pointed at mocks or at loopback servers, with fast retries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aioresponses import aioresponses

from cfaisearch import AsyncCloudflare, Cloudflare, RetryPolicy

TOKEN = "test-token-0123456789abcdef"
ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
BASE = "https://api.cloudflare.com/client/v4"
JOBS = f"{BASE}/accounts/{ACCOUNT}/ai-search/instances/my-ai-search/jobs"


async def _no_sleep(delay: float) -> None:
    """Retries in tests skip the backoff wait; the delay chosen is asserted separately."""


FAST_RETRIES = RetryPolicy(sleep=_no_sleep)


# Tests decode strictly, so a fixture or mock that does not fit the models fails.
STRICT = {"_strict_response_validation": True}


def make_async(**kwargs: object) -> AsyncCloudflare:
    options: dict[str, object] = {
        "api_token": TOKEN,
        "account_id": ACCOUNT,
        "retry_policy": FAST_RETRIES,
        **STRICT,
    }
    options.update(kwargs)
    return AsyncCloudflare(**options)  # type: ignore[arg-type]


def make_sync(**kwargs: object) -> Cloudflare:
    options: dict[str, object] = {
        "api_token": TOKEN,
        "account_id": ACCOUNT,
        "retry_policy": FAST_RETRIES,
        **STRICT,
    }
    options.update(kwargs)
    return Cloudflare(**options)  # type: ignore[arg-type]


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as m:
        yield m


@pytest.fixture
async def client() -> AsyncIterator[AsyncCloudflare]:
    async with make_async() as c:
        yield c


ServeFn = Callable[[web.Application], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[ServeFn]:
    """Start an aiohttp app on 127.0.0.1 and return its ``/client/v4`` base URL."""
    servers: list[TestServer] = []

    async def start(app: web.Application) -> str:
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("/client/v4"))

    yield start
    for server in servers:
        await server.close()


def envelope(result: object, **extra: object) -> dict[str, object]:
    return {"success": True, "errors": [], "messages": [], "result": result, **extra}
