"""Adversarial checks of the reliability rules: hostile servers and careless callers.

Each test names the rule it attacks in its docstring and failed before the
fix that came with it. Servers listen on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import gc
import gzip
import math
import pickle
import socket
import sys
import warnings
from typing import Any

import pytest
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

import cfaisearch as cf
from cfaisearch import AsyncCloudflare, BinaryResponse, ChatCompletionStream, Cloudflare
from cfaisearch.types import ChatCompletion, MessageParam
from tests.support.clients import TOKEN, ServeFn, envelope, make_async, make_sync
from tests.support.paging import Answer, Server, jobs, walk

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

MESSAGES: list[MessageParam] = [{"role": "user", "content": "hi"}]


async def get_job(client: AsyncCloudflare) -> object:
    return await client.aisearch.instances.jobs.get("j1", id="docs")


# -- rule 6 (client options): an infinite timeout is refused like a per-call one ------------


@pytest.mark.parametrize("option", ["timeout", "connect_timeout", "read_timeout"])
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_non_finite_client_timeouts_are_a_value_error(option: str, value: float) -> None:
    """Rule 6: an infinite client timeout was accepted, then every call raised OverflowError."""
    for client_type in (AsyncCloudflare, Cloudflare):
        with pytest.raises(ValueError, match=option):
            client_type(api_token=TOKEN, **{option: value})  # type: ignore[arg-type]


# -- rule 14: a compression bomb is a response too large, not a connection error -------------


async def test_a_gzip_bomb_is_too_large_and_not_fetched_again(serve: ServeFn) -> None:
    """Rule 14: 40 KB of gzip inflating to 40 MiB raises ResponseTooLargeError, once.

    aiohttp refuses a read that inflates past 32 MiB; that surfaced as an
    APIConnectionError with reached_server=True, so reads fetched the bomb again.
    """
    bomb = gzip.compress(b" " * (40 * 1024 * 1024))
    requests = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal requests
        requests += 1
        return web.Response(
            body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
        )

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    origin = await serve(app)
    async with make_async(base_url=origin, max_response_size=1024 * 1024, max_retries=2) as client:
        with pytest.raises(cf.ResponseTooLargeError) as info:
            await get_job(client)
    assert info.value.limit == 1024 * 1024
    assert requests == 1


# -- rule 15: a server cycling through pages it ignores the number of ----------------------


@pytest.mark.parametrize(
    "answer",
    [
        # Two pages in turn, whatever page is asked for.
        lambda page, per: (jobs(0 if page % 2 else per, per), {}),
        # The same items in another order each time (an unordered query ignoring page).
        lambda page, per: (jobs(0, per)[page % per :] + jobs(0, per)[: page % per], {}),
    ],
    ids=["alternating pages", "same items reordered"],
)
async def test_a_server_repeating_an_earlier_page_ends_the_walk(
    serve: ServeFn, answer: Answer
) -> None:
    """Rule 15: only the page just before was compared, so A, B, A, ... looped forever."""
    server = Server(answer)
    base = await server.start(serve)
    with pytest.raises(cf.PaginationError, match=r"same items as page \d"):
        await walk(base)
    assert len(server.asked) <= 3


# -- rule 9: a dropped sync iterator collected while the client's loop runs ----------------


async def test_a_half_read_sync_download_collected_during_a_later_call_is_released(
    serve: ServeFn,
) -> None:
    """Rule 9: the cyclic GC may collect a dropped iterator inside a later call, on the
    client's own loop; closing it there raised the deadlock guard as an unraisable error
    and left the connection to a ResourceWarning."""

    async def pdf(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 1_000_000, content_type="application/pdf")

    app = web.Application()
    app.router.add_get("/{tail:.*}", pdf)
    base = await serve(app)

    async def collect() -> None:
        gc.collect()

    def scenario() -> bool:
        with make_sync(base_url=base) as client:
            items = client.aisearch.namespaces.instances.items
            download = items.download("it-1", name="default", id="docs")
            response = download._async._response
            chunks = download.iter_bytes(1024)
            next(chunks)
            cycle: list[object] = [chunks]
            cycle.append(cycle)  # only the cyclic GC can free it
            del chunks, cycle, download
            client._portal.call(collect)  # as if the GC ran during this call
            client._portal.call(asyncio.sleep, 0)
            return response.closed

    assert await asyncio.to_thread(scenario)


# -- rule 18: a proxy from the environment is never asked to reach this machine's loopback ----


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_a_loopback_origin_is_not_sent_through_an_environment_proxy(
    serve: ServeFn, monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    """Rule 18: with HTTP_PROXY set (as in many CI machines), calls to a local emulator
    (the pytest plugin, the demo) went to the proxy, which cannot reach our loopback."""

    async def job(request: web.Request) -> web.Response:
        return web.json_response(envelope({"id": "j1", "source": "user"}))

    app = web.Application()
    app.router.add_get("/{tail:.*}", job)
    origin = (await serve(app)).replace("127.0.0.1", host)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        dead_proxy = f"http://127.0.0.1:{unused.getsockname()[1]}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, dead_proxy)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    async with make_async(base_url=origin, max_retries=0) as client:
        assert (await client.aisearch.instances.jobs.get("j1", id="docs")).id == "j1"


# -- rule 3: per-call headers are checked like the client's ----------------------------------

BAD_EXTRA_HEADERS = {
    "line break": {"Authorization": "Bearer s3cret-value\r\nX-Evil: 1"},
    "non-ASCII": {"Authorization": "Bearer s3cret-välue"},
    "NUL": {"X-Auth-Key": "s3cret-value\x00"},
    "bad name": {"Bad Name": "v"},
    "not a string": {"X-Count": 5},
}


@pytest.mark.parametrize("headers", BAD_EXTRA_HEADERS.values(), ids=BAD_EXTRA_HEADERS.keys())
async def test_bad_extra_headers_are_a_value_error_before_any_request(
    serve: ServeFn, headers: dict[str, Any]
) -> None:
    """Rule 3: extra_headers went unchecked: a bare ValueError or TypeError from aiohttp,
    or a malformed request on the wire (a header name with a space, a non-ASCII value)."""
    requests = 0

    async def job(request: web.Request) -> web.Response:
        nonlocal requests
        requests += 1
        return web.json_response(envelope({"id": "j1", "source": "user"}))

    app = web.Application()
    app.router.add_get("/{tail:.*}", job)
    async with make_async(base_url=await serve(app), max_retries=0) as client:
        with pytest.raises(ValueError, match="extra_headers") as info:
            await client.aisearch.instances.jobs.get("j1", id="docs", extra_headers=headers)
    assert "s3cret" not in str(info.value)
    assert requests == 0


# -- errors cross process boundaries -------------------------------------------------------


def test_errors_survive_pickling_for_process_pools() -> None:
    """Rule 2 (errors as values): keyword-only constructors and aiohttp's header proxy made
    every error unpicklable, so one raised in a ProcessPoolExecutor worker broke the pool."""
    headers = CIMultiDictProxy(CIMultiDict({"Retry-After": "7", "cf-ray": "abc"}))
    errors: list[cf.CloudflareError] = [
        cf.RateLimitError(
            "slow down",
            method="GET",
            url="https://x.test/a",
            status_code=429,
            request_id="abc",
            headers=headers,
            body={"success": False},
        ),
        cf.APITimeoutError(method="GET", url="https://x.test/a", timeout=1.0, reached_server=False),
        cf.WaitTimeoutError("gave up", last={"id": "j1"}),
        cf.ConfigurationError("no credentials"),
    ]
    for error in errors:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == str(error)
        assert {k: v for k, v in vars(copy).items() if k != "headers"} == {
            k: v for k, v in vars(error).items() if k != "headers"
        }
    limited = pickle.loads(pickle.dumps(errors[0]))
    assert limited.headers["retry-after"] == "7"  # still case-insensitive
    assert limited.retry_after == 7.0


# -- rule 1: a same-origin redirect may not bring its own credentials ------------------------


@pytest.mark.parametrize("scheme", ["token", "key"])
async def test_a_redirect_carrying_userinfo_is_not_followed(serve: ServeFn, scheme: str) -> None:
    """Rule 1: Location http://user:pw@same-origin/... was followed: with a token aiohttp
    raised a bare ValueError, with a key it sent the server's own Basic credentials."""
    seen: list[str | None] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        if request.path.endswith("/j1"):
            location = request.url.with_user("evil").with_password("pw").with_path("/elsewhere")
            return web.Response(status=307, headers={"Location": str(location)})
        return web.json_response(envelope({"id": "j1", "source": "user"}))

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    credentials: dict[str, Any] = (
        {"api_token": TOKEN}
        if scheme == "token"
        else {"api_token": None, "api_key": "k3y", "api_email": "a@b.test"}
    )
    async with make_async(
        base_url=await serve(app), follow_redirects=True, max_retries=0, **credentials
    ) as client:
        with pytest.raises(cf.RedirectError) as info:
            await client.aisearch.instances.jobs.get("j1", id="docs")
    assert info.value.status_code == 307
    assert len(seen) == 1


