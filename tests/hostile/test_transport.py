"""Hostile servers against the transport: redirects, stalls, floods, drops, huge bodies.

Each test names the rule it proves in its docstring. Servers listen on
127.0.0.1 only: raw asyncio sockets where the HTTP itself must misbehave,
aiohttp.web where a well-formed answer is enough.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

import cfaisearch as cf
from cfaisearch import AsyncCloudflare, Cloudflare
from cfaisearch._transport import _same_origin_target
from cfaisearch.types import MessageParam
from tests.support.clients import (
    ACCOUNT,
    FAST_RETRIES,
    TOKEN,
    ServeFn,
    envelope,
    make_async,
    make_sync,
)

# These tests reach the deprecated top-level family (``aisearch.instances.*``) on
# purpose or as their vehicle; its warning is tested in tests/test_deprecations.py.
pytestmark = pytest.mark.filterwarnings("ignore:`aisearch.instances:DeprecationWarning")

KEY = "legacy-global-key-9f8e7d6c5b4a"
EMAIL = "owner@example.test"
SECRETS = (TOKEN, KEY, EMAIL)
JOB_PATH = f"/client/v4/accounts/{ACCOUNT}/ai-search/instances/docs/jobs/j1"
JOB = {"id": "j1", "source": "user"}
JOB_BODY = orjson.dumps(envelope(JOB))
# Fits both a job and a search result, so one recorder serves either call.
ANY_RESULT = {**JOB, "chunks": [], "query_kind": "text"}
MESSAGES: list[MessageParam] = [{"role": "user", "content": "hi"}]
TLS = Path(__file__).parent.parent / "fixtures" / "tls"


# -- raw servers ---------------------------------------------------------------------------

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes]:
    """One request: its request line, headers (lower-cased names) and body."""
    head = await reader.readuntil(b"\r\n\r\n")
    line, *fields = head.decode("latin-1").split("\r\n")
    headers = {}
    for field in fields:
        if field:
            name, _, value = field.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return line, headers, body


def answer(body: bytes = JOB_BODY, status: str = "200 OK", extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


class RawServers:
    """Starts raw asyncio servers on 127.0.0.1 and tears every connection down after."""

    def __init__(self) -> None:
        self.servers: list[asyncio.Server] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self, handler: Handler) -> int:
        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            self.tasks.add(task)
            self.writers.append(writer)
            try:
                await handler(reader, writer)
            # Swallowing the teardown's cancellation too: asyncio's stream server
            # logs an error for a connection task that ends cancelled.
            except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(connection, "127.0.0.1", 0, backlog=2048)
        self.servers.append(server)
        port: int = server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        for server in self.servers:
            server.close()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for writer in self.writers:
            writer.close()
        for server in self.servers:
            await server.wait_closed()


@pytest.fixture
async def raw() -> AsyncIterator[RawServers]:
    servers = RawServers()
    yield servers
    await servers.close()


def base(port: int, scheme: str = "http") -> str:
    return f"{scheme}://127.0.0.1:{port}/client/v4"


def key_client(**kwargs: Any) -> AsyncCloudflare:
    return AsyncCloudflare(
        api_key=KEY, api_email=EMAIL, account_id=ACCOUNT, retry_policy=FAST_RETRIES, **kwargs
    )


async def get_job(client: AsyncCloudflare) -> object:
    return await client.aisearch.instances.jobs.get("j1", id="docs")


# -- rule 1: credentials never leave the configured origin ----------------------------------


class Recorder:
    """An aiohttp app that records every request's headers and body."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []

    async def record(self, request: web.Request) -> web.Response:
        self.seen.append(
            (request.method, request.path, dict(request.headers), await request.read())
        )
        return web.json_response(envelope(ANY_RESULT))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.record)
        return app


def redirecting(status: int, location: Callable[[web.Request], str]) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=status, headers={"Location": location(request)})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


