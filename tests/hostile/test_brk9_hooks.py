"""brk9: what hooks, spans and sync_directory's uploads leak when the server misbehaves.

EXPECTED FAILURES until fixed: each test here pins a defect found by the
brk9 break-it pass (see its report); none was fixed on this branch.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import warnings
from pathlib import Path

from aiohttp import web
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from cfaisearch import InternalServerError, RequestEvent, ResponseEvent
from tests.support.clients import ServeFn, make_async

SECRET = "s3cr3t-signature-value"


async def test_a_redirect_location_secret_is_redacted_in_spans_and_events(
    serve: ServeFn,
) -> None:
    """brk9: hook URLs and `url.full` redact query values named like a secret, but a
    refused redirect's Location (a pre-signed URL, say) goes verbatim into the
    RedirectError message, hence into the span's exception event, into
    SyncFailure.message, and into the response event's headers."""

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(location=f"http://127.0.0.2:1/file?sig={SECRET}&token={SECRET}")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", redirect)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    events: list[ResponseEvent] = []
    async with make_async(
        base_url=await serve(app),
        tracing=provider,
        event_hooks={"response": [events.append]},
        max_retries=0,
    ) as client:
        try:
            await client.aisearch.namespaces.list()
        except Exception as exc:
            message = str(exc)
    spans = "".join(span.to_json() for span in exporter.get_finished_spans())
    provider.shutdown()
    assert SECRET not in message
    assert SECRET not in spans
    assert SECRET not in repr(events)


async def test_an_upload_answered_early_closes_its_file(serve: ServeFn, tmp_path: Path) -> None:
    """brk9: when the server answers (429, 5xx, a redirect) before the upload's body was
    sent, aiohttp cancels the body writer; if that lands while the file is being opened
    in the worker thread, the opened file is dropped unclosed (ResourceWarning, an fd
    held until garbage collection). A 429/5xx storm over sync_directory hits it per
    file. The race is timing-dependent: 40 uploads make it near-certain here."""

    async def refuse(request: web.Request) -> web.Response:
        body = {"success": False, "errors": [{"code": 1, "message": "busy"}]}
        return web.json_response(body, status=500)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", refuse)
    (tmp_path / "a.md").write_text("text")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with make_async(base_url=await serve(app), max_retries=0) as client:
            for _ in range(40):
                with contextlib.suppress(InternalServerError):
                    await client.aisearch.namespaces.instances.items.upload(
                        "kb", name="default", file={"file": ("a.md", tmp_path / "a.md")}
                    )
        gc.collect()
    leaks = [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert [str(w.message) for w in leaks] == []


async def test_a_cancelled_attempt_still_gets_its_response_event(serve: ServeFn) -> None:
    """brk9: docs/observability.md: a response hook receives a ResponseEvent "when the
    attempt ends" (status_code None and `error` set when no answer came). An attempt
    cut by a cancellation (a cancelled sync_directory task, or wait_until_indexed's
    deadline when its own timer beats the request's) gets a request event and no
    response event: hooks pairing them (in-flight gauges, timers) leak an entry."""
    arrived = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        arrived.set()
        await asyncio.sleep(30)
        return web.json_response({})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", slow)
    requests: list[RequestEvent] = []
    responses: list[ResponseEvent] = []
    hooks = {"request": [requests.append], "response": [responses.append]}
    async with make_async(base_url=await serve(app), event_hooks=hooks) as client:
        call = asyncio.ensure_future(
            client.aisearch.namespaces.instances.stats("kb", name="default")
        )
        await arrived.wait()
        call.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await call
    assert len(requests) == 1
    assert len(responses) == 1
