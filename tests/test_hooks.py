"""``event_hooks``: every attempt reported, credentials never, a raising hook stops the call."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

import cfaisearch as cf
from cfaisearch import RequestEvent, ResponseEvent
from cfaisearch._hooks import operation_name
from cfaisearch._operations import OPERATIONS, PREFIX, Operation
from tests.support.clients import ACCOUNT, ServeFn, envelope, make_async, make_sync

INSTANCE = f"/client/v4/accounts/{ACCOUNT}/ai-search/namespaces/default/instances/docs"
JOB = {"id": "j1", "source": "user"}
SECRETS = {
    "api_token": "token-0123456789-SECRET",
    "api_key": "key-0123456789-SECRET",
    "api_email": "someone-SECRET@example.com",
    "user_service_key": "v1.0-service-SECRET",
}
CREDENTIALS = [
    {"api_token": SECRETS["api_token"]},
    {"api_key": SECRETS["api_key"], "api_email": SECRETS["api_email"]},
    {"user_service_key": SECRETS["user_service_key"]},
]

Event = RequestEvent | ResponseEvent


class Recorder:
    """Request and response hooks that keep every event, in order."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def hooks(self) -> dict[str, list[Callable[[Any], object]]]:
        return {"request": [self.events.append], "response": [self.events.append]}

    @property
    def responses(self) -> list[ResponseEvent]:
        return [e for e in self.events if isinstance(e, ResponseEvent)]

    @property
    def requests(self) -> list[RequestEvent]:
        return [e for e in self.events if isinstance(e, RequestEvent)]