@pytest.mark.parametrize("follow", [False, True])
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_to_another_origin_sends_it_nothing(
    serve: ServeFn, status: int, follow: bool
) -> None:
    """Rule 1: a 3xx to another origin raises RedirectError naming it; nothing is sent there."""
    elsewhere = Recorder()
    other = await serve(elsewhere.app())
    origin = await serve(redirecting(status, lambda r: other + "/steal" + r.path_qs))
    async with key_client(base_url=origin, follow_redirects=follow) as client:
        with pytest.raises(cf.RedirectError) as info:
            await client.aisearch.instances.search("docs", messages=MESSAGES)
    assert elsewhere.seen == []
    assert info.value.status_code == status
    assert info.value.location is not None
    assert info.value.location.startswith(other)
    assert info.value.location in str(info.value)
    assert isinstance(info.value, cf.APIStatusError)


async def test_same_origin_redirects_are_followed_only_when_asked(serve: ServeFn) -> None:
    """Rule 1: not followed by default; with follow_redirects=True, same-origin ones are."""
    recorder = Recorder()

    async def moved(request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/new"):
            return await recorder.record(request)
        await request.read()
        raise web.HTTPTemporaryRedirect("/new" + request.path_qs)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", moved)
    origin = await serve(app)
    async with key_client(base_url=origin) as client:
        with pytest.raises(cf.RedirectError, match="/new/client/v4"):
            await client.aisearch.instances.search("docs", messages=MESSAGES)
    assert recorder.seen == []
    async with key_client(base_url=origin, follow_redirects=True) as client:
        await client.aisearch.instances.search("docs", messages=MESSAGES)
    [(method, path, headers, body)] = recorder.seen
    assert method == "POST"
    assert path.startswith("/new/client/v4/")
    assert headers["X-Auth-Key"] == KEY  # same origin: the credentials may go along
    assert orjson.loads(body)["messages"] == MESSAGES  # 307 keeps the method and body


async def test_a_redirect_loop_is_cut_off(serve: ServeFn) -> None:
    """Rule 1: followed redirects are capped (a loop ends in RedirectError)."""
    hops = 0

    async def loop(request: web.Request) -> web.Response:
        nonlocal hops
        hops += 1
        return web.Response(status=302, headers={"Location": request.path})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", loop)
    origin = await serve(app)
    async with key_client(base_url=origin, follow_redirects=True) as client:
        with pytest.raises(cf.RedirectError):
            await get_job(client)
    assert hops == 6  # the request, then at most 5 redirects


def test_a_downgrade_or_another_port_is_not_the_same_origin() -> None:
    """Rule 1: same scheme, host and port, or the redirect is not followed."""
    here = URL("https://api.example.test/client/v4/x")
    assert _same_origin_target(here, "/client/v4/y") == URL("https://api.example.test/client/v4/y")
    assert _same_origin_target(here, "http://api.example.test/client/v4/y") is None
    assert _same_origin_target(here, "https://api.example.test:8443/client/v4/y") is None
    assert _same_origin_target(here, "https://evil.example.test/client/v4/y") is None
    assert _same_origin_target(here, "//evil.example.test/y") is None
    assert _same_origin_target(here, None) is None


# -- rule 2: no exception chain carries a credential -----------------------------------------


def chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)


def assert_no_secret(exc: BaseException) -> int:
    """Search every exception of the chain; return how many were searched."""
    count = 0
    for current in chain(exc):
        count += 1
        texts = [repr(current), str(current), repr(current.args)]
        texts.append(repr(getattr(current, "__dict__", {})))
        info = getattr(current, "request_info", None)
        if info is not None:
            texts.append(repr(dict(info.headers)))
        for response in getattr(current, "history", ()):
            texts.append(repr(dict(response.request_info.headers)))
        for text in texts:
            for secret in SECRETS:
                assert secret not in text, f"{type(current).__name__} carries a secret"
    return count


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(b"HTTP/1.1 2OO NOT A STATUS\r\nX: y\r\n\r\n")
    await writer.drain()
    await asyncio.sleep(1)


