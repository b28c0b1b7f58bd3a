"""Sans-I/O decoding of Cloudflare v4 responses.

Everything here takes a status, headers and bytes and returns data or a typed
error, so it is tested from fixtures without a network.
"""

from __future__ import annotations

import gc
import re
import threading
from collections.abc import Mapping
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any, Final, Protocol

import attrs
import orjson

from ._exceptions import (
    APIResponseValidationError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ErrorData,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from ._wire import wire_bool

__all__ = [
    "Envelope",
    "Response",
    "ResponseFacts",
    "collection_paused",
    "decode_envelope",
    "decode_json",
    "retry_after",
    "status_error",
]

_STATUS_ERRORS: Final[Mapping[int, type[APIStatusError]]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


@attrs.frozen
class Response:
    """One complete HTTP response, as the transport hands it over."""

    method: str
    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    # What was sent, credentials included: errors keep a copy without them.
    request_headers: Mapping[str, str] | None = attrs.field(default=None, repr=False)

    @property
    def request_id(self) -> str | None:
        return self.headers.get("cf-ray")


class _FactsSource(Protocol):
    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def request_id(self) -> str | None: ...


class ResponseFacts:
    """``status_code``, ``headers`` and ``request_id``, read from ``_facts``.

    Shared by the download and chat-stream objects (whose facts come from the
    streamed response) and their sync twins (whose facts come from the async
    object they wrap).
    """

    __slots__ = ()

    @property
    def _facts(self) -> _FactsSource:
        raise NotImplementedError

    @property
    def status_code(self) -> int:
        return self._facts.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self._facts.headers

    @property
    def request_id(self) -> str | None:
        """The ``cf-ray`` id of the response, for support requests."""
        return self._facts.request_id


@attrs.frozen
class Envelope:
    """The useful part of a successful v4 envelope."""

    result: Any
    result_info: Mapping[str, Any] | None
    messages: tuple[ErrorData, ...]


def _load(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _error_data(raw: object) -> tuple[ErrorData, ...]:
    if not isinstance(raw, list):
        return ()
    out: list[ErrorData] = []
    for entry in raw:
        if isinstance(entry, Mapping):
            code = entry.get("code")
            message = entry.get("message")
            source = entry.get("source")
            doc = entry.get("documentation_url")
            out.append(
                ErrorData(
                    code=code if isinstance(code, int) and not isinstance(code, bool) else None,
                    message=str(message) if message is not None else None,
                    documentation_url=doc if isinstance(doc, str) else None,
                    source=source if isinstance(source, Mapping) else None,
                )
            )
        elif isinstance(entry, str):
            out.append(ErrorData(message=entry))
    return tuple(out)


def _text_summary(body: bytes) -> str:
    """A short, single-line description of a non-JSON body (e.g. an edge HTML page)."""
    match = _TITLE.search(body)
    text = match.group(1) if match else body[:200]
    summary = " ".join(text.decode("utf-8", "replace").split())
    return summary[:200]


def status_error(response: Response) -> APIStatusError:
    """Build the typed error for a non-2xx response (or a 2xx with ``success: false``)."""
    payload = _load(response.body)
    errors = _error_data(payload.get("errors")) if isinstance(payload, Mapping) else ()
    if errors:
        detail = "; ".join(str(e) for e in errors)
    elif isinstance(payload, Mapping) and isinstance(payload.get("error"), (str, Mapping)):
        # Chat completions answer OpenAI-style errors outside the envelope.
        err = payload["error"]
        detail = str(err.get("message", err)) if isinstance(err, Mapping) else err
    elif payload is None and response.body:
        detail = _text_summary(response.body)
    else:
        try:
            detail = HTTPStatus(response.status).phrase
        except ValueError:
            detail = "Unknown status"
    where = f"HTTP {response.status}; {response.method} {response.url}"
    if response.request_id:
        where += f"; cf-ray {response.request_id}"
    cls = _STATUS_ERRORS.get(response.status)
    if cls is None:
        cls = InternalServerError if response.status >= 500 else APIStatusError
    return cls(
        # One line whatever the server sent, so a log entry cannot be forged or split.
        " ".join(f"{detail} ({where})".split()),
        method=response.method,
        url=response.url,
        status_code=response.status,
        request_id=response.request_id,
        headers=response.headers,
        body=payload if payload is not None else response.body.decode("utf-8", "replace"),
        errors=errors,
        content=response.body,
        request_headers=response.request_headers,
    )


def decode_json(response: Response) -> Any:
    """Decode a 2xx JSON body that is not enveloped (chat completions)."""
    try:
        return orjson.loads(response.body)
    except orjson.JSONDecodeError:
        raise APIResponseValidationError(
            f"Expected a JSON body, got {_text_summary(response.body)!r} "
            f"(HTTP {response.status}; {response.method} {response.url})",
            method=response.method,
            url=response.url,
            status_code=response.status,
            body=response.body.decode("utf-8", "replace"),
            headers=response.headers,
            content=response.body,
            request_headers=response.request_headers,
        ) from None


def decode_envelope(response: Response) -> Envelope:
    """Decode a 2xx v4 envelope; ``success: false`` becomes an :class:`APIStatusError`."""
    payload = decode_json(response)
    if not isinstance(payload, Mapping) or ("result" not in payload and "success" not in payload):
        raise APIResponseValidationError(
            f"Expected a Cloudflare v4 envelope (HTTP {response.status}; "
            f"{response.method} {response.url})",
            method=response.method,
            url=response.url,
            status_code=response.status,
            body=payload,
            headers=response.headers,
            content=response.body,
            request_headers=response.request_headers,
        )
    # Some proxies re-encode booleans as strings; "false" must still mean failure.
    if wire_bool(payload.get("success")) is False:
        raise status_error(response)
    info = payload.get("result_info")
    return Envelope(
        result=payload.get("result"),
        result_info=info if isinstance(info, Mapping) else None,
        messages=_error_data(payload.get("messages")),
    )


# -- pausing the cyclic garbage collector while a large body is decoded ------------
#
# Decoding allocates many container objects that all survive until the models
# are built: the JSON tree, then the models. Each 700 such allocations trigger
# a young-generation collection that finds nothing to free, and every tenth of
# those a scan of the older generation as well; on a 1,000-instance page that
# was about a third of the decoding time. The collector is paused for the
# decode of a large body only (small ones rarely reach a collection), never
# across an ``await``, and collections are postponed, not skipped: the
# allocation count keeps growing while paused, so the next allocation after
# the pause collects if the decoded objects are still alive.

LARGE_BODY: Final = 64 * 1024
"""Bodies at least this large (bytes) are decoded with the collector paused."""

_pause_lock = threading.Lock()
_pause_holders = 0
"""Decodes (in any thread) inside a pause that this module started; guarded by the lock."""


class _CollectionPause:
    """Pauses automatic collection while any thread decodes a large body.

    The first decode to enter disables the collector, the last to leave
    enables it again, so concurrent and nested decodes never re-enable it
    early, and an exception leaves it as it was. If automatic collection is
    off when a decode starts (``gc.disable()``, or a threshold of 0), the
    decode leaves it alone and does not turn it on afterwards.
    """

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held = False

    def __enter__(self) -> None:
        global _pause_holders
        with _pause_lock:
            if _pause_holders:
                _pause_holders += 1
                self._held = True
            elif gc.isenabled() and gc.get_threshold()[0]:
                gc.disable()
                _pause_holders = 1
                self._held = True

    def __exit__(self, *exc_info: object) -> None:
        global _pause_holders
        if not self._held:
            return
        self._held = False
        with _pause_lock:
            _pause_holders -= 1
            if not _pause_holders:
                gc.enable()


class _NoPause:
    __slots__ = ()

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc_info: object) -> None:
        pass


_NO_PAUSE: Final = _NoPause()


def collection_paused(body: bytes) -> _CollectionPause | _NoPause:
    """A context for decoding ``body`` (JSON and models): paused collection if it is large.

    Use it only around code that does not await or wait on other threads.
    """
    return _CollectionPause() if len(body) >= LARGE_BODY else _NO_PAUSE


def retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """The delay a response asks for, in seconds (> 0), or None if it asks for none.

    How long is too long to wait is the caller's call (see ``RetryPolicy``).
    """
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            delay: float | None = float(raw_ms) / 1000
        except ValueError:
            delay = None
    else:
        raw = headers.get("retry-after")
        if raw is None:
            return None
        try:
            delay = float(raw)
        except ValueError:
            import email.utils  # rarely needed, and slow to import

            try:
                when = email.utils.parsedate_to_datetime(raw)
            except (TypeError, ValueError, OverflowError):  # e.g. a 20-digit year
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            delay = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if delay is None or not 0 < delay < float("inf"):
        return None
    return delay
