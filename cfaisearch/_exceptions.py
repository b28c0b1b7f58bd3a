"""The exception tree shared by both clients.

Names follow the official ``cloudflare`` package so ``except`` clauses carry
over. No exception holds request headers, so credentials cannot leak through
``str()``, ``repr()`` or a logged traceback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import attrs

from ._models import BaseModel

# A broken server can put megabytes into an error message; logs and tracebacks
# get the head and the tail (which names the request), ``body`` keeps it all.
_MAX_MESSAGE: Final = 2000
_MESSAGE_TAIL: Final = 400


def _bounded(message: str) -> str:
    if len(message) <= _MAX_MESSAGE:
        return message
    omitted = len(message) - (_MAX_MESSAGE - _MESSAGE_TAIL) - _MESSAGE_TAIL
    head, tail = message[: _MAX_MESSAGE - _MESSAGE_TAIL], message[-_MESSAGE_TAIL:]
    return f"{head} [... {omitted} characters omitted ...] {tail}"


__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CloudflareError",
    "ConfigurationError",
    "ConflictError",
    "ErrorData",
    "ErrorRequest",
    "ErrorResponse",
    "InternalServerError",
    "NotFoundError",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "RedirectError",
    "ResponseTooLargeError",
    "StreamError",
    "UnprocessableEntityError",
    "WaitTimeoutError",
]


@attrs.frozen(kw_only=True)
class ErrorData(BaseModel):
    """One entry of the envelope's ``errors`` (or ``messages``) array."""

    code: int | None = None
    message: str | None = None
    documentation_url: str | None = None
    source: Mapping[str, Any] | None = None

    def __str__(self) -> str:
        if self.code is None:
            return self.message or ""
        return f"[{self.code}] {self.message or ''}".rstrip()


# Request headers kept on an error lose these (and any name containing one of
# _SECRET_PARTS), so an error can be logged or reported whole.
_CREDENTIAL_HEADERS: Final = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-auth-key", "x-auth-email"}
)
_SECRET_PARTS: Final = ("auth", "key", "secret", "token", "cookie", "password", "session")


def _without_credentials(headers: Mapping[str, str] | None) -> dict[str, str]:
    if not headers:
        return {}
    return {
        name: value
        for name, value in headers.items()
        if name.lower() not in _CREDENTIAL_HEADERS
        and not any(part in name.lower() for part in _SECRET_PARTS)
    }


REDACTED: Final = "<redacted>"
# Query parameters redacted besides those named like a header credential, as
# OpenTelemetry's HTTP conventions advise (pre-signed URLs).
_SECRET_QUERY_NAMES: Final = frozenset({"sig", "signature", "x-amz-signature", "x-goog-signature"})


def _is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return (
        lowered in _CREDENTIAL_HEADERS
        or lowered in _SECRET_QUERY_NAMES
        or any(part in lowered for part in _SECRET_PARTS)
    )


def safe_url(url: str) -> str:
    """``url`` with any user info and secret-looking query values redacted.

    The client's own URLs have no user info (it refuses a ``base_url`` with
    any); a redirect's ``Location`` is the server's and may.
    """
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL one can take apart: nothing of it is shown
        return REDACTED
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rpartition('@')[2]}"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    secret = [_is_secret_name(name) for name, _ in pairs]
    if netloc == parts.netloc and not any(secret):
        return url
    shown = [
        (name, REDACTED if hidden else value)
        for (name, value), hidden in zip(pairs, secret, strict=True)
    ]
    query = urlencode(shown, quote_via=quote)
    return urlunsplit(parts._replace(netloc=netloc, query=query if any(secret) else parts.query))


class URL(str):
    """A URL that is a ``str``, with the parts ``httpx.URL`` offers as attributes."""

    __slots__ = ()

    @property
    def scheme(self) -> str:
        return urlsplit(self).scheme

    @property
    def host(self) -> str:
        return urlsplit(self).hostname or ""

    @property
    def port(self) -> int | None:
        return urlsplit(self).port

    @property
    def path(self) -> str:
        return urlsplit(self).path

    @property
    def query(self) -> bytes:
        """The query string, without ``?``, as bytes (as ``httpx.URL.query``)."""
        return urlsplit(self).query.encode()


class ErrorRequest:
    """The request an :class:`APIError` is about: ``method``, ``url`` and ``headers``.

    ``headers`` are those sent, minus every credential (``Authorization``,
    ``X-Auth-*``, cookies, and any name mentioning a key, token or secret).
    """

    __slots__ = ("headers", "method", "url")

    def __init__(self, method: str, url: str, headers: Mapping[str, str] | None = None) -> None:
        self.method = method
        self.url = URL(url)
        self.headers: Mapping[str, str] = _without_credentials(headers)

    def __repr__(self) -> str:
        return f"<ErrorRequest({self.method!r}, {self.url!r})>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ErrorRequest):
            return NotImplemented
        return (self.method, self.url, self.headers) == (other.method, other.url, other.headers)

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (ErrorRequest, (self.method, self.url, dict(self.headers)))


