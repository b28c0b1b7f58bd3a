"""Fixtures: a mocked HTTP layer, a client with fast retries, loopback servers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aioresponses import aioresponses

from cfaisearch import AsyncCloudflare
from tests.support.clients import ServeFn, make_async


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as m:
        yield m


@pytest.fixture
async def client() -> AsyncIterator[AsyncCloudflare]:
    async with make_async() as c:
        yield c


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