async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    writer.transport.abort()


async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    await asyncio.sleep(30)


async def status_500(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        await read_request(reader)
        writer.write(answer(b'{"success": false, "errors": []}', "500 Internal Server Error"))
        await writer.drain()


async def redirect_loop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        line, _, _ = await read_request(reader)
        writer.write(answer(b"", "307 Temporary Redirect", f"Location: {line.split()[1]}\r\n"))
        await writer.drain()


@pytest.mark.parametrize("scheme", ["token", "key"])
@pytest.mark.parametrize(
    "failure",
    ["redirect loop", "refused", "timeout", "reset", "status 500", "garbage", "cross-origin"],
)
async def test_no_exception_in_the_chain_carries_a_credential(
    raw: RawServers, serve: ServeFn, failure: str, scheme: str
) -> None:
    """Rule 2: whatever fails, no exception (cause, context, request_info) holds a secret."""
    handlers: dict[str, Handler] = {
        "redirect loop": redirect_loop,
        "timeout": hang,
        "reset": reset,
        "status 500": status_500,
        "garbage": garbage,
    }
    if failure == "refused":
        origin = base(closed_port())
    elif failure == "cross-origin":
        other = await serve(Recorder().app())
        origin = await serve(redirecting(308, lambda r: other))
    else:
        origin = base(await raw.start(handlers[failure]))
    credentials: dict[str, Any] = (
        {"api_token": TOKEN} if scheme == "token" else {"api_key": KEY, "api_email": EMAIL}
    )
    client = AsyncCloudflare(
        **credentials,
        account_id=ACCOUNT,
        base_url=origin,
        timeout=0.5,
        max_retries=1,
        follow_redirects=True,
        retry_policy=FAST_RETRIES,
    )
    async with client:
        with pytest.raises(cf.APIError) as info:
            await get_job(client)
    assert assert_no_secret(info.value) >= (2 if failure in ("garbage", "reset") else 1)


# -- rule 3: credentials that are not header values ------------------------------------------

BAD_VALUES = {
    "newline": "s3cret-value\n",
    "header injection": "s3cret-value\r\nX-Evil: 1",
    "non-ASCII": "s3cret-välue",
    "NUL": "s3cret-value\x00",
    "DEL": "s3cret-value\x7f",
    "tab": "s3cret\tvalue",
}


@pytest.mark.parametrize("value", BAD_VALUES.values(), ids=BAD_VALUES.keys())
@pytest.mark.parametrize(
    ("kwargs", "env", "named"),
    [
        ({"api_token": "{v}"}, {}, "`api_token`"),
        ({"api_key": "{v}", "api_email": EMAIL}, {}, "`api_key`"),
        ({"api_key": KEY, "api_email": "{v}"}, {}, "`api_email`"),
        ({}, {"CLOUDFLARE_API_TOKEN": "{v}"}, "CLOUDFLARE_API_TOKEN"),
        ({}, {"CLOUDFLARE_API_KEY": "{v}", "CLOUDFLARE_EMAIL": EMAIL}, "CLOUDFLARE_API_KEY"),
        ({"api_token": TOKEN, "default_headers": {"X-Extra": "{v}"}}, {}, "X-Extra"),
        ({"default_headers": {"Authorization": "{v}"}}, {}, "Authorization"),
    ],
)
def test_a_credential_that_is_no_header_value_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
    kwargs: dict[str, Any],
    env: dict[str, str],
    named: str,
    value: str,
) -> None:
    """Rule 3: refused at construction, naming the parameter, never echoing the value."""
    for variable in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL"):
        monkeypatch.delenv(variable, raising=False)
    for variable, template in env.items():
        # The environment cannot hold NUL; another control character stands in.
        monkeypatch.setenv(variable, template.replace("{v}", value.replace("\x00", "\x01")))

    def fill(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: fill(v) for k, v in obj.items()}
        return obj.replace("{v}", value) if isinstance(obj, str) else obj

    for cls in (AsyncCloudflare, Cloudflare):
        with pytest.raises(cf.ConfigurationError) as info:
            cls(account_id=ACCOUNT, **fill(kwargs))
        message = str(info.value)
        assert named in message
        assert "s3cret" not in message