class ErrorResponse:
    """The HTTP answer an :class:`APIStatusError` carries: ``status_code``, ``headers``,
    ``content`` (bytes), ``text``, ``json()``, and the ``request`` it answered."""

    __slots__ = ("_error", "content", "headers", "request", "status_code")

    def __init__(
        self,
        status_code: int,
        headers: Mapping[str, str],
        content: bytes,
        request: ErrorRequest,
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.request = request
        # The error carrying this answer (it sets itself), for raise_for_status().
        self._error: APIStatusError | None = None

    def raise_for_status(self) -> ErrorResponse:
        """Raise the error this answer is about (as ``httpx``), unless it is a success."""
        if self.is_success:
            return self
        if self._error is not None:
            raise self._error
        raise APIStatusError(
            f"HTTP {self.status_code}",
            method=self.request.method,
            url=self.request.url,
            status_code=self.status_code,
            request_id=self.headers.get("cf-ray"),
            headers=self.headers,
            body=None,
            content=self.content,
        )

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    @property
    def url(self) -> str:
        return self.request.url

    @property
    def reason_phrase(self) -> str:
        from http import HTTPStatus

        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return ""

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def is_error(self) -> bool:
        return self.status_code >= 400

    def json(self) -> Any:
        """The body decoded as JSON; a body that is not JSON raises ``ValueError``."""
        import orjson

        return orjson.loads(self.content)

    def read(self) -> bytes:
        return self.content

    def __repr__(self) -> str:
        return f"<ErrorResponse [{self.status_code} {self.reason_phrase}]>".replace(" ]", "]")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ErrorResponse):
            return NotImplemented
        return (
            self.status_code == other.status_code
            and self.content == other.content
            and self.request == other.request
            and list(self.headers.items()) == list(other.headers.items())
        )

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        from multidict import CIMultiDict  # rarely needed

        # aiohttp's header proxy cannot be pickled; a case-insensitive copy can.
        return (
            ErrorResponse,
            (self.status_code, CIMultiDict(self.headers), self.content, self.request),
        )


def _error_content(body: object) -> bytes:
    """The bytes of a decoded error body, for an error built without the raw ones."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    import orjson

    try:
        return orjson.dumps(body)
    except TypeError:
        return str(body).encode()


class CloudflareError(Exception):
    """Base of every error this package raises on purpose."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled for process pools: keyword-only constructors cannot be called
        # again from ``args``, so the state is restored instead, with aiohttp's
        # (unpicklable) header proxy copied into a plain case-insensitive dict.
        from multidict import CIMultiDict  # rarely needed

        state = dict(vars(self))
        if isinstance(state.get("headers"), Mapping):
            state["headers"] = CIMultiDict(state["headers"])
        return (_restore, (type(self), self.args), state)


def _restore(cls: type[CloudflareError], args: tuple[Any, ...]) -> CloudflareError:
    error = cls.__new__(cls)
    error.args = args
    return error


class ConfigurationError(CloudflareError, ValueError):
    """The client was built without something it needs (credentials, an account id)."""


class APIError(CloudflareError):
    """A request failed; ``method`` and ``url`` say which one.

    ``request`` (an :class:`ErrorRequest`) holds them too, with the headers
    sent minus credentials; ``body`` is the decoded answer (None without one)
    and ``errors`` the envelope's error entries.
    """

    message: str
    method: str
    url: str
    body: object
    errors: tuple[ErrorData, ...]
    request: ErrorRequest

    def __init__(
        self,
        message: str,
        *,
        method: str,
        url: str,
        body: object = None,
        errors: Sequence[ErrorData] = (),
        request_headers: Mapping[str, str] | None = None,
    ) -> None:
        message = _bounded(message)
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url
        self.body = body
        self.errors = tuple(errors)
        self.request = ErrorRequest(method, url, request_headers)

    def __str__(self) -> str:
        return self.message


class APIConnectionError(APIError):
    """No HTTP response was received (DNS, refused connection, reset, TLS...).

    ``reached_server`` is False only when the request provably never left this
    machine (the connection was never established); retries of requests that
    change state depend on it.
    """

    reached_server: bool

    def __init__(
        self,
        message: str = "Connection error.",
        *,
        method: str,
        url: str,
        reached_server: bool,
        request_headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url, request_headers=request_headers)
        self.reached_server = reached_server


