"""Hostile input to the official-spelling surface: generic requests, copies, error facts.

Rule numbers are those of the client-surface section of docs/reliability.md.
"""

from __future__ import annotations

import pickle

import pytest
from aiohttp import web
from aioresponses import aioresponses

import cfaisearch as cf
from cfaisearch import AsyncCloudflare
from tests.support.clients import ACCOUNT, BASE, FAST_RETRIES, TOKEN, ServeFn


@pytest.mark.parametrize(
    "path",
    [
        "https://evil.example/client/v4/x",
        "//evil.example/x",
        "http://api.cloudflare.com/client/v4/x",  # the right host, but not https
        "https://api.cloudflare.com/client/v4.evil.example/x",
    ],
)
async def test_generic_requests_never_carry_credentials_elsewhere(
    mocked: aioresponses, path: str
) -> None:
    """Rule 1: a full URL in `path` is refused unless it lies under base_url."""
    async with AsyncCloudflare(api_token=TOKEN) as client:
        with pytest.raises(ValueError, match="relative to base_url"):
            await client.get(path, cast_to=object)
    assert not mocked.requests


async def test_a_generic_path_cannot_inject_into_the_request_line(serve: ServeFn) -> None:
    """Rule 2: a line break in `path` is refused; spaces and non-ASCII are percent-encoded;
    a query written into `path` is merged with `params`, not doubled."""
    seen: list[tuple[str, dict[str, str]]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.raw_path.partition("?")[0], dict(request.query)))
        return web.json_response({"success": True, "result": None})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    base = await serve(app)
    async with AsyncCloudflare(api_token=TOKEN, base_url=base) as client:
        with pytest.raises(ValueError, match="`path` must not contain control characters"):
            await client.get("/a\r\nX-Evil: 1", cast_to=object)
        await client.get("/a b/é%2F?x=1", cast_to=object, options={"params": {"y": 2}})
    ((raw_path, query),) = seen
    assert raw_path == "/client/v4/a%20b/%C3%A9%2F"
    assert query == {"x": "1", "y": "2"}


async def test_request_facts_on_errors_hold_no_credentials(mocked: aioresponses) -> None:
    """Rule 3: err.request.headers (and the pickled error) lose Authorization, X-Auth-*
    and any header whose name mentions a key, token, secret or cookie."""
    mocked.get(f"{BASE}/x", status=401, payload={"success": False})
    secrets = {
        "X-Auth-Email": "me@example.com",
        "Cookie": "session=abc",
        "CF-Access-Client-Secret": "s3cr3t",
        "X-Upstream-Token": "tok",
    }
    async with AsyncCloudflare(
        api_key=TOKEN, api_email="me@example.com", default_headers=secrets, max_retries=0
    ) as client:
        with pytest.raises(cf.AuthenticationError) as caught:
            await client.get("/x", cast_to=object)
    dumped = pickle.dumps(caught.value)
    for value in (TOKEN, *secrets.values()):
        assert value not in repr(caught.value.request.headers)
        assert value.encode() not in dumped
    assert "User-Agent" in caught.value.request.headers


async def test_closing_a_copy_never_closes_the_shared_pool(mocked: aioresponses) -> None:
    """Rule 4: a copy used as a context manager leaves the original's pool open."""
    mocked.get(f"{BASE}/accounts/{ACCOUNT}/x", payload={"success": True, "result": 1}, repeat=True)
    async with AsyncCloudflare(
        api_token=TOKEN, account_id=ACCOUNT, retry_policy=FAST_RETRIES
    ) as client:
        for _ in range(3):
            async with client.with_options(max_retries=0) as copy:
                assert await copy.get(f"/accounts/{ACCOUNT}/x", cast_to=int) == 1
        assert await client.get(f"/accounts/{ACCOUNT}/x", cast_to=int) == 1
