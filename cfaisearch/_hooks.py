"""Event hooks (and tracing): what each attempt of a request tells the caller.

Imported only by a client built with ``event_hooks`` or ``tracing``: a client
without them never builds an event, and its request path checks one attribute.
"""

from __future__ import annotations

import inspect
import re
import time
import typing
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

import attrs

from ._exceptions import (
    _CREDENTIAL_HEADERS,
    _SECRET_PARTS,
    REDACTED,
    ConfigurationError,
    safe_url,
)
from ._transport import StreamedResponse

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

    from ._envelope import Response
    from ._tracing import OperationSpan, Tracer

__all__ = ["EventHooks", "Observer", "RequestEvent", "ResponseEvent"]

EventHooks: TypeAlias = Mapping[Literal["request", "response"], Sequence[Callable[[Any], object]]]
"""``event_hooks=``: functions (or coroutine functions) called with each attempt's event."""

_KINDS: Final = ("request", "response")


@attrs.frozen
class RequestEvent:
    """An attempt about to be sent: the ``request`` hooks' argument.

    ``headers`` are those sent, credentials replaced by ``"<redacted>"``;
    ``attempt`` counts from 1 (2 is the first retry); ``operation`` is the
    name of the operation (``"namespaces.instances.search"``), ``None`` for
    the generic ``client.get()``/``post()``/...
    """

    method: str
    url: str
    headers: Mapping[str, str]
    attempt: int
    operation: str | None


@attrs.frozen
class ResponseEvent:
    """How an attempt ended: the ``response`` hooks' argument.

    ``status_code`` is ``None`` when no answer came (``error`` then names the
    exception, e.g. ``"APITimeoutError"``). ``headers`` are the answer's,
    ``elapsed`` the seconds from sending to the answer's headers, ``cf_ray``
    Cloudflare's id of the request, for support.
    """

    method: str
    url: str
    status_code: int | None
    headers: Mapping[str, str]
    attempt: int
    elapsed: float
    operation: str | None
    cf_ray: str | None
    error: str | None


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return lowered in _CREDENTIAL_HEADERS or any(part in lowered for part in _SECRET_PARTS)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """``headers`` with every credential's value replaced by ``"<redacted>"``, and a
    ``Location``'s secret-looking query values too (a pre-signed URL, say)."""
    return {
        name: REDACTED
        if _is_secret(name)
        else safe_url(value)
        if name.lower() == "location"
        else value
        for name, value in headers.items()
    }


def check_event_hooks(
    value: object,
) -> tuple[tuple[Callable[[Any], object], ...], tuple[Callable[[Any], object], ...]]:
    """The request and response hooks of ``event_hooks=``, or a clear error."""
    if not isinstance(value, Mapping):
        raise TypeError(
            "`event_hooks` must be a mapping of 'request' and/or 'response' to lists of "
            f"functions, got {type(value).__name__}"
        )
    unknown = [key for key in value if key not in _KINDS]
    if unknown:
        raise ValueError(
            f"`event_hooks` has unknown key(s) {', '.join(map(repr, unknown))}; "
            "accepted: 'request', 'response'"
        )
    found: dict[str, tuple[Callable[[Any], object], ...]] = {}
    for kind, hooks in value.items():
        if isinstance(hooks, (str, bytes)) or not isinstance(hooks, Sequence):
            raise TypeError(
                f"`event_hooks[{kind!r}]` must be a list of functions, got {type(hooks).__name__}"
            )
        for position, hook in enumerate(hooks):
            if not callable(hook):
                raise TypeError(
                    f"`event_hooks[{kind!r}][{position}]` must be callable, got {hook!r}"
                )
        found[kind] = tuple(hooks)
    return found.get("request", ()), found.get("response", ())