class APITimeoutError(APIConnectionError):
    """The request did not complete within its timeout."""

    timeout: float | None

    def __init__(
        self,
        *,
        method: str,
        url: str,
        timeout: float | None,
        reached_server: bool,
        message: str | None = None,
        request_headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            message or f"Request timed out after {timeout}s: {method} {url}",
            method=method,
            url=url,
            reached_server=reached_server,
            request_headers=request_headers,
        )
        self.timeout = timeout


class APIResponseValidationError(APIError):
    """A successful response whose body does not have the documented shape.

    ``response`` is the answer (an :class:`ErrorResponse`).
    """

    status_code: int
    response: ErrorResponse

    def __init__(
        self,
        message: str,
        *,
        method: str,
        url: str,
        status_code: int,
        body: object,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        request_headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            message, method=method, url=url, body=body, request_headers=request_headers
        )
        self.status_code = status_code
        self.response = ErrorResponse(
            status_code,
            {} if headers is None else headers,
            _error_content(body) if content is None else content,
            self.request,
        )


class APIStatusError(APIError):
    """The API answered with an error status, or with ``success: false``.

    ``response`` (an :class:`ErrorResponse`) is that answer: status, headers
    and the body as received (``body`` is the same, decoded).
    """

    status_code: int
    request_id: str | None
    headers: Mapping[str, str]
    response: ErrorResponse

    def __init__(
        self,
        message: str,
        *,
        method: str,
        url: str,
        status_code: int,
        request_id: str | None,
        headers: Mapping[str, str],
        body: object,
        errors: Sequence[ErrorData] = (),
        content: bytes | None = None,
        request_headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            message,
            method=method,
            url=url,
            body=body,
            errors=errors,
            request_headers=request_headers,
        )
        self.status_code = status_code
        self.request_id = request_id
        self.headers = headers
        self.response = ErrorResponse(
            status_code,
            headers,
            _error_content(body) if content is None else content,
            self.request,
        )
        self.response._error = self


class BadRequestError(APIStatusError):
    """HTTP 400."""


class AuthenticationError(APIStatusError):
    """HTTP 401."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403."""


class NotFoundError(APIStatusError):
    """HTTP 404."""


class ConflictError(APIStatusError):
    """HTTP 409."""


class UnprocessableEntityError(APIStatusError):
    """HTTP 422."""


class RateLimitError(APIStatusError):
    """HTTP 429.

    ``retry_after`` is the wait the server asked for, in seconds (from
    ``Retry-After``, in seconds or as an HTTP date, or ``Retry-After-Ms``), or
    None when it asked for none.
    """

    retry_after: float | None

    def __init__(
        self,
        message: str,
        *,
        method: str,
        url: str,
        status_code: int,
        request_id: str | None,
        headers: Mapping[str, str],
        body: object,
        errors: Sequence[ErrorData] = (),
        content: bytes | None = None,
        request_headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            message,
            method=method,
            url=url,
            status_code=status_code,
            request_id=request_id,
            headers=headers,
            body=body,
            errors=errors,
            content=content,
            request_headers=request_headers,
        )
        from ._envelope import retry_after  # _envelope imports this module

        self.retry_after = retry_after(headers)


class RedirectError(APIStatusError):
    """A 3xx answer that was not followed; ``location`` says where it pointed.

    The Cloudflare API does not redirect, so by default no redirect is
    followed: following one could carry the credentials to another server.
    """

    location: str | None

    def __init__(
        self,
        message: str,
        *,
        method: str,
        url: str,
        status_code: int,
        request_id: str | None,
        headers: Mapping[str, str],
        body: object,
        request_headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            message,
            method=method,
            url=url,
            status_code=status_code,
            request_id=request_id,
            headers=headers,
            body=body,
            request_headers=request_headers,
        )
        self.location = headers.get("location")


class ResponseTooLargeError(APIError):
    """A response body exceeded the client's ``max_response_size``; it was not read."""

    limit: int

    def __init__(self, message: str, *, method: str, url: str, limit: int) -> None:
        super().__init__(message, method=method, url=url)
        self.limit = limit


class InternalServerError(APIStatusError):
    """HTTP 500 and above."""


class PaginationError(APIError):
    """A list's pages do not advance (the server ignores ``page``), so the walk stopped.

    Raised instead of fetching the same page forever; the items yielded before
    it were real. ``url`` is the list's URL.
    """


class ShapeError(ValueError):
    """Internal: decoded JSON does not fit a model; the message says where, readably.

    Callers turn it into :class:`APIResponseValidationError` or :class:`StreamError`.
    """


class StreamError(APIError):
    """A streamed response broke off or carried an error event."""


class WaitTimeoutError(CloudflareError, TimeoutError):
    """A ``wait()`` helper gave up before the awaited state was reached.

    ``last`` holds the most recent object seen, so callers can report progress.
    """

    last: object

    def __init__(self, message: str, *, last: object) -> None:
        super().__init__(message)
        self.last = last
