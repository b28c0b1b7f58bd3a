"""What hooks, spans and uploads leak or drop when the server misbehaves.

The rules were found by a break-it pass (brk9); each docstring gives its number.
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
    """Rule 3: a refused redirect's Location has its secret query values redacted in the
    RedirectError message, the span's exception event and the response events."""

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(
            location=f"http://user:{SECRET}@127.0.0.2:1/file?sig={SECRET}&token={SECRET}&n=1"
        )

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
    assert "127.0.0.2:1/file?sig=%3Credacted%3E" in message  # still says where it pointed
    assert "n=1" in message


async def test_an_upload_answered_early_closes_its_file(serve: ServeFn, tmp_path: Path) -> None:
    """Rule 18: an upload answered before its body is sent closes its file (no ResourceWarning),
    however the cancellation of the body writer lands."""

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
    """Rule 13: a cancelled attempt fires the response hooks (status None, error
    "CancelledError"), pairing its request event."""
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
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with make_async(base_url=await serve(app), event_hooks=hooks, tracing=provider) as client:
        call = asyncio.ensure_future(
            client.aisearch.namespaces.instances.stats("kb", name="default")
        )
        await arrived.wait()
        call.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await call
    assert len(requests) == 1
    assert [(r.status_code, r.error) for r in responses] == [(None, "CancelledError")]
    spans = exporter.get_finished_spans()
    provider.shutdown()
    assert [span.attributes["error.type"] for span in spans if span.attributes] == [
        "CancelledError"
    ]