class Flaky:
    """Answers 503 first, then 200 with the job; counts the calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        await request.read()
        if self.calls == 1:
            return web.json_response(
                {"success": False, "errors": [{"code": 1, "message": "busy"}]},
                status=503,
                headers={"cf-ray": "ray-1"},
            )
        return web.json_response(envelope(JOB), headers={"cf-ray": "ray-2"})


async def flaky_server(serve: ServeFn) -> tuple[str, Flaky]:
    flaky = Flaky()
    app = web.Application()
    app.router.add_get(f"{INSTANCE}/jobs/j1", flaky.handle)
    app.router.add_get("/client/v4/custom", flaky.handle)
    return await serve(app), flaky


@pytest.mark.parametrize("credentials", CREDENTIALS, ids=["token", "key+email", "service-key"])
async def test_every_attempt_is_reported_without_credentials(
    serve: ServeFn, credentials: dict[str, str]
) -> None:
    base, flaky = await flaky_server(serve)
    recorder = Recorder()
    client = make_async(
        base_url=base,
        event_hooks=recorder.hooks(),
        default_query={"sig": "query-SECRET", "page_hint": "1"},
        **{"api_token": None, **credentials},
    )
    async with client:
        job = await client.aisearch.namespaces.instances.jobs.get("j1", name="default", id="docs")
    assert job.id == "j1"
    assert flaky.calls == 2
    assert [type(e).__name__ for e in recorder.events] == [
        "RequestEvent",
        "ResponseEvent",
        "RequestEvent",
        "ResponseEvent",
    ]
    assert [e.attempt for e in recorder.events] == [1, 1, 2, 2]
    assert [e.status_code for e in recorder.responses] == [503, 200]
    assert [e.cf_ray for e in recorder.responses] == ["ray-1", "ray-2"]
    assert all(e.elapsed > 0 and e.error is None for e in recorder.responses)
    for event in recorder.events:
        assert event.method == "GET"
        assert event.operation == "namespaces.instances.jobs.get"
        assert event.url.startswith(f"{base}/accounts/{ACCOUNT}/")
        assert "sig=%3Credacted%3E" in event.url
        assert "page_hint=1" in event.url
        assert "SECRET" not in repr(event)
    sent = recorder.requests[0].headers
    assert {sent[name] for name in sent if name.startswith(("Authorization", "X-Auth"))} == {
        "<redacted>"
    }


async def test_async_hooks_are_awaited(serve: ServeFn) -> None:
    base, _ = await flaky_server(serve)
    seen: list[tuple[str, int]] = []

    async def on_request(event: RequestEvent) -> None:
        await asyncio.sleep(0)
        seen.append(("request", event.attempt))

    async def on_response(event: ResponseEvent) -> None:
        await asyncio.sleep(0)
        seen.append(("response", event.attempt))

    hooks = {"request": [on_request], "response": (on_response,)}
    async with make_async(base_url=base, event_hooks=hooks) as client:
        await client.aisearch.namespaces.instances.jobs.get("j1", name="default", id="docs")
    assert seen == [("request", 1), ("response", 1), ("request", 2), ("response", 2)]


async def test_generic_calls_have_no_operation_name(serve: ServeFn) -> None:
    base, _ = await flaky_server(serve)
    recorder = Recorder()
    async with make_async(base_url=base, event_hooks=recorder.hooks()) as client:
        result = await client.get("/custom", cast_to=object)
    assert result == envelope(JOB)
    assert [(e.operation, e.attempt) for e in recorder.responses] == [(None, 1), (None, 2)]


async def test_an_attempt_without_an_answer_reports_its_error() -> None:
    recorder = Recorder()
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        base = f"http://127.0.0.1:{unused.getsockname()[1]}/client/v4"
        client = make_async(base_url=base, event_hooks=recorder.hooks(), max_retries=1)
        async with client:
            with pytest.raises(cf.APIConnectionError):
                await client.aisearch.namespaces.instances.jobs.get("j1", name="default", id="docs")
    assert [(e.attempt, e.status_code, e.error) for e in recorder.responses] == [
        (1, None, "APIConnectionError"),
        (2, None, "APIConnectionError"),
    ]
    assert all(e.headers == {} and e.cf_ray is None for e in recorder.responses)


async def test_a_refused_redirect_is_reported_as_an_error(serve: ServeFn) -> None:
    async def moved(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "http://example.invalid/"})

    app = web.Application()
    app.router.add_get(f"{INSTANCE}/jobs/j1", moved)
    recorder = Recorder()
    async with make_async(base_url=await serve(app), event_hooks=recorder.hooks()) as client:
        with pytest.raises(cf.RedirectError):
            await client.aisearch.namespaces.instances.jobs.get("j1", name="default", id="docs")
    assert [(e.attempt, e.status_code, e.error) for e in recorder.responses] == [
        (1, None, "RedirectError")
    ]


async def test_a_raising_request_hook_stops_the_call_before_sending(serve: ServeFn) -> None:
    base, flaky = await flaky_server(serve)

    def refuse(event: RequestEvent) -> None:
        raise RuntimeError("not today")

    async with make_async(base_url=base, event_hooks={"request": [refuse]}) as client:
        with pytest.raises(RuntimeError, match="not today"):
            await client.aisearch.namespaces.instances.jobs.get("j1", name="default", id="docs")
    assert flaky.calls == 0


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("from the hook"),
        # Even one the retry loop would retry if the transport raised it.
        cf.APIConnectionError("from the hook", method="GET", url="/", reached_server=False),
    ],
)
async def test_a_raising_response_hook_propagates_and_is_not_retried(
    serve: ServeFn, error: Exception
) -> None:
    base, flaky = await flaky_server(serve)

    def refuse(event: ResponseEvent) -> None:
        raise error

    async with make_async(base_url=base, event_hooks={"response": [refuse]}) as client:
        with pytest.raises(type(error), match="from the hook"):
            await client.aisearch.namespaces.instances.jobs.get("j1", name="default", id="docs")
    # The first answer was a retryable 503; the hook's exception ended the call.
    assert flaky.calls == 1


async def slow_stream(request: web.Request) -> web.StreamResponse:
    await request.read()
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "cf-ray": "r-s"})
    await response.prepare(request)
    await response.write(b'data: {"choices": [{"index": 0, "delta": {"content": "Hi"}}]}\n\n')
    await asyncio.sleep(0.05)
    await response.write(b"data: [DONE]\n\n")
    return response


async def download(request: web.Request) -> web.Response:
    return web.Response(body=b"bytes", headers={"cf-ray": "r-d"})


async def streaming_server(serve: ServeFn) -> str:
    app = web.Application()
    app.router.add_post(f"{INSTANCE}/chat/completions", slow_stream)
    app.router.add_get(f"{INSTANCE}/items/it-1/download", download)
    return await serve(app)


async def test_streams_and_downloads_report_when_their_headers_arrive(serve: ServeFn) -> None:
    base = await streaming_server(serve)
    recorder = Recorder()
    async with make_async(base_url=base, event_hooks=recorder.hooks()) as client:
        instances = client.aisearch.namespaces.instances
        stream = await instances.chat_completions(
            "docs", name="default", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        async with stream:
            # Reported before a byte of the body was read.
            assert [(e.operation, e.status_code, e.cf_ray) for e in recorder.responses] == [
                ("namespaces.instances.chat_completions", 200, "r-s")
            ]
            assert [text async for text in stream.text_deltas()] == ["Hi"]
        async with await instances.items.download("it-1", name="default", id="docs") as file:
            assert recorder.responses[-1].operation == "namespaces.instances.items.download"
            assert recorder.responses[-1].status_code == 200
            assert await file.read() == b"bytes"
    assert [e.attempt for e in recorder.events] == [1, 1, 1, 1]


async def test_a_raising_hook_on_a_stream_closes_it(serve: ServeFn) -> None:
    base = await streaming_server(serve)
    opened: list[Any] = []

    async def refuse(event: ResponseEvent) -> None:
        raise RuntimeError("no downloads")

    client = make_async(base_url=base, event_hooks={"response": [refuse]})
    async with client:
        transport = client._transport
        original = transport.send

        async def send(*args: Any, **kwargs: Any) -> Any:
            response = await original(*args, **kwargs)
            opened.append(response)
            return response

        transport.send = send  # type: ignore[method-assign]
        with pytest.raises(RuntimeError, match="no downloads"):
            await client.aisearch.namespaces.instances.items.download(
                "it-1", name="default", id="docs"
            )
    assert len(opened) == 1
    assert opened[0].closed


class ThreadedApp:
    """An aiohttp app served on 127.0.0.1 from a thread of its own, for the sync client."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner = web.AppRunner(app)

    def _call(self, coro: Awaitable[Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(30)  # type: ignore[arg-type]

    def __enter__(self) -> str:
        self._thread.start()
        self._call(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._call(site.start())
        port = self._runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/client/v4"

    def __exit__(self, *exc: object) -> None:
        self._call(self._runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
        self._loop.close()


def test_the_sync_client_runs_hooks_on_its_loop() -> None:
    app = web.Application()
    flaky = Flaky()
    app.router.add_get(f"{INSTANCE}/jobs/j1", flaky.handle)
    recorder = Recorder()
    threads: set[int] = set()

    async def on_response(event: ResponseEvent) -> None:
        threads.add(threading.get_ident())

    hooks = {**recorder.hooks(), "response": [recorder.events.append, on_response]}
    with ThreadedApp(app) as base, make_sync(base_url=base, event_hooks=hooks) as client:
        job = client.aisearch.namespaces.instances.jobs.get("j1", name="default", id="docs")
        copied = client.copy(timeout=30)
        copied.aisearch.namespaces.instances.jobs.get("j1", name="default", id="docs")
    assert job.id == "j1"
    assert [e.status_code for e in recorder.responses] == [503, 200, 200]
    assert len(threads) == 1


def test_copies_keep_the_hooks_unless_told_otherwise() -> None:
    recorder = Recorder()
    client = make_async(event_hooks=recorder.hooks())
    assert client.copy(timeout=5)._observer is not None
    assert client.with_options(event_hooks=None)._observer is None
    replaced = client.copy(event_hooks={"response": [print]})._observer
    assert replaced is not None
    assert replaced.request_hooks == ()
    assert replaced.response_hooks == (print,)
    assert make_async()._observer is None
    assert make_async(event_hooks={"request": []})._observer is None


@pytest.mark.parametrize(
    ("hooks", "error", "message"),
    [
        ([print], TypeError, r"`event_hooks` must be a mapping"),
        ({"requests": [print]}, ValueError, r"`event_hooks` has unknown key\(s\) 'requests'"),
        ({"request": print}, TypeError, r"`event_hooks\['request'\]` must be a list"),
        ({"response": "print"}, TypeError, r"`event_hooks\['response'\]` must be a list"),
        ({"response": [print, 1]}, TypeError, r"`event_hooks\['response'\]\[1\]` must be callable"),
    ],
)
def test_bad_hooks_are_refused_naming_the_parameter(
    hooks: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        make_async(event_hooks=hooks)


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.name)
def test_every_operation_is_named_from_its_method_and_path(operation: Operation) -> None:
    path = re.sub(r"\{[a-z_]+\}", "some-id", PREFIX + operation.path)
    assert operation_name(operation.verb, path) == operation.name
    assert operation_name(operation.verb, path + "/more/and/more/to/come") is None


async def test_a_query_without_secrets_is_reported_as_sent(serve: ServeFn) -> None:
    async def jobs(request: web.Request) -> web.Response:
        info = {"page": 2, "per_page": 20, "count": 1, "total_count": 21}
        return web.json_response(envelope([JOB], result_info=info))

    app = web.Application()
    app.router.add_get(f"{INSTANCE}/jobs", jobs)
    recorder = Recorder()
    async with make_async(base_url=await serve(app), event_hooks=recorder.hooks()) as client:
        jobs_list = client.aisearch.namespaces.instances.jobs.list
        assert [job.id async for job in jobs_list("docs", name="default", page=2)] == ["j1"]
    (event, *_) = recorder.requests
    assert event.url.endswith("/jobs?page=2")
    assert event.operation == "namespaces.instances.jobs.list"