# -- rule 4: a Retry-After date that overflows ------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "Tue, 1 Jan 99999999999999999999 00:00:00 GMT",
        "Tue, 1 Jan 2030 00:00:00 +99999999999999999999",
    ],
)
async def test_an_overflowing_retry_after_date_is_ignored(serve: ServeFn, value: str) -> None:
    """Rule 4: such a date raised a bare OverflowError out of the call (and out of
    RateLimitError's constructor); like any unreadable Retry-After it is now ignored."""
    requests = 0

    async def limited(request: web.Request) -> web.Response:
        nonlocal requests
        requests += 1
        return web.json_response(
            {"success": False, "errors": []}, status=429, headers={"Retry-After": value}
        )

    app = web.Application()
    app.router.add_get("/{tail:.*}", limited)
    async with make_async(base_url=await serve(app), max_retries=1) as client:
        with pytest.raises(cf.RateLimitError) as info:
            await get_job(client)
    assert info.value.retry_after is None
    assert requests == 2


# -- strict in what is sent: NaN and infinity are not null ------------------------------------


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda ai: ai.instances.update("docs", score_threshold=math.nan), "score_threshold"),
        (
            lambda ai: ai.instances.update("docs", retrieval_options={"max_num_results": math.inf}),
            "retrieval_options.max_num_results",
        ),
        (lambda ai: ai.instances.update("docs", extra_body={"x": [1.0, -math.inf]}), r"x\[1\]"),
        (
            lambda ai: ai.namespaces.instances.items.upload(
                "docs",
                name="default",
                file={"file": ("a.md", b"# a"), "metadata": {"rank": math.nan}},
            ),
            "metadata",
        ),
    ],
    ids=["parameter", "nested", "extra_body", "upload metadata"],
)
async def test_non_finite_numbers_in_a_body_are_refused_not_sent_as_null(
    serve: ServeFn, call: Any, named: str
) -> None:
    """orjson writes NaN and infinity as null, so an update silently reset the setting."""
    requests = 0

    async def anything(request: web.Request) -> web.Response:
        nonlocal requests
        requests += 1
        return web.json_response(envelope({"id": "docs"}))

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    async with make_async(base_url=await serve(app), max_retries=0) as client:
        with pytest.raises(ValueError, match=named):
            await call(client.aisearch)
    assert requests == 0


