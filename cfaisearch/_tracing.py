"""OpenTelemetry spans, one per operation (the ``otel`` extra).

Imported only by a client built with ``tracing=``: without it (or without
OpenTelemetry installed) nothing here is loaded.
"""

from __future__ import annotations

from contextvars import Token
from typing import TYPE_CHECKING

from opentelemetry import context, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from ._version import __version__

if TYPE_CHECKING:
    from ._hooks import Observation

__all__ = ["OperationSpan", "Tracer"]


class Tracer:
    """Starts the span of each request a client sends."""

    __slots__ = ("_tracer",)

    def __init__(self, provider: trace.TracerProvider | None) -> None:
        # None: the global provider, looked up by OpenTelemetry at each span.
        self._tracer = trace.get_tracer("cfaisearch", __version__, tracer_provider=provider)

    def start(self, observation: Observation) -> OperationSpan:
        """Open the span of ``observation`` and make it current (for the spans inside)."""
        operation = observation.operation
        attributes: dict[str, str] = {
            "http.request.method": observation.method,
            "url.full": observation.url,
        }
        if operation is not None:
            attributes["cfaisearch.operation"] = operation
        span = self._tracer.start_span(
            f"aisearch {operation}" if operation is not None else observation.method,
            kind=SpanKind.CLIENT,
            attributes=attributes,
        )
        return OperationSpan(span, context.attach(trace.set_span_in_context(span)))


class OperationSpan:
    """The span of one request, all its attempts: ended with what they found."""

    __slots__ = ("_span", "_token")

    def __init__(self, span: trace.Span, token: Token[context.Context]) -> None:
        self._span = span
        self._token = token

    def end(self, observation: Observation, error: BaseException | None) -> None:
        span = self._span
        span.set_attribute("cfaisearch.attempts", observation.attempts)
        if observation.status_code is not None:
            span.set_attribute("http.response.status_code", observation.status_code)
        if observation.cf_ray is not None:
            span.set_attribute("cloudflare.cf_ray", observation.cf_ray)
        if error is not None:
            span.set_attribute("error.type", type(error).__name__)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            span.record_exception(error)
        context.detach(self._token)
        span.end()