def test_a_bad_default_header_name_is_refused() -> None:
    """Rule 3: header names are checked too (and, not being secret, shown)."""
    with pytest.raises(cf.ConfigurationError, match="X Bad"):
        AsyncCloudflare(api_token=TOKEN, default_headers={"X Bad": "1"})


# -- rule 4: timeout is the budget of the whole call -----------------------------------------


def script(*answers: bytes) -> tuple[Handler, list[str]]:
    """Answer each request with the next of ``answers`` (the last repeats)."""
    seen: list[str] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            line, _, _ = await read_request(reader)
            seen.append(line)
            writer.write(answers[min(len(seen), len(answers)) - 1])
            await writer.drain()

    return handler, seen


async def test_a_retry_after_beyond_the_budget_raises_at_once(raw: RawServers) -> None:
    """Rule 4: Retry-After longer than what is left raises RateLimitError with retry_after."""
    limited = answer(
        b'{"success": false, "errors": []}', "429 Too Many Requests", "Retry-After: 5\r\n"
    )
    handler, seen = script(limited, limited, answer())
    port = await raw.start(handler)
    started = time.monotonic()
    async with AsyncCloudflare(
        api_token=TOKEN, account_id=ACCOUNT, base_url=base(port), timeout=1
    ) as client:
        with pytest.raises(cf.RateLimitError) as info:
            await get_job(client)
    assert time.monotonic() - started < 3.0  # it would sleep 5 s
    assert info.value.retry_after == 5.0
    assert len(seen) == 1


async def test_retry_after_as_an_http_date_is_parsed_onto_the_error(raw: RawServers) -> None:
    """Rule 4: RateLimitError.retry_after is in seconds for HTTP-date values too."""
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=120), usegmt=True)
    limited = answer(b"{}", "429 Too Many Requests", f"Retry-After: {when}\r\n")
    handler, seen = script(limited)
    port = await raw.start(handler)
    async with make_async(base_url=base(port), timeout=10) as client:
        with pytest.raises(cf.RateLimitError) as info:
            await get_job(client)
    assert info.value.retry_after is not None
    assert 110 <= info.value.retry_after <= 121
    assert len(seen) == 1