# -- rule 11: closing what a closed sync client handed out -----------------------------------


async def test_closing_a_download_or_stream_after_the_client_is_a_no_op(serve: ServeFn) -> None:
    """Rule 11: close() (and leaving a ``with``) of a download or chat stream raised
    CloudflareError("the client is closed") once the client was closed first."""

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/download"):
            return web.Response(body=b"x" * 100_000, content_type="application/pdf")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b'data: {"choices": [{"delta": {"content": "hi"}}]}\n\n')
        await asyncio.sleep(10)
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    base = await serve(app)

    def scenario() -> None:
        with make_sync(base_url=base) as client:
            ai = client.aisearch
            download = ai.namespaces.instances.items.download("it-1", name="default", id="docs")
            stream = ai.instances.chat_completions("docs", messages=MESSAGES, stream=True)
        taken: BinaryResponse | ChatCompletionStream[ChatCompletion]
        for taken in (download, stream):
            taken.close()
            with taken:
                pass
        del download, stream, taken
        gc.collect()  # and no ResourceWarning for what was closed

    await asyncio.to_thread(scenario)


# -- rule 9: released at GC even where warnings are errors ------------------------------------


async def test_a_dropped_download_is_released_even_when_warnings_are_errors(
    serve: ServeFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule 9: with ResourceWarning turned into an error (pytest's filterwarnings = error,
    python -W error), the warning raised before the release, so the connection leaked."""

    async def pdf(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 1_000_000, content_type="application/pdf")

    app = web.Application()
    app.router.add_get("/{tail:.*}", pdf)
    unraisable: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda hook: unraisable.append(hook.exc_value))
    async with make_async(base_url=await serve(app)) as client:
        items = client.aisearch.namespaces.instances.items
        download = await items.download("it-1", name="default", id="docs")
        response = download._response._response
        with warnings.catch_warnings():
            warnings.simplefilter("error", ResourceWarning)
            del download
            gc.collect()
        assert response.connection is None  # released
    assert [type(e) for e in unraisable] == [ResourceWarning]


# -- tolerant in what is received: a file name with bytes that are not UTF-8 ------------------


async def test_a_download_name_with_invalid_utf8_still_reads() -> None:
    """Rule 12: aiohttp keeps undecodable header bytes as lone surrogates; mixed with
    other non-ASCII text they made ``filename`` raise a bare UnicodeEncodeError."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n"
            b'Content-Disposition: attachment; filename="r\xc3\xa9sum\xff.pdf"\r\n'
            b"Content-Length: 4\r\n\r\n%PDF"
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/client/v4"
    try:
        async with make_async(base_url=base) as client:
            items = client.aisearch.namespaces.instances.items
            async with await items.download("it-1", name="default", id="docs") as download:
                name = download.filename
                assert await download.read() == b"%PDF"
    finally:
        server.close()
        await server.wait_closed()
    assert name is not None
    assert name.startswith("résum")
    assert name.endswith(".pdf")


# -- rule 12: a tolerant client's chat stream tolerates drifted chunks ------------------------

DRIFTED_CHUNKS = {
    "choice not an object": b'{"choices": ["x"]}',
    "delta not an object": b'{"choices": [{"delta": "hi"}]}',
    "index not a number": b'{"choices": [{"index": [1], "delta": {"content": "a"}}]}',
    "choices not a list": b'{"choices": 5}',
    "content a number": b'{"choices": [{"delta": {"content": 5}}]}',
    "content a list": b'{"choices": [{"delta": {"content": ["a"]}}]}',
}


@pytest.mark.parametrize("drifted", DRIFTED_CHUNKS.values(), ids=DRIFTED_CHUNKS.keys())
async def test_a_tolerant_stream_reads_past_a_drifted_chunk(drifted: bytes) -> None:
    """Rule 12: the decoded event kept the wrong type, then assembling the answer (and
    ``event.text``) raised a bare AttributeError or TypeError out of the stream."""
    ok = b'{"choices": [{"delta": {"content": "ok"}}]}'
    body = b"".join(b"data: %s\n\n" % data for data in (drifted, ok, b"[DONE]"))

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: %d\r\n\r\n"
        writer.write(head % len(body) + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/client/v4"
    try:
        async with make_async(base_url=base, _strict_response_validation=False) as client:
            chat = client.aisearch.instances.chat_completions
            async with await chat("docs", messages=MESSAGES, stream=True) as stream:
                texts = [text async for text in stream.text_deltas()]
                final = await stream.get_final_completion()
    finally:
        server.close()
        await server.wait_closed()
    assert texts[-1] == "ok"
    content = final.choices[0].message.content
    assert isinstance(content, str)
    assert content.endswith("ok")