def new_tracer(tracing: object) -> Tracer | None:
    """The tracer ``tracing=`` asks for: none (False), the global provider's (True),
    or that of the ``TracerProvider`` given."""
    if tracing is False:
        return None
    if tracing is not True and not callable(getattr(tracing, "get_tracer", None)):
        raise TypeError(
            "`tracing` must be a bool or an opentelemetry TracerProvider, "
            f"got {type(tracing).__name__}"
        )
    try:
        from ._tracing import Tracer
    except ImportError as exc:
        raise ConfigurationError(
            "`tracing` needs OpenTelemetry: install the `otel` extra "
            "(pip install '.[otel]' in a checkout, or pip install opentelemetry-api)"
        ) from exc
    return Tracer(None if tracing is True else typing.cast("TracerProvider", tracing))


@cache
def _operation_patterns() -> tuple[tuple[str, re.Pattern[str], str], ...]:
    from ._operations import OPERATIONS, PREFIX

    patterns = []
    for operation in OPERATIONS:
        template = re.escape(PREFIX + operation.path)
        pattern = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", template)
        patterns.append((operation.verb, re.compile(pattern), operation.name))
    return tuple(patterns)


def operation_name(method: str, path: str) -> str | None:
    """The registry's name of the operation that sends ``method`` to ``path``, if any."""
    for verb, pattern, name in _operation_patterns():
        if verb == method and pattern.fullmatch(path):
            return name
    return None


async def _call(hooks: tuple[Callable[[Any], object], ...], event: object) -> None:
    for hook in hooks:
        result = hook(event)
        if inspect.isawaitable(result):
            await result


class Observer:
    """A client's hooks and tracer: starts an :class:`Observation` per request."""

    __slots__ = ("request_hooks", "response_hooks", "tracer")

    def __init__(
        self,
        request_hooks: tuple[Callable[[Any], object], ...],
        response_hooks: tuple[Callable[[Any], object], ...],
        tracer: Tracer | None,
    ) -> None:
        self.request_hooks = request_hooks
        self.response_hooks = response_hooks
        self.tracer = tracer

    def start(self, method: str, path: str, url: str, *, named: bool) -> Observation:
        """Observe one call of ``request()``; ``named``: whether it is an API operation."""
        operation = operation_name(method, path.partition("?")[0]) if named else None
        return Observation(self, method, safe_url(url), operation)


class Observation:
    """One call of ``request()``, all its attempts: fires the hooks, holds the span."""

    __slots__ = (
        "_observer",
        "_span",
        "_started",
        "attempts",
        "cf_ray",
        "method",
        "operation",
        "status_code",
        "url",
    )

    def __init__(self, observer: Observer, method: str, url: str, operation: str | None) -> None:
        self._observer = observer
        self.method = method
        self.url = url
        self.operation = operation
        self.attempts = 0
        self.status_code: int | None = None
        self.cf_ray: str | None = None
        self._started = 0.0
        self._span: OperationSpan | None = None

    def __enter__(self) -> Observation:
        tracer = self._observer.tracer
        if tracer is not None:
            self._span = tracer.start(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._span is not None:
            self._span.end(self, exc)

    async def before(self, headers: Mapping[str, str]) -> None:
        """An attempt is about to be sent with ``headers``."""
        self.attempts += 1
        hooks = self._observer.request_hooks
        if hooks:
            event = RequestEvent(
                self.method, self.url, redact_headers(headers), self.attempts, self.operation
            )
            await _call(hooks, event)
        self._started = time.perf_counter()

    async def after(
        self, response: Response | StreamedResponse | None, error: BaseException | None = None
    ) -> None:
        """The attempt ended with ``response``, or without one, raising ``error``.

        Should a hook raise, a streamed response is closed before the
        exception goes on to the caller: nobody else would close it.
        """
        elapsed = time.perf_counter() - self._started
        if response is not None:
            self.status_code = response.status
            self.cf_ray = response.request_id
        hooks = self._observer.response_hooks
        if not hooks:
            return
        event = ResponseEvent(
            self.method,
            self.url,
            None if response is None else response.status,
            {} if response is None else redact_headers(response.headers),
            self.attempts,
            elapsed,
            self.operation,
            None if response is None else response.request_id,
            None if error is None else type(error).__name__,
        )
        try:
            await _call(hooks, event)
        except BaseException:
            if isinstance(response, StreamedResponse):
                response.close()
            raise