async def test_backoff_and_attempts_together_stay_within_the_timeout(raw: RawServers) -> None:
    """Rule 4: slow 503s, real backoff sleeps: the call still ends near its timeout."""

    async def slow_503(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            await asyncio.sleep(0.3)
            writer.write(answer(b"{}", "503 Service Unavailable"))
            await writer.drain()

    port = await raw.start(slow_503)
    started = time.monotonic()
    async with AsyncCloudflare(
        api_token=TOKEN, account_id=ACCOUNT, base_url=base(port), timeout=1.5, max_retries=10
    ) as client:
        with pytest.raises((cf.InternalServerError, cf.APITimeoutError)):
            await get_job(client)
    assert time.monotonic() - started < 1.5 + 1.5


async def test_a_long_retry_wait_is_logged_at_info(
    raw: RawServers, caplog: pytest.LogCaptureFixture
) -> None:
    """Rule 4: a sleep of a second or more before a retry is logged at INFO, with its length."""
    caplog.set_level(logging.INFO, logger="cfaisearch")
    limited = answer(b"{}", "429 Too Many Requests", "Retry-After: 1.5\r\n")
    handler, seen = script(limited, answer())
    port = await raw.start(handler)
    async with make_async(base_url=base(port), timeout=10) as client:
        await get_job(client)
    [record] = [r for r in caplog.records if r.levelno == logging.INFO]
    assert "1.50s" in record.getMessage()
    assert len(seen) == 2


async def trickle_headers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Sends a status line, then one header byte at a time, forever."""
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    while True:
        await asyncio.sleep(0.2)
        writer.write(b"a")
        await writer.drain()


async def trickle_error_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers 500 promptly, then sends its body one byte at a time, forever."""
    await read_request(reader)
    writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100000\r\n\r\n")
    while True:
        await asyncio.sleep(0.2)
        writer.write(b"a")
        await writer.drain()


@pytest.mark.parametrize("server", ["headers", "error body"])
@pytest.mark.parametrize("call", ["get", "download", "chat stream"])
async def test_trickling_headers_do_not_outlast_the_timeout(
    raw: RawServers, call: str, server: str
) -> None:
    """Rule 4 and 7: the time to response headers (or to an error's body) is bounded
    by the call's timeout, streamed calls included."""
    port = await raw.start(trickle_headers if server == "headers" else trickle_error_body)
    started = time.monotonic()
    async with make_async(base_url=base(port), timeout=1, max_retries=2) as client:
        items = client.aisearch.namespaces.instances.items
        calls: dict[str, Callable[[], Awaitable[object]]] = {
            "get": lambda: get_job(client),
            "download": lambda: items.download("it-1", name="default", id="docs"),
            "chat stream": lambda: client.aisearch.instances.chat_completions(
                "docs", messages=MESSAGES, stream=True
            ),
        }
        with pytest.raises(cf.APITimeoutError):
            await asyncio.wait_for(calls[call](), 15)
    assert time.monotonic() - started < 1 + 3


# -- rule 5: waiting for the pool is not a connect timeout -----------------------------------


@pytest.mark.slow
async def test_eight_thousand_concurrent_calls_all_succeed(raw: RawServers) -> None:
    """Rule 5: 8,000 calls against a 100 ms server all succeed.

    Through 200 pooled connections the last calls wait about 4 s for one: twice
    the connect timeout, which must not count that wait.
    """

    async def slow_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            await asyncio.sleep(0.1)
            writer.write(answer())

    port = await raw.start(slow_ok)
    async with make_async(
        base_url=base(port), connection_pool_size=200, connect_timeout=2
    ) as client:
        results = await asyncio.gather(
            *(get_job(client) for _ in range(8000)), return_exceptions=True
        )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == []


async def test_pool_size_and_connect_timeout_are_options(raw: RawServers) -> None:
    """Rule 5: connection_pool_size bounds the connections opened."""
    connections = 0

    async def counting(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while True:
            await read_request(reader)
            await asyncio.sleep(0.02)
            writer.write(answer())

    port = await raw.start(counting)
    async with make_async(
        base_url=base(port), connection_pool_size=3, connect_timeout=0.5
    ) as client:
        await asyncio.gather(*(get_job(client) for _ in range(30)))
    assert connections == 3
    refused: list[dict[str, Any]] = [
        {"connection_pool_size": 0},
        {"connect_timeout": 0},
        {"max_response_size": -1},
    ]
    for bad in refused:
        with pytest.raises(ValueError, match=next(iter(bad))):
            AsyncCloudflare(api_token=TOKEN, **bad)


# -- rule 7: an idle stream times out between reads ------------------------------------------


async def stall_after_headers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Length: 1000\r\n\r\nfirst bytes"
    )
    await writer.drain()
    await asyncio.sleep(30)


async def test_an_idle_download_raises_after_read_timeout(raw: RawServers) -> None:
    """Rule 7: read_chunk raises APITimeoutError once no data came for read_timeout seconds."""
    port = await raw.start(stall_after_headers)
    async with make_async(base_url=base(port), timeout=30, read_timeout=0.3) as client:
        items = client.aisearch.namespaces.instances.items
        async with await items.download("it-1", name="default", id="docs") as download:
            started = time.monotonic()
            with pytest.raises(cf.APITimeoutError, match="read_timeout") as info:
                async for _ in download.iter_bytes():
                    pass
            assert time.monotonic() - started < 3
    assert info.value.reached_server


# -- rule 8: a connection that never opened did not reach the server -------------------------


@pytest.fixture
def unanswered_port() -> Iterator[int]:
    """A port whose accept queue is full, so that connecting to it hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.1)
    yield port
    for filler in fillers:
        filler.close()
    listener.close()


async def test_a_connect_timeout_did_not_reach_the_server_so_a_create_is_retried(
    unanswered_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Rule 8: connect timeouts say reached_server=False; even a POST create is retried."""
    caplog.set_level(logging.DEBUG, logger="cfaisearch")
    async with make_async(
        base_url=base(unanswered_port), timeout=10, connect_timeout=0.2, max_retries=2
    ) as client:
        with pytest.raises(cf.APITimeoutError) as info:
            await client.aisearch.instances.jobs.create("docs")
    assert info.value.reached_server is False
    assert len([r for r in caplog.records if r.getMessage().startswith("Retrying")]) == 2


async def test_waiting_for_a_pooled_connection_did_not_reach_the_server(raw: RawServers) -> None:
    """Rule 8: a call that timed out waiting for the pool never left this machine."""
    handler, _ = script(answer())

    async def slow_first(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(2)
        await handler(reader, writer)

    port = await raw.start(slow_first)
    async with make_async(base_url=base(port), connection_pool_size=1, max_retries=0) as client:
        busy = asyncio.ensure_future(get_job(client))
        await asyncio.sleep(0.1)
        with pytest.raises(cf.APITimeoutError) as info:
            await client.aisearch.instances.jobs.create("docs", timeout=0.5)
        assert info.value.reached_server is False
        await busy


# -- rule 9: a dropped stream is released when collected ------------------------------------


async def test_dropped_downloads_are_released_with_a_resource_warning(serve: ServeFn) -> None:
    """Rule 9: 120 unclosed downloads (pool of 100) are released on GC, with a warning."""

    async def file(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 100_000, content_type="application/octet-stream")

    async def job(request: web.Request) -> web.Response:
        return web.json_response(envelope({"id": "j1", "source": "user"}))

    app = web.Application()
    app.router.add_get("/{tail:.*/download}", file)
    app.router.add_get(JOB_PATH, job)
    origin = await serve(app)
    async with make_async(base_url=origin, timeout=3, max_retries=0) as client:
        items = client.aisearch.namespaces.instances.items
        with pytest.warns(  # noqa: PT031 - the warnings come from many statements
            ResourceWarning, match=r"unclosed response to GET \S+/items/it-1/download"
        ):
            for _ in range(120):
                await items.download("it-1", name="default", id="docs")
            gc.collect()
        await get_job(client)


async def test_dropped_sync_downloads_are_released_too(serve: ServeFn) -> None:
    """Rule 9: dropped downloads of the sync facade are released on its own loop."""

    async def file(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 1000, content_type="application/octet-stream")

    async def job(request: web.Request) -> web.Response:
        return web.json_response(envelope(JOB))

    app = web.Application()
    app.router.add_get("/{tail:.*/download}", file)
    app.router.add_get(JOB_PATH, job)
    origin = await serve(app)

    def run() -> None:
        with make_sync(base_url=origin, timeout=3, max_retries=0, connection_pool_size=5) as client:
            items = client.aisearch.namespaces.instances.items
            with pytest.warns(ResourceWarning, match="unclosed response"):  # noqa: PT031
                for _ in range(10):
                    items.download("it-1", name="default", id="docs")
                gc.collect()
            assert client.aisearch.instances.jobs.get("j1", id="docs").id == "j1"

    await asyncio.to_thread(run)


# -- rule 10: one retry layer -----------------------------------------------------------------


@pytest.mark.parametrize("session", ["own", "from a factory"])
@pytest.mark.parametrize("max_retries", [0, 2])
async def test_max_retries_bounds_the_requests_sent(
    raw: RawServers, max_retries: int, session: str
) -> None:
    """Rule 10: max_retries=N sends at most N+1 requests, aiohttp adding none."""
    seen: list[str] = []

    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line, _, _ = await read_request(reader)
        seen.append(line)

    port = await raw.start(drop)
    factory = aiohttp.ClientSession if session == "from a factory" else None
    async with make_async(
        base_url=base(port), max_retries=max_retries, http_session_factory=factory
    ) as client:
        with pytest.raises(cf.APIConnectionError):
            await get_job(client)
    assert len(seen) == max_retries + 1


async def test_a_stale_keep_alive_connection_costs_one_retry(raw: RawServers) -> None:
    """Rule 10: a pooled connection the server dropped is retried by us, counted."""
    seen: list[str] = []

    async def one_per_connection(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        line, _, _ = await read_request(reader)
        seen.append(line)
        writer.write(answer())  # keep-alive is implied, but the next request is dropped
        await writer.drain()
        line, _, _ = await read_request(reader)
        seen.append(line)

    port = await raw.start(one_per_connection)
    async with make_async(base_url=base(port), max_retries=1) as client:
        await get_job(client)
        await get_job(client)  # the pooled connection is dropped; one retry succeeds
        assert len(seen) == 3
    async with make_async(base_url=base(port), max_retries=0) as client:
        await get_job(client)
        with pytest.raises(cf.APIConnectionError):
            await get_job(client)
    assert len(seen) == 5


# -- rule 14: bounded memory against a broken server -----------------------------------------


async def test_a_response_announcing_too_much_is_refused_unread(raw: RawServers) -> None:
    """Rule 14: Content-Length above max_response_size raises before reading the body."""

    async def huge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n{")
        await writer.drain()
        await asyncio.sleep(30)

    port = await raw.start(huge)
    async with make_async(base_url=base(port), max_response_size=1_000_000, timeout=5) as client:
        started = time.monotonic()
        with pytest.raises(cf.ResponseTooLargeError) as info:
            await get_job(client)
    assert time.monotonic() - started < 3  # not the 5 s timeout
    assert info.value.limit == 1_000_000
    assert isinstance(info.value, cf.APIError)


async def test_an_endless_chunked_response_is_cut_at_the_limit(raw: RawServers) -> None:
    """Rule 14: without Content-Length the bytes are counted as they arrive."""
    sent = 0

    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal sent
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        while True:
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
            await writer.drain()

    port = await raw.start(endless)
    async with make_async(base_url=base(port), max_response_size=2_000_000, timeout=20) as client:
        with pytest.raises(cf.ResponseTooLargeError):
            await get_job(client)
    assert sent < 20_000_000


async def test_the_default_limit_is_64_mib() -> None:
    """Rule 14: the default is generous but finite."""
    async with AsyncCloudflare(api_token=TOKEN) as client:
        assert client._transport.max_response_size == 64 * 1024 * 1024


async def test_a_huge_error_message_is_truncated_in_str_but_kept_in_body(raw: RawServers) -> None:
    """Rule 14: str(exc) stays around 2 KB; the whole body stays on exc.body."""
    message = "m" * 1_000_000
    body = orjson.dumps({"success": False, "errors": [{"code": 1, "message": message}]})
    handler, _ = script(answer(body, "400 Bad Request"))
    port = await raw.start(handler)
    async with make_async(base_url=base(port)) as client:
        with pytest.raises(cf.BadRequestError) as info:
            await get_job(client)
    assert len(str(info.value)) <= 2100
    assert "HTTP 400" in str(info.value)  # the tail naming the request is kept
    assert info.value.body["errors"][0]["message"] == message  # type: ignore[index]


# -- rule 18: proxies, TLS, a caller's session -----------------------------------------------


def proxy_handler(seen: list[str]) -> Handler:
    """Records each request line (absolute-form when it came as a proxy request)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            line, _, _ = await read_request(reader)
            seen.append(line)
            writer.write(answer())
            await writer.drain()

    return handler


async def test_http_proxy_and_no_proxy_from_the_environment_are_honoured(
    raw: RawServers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule 18: HTTP_PROXY is used (absolute-form request line); NO_PROXY bypasses it."""
    through_proxy: list[str] = []
    direct: list[str] = []
    proxy = await raw.start(proxy_handler(through_proxy))
    origin = await raw.start(proxy_handler(direct))
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.delenv("no_proxy", raising=False)
    async with make_async(base_url="http://api.example.invalid/client/v4") as client:
        await get_job(client)
    assert through_proxy == [f"GET http://api.example.invalid{JOB_PATH} HTTP/1.1"]
    async with make_async(base_url=base(origin)) as client:
        await get_job(client)
    assert direct == [f"GET {JOB_PATH} HTTP/1.1"]
    assert len(through_proxy) == 1


@pytest.fixture
async def tls_origin() -> AsyncIterator[str]:
    """A loopback HTTPS server with a self-signed certificate (tests/fixtures/tls)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS / "loopback-cert.pem", TLS / "loopback-key.pem")
    server = TestServer(Recorder().app(), host="127.0.0.1", scheme="https")
    await server.start_server(ssl=context)
    yield str(server.make_url("/client/v4"))
    await server.close()


async def test_tls_is_verified_unless_told_otherwise(tls_origin: str) -> None:
    """Rule 18: verify=True (default) refuses a self-signed certificate; False or a CA accept."""
    async with make_async(base_url=tls_origin, max_retries=0) as client:
        with pytest.raises(cf.APIConnectionError) as info:
            await get_job(client)
        assert not info.value.reached_server
    async with make_async(base_url=tls_origin, verify=False) as client:
        await get_job(client)
    trusted = ssl.create_default_context(cafile=str(TLS / "loopback-cert.pem"))
    async with make_async(base_url=tls_origin, verify=trusted) as client:
        await get_job(client)


async def test_the_sync_client_takes_verify_and_a_session_factory(tls_origin: str) -> None:
    """Rule 18: Cloudflare(verify=..., http_session_factory=...) works on its private loop."""
    made: list[aiohttp.ClientSession] = []

    def factory() -> aiohttp.ClientSession:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=False), headers={"X-From-Factory": "yes"}
        )
        made.append(session)
        return session

    def run() -> None:
        with Cloudflare(
            api_token=TOKEN, account_id=ACCOUNT, base_url=tls_origin, verify=False
        ) as client:
            assert client.aisearch.instances.jobs.get("j1", id="docs").id == "j1"
        with Cloudflare(
            api_token=TOKEN, account_id=ACCOUNT, base_url=tls_origin, http_session_factory=factory
        ) as client:
            client.aisearch.instances.jobs.get("j1", id="docs")
            client.aisearch.instances.jobs.get("j1", id="docs")
        assert len(made) == 1
        assert made[0].closed  # made by the client's factory call, so closed by it

    await asyncio.to_thread(run)


def test_the_sync_client_refuses_a_ready_made_session() -> None:
    """Rule 18: a session is bound to another loop than the sync client's; say so."""
    with pytest.raises(TypeError, match="http_session"):
        Cloudflare(api_token=TOKEN, http_session=object())  # type: ignore[call-arg]
    with pytest.raises(cf.ConfigurationError, match="http_session_factory"):
        Cloudflare(api_token=TOKEN, http_session_factory="not callable")  # type: ignore[arg-type]
