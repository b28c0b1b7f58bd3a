"""``tracing=``: one OpenTelemetry span per operation, read from the SDK's in-memory exporter."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import cfaisearch as cf
from cfaisearch import RequestEvent
from tests.support.clients import ACCOUNT, ServeFn, envelope, make_async, make_sync

INSTANCE = f"/client/v4/accounts/{ACCOUNT}/ai-search/namespaces/default/instances/docs"
JOB = {"id": "j1", "source": "user"}


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    yield spans
    spans.shutdown()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield tracer_provider
    tracer_provider.shutdown()


class Answers:
    """Answers each call with the next (status, cf-ray) of a list, the job on a 2xx."""

    def __init__(self, *answers: tuple[int, str]) -> None:
        self.answers = list(answers)
        self.calls = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        status, ray = self.answers[min(self.calls, len(self.answers)) - 1]
        if status < 400:
            return web.json_response(envelope(JOB), headers={"cf-ray": ray})
        errors = [{"code": 7002, "message": "nope"}]
        return web.json_response(
            {"success": False, "errors": errors}, status=status, headers={"cf-ray": ray}
        )


async def server(serve: ServeFn, answers: Answers) -> str:
    app = web.Application()
    app.router.add_get(f"{INSTANCE}/jobs/j1", answers.handle)
    app.router.add_get("/client/v4/custom", answers.handle)
    return await serve(app)


def only_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    (span,) = exporter.get_finished_spans()
    return span


async def test_one_span_per_operation_with_its_attempts(
    serve: ServeFn, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    answers = Answers((503, "ray-1"), (200, "ray-2"))
    base = await server(serve, answers)
    client = make_async(base_url=base, tracing=provider, default_query={"sig": "SECRET"})
    async with client:
        await client.aisearch.namespaces.instances.jobs.get("j1", name="default", id="docs")
    span = only_span(exporter)
    assert span.name == "aisearch namespaces.instances.jobs.get"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == {
        "http.request.method": "GET",
        "url.full": f"{base}/accounts/{ACCOUNT}/ai-search/namespaces/default/instances/docs"
        "/jobs/j1?sig=%3Credacted%3E",
        "cfaisearch.operation": "namespaces.instances.jobs.get",
        "cfaisearch.attempts": 2,
        "http.response.status_code": 200,
        "cloudflare.cf_ray": "ray-2",
    }


async def test_a_failed_operation_has_an_error_span(
    serve: ServeFn, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    base = await server(serve, Answers((404, "ray-404")))
    async with make_async(base_url=base, tracing=provider) as client:
        with pytest.raises(cf.NotFoundError):
            await client.aisearch.namespaces.instances.jobs.get("j1", name="default", id="docs")
    span = only_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    attributes = span.attributes or {}
    assert attributes["error.type"] == "NotFoundError"
    assert attributes["http.response.status_code"] == 404
    assert attributes["cloudflare.cf_ray"] == "ray-404"
    assert attributes["cfaisearch.attempts"] == 1
    assert [event.name for event in span.events] == ["exception"]


async def test_the_span_is_current_during_the_attempts_and_generic_calls_are_named_by_method(
    serve: ServeFn, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    base = await server(serve, Answers((200, "ray-1")))
    current: list[trace.Span] = []

    def remember(event: RequestEvent) -> None:
        current.append(trace.get_current_span())

    hooks = {"request": [remember]}
    async with make_async(base_url=base, tracing=provider, event_hooks=hooks) as client:
        await client.get("/custom", cast_to=object)
    span = only_span(exporter)
    assert span.name == "GET"
    assert "cfaisearch.operation" not in (span.attributes or {})
    assert [s.get_span_context().span_id for s in current] == [span.context.span_id]
    assert trace.get_current_span() is trace.INVALID_SPAN  # detached afterwards


def test_the_sync_client_and_its_copies_trace(
    monkeypatch: pytest.MonkeyPatch, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    # tracing=True follows OpenTelemetry's global provider.
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{unused.getsockname()[1]}/client/v4"  # bound, not listening
        client = make_sync(base_url=base, tracing=True, max_retries=0)
        with client, pytest.raises(cf.APIConnectionError):
            client.copy(timeout=5).aisearch.namespaces.instances.jobs.get(
                "j1", name="default", id="docs"
            )
    span = only_span(exporter)
    assert span.name == "aisearch namespaces.instances.jobs.get"
    attributes = span.attributes or {}
    assert attributes["error.type"] == "APIConnectionError"
    assert "http.response.status_code" not in attributes


def test_tracing_without_opentelemetry_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    monkeypatch.delitem(sys.modules, "cfaisearch._tracing", raising=False)
    with pytest.raises(cf.ConfigurationError, match=r"`otel` extra"):
        make_async(tracing=True)
    assert make_async()._observer is None  # no tracing, no need for it


@pytest.mark.parametrize("value", ["yes", 1, None, object()])
def test_tracing_takes_a_bool_or_a_provider(value: Any) -> None:
    with pytest.raises(TypeError, match="`tracing` must be a bool or an opentelemetry"):
        make_async(tracing=value)
